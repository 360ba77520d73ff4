// The core's ABI: flat and numeric. The host writes events into the event
// buffer and payload bytes into the staging area, calls step(n) once, and
// reads effects back. host/core/ is the only code that knows this layout.
import {
  E_BAD_CONFIG, E_BAD_EPOCH, E_BAD_ROLE, E_GUARDED, E_NOT_GUARDED, E_RECOVERING, E_RETIRED, E_UNKNOWN_EVENT,
  E_UNKNOWN_PID, EV_ABORT, EV_AT_RESULT, EV_COMMIT, EV_COMPENSATED, EV_PASSED_AT, EV_RECOVER_APPLY,
  EV_RECOVER_BEGIN, EV_RECV, EV_SEND, EVENT_WORDS, EW_PID, EW_SNAP, OK, REASON_ABORT, REASON_FAULT,
  ROLE_FREE, ROLE_HA, ROLE_HS, ROLE_LOW, ROLE_RETIRED, RULES_PAPER,
} from "./constants";
import * as S from "./state";
import { Proc } from "./proc";
import { R_IDX, R_IDX2, R_LEN, R_OFF, R_FLAGS, R_SEQ, Ring, alen } from "./ring";
import { onAtResult, onCompensated, onPassedAt, onRecv, onSend } from "./rules";
import { onCommit, onRecoverApply, onRecoverBegin } from "./recovery";
import * as C from "./codec";

import { assignSlot, causalBytes, causalReset, cvAt, MAXM, passedOf, sentOf } from "./causal";
import { VB, vGet } from "./vec";

let lastConsumed: u32 = 0;
let vbuf: usize = 0;       // vector codec buffer: P at 0, Q at 64, encoded bytes from 128 (docs/wire.md "Vectors")
let lastStatus: i32 = 0;
let logRecsCfg: u32 = 0;

// Sets up every buffer. Called once; the core allocates nothing afterwards.
export function init(rules: u32, procs: u32, events: u32, stageBytes: u32, effects: u32,
                     ckptRecs: u32, ckptBytes: u32, logRecs: u32, logBytes: u32): i32 {
  if (S.procTable != 0) return E_BAD_CONFIG;
  if (rules > 2 || procs == 0 || procs > 1024 || events == 0 || ckptRecs == 0 || logRecs == 0) return E_BAD_CONFIG;
  // A recovery emits up to one effect per log record of every process; size for it.
  const need = procs * (3 * logRecs + 8) + 16;
  // Grow memory once to what init allocates, so the allocator never doubles it.
  const fx = effects > need ? effects : need;
  const bytes: u64 = <u64>procs * (<u64>ckptBytes + 3 * <u64>logBytes + 48 * (<u64>ckptRecs + 3 * <u64>logRecs) + 1024)
    + <u64>stageBytes + 64 * (<u64>events + <u64>fx) + <u64>causalBytes(procs) + 65536
    + <u64>VB * (<u64>procs * (2 * <u64>ckptRecs + <u64>logRecs + 2) + 4 * <u64>events + 16);
  const pages = <i32>((bytes + <u64>heap.alloc(0) + 65535) >> 16) - memory.size();
  if (pages > 0 && memory.grow(pages) < 0) return E_BAD_CONFIG;
  S.init(rules, procs, events, stageBytes, effects > need ? effects : need,
    ckptRecs, ckptBytes, logRecs, logBytes);
  logRecsCfg = logRecs;
  vbuf = heap.alloc(512);
  return OK;
}

export function eventsPtr(): usize { return S.evBuf; }
export function effectsPtr(): usize { return S.fxBuf; }
export function stagePtr(): usize { return S.stage; }
export function scratchPtr(): usize { return S.scratch; }
export function eventCapacity(): u32 { return S.evCap; }
export function effectCapacity(): u32 { return S.fxCap; }
export function stageCapacity(): u32 { return S.stageCap; }
export function consumed(): u32 { return lastConsumed; }
export function status(): i32 { return lastStatus; }
// Fixed memory: everything the core allocated at init, and the linear memory size.
export function fixedBytes(): u32 { return <u32>S.heapEnd; }
export function memoryBytes(): u32 { return <u32>memory.size() << 16; }

