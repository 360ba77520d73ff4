import { setLastS } from "./helpers";
// Send and receive rules (Figures 2-4) under RULES_PAPER and RULES_SAFE, driven
// through index.ts's flat ABI. One module instance: the rule set is switched with
// state.setRules between tests, and resetAll() puts every process back to FREE.
import {
  DROP_STALE_CONTAMINATED, DROP_STALE_NOTICE, E_AT_PENDING, E_BAD_DIRTY, E_BAD_EPOCH, E_BAD_KIND,
  E_BAD_VERDICT, E_CKPT_FULL, E_LOG_FULL, E_NO_PENDING_AT, E_PAYLOAD_RANGE, E_ROLE_RECV, E_ROLE_SEND,
  E_SNAPSHOT_TOO_BIG, EV_AT_RESULT, EV_COMPENSATED, EV_PASSED_AT, EV_RECV, EV_SEND, FX_AT_FAILED,
  FX_AT_REQUIRED, FX_BROADCAST_PASSED, FX_CHECKPOINT, FX_COUNTER, FX_DELIVER, FX_DELIVER_DEVICE, FX_DROP,
  FX_LOGGED, FX_RECLAIM, FX_SEND, FX_SUPPRESSED, KIND_ACT, KIND_DEVICE, KIND_LOW, KIND_SDW, LOG_EXT, LOG_IN,
  LOG_INT, OK, ROLE_HA, ROLE_HS, ROLE_LOW, RULES_FOLDED, RULES_PAPER, RULES_SAFE,
} from "../constants";
import {
  beginGuarded, consumed, entryFlags, entryHigh, entryIndex, entryLen, entryPtr, G_KNOWN_V, G_KNOWN_VEXT,
  G_LOW, G_LOW_EXT, G_SDW, G_SDW_EXT, G_SUPPRESS_INT, global, init, Q_AT_FAILED, Q_AT_PASSED, Q_CKPTS,
  Q_CKPTS_TAKEN, Q_DELIVERED, Q_DIRTY, Q_HELD, Q_INLOG, Q_LOCAL, Q_LOGGED, Q_OUTEXT, Q_OUTINT, Q_PENDING_AT,
  Q_PRGT, query, setRole,
} from "../index";
import { compensations, LF_DIRTY, LF_INPUT } from "../rules";
import * as S from "../state";
import { bytesAre, fx, nfx, resetAll, run1, setEv, stageFill } from "./helpers";

// 4 processes, 16 events, 256 stage bytes, 3 checkpoints in 96 bytes, 3 log records in 96 bytes.
const initStatus = init(RULES_SAFE, 4, 16, 256, 0, 3, 96, 3, 96);
const L: u32 = 0, A: u32 = 1, B: u32 = 2, H: u32 = 3;

function setup(r: u32): void {
  resetAll();
  S.setRules(r);
  setRole(L, ROLE_LOW); setRole(A, ROLE_HA); setRole(B, ROLE_HA); setRole(H, ROLE_HS);
  beginGuarded();
}
function recv(pid: u32, kind: u32, dirty: u32, idx: u32, snap: u32 = 8, ep: u32 = 0): i32 {
  setEv(0, EV_RECV, pid, kind, dirty, idx, ep, snap);
  return run1();
}
function recvPay(pid: u32, kind: u32, dirty: u32, idx: u32, off: u32, len: u32): i32 {
  setEv(0, EV_RECV, pid, kind, dirty, idx, 0, 8, 0, 0, off, len, 2, 7);
  return run1();
}
function send(pid: u32, kind: u32, off: u32 = 0, len: u32 = 0): i32 {
  setEv(0, EV_SEND, pid, kind, 0, 0, 0, 0, 0, 0, off, len, 5, 6);
  return run1();
}
function passed(pid: u32, v: u32, vext: u32, ep: u32 = 0): i32 {
  setEv(0, EV_PASSED_AT, pid, 0, 0, 0, ep, 0, v, vext);
  return run1();
}
function atResult(pid: u32, verdict: u32): i32 {
  setEv(0, EV_AT_RESULT, pid, 0, 0, 0, 0, 0, verdict);
  return run1();
}
// Asserts effect i is (type, a, b, c, d).
function isFx(i: u32, type: u32, a: u32, b: u32 = 0xFFFFFFFF, c: u32 = 0xFFFFFFFF, d: u32 = 0xFFFFFFFF): void {
  expect(fx(i, 0)).toBe(type);
  expect(fx(i, 1)).toBe(a);
  if (b != 0xFFFFFFFF) expect(fx(i, 2)).toBe(b);
  if (c != 0xFFFFFFFF) expect(fx(i, 3)).toBe(c);
  if (d != 0xFFFFFFFF) expect(fx(i, 4)).toBe(d);
}
// A refused event: no effect, not consumed.
function refused(st: i32, expected: i32): void {
  expect(st).toBe(expected);
  expect(nfx).toBe(0);
  expect(consumed()).toBe(0);
}

