// Shared helpers for the as-pect specs (not a spec itself: the runner only
// picks up *.spec.ts). They drive the core through the flat ABI of index.ts.
import { EFFECT_WORDS, EVENT_WORDS, ROLE_FREE } from "../constants";
import * as S from "../state";
import { VB, vSet, vZero } from "../vec";
import { effectsPtr, eventsPtr, setRole, stagePtr, status, step } from "../index";

/** Effects written by the last `run*` call. */
export let nfx: u32 = 0;

/** Writes event i of the event buffer (every other word zeroed). */
export function setEv(i: u32, type: u32, pid: u32, kind: u32 = 0, dirty: u32 = 0, index: u32 = 0,
                      epoch: u32 = 0, snap: u32 = 0, v: u32 = 0, vext: u32 = 0,
                      payOff: u32 = 0, payLen: u32 = 0, peer: u32 = 0, port: u32 = 0): void {
  const at = eventsPtr() + <usize>i * EVENT_WORDS * 4;
  memory.fill(at, 0, EVENT_WORDS * 4);
  store<u32>(at, type, 0);
  store<u32>(at, pid, 4);
  store<u32>(at, kind, 8);
  store<u32>(at, peer, 12);
  store<u32>(at, port, 16);
  store<u32>(at, payOff, 20);
  store<u32>(at, payLen, 24);
  store<u32>(at, dirty, 28);
  store<u32>(at, index, 32);
  store<u32>(at, epoch, 36);
  store<u32>(at, snap, 40);
  store<u32>(at, v, 44);
  store<u32>(at, vext, 48);
}

/** Sets one word of event i (after setEv). */
export function evWord(i: u32, word: u32, value: u32): void {
  store<u32>(eventsPtr() + <usize>i * EVENT_WORDS * 4 + <usize>word * 4, value);
}

/** Runs events [0, n); returns status(), leaves the effect count in nfx. */
export function runN(n: u32): i32 {
  nfx = step(n);
  return status();
}

/** Runs the single event already written at slot 0. */
export function run1(): i32 { return runN(1); }

/** Word w of effect i (word 0 is the type). */
export function fx(i: u32, w: u32): u32 {
  return load<u32>(effectsPtr() + <usize>i * EFFECT_WORDS * 4 + <usize>w * 4);
}

/** Number of effects of this type among the last nfx. */
export function countFx(type: u32): u32 {
  let c: u32 = 0;
  for (let i: u32 = 0; i < nfx; i++) if (fx(i, 0) == type) c++;
  return c;
}

/** Index of the nth effect of this type among the last nfx, or -1. */
export function findFx(type: u32, nth: u32 = 0): i32 {
  let c: u32 = 0;
  for (let i: u32 = 0; i < nfx; i++) {
    if (fx(i, 0) == type) { if (c == nth) return <i32>i; c++; }
  }
  return -1;
}

/** Writes bytes into the staging area at off: b, b+1, ... */
export function stageFill(off: u32, len: u32, b: u8): void {
  for (let i: u32 = 0; i < len; i++) store<u8>(stagePtr() + off + i, <u8>(b + <u8>i));
}

/** Compares len bytes at ptr with the pattern stageFill(.., b) wrote. */
export function bytesAre(ptr: usize, len: u32, b: u8): bool {
  for (let i: u32 = 0; i < len; i++) if (load<u8>(ptr + i) != <u8>(b + <u8>i)) return false;
  return true;
}

/** Puts every process back to FREE, leaves guarded operation and zeroes the globals. */
export function resetAll(): void {
  S.setGuarded(0);
  S.setRecovering(0);
  S.setSuppress(0, 0);
  S.setEpoch(0);
  setLastS(0, 0);
  S.resetCounters();
  for (let pid: u32 = 0; pid < S.maxProcs; pid++) {
    setRole(pid, ROLE_FREE);
    const p = S.procAt(pid);
    p.delivered = 0; p.ckptsTaken = 0; p.logged = 0; p.atPassed = 0; p.atFailed = 0;
    p.rollbacks = 0; p.lastRollback = 0; p.replayed = 0; p.resent = 0;
  }
  S.beginBatch();
}

const hv1: usize = heap.alloc(VB), hv2: usize = heap.alloc(VB);
/** Two scalar bounds as vectors (component 1; the others 0): for setLast, noteKnown, reclaim. */
export function vecs(v: u32, ve: u32): usize {
  vZero(hv1); vZero(hv2); vSet(hv1, 0, v); vSet(hv2, 0, ve);
  return hv1;
}
/** The second vector vecs() filled. */
export function vecs2(): usize { return hv2; }
export function setLastS(v: u32, ve: u32): void { S.setLast(vecs(v, ve), vecs2()); }
