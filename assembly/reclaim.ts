// Memory reclamation on a passed AT (a process's own, or a notification).
import { Proc } from "./proc";
import { R_A0, R_IDX, R_IDX2, R_SEQ } from "./ring";
import { ROLE_HS, RULES_FOLDED, RULES_PAPER } from "./constants";
import { rules } from "./state";
import { knownExtOf, knownIntOf, perMember } from "./causal";

export let freedCkpts: u32 = 0;
export let freedLogs: u32 = 0;
export let freedBytes: u32 = 0;

// Drops what a passed AT with bounds (v, vext) makes unnecessary; sets the dirty bit.
export function reclaim(p: Proc, v: u32, vext: u32): void {
  freedCkpts = 0; freedLogs = 0; freedBytes = 0;
  const ck = p.ckpts;
  // 'folded' keys each checkpoint by the highest index folded into its interval.
  const key: usize = rules == RULES_FOLDED ? R_IDX2 : R_IDX;
  const fixed = rules != RULES_PAPER;
  while (ck.count > 0 && load<u32>(ck.oldest() + key) <= v) {
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
    while (inl.count > 0 && load<u32>(inl.oldest(), R_IDX) <= v) {
      freedBytes += inl.popFront(); freedLogs++;
    }
  }
  if (p.role == ROLE_HS) {
    if (v > p.iVR) p.iVR = v;
    if (vext > p.iVRext) p.iVRext = vext;
    // Paper: both shadow logs are indexed by int_mSN_G^high_sdw and reclaimed by v.
    // Otherwise each shadow numbers its own outputs: reclaim by its twin's validated
    // counts (causal.ts), which the pass that validated v recorded.
    const multi = perMember(!fixed);
    const intBound = multi ? knownIntOf(p.slot) : p.iVR;
    const extBound = multi ? knownExtOf(p.slot) : (fixed ? p.iVRext : p.iVR);
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