function worstCase(type: u32): u32 {
  if (type == EV_RECOVER_APPLY || type == EV_ABORT) return S.maxProcs * (3 * logRecsCfg + 8) + 16;
  if (type == EV_COMMIT) return S.maxProcs * 3;
  return 6;
}

function dispatch(ev: usize, i: u32): i32 {
  const type = load<u32>(ev);
  if (type == EV_RECOVER_BEGIN) return onRecoverBegin(ev);
  if (type == EV_RECOVER_APPLY) return onRecoverApply(ev, REASON_FAULT);
  if (type == EV_ABORT) return onRecoverApply(ev, REASON_ABORT);
  if (type == EV_COMMIT) return onCommit();
  if (type < EV_SEND || type > EV_COMPENSATED) return E_UNKNOWN_EVENT;
  if (S.recovering) return E_RECOVERING;
  const pid = load<u32>(ev, EW_PID * 4);
  const p = S.lookup(pid);
  if (p === null) return E_UNKNOWN_PID;
  if (p.role == ROLE_RETIRED) return E_RETIRED;
  if (type == EV_SEND) return onSend(p, pid, ev, i);
  if (type == EV_RECV) return onRecv(p, pid, ev, i);
  if (type == EV_PASSED_AT) return onPassedAt(p, pid, ev, i);
  if (type == EV_AT_RESULT) return onAtResult(p, pid, ev, i);
  return onCompensated(p, pid, ev, i);
}

// Runs events [0, n) of the event buffer. Returns the number of effects written.
// consumed() tells how many events ran; when it is short of n, status() is 0 if
// the effect buffer filled (drain and resubmit the rest) or the refusal of event
// consumed() (which changed nothing).
export function step(n: u32): u32 {
  S.beginBatch();
  lastStatus = OK;
  let i: u32 = 0;
  if (n > S.evCap) n = S.evCap;
  for (; i < n; i++) {
    const ev = S.evBuf + <usize>i * EVENT_WORDS * 4;
    if (S.fxRoom() < worstCase(load<u32>(ev))) break;
    const st = dispatch(ev, i);
    if (st < 0) { lastStatus = st; break; }
  }
  lastConsumed = i;
  return S.fxCount;
}

// ---- configuration (between guarded operations) -------------------------------
export function setRole(pid: u32, role: u32): i32 {
  if (pid >= S.maxProcs) return E_UNKNOWN_PID;
  if (S.guarded) return E_GUARDED;
  if (role != ROLE_FREE && role != ROLE_HA && role != ROLE_LOW && role != ROLE_HS) return E_BAD_ROLE;
  const p = S.procAt(pid);
  p.freeAll();
  p.resetCounters();
  p.fromShadow = 0;
  p.extOut = 0;
  p.suppressDev = 0;
  p.supInt = 0; p.supExt = 0;
  p.twin = 0;
  p.wantSlot = 0;
  p.role = role;
  return OK;
}

// Names a cluster member's slot (1..16): its position in the plan's cluster list, the
// same on every board (docs/protocol.md point 4). Between guarded operations; members
// given no slot take the next free ones in pid order.
export function setSlot(pid: u32, slot: u32): i32 {
  if (pid >= S.maxProcs) return E_UNKNOWN_PID;
  if (S.guarded) return E_GUARDED;
  const p = S.procAt(pid);
  if (p.role != ROLE_LOW) return E_BAD_ROLE;
  if (slot == 0 || slot > MAXM) return E_BAD_CONFIG;
  p.wantSlot = slot;
  return OK;
}