describe("setup", () => {
  it("init succeeded", () => { expect(initStatus).toBe(OK); });
});

describe("S1: first contamination", () => {
  it("a clean P^ha checkpoints before delivering a dirty cluster message (both rule sets)", () => {
    for (let r: u32 = 0; r <= 1; r++) {
      setup(r);
      expect(recv(A, KIND_LOW, 1, 1, 16)).toBe(OK);
      expect(nfx).toBe(2);
      isFx(0, FX_CHECKPOINT, A, 1, entryPtr(A, 0, 0), 16);
      isFx(1, FX_DELIVER, A, 0);
      expect(query(A, Q_DIRTY)).toBe(1);
      expect(query(A, Q_PRGT)).toBe(0); // sender in G_low
      expect(query(A, Q_LOCAL)).toBe(1);
      expect(query(A, Q_CKPTS)).toBe(1);
      expect(query(A, Q_CKPTS_TAKEN)).toBe(1);
      expect(query(A, Q_DELIVERED)).toBe(1);
      expect(query(A, Q_HELD)).toBe(16);
      expect(entryIndex(A, 0, 0)).toBe(1);
    }
  });
  it("a dirty message from a G_act sender sets prgt (propagating in)", () => {
    setup(RULES_PAPER);
    recv(A, KIND_ACT, 1, 1);
    expect(query(A, Q_PRGT)).toBe(1);
    expect(query(A, Q_CKPTS)).toBe(1);
  });
  it("a clean message never checkpoints, but raises local", () => {
    setup(RULES_SAFE);
    expect(recv(A, KIND_ACT, 0, 5)).toBe(OK);
    expect(nfx).toBe(1);
    isFx(0, FX_DELIVER, A, 0);
    expect(query(A, Q_CKPTS)).toBe(0);
    expect(query(A, Q_INLOG)).toBe(0);
    expect(query(A, Q_DIRTY)).toBe(0);
    expect(query(A, Q_LOCAL)).toBe(5);
  });
});

describe("S2: further contamination", () => {
  it("paper: dirty with prgt = 0 folds the new index into the current interval", () => {
    setup(RULES_PAPER);
    recv(A, KIND_LOW, 1, 1);
    expect(recv(A, KIND_LOW, 1, 2)).toBe(OK);
    expect(nfx).toBe(1);
    isFx(0, FX_DELIVER, A, 0);
    expect(query(A, Q_CKPTS)).toBe(1);
    expect(entryIndex(A, 0, 0)).toBe(1);
    expect(entryHigh(A, 0, 0)).toBe(2);
    expect(query(A, Q_LOCAL)).toBe(2);
    // sending to G_act sets prgt; the next rise checkpoints again
    expect(send(A, KIND_ACT)).toBe(OK);
    isFx(0, FX_SEND, A, 0, 1, 2);
    expect(query(A, Q_PRGT)).toBe(1);
    expect(recv(A, KIND_LOW, 1, 3)).toBe(OK);
    expect(nfx).toBe(2);
    expect(fx(0, 0)).toBe(FX_CHECKPOINT);
    expect(query(A, Q_CKPTS)).toBe(2);
    expect(entryIndex(A, 0, 1)).toBe(3);
    expect(query(A, Q_PRGT)).toBe(0);
  });
  it("paper: prgt = 1 from a G_act trigger keeps checkpointing on every rise", () => {
    setup(RULES_PAPER);
    recv(A, KIND_ACT, 1, 1);
    recv(A, KIND_ACT, 1, 2);
    expect(query(A, Q_CKPTS)).toBe(2);
  });
  it("safe: every rise of contamination checkpoints, prgt or not", () => {
    setup(RULES_SAFE);
    recv(A, KIND_LOW, 1, 1);
    expect(recv(A, KIND_LOW, 1, 2)).toBe(OK);
    expect(nfx).toBe(2);
    isFx(0, FX_CHECKPOINT, A, 2);
    expect(query(A, Q_CKPTS)).toBe(2);
    expect(entryIndex(A, 0, 1)).toBe(2);
    expect(entryHigh(A, 0, 0)).toBe(1);
  });
  it("a dirty message at or below local takes no checkpoint (both rule sets)", () => {
    for (let r: u32 = 0; r <= 1; r++) {
      setup(r);
      recv(A, KIND_ACT, 1, 2);
      recv(A, KIND_ACT, 1, 2);
      recv(A, KIND_ACT, 1, 1);
      expect(query(A, Q_CKPTS)).toBe(1);
      expect(query(A, Q_LOCAL)).toBe(2);
      expect(query(A, Q_DELIVERED)).toBe(3);
    }
  });
  it("gap 1 (notes): paper cleans A although m3 is unvalidated; safe keeps it dirty", () => {
    for (let r: u32 = 0; r <= 1; r++) {
      setup(r);
      recv(A, KIND_LOW, 1, 1);   // m1: C1
      recv(B, KIND_LOW, 1, 2);   // m2
      recv(A, KIND_LOW, 1, 3);   // m3: paper folds, safe checkpoints
      expect(passed(A, 2, 0)).toBe(OK); // B passed an AT with bound 2
      isFx(0, FX_RECLAIM, A, 1, 0, 8);
      expect(fx(0, 5)).toBe(r == RULES_PAPER ? 0 : 1);
      expect(query(A, Q_DIRTY)).toBe(r == RULES_PAPER ? 0 : 1);
      expect(query(A, Q_CKPTS)).toBe(r == RULES_PAPER ? 0 : 1);
    }
  });
});

