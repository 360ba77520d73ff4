// The flat ABI of index.ts (init, step, configuration, inspection, codec) and
// the numeric codes of constants.ts. init() runs once per module instance: the
// refused configurations are tried first, then the real init.
import * as K from "../constants";
import {
  E_BAD_CONFIG, E_BAD_ROLE, E_GUARDED, E_RECOVERING, E_ROLE_SEND, E_UNKNOWN_EVENT, E_UNKNOWN_PID,
  EV_COMMIT, EV_COMPENSATED, EV_RECOVER_APPLY, EV_RECOVER_BEGIN, EV_RECV, EV_SEND, FX_BOUND, FX_COUNTER,
  FX_SEND, KIND_ACT, KIND_LOW, KIND_SDW, OK, ROLE_FREE, ROLE_HA, ROLE_HS, ROLE_LOW, ROLE_RETIRED, RULES_PAPER,
} from "../constants";
import {
  beginGuarded, ckptSetLen, consumed, decodeHeader, effectCapacity, effectsPtr, encodeHeader, entryFlags,
  entryHigh, entryIndex, entryLen, entryPtr, eventCapacity, eventsPtr, fixedBytes, G_EPOCH, G_GUARDED, G_LOW,
  G_PROCS, G_RECOVERING, G_RULES, G_SUPPRESS_EXT, G_SUPPRESS_INT, global, hdrField, init, memoryBytes,
  Q_CKPTS, Q_CKPTS_TAKEN, Q_DELIVERED, Q_DIRTY, Q_FROM_SHADOW, Q_HELD, Q_INLOG, Q_IVR, Q_LOCAL, Q_PEAK,
  Q_PENDING_AT, Q_PRGT, Q_ROLE, query, scratchPtr, setRole, stageCapacity, stagePtr, status, step,
  HDR_OUT, vecBufPtr,
} from "../index";
import * as S from "../state";
import { fx, nfx, run1, runN, setEv } from "./helpers";

const MAX: u32 = 0xFFFFFFFF;

describe("init", () => {
  it("refuses bad configurations and allocates nothing", () => {
    expect(init(3, 2, 32, 64, 0, 2, 64, 1, 64)).toBe(E_BAD_CONFIG);     // rules: 0 paper, 1 safe, 2 folded
    expect(init(RULES_PAPER, 0, 32, 64, 0, 2, 64, 1, 64)).toBe(E_BAD_CONFIG);
    expect(init(RULES_PAPER, 1025, 32, 64, 0, 2, 64, 1, 64)).toBe(E_BAD_CONFIG);
    expect(init(RULES_PAPER, 2, 0, 64, 0, 2, 64, 1, 64)).toBe(E_BAD_CONFIG);
    expect(init(RULES_PAPER, 2, 32, 64, 0, 0, 64, 1, 64)).toBe(E_BAD_CONFIG);
    expect(init(RULES_PAPER, 2, 32, 64, 0, 2, 64, 0, 64)).toBe(E_BAD_CONFIG);
    expect(global(G_PROCS)).toBe(0);
    expect(eventsPtr()).toBe(0);
  });
  it("initialises once, sizing the effect buffer for a recovery", () => {
    expect(init(RULES_PAPER, 2, 32, 64, 0, 2, 64, 1, 64)).toBe(OK);
    expect(init(RULES_PAPER, 2, 32, 64, 0, 2, 64, 1, 64)).toBe(E_BAD_CONFIG);
    expect(global(G_RULES)).toBe(RULES_PAPER);
    expect(global(G_PROCS)).toBe(2);
    expect(eventCapacity()).toBe(32);
    expect(stageCapacity()).toBe(64);
    expect(effectCapacity()).toBe(2 * (3 * 1 + 8) + 16); // 38 > the 0 asked for
  });
  it("lays out disjoint buffers inside the fixed memory", () => {
    expect(eventsPtr()).not.toBe(0);
    expect(eventsPtr() + 32 * 64 <= effectsPtr()).toBe(true);
    expect(effectsPtr() + 38 * 64 <= stagePtr()).toBe(true);
    expect(stagePtr() + 64 <= scratchPtr()).toBe(true);
    expect(<usize>fixedBytes() >= scratchPtr() + 64).toBe(true);
    expect(memoryBytes() % 65536).toBe(0);
    expect(memoryBytes() >= fixedBytes()).toBe(true);
  });
});

