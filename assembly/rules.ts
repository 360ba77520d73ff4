// The send and receive rules of Figures 2-4, for P^low, P^ha and P^hs,
// under the printed rules (RULES_PAPER) or the fixed ones (RULES_SAFE).
// Each handler validates the whole event first; a refused event changes nothing.
import {
  DROP_STALE_CONTAMINATED, DROP_STALE_NOTICE, E_AT_PENDING, E_BAD_DIRTY, E_BAD_EPOCH, E_BAD_KIND,
  E_BAD_VERDICT, E_CKPT_FULL, E_LOG_FULL, E_NO_PENDING_AT, E_PAYLOAD_RANGE, E_ROLE_RECV, E_ROLE_SEND,
  E_SNAPSHOT_TOO_BIG, EW_DIRTY, EW_EPOCH, EW_INDEX, EW_KIND, EW_PAY_LEN, EW_PAY_OFF, EW_PEER, EW_PORT,
  EW_SNAP, EW_STEP, EW_V, EW_VEXT, EW_VOFF, FX_AT_FAILED, FX_AT_REQUIRED, FX_BROADCAST_PASSED, FX_CHECKPOINT, FX_COUNTER,
  FX_DELIVER, FX_DELIVER_DEVICE, FX_DROP, FX_LOGGED, FX_RECLAIM, FX_SEND, FX_SUPPRESSED, KIND_ACT,
  KIND_DEVICE, KIND_LOW, KIND_SDW, LOG_EXT, LOG_IN, LOG_INT, OK, ROLE_HA, ROLE_HS, ROLE_LOW, RULES_FOLDED, RULES_PAPER, RULES_SAFE,
} from "./constants";
import { Proc } from "./proc";
import { Ring, R_A0, R_A1, R_A2, R_A3, R_FLAGS, R_IDX, R_IDX2, R_OFF, R_PEER, R_PORT } from "./ring";
import {
  bumpLow, bumpLowExt, bumpSdw, bumpSdwExt, emit, epoch, guarded, knownV, knownVext, lastV,
  suppressInt, nextOutSeq, noteKnown, rules, sdwCounter, sdwExt, stage, stageCap, takeSuppressExt, takeSuppressInt,
} from "./state";
import { freedBytes, freedCkpts, freedLogs, reclaim } from "./reclaim";
import { members, mergeLink, noteActSend, notePass, perMember, sentOf, stepOut } from "./causal";
import { VB, vCopy, vecFx, vGet, vJoin, vLe, vSet, vt, vx, vy, vZero } from "./vec";

// flag bits kept in a log record's R_FLAGS
export const LF_DIRTY: u32 = 1;
export const LF_INPUT: u32 = 2;   // paper mode: a shadow's logged input, kept in int_msg_log

// @ts-ignore: decorator
@inline function w(ev: usize, word: u32): u32 { return load<u32>(ev + <usize>word * 4); }

function payloadOk(ev: usize): bool {
  const off = w(ev, EW_PAY_OFF), len = w(ev, EW_PAY_LEN);
  return off <= stageCap && len <= stageCap - off;
}

/** The event's vectors (n of them) lie inside the staging area, or it gave none. */
export function vecOk(ev: usize, n: u32): bool {
  const o = w(ev, EW_VOFF);
  return o == 0 || (o - 1 <= stageCap && n * VB <= stageCap - (o - 1));
}

/** The event's message vector: its own, or vx with component 1 = EW_INDEX. */
function msgVec(ev: usize): usize {
  const o = w(ev, EW_VOFF);
  if (o != 0) return stage + <usize>(o - 1);
  vZero(vx);
  vSet(vx, 0, w(ev, EW_INDEX));
  return vx;
}

/** The event's bound vectors (V at the result, Vext at boundsExt): its own, or vx, vy from EW_V, EW_VEXT. */
export let boundsExt: usize = 0;
export function boundVecs(ev: usize): usize {
  const o = w(ev, EW_VOFF);
  if (o != 0) { boundsExt = stage + <usize>(o - 1) + VB; return stage + <usize>(o - 1); }
  vZero(vx); vZero(vy);
  vSet(vx, 0, w(ev, EW_V));
  vSet(vy, 0, w(ev, EW_VEXT));
  boundsExt = vy;
  return vx;
}

/** The paper's reading of the shared counter: every member's count, as a vector (co-located). */
function allSent(dst: usize): void {
  vZero(dst);
  for (let j: u32 = 1; j <= members; j++) vSet(dst, j - 1, sentOf(j));
}