// Names a shadow's new version (its twin): pid hs, twin low. Between guarded operations.
export function setTwin(pid: u32, twin: u32): i32 {
  if (pid >= S.maxProcs || twin >= S.maxProcs) return E_UNKNOWN_PID;
  if (S.guarded) return E_GUARDED;
  const p = S.procAt(pid);
  if (p.role != ROLE_HS || S.procAt(twin).role != ROLE_LOW) return E_BAD_ROLE;
  p.twin = twin + 1;
  return OK;
}

// Starts guarded operation with the roles set; the counters start at zero.
export function beginGuarded(): i32 {
  if (S.guarded) return E_GUARDED;
  if (S.recovering) return E_RECOVERING;
  let low: u32 = 0;
  let named: u32 = 0; // slots the host named, as a bit set: each at most once
  for (let pid: u32 = 0; pid < S.maxProcs; pid++) {
    const p = S.procAt(pid);
    if (p.role != ROLE_LOW) continue;
    low++;
    if (p.wantSlot > 0) {
      if ((named & (1 << (p.wantSlot - 1))) != 0) return E_BAD_CONFIG; // two members, one slot
      named |= 1 << (p.wantSlot - 1);
    }
  }
  if (low > MAXM) return E_BAD_CONFIG; // more cluster members than causal vectors have slots
  S.resetCounters();
  S.setSuppress(0, 0);
  causalReset(S.maxProcs);
  for (let pid: u32 = 0; pid < S.maxProcs; pid++) {
    const p = S.procAt(pid);
    p.fromShadow = 0; p.supInt = 0; p.supExt = 0;
    p.slot = 0;
  }
  // Named slots first, then the others take the lowest free ones, in pid order.
  for (let pid: u32 = 0; pid < S.maxProcs; pid++) {
    const p = S.procAt(pid);
    if (p.role == ROLE_LOW && p.wantSlot > 0) assignSlot(p, pid, p.wantSlot);
  }
  let free: u32 = 1;
  for (let pid: u32 = 0; pid < S.maxProcs; pid++) {
    const p = S.procAt(pid);
    if (p.role != ROLE_LOW || p.wantSlot > 0) continue;
    while ((named & (1 << (free - 1))) != 0) free++;
    if (!assignSlot(p, pid, free)) { causalReset(S.maxProcs); return E_BAD_CONFIG; }
    named |= 1 << (free - 1);
  }
  // A shadow shares its new version's slot (per-member numbering). With one cluster
  // member a shadow without a twin is that member's; with several, setTwin is required.
  for (let pid: u32 = 0; pid < S.maxProcs; pid++) {
    const p = S.procAt(pid);
    if (p.role != ROLE_HS) continue;
    if (p.twin > 0 && S.procAt(p.twin - 1).role == ROLE_LOW) p.slot = S.procAt(p.twin - 1).slot;
    else if (low == 1) {
      for (let q: u32 = 0; q < S.maxProcs; q++) if (S.procAt(q).role == ROLE_LOW) p.slot = S.procAt(q).slot;
    } else if (S.rules != RULES_PAPER) {
      causalReset(S.maxProcs);
      return E_BAD_CONFIG; // a shadow of which member? (setTwin)
    }
  }
  S.setGuarded(1);
  return OK;
}

// A board that restarts resumes the system's recovery epoch (persisted by its host), so
// that its frames are not taken for stale ones; a restarted board that takes part in a
// recovery round with nothing to recover moves to the round's epoch. Only outside
// guarded operation (no protocol state depends on the epoch then), never backwards.
export function resumeEpoch(e: u32): i32 {
  if (S.guarded) return E_GUARDED;
  if (S.recovering) return E_RECOVERING;
  if (e < S.epoch) return E_BAD_EPOCH;
  S.setEpoch(e);
  return OK;
}