describe("configuration", () => {
  it("setRole refuses unknown pids and roles", () => {
    expect(setRole(2, ROLE_HA)).toBe(E_UNKNOWN_PID);
    expect(setRole(0, ROLE_RETIRED)).toBe(E_BAD_ROLE);
    expect(setRole(0, 9)).toBe(E_BAD_ROLE);
    expect(query(0, Q_ROLE)).toBe(ROLE_FREE);
  });
  it("step refuses events for unknown or FREE pids and unknown event types", () => {
    setEv(0, EV_SEND, 0, KIND_ACT);
    expect(run1()).toBe(E_UNKNOWN_PID);           // pid 0 is FREE
    setEv(0, EV_SEND, 7, KIND_ACT);
    expect(run1()).toBe(E_UNKNOWN_PID);
    setEv(0, 0, 0);
    expect(run1()).toBe(E_UNKNOWN_EVENT);
    setEv(0, 10, 0);
    expect(run1()).toBe(E_UNKNOWN_EVENT);
    expect(consumed()).toBe(0);
    expect(nfx).toBe(0);
  });
  it("roles are set between guarded operations only", () => {
    expect(setRole(0, ROLE_LOW)).toBe(OK);
    expect(setRole(1, ROLE_HA)).toBe(OK);
    expect(beginGuarded()).toBe(OK);
    expect(global(G_GUARDED)).toBe(1);
    expect(beginGuarded()).toBe(E_GUARDED);
    expect(setRole(1, ROLE_HS)).toBe(E_GUARDED);
    expect(query(1, Q_ROLE)).toBe(ROLE_HA);
  });
});

describe("step", () => {
  it("step(0) runs nothing", () => {
    expect(step(0)).toBe(0);
    expect(consumed()).toBe(0);
    expect(status()).toBe(OK);
  });
  it("stops at a refused event: consumed() is its index and status() its refusal", () => {
    const low0 = global(G_LOW);
    setEv(0, EV_SEND, 0, KIND_ACT);
    setEv(1, EV_SEND, 0, KIND_SDW);   // refused
    setEv(2, EV_SEND, 0, KIND_ACT);   // not run
    expect(runN(3)).toBe(E_ROLE_SEND);
    expect(consumed()).toBe(1);
    expect(nfx).toBe(2);
    expect(fx(0, 0)).toBe(FX_COUNTER);
    expect(fx(1, 0)).toBe(FX_SEND);
    expect(global(G_LOW)).toBe(low0 + 1);
  });
  it("effects name the index of the event that caused them", () => {
    setEv(0, EV_COMPENSATED, 1);
    setEv(1, EV_SEND, 0, KIND_LOW);
    expect(runN(2)).toBe(OK);
    expect(consumed()).toBe(2);
    expect(nfx).toBe(1);
    expect(fx(0, 0)).toBe(FX_SEND);
    expect(fx(0, 2)).toBe(1);
  });
  it("stops with status OK when the effect buffer cannot hold a worst case; the rest can be resubmitted", () => {
    const low0 = global(G_LOW);
    for (let i: u32 = 0; i < 20; i++) setEv(i, EV_SEND, 0, KIND_ACT);
    expect(step(20)).toBe(34);          // 17 events x 2 effects; room 4 < 6 for the 18th
    expect(consumed()).toBe(17);
    expect(status()).toBe(OK);
    expect(global(G_LOW)).toBe(low0 + 17);
    expect(fx(33, 0)).toBe(FX_SEND);
    expect(fx(33, 2)).toBe(16);
    for (let i: u32 = 0; i < 3; i++) setEv(i, EV_SEND, 0, KIND_ACT);
    expect(step(3)).toBe(6);
    expect(consumed()).toBe(3);
    expect(global(G_LOW)).toBe(low0 + 20);
  });
  it("clamps n to the event capacity", () => {
    for (let i: u32 = 0; i < 32; i++) setEv(i, EV_COMPENSATED, 1);
    expect(step(1000)).toBe(0);
    expect(consumed()).toBe(32);
    expect(status()).toBe(OK);
  });
  it("runs a recovery apply only with a whole empty effect buffer", () => {
    setEv(0, EV_SEND, 0, KIND_LOW);
    setEv(1, EV_RECOVER_BEGIN, 0);
    setEv(2, EV_RECOVER_APPLY, 0, 0, 0, 0, 1, 0, 0, 0);
    expect(runN(3)).toBe(OK);
    expect(consumed()).toBe(2);        // 2 effects written, 36 < 38 room: apply deferred
    expect(nfx).toBe(2);
    expect(fx(1, 0)).toBe(FX_BOUND);
    expect(global(G_RECOVERING)).toBe(1);
    setEv(0, EV_SEND, 0, KIND_LOW);
    expect(run1()).toBe(E_RECOVERING);
    setEv(0, EV_RECOVER_APPLY, 0, 0, 0, 0, 1, 0, 0, 0);
    expect(run1()).toBe(OK);
    expect(consumed()).toBe(1);
    expect(global(G_RECOVERING)).toBe(0);
    expect(global(G_GUARDED)).toBe(0);
    expect(query(0, Q_ROLE)).toBe(ROLE_RETIRED);
  });
});