// Appends the event's payload to a log; returns the record or 0 when the log is full.
function logPayload(r: Ring, ev: usize, idx: u32, flags: u32): usize {
  const len = w(ev, EW_PAY_LEN);
  const rec = r.push(len);
  if (rec == 0) return 0;
  memory.copy(<usize>load<u32>(rec, R_OFF), stage + <usize>w(ev, EW_PAY_OFF), len);
  store<u32>(rec, idx, R_IDX);
  store<u32>(rec, flags, R_FLAGS);
  store<u32>(rec, w(ev, EW_PEER), R_PEER);
  store<u32>(rec, w(ev, EW_PORT), R_PORT);
  return rec;
}

// ---- sending -----------------------------------------------------------------
export function onSend(p: Proc, pid: u32, ev: usize, evi: u32): i32 {
  const kind = w(ev, EW_KIND);
  if (kind < KIND_ACT || kind > KIND_DEVICE) return E_BAD_KIND;
  if (!payloadOk(ev)) return E_PAYLOAD_RANGE;
  const role = p.role;
  if (role == ROLE_LOW) {
    if (kind == KIND_SDW) return E_ROLE_SEND;
    if (kind == KIND_DEVICE && p.pendingAt) return E_AT_PENDING;
    // (Nothing below refuses: the causal state may change now.)
    if (rules != RULES_PAPER && guarded) stepOut(p, w(ev, EW_STEP));
    if (kind == KIND_DEVICE) {
      p.pendingAt = 1;
      // A pass validates what the output's state depends on, fixed now, not at the verdict.
      // Paper: every cluster send so far (the shared counter, read as every member's
      // count). Otherwise: the cluster sends in this member's causal past (causal.ts).
      if (rules == RULES_PAPER) allSent(p.atv);
      else { vCopy(p.atv, knownV); vJoin(p.atv, p.cv); }
      emit(FX_AT_REQUIRED, pid, evi); // P^low's dirty bit is constantly 1
      return OK;
    }
    if (kind == KIND_ACT) {
      // Its own sequence: the message's index is (slot, k).
      const k = noteActSend(p);
      bumpLow();
      emit(FX_COUNTER, 0, k);
      vZero(vt);
      vSet(vt, p.slot - 1, k);
      emit(FX_SEND, pid, evi, 1, k, epoch & 15, vecFx(vt));
      return OK;
    }
    // To another member: the header carries the sender's causal vector (paper: every
    // member's count, which a member does not read).
    if (rules == RULES_PAPER) allSent(vt); else vCopy(vt, p.cv);
    emit(FX_SEND, pid, evi, 1, vGet(vt, 0), epoch & 15, vecFx(vt));
    return OK;
  }
  if (role == ROLE_HS) {
    if (kind == KIND_LOW) return E_ROLE_SEND;
    if (kind == KIND_SDW) { emit(FX_SEND, pid, evi, p.dirty, vGet(p.lv, 0), epoch & 15, vecFx(p.lv)); return OK; }
    // Suppressed: logged by the sender, indexed by the shadows' own counters.
    // Paper: one shared counter for all shadows. Otherwise each shadow numbers its own
    // outputs, the twins of its new version's (causal.ts, per-member numbering).
    // (With one member the two numberings are the same.)
    const safe = rules != RULES_PAPER;
    const multi = perMember(!safe);
    if (kind == KIND_ACT) {
      const rec = logPayload(p.outInt, ev, multi ? p.sInt + 1 : sdwCounter + 1, 0);
      if (rec == 0) return E_LOG_FULL;
      store<u32>(rec, nextOutSeq(), R_A0);
      const idx = bumpSdw();
      p.sInt++;
      emit(FX_COUNTER, 1, idx);
      emit(FX_SUPPRESSED, pid, evi, LOG_INT, multi ? p.sInt : idx);
    } else {
      // Paper: the external log is indexed by int_mSN_G^high_sdw too.
      const rec = logPayload(p.outExt, ev, multi ? p.sExt + 1 : (safe ? sdwExt + 1 : sdwCounter), 0);
      if (rec == 0) return E_LOG_FULL;
      store<u32>(rec, nextOutSeq(), R_A0);
      let idx = sdwCounter;
      p.sExt++;
      if (safe) { idx = bumpSdwExt(); emit(FX_COUNTER, 2, idx); }
      if (multi) idx = p.sExt;
      emit(FX_SUPPRESSED, pid, evi, LOG_EXT, idx);
    }
    p.logged++;
    return OK;
  }
  // ROLE_HA
  if (kind == KIND_SDW) {
    // After takeover, an old version's message to another old version (the old interface,
    // shadow-internal before): its twin was never a message to G_act, so it is not one of
    // the outputs to suppress (gen-402, seed 316080123).
    if (guarded || !p.fromShadow) return E_ROLE_SEND;
    emit(FX_SEND, pid, evi, p.dirty, vGet(p.lv, 0), epoch & 15, vecFx(p.lv));
    return OK;
  }
  if (kind == KIND_LOW && !guarded) return E_ROLE_SEND;
  if (kind == KIND_DEVICE) {
    if (p.dirty) {
      if (p.pendingAt) return E_AT_PENDING;
      p.pendingAt = 1;
      vCopy(p.atv, p.lv);
      emit(FX_AT_REQUIRED, pid, evi);
    } else if (p.suppressDev > 0) {
      // Output commit: a device never sees a message twice. After a rollback the
      // process regenerates the device messages it had already delivered (same
      // validated inputs, piecewise determinism): suppress exactly those.
      p.suppressDev--;
      p.extOut++;
      emit(FX_SUPPRESSED, pid, evi, LOG_EXT, 0);
    } else if (p.fromShadow && p.supExt > 0) {
      p.supExt--; // per-member numbering: its twin's device message was validated and delivered
      emit(FX_SUPPRESSED, pid, evi, LOG_EXT, 0);
    } else if (p.fromShadow && (takeSuppressExt() || (rules == RULES_PAPER && suppressInt > 0))) {
      // Paper, Section 3.2: suppress internal and external outputs until the int counter reaches iVR.
      emit(FX_SUPPRESSED, pid, evi, LOG_EXT, 0);
    } else {
      p.extOut++;
      emit(FX_DELIVER_DEVICE, pid, evi);
    }
    return OK;
  }
  if (kind == KIND_ACT) {
    if (p.fromShadow && p.supInt > 0) { p.supInt--; emit(FX_SUPPRESSED, pid, evi, LOG_INT, 0); return OK; }
    if (p.fromShadow && takeSuppressInt()) { emit(FX_SUPPRESSED, pid, evi, LOG_INT, 0); return OK; }
    p.prgt = p.dirty; // "propagating out"
  }
  emit(FX_SEND, pid, evi, p.dirty, vGet(p.lv, 0), epoch & 15, vecFx(p.lv));
  return OK;
}