describe("receiver-side logging", () => {
  it("paper: a clean message reaching a dirty P^ha is logged under its local index", () => {
    setup(RULES_PAPER);
    recv(A, KIND_LOW, 1, 2);
    stageFill(0, 5, 0x40);
    expect(recvPay(A, KIND_ACT, 0, 0, 0, 5)).toBe(OK);
    expect(nfx).toBe(2);
    isFx(0, FX_LOGGED, A, LOG_IN, 2, 5);
    isFx(1, FX_DELIVER, A, 0);
    expect(query(A, Q_INLOG)).toBe(1);
    expect(entryIndex(A, 1, 0)).toBe(2);
    expect(entryFlags(A, 1, 0)).toBe(KIND_ACT << 8);
    expect(entryLen(A, 1, 0)).toBe(5);
    expect(bytesAre(<usize>entryPtr(A, 1, 0), 5, 0x40)).toBe(true);
    expect(query(A, Q_LOGGED)).toBe(1);
    // dirty messages are not logged by the printed rules
    recv(A, KIND_ACT, 1, 1);
    expect(query(A, Q_INLOG)).toBe(1);
  });
  it("safe: everything received while dirty is logged with its own (dirty, index) tags", () => {
    setup(RULES_SAFE);
    recv(A, KIND_LOW, 1, 2);
    expect(recv(A, KIND_ACT, 0, 0)).toBe(OK);
    isFx(0, FX_LOGGED, A, LOG_IN, 0, 0);
    expect(recv(A, KIND_ACT, 1, 1)).toBe(OK);
    isFx(0, FX_LOGGED, A, LOG_IN, 1, 0);
    expect(query(A, Q_INLOG)).toBe(2);
    expect(entryFlags(A, 1, 0)).toBe(KIND_ACT << 8);
    expect(entryFlags(A, 1, 1)).toBe(LF_DIRTY | (KIND_ACT << 8));
    expect(entryIndex(A, 1, 1)).toBe(1);
    expect(query(A, Q_LOCAL)).toBe(2);
  });
  it("device input to a dirty P^ha is logged as clean and does not move local", () => {
    setup(RULES_PAPER);
    recv(A, KIND_LOW, 1, 2);
    expect(recv(A, KIND_DEVICE, 1, 9)).toBe(OK);
    expect(nfx).toBe(2);
    isFx(0, FX_LOGGED, A, LOG_IN, 2);
    expect(entryFlags(A, 1, 0)).toBe(KIND_DEVICE << 8);
    expect(query(A, Q_LOCAL)).toBe(2);
    expect(query(A, Q_CKPTS)).toBe(1);
  });
  it("paper shadow: no prgt condition; logged inputs go to int_msg_log marked as inputs", () => {
    setup(RULES_PAPER);
    recv(H, KIND_ACT, 1, 1);
    recv(H, KIND_ACT, 1, 2);
    expect(query(H, Q_CKPTS)).toBe(2);
    send(H, KIND_ACT); // sdw counter 1
    expect(recv(H, KIND_ACT, 0, 0)).toBe(OK);
    isFx(0, FX_LOGGED, H, LOG_INT, 1, 0);
    expect(query(H, Q_OUTINT)).toBe(2);
    expect(query(H, Q_INLOG)).toBe(0);
    expect(entryFlags(H, 2, 1)).toBe(LF_INPUT | (KIND_ACT << 8));
    expect(entryIndex(H, 2, 1)).toBe(1);
  });
  it("safe shadow: logged inputs go to the receiver log", () => {
    setup(RULES_SAFE);
    recv(H, KIND_ACT, 1, 1);
    expect(recv(H, KIND_ACT, 0, 0)).toBe(OK);
    isFx(0, FX_LOGGED, H, LOG_IN, 0, 0);
    expect(query(H, Q_INLOG)).toBe(1);
    expect(query(H, Q_OUTINT)).toBe(0);
  });
});

