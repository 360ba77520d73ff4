// The ground server's archive (host/ground/archive.ts): JSON Lines, rotated and bounded,
// read back oldest first; a torn last line is skipped and counted.
import { afterEach, describe, expect, it } from "vitest";
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Archive, readArchive } from "../../host/ground/archive.ts";

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe("ground archive", () => {
  it("rotates at maxFileBytes and keeps `keep` old files: bounded, the newest kept, read back in order", () => {
    const dir = mkdtempSync(join(tmpdir(), "gsu-archive-"));
    dirs.push(dir);
    const a = new Archive(dir, { maxFileBytes: 1024, keep: 2 });
    for (let i = 0; i < 500; i++) a.write({ type: "tlm", i, pad: "x".repeat(40) });
    a.close();
    const files = readdirSync(dir).sort();
    expect(files).toEqual(["archive.1.jsonl", "archive.2.jsonl", "archive.jsonl"]);
    for (const f of files) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(1024);
    expect(a.counters.rotations).toBeGreaterThan(10);
    const r = readArchive(dir);
    const idx = r.records.map((x) => x.i as number);
    expect(idx.at(-1)).toBe(499);                                  // the newest is there
    expect(idx).toEqual([...idx].sort((x, y) => x - y));           // oldest first, none missing in between
    expect(idx).toEqual(Array.from({ length: idx.length }, (_, k) => idx[0] + k));
    expect(idx.length).toBeLessThan(500);                          // the oldest were dropped
    // a reopened archive appends to the current file
    const b = new Archive(dir, { maxFileBytes: 1024, keep: 2 });
    b.write({ type: "tlm", i: 500 });
    b.close();
    expect(readArchive(dir).records.at(-1)!.i).toBe(500);
    // a torn last line (power cut mid-write) is skipped and counted, the rest read
    appendFileSync(join(dir, "archive.jsonl"), '{"type":"tl');
    const t = readArchive(dir);
    expect(t.bad).toBe(1);
    expect(t.records.at(-1)!.i).toBe(500);
  });

  it("refuses nonsense bounds and a directory it cannot create, naming it", () => {
    const d = mkdtempSync(join(tmpdir(), "gsu-archive-"));
    dirs.push(d);
    writeFileSync(join(d, "file"), "");
    expect(() => new Archive(join(d, "file", "sub"), {})).toThrow(/cannot create the archive directory .*file\/sub: ENOTDIR/);
    expect(() => new Archive(mkdtempSync(join(tmpdir(), "gsu-archive-")), { maxFileBytes: 10 })).toThrow(/maxFileBytes must be at least 256/);
  });
});