// ---- receiving ---------------------------------------------------------------
export function onRecv(p: Proc, pid: u32, ev: usize, evi: u32): i32 {
  const kind = w(ev, EW_KIND);
  if (kind < KIND_ACT || kind > KIND_DEVICE) return E_BAD_KIND;
  if (!payloadOk(ev)) return E_PAYLOAD_RANGE;
  if (!vecOk(ev, 1)) return E_PAYLOAD_RANGE;
  const mDirty = w(ev, EW_DIRTY);
  if (mDirty > 1) return E_BAD_DIRTY;
  const x = msgVec(ev); // the message's index: a vector over the members
  const age = (epoch - w(ev, EW_EPOCH)) & 15;
  if (age > 8) return E_BAD_EPOCH;
  const role = p.role;
  if (role == ROLE_LOW && kind == KIND_SDW) return E_ROLE_RECV;
  if (role == ROLE_HS && kind == KIND_LOW) return E_ROLE_RECV;
  if (role == ROLE_HA && (kind == KIND_SDW || (kind == KIND_LOW && !guarded))) {
    if (age == 0) return E_ROLE_RECV;
  }
  const fromDevice = kind == KIND_DEVICE;
  const dirty = fromDevice ? 0 : mDirty;

  if (age != 0) {
    // Sent before the last recovery. Its sender kept the send iff it was clean or
    // its index is covered by V; otherwise the sender rolled back before it (or a
    // shadow re-sends its twin). The printed rules have no such rule.
    if (rules != RULES_PAPER && dirty == 1 && !vLe(x, lastV)) {
      emit(FX_DROP, pid, evi, DROP_STALE_CONTAMINATED);
      return OK;
    }
    p.delivered++;
    emit(FX_DELIVER, pid, evi);
    return OK;
  }
  if (!guarded || role == ROLE_LOW) {
    if (guarded && rules != RULES_PAPER) {
      // A member learns the causal past of what it receives (causal.ts).
      // From G_act: nothing. Its index is the sender's local int_mSN_G^low, the highest
      // it has received, which counts what it holds for later steps too; it says nothing
      // sound about what the message depends on (gen-70, seed 2111588561).
      if (kind == KIND_LOW) mergeLink(p, x, w(ev, EW_STEP));
    }
    p.delivered++;
    emit(FX_DELIVER, pid, evi);
    return OK;
  }

  const safe = rules != RULES_PAPER; // the gap-2 logging and replay rules
  // S1 / S2. Figure 4 (shadows) has no prgt condition; the safe rules checkpoint
  // on every rise of contamination (docs/protocol.md, gap 1).
  const rises = !vLe(x, p.lv);   // some component rises above the local vector
  let takeCkpt = dirty == 1 && rises;
  if (takeCkpt && rules != RULES_SAFE && role == ROLE_HA) takeCkpt = p.dirty == 0 || p.prgt == 1;
  // Receiver-side logging: the paper logs clean messages reaching a dirty process;
  // the safe rules log everything received while dirty, with its tags (gap 2).
  // Safe: a checkpoint's own trigger is never replayed: rollback targets the oldest
  // checkpoint above V, so every trigger at or after it is above V too. Folded: a
  // checkpoint survives a pass when a higher index folded into its interval, so
  // recovery can roll back to a checkpoint whose trigger is <= V: log the trigger
  // (after the checkpoint, so it is replayed, or dropped when above V).
  // Vectors (members on several boards): a checkpoint's index is c = L ⊔ x. When the local
  // vector L is not below the trigger x, a later checkpoint's trigger can be validated
  // (x <= V) while its checkpoint is not (c ≰ V through L): a rollback to an older
  // checkpoint must then replay it, so safe logs such a trigger too. (With one member
  // L < x at every checkpoint: nothing changes. The rollback target's own trigger is
  // never <= V: everything before it is.)
  const trigLog = rules == RULES_SAFE && takeCkpt && !vLe(p.lv, x);
  const logIt = rules == RULES_FOLDED ? (takeCkpt || p.dirty == 1) : (trigLog || (!takeCkpt && p.dirty == 1 && (safe || dirty == 0)));
  const paperShadow = !safe && role == ROLE_HS;
  const logRing = paperShadow ? p.outInt : p.inLog;

  let ck: usize = 0;
  if (takeCkpt) {
    const snap = w(ev, EW_SNAP);
    if (alenOk(p.ckpts, snap) == false) return E_SNAPSHOT_TOO_BIG;
    ck = p.ckpts.push(snap);
    if (ck == 0) return E_CKPT_FULL;
    // its index: the local vector after the trigger (c), and the highest folded so far (c2)
    const c = p.ckpts.vec(ck, 0);
    vCopy(c, p.lv); vJoin(c, x);
    vCopy(p.ckpts.vec(ck, 1), c);
    store<u32>(ck, vGet(c, 0), R_IDX);
    store<u32>(ck, vGet(c, 0), R_IDX2);
    store<u32>(ck, p.inLog.nextSeq, R_A0);
    store<u32>(ck, p.outInt.nextSeq, R_A1);
    store<u32>(ck, p.outExt.nextSeq, R_A2);
    const own = role == ROLE_HS && perMember(!safe);
    store<u32>(ck, own ? p.sInt : sdwCounter, R_A3);
    store<u32>(ck, own ? p.sExt : sdwExt, R_FLAGS);
    store<u32>(ck, p.delivered, R_PEER);
    // Device messages out before this checkpoint, counting one whose AT is still pending:
    // it was produced before the checkpoint, so re-execution from here does not make it again.
    store<u32>(ck, p.extOut + p.pendingAt, R_PORT);
  }
  if (logIt) {
    // Safe: the message's own tags. Paper: the logger's local int_mSN_G^low (its vector)
    // or, at a shadow, the shadows' counter (that log keeps no vectors).
    const idx = safe ? vGet(x, 0) : (paperShadow ? sdwCounter : vGet(p.lv, 0));
    const flags = (dirty ? LF_DIRTY : 0) | (paperShadow ? LF_INPUT : 0) | (kind << 8);
    const rec = logPayload(logRing, ev, idx, flags);
    if (rec == 0) {
      if (ck != 0) p.ckpts.popBack();
      return E_LOG_FULL;
    }
    if (!paperShadow) vCopy(logRing.vec(rec, 0), safe ? x : p.lv);
  }
  // Commit the decision.
  if (takeCkpt) {
    p.ckptsTaken++;
    emit(FX_CHECKPOINT, pid, load<u32>(ck, R_IDX), <u32>load<u32>(ck, R_OFF), w(ev, EW_SNAP), vecFx(p.ckpts.vec(ck, 0)));
    p.dirty = 1;
    if (role == ROLE_HA) p.prgt = kind != KIND_LOW ? 1 : 0; // "propagating in"
  } else if (dirty == 1 && p.dirty == 1 && rises) {
    // Folded into the current interval without a checkpoint (paper S2 with prgt = 0).
    const last = p.ckpts.newest();
    const c2 = p.ckpts.vec(last, 1);
    vJoin(c2, x);
    store<u32>(last, vGet(c2, 0), R_IDX2);
  }
  if (logIt) {
    p.logged++;
    emit(FX_LOGGED, pid, paperShadow ? LOG_INT : LOG_IN, safe ? vGet(x, 0) : (paperShadow ? sdwCounter : vGet(p.lv, 0)), w(ev, EW_PAY_LEN));
  }
  if (!fromDevice) vJoin(p.lv, x);
  p.delivered++;
  emit(FX_DELIVER, pid, evi);
  return OK;
}