describe("beginGuarded", () => {
  it("refuses while a recovery is running", () => {
    S.setRecovering(1);
    expect(beginGuarded()).toBe(E_RECOVERING);
    expect(global(G_GUARDED)).toBe(0);
    S.setRecovering(0);
  });
  it("restarts the shared counters, suppression and takeover marks", () => {
    S.bumpLow();
    S.setSuppress(3, 2);
    S.procAt(1).fromShadow = 1;
    expect(setRole(0, ROLE_LOW)).toBe(OK); // a retired slot can be reused
    expect(beginGuarded()).toBe(OK);
    expect(global(G_LOW)).toBe(0);
    expect(global(G_SUPPRESS_INT)).toBe(0);
    expect(global(G_SUPPRESS_EXT)).toBe(0);
    expect(query(1, Q_FROM_SHADOW)).toBe(0);
  });
});

describe("inspection", () => {
  it("query reports a process's protocol state", () => {
    const taken0 = query(1, Q_CKPTS_TAKEN), delivered0 = query(1, Q_DELIVERED);
    setEv(0, EV_RECV, 1, KIND_LOW, 1, 3, global(G_EPOCH) & 15, 40); // epoch 1 after the recovery above
    expect(run1()).toBe(OK);
    expect(query(1, Q_ROLE)).toBe(ROLE_HA);
    expect(query(1, Q_DIRTY)).toBe(1);
    expect(query(1, Q_PRGT)).toBe(0);
    expect(query(1, Q_LOCAL)).toBe(3);
    expect(query(1, Q_IVR)).toBe(0);
    expect(query(1, Q_CKPTS)).toBe(1);
    expect(query(1, Q_INLOG)).toBe(0);
    expect(query(1, Q_HELD)).toBe(40);
    expect(query(1, Q_PEAK) >= 40).toBe(true);
    expect(query(1, Q_CKPTS_TAKEN)).toBe(taken0 + 1);
    expect(query(1, Q_DELIVERED)).toBe(delivered0 + 1);
    expect(query(1, Q_PENDING_AT)).toBe(0);
    expect(entryIndex(1, 0, 0)).toBe(3);
    expect(entryHigh(1, 0, 0)).toBe(3);
    expect(entryLen(1, 0, 0)).toBe(40);
    expect(entryPtr(1, 0, 0)).not.toBe(0);
  });
  it("unknown queries and out-of-range pids or entries answer the sentinels", () => {
    expect(query(1, 99)).toBe(MAX);
    expect(query(2, Q_ROLE)).toBe(MAX);
    expect(global(15)).toBe(MAX);
    expect(entryIndex(1, 0, 1)).toBe(MAX);
    expect(entryHigh(1, 0, 5)).toBe(MAX);
    expect(entryFlags(1, 1, 0)).toBe(MAX);
    expect(entryPtr(1, 0, 1)).toBe(0);
    expect(entryLen(1, 3, 0)).toBe(0);
  });
  it("ckptSetLen shrinks the newest checkpoint and gives its bytes back", () => {
    expect(ckptSetLen(5, 0)).toBe(E_UNKNOWN_PID);
    expect(ckptSetLen(0, 0)).toBe(E_BAD_CONFIG);   // no checkpoint
    expect(ckptSetLen(1, 41)).toBe(E_BAD_CONFIG);  // longer than reserved
    expect(ckptSetLen(1, 10)).toBe(OK);
    expect(entryLen(1, 0, 0)).toBe(10);
    expect(query(1, Q_HELD)).toBe(16);
    // the freed bytes are usable: 16 + 48 fit in 64, 40 + 48 would not
    setEv(0, EV_SEND, 1, KIND_ACT);                // prgt = 1 (paper rules)
    expect(run1()).toBe(OK);
    setEv(0, EV_RECV, 1, KIND_ACT, 1, 4, global(G_EPOCH) & 15, 48);
    expect(run1()).toBe(OK);
    expect(query(1, Q_CKPTS)).toBe(2);
    expect(query(1, Q_HELD)).toBe(64);
  });
  it("setRole frees the process's memory and clears its protocol state", () => {
    S.setGuarded(0);
    expect(setRole(1, ROLE_HS)).toBe(OK);
    expect(query(1, Q_HELD)).toBe(0);
    expect(query(1, Q_CKPTS)).toBe(0);
    expect(query(1, Q_DIRTY)).toBe(0);
    expect(query(1, Q_LOCAL)).toBe(0);
    expect(query(1, Q_ROLE)).toBe(ROLE_HS);
    setEv(0, EV_COMMIT, 0);
    expect(run1()).toBe(K.E_NOT_GUARDED);
  });
});