describe("sending", () => {
  it("P^low to G_act bumps int_mSN_G^low; to G_low it does not", () => {
    setup(RULES_SAFE);
    expect(send(L, KIND_ACT)).toBe(OK);
    expect(nfx).toBe(2);
    isFx(0, FX_COUNTER, 0, 1);
    isFx(1, FX_SEND, L, 0, 1, 1);
    expect(fx(1, 5)).toBe(0);
    expect(send(L, KIND_LOW)).toBe(OK);
    expect(nfx).toBe(1);
    isFx(0, FX_SEND, L, 0, 1, 1);
    expect(global(G_LOW)).toBe(1);
  });
  it("the piggybacked epoch is the recovery epoch mod 16", () => {
    setup(RULES_SAFE);
    S.setEpoch(18);
    send(L, KIND_LOW);
    expect(fx(0, 5)).toBe(2);
  });
  it("P^low to a device needs an AT; a second one is refused while it is pending", () => {
    setup(RULES_SAFE);
    expect(send(L, KIND_DEVICE)).toBe(OK);
    expect(nfx).toBe(1);
    isFx(0, FX_AT_REQUIRED, L, 0);
    expect(query(L, Q_PENDING_AT)).toBe(1);
    refused(send(L, KIND_DEVICE), E_AT_PENDING);
    expect(send(L, KIND_ACT)).toBe(OK);
  });
  it("P^low's passed AT counts an ext message and broadcasts (int_mSN_G^low, ext)", () => {
    setup(RULES_SAFE);
    send(L, KIND_ACT);
    send(L, KIND_DEVICE);
    expect(atResult(L, 1)).toBe(OK);
    expect(nfx).toBe(3);
    isFx(0, FX_COUNTER, 3, 1);
    isFx(1, FX_DELIVER_DEVICE, L, 0);
    isFx(2, FX_BROADCAST_PASSED, L, 1, 1, 0);
    expect(global(G_KNOWN_V)).toBe(1);
    expect(global(G_KNOWN_VEXT)).toBe(1);
    expect(global(G_LOW_EXT)).toBe(1);
    expect(query(L, Q_AT_PASSED)).toBe(1);
    expect(query(L, Q_PENDING_AT)).toBe(0);
  });
  it("a failed AT reports FX_AT_FAILED and validates nothing", () => {
    setup(RULES_SAFE);
    send(L, KIND_ACT);
    send(L, KIND_DEVICE);
    expect(atResult(L, 0)).toBe(OK);
    expect(nfx).toBe(1);
    isFx(0, FX_AT_FAILED, L, 0);
    expect(query(L, Q_AT_FAILED)).toBe(1);
    expect(query(L, Q_PENDING_AT)).toBe(0);
    expect(global(G_KNOWN_V)).toBe(0);
  });
  it("AT verdict errors: none pending, verdict > 1", () => {
    setup(RULES_SAFE);
    refused(atResult(L, 1), E_NO_PENDING_AT);
    send(L, KIND_DEVICE);
    refused(atResult(L, 2), E_BAD_VERDICT);
    expect(query(L, Q_PENDING_AT)).toBe(1);
  });
  it("a clean P^ha delivers to a device without an AT", () => {
    setup(RULES_SAFE);
    expect(send(A, KIND_DEVICE)).toBe(OK);
    expect(nfx).toBe(1);
    isFx(0, FX_DELIVER_DEVICE, A, 0);
    expect(query(A, Q_PENDING_AT)).toBe(0);
  });
  it("paper: a dirty P^ha's passed AT frees everything and broadcasts its local index", () => {
    setup(RULES_PAPER);
    recv(A, KIND_LOW, 1, 1);      // C1
    recv(A, KIND_LOW, 1, 2);      // folded (prgt 0)
    recv(A, KIND_ACT, 0, 0);      // clean while dirty: logged
    expect(send(A, KIND_DEVICE)).toBe(OK);
    isFx(0, FX_AT_REQUIRED, A, 0);
    refused(send(A, KIND_DEVICE), E_AT_PENDING);
    expect(atResult(A, 1)).toBe(OK);
    expect(nfx).toBe(3);
    isFx(0, FX_RECLAIM, A, 1, 1);
    expect(fx(0, 5)).toBe(0);
    isFx(1, FX_DELIVER_DEVICE, A, 0);
    isFx(2, FX_BROADCAST_PASSED, A, 2, 0, 0);
    expect(query(A, Q_DIRTY)).toBe(0);
    expect(query(A, Q_HELD)).toBe(0);
    expect(global(G_KNOWN_V)).toBe(2);
  });
  it("safe: a dirty P^ha's passed AT delivers the message and validates nothing (gap 4)", () => {
    setup(RULES_SAFE);
    recv(A, KIND_LOW, 1, 1);
    recv(A, KIND_LOW, 1, 2);
    recv(A, KIND_ACT, 0, 0);
    expect(send(A, KIND_DEVICE)).toBe(OK);
    isFx(0, FX_AT_REQUIRED, A, 0);
    refused(send(A, KIND_DEVICE), E_AT_PENDING);
    expect(atResult(A, 1)).toBe(OK);
    expect(nfx).toBe(1);
    isFx(0, FX_DELIVER_DEVICE, A, 0);
    expect(query(A, Q_DIRTY)).toBe(1);
    expect(query(A, Q_CKPTS)).toBe(2);
    expect(query(A, Q_PENDING_AT)).toBe(0);
    expect(global(G_KNOWN_V)).toBe(0);
  });
  it("P^ha to G_act sets prgt to its dirty bit; to G_low it leaves prgt alone", () => {
    setup(RULES_PAPER);
    recv(A, KIND_LOW, 1, 1);
    expect(send(A, KIND_LOW)).toBe(OK);
    isFx(0, FX_SEND, A, 0, 1, 1);
    expect(query(A, Q_PRGT)).toBe(0);
    expect(send(A, KIND_ACT)).toBe(OK);
    isFx(0, FX_SEND, A, 0, 1, 1);
    expect(query(A, Q_PRGT)).toBe(1);
    expect(send(B, KIND_ACT)).toBe(OK);
    isFx(0, FX_SEND, B, 0, 0, 0);
    expect(query(B, Q_PRGT)).toBe(0);
  });
  it("a shadow's output to G_act is suppressed, logged with its payload, and counted", () => {
    setup(RULES_SAFE);
    stageFill(16, 6, 0x61);
    expect(send(H, KIND_ACT, 16, 6)).toBe(OK);
    expect(nfx).toBe(2);
    isFx(0, FX_COUNTER, 1, 1);
    isFx(1, FX_SUPPRESSED, H, 0, LOG_INT, 1);
    expect(query(H, Q_OUTINT)).toBe(1);
    expect(entryIndex(H, 2, 0)).toBe(1);
    expect(entryLen(H, 2, 0)).toBe(6);
    expect(bytesAre(<usize>entryPtr(H, 2, 0), 6, 0x61)).toBe(true);
    expect(global(G_SDW)).toBe(1);
    expect(query(H, Q_LOGGED)).toBe(1);
  });
  it("paper: a shadow's device output is indexed by int_mSN_G^high_sdw, no bump", () => {
    setup(RULES_PAPER);
    send(H, KIND_ACT);
    expect(send(H, KIND_DEVICE)).toBe(OK);
    expect(nfx).toBe(1);
    isFx(0, FX_SUPPRESSED, H, 0, LOG_EXT, 1);
    send(H, KIND_DEVICE);
    expect(entryIndex(H, 3, 0)).toBe(1);
    expect(entryIndex(H, 3, 1)).toBe(1);
    expect(global(G_SDW_EXT)).toBe(0);
    expect(global(G_SDW)).toBe(1);
  });
  it("safe: a shadow's device output has its own counter", () => {
    setup(RULES_SAFE);
    send(H, KIND_ACT);
    expect(send(H, KIND_DEVICE)).toBe(OK);
    expect(nfx).toBe(2);
    isFx(0, FX_COUNTER, 2, 1);
    isFx(1, FX_SUPPRESSED, H, 0, LOG_EXT, 1);
    send(H, KIND_DEVICE);
    expect(entryIndex(H, 3, 1)).toBe(2);
    expect(global(G_SDW_EXT)).toBe(2);
    expect(query(H, Q_OUTEXT)).toBe(2);
  });
  it("shadow-internal traffic is sent with the shadow's tags", () => {
    setup(RULES_SAFE);
    recv(H, KIND_ACT, 1, 4);
    expect(send(H, KIND_SDW)).toBe(OK);
    expect(nfx).toBe(1);
    isFx(0, FX_SEND, H, 0, 1, 4);
  });
  it("after takeover, P^ha from a shadow suppresses the announced outputs first", () => {
    setup(RULES_SAFE);
    S.procAt(A).fromShadow = 1;
    S.setSuppress(1, 1);
    send(A, KIND_ACT);
    isFx(0, FX_SUPPRESSED, A, 0, LOG_INT, 0);
    send(A, KIND_ACT);
    expect(fx(0, 0)).toBe(FX_SEND);
    send(A, KIND_DEVICE);
    isFx(0, FX_SUPPRESSED, A, 0, LOG_EXT, 0);
    send(A, KIND_DEVICE);
    expect(fx(0, 0)).toBe(FX_DELIVER_DEVICE);
    expect(global(G_SUPPRESS_INT)).toBe(0);
    // without fromShadow nothing is suppressed
    S.setSuppress(1, 1);
    send(B, KIND_ACT);
    expect(fx(0, 0)).toBe(FX_SEND);
    expect(global(G_SUPPRESS_INT)).toBe(1);
  });
});