function alenOk(r: Ring, n: u32): bool { return n <= r.byteCap; }

// ---- a "passed AT" notification from another process -------------------------
export function onPassedAt(p: Proc, pid: u32, ev: usize, evi: u32): i32 {
  const age = (epoch - w(ev, EW_EPOCH)) & 15;
  if (age > 8) return E_BAD_EPOCH;
  if (p.role == ROLE_LOW) return E_ROLE_RECV;
  if (!vecOk(ev, 2)) return E_PAYLOAD_RANGE;
  if (age != 0 || !guarded) { emit(FX_DROP, pid, evi, DROP_STALE_NOTICE); return OK; }
  const v = boundVecs(ev), ve = boundsExt;
  noteKnown(v, ve);
  reclaim(p, v, ve);
  emit(FX_RECLAIM, pid, freedCkpts, freedLogs, freedBytes, p.dirty);
  return OK;
}

// ---- the verdict of an AT the host ran on an external message ------------------
export function onAtResult(p: Proc, pid: u32, ev: usize, evi: u32): i32 {
  if (!p.pendingAt) return E_NO_PENDING_AT;
  const verdict = w(ev, EW_V);
  if (verdict > 1) return E_BAD_VERDICT;
  p.pendingAt = 0;
  if (verdict == 0) {
    p.atFailed++;
    emit(FX_AT_FAILED, pid, evi);
    return OK;
  }
  p.atPassed++;
  if (p.role == ROLE_LOW) {
    // Its own count of passed device messages (E_j); Q = what is known ⊔ it.
    const e = notePass(p);
    bumpLowExt();
    emit(FX_COUNTER, 3, e);
    emit(FX_DELIVER_DEVICE, pid, evi);
    vCopy(vt, knownVext);
    if (vGet(vt, p.slot - 1) < e) vSet(vt, p.slot - 1, e);
    noteKnown(p.atv, vt);
    emit(FX_BROADCAST_PASSED, pid, vGet(p.atv, 0), vGet(vt, 0), epoch & 15, vecFx(p.atv), vecFx(vt));
    return OK;
  }
  if (rules != RULES_PAPER) {
    // Safe (and folded): an active process's pass validates nothing. Its output need not reflect
    // every message it holds (a component that joins inputs buffers a later step's
    // input while it emits an earlier step), so a pass proves nothing about indexes
    // its output did not use (docs/protocol.md, gap 4). The message goes out; the
    // process stays dirty until a cluster pass covers its checkpoints.
    p.extOut++;
    emit(FX_DELIVER_DEVICE, pid, evi);
    return OK;
  }
  // P^ha (printed rules): its own pass validates its state as it was when it
  // produced the message: everything up to its local int_mSN_G^low at that time.
  vZero(vt);
  reclaim(p, p.atv, vt);
  emit(FX_RECLAIM, pid, freedCkpts, freedLogs, freedBytes, p.dirty);
  p.extOut++;
  emit(FX_DELIVER_DEVICE, pid, evi);
  noteKnown(p.atv, vt);
  emit(FX_BROADCAST_PASSED, pid, vGet(p.atv, 0), 0, epoch & 15, vecFx(p.atv), vecFx(vt));
  return OK;
}

// Error compensation succeeded: the host delivered a substitute (docs/protocol.md,
// point 5). The process stays dirty; nothing is validated by a substitute.
export let compensations: u32 = 0;
export function onCompensated(p: Proc, pid: u32, ev: usize, evi: u32): i32 {
  compensations++;
  return OK;
}