describe("header codec exports", () => {
  it("encodes into the scratch area and decodes with hdrField", () => {
    expect(encodeHeader(1, 0, 300, 3, 127)).toBe(4);
    expect(load<u8>(scratchPtr())).toBe(0x23);
    expect(load<u8>(scratchPtr() + 1)).toBe(0xAC);
    expect(load<u8>(scratchPtr() + 2)).toBe(0x02);
    expect(load<u8>(scratchPtr() + 3)).toBe(0x7F);
    expect(decodeHeader(<u32>scratchPtr(), 4)).toBe(0);
    expect(hdrField(0)).toBe(1);
    expect(hdrField(1)).toBe(0);
    expect(hdrField(2)).toBe(300);
    expect(hdrField(3)).toBe(3);
    expect(hdrField(4)).toBe(127);
    expect(hdrField(5)).toBe(4);
    expect(hdrField(6)).toBe(0); // hErrAux: no error
    expect(hdrField(7)).toBe(0);
    // the same fields as words at vecBufPtr() + HDR_OUT (the host reads them there)
    const o = vecBufPtr() + HDR_OUT;
    expect(load<u32>(o)).toBe(1);
    expect(load<u32>(o, 4)).toBe(0);
    expect(load<u32>(o, 8)).toBe(300);
    expect(load<u32>(o, 12)).toBe(3);
    expect(load<u32>(o, 16)).toBe(127);
    expect(load<u32>(o, 20)).toBe(4);
  });
  it("refuses ranges outside linear memory and passes codec statuses through", () => {
    expect(decodeHeader(memoryBytes() - 2, 4)).toBe(K.E_PAYLOAD_RANGE);
    expect(decodeHeader(0xFFFFFFFF, 2)).toBe(K.E_PAYLOAD_RANGE);
    expect(decodeHeader(<u32>scratchPtr(), 0)).toBe(K.E_HDR_EMPTY);
    store<u8>(stagePtr(), 0xE0); store<u8>(stagePtr() + 1, 0);
    expect(decodeHeader(<u32>stagePtr(), 2)).toBe(K.E_HDR_KIND);
  });
});