describe("role errors and validation", () => {
  it("E_ROLE_SEND: P^low to a shadow, P^hs to G_low, P^ha to a shadow, P^ha to G_low unguarded", () => {
    setup(RULES_SAFE);
    refused(send(L, KIND_SDW), E_ROLE_SEND);
    refused(send(H, KIND_LOW), E_ROLE_SEND);
    refused(send(A, KIND_SDW), E_ROLE_SEND);
    expect(global(G_LOW)).toBe(0);
    expect(global(G_SDW)).toBe(0);
    S.setGuarded(0);
    refused(send(A, KIND_LOW), E_ROLE_SEND);
  });
  it("E_ROLE_RECV: P^low from a shadow, P^hs from G_low, P^ha from a shadow, G_low unguarded, P^low a notice", () => {
    setup(RULES_SAFE);
    refused(recv(L, KIND_SDW, 0, 0), E_ROLE_RECV);
    refused(recv(H, KIND_LOW, 1, 1), E_ROLE_RECV);
    refused(recv(A, KIND_SDW, 0, 0), E_ROLE_RECV);
    refused(passed(L, 1, 0), E_ROLE_RECV);
    expect(query(H, Q_CKPTS)).toBe(0);
    expect(query(H, Q_LOCAL)).toBe(0);
    expect(query(A, Q_DELIVERED)).toBe(0);
    S.setGuarded(0);
    refused(recv(A, KIND_LOW, 1, 1), E_ROLE_RECV);
  });
  it("bad kind, payload out of the staging area, dirty bit > 1", () => {
    setup(RULES_SAFE);
    refused(recv(A, 0, 0, 0), E_BAD_KIND);
    refused(recv(A, 5, 0, 0), E_BAD_KIND);
    refused(send(A, 0), E_BAD_KIND);
    refused(send(A, 5), E_BAD_KIND);
    refused(send(A, KIND_ACT, 250, 7), E_PAYLOAD_RANGE);
    refused(send(A, KIND_ACT, 257, 0), E_PAYLOAD_RANGE);
    refused(recvPay(A, KIND_ACT, 0, 0, 0, 257), E_PAYLOAD_RANGE);
    expect(send(A, KIND_ACT, 256, 0)).toBe(OK);
    expect(send(A, KIND_ACT, 0, 256)).toBe(OK);
    refused(recv(A, KIND_ACT, 2, 1), E_BAD_DIRTY);
  });
  it("P^low and unguarded P^ha just deliver", () => {
    setup(RULES_SAFE);
    expect(recv(L, KIND_ACT, 1, 5)).toBe(OK);
    expect(nfx).toBe(1);
    isFx(0, FX_DELIVER, L, 0);
    expect(query(L, Q_CKPTS)).toBe(0);
    S.setGuarded(0);
    expect(recv(A, KIND_ACT, 1, 5)).toBe(OK);
    expect(nfx).toBe(1);
    expect(query(A, Q_CKPTS)).toBe(0);
    expect(query(A, Q_LOCAL)).toBe(0);
  });
  it("a compensation changes nothing but the counter", () => {
    setup(RULES_SAFE);
    const c0 = compensations;
    setEv(0, EV_COMPENSATED, A);
    expect(run1()).toBe(OK);
    expect(nfx).toBe(0);
    expect(consumed()).toBe(1);
    expect(compensations).toBe(c0 + 1);
  });
});

