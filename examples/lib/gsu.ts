// GSU component ABI, AssemblyScript side. Shared by every demo component.
//
// Imports:  gsu.send(port: u32, ptr: usize, len: u32): void   (emit on output port)
//           env.abort                                        (standard AS abort)
// Exports each component must provide (re-export gsu_inbox from here):
//   memory, _start (top-level init, via --exportStart), gsu_inbox(): usize,
//   gsu_handle(port: u32, len: u32): void, optional gsu_fault(fromStep: u32): void.
//
// All messages start with a u32 step number k (little endian). Multi-byte
// fields are little endian and packed (no padding).

// @ts-ignore: decorator
@external("gsu", "send")
export declare function send(port: u32, ptr: usize, len: u32): void;

export const INBOX_SIZE: u32 = 4096;
export const INBOX: usize = memory.data(4096, 16);
/** Scratch buffer for outgoing messages (copied by the host during send). */
export const OUT: usize = memory.data(256, 16);

export function gsu_inbox(): usize {
  return INBOX;
}

export const NO_STEP: u32 = 0xffffffff;
/** i32 sentinel for a non-finite or unrepresentable quantity. */
export const SENTINEL: i32 = 0x7fffffff;

/**
 * Enforces the per-port delivery contract of a single-input component:
 * the first message sets the expected step, after that every message must
 * carry a later step. A step again, or an earlier one, is a delivery bug in
 * the host, so it aborts loudly rather than silently corrupting the state.
 * A later step than the next is a gap: the steps between were lost with a
 * board that crashed or restarted (docs/protocol.md, "A board that crashes");
 * the component goes on from the step it has.
 */
export function expectStep(next: u32, k: u32, who: string): u32 {
  if (next != NO_STEP && k < next) {
    abort(who + ": step " + k.toString() + " arrived, expected " + next.toString() + " or later (each port delivers every step at most once, in order)");
  }
  return k + 1;
}

/** Quantise a torque in N·m to micro-N·m; non-finite or out-of-i32 → SENTINEL. */
export function quantise(x: f64): i32 {
  let v = Math.round(x * 1e6);
  if (!isFinite(v) || v > 2147483646.0 || v < -2147483647.0) return SENTINEL;
  return <i32>v;
}

export function wrapAngle(a: f64): f64 {
  // into (-pi, pi]
  const TWO_PI = 2.0 * Math.PI;
  if (a > Math.PI || a <= -Math.PI) {
    a = a - TWO_PI * Math.floor((a + Math.PI) / TWO_PI);
    if (a <= -Math.PI) a += TWO_PI;
  }
  return a;
}
