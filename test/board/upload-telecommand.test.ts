// Uploads survive loss, corruption and interruption; telecommands are
// authenticated and replay-protected.
import { describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UploadReceiver, UploadSender } from "../../host/board/upload.ts";
import { encodeTelecommand, TelecommandGuard } from "../../host/board/telecommand.ts";
import { Rng } from "../../host/sim/rng.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "gsu-board-"));

function transfer(img: Uint8Array, opts: { loss: number; corrupt: number; interruptAt?: number; seed: number }) {
  const dir = tmp();
  const rng = new Rng(opts.seed);
  const accept = (b: Uint8Array) => ({ ok: Buffer.compare(Buffer.from(b), Buffer.from(img)) === 0, text: "staged" });
  let rx = new UploadReceiver(dir, 1 << 20, accept);
  let s = new UploadSender(img, 512, 8, 50);
  let now = 0, wire = 0, interrupted = false;
  let q = s.start(now);
  while (!s.result && now < 1_000_000) {
    const next: Uint8Array[] = [];
    for (const f of q) {
      wire += f.length;
      if (rng.next() < opts.loss) continue;
      const g = f.slice();
      if (rng.next() < opts.corrupt) g[2 + rng.int(0, g.length - 3)] ^= 1 << rng.int(0, 7);
      for (const r of rx.onFrame(g[1], g.subarray(2))) next.push(...s.onFrame(r[1], r.subarray(2), now));
    }
    if (opts.interruptAt && !interrupted && s.ackedBytes >= opts.interruptAt) {
      interrupted = true; // the link drops and both ends restart; the board keeps its partial file
      rx.close();
      rx = new UploadReceiver(dir, 1 << 20, accept);
      s = new UploadSender(img, 512, 8, 50);
      next.length = 0;
      next.push(...s.start(now));
    }
    now += 10;
    next.push(...s.tick(now));
    q = next;
  }
  return { s, rx, wire };
}

describe("upload", () => {
  const img = new Uint8Array(64 * 1024).map((_, i) => (i * 31 + (i >> 8)) & 255);
  it("a clean link: every byte once, goodput above 90%", () => {
    const { s, wire } = transfer(img, { loss: 0, corrupt: 0, seed: 1 });
    expect(s.result).toEqual({ ok: true, text: "staged" });
    expect(s.stats.retransmitted).toBe(0);
    expect(img.length / wire).toBeGreaterThan(0.9);
  });
  it("loss and bit flips: per-chunk CRCs catch the flips, retransmission completes it", () => {
    const { s, rx } = transfer(img, { loss: 0.03, corrupt: 0.03, seed: 2 });
    expect(s.result?.ok).toBe(true);
    expect((rx.dropped.crc ?? 0) + (rx.dropped.malformed ?? 0)).toBeGreaterThan(0);
  });
  it("an interrupted upload resumes where the board's partial file ends", () => {
    const { s } = transfer(img, { loss: 0, corrupt: 0, interruptAt: 30_000, seed: 3 });
    expect(s.result?.ok).toBe(true);
    expect(s.stats.resumedFrom).toBeGreaterThanOrEqual(30_000);
    expect(s.stats.sentBytes).toBeLessThan(img.length); // the resumed sender did not resend the prefix
  });
  it("an image above the board's limit is refused before any chunk", () => {
    const rx = new UploadReceiver(tmp(), 1000, () => ({ ok: true, text: "" }));
    const s = new UploadSender(img);
    const [q] = s.start(0);
    const [r] = rx.onFrame(q[1], q.subarray(2));
    s.onFrame(r[1], r.subarray(2), 0);
    expect(s.result?.ok).toBe(false);
    expect(s.result?.text).toMatch(/exceeds this board's limit of 1000/);
  });
});

describe("telecommands", () => {
  const ground = generateKeyPairSync("ed25519");
  const other = generateKeyPairSync("ed25519");
  const tc = (seq: number, op: "commit" | "abort" | "fault" = "commit", key = ground.privateKey, keyId = "ground-1") =>
    encodeTelecommand({ op, seq, timeMs: 1_700_000_000_000 + seq, args: op === "fault" ? { comp: "estimator", step: 5 } : {}, keyId, board: "b1" }, key);
  it("accepts a signed command, refuses a replay, a forgery, an unknown key and garbage, and counts each", () => {
    const g = new TelecommandGuard({ "ground-1": ground.publicKey }, tmp());
    expect(g.check(tc(1))).toMatchObject({ ok: true, tc: { op: "commit", seq: 1 } });
    expect(g.check(tc(1))).toMatchObject({ ok: false, reason: "replayed" });
    expect(g.check(tc(2, "abort", other.privateKey))).toMatchObject({ ok: false, reason: "forged", detail: expect.stringMatching(/does not match key 'ground-1'/) });
    expect(g.check(tc(3, "commit", other.privateKey, "mallory"))).toMatchObject({ ok: false, reason: "unknown-key" });
    const t = tc(4, "fault");
    t[10] ^= 1; // flip a bit of the signed part
    expect(g.check(t)).toMatchObject({ ok: false, reason: "forged" });
    expect(g.check(new Uint8Array([1, 2, 3]))).toMatchObject({ ok: false, reason: "malformed" });
    expect(g.check(tc(5, "fault"))).toMatchObject({ ok: true, tc: { op: "fault", args: { comp: "estimator", step: 5 } } });
    expect(g.refused).toMatchObject({ malformed: 1, "unknown-key": 1, forged: 2, replayed: 1, "storage-full": 0 });
  });
  it("the last sequence survives a restart: an old command stays refused", () => {
    const dir = tmp();
    expect(new TelecommandGuard({ "ground-1": ground.publicKey }, dir).check(tc(7)).ok).toBe(true);
    expect(new TelecommandGuard({ "ground-1": ground.publicKey }, dir).check(tc(6))).toMatchObject({ ok: false, reason: "replayed" });
  });
});
