// npm run bench:upload: image upload over a real link and over CAN framing.
// - goodput: image bytes as a share of bytes on the wire (serial: every byte the
//   transport wrote, both directions; CAN: bits on the bus, worst-case stuffing)
// - wall time for a 256 KiB image over a PTY serial pair (socat), and what the
//   same wire bytes take at 115200 baud and on a 500 kbit/s CAN bus.
//
//   npm run bench:upload               a 256 KiB image
//   npm run bench:upload -- --quick    a smoke run for CI: a 16 KiB image, the same links and
//                                      chunk sizes; the figures are not the real ones
// Its temporary directories (PTY links, received images) are removed when it is done.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UploadReceiver, UploadSender } from "../host/board/upload.ts";
import { openLink } from "../host/transport/open.ts";
import { encodeTransfer } from "../host/transport/can/cyphal.ts";
import type { Transport } from "../host/transport/types.ts";

const canBits = (n: number) => 67 + 8 * n + Math.floor((54 + 8 * n - 1) / 4); // extended frame, worst-case stuffing
const args = process.argv.slice(2);
for (const a of args) {
  if (a !== "--quick") {
    console.error(`bench-upload: unknown argument '${a}'; usage: npm run bench:upload [-- --quick]`);
    process.exit(2);
  }
}
const QUICK = args.includes("--quick");
const SIZE = (QUICK ? 16 : 256) * 1024;
const tmpDirs: string[] = [];
const tempDir = (prefix: string) => { const d = mkdtempSync(join(tmpdir(), prefix)); tmpDirs.push(d); return d; };
const cleanUp = () => { for (const d of tmpDirs) rmSync(d, { recursive: true, force: true }); };
const image = new Uint8Array(SIZE).map((_, i) => (i * 2654435761) >>> 24);

async function overPty(chunk: number) {
  if (spawnSync("socat", ["-V"], { stdio: "ignore" }).status !== 0) return null;
  const dir = tempDir("gsu-bench-up-");
  const a = join(dir, "a"), b = join(dir, "b");
  const socat = spawn("socat", [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: "ignore" });
  while (!existsSync(a) || !existsSync(b)) await new Promise((r) => setTimeout(r, 10));
  const board: Transport = await openLink(`serial:${a}@115200`, 1, { log: () => {} });
  const ground: Transport = await openLink(`serial:${b}@115200`, 100, { log: () => {} });
  const rx = new UploadReceiver(join(dir, "incoming"), 1 << 20, () => ({ ok: true, text: "ok" }));
  board.onFrame((src, f) => { for (const r of rx.onFrame(f[1], f.subarray(2))) board.send(src, r); });
  const tx = new UploadSender(image, chunk, 16, 1000);
  ground.onFrame((_s, f) => { for (const o of tx.onFrame(f[1], f.subarray(2), Date.now())) ground.send(1, o); });
  const t0 = performance.now();
  for (const f of tx.start(Date.now())) ground.send(1, f);
  const tick = setInterval(() => { for (const f of tx.tick(Date.now())) ground.send(1, f); }, 20);
  while (!tx.result) await new Promise((r) => setTimeout(r, 2));
  const ms = performance.now() - t0;
  clearInterval(tick);
  const g = ground.stats() as unknown as { wireBytesOut: number; wireBytesIn: number };
  const wire = g.wireBytesOut + g.wireBytesIn;
  await board.close(); await ground.close(); socat.kill();
  return { ms, wire, ok: tx.result.ok };
}

function overCan(chunk: number) {
  // the same frames the upload exchanges, costed with the Cyphal/CAN encoder
  const rx = new UploadReceiver(tempDir("gsu-bench-can-"), 1 << 20, () => ({ ok: true, text: "ok" }));
  const tx = new UploadSender(image, chunk, 16, 1000);
  let bits = 0;
  const cost = (f: Uint8Array, src: number) => { for (const fr of encodeTransfer(f, { subject: 4096 + 1, source: src, transferId: 0, maxTransfer: 1 << 16 })) bits += canBits(fr.data.length); };
  let q = tx.start(0);
  while (!tx.result) {
    const next: Uint8Array[] = [];
    for (const f of q) { cost(f, 100); for (const r of rx.onFrame(f[1], f.subarray(2))) { cost(r, 1); next.push(...tx.onFrame(r[1], r.subarray(2), 0)); } }
    q = next;
  }
  return { bits };
}

(async () => {
  console.log(`GSU upload bench: a ${SIZE / 1024} KiB image (node ${process.version})${QUICK ? "  --quick: smoke run, not the real figures" : ""}`);
  console.log("");
  console.log("link                         chunk   goodput (image / wire)   wall time            at link speed");
  for (const chunk of [256, 1024]) {
    const p = await overPty(chunk);
    if (!p) { console.log("serial over a PTY: skipped, socat is not installed (apt-get install socat)"); break; }
    const at115 = (p.wire * 10) / 115200;
    console.log(`serial (COBS+CRC, PTY)     ${String(chunk).padStart(6)}   ${(100 * SIZE / p.wire).toFixed(1).padStart(6)}% (goal >= 90%)   ${p.ms.toFixed(0).padStart(6)} ms over a PTY   ${at115.toFixed(1)} s at 115200 baud`);
  }
  for (const chunk of [256, 1024]) {
    const c = overCan(chunk);
    console.log(`CAN (Cyphal/CAN, 29-bit)   ${String(chunk).padStart(6)}   ${(100 * SIZE * 8 / c.bits).toFixed(1).padStart(6)}% of bus bits      (computed)          ${(c.bits / 500_000).toFixed(1)} s at 500 kbit/s`);
  }
  console.log("");
  console.log("Serial goodput counts every byte written in both directions (chunks, ACKs, envelope, COBS, delimiters).");
  console.log("CAN goodput is image bits over bus bits with worst-case bit stuffing; classic CAN carries 7 payload bytes per 8-byte frame.");
  cleanUp();
  process.exit(0);
})();
