// Recovery round, rollback, replay, shadow takeover, abort and commit, driven
// through index.ts. One module instance; rule sets switched with state.setRules.
import {
  E_BAD_BOUND, E_BAD_EPOCH, E_NOT_GUARDED, E_NOT_RECOVERING, E_RECOVERING, E_RETIRED, EV_ABORT,
  EV_COMMIT, EV_PASSED_AT, EV_RECOVER_APPLY, EV_RECOVER_BEGIN, EV_RECV, EV_SEND, FX_BOUND, FX_DELIVER_DEVICE,
  FX_FREED, FX_RECLAIM, FX_RECOVERED, FX_REPLAY, FX_REPLAY_DROPPED, FX_RESEND, FX_RETIRE, FX_ROLE,
  FX_ROLLBACK, FX_SEND, FX_SUPPRESS_NEXT, FX_SUPPRESSED, FX_VOIDED, KIND_ACT, KIND_DEVICE, KIND_LOW, LOG_EXT,
  LOG_INT, OK, REASON_ABORT, REASON_FAULT, ROLE_HA, ROLE_HS, ROLE_LOW, ROLE_RETIRED, RULES_PAPER, RULES_SAFE,
} from "../constants";
import {
  beginGuarded, consumed, G_EPOCH, G_GUARDED, G_KNOWN_V, G_LAST_V, G_LOW, G_RECOVERING, G_SDW,
  G_SUPPRESS_EXT, G_SUPPRESS_INT, global, init, Q_CKPTS, Q_DELIVERED, Q_DIRTY, Q_FROM_SHADOW, Q_HELD,
  Q_INLOG, Q_LAST_ROLLBACK, Q_LOCAL, Q_OUTEXT, Q_OUTINT, Q_PENDING_AT, Q_REPLAYED, Q_RESENT, Q_ROLE,
  Q_ROLLBACKS, query, setRole,
} from "../index";
import * as S from "../state";
import { bytesAre, countFx, findFx, fx, nfx, resetAll, run1, setEv, stageFill } from "./helpers";

// 4 processes, 16 events, 256 stage bytes, 4 checkpoints / 128 bytes, 4 log records / 128 bytes.
const initStatus = init(RULES_SAFE, 4, 16, 256, 0, 4, 128, 4, 128);
const L: u32 = 0, A: u32 = 1, B: u32 = 2, H: u32 = 3;

function setup(r: u32, twoShadows: bool = false): void {
  resetAll();
  S.setRules(r);
  setRole(L, ROLE_LOW); setRole(A, ROLE_HA);
  setRole(B, twoShadows ? ROLE_HS : ROLE_HA);
  setRole(H, ROLE_HS);
  beginGuarded();
}
function recv(pid: u32, kind: u32, dirty: u32, idx: u32): i32 {
  setEv(0, EV_RECV, pid, kind, dirty, idx, S.epoch & 15, 8);
  return run1();
}
function recvPay(pid: u32, kind: u32, dirty: u32, idx: u32, off: u32, len: u32): i32 {
  setEv(0, EV_RECV, pid, kind, dirty, idx, S.epoch & 15, 8, 0, 0, off, len, 2, 7);
  return run1();
}
function send(pid: u32, kind: u32, off: u32 = 0, len: u32 = 0): i32 {
  setEv(0, EV_SEND, pid, kind, 0, 0, 0, 0, 0, 0, off, len, 5, 6);
  return run1();
}
function passed(pid: u32, v: u32, vext: u32): i32 {
  setEv(0, EV_PASSED_AT, pid, 0, 0, 0, S.epoch & 15, 0, v, vext);
  return run1();
}
function begin(): i32 { setEv(0, EV_RECOVER_BEGIN, 0); return run1(); }
function apply(v: u32, vext: u32, ep: u32, type: u32 = EV_RECOVER_APPLY): i32 {
  setEv(0, type, 0, 0, 0, 0, ep, 0, v, vext);
  return run1();
}
function commit(): i32 { setEv(0, EV_COMMIT, 0); return run1(); }
function isFx(i: i32, type: u32, a: u32, b: u32 = 0xFFFFFFFF, c: u32 = 0xFFFFFFFF, d: u32 = 0xFFFFFFFF,
              e: u32 = 0xFFFFFFFF): void {
  expect(i).toBeGreaterThanOrEqual(0);
  const k = <u32>i;
  expect(fx(k, 0)).toBe(type);
  expect(fx(k, 1)).toBe(a);
  if (b != 0xFFFFFFFF) expect(fx(k, 2)).toBe(b);
  if (c != 0xFFFFFFFF) expect(fx(k, 3)).toBe(c);
  if (d != 0xFFFFFFFF) expect(fx(k, 4)).toBe(d);
  if (e != 0xFFFFFFFF) expect(fx(k, 5)).toBe(e);
}
function nothingHeld(): bool {
  for (let pid: u32 = 0; pid < 4; pid++) if (query(pid, Q_HELD) != 0) return false;
  return true;
}

