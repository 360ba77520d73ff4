// Recovery (a coordinator round that fixes one validated bound V), abort and commit.
//
// Round: every core gets EV_RECOVER_BEGIN and answers FX_BOUND with the join of the
// bounds of every passed AT it has seen or made (vectors over the members). The
// coordinator takes the componentwise maximum over all cores: that covers every
// notification still in flight, because its sender counted it. Every core then gets
// EV_RECOVER_APPLY with that V.
import {
  E_BAD_BOUND, E_BAD_EPOCH, E_NOT_GUARDED, E_NOT_RECOVERING, E_PAYLOAD_RANGE, E_RECOVERING, EW_EPOCH,
  FX_BOUND, FX_FREED, FX_RECLAIM, FX_RECOVERED, FX_REPLAY, FX_REPLAY_DROPPED, FX_RESEND, FX_RETIRE,
  FX_ROLE, FX_ROLLBACK, FX_SUPPRESS_NEXT, FX_VOIDED, LOG_EXT, LOG_INT, OK,
  ROLE_HA, ROLE_HS, ROLE_LOW, ROLE_RETIRED, RULES_PAPER,
} from "./constants";
import { Proc } from "./proc";
import { Ring, R_A0, R_A1, R_A2, R_A3, R_FLAGS, R_IDX, R_LEN, R_OFF, R_PEER, R_PORT, R_SEQ } from "./ring";
import {
  emit, epoch, guarded, isLive, knownV, knownVext, maxProcs, procAt, recovering, resetCounters, rules,
  sdwCounter, setEpoch, setGuarded, setLast, setRecovering, setSuppress,
} from "./state";
import { freedBytes, freedCkpts, freedLogs, reclaim } from "./reclaim";
import { boundsExt, boundVecs, LF_DIRTY, LF_INPUT, vecOk } from "./rules";
import { perMember } from "./causal";
import { vecFx, vGet, vLe } from "./vec";

// @ts-ignore: decorator
@inline function w(ev: usize, word: u32): u32 { return load<u32>(ev + <usize>word * 4); }

export function onRecoverBegin(ev: usize): i32 {
  if (!guarded) return E_NOT_GUARDED;
  if (recovering) return E_RECOVERING;
  setRecovering(1);
  emit(FX_BOUND, vGet(knownV, 0), vGet(knownVext, 0), vecFx(knownV), vecFx(knownVext));
  return OK;
}

// Rolls p back to its oldest checkpoint and replays its receiver-side log.
function rollBack(p: Proc, pid: u32, V: usize): usize {
  const target = p.ckpts.oldest();
  const distance = p.delivered - load<u32>(target, R_PEER);
  emit(FX_ROLLBACK, pid, load<u32>(target, R_IDX), load<u32>(target, R_OFF), load<u32>(target, R_LEN), distance);
  p.rollbacks++;
  p.lastRollback = distance;
  p.delivered = load<u32>(target, R_PEER);
  // device messages delivered after the checkpoint will be regenerated: suppress them
  const outBefore = load<u32>(target, R_PORT);
  // (Fewer out than recorded: a message pending at the checkpoint failed its AT.)
  if (p.extOut > outBefore) {
    p.suppressDev += p.extOut - outBefore;
    p.extOut = outBefore;
  }
  const safe = rules != RULES_PAPER;
  const paperShadow = !safe && p.role == ROLE_HS;
  const log = paperShadow ? p.outInt : p.inLog;
  for (let i: u32 = 0; i < log.count; i++) {
    const r = log.at(i);
    const flags = load<u32>(r, R_FLAGS);
    if (paperShadow && (flags & LF_INPUT) == 0) continue;
    const dirty = flags & LF_DIRTY, idx = load<u32>(r, R_IDX), kind = flags >> 8;
    // Safe: a dirty message not <= V is void: its sender rolls back before the send,
    // or a shadow re-sends the old version's twin (docs/protocol.md, gap 2).
    if (safe && dirty != 0 && !vLe(log.vec(r, 0), V)) {
      emit(FX_REPLAY_DROPPED, pid, kind, load<u32>(r, R_PEER), load<u32>(r, R_PORT), dirty, idx);
      continue;
    }
    p.replayed++;
    p.delivered++;
    emit(FX_REPLAY, pid, kind, load<u32>(r, R_PEER), load<u32>(r, R_PORT),
      load<u32>(r, R_OFF), load<u32>(r, R_LEN), dirty, idx);
  }
  return target;
}

// Removes a shadow's outputs logged after its rollback target: contaminated input made them.
function voidAfter(r: Ring, seq: u32): u32 {
  let n: u32 = 0;
  while (r.count > 0 && load<u32>(r.newest(), R_SEQ) >= seq) { r.popBack(); n++; }
  return n;
}

// Re-sends the shadows' logged outputs above the bounds, in generation order.
// Safe: each shadow against its own member's components of V and Vext (causal.ts).
function resendAbove(V: usize, Vext: usize, all: bool): void {
  const multi = perMember(rules == RULES_PAPER);
  // cursors per shadow and log: a k-way merge on the global output sequence
  let last: u32 = 0xFFFFFFFF;
  while (true) {
    let best: usize = 0, bestPid: u32 = 0, bestLog: u32 = 0, bestSeq: u32 = 0xFFFFFFFF;
    for (let pid: u32 = 0; pid < maxProcs; pid++) {
      const p = procAt(pid);
      if (p.role != ROLE_HS) continue;
      for (let l: u32 = LOG_INT; l <= LOG_EXT; l++) {
        const ring = l == LOG_INT ? p.outInt : p.outExt;
        const j = p.slot > 0 ? p.slot - 1 : 0;
        const bound = multi ? vGet(l == LOG_INT ? V : Vext, j) : 0;
        for (let i: u32 = 0; i < ring.count; i++) {
          const r = ring.at(i);
          if ((load<u32>(r, R_FLAGS) & LF_INPUT) != 0) continue;
          const s = load<u32>(r, R_A0);
          if (last != 0xFFFFFFFF && s <= last) continue;
          if (!all && load<u32>(r, R_IDX) <= bound) continue;
          if (s < bestSeq) { best = r; bestPid = pid; bestLog = l; bestSeq = s; }
          break;
        }
      }
    }
    if (best == 0) return;
    last = bestSeq;
    procAt(bestPid).resent++;
    emit(FX_RESEND, bestPid, bestLog, load<u32>(best, R_PEER), load<u32>(best, R_PORT),
      load<u32>(best, R_OFF), load<u32>(best, R_LEN), load<u32>(best, R_IDX));
  }
}