// Shrinks the newest checkpoint of pid to its real snapshot length (<= reserved).
export function ckptSetLen(pid: u32, len: u32): i32 {
  const p = S.lookup(pid);
  if (p === null) return E_UNKNOWN_PID;
  if (p.ckpts.count == 0) return E_BAD_CONFIG;
  const rec = p.ckpts.newest();
  const old = load<u32>(rec, R_LEN);
  if (len > old) return E_BAD_CONFIG;
  p.ckpts.used -= alen(old) - alen(len);
  store<u32>(rec, len, R_LEN);
  return OK;
}

// ---- inspection (tests, telemetry, reports) -------------------------------------
export const Q_ROLE: u32 = 0, Q_DIRTY: u32 = 1, Q_PRGT: u32 = 2, Q_LOCAL: u32 = 3, Q_IVR: u32 = 4,
  Q_IVREXT: u32 = 5, Q_CKPTS: u32 = 6, Q_INLOG: u32 = 7, Q_OUTINT: u32 = 8, Q_OUTEXT: u32 = 9,
  Q_HELD: u32 = 10, Q_PEAK: u32 = 11, Q_CKPTS_TAKEN: u32 = 12, Q_LOGGED: u32 = 13, Q_AT_PASSED: u32 = 14,
  Q_AT_FAILED: u32 = 15, Q_ROLLBACKS: u32 = 16, Q_LAST_ROLLBACK: u32 = 17, Q_REPLAYED: u32 = 18,
  Q_RESENT: u32 = 19, Q_PENDING_AT: u32 = 20, Q_FROM_SHADOW: u32 = 21, Q_DELIVERED: u32 = 22,
  Q_EXT_OUT: u32 = 23, Q_SUPPRESS_DEV: u32 = 24;

export function query(pid: u32, what: u32): u32 {
  if (pid >= S.maxProcs) return 0xFFFFFFFF;
  const p = S.procAt(pid);
  switch (what) {
    case Q_ROLE: return p.role;
    case Q_DIRTY: return p.dirty;
    case Q_PRGT: return p.prgt;
    case Q_LOCAL: return vGet(p.lv, 0);
    case Q_IVR: return p.iVR;
    case Q_IVREXT: return p.iVRext;
    case Q_CKPTS: return p.ckpts.count;
    case Q_INLOG: return p.inLog.count;
    case Q_OUTINT: return p.outInt.count;
    case Q_OUTEXT: return p.outExt.count;
    case Q_HELD: return p.held();
    case Q_PEAK: return p.ckpts.peak + p.inLog.peak + p.outInt.peak + p.outExt.peak;
    case Q_CKPTS_TAKEN: return p.ckptsTaken;
    case Q_LOGGED: return p.logged;
    case Q_AT_PASSED: return p.atPassed;
    case Q_AT_FAILED: return p.atFailed;
    case Q_ROLLBACKS: return p.rollbacks;
    case Q_LAST_ROLLBACK: return p.lastRollback;
    case Q_REPLAYED: return p.replayed;
    case Q_RESENT: return p.resent;
    case Q_PENDING_AT: return p.pendingAt;
    case Q_FROM_SHADOW: return p.fromShadow;
    case Q_DELIVERED: return p.delivered;
    case Q_EXT_OUT: return p.extOut;
    case Q_SUPPRESS_DEV: return p.suppressDev;
  }
  return 0xFFFFFFFF;
}

// cv[j] of pid's causal vector (causal.ts): tests and inspection.
export function causalAt(pid: u32, j: u32): u32 {
  if (pid >= S.maxProcs) return 0xFFFFFFFF;
  return cvAt(S.procAt(pid), j);
}

// Component j of a process's vectors: 0 its local int_mSN_G^low, 1 the bound of its pending AT.
export function procVec(pid: u32, what: u32, j: u32): u32 {
  if (pid >= S.maxProcs || j >= MAXM || what > 1) return 0xFFFFFFFF;
  const p = S.procAt(pid);
  return vGet(what == 0 ? p.lv : p.atv, j);
}