describe("setup", () => {
  it("init succeeded", () => { expect(initStatus).toBe(OK); });
});

describe("recovery round: errors", () => {
  it("apply or abort without a begun round: E_NOT_RECOVERING", () => {
    setup(RULES_SAFE);
    expect(apply(0, 0, 1)).toBe(E_NOT_RECOVERING);
    expect(apply(0, 0, 1, EV_ABORT)).toBe(E_NOT_RECOVERING);
    expect(nfx).toBe(0);
    expect(query(L, Q_ROLE)).toBe(ROLE_LOW);
  });
  it("begin or commit outside guarded operation: E_NOT_GUARDED", () => {
    setup(RULES_SAFE);
    S.setGuarded(0);
    expect(begin()).toBe(E_NOT_GUARDED);
    expect(commit()).toBe(E_NOT_GUARDED);
    expect(global(G_RECOVERING)).toBe(0);
  });
  it("while recovering: begin, commit and process events are refused", () => {
    setup(RULES_SAFE);
    expect(begin()).toBe(OK);
    expect(global(G_RECOVERING)).toBe(1);
    expect(begin()).toBe(E_RECOVERING);
    expect(commit()).toBe(E_RECOVERING);
    expect(send(L, KIND_ACT)).toBe(E_RECOVERING);
    expect(recv(A, KIND_LOW, 1, 1)).toBe(E_RECOVERING);
    expect(nfx).toBe(0);
    expect(global(G_LOW)).toBe(0);
  });
  it("a bound below what this core knows, or a wrong epoch, is refused and changes nothing", () => {
    setup(RULES_SAFE);
    recv(A, KIND_LOW, 1, 3);
    passed(B, 2, 1);
    expect(begin()).toBe(OK);
    isFx(0, FX_BOUND, 2, 1);
    expect(apply(1, 1, 1)).toBe(E_BAD_BOUND);
    expect(apply(2, 0, 1)).toBe(E_BAD_BOUND);
    expect(apply(2, 1, 2)).toBe(E_BAD_EPOCH);
    expect(apply(2, 1, 0)).toBe(E_BAD_EPOCH);
    expect(nfx).toBe(0);
    expect(global(G_RECOVERING)).toBe(1);
    expect(query(L, Q_ROLE)).toBe(ROLE_LOW);
    expect(query(A, Q_CKPTS)).toBe(1);
    expect(apply(2, 1, 1)).toBe(OK);
  });
});

describe("recovery round: begin", () => {
  it("answers with the highest bounds seen (own passed AT of P^low)", () => {
    setup(RULES_SAFE);
    send(L, KIND_ACT);
    send(L, KIND_ACT);
    send(L, KIND_DEVICE);
    setEv(0, 4 /* EV_AT_RESULT */, L, 0, 0, 0, 0, 0, 1);
    run1();
    expect(begin()).toBe(OK);
    expect(nfx).toBe(1);
    isFx(0, FX_BOUND, 2, 1);
  });
});