describe("constants", () => {
  it("effect codes are 1..23 without gaps", () => {
    const f: u32[] = [K.FX_DELIVER, K.FX_DROP, K.FX_CHECKPOINT, K.FX_LOGGED, K.FX_SEND, K.FX_COUNTER,
      K.FX_SUPPRESSED, K.FX_AT_REQUIRED, K.FX_DELIVER_DEVICE, K.FX_BROADCAST_PASSED, K.FX_RECLAIM,
      K.FX_AT_FAILED, K.FX_BOUND, K.FX_ROLLBACK, K.FX_REPLAY, K.FX_RESEND, K.FX_SUPPRESS_NEXT, K.FX_RETIRE,
      K.FX_ROLE, K.FX_FREED, K.FX_REPLAY_DROPPED, K.FX_RECOVERED, K.FX_VOIDED];
    let ok = true;
    for (let i = 0; i < f.length; i++) if (f[i] != <u32>(i + 1)) ok = false;
    expect(ok).toBe(true);
    expect(f.length).toBe(23);
  });
  it("event codes 1..9, word offsets inside a 16-word event", () => {
    const e: u32[] = [K.EV_SEND, K.EV_RECV, K.EV_PASSED_AT, K.EV_AT_RESULT, K.EV_COMPENSATED,
      K.EV_RECOVER_BEGIN, K.EV_RECOVER_APPLY, K.EV_COMMIT, K.EV_ABORT];
    let ok = true;
    for (let i = 0; i < e.length; i++) if (e[i] != <u32>(i + 1)) ok = false;
    expect(ok).toBe(true);
    expect(K.EVENT_WORDS).toBe(16);
    expect(K.EFFECT_WORDS).toBe(16);
    const w: u32[] = [K.EW_TYPE, K.EW_PID, K.EW_KIND, K.EW_PEER, K.EW_PORT, K.EW_PAY_OFF, K.EW_PAY_LEN,
      K.EW_DIRTY, K.EW_INDEX, K.EW_EPOCH, K.EW_SNAP, K.EW_V, K.EW_VEXT];
    for (let i = 0; i < w.length; i++) if (w[i] != <u32>i) ok = false;
    expect(ok).toBe(true);
  });
  it("statuses are negative and distinct; OK is 0", () => {
    const s: i32[] = [K.E_UNKNOWN_EVENT, K.E_UNKNOWN_PID, K.E_RETIRED, K.E_BAD_KIND, K.E_ROLE_SEND,
      K.E_ROLE_RECV, K.E_PAYLOAD_RANGE, K.E_BAD_DIRTY, K.E_CKPT_FULL, K.E_LOG_FULL, K.E_SNAPSHOT_TOO_BIG,
      K.E_AT_PENDING, K.E_NO_PENDING_AT, K.E_RECOVERING, K.E_NOT_RECOVERING, K.E_BAD_BOUND, K.E_BAD_EPOCH,
      K.E_NOT_GUARDED, K.E_BAD_VERDICT, K.E_BAD_ROLE, K.E_BAD_CONFIG, K.E_GUARDED, K.E_HDR_EMPTY,
      K.E_HDR_KIND, K.E_HDR_TRUNCATED, K.E_HDR_OVERFLOW, K.E_HDR_NONCANONICAL, K.E_HDR_DIRTY];
    let ok = true;
    for (let i = 0; i < s.length; i++) {
      if (s[i] >= 0) ok = false;
      for (let j = i + 1; j < s.length; j++) if (s[i] == s[j]) ok = false;
    }
    expect(ok).toBe(true);
    expect(K.OK).toBe(0);
    expect(K.E_UNKNOWN_EVENT).toBe(-1);
    expect(K.E_GUARDED).toBe(-22);
    expect(K.E_HDR_EMPTY).toBe(-30);
    expect(K.E_HDR_DIRTY).toBe(-35);
  });
  it("roles, kinds, logs, rule sets and reasons", () => {
    expect(ROLE_FREE).toBe(0); expect(ROLE_LOW).toBe(1); expect(ROLE_HA).toBe(2);
    expect(ROLE_HS).toBe(3); expect(ROLE_RETIRED).toBe(4);
    expect(KIND_ACT).toBe(1); expect(KIND_LOW).toBe(2); expect(KIND_SDW).toBe(3); expect(K.KIND_DEVICE).toBe(4);
    expect(K.LOG_IN).toBe(1); expect(K.LOG_INT).toBe(2); expect(K.LOG_EXT).toBe(3);
    expect(K.RULES_PAPER).toBe(0); expect(K.RULES_SAFE).toBe(1);
    expect(K.REASON_FAULT).toBe(1); expect(K.REASON_ABORT).toBe(2);
    expect(K.DROP_STALE_CONTAMINATED).toBe(1); expect(K.DROP_TO_RETIRED).toBe(2); expect(K.DROP_STALE_NOTICE).toBe(3);
  });
});
