// Memory reclamation on a passed AT (a process's own, or a notification).
// Bounds are vectors over the members (vec.ts): "validated by V" is componentwise.
import { Proc } from "./proc";
import { R_A0, R_IDX, R_SEQ } from "./ring";
import { ROLE_HS, RULES_FOLDED, RULES_PAPER } from "./constants";
import { rules } from "./state";
import { vGet, vLe, vSum } from "./vec";

export let freedCkpts: u32 = 0;
export let freedLogs: u32 = 0;
export let freedBytes: u32 = 0;

// Drops what a passed AT with bounds (v, vext) makes unnecessary; sets the dirty bit.
export function reclaim(p: Proc, v: usize, vext: usize): void {
  freedCkpts = 0; freedLogs = 0; freedBytes = 0;
  const ck = p.ckpts;
  // 'folded' keys each checkpoint by the highest index folded into its interval (c2).
  // The keys are non-decreasing in ring order, so those <= v are a prefix.
  const key: u32 = rules == RULES_FOLDED ? 1 : 0;
  const fixed = rules != RULES_PAPER;
  while (ck.count > 0 && vLe(ck.vec(ck.oldest(), key), v)) {
    freedBytes += ck.popFront(); freedCkpts++;
  }
  const inl = p.inLog;
  if (fixed) {
    // Inputs logged before the oldest remaining checkpoint can never be replayed.
    if (ck.count == 0) {
      freedLogs += inl.count; freedBytes += inl.clear();
    } else {
      const from = load<u32>(ck.oldest(), R_A0);
      while (inl.count > 0 && load<u32>(inl.oldest(), R_SEQ) < from) {
        freedBytes += inl.popFront(); freedLogs++;
      }
    }
  } else {
    // Figure 3: delete entries whose index (the logger's int_mSN_G^low) is <= v.
    while (inl.count > 0 && vLe(inl.vec(inl.oldest(), 0), v)) {
      freedBytes += inl.popFront(); freedLogs++;
    }
  }
  if (p.role == ROLE_HS) {
    // Paper: both shadow logs are indexed by int_mSN_G^high_sdw and reclaimed by iVR, the
    // cluster's shared count (a vector's sum: every member's count). Otherwise each shadow
    // numbers its own outputs: reclaim by its own member's components.
    const j = p.slot > 0 ? p.slot - 1 : 0;
    const bi = fixed ? vGet(v, j) : vSum(v);
    const be = fixed ? vGet(vext, j) : vSum(vext);
    if (bi > p.iVR) p.iVR = bi;
    if (be > p.iVRext) p.iVRext = be;
    const intBound = p.iVR;
    const extBound = fixed ? p.iVRext : p.iVR;
    const oi = p.outInt;
    while (oi.count > 0 && load<u32>(oi.oldest(), R_IDX) <= intBound) {
      freedBytes += oi.popFront(); freedLogs++;
    }
    const oe = p.outExt;
    while (oe.count > 0 && load<u32>(oe.oldest(), R_IDX) <= extBound) {
      freedBytes += oe.popFront(); freedLogs++;
    }
  }
  p.dirty = ck.count >= 1 ? 1 : 0;
}