describe("memory limits leave the state unchanged", () => {
  it("E_CKPT_FULL when every checkpoint slot is used", () => {
    setup(RULES_SAFE);
    recv(A, KIND_LOW, 1, 1); recv(A, KIND_LOW, 1, 2); recv(A, KIND_LOW, 1, 3);
    refused(recv(A, KIND_LOW, 1, 4), E_CKPT_FULL);
    expect(query(A, Q_CKPTS)).toBe(3);
    expect(query(A, Q_LOCAL)).toBe(3);
    expect(query(A, Q_DELIVERED)).toBe(3);
    expect(query(A, Q_CKPTS_TAKEN)).toBe(3);
    expect(query(A, Q_HELD)).toBe(24);
  });
  it("E_CKPT_FULL when the checkpoint bytes are used, slots free", () => {
    setup(RULES_SAFE);
    expect(recv(A, KIND_LOW, 1, 1, 64)).toBe(OK);
    refused(recv(A, KIND_LOW, 1, 2, 40), E_CKPT_FULL);
    expect(query(A, Q_CKPTS)).toBe(1);
    expect(query(A, Q_LOCAL)).toBe(1);
    expect(query(A, Q_HELD)).toBe(64);
    expect(recv(A, KIND_LOW, 1, 2, 32)).toBe(OK);
  });
  it("E_SNAPSHOT_TOO_BIG for a snapshot larger than the checkpoint arena", () => {
    setup(RULES_SAFE);
    refused(recv(A, KIND_LOW, 1, 1, 97), E_SNAPSHOT_TOO_BIG);
    expect(query(A, Q_DIRTY)).toBe(0);
    expect(recv(A, KIND_LOW, 1, 1, 96)).toBe(OK);
  });
  it("E_LOG_FULL on the receiver log (slots, then bytes)", () => {
    setup(RULES_SAFE);
    recv(A, KIND_LOW, 1, 1);
    recv(A, KIND_ACT, 0, 0); recv(A, KIND_ACT, 0, 0); recv(A, KIND_ACT, 0, 0);
    refused(recv(A, KIND_ACT, 0, 0), E_LOG_FULL);
    expect(query(A, Q_INLOG)).toBe(3);
    expect(query(A, Q_LOGGED)).toBe(3);
    expect(query(A, Q_DELIVERED)).toBe(4);
    setup(RULES_PAPER);
    recv(A, KIND_LOW, 1, 1);
    expect(recvPay(A, KIND_ACT, 0, 0, 0, 64)).toBe(OK);
    refused(recvPay(A, KIND_ACT, 0, 0, 0, 40), E_LOG_FULL);
    expect(query(A, Q_INLOG)).toBe(1);
    expect(query(A, Q_HELD)).toBe(8 + 64);
  });
  it("E_LOG_FULL on a shadow's output log keeps the shared counter", () => {
    setup(RULES_SAFE);
    send(H, KIND_ACT); send(H, KIND_ACT); send(H, KIND_ACT);
    refused(send(H, KIND_ACT), E_LOG_FULL);
    expect(global(G_SDW)).toBe(3);
    expect(query(H, Q_OUTINT)).toBe(3);
    expect(query(H, Q_LOGGED)).toBe(3);
    send(H, KIND_DEVICE); send(H, KIND_DEVICE); send(H, KIND_DEVICE);
    refused(send(H, KIND_DEVICE), E_LOG_FULL);
    expect(global(G_SDW_EXT)).toBe(3);
  });
});