describe("rollback and replay", () => {
  it("safe: reclaims with V, rolls back to the oldest checkpoint above V, replays !dirty || index <= V", () => {
    setup(RULES_SAFE);
    stageFill(0, 2, 0x30);
    recv(A, KIND_LOW, 1, 1);                 // C1 (delivered 0 before)
    recv(A, KIND_LOW, 1, 2);                 // C2 (delivered 1 before)
    recvPay(A, KIND_ACT, 0, 0, 0, 2);        // logged: clean
    recv(A, KIND_ACT, 1, 1);                 // logged: dirty, 1 <= V
    recv(A, KIND_LOW, 1, 3);                 // C3
    recv(A, KIND_ACT, 1, 3);                 // logged: dirty, 3 > V
    expect(query(A, Q_CKPTS)).toBe(3);
    expect(query(A, Q_INLOG)).toBe(3);
    expect(query(A, Q_DELIVERED)).toBe(6);
    passed(B, 1, 0);
    begin();
    isFx(0, FX_BOUND, 1, 0);
    expect(apply(1, 0, 1)).toBe(OK);
    expect(nfx).toBe(11);
    isFx(0, FX_FREED, L, 0);
    isFx(1, FX_RETIRE, L);
    isFx(2, FX_RECLAIM, A, 1, 0, 8, 1);
    isFx(3, FX_ROLLBACK, A, 2);
    expect(fx(3, 4)).toBe(8);                // snapshot length
    expect(fx(3, 5)).toBe(5);                // distance: 6 delivered - 1 at C2
    isFx(4, FX_REPLAY, A, KIND_ACT, 2, 7);
    expect(fx(4, 6)).toBe(2);
    expect(fx(4, 7)).toBe(0);
    expect(fx(4, 8)).toBe(0);
    expect(bytesAre(<usize>fx(4, 5), 2, 0x30)).toBe(true);
    isFx(5, FX_REPLAY, A, KIND_ACT);
    expect(fx(5, 7)).toBe(1);
    expect(fx(5, 8)).toBe(1);
    isFx(6, FX_REPLAY_DROPPED, A, KIND_ACT, 0, 0, 1);
    expect(fx(6, 6)).toBe(3);
    isFx(7, FX_FREED, A, 40);
    isFx(8, FX_ROLE, H, ROLE_HA);
    isFx(9, FX_SUPPRESS_NEXT, 1, 0);
    isFx(10, FX_RECOVERED, 1, 0, 1, REASON_FAULT, 0);
    expect(query(A, Q_ROLLBACKS)).toBe(1);
    expect(query(A, Q_LAST_ROLLBACK)).toBe(5);
    expect(query(A, Q_REPLAYED)).toBe(2);
    expect(query(A, Q_DELIVERED)).toBe(3);
  });
  it("safe: after the round every byte is free and the globals restart", () => {
    // continues the previous test's state
    expect(nothingHeld()).toBe(true);
    expect(query(A, Q_DIRTY)).toBe(0);
    expect(query(A, Q_LOCAL)).toBe(0);
    expect(query(L, Q_ROLE)).toBe(ROLE_RETIRED);
    expect(query(H, Q_ROLE)).toBe(ROLE_HA);
    expect(query(H, Q_FROM_SHADOW)).toBe(1);
    expect(global(G_GUARDED)).toBe(0);
    expect(global(G_RECOVERING)).toBe(0);
    expect(global(G_EPOCH)).toBe(1);
    expect(global(G_LAST_V)).toBe(1);
    expect(global(G_SUPPRESS_INT)).toBe(1);
    expect(global(G_KNOWN_V)).toBe(0);
    expect(send(L, KIND_ACT)).toBe(E_RETIRED);
    expect(consumed()).toBe(0);
  });
  it("paper: no reclaim at recovery; rolls back to the smallest checkpoint and replays its log", () => {
    setup(RULES_PAPER);
    stageFill(0, 2, 0x50);
    recv(A, KIND_LOW, 1, 1);                 // C1
    recvPay(A, KIND_ACT, 0, 0, 0, 2);        // logged under local 1
    recv(A, KIND_LOW, 1, 2);                 // folded (prgt 0)
    recv(A, KIND_ACT, 1, 2);                 // dirty: not logged
    begin();
    isFx(0, FX_BOUND, 0, 0);
    expect(apply(0, 0, 1)).toBe(OK);
    expect(countFx(FX_RECLAIM)).toBe(0);
    expect(countFx(FX_REPLAY_DROPPED)).toBe(0);
    isFx(findFx(FX_ROLLBACK), FX_ROLLBACK, A, 1);
    expect(fx(<u32>findFx(FX_ROLLBACK), 5)).toBe(4);
    expect(countFx(FX_REPLAY)).toBe(1);
    const r = <u32>findFx(FX_REPLAY);
    isFx(r, FX_REPLAY, A, KIND_ACT, 2, 7);
    expect(fx(r, 6)).toBe(2);
    expect(fx(r, 8)).toBe(1);
    isFx(findFx(FX_FREED, 1), FX_FREED, A, 16);
    isFx(findFx(FX_SUPPRESS_NEXT), FX_SUPPRESS_NEXT, 0, 0);
    isFx(findFx(FX_RECOVERED), FX_RECOVERED, 0, 0, 1, REASON_FAULT, 0);
    expect(nfx).toBe(8);
    expect(nothingHeld()).toBe(true);
  });
  it("abort runs the same round with REASON_ABORT", () => {
    setup(RULES_SAFE);
    recv(A, KIND_LOW, 1, 1);
    begin();
    expect(apply(0, 0, 1, EV_ABORT)).toBe(OK);
    isFx(findFx(FX_RECOVERED), FX_RECOVERED, 0, 0, 1, REASON_ABORT, 0);
    expect(countFx(FX_ROLLBACK)).toBe(1);
    expect(query(L, Q_ROLE)).toBe(ROLE_RETIRED);
    expect(nothingHeld()).toBe(true);
  });
});

