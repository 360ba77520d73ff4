// gsu upload against a fake board on an in-memory link: progress lines when
// stdout is not a terminal, a bar in place when it is, the board's verdict,
// resume after an interruption, and no reply.
import { afterAll, describe, expect, it } from "vitest";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as upload from "../../host/cli/upload.ts";
import { cleanup, runAgainst, tmp } from "./helpers.ts";

afterAll(cleanup);

const LINK = ["--link", "serial:/dev/pts/3@115200"];
/** A 40 KiB file that is not a signed image: the fake board judges it by its bytes. */
function payload(n = 40 * 1024, seed = 7): { file: string; bytes: Uint8Array } {
  const bytes = new Uint8Array(n).map((_, i) => (i * 131 + seed + (i >> 9)) & 255);
  const file = join(tmp("img"), "estimator-2.0.0.gsui");
  writeFileSync(file, bytes);
  return { file, bytes };
}
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe("gsu upload", () => {
  it("not a terminal: a plain line at every 10%, no control characters; the board's verdict; exit 0", async () => {
    const { file, bytes } = payload();
    const r = await runAgainst(upload, [...LINK, file], { trusted: {}, stateDir: tmp("board"), accept: (img) => ({ ok: same(img, bytes), text: "upload accepted: estimator 2.0.0 staged in slot b" }) });
    expect(r.err).toBe("");
    expect(r.status).toBe(0);
    expect(r.out).not.toMatch(/[\r\x1b]/);
    const lines = r.out.trim().split("\n");
    expect(lines[0]).toMatch(/^uploading estimator-2\.0\.0\.gsui, 40\.0 KiB, id [0-9a-f]{16}, to board 1 on serial:\/dev\/pts\/3@115200$/);
    const progress = lines.filter((l) => l.startsWith("estimator-2.0.0.gsui: "));
    expect(progress[0]).toMatch(/: 0 B \/ 40\.0 KiB \(0%\), 0 B\/s, -- left$/);
    expect(progress.at(-1)).toMatch(/: 40\.0 KiB \/ 40\.0 KiB \(100%\), [\d.]+ (B|KiB|MiB)\/s, done$/);
    expect(progress.length).toBeGreaterThanOrEqual(5);
    expect(progress.length).toBeLessThanOrEqual(11);
    const pcts = progress.map((l) => Number(/\((\d+)%\)/.exec(l)![1]));
    expect(pcts).toEqual([...pcts].sort((a, b) => a - b));
    expect(progress.slice(1, -1).every((l) => /\d (B|KiB|MiB)\/s, (<1|\d+) s left$/.test(l))).toBe(true);
    expect(lines.at(-2)).toMatch(/^40\.0 KiB in [\d.]+ s \([\d.]+ (B|KiB|MiB)\/s\)$/);
    expect(lines.at(-1)).toBe("board 1 accepted estimator-2.0.0.gsui: upload accepted: estimator 2.0.0 staged in slot b");
    expect(r.board.uploads).toHaveLength(1);
  });

  it("on a terminal: one bar redrawn in place with \\r, ended by a newline", async () => {
    const { file } = payload(16 * 1024);
    const r = await runAgainst(upload, [...LINK, file], { trusted: {}, stateDir: tmp("board"), tty: true });
    expect(r.status, r.err).toBe(0);
    const bar = r.out.split("\n")[1];
    expect(bar.startsWith("\r")).toBe(true);
    expect(bar).toMatch(/\restimator-2\.0\.0\.gsui \[#{1,40}\]\s+100% 16\.0 KiB\/16\.0 KiB [\d.]+ (B|KiB|MiB)\/s done\x1b\[K$/);
    expect(r.out.split("\n")[2]).toMatch(/^16\.0 KiB in/);
  });

  it("on a terminal, a board event during the upload gets its own line: the bar is wiped, the event printed, the bar redrawn", async () => {
    const { file } = payload(16 * 1024);
    const r = await runAgainst(upload, [...LINK, file], {
      trusted: {}, stateDir: tmp("board"), tty: true,
      accept: (img, b) => { b.event(100, "UPLOAD_ACCEPTED", { comp: "estimator", version: "2.0.0", bytes: img.length, sha256: "ab" }); return { ok: true, text: "staged" }; },
    });
    expect(r.status, r.err).toBe(0);
    expect(r.out).toMatch(/done\x1b\[K\r\x1b\[Kevent [\d.]+ s board 1 ACTIVITY_HI UPLOAD_ACCEPTED: upload accepted: estimator@2\.0\.0, 16384 bytes, sha256 ab\n\r\S+ \[#+\]\s+100% [^\n]*done\x1b\[K\n16\.0 KiB in/);
  });

  it("--quiet: no progress at all", async () => {
    const { file } = payload(8 * 1024);
    const r = await runAgainst(upload, [...LINK, "--quiet", file], { trusted: {}, stateDir: tmp("board") });
    expect(r.status).toBe(0);
    expect(r.out).not.toMatch(/%\)/);
  });

  it("a rejection exits 1 with the board's reason; a too-large image is refused before any chunk", async () => {
    const { file } = payload(8 * 1024);
    const r = await runAgainst(upload, [...LINK, file], { trusted: {}, stateDir: tmp("board"), accept: () => ({ ok: false, text: "upload rejected: bad-signature: signature does not match key ground-1" }) });
    expect(r.status).toBe(1);
    expect(r.err).toBe("gsu upload: board 1 rejected estimator-2.0.0.gsui: upload rejected: bad-signature: signature does not match key ground-1\n");
    const big = await runAgainst(upload, [...LINK, file], { trusted: {}, stateDir: tmp("board"), maxSize: 4096 });
    expect(big.status).toBe(1);
    expect(big.err).toMatch(/rejected estimator-2\.0\.0\.gsui: upload rejected: image of 8192 bytes exceeds this board's limit of 4096/);
  });

  it("interrupted (the board goes quiet at 50%): exit 3 (the device stopped replying), says to run it again; the second run resumes and sends only the rest", async () => {
    const { file, bytes } = payload(64 * 1024, 3);
    const stateDir = tmp("board");
    const accept = (img: Uint8Array) => ({ ok: same(img, bytes), text: same(img, bytes) ? "staged" : "corrupt" });
    const first = await runAgainst(upload, [...LINK, "--timeout", "1", file], { trusted: {}, stateDir, accept, goQuietAt: 32 * 1024 });
    expect(first.status).toBe(3);
    expect(first.err).toMatch(/^gsu upload: upload stalled at \d+ of 65536 bytes \(\d+%\): board 1 on serial:\/dev\/pts\/3@115200 acknowledged nothing for 1 s\. The board keeps what it has: run the same command again to resume\n$/);
    const held = Number(/stalled at (\d+) of/.exec(first.err)![1]);
    expect(held).toBeGreaterThanOrEqual(31 * 1024);
    expect(readdirSync(join(stateDir, "incoming")).filter((f) => f.endsWith(".part"))).toHaveLength(1);

    const second = await runAgainst(upload, [...LINK, file], { trusted: {}, stateDir, accept });
    expect(second.status, second.err).toBe(0);
    expect(second.out).toMatch(/estimator-2\.0\.0\.gsui: resuming: the board already holds \d+\.\d KiB of 64\.0 KiB \((4\d|5\d)%\)/);
    expect(second.out).not.toMatch(/\(0%\)/);
    expect(second.out).toMatch(/\(100%\)/);
    expect(second.out).toMatch(/, resumed from [\d.]+ KiB/);
    expect(second.out).toMatch(/board 1 accepted estimator-2\.0\.0\.gsui: staged/);
    expect(second.board.uploads).toHaveLength(1);
    expect(same(second.board.uploads[0], bytes)).toBe(true);
  });

  it("no board: exit 3 (no reply) with what to check", async () => {
    const { file } = payload(4096);
    const r = await runAgainst(upload, [...LINK, "--board", "7", "--timeout", "0.3", file], { trusted: {}, stateDir: tmp("board"), boardNode: 7, noBoard: true });
    expect(r.status).toBe(3);
    expect(r.err).toBe("gsu upload: no answer to the upload query from board 7 on serial:/dev/pts/3@115200 within 0.3 s: is `gsu board` running with that link and node id?\n");
  });

  it("a lost query is asked again", async () => {
    const { file } = payload(4096);
    const { memPair, FakeBoard } = await import("./fake-board.ts");
    const { ground, board: bt } = memPair(100, 1);
    const b = new FakeBoard(bt, { trusted: {}, stateDir: tmp("board") });
    b.quiet = true;
    setTimeout(() => { b.quiet = false; }, 150);   // the first query goes unanswered
    let out = "";
    const status = await upload.run([...LINK, "--timeout", "2", file], { open: async () => ground, out: (s) => { out += s; }, err: (s) => { out += s; }, tty: false, signal: new AbortController().signal });
    b.close();
    expect(status, out).toBe(0);
  });

  it("bad arguments name what is at fault (exit 2)", async () => {
    const io = { open: () => { throw new Error("opened a link"); } } as never;
    await expect(upload.run([...LINK], io)).rejects.toThrow(/give exactly one IMAGE\.gsui/);
    await expect(upload.run([...LINK, "/nonexistent/x.gsui"], io)).rejects.toThrow(/cannot read \/nonexistent\/x\.gsui: ENOENT/);
    await expect(upload.run([...LINK, "--chunk", "8", "x"], io)).rejects.toThrow(/--chunk must be an integer 16\.\.65536/);
    await expect(upload.run(["x.gsui"], io)).rejects.toThrow(/--link SPEC is required/);
  });
});