describe("messages from an earlier epoch", () => {
  it("safe: drops a stale dirty message above the last V, delivers the rest without checkpointing", () => {
    setup(RULES_SAFE);
    S.setEpoch(1); setLastS(2, 0);
    expect(recv(A, KIND_ACT, 1, 3, 8, 0)).toBe(OK);
    expect(nfx).toBe(1);
    isFx(0, FX_DROP, A, 0, DROP_STALE_CONTAMINATED);
    expect(query(A, Q_DELIVERED)).toBe(0);
    expect(recv(A, KIND_ACT, 1, 2, 8, 0)).toBe(OK);
    isFx(0, FX_DELIVER, A, 0);
    expect(recv(A, KIND_ACT, 0, 9, 8, 0)).toBe(OK);
    isFx(0, FX_DELIVER, A, 0);
    expect(recv(A, KIND_DEVICE, 1, 9, 8, 0)).toBe(OK); // device bits are ignored
    isFx(0, FX_DELIVER, A, 0);
    expect(query(A, Q_DELIVERED)).toBe(3);
    expect(query(A, Q_CKPTS)).toBe(0);
    expect(query(A, Q_LOCAL)).toBe(0);
  });
  it("paper: every stale message is delivered", () => {
    setup(RULES_PAPER);
    S.setEpoch(1); setLastS(2, 0);
    expect(recv(A, KIND_ACT, 1, 3, 8, 0)).toBe(OK);
    isFx(0, FX_DELIVER, A, 0);
    expect(query(A, Q_CKPTS)).toBe(0);
  });
  it("accepts ages 0..8 mod 16 and refuses older", () => {
    setup(RULES_SAFE);
    S.setEpoch(1);
    refused(recv(A, KIND_ACT, 0, 0, 8, 8), E_BAD_EPOCH);   // age 9
    expect(recv(A, KIND_ACT, 0, 0, 8, 9)).toBe(OK);        // age 8
    refused(passed(A, 0, 0, 8), E_BAD_EPOCH);
    S.setEpoch(17);
    expect(recv(A, KIND_LOW, 1, 1, 8, 1)).toBe(OK);        // age 0: current, checkpoints
    expect(query(A, Q_CKPTS)).toBe(1);
  });
  it("a stale cluster message reaching unguarded P^ha is classified, a current one refused", () => {
    setup(RULES_SAFE);
    S.setGuarded(0); S.setEpoch(1);
    expect(recv(A, KIND_LOW, 1, 1, 8, 0)).toBe(OK);
    isFx(0, FX_DROP, A, 0, DROP_STALE_CONTAMINATED);
    refused(recv(A, KIND_LOW, 1, 1, 8, 1), E_ROLE_RECV);
  });
  it("stale or unguarded passed-AT notices are dropped; current ones reclaim", () => {
    setup(RULES_SAFE);
    recv(A, KIND_LOW, 1, 1);
    S.setEpoch(1);
    expect(passed(A, 5, 0, 0)).toBe(OK);
    isFx(0, FX_DROP, A, 0, DROP_STALE_NOTICE);
    expect(global(G_KNOWN_V)).toBe(0);
    expect(passed(A, 1, 0, 1)).toBe(OK);
    expect(nfx).toBe(1);
    isFx(0, FX_RECLAIM, A, 1, 0, 8);
    expect(fx(0, 5)).toBe(0);
    expect(global(G_KNOWN_V)).toBe(1);
    S.setGuarded(0);
    expect(passed(A, 7, 0, 1)).toBe(OK);
    isFx(0, FX_DROP, A, 0, DROP_STALE_NOTICE);
    expect(global(G_KNOWN_V)).toBe(1);
  });
});

