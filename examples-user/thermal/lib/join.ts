// Per-step join of two input ports, side A and side B (by role, not by port
// number: the port numbers may change between versions). A component calls
// joinPut for every message and then, while joinReady(), reads both payloads
// of step joinNext with joinA()/joinB() and calls joinPop().
//
// Arrivals are buffered per step in two rings, so the output is a
// deterministic function of the per-port input sequences whatever the
// interleaving across ports. The join starts at the larger of the two sides'
// first steps (earlier steps are dropped).
import { NO_STEP } from "./gsu";

const RING: u32 = 256;
const SLOT: u32 = 32; // u32 step + up to 28 payload bytes
const ring: usize = memory.data(<i32>(2 * 256 * 32), 16);

let nextA: u32 = NO_STEP; // next step expected on each side
let nextB: u32 = NO_STEP;
let firstA: u32 = NO_STEP;
let firstB: u32 = NO_STEP;
export let joinNext: u32 = NO_STEP; // next step to emit; NO_STEP until both sides spoke

function slot(side: u32, k: u32): usize {
  return ring + <usize>((side * RING + (k % RING)) * SLOT);
}

function init(): void {
  // slot steps start as NO_STEP (0 is a real step)
  for (let i: u32 = 0; i < 2 * RING; i++) store<u32>(ring + <usize>(i * SLOT), NO_STEP);
}
init();

/** Buffer the message in the inbox (len bytes, step first) on side 0 (A) or 1 (B). */
export function joinPut(side: u32, src: usize, len: u32, who: string): void {
  if (len < 4 || len > SLOT) abort(who + ": message of " + len.toString() + " bytes");
  const k = load<u32>(src);
  const expected = side == 0 ? nextA : nextB;
  if (expected != NO_STEP && k != expected) abort(who + ": step " + k.toString() + " arrived, expected " + expected.toString());
  if (side == 0) { nextA = k + 1; if (firstA == NO_STEP) firstA = k; }
  else { nextB = k + 1; if (firstB == NO_STEP) firstB = k; }
  if (joinNext == NO_STEP) {
    if (firstA != NO_STEP && firstB != NO_STEP) joinNext = firstA > firstB ? firstA : firstB;
  }
  if (joinNext != NO_STEP && k < joinNext) return; // before the aligned start
  const first = side == 0 ? firstA : firstB;
  if (k - (joinNext != NO_STEP ? joinNext : first) >= RING) abort(who + ": one side ran " + RING.toString() + " steps ahead of the other");
  const s = slot(side, k);
  store<u32>(s, k);
  memory.copy(s + 4, src + 4, len - 4);
}

export function joinReady(): bool {
  return joinNext != NO_STEP && load<u32>(slot(0, joinNext)) == joinNext && load<u32>(slot(1, joinNext)) == joinNext;
}
/** Payload (after the step) of side A / B at step joinNext. */
export function joinA(): usize { return slot(0, joinNext) + 4; }
export function joinB(): usize { return slot(1, joinNext) + 4; }
export function joinPop(): void {
  store<u32>(slot(0, joinNext), NO_STEP);
  store<u32>(slot(1, joinNext), NO_STEP);
  joinNext++;
}

/** State transfer: 20 bytes at dst. Only at a quiescent point (no step buffered). */
export function joinSave(dst: usize): u32 {
  if (joinNext != NO_STEP && (nextA != joinNext || nextB != joinNext)) abort("join: state transfer while a step is buffered");
  store<u32>(dst, nextA); store<u32>(dst, nextB, 4); store<u32>(dst, firstA, 8); store<u32>(dst, firstB, 12); store<u32>(dst, joinNext, 16);
  return 20;
}
export function joinLoad(src: usize): void {
  nextA = load<u32>(src); nextB = load<u32>(src, 4); firstA = load<u32>(src, 8); firstB = load<u32>(src, 12); joinNext = load<u32>(src, 16);
}
