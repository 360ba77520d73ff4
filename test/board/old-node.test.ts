// The board runtime on a Node without zlib.crc32 (before 20.15; npm's only Node
// for armv7l, the BeagleBone's, is 20.11.0): a child Node whose node:zlib has
// had crc32 removed (as 20.11's lacks it) loads the board modules that need a
// CRC-32 and computes the same CRCs as zlib.crc32 here; an event log written
// with the native CRC reads back intact with the fallback, and the other way.
// (A preload cannot remove the export's name from node:zlib's ESM namespace, only
// its value, so a named import of it would still link here while on 20.11 it is a
// SyntaxError at load; the calls below are what catch it: "crc32 is not a function".)
// scripts/qemu/arm.sh --arch armhf runs the board on a real Node 20.11.0.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 as zlibCrc32 } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { EventLog } from "../../host/board/events.ts";
import { chunkFrame } from "../../host/board/upload.ts";

const root = join(import.meta.dirname, "../..");
// Preloaded in the child: node:zlib without crc32, as on Node < 20.15.
const withoutCrc32 =
  "data:text/javascript," +
  encodeURIComponent(`import { syncBuiltinESMExports } from "node:module";
import zlib from "node:zlib";
delete zlib.crc32;
syncBuiltinESMExports();`);

function child(code: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ["--import", withoutCrc32, "--import", "tsx", "--input-type=module", "-e", code], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, out: (r.stdout ?? "") + (r.stderr ?? "") };
}

const dir = mkdtempSync(join(tmpdir(), "gsu-oldnode-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Deterministic inputs of many lengths, and a chained CRC (offset, then data) as upload.ts uses.
const inputs = Array.from({ length: 40 }, (_, n) => Buffer.from(Array.from({ length: n * 37 }, (_, i) => (i * 131 + n * 7) & 0xff)));
const expected = inputs.map((b, n) => [zlibCrc32(b), zlibCrc32(b, zlibCrc32(Buffer.from([n, 0, 0, 1])))]);
// An upload chunk frame (its CRC covers offset and data) as a board on Node 20.20 makes it.
const id = Uint8Array.from({ length: 32 }, (_, i) => i);
const chunkHex = Buffer.from(chunkFrame(id, 4096, inputs[9])).toString("hex");

describe("the board runtime on a Node without zlib.crc32 (Node 20.11)", () => {
  it("the child really has no zlib.crc32, and the board modules still load", () => {
    const r = child(`import * as zlib from "node:zlib";
if ("crc32" in zlib && typeof zlib.crc32 === "function") { console.log("zlib.crc32 still there"); process.exit(3); }
const m = await import("./host/transport/framing/crc32.ts");
await import("./host/board/upload.ts"); await import("./host/board/events.ts"); await import("./host/board/daemon.ts");
console.log("native=" + m.crc32IsNative);`);
    expect(r.out).toContain("native=false");
    expect(r.status, r.out).toBe(0);
  }, 60_000);

  it("the fallback gives zlib.crc32's values (single and chained), and upload chunk frames are byte for byte the same", () => {
    const r = child(`const { crc32, crc32IsNative } = await import("./host/transport/framing/crc32.ts");
const { chunkFrame } = await import("./host/board/upload.ts");
if (crc32IsNative) process.exit(3);
const inputs = Array.from({ length: 40 }, (_, n) => Buffer.from(Array.from({ length: n * 37 }, (_, i) => (i * 131 + n * 7) & 0xff)));
const id = Uint8Array.from({ length: 32 }, (_, i) => i);
console.log(JSON.stringify({ crcs: inputs.map((b, n) => [crc32(b), crc32(b, crc32(Buffer.from([n, 0, 0, 1])))]),
  chunk: Buffer.from(chunkFrame(id, 4096, inputs[9])).toString("hex") }));`);
    expect(r.status, r.out).toBe(0);
    expect(JSON.parse(r.out.trim().split("\n").pop()!)).toEqual({ crcs: expected, chunk: chunkHex });
  }, 60_000);

  it("an event log written with the native CRC reads back intact with the fallback, and the other way", () => {
    const native = join(dir, "native");
    const log = new EventLog(native, { sync: false });
    for (let i = 0; i < 20; i++) log.append(Uint8Array.of(i, 0xab, 0xcd, i * 3));
    const r = child(`const { EventLog } = await import("./host/board/events.ts");
const a = new EventLog(${JSON.stringify(native)}, { sync: false });
const b = new EventLog(${JSON.stringify(join(dir, "fallback"))}, { sync: false });
for (let i = 0; i < 20; i++) b.append(Uint8Array.of(i, 0xab, 0xcd, i * 3));
console.log(JSON.stringify({ corrupt: a.corrupt, size: a.size, last: a.lastSeq }));`);
    expect(r.status, r.out).toBe(0);
    expect(JSON.parse(r.out.trim().split("\n").pop()!)).toEqual({ corrupt: null, size: 20, last: 20 });
    const back = new EventLog(join(dir, "fallback"), { sync: false });
    expect(back.corrupt).toBeNull();
    expect(back.since(1, 10_000).map((e) => Array.from(e.packet))).toEqual(Array.from({ length: 20 }, (_, i) => [i, 0xab, 0xcd, i * 3]));
  }, 60_000);
});