describe("AT bound and the folded rule set (core changes in the working tree)", () => {
  it("P^low's pass validates int_mSN_G^low as it was when the AT was requested", () => {
    setup(RULES_SAFE);
    send(L, KIND_ACT);            // 1
    send(L, KIND_DEVICE);         // AT on a message produced at 1
    send(L, KIND_ACT);            // 2: sent while the verdict is pending
    expect(atResult(L, 1)).toBe(OK);
    isFx(2, FX_BROADCAST_PASSED, L, 1, 1, 0);
    expect(global(G_KNOWN_V)).toBe(1);
  });
  it("paper: P^ha's pass reclaims up to its local index at request time; later contamination stays", () => {
    setup(RULES_PAPER);
    recv(A, KIND_LOW, 1, 1);
    send(A, KIND_ACT);            // prgt = 1: the next rise checkpoints under the printed rules too
    send(A, KIND_DEVICE);
    recv(A, KIND_LOW, 1, 2);      // arrives before the verdict
    expect(atResult(A, 1)).toBe(OK);
    isFx(0, FX_RECLAIM, A, 1, 0);
    expect(fx(0, 5)).toBe(1);
    isFx(2, FX_BROADCAST_PASSED, A, 1, 0, 0);
    expect(query(A, Q_DIRTY)).toBe(1);
    expect(query(A, Q_CKPTS)).toBe(1);
    expect(entryIndex(A, 0, 0)).toBe(2);
  });
  it("folded: printed checkpoint rule, reclaim by the highest folded index, gap-2 logging", () => {
    setup(RULES_FOLDED);
    recv(A, KIND_LOW, 1, 1);      // C1
    recv(A, KIND_LOW, 1, 2);      // folded into C1 (prgt 0)
    expect(query(A, Q_CKPTS)).toBe(1);
    expect(entryHigh(A, 0, 0)).toBe(2);
    // The checkpoint's trigger is logged too (C1 can outlive a pass that covers
    // its trigger, and a rollback to C1 must then replay it), and gap-2 logging
    // logs the folded message with its tags (replayed iff its index is <= V).
    expect(query(A, Q_INLOG)).toBe(2);
    expect(entryFlags(A, 1, 0)).toBe(LF_DIRTY | (KIND_LOW << 8));
    expect(entryIndex(A, 1, 0)).toBe(1);
    expect(entryFlags(A, 1, 1)).toBe(LF_DIRTY | (KIND_LOW << 8));
    expect(entryIndex(A, 1, 1)).toBe(2);
    recv(A, KIND_ACT, 1, 1);      // dirty, logged with its tags
    expect(query(A, Q_INLOG)).toBe(3);
    expect(entryFlags(A, 1, 2)).toBe(LF_DIRTY | (KIND_ACT << 8));
    passed(A, 1, 0);              // C1 holds index 2: not validated by 1
    isFx(0, FX_RECLAIM, A, 0, 0, 0);
    expect(query(A, Q_DIRTY)).toBe(1);
    passed(A, 2, 0);
    isFx(0, FX_RECLAIM, A, 1, 3, 32);
    expect(query(A, Q_DIRTY)).toBe(0);
  });
  it("paper takeover: device outputs are suppressed while internal suppression remains", () => {
    setup(RULES_PAPER);
    S.procAt(A).fromShadow = 1;
    S.setSuppress(1, 0);
    send(A, KIND_DEVICE);
    isFx(0, FX_SUPPRESSED, A, 0, LOG_EXT, 0);
    send(A, KIND_ACT);
    isFx(0, FX_SUPPRESSED, A, 0, LOG_INT, 0);
    send(A, KIND_DEVICE);
    isFx(0, FX_DELIVER_DEVICE, A, 0);
    setup(RULES_SAFE);
    S.procAt(A).fromShadow = 1;
    S.setSuppress(1, 0);
    send(A, KIND_DEVICE);
    isFx(0, FX_DELIVER_DEVICE, A, 0);
  });
});
