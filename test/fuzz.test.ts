// The fuzz suite: at least 10^5 random and mutated inputs (bit flips,
// truncation, duplication, reordering, garbage, oversized) to every decoder in
// the repo, deterministic seeds. Asserts: no exception but the documented error
// type, every drop counted with a reason, bounded buffers, small heap growth.
// `npm run fuzz` runs the same harness at 10^6+ and prints the histograms.
// Requires the protocol core (npm run asbuild).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { TARGETS, type TargetReport } from "../scripts/fuzz-harness.ts";

const N = Number(process.env.GSU_FUZZ_INPUTS ?? 100_000);

// Known bound violations, asserted separately below with it.fails so the suite
// notices when they are fixed. UploadReceiver (host/board/upload.ts) keeps one
// .part file per distinct image id a peer QUERYs: mutated QUERY frames leave
// hundreds of files behind, i.e. a remote peer can fill the board's disk.
const KNOWN_UNBOUNDED = new Set<string>(); // the upload receiver was one (partial files per queried id); fixed
const results = new Map<string, TargetReport>();

setFlagsFromString("--expose_gc");
const gc = runInNewContext("gc") as () => void;
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };

describe(`fuzz: ${N} inputs to every decoder`, () => {
  for (const [name, run] of TARGETS) {
    it(name, () => {
      const before = heap();
      const reports: TargetReport[] = run(N, 0x5eed + name.length);
      const grown = heap() - before;
      for (const r of reports) {
        expect(r.inputs, r.name).toBe(N);
        expect(r.problems, `${r.name}: invariant violations`).toEqual([]);
        results.set(r.name, r);
        if (!KNOWN_UNBOUNDED.has(r.name)) expect(r.maxBuffered, `${r.name}: buffer bound`).toBeLessThanOrEqual(r.bufferLimit);
        const rejected = Object.values(r.reasons).reduce((a, b) => a + b, 0);
        expect(rejected, `${r.name}: some inputs must be rejected, with reasons`).toBeGreaterThan(0);
        for (const k of Object.keys(r.reasons)) expect(k.length, r.name).toBeGreaterThan(0);
      }
      // decoders keep bounded state: nothing proportional to the input survives
      expect(grown, `${name}: heap grew by ${grown} bytes`).toBeLessThan(16 * 1024 * 1024);
    }, 120_000);
  }

});
