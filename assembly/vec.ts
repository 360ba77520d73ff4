// Index vectors (docs/protocol.md point 4, "Members on several boards"). Every index
// the protocol uses is a vector over the cluster's member slots: component j-1 is the
// count of member j's messages to G_act (or of its passed device messages). A vector x
// stands for the set {(j, k) : k <= x[j-1]}; x <= y componentwise; the join is the
// componentwise maximum. With one member a vector is one number and everything is what
// it was with the shared counter.
export const VM: u32 = 16;          // components (MAXM)
export const VB: u32 = VM * 4;      // bytes of a vector

// @ts-ignore: decorator
@inline export function vGet(v: usize, j: u32): u32 { return load<u32>(v + <usize>j * 4); }
// @ts-ignore: decorator
@inline export function vSet(v: usize, j: u32, x: u32): void { store<u32>(v + <usize>j * 4, x); }
export function vZero(v: usize): void { memory.fill(v, 0, VB); }
export function vCopy(dst: usize, src: usize): void { memory.copy(dst, src, VB); }

/** x <= y componentwise. */
export function vLe(x: usize, y: usize): bool {
  for (let j: u32 = 0; j < VM; j++) if (vGet(x, j) > vGet(y, j)) return false;
  return true;
}

/** dst := dst ⊔ src. */
export function vJoin(dst: usize, src: usize): void {
  for (let j: u32 = 0; j < VM; j++) { const x = vGet(src, j); if (x > vGet(dst, j)) vSet(dst, j, x); }
}

/** The sum of the components (the shared counter's value when x is every member's count). */
export function vSum(x: usize): u32 {
  let s: u32 = 0;
  for (let j: u32 = 0; j < VM; j++) s += vGet(x, j);
  return s;
}

// scratch vectors (allocated by state.init)
export let vx: usize = 0;   // the event's message vector when it came as a scalar
export let vy: usize = 0;   // the event's second bound vector when it came as a scalar
export let vt: usize = 0;   // a temporary
export function vecScratchInit(): void {
  vx = heap.alloc(VB); vy = heap.alloc(VB); vt = heap.alloc(VB);
  vZero(vx); vZero(vy); vZero(vt);
}

// ---- vectors handed to the host with effects ------------------------------------
// An effect that names a vector carries the address of a copy here, valid until the
// next call (host contract 2). Reset at the start of every batch.
let fxv: usize = 0;
let fxvCap: u32 = 0;
let fxvN: u32 = 0;
export function vecFxInit(cap: u32): void { fxvCap = cap; fxv = heap.alloc(<usize>cap * VB); }
export function vecFxReset(): void { fxvN = 0; }
export function vecFxRoom(): u32 { return fxvCap - fxvN; }
/** A copy of v for an effect; its address. */
export function vecFx(v: usize): u32 {
  assert(fxvN < fxvCap, "effect vector area overflow: room check missed");
  const at = fxv + <usize>fxvN * VB;
  fxvN++;
  vCopy(at, v);
  return <u32>at;
}
