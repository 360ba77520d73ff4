// telemetry 1.0.0 — joins, per step k, the sensor's raw rate magnitude, the
// controller's wheel command and fdir's health word, and sends one downlink
// frame for step k once it holds step k from all three ports.
//
// Arrivals across ports are buffered per step in fixed rings of RING slots,
// so the output is a deterministic function of the per-port input sequences
// whatever the interleaving. Computation starts at the largest first step
// seen over the ports (0 in a normal boot); earlier steps are dropped.
// A port that jumps past a step (its peer board crashed and restarted: the
// steps between were lost) makes that step lost: it is skipped, not awaited.
import { send, INBOX, OUT, NO_STEP } from "../../lib/gsu";
export { gsu_inbox } from "../../lib/gsu";

const IN_RAW: u32 = 0;     // u32 k + f64 |w|
const IN_CMD: u32 = 1;     // u32 k + 3 i32
const IN_HEALTH: u32 = 2;  // u32 k + u32 flags
const OUT_DOWNLINK: u32 = 3;
const NPORTS: u32 = 3;

const RING: u32 = 1024;
// slot layout per port: u32 step + payload (max 12 bytes) = 16 bytes
const SLOT: u32 = 16;
const rings: usize = memory.data(<i32>(3 * 1024 * 16), 16);

// per-port: expected next step (NO_STEP until the first message), first step seen
const portNext: usize = memory.data(12, 4);
const portFirst: usize = memory.data(12, 4);
let next: u32 = NO_STEP; // next step to emit; NO_STEP until every port has spoken

function slotAddr(p: u32, k: u32): usize {
  return rings + <usize>((p * RING + (k % RING)) * SLOT);
}

function init(): void {
  // slot steps start as NO_STEP (memory.data is zeroed, and 0 is a real step)
  for (let p: u32 = 0; p < NPORTS; p++) {
    store<u32>(portNext + (p << 2), NO_STEP);
    store<u32>(portFirst + (p << 2), NO_STEP);
    for (let i: u32 = 0; i < RING; i++) store<u32>(rings + <usize>((p * RING + i) * SLOT), NO_STEP);
  }
}
init();

function payloadLen(p: u32): u32 {
  return p == IN_RAW ? 8 : p == IN_CMD ? 12 : 4;
}

export function gsu_handle(port: u32, len: u32): void {
  if (port >= NPORTS || len != 4 + payloadLen(port)) abort("telemetry: bad message on port " + port.toString() + " len " + len.toString());
  const k = load<u32>(INBOX);
  const pn = load<u32>(portNext + (port << 2));
  if (pn != NO_STEP && k < pn) abort("telemetry: step " + k.toString() + " arrived on port " + port.toString() + ", expected " + pn.toString() + " or later (each port delivers every step at most once, in order)");
  store<u32>(portNext + (port << 2), k + 1);
  if (next != NO_STEP) drain(); // steps this gap made lost, before the ring check
  if (load<u32>(portFirst + (port << 2)) == NO_STEP) store<u32>(portFirst + (port << 2), k);

  if (next == NO_STEP) {
    // not aligned yet: hold everything relative to this port's first step
    if (k - load<u32>(portFirst + (port << 2)) >= RING) abort("telemetry: port " + port.toString() + " ran " + RING.toString() + " steps ahead before every port delivered; ring too small");
    let all = true, start: u32 = 0;
    for (let p: u32 = 0; p < NPORTS; p++) {
      const f = load<u32>(portFirst + (p << 2));
      if (f == NO_STEP) { all = false; break; }
      if (f > start) start = f;
    }
    if (all) next = start;
  } else {
    if (k < next) return; // before the aligned start: drop
    if (k - next >= RING) abort("telemetry: port " + port.toString() + " ran " + RING.toString() + " steps ahead of the slowest port; ring too small");
  }
  const s = slotAddr(port, k);
  store<u32>(s, k);
  memory.copy(s + 4, INBOX + 4, payloadLen(port));
  if (next == NO_STEP) return;
  drain();
}

/** A port has moved past step s without delivering it: s is lost on that port. */
function lost(s: u32): bool {
  for (let p: u32 = 0; p < NPORTS; p++) {
    const pn = load<u32>(portNext + (p << 2));
    if (pn != NO_STEP && pn - 1 > s && load<u32>(slotAddr(p, s)) != s) return true;
  }
  return false;
}

// emit every complete step, in order; skip the lost ones
function drain(): void {
  while (true) {
    const a = slotAddr(IN_RAW, next), b = slotAddr(IN_CMD, next), c = slotAddr(IN_HEALTH, next);
    if (load<u32>(a) != next || load<u32>(b) != next || load<u32>(c) != next) {
      if (!lost(next)) break;
      if (load<u32>(a) == next) store<u32>(a, NO_STEP);
      if (load<u32>(b) == next) store<u32>(b, NO_STEP);
      if (load<u32>(c) == next) store<u32>(c, NO_STEP);
      next++;
      continue;
    }
    // downlink.frame@1: u32 k, f64 |w|, i32 tx, ty, tz, u32 health = 28 bytes
    store<u32>(OUT, next);
    store<f64>(OUT, load<f64>(a, 4), 4);
    store<i32>(OUT, load<i32>(b, 4), 12);
    store<i32>(OUT, load<i32>(b, 8), 16);
    store<i32>(OUT, load<i32>(b, 12), 20);
    store<u32>(OUT, load<u32>(c, 4), 24);
    store<u32>(a, NO_STEP); store<u32>(b, NO_STEP); store<u32>(c, NO_STEP);
    next++;
    send(OUT_DOWNLINK, OUT, 28);
  }
}
