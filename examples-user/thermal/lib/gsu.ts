// GSU component ABI, AssemblyScript side: the part every component of this
// system shares. Copy this file into your own system (it depends on nothing
// else in GSU). The host contract is in GSU's host/component/component.ts:
//   imports  gsu.send(port: u32, ptr: usize, len: u32): void, env.abort
//   exports  memory, _start (asc --exportStart _start), gsu_inbox(): usize,
//            gsu_handle(port: u32, len: u32): void,
//            optional gsu_fault(fromStep: u32), gsu_state_save(): u32,
//            gsu_state_load(len: u32)
// Every message starts with a u32 step number k; fields are little endian
// and packed.

// @ts-ignore: decorator
@external("gsu", "send")
export declare function send(port: u32, ptr: usize, len: u32): void;

/** The host writes each incoming message here (4096 bytes). */
export const INBOX: usize = memory.data(4096, 16);
/** Scratch buffer for outgoing messages (the host copies them during send). */
export const OUT: usize = memory.data(256, 16);

export function gsu_inbox(): usize {
  return INBOX;
}

export const NO_STEP: u32 = 0xffffffff;

/**
 * The per-port delivery contract of a single-input component: every step
 * once, in order. Anything else is a host bug: abort loudly.
 */
export function expectStep(next: u32, k: u32, who: string): u32 {
  if (next != NO_STEP && k != next) {
    abort(who + ": step " + k.toString() + " arrived, expected " + next.toString());
  }
  return k + 1;
}

/** Round to i32; a non-finite or unrepresentable value becomes 0x7FFFFFFF, which every AT range rejects. */
export function toI32(x: f64): i32 {
  const v = Math.round(x);
  if (!isFinite(v) || v > 2147483646.0 || v < -2147483647.0) return 0x7fffffff;
  return <i32>v;
}

/** Round to u16; a non-finite or out-of-range value becomes 0xFFFF, which every AT range rejects. */
export function toU16(x: f64): u16 {
  const v = Math.round(x);
  if (!isFinite(v) || v < 0.0 || v > 65534.0) return 0xffff;
  return <u16>v;
}