export function onRecoverApply(ev: usize, reason: u32): i32 {
  if (!recovering) return E_NOT_RECOVERING;
  if (!vecOk(ev, 2)) return E_PAYLOAD_RANGE;
  const V = boundVecs(ev), Vext = boundsExt, newEpoch = w(ev, EW_EPOCH);
  if (!vLe(knownV, V) || !vLe(knownVext, Vext)) return E_BAD_BOUND;
  if (newEpoch != epoch + 1) return E_BAD_EPOCH;
  const safe = rules != RULES_PAPER;
  let paperSuppress: u32 = 0, paperResend = false;
  const multi = perMember(!safe);

  for (let pid: u32 = 0; pid < maxProcs; pid++) {
    const p = procAt(pid);
    if (!isLive(p)) continue;
    if (p.role == ROLE_LOW) {
      emit(FX_FREED, pid, p.freeAll());
      p.role = ROLE_RETIRED;
      emit(FX_RETIRE, pid);
      continue;
    }
    if (safe) {
      // Every process reclaims with the same V before deciding to roll back (note 6).
      reclaim(p, V, Vext);
      if (freedCkpts + freedLogs > 0) emit(FX_RECLAIM, pid, freedCkpts, freedLogs, freedBytes, p.dirty);
    }
    // Paper: roll back to the smallest checkpoint if dirty, with what this process knows.
    if (p.ckpts.count > 0) {
      const target = rollBack(p, pid, V);
      if (p.role == ROLE_HS && safe) {
        const vi = voidAfter(p.outInt, load<u32>(target, R_A1));
        const ve = voidAfter(p.outExt, load<u32>(target, R_A2));
        if (vi + ve > 0) emit(FX_VOIDED, pid, vi, ve);
        // Its own output counts as they were at the checkpoint.
        p.sInt = load<u32>(target, R_A3); p.sExt = load<u32>(target, R_FLAGS);
      }
    }
    if (p.role == ROLE_HS && !safe) {
      if (p.iVR < sdwCounter) paperResend = true;
      else if (p.iVR - sdwCounter > paperSuppress) paperSuppress = p.iVR - sdwCounter;
    }
  }

  // Shadows take over.
  let si: u32 = 0, se: u32 = 0;
  if (safe) {
    // Per-member numbering (causal.ts): shadow j resends above V[j], Vext[j] and
    // suppresses up to them. Exact: V[j] counts member j's validated messages, a prefix
    // of its own sequence; Vext[j] its delivered device messages.
    resendAbove(V, Vext, false);
    for (let pid: u32 = 0; pid < maxProcs; pid++) {
      const p = procAt(pid);
      if (p.role != ROLE_HS) continue;
      const j = p.slot > 0 ? p.slot - 1 : 0;
      const vi = vGet(V, j), ve = vGet(Vext, j);
      p.supInt = vi > p.sInt ? vi - p.sInt : 0;
      p.supExt = ve > p.sExt ? ve - p.sExt : 0;
      si += p.supInt; se += p.supExt;
    }
  } else {
    if (paperResend) resendAbove(V, Vext, true);
    si = paperSuppress;
  }
  setSuppress(multi ? 0 : si, multi ? 0 : se); // per-member: per process (p.supInt, p.supExt)

  for (let pid: u32 = 0; pid < maxProcs; pid++) {
    const p = procAt(pid);
    if (!isLive(p)) continue;
    if (p.role == ROLE_HS) {
      p.role = ROLE_HA;
      p.fromShadow = 1;
      emit(FX_ROLE, pid, ROLE_HA);
    }
    const b = p.freeAll();
    if (b > 0) emit(FX_FREED, pid, b);
    p.resetCounters();
  }
  resetCounters();
  setGuarded(0);
  setRecovering(0);
  setEpoch(newEpoch);
  setLast(V, Vext);
  emit(FX_SUPPRESS_NEXT, si, se);
  // (The last word, inexact, is 0: with one sequence per member the mapping is the identity.)
  emit(FX_RECOVERED, vGet(V, 0), vGet(Vext, 0), newEpoch, reason, 0);
  return OK;
}

export function onCommit(): i32 {
  if (!guarded) return E_NOT_GUARDED;
  if (recovering) return E_RECOVERING;
  for (let pid: u32 = 0; pid < maxProcs; pid++) {
    const p = procAt(pid);
    if (!isLive(p)) continue;
    const b = p.freeAll();
    emit(FX_FREED, pid, b);
    if (p.role == ROLE_HS) { p.role = ROLE_RETIRED; emit(FX_RETIRE, pid); }
    else if (p.role == ROLE_LOW) { p.role = ROLE_HA; emit(FX_ROLE, pid, ROLE_HA); }
    const pending = p.pendingAt;
    p.resetCounters();
    p.pendingAt = pending;
  }
  resetCounters();
  setGuarded(0);
  return OK;
}