// Component j of the core's vectors: 0 knownV, 1 knownVext, 2 lastV, 3 lastVext,
// 4 member slot j+1's sends to G_act (N), 5 its passed device messages (E).
export function globalVec(what: u32, j: u32): u32 {
  if (j >= MAXM) return 0xFFFFFFFF;
  switch (what) {
    case 0: return vGet(S.knownV, j);
    case 1: return vGet(S.knownVext, j);
    case 2: return vGet(S.lastV, j);
    case 3: return vGet(S.lastVext, j);
    case 4: return sentOf(j + 1);
    case 5: return passedOf(j + 1);
  }
  return 0xFFFFFFFF;
}

// Component j of entry i's vector: checkpoints (which 0) k = 0 its index c, 1 the highest
// folded (c2); the receiver log (which 1) k = 0 the message's index.
export function entryVec(pid: u32, which: u32, i: u32, k: u32, j: u32): u32 {
  if (pid >= S.maxProcs || which > 1 || j >= MAXM) return 0xFFFFFFFF;
  const r = ringOf(S.procAt(pid), which);
  if (i >= r.count || k >= r.nvec) return 0xFFFFFFFF;
  return vGet(r.vec(r.at(i), k), j);
}

function ringOf(p: Proc, which: u32): Ring {
  if (which == 0) return p.ckpts;
  if (which == 1) return p.inLog;
  if (which == 2) return p.outInt;
  return p.outExt;
}
// The index (and highest folded index, flags, length) of entry i of a ring: 0 ckpts, 1 in, 2 int, 3 ext.
export function entryIndex(pid: u32, which: u32, i: u32): u32 {
  const r = ringOf(S.procAt(pid), which); return i < r.count ? load<u32>(r.at(i), R_IDX) : 0xFFFFFFFF;
}
export function entryHigh(pid: u32, which: u32, i: u32): u32 {
  const r = ringOf(S.procAt(pid), which); return i < r.count ? load<u32>(r.at(i), R_IDX2) : 0xFFFFFFFF;
}
export function entryFlags(pid: u32, which: u32, i: u32): u32 {
  const r = ringOf(S.procAt(pid), which); return i < r.count ? load<u32>(r.at(i), R_FLAGS) : 0xFFFFFFFF;
}
export function entryPtr(pid: u32, which: u32, i: u32): u32 {
  const r = ringOf(S.procAt(pid), which); return i < r.count ? load<u32>(r.at(i), R_OFF) : 0;
}
export function entryLen(pid: u32, which: u32, i: u32): u32 {
  const r = ringOf(S.procAt(pid), which); return i < r.count ? load<u32>(r.at(i), R_LEN) : 0;
}

export const G_GUARDED: u32 = 0, G_RECOVERING: u32 = 1, G_EPOCH: u32 = 2, G_LOW: u32 = 3, G_LOW_EXT: u32 = 4,
  G_SDW: u32 = 5, G_SDW_EXT: u32 = 6, G_SUPPRESS_INT: u32 = 7, G_SUPPRESS_EXT: u32 = 8, G_KNOWN_V: u32 = 9,
  G_KNOWN_VEXT: u32 = 10, G_LAST_V: u32 = 11, G_LAST_VEXT: u32 = 12, G_RULES: u32 = 13, G_PROCS: u32 = 14;

// Outputs the former shadows still suppress (per-member numbering), to G_act (0) or devices (1).
function supLeft(ext: u32): u32 {
  let n: u32 = 0;
  for (let pid: u32 = 0; pid < S.maxProcs; pid++) { const p = S.procAt(pid); n += ext ? p.supExt : p.supInt; }
  return n;
}

