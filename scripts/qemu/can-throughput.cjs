// CAN throughput between two interfaces on one bus (run inside the emulated
// board by scripts/qemu/arm.sh): N frames sent on FROM, in order and intact on
// TO, in windows of 100 so the sender never outruns the receiving socket. A
// real controller's interface has a short TX queue (txqueuelen 10): a send it
// refuses (send(2) fails, ENOBUFS) is tried again 1 ms later, and counted.
// Prints "CAN-THROUGHPUT FROM->TO frames=N ms=T fps=F refused=R" or exits
// non-zero naming what went wrong.
//   node scripts/qemu/can-throughput.cjs [FROM] [TO] [N]
"use strict";
const can = require("socketcan");
const [from = "can0", to = "can1", nArg = "1000"] = process.argv.slice(2);
const n = Number(nArg);
const rx = can.createRawChannel(to, true);
const tx = can.createRawChannel(from, true);
let got = 0;
let bad = "";
let window = 0;
let next = 0; // the next frame to send
let refused = 0;
const t0 = process.hrtime.bigint();
function sendWindow() {
  const end = Math.min(n, window + 100);
  for (; next < end; next++) {
    const data = Buffer.alloc(8);
    data.writeUInt32BE(next, 0);
    data.writeUInt32BE(~next >>> 0, 4);
    const r = tx.send({ id: 0x100 + (next & 0xff), ext: false, rtr: false, data });
    if (typeof r === "number" && r < 0) { refused++; setTimeout(sendWindow, 1); return; } // TX queue full: again soon
  }
  window = end;
}
rx.addListener("onMessage", (m) => {
  const i = m.data.readUInt32BE(0);
  if (!bad && (i !== got || m.data.readUInt32BE(4) !== (~i >>> 0) || m.id !== 0x100 + (i & 0xff)))
    bad = `frame ${got}: got id=0x${m.id.toString(16)} data=${m.data.toString("hex")}`;
  got++;
  if (got === n) {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (bad) { console.log(`CAN-THROUGHPUT FAILED ${bad}`); process.exit(1); }
    console.log(`CAN-THROUGHPUT ${from}->${to} frames=${n} ms=${ms.toFixed(0)} fps=${Math.round((n * 1000) / ms)} refused=${refused}`);
    process.exit(0);
  } else if (got === window && next === window) sendWindow();
});
rx.start();
tx.start();
sendWindow();
setTimeout(() => { console.log(`CAN-THROUGHPUT FAILED: ${got} of ${n} frames arrived on ${to} within 60 s (${refused} sends refused)${bad ? `; ${bad}` : ""}`); process.exit(1); }, 60_000);