describe("shadow takeover", () => {
  it("safe: resends the shadow outputs above (V, Vext) in generation order across both logs", () => {
    setup(RULES_SAFE);
    send(H, KIND_ACT, 0, 1);      // int 1
    send(H, KIND_DEVICE, 0, 2);   // ext 1
    send(H, KIND_ACT, 0, 3);      // int 2
    send(H, KIND_ACT, 0, 4);      // int 3
    expect(passed(H, 1, 0)).toBe(OK);
    isFx(0, FX_RECLAIM, H, 0, 1, 8, 0);
    begin();
    expect(apply(1, 0, 1)).toBe(OK);
    expect(countFx(FX_RESEND)).toBe(3);
    const r = <u32>findFx(FX_RESEND);
    isFx(r, FX_RESEND, H, LOG_EXT, 5, 6);
    expect(fx(r, 6)).toBe(2);
    expect(fx(r, 7)).toBe(1);
    isFx(r + 1, FX_RESEND, H, LOG_INT, 5, 6);
    expect(fx(r + 1, 6)).toBe(3);
    expect(fx(r + 1, 7)).toBe(2);
    isFx(r + 2, FX_RESEND, H, LOG_INT);
    expect(fx(r + 2, 7)).toBe(3);
    isFx(findFx(FX_ROLE), FX_ROLE, H, ROLE_HA);
    isFx(findFx(FX_FREED, 1), FX_FREED, H, 24);
    isFx(findFx(FX_SUPPRESS_NEXT), FX_SUPPRESS_NEXT, 0, 0);
    expect(nfx).toBe(9);
    expect(query(H, Q_RESENT)).toBe(3);
    expect(global(G_SUPPRESS_INT)).toBe(0);
    expect(nothingHeld()).toBe(true);
  });
  it("safe: suppresses the outputs the cluster already sent up to V / Vext", () => {
    setup(RULES_SAFE);
    send(H, KIND_ACT);
    passed(B, 3, 2);
    begin();
    expect(apply(3, 2, 1)).toBe(OK);
    isFx(findFx(FX_RECLAIM), FX_RECLAIM, H, 0, 1, 8, 0);
    expect(countFx(FX_RESEND)).toBe(0);
    isFx(findFx(FX_SUPPRESS_NEXT), FX_SUPPRESS_NEXT, 2, 2);
    expect(global(G_SUPPRESS_INT)).toBe(2);
    expect(global(G_SUPPRESS_EXT)).toBe(2);
    // the former shadow, now P^ha, swallows exactly that many outputs
    send(H, KIND_ACT); isFx(0, FX_SUPPRESSED, H, 0, LOG_INT, 0);
    send(H, KIND_ACT); isFx(0, FX_SUPPRESSED, H, 0, LOG_INT, 0);
    send(H, KIND_ACT); expect(fx(0, 0)).toBe(FX_SEND);
    send(H, KIND_DEVICE); isFx(0, FX_SUPPRESSED, H, 0, LOG_EXT, 0);
    send(H, KIND_DEVICE); isFx(0, FX_SUPPRESSED, H, 0, LOG_EXT, 0);
    send(H, KIND_DEVICE); isFx(0, FX_DELIVER_DEVICE, H, 0);
    send(A, KIND_ACT); expect(fx(0, 0)).toBe(FX_SEND); // A never was a shadow
  });
  it("safe: a dirty shadow rolls back, voids outputs made after its checkpoint and restores its counters", () => {
    setup(RULES_SAFE);
    send(H, KIND_ACT);            // int 1, before the checkpoint
    recv(H, KIND_ACT, 1, 2);      // checkpoint (sdw counters 1, 0)
    send(H, KIND_ACT);            // int 2: contaminated
    send(H, KIND_DEVICE);         // ext 1: contaminated
    expect(global(G_SDW)).toBe(2);
    begin();
    expect(apply(1, 0, 1)).toBe(OK);
    expect(nfx).toBe(9);
    isFx(2, FX_RECLAIM, H, 0, 1, 8, 1);
    isFx(3, FX_ROLLBACK, H, 2);
    expect(fx(3, 5)).toBe(1);
    isFx(4, FX_VOIDED, H, 1, 1);
    isFx(5, FX_ROLE, H, ROLE_HA);
    isFx(6, FX_FREED, H, 8);
    isFx(7, FX_SUPPRESS_NEXT, 0, 0);
    isFx(8, FX_RECOVERED, 1, 0, 1, REASON_FAULT, 0);
    expect(countFx(FX_RESEND)).toBe(0);
    expect(global(G_SDW)).toBe(0); // counters restart after the round
    expect(nothingHeld()).toBe(true);
  });
  // Per-member numbering (docs/protocol.md point 4): each shadow numbers its own outputs, so
  // one that rolls back restores only its own counters and never renumbers another's; the
  // round is exact (before per-member sequences this case was reported inexact).
  it("safe: a shadow that rolls back restores only its own counters; the round is exact", () => {
    setup(RULES_SAFE, true); // B and H are shadows
    send(H, KIND_ACT);            // H: int 1
    recv(B, KIND_ACT, 1, 1);      // B checkpoints with sdw counter 1
    send(H, KIND_ACT);            // H: int 2
    begin();
    expect(apply(0, 0, 1)).toBe(OK);
    isFx(findFx(FX_ROLLBACK), FX_ROLLBACK, B, 1);
    expect(countFx(FX_VOIDED)).toBe(0);
    expect(countFx(FX_RESEND)).toBe(2);
    expect(countFx(FX_ROLE)).toBe(2);
    isFx(findFx(FX_RECOVERED), FX_RECOVERED, 0, 0, 1, REASON_FAULT, 0);
  });
  it("paper: a shadow behind the cluster resends its whole logs, inputs excepted", () => {
    setup(RULES_PAPER);
    recv(H, KIND_ACT, 1, 1);          // checkpoint
    recvPay(H, KIND_ACT, 0, 0, 0, 3); // logged input, in int_msg_log
    send(H, KIND_ACT);                // output int 1
    send(H, KIND_DEVICE);             // output ext, index sdw = 1
    expect(query(H, Q_OUTINT)).toBe(2);
    expect(query(H, Q_OUTEXT)).toBe(1);
    begin();
    expect(apply(0, 0, 1)).toBe(OK);
    isFx(findFx(FX_ROLLBACK), FX_ROLLBACK, H, 1);
    expect(countFx(FX_REPLAY)).toBe(1);
    isFx(findFx(FX_REPLAY), FX_REPLAY, H, KIND_ACT, 2, 7);
    expect(countFx(FX_RESEND)).toBe(2);
    const r = <u32>findFx(FX_RESEND);
    isFx(r, FX_RESEND, H, LOG_INT);
    expect(fx(r, 7)).toBe(1);
    isFx(r + 1, FX_RESEND, H, LOG_EXT);
    expect(fx(r + 1, 7)).toBe(1);
    isFx(findFx(FX_SUPPRESS_NEXT), FX_SUPPRESS_NEXT, 0, 0);
    expect(query(H, Q_REPLAYED)).toBe(1);
    expect(query(H, Q_RESENT)).toBe(2);
    expect(nothingHeld()).toBe(true);
  });
  it("paper: a shadow ahead of its counter (iVR > int_mSN_G^high_sdw) suppresses the difference", () => {
    setup(RULES_PAPER);
    send(H, KIND_ACT);
    expect(passed(H, 3, 0)).toBe(OK);
    expect(query(H, Q_OUTINT)).toBe(0);
    begin();
    expect(apply(3, 0, 1)).toBe(OK);
    expect(countFx(FX_RESEND)).toBe(0);
    isFx(findFx(FX_SUPPRESS_NEXT), FX_SUPPRESS_NEXT, 2, 0);
    expect(global(G_SUPPRESS_INT)).toBe(2);
  });
});