export function global(what: u32): u32 {
  switch (what) {
    case G_GUARDED: return S.guarded;
    case G_RECOVERING: return S.recovering;
    case G_EPOCH: return S.epoch;
    case G_LOW: return S.lowCounter;
    case G_LOW_EXT: return S.lowExt;
    case G_SDW: return S.sdwCounter;
    case G_SDW_EXT: return S.sdwExt;
    case G_SUPPRESS_INT: return S.suppressInt + supLeft(0);
    case G_SUPPRESS_EXT: return S.suppressExt + supLeft(1);
    case G_KNOWN_V: return vGet(S.knownV, 0);
    case G_KNOWN_VEXT: return vGet(S.knownVext, 0);
    case G_LAST_V: return vGet(S.lastV, 0);
    case G_LAST_VEXT: return vGet(S.lastVext, 0);
    case G_RULES: return S.rules;
    case G_PROCS: return S.maxProcs;
  }
  return 0xFFFFFFFF;
}

// ---- header codec ------------------------------------------------------------------
export function encodeHeader(kind: u32, dirty: u32, index: u32, ep: u32, aux: u32): u32 {
  return C.encode(S.scratch, kind, dirty, index, ep, aux);
}
// Decodes [ptr, ptr+len) (anywhere in memory, usually the staging area).
// On success the fields are also stored as u32 at vecBufPtr() + HDR_OUT, in hdrField's
// order (kind, dirty, index, epoch, aux, length): the host reads them with no further call.
export const HDR_OUT: u32 = 448;
export function decodeHeader(ptr: u32, len: u32): i32 {
  if (<u64>ptr + <u64>len > <u64>(memory.size() << 16)) return -7;
  const st = C.decode(ptr, len);
  if (st == 0) {
    const o = vbuf + HDR_OUT;
    store<u32>(o, C.hKind); store<u32>(o, C.hDirty, 4); store<u32>(o, C.hIndex, 8);
    store<u32>(o, C.hEpoch, 12); store<u32>(o, C.hAux, 16); store<u32>(o, C.hLen, 20);
  }
  return st;
}
export function hdrField(which: u32): u32 {
  switch (which) {
    case 0: return C.hKind;
    case 1: return C.hDirty;
    case 2: return C.hIndex;
    case 3: return C.hEpoch;
    case 4: return C.hAux;
    case 5: return C.hLen;
    case 6: return C.hErrAux;
  }
  return 0;
}


// ---- vector forms (docs/wire.md "Vectors") ------------------------------------------
// The host writes vectors (16 u32) at vecBufPtr() (P) and vecBufPtr() + 64 (Q) and reads
// encoded bytes from vecBufPtr() + 128; decoders write the vectors there.
export function vecBufPtr(): usize { return vbuf; }
/** passedAt, bound or apply with bounds P, Q: scalar form when both fit it, vector form otherwise. */
export function encodeBoundsHdr(kind: u32, ep: u32): u32 { return C.encodeBounds(vbuf + 128, kind, ep, vbuf, vbuf + 64); }
/** Decodes either form of a bounds header at [ptr, ptr+len) into P, Q; 0 or a negative status. */
export function decodeBoundsHdr(ptr: u32, len: u32): i32 {
  if (<u64>ptr + <u64>len > <u64>(memory.size() << 16)) return -7;
  return C.decodeBounds(ptr, len, vbuf, vbuf + 64);
}
/** The components of the vector P (its nonzero ones, ascending); returns their length. */
export function encodeVecVals(): u32 { return C.encodeVecValues(vbuf + 128, vbuf); }
/** The mask of the vector P. */
export function vecMaskOf(): u32 { return C.vecMask(vbuf); }
/** Reads the components for `mask` at [ptr+pos, ptr+len) into P; bytes used or a negative status. */
export function decodeVecVals(ptr: u32, pos: u32, len: u32, mask: u32): i32 {
  if (<u64>ptr + <u64>len > <u64>(memory.size() << 16)) return -7;
  return C.decodeVecValues(ptr, pos, len, mask, vbuf);
}