describe("commit", () => {
  it("frees everything, retires the shadows and promotes the new versions, keeping a pending AT", () => {
    setup(RULES_SAFE);
    recv(A, KIND_LOW, 1, 1);
    recv(A, KIND_ACT, 0, 0);
    send(H, KIND_ACT);
    send(L, KIND_ACT);
    send(L, KIND_DEVICE);
    expect(commit()).toBe(OK);
    expect(nfx).toBe(6);
    isFx(0, FX_FREED, L, 0);
    isFx(1, FX_ROLE, L, ROLE_HA);
    isFx(2, FX_FREED, A, 16);
    isFx(3, FX_FREED, B, 0);
    isFx(4, FX_FREED, H, 8);
    isFx(5, FX_RETIRE, H);
    expect(nothingHeld()).toBe(true);
    expect(query(L, Q_ROLE)).toBe(ROLE_HA);
    expect(query(L, Q_PENDING_AT)).toBe(1);
    expect(query(H, Q_ROLE)).toBe(ROLE_RETIRED);
    expect(query(A, Q_DIRTY)).toBe(0);
    expect(query(A, Q_CKPTS)).toBe(0);
    expect(query(A, Q_LOCAL)).toBe(0);
    expect(global(G_GUARDED)).toBe(0);
    expect(global(G_LOW)).toBe(0);
    expect(global(G_SDW)).toBe(0);
    expect(global(G_EPOCH)).toBe(0);
    expect(send(H, KIND_ACT)).toBe(E_RETIRED);
    expect(commit()).toBe(E_NOT_GUARDED);
  });
});
