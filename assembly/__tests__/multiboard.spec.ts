// Members on several boards (docs/protocol.md point 4, "Members on several boards"): the
// core in vector form. One core is one board; here it hosts member slot 2 (L2) and its
// shadow (H2), a G_act process A; member slot 1 lives on another board, so its indexes
// arrive only as vectors in events (EW_VOFF) and its counters are not here.
import {
  E_BAD_CONFIG, E_BAD_ROLE, EV_AT_RESULT, EV_PASSED_AT, EV_RECOVER_APPLY, EV_RECOVER_BEGIN, EV_RECV,
  EV_SEND, EW_STEP, EW_VOFF, FX_AT_REQUIRED, FX_BOUND, FX_BROADCAST_PASSED, FX_CHECKPOINT, FX_RECLAIM,
  FX_RECOVERED, FX_REPLAY, FX_REPLAY_DROPPED, FX_RESEND, FX_ROLLBACK, FX_SEND, FX_SUPPRESS_NEXT,
  KIND_ACT, KIND_DEVICE, KIND_LOW, LOG_INT, OK, ROLE_HA, ROLE_HS, ROLE_LOW, RULES_FOLDED, RULES_SAFE,
} from "../constants";
import {
  beginGuarded, entryVec, globalVec, init, procVec, Q_CKPTS, Q_DIRTY, Q_INLOG, query, setRole, setSlot, setTwin, stagePtr,
} from "../index";
import * as S from "../state";
import { VB } from "../vec";
import { countFx, evWord, findFx, fx, resetAll, run1, setEv } from "./helpers";

const initStatus = init(RULES_SAFE, 4, 16, 1024, 0, 4, 256, 8, 256);
const L2: u32 = 0, H2: u32 = 1, A: u32 = 2, B: u32 = 3;

function setup(rules: u32 = RULES_SAFE): void {
  resetAll();
  S.setRules(rules);
  setRole(L2, ROLE_LOW); setRole(H2, ROLE_HS); setRole(A, ROLE_HA); setRole(B, ROLE_HA);
  expect(setSlot(L2, 2)).toBe(OK);
  expect(setTwin(H2, L2)).toBe(OK);
  expect(beginGuarded()).toBe(OK);
}
// Two vectors at stage offsets 512 and 512 + VB (the event's EW_VOFF is 1 + 512).
const VOFF: u32 = 512;
function vec(k: u32, a: u32, b: u32): void {
  const at = stagePtr() + VOFF + k * VB;
  memory.fill(at, 0, VB);
  store<u32>(at, a); store<u32>(at, b, 4);
}
/** A receives a message whose index is the vector (a, b). */
function recvVec(pid: u32, kind: u32, dirty: u32, a: u32, b: u32, step1: u32 = 0, old: bool = false): i32 {
  vec(0, a, b);
  setEv(0, EV_RECV, pid, kind, dirty, 0, (S.epoch - (old ? 1 : 0)) & 15, 8);
  evWord(0, EW_VOFF, 1 + VOFF);
  evWord(0, EW_STEP, step1);
  return run1();
}
function passedVec(pid: u32, p0: u32, p1: u32, q0: u32, q1: u32): i32 {
  vec(0, p0, p1); vec(1, q0, q1);
  setEv(0, EV_PASSED_AT, pid, 0, 0, 0, S.epoch & 15);
  evWord(0, EW_VOFF, 1 + VOFF);
  return run1();
}
function applyVec(v0: u32, v1: u32, e0: u32, e1: u32): i32 {
  setEv(0, EV_RECOVER_BEGIN, 0); expect(run1()).toBe(OK);
  vec(0, v0, v1); vec(1, e0, e1);
  setEv(0, EV_RECOVER_APPLY, 0, 0, 0, 0, S.epoch + 1);
  evWord(0, EW_VOFF, 1 + VOFF);
  return run1();
}
function send(pid: u32, kind: u32, step1: u32 = 0): i32 {
  setEv(0, EV_SEND, pid, kind, 0, 0, 0, 0, 0, 0, 0, 0, 5, 6);
  evWord(0, EW_STEP, step1);
  return run1();
}
function vAt(addr: u32, j: u32): u32 { return load<u32>(<usize>addr + <usize>j * 4); }

describe("setup", () => {
  it("init succeeded", () => { expect(initStatus).toBe(OK); });
  it("setSlot names a member's slot; refuses a non-member, slot 0, slot 17 and one slot twice", () => {
    resetAll();
    setRole(L2, ROLE_LOW); setRole(A, ROLE_HA); setRole(B, ROLE_LOW);
    expect(setSlot(A, 1)).toBe(E_BAD_ROLE);
    expect(setSlot(L2, 0)).toBe(E_BAD_CONFIG);
    expect(setSlot(L2, 17)).toBe(E_BAD_CONFIG);
    expect(setSlot(L2, 2)).toBe(OK);
    expect(setSlot(B, 2)).toBe(OK);
    expect(beginGuarded()).toBe(E_BAD_CONFIG);   // two members, one slot
    expect(setSlot(B, 1)).toBe(OK);
    expect(beginGuarded()).toBe(OK);
    expect(S.procAt(L2).slot).toBe(2);
    expect(S.procAt(B).slot).toBe(1);
  });
  it("an unnamed member takes the lowest free slot", () => {
    resetAll();
    setRole(L2, ROLE_LOW); setRole(B, ROLE_LOW);
    expect(setSlot(B, 1)).toBe(OK);
    expect(beginGuarded()).toBe(OK);
    expect(S.procAt(L2).slot).toBe(2);
  });
});

describe("a member's own sequence", () => {
  it("member slot 2 numbers its own messages to G_act: (2, 1), (2, 2), whatever slot 1 sent elsewhere", () => {
    setup();
    expect(send(L2, KIND_ACT)).toBe(OK);
    let i = findFx(FX_SEND);
    expect(fx(<u32>i, 4)).toBe(1);                 // the header's index: k
    expect(vAt(fx(<u32>i, 6), 0)).toBe(0);
    expect(vAt(fx(<u32>i, 6), 1)).toBe(1);          // the vector (0, 1): member 2's first
    expect(send(L2, KIND_ACT)).toBe(OK);
    i = findFx(FX_SEND);
    expect(fx(<u32>i, 4)).toBe(2);
    expect(vAt(fx(<u32>i, 6), 1)).toBe(2);
    expect(globalVec(4, 1)).toBe(2);                // N_2 = 2
    expect(globalVec(4, 0)).toBe(0);                // N_1 is not kept here
  });
  it("to another member it sends its whole causal vector", () => {
    setup();
    expect(recvVec(L2, KIND_LOW, 1, 4, 0)).toBe(OK); // member 1's vector (4, 0), no step: learnt at once
    expect(send(L2, KIND_ACT)).toBe(OK);
    expect(send(L2, KIND_LOW)).toBe(OK);
    const i = findFx(FX_SEND);
    expect(vAt(fx(<u32>i, 6), 0)).toBe(4);
    expect(vAt(fx(<u32>i, 6), 1)).toBe(1);
  });
});

describe("I2: a pass validates exactly the causal past, per member (P = knownV ⊔ cv)", () => {
  it("an output of step 3 depends on member 1 up to 4, not on what a later step taught", () => {
    setup();
    expect(send(L2, KIND_ACT, 3)).toBe(OK);            // (2, 1), step 2
    expect(recvVec(L2, KIND_LOW, 1, 4, 0, 3)).toBe(OK); // step 2's input: cv[0] = 4 when step 2 is output
    expect(recvVec(L2, KIND_LOW, 1, 9, 0, 5)).toBe(OK); // step 4's input: held apart
    expect(send(L2, KIND_DEVICE, 4)).toBe(OK);          // a device message of step 3
    expect(findFx(FX_AT_REQUIRED)).toBe(0);
    expect(procVec(L2, 1, 0)).toBe(4);
    expect(procVec(L2, 1, 1)).toBe(1);
    setEv(0, EV_AT_RESULT, L2, 0, 0, 0, 0, 0, 1);
    expect(run1()).toBe(OK);
    const b = findFx(FX_BROADCAST_PASSED);
    expect(b).toBeGreaterThanOrEqual(0);
    expect(vAt(fx(<u32>b, 5), 0)).toBe(4);             // P = (4, 1)
    expect(vAt(fx(<u32>b, 5), 1)).toBe(1);
    expect(vAt(fx(<u32>b, 6), 1)).toBe(1);             // Q = (0, 1): member 2's first passed device message
    expect(vAt(fx(<u32>b, 6), 0)).toBe(0);
    expect(globalVec(0, 0)).toBe(4);
    expect(globalVec(1, 1)).toBe(1);
  });
});

describe("I4: checkpoints by vector, monotone; reclaim componentwise", () => {
  it("a rise in any component checkpoints; a pass covering only one component keeps the other's", () => {
    setup();
    expect(recvVec(A, KIND_LOW, 1, 3, 0)).toBe(OK);      // from member 1 (other board): (3, 0)
    expect(findFx(FX_CHECKPOINT)).toBeGreaterThanOrEqual(0);
    expect(recvVec(A, KIND_LOW, 1, 2, 0)).toBe(OK);      // below L: folded, no checkpoint
    expect(findFx(FX_CHECKPOINT)).toBe(-1);
    expect(recvVec(A, KIND_LOW, 1, 0, 1)).toBe(OK);      // from member 2: (0, 1) rises
    expect(findFx(FX_CHECKPOINT)).toBeGreaterThanOrEqual(0);
    expect(query(A, Q_CKPTS)).toBe(2);
    expect(entryVec(A, 0, 1, 0, 0)).toBe(3);            // c = L ⊔ x = (3, 1)
    expect(entryVec(A, 0, 1, 0, 1)).toBe(1);
    expect(passedVec(A, 3, 0, 0, 0)).toBe(OK);           // validates member 1 up to 3 only
    expect(query(A, Q_CKPTS)).toBe(1);
    expect(query(A, Q_DIRTY)).toBe(1);
    expect(passedVec(A, 2, 1, 0, 0)).toBe(OK);           // (3, 1) is not <= (2, 1)
    expect(query(A, Q_CKPTS)).toBe(1);
    expect(passedVec(A, 0, 1, 0, 0)).toBe(OK);           // knownV = (3, 1) now, but reclaim uses the pass's P
    expect(query(A, Q_CKPTS)).toBe(1);
    expect(passedVec(A, 3, 1, 0, 0)).toBe(OK);
    expect(query(A, Q_CKPTS)).toBe(0);
    expect(query(A, Q_DIRTY)).toBe(0);
  });
  it("folded keys by the highest folded vector", () => {
    setup(RULES_FOLDED);
    expect(recvVec(A, KIND_LOW, 1, 3, 0)).toBe(OK);      // C1 (3, 0); prgt 0
    expect(recvVec(A, KIND_LOW, 1, 3, 2)).toBe(OK);      // folded (printed rule): c2 = (3, 2)
    expect(query(A, Q_CKPTS)).toBe(1);
    expect(entryVec(A, 0, 0, 1, 1)).toBe(2);
    expect(passedVec(A, 3, 1, 0, 0)).toBe(OK);
    expect(query(A, Q_CKPTS)).toBe(1);
    expect(passedVec(A, 3, 2, 0, 0)).toBe(OK);
    expect(query(A, Q_CKPTS)).toBe(0);
  });
});

describe("I7: replay and in-flight filters compare vectors", () => {
  it("replays !dirty || x <= V, drops the rest; V per member", () => {
    setup();
    expect(recvVec(A, KIND_LOW, 1, 1, 0)).toBe(OK);       // C (1, 0)
    expect(recvVec(A, KIND_ACT, 1, 1, 0)).toBe(OK);       // logged, <= V below
    expect(recvVec(A, KIND_ACT, 1, 0, 0)).toBe(OK);       // logged
    expect(recvVec(A, KIND_LOW, 1, 1, 1)).toBe(OK);       // rises: C (1, 1)
    expect(recvVec(A, KIND_ACT, 1, 1, 1)).toBe(OK);       // logged, not <= V
    expect(query(A, Q_INLOG)).toBe(3);
    expect(applyVec(0, 1, 0, 0)).toBe(OK);                // V = (0, 1): neither checkpoint is <= V
    expect(findFx(FX_ROLLBACK)).toBeGreaterThanOrEqual(0);
    expect(countFx(FX_REPLAY)).toBe(1);                   // (0, 0) only
    expect(countFx(FX_REPLAY_DROPPED)).toBe(2);           // (1, 0) and (1, 1): member 1's first is not validated
  });
  it("a message validated in member 1's component but not in member 2's is dropped", () => {
    setup();
    expect(recvVec(A, KIND_LOW, 1, 1, 0)).toBe(OK);       // C1 (1, 0)
    expect(recvVec(A, KIND_LOW, 1, 1, 1)).toBe(OK);       // C2 (1, 1)
    expect(recvVec(A, KIND_ACT, 1, 1, 1)).toBe(OK);       // logged: not <= (1, 0)
    expect(recvVec(A, KIND_ACT, 1, 1, 0)).toBe(OK);       // logged: <= (1, 0)
    expect(applyVec(1, 0, 0, 0)).toBe(OK);                // C1 reclaimed, back to C2
    expect(countFx(FX_REPLAY)).toBe(1);
    expect(countFx(FX_REPLAY_DROPPED)).toBe(1);
    const d = findFx(FX_REPLAY_DROPPED);
    expect(fx(<u32>d, 6)).toBe(1);                        // the dirty one, its component 1 is 1
  });
  // Found by the generated systems (gen-52 seed 495583521): a checkpoint can be not <= V
  // through the local vector while its trigger is <= V; a rollback to an older checkpoint
  // must replay that trigger, so it is logged.
  it("a later checkpoint's trigger that is validated on its own is logged and replayed", () => {
    setup();
    expect(recvVec(A, KIND_LOW, 1, 3, 0)).toBe(OK);       // C1 (3, 0)
    expect(recvVec(A, KIND_ACT, 1, 0, 1)).toBe(OK);       // C2 (3, 1), trigger (0, 1): L (3, 0) is not below it
    expect(query(A, Q_CKPTS)).toBe(2);
    expect(query(A, Q_INLOG)).toBe(1);
    expect(applyVec(0, 1, 0, 0)).toBe(OK);                // back to C1; (0, 1) is validated: its sender keeps it
    expect(countFx(FX_REPLAY)).toBe(1);
    expect(countFx(FX_REPLAY_DROPPED)).toBe(0);
  });
  it("a trigger above the local vector is not logged (one member: as before)", () => {
    setup();
    expect(recvVec(A, KIND_LOW, 1, 3, 0)).toBe(OK);
    expect(recvVec(A, KIND_ACT, 1, 4, 1)).toBe(OK);       // (4, 1) >= L: its checkpoint is <= V iff it is
    expect(query(A, Q_CKPTS)).toBe(2);
    expect(query(A, Q_INLOG)).toBe(0);
  });
  it("a dirty message in flight across the recovery is dropped iff its vector is not <= V", () => {
    setup();
    expect(applyVec(2, 1, 0, 0)).toBe(OK);
    expect(recvVec(A, KIND_ACT, 1, 2, 1, 0, true)).toBe(OK);
    expect(fx(0, 0)).toBe(1 /* FX_DELIVER */);
    expect(recvVec(A, KIND_ACT, 1, 2, 2, 0, true)).toBe(OK);
    expect(fx(0, 0)).toBe(2 /* FX_DROP */);
  });
});

describe("I8: the shadow of member 2 resends above V[1] and suppresses up to it", () => {
  it("whatever member 1's component says", () => {
    setup();
    expect(send(H2, KIND_ACT)).toBe(OK);   // its 1st
    expect(send(H2, KIND_ACT)).toBe(OK);   // 2nd
    expect(send(H2, KIND_ACT)).toBe(OK);   // 3rd
    expect(passedVec(A, 9, 1, 0, 0)).toBe(OK); // reclaims its 1st only (V[1] = 1)
    expect(applyVec(9, 2, 0, 0)).toBe(OK);
    expect(countFx(FX_RESEND)).toBe(1);    // its 3rd
    const r = findFx(FX_RESEND);
    expect(fx(<u32>r, 2)).toBe(LOG_INT);
    expect(fx(<u32>r, 7)).toBe(3);
    const s = findFx(FX_SUPPRESS_NEXT);
    expect(fx(<u32>s, 1)).toBe(0);         // member 2 delivered 2, the shadow made 3: nothing to suppress
    expect(findFx(FX_RECOVERED)).toBeGreaterThanOrEqual(0);
  });
  it("suppresses the twins of member 2's validated messages it has not made yet", () => {
    setup();
    expect(send(H2, KIND_ACT)).toBe(OK);
    expect(applyVec(0, 3, 0, 0)).toBe(OK);
    expect(countFx(FX_RESEND)).toBe(0);
    expect(fx(<u32>findFx(FX_SUPPRESS_NEXT), 1)).toBe(2);
  });
});

describe("bounds on the wire to the host", () => {
  it("FX_BOUND hands the known vectors", () => {
    setup();
    expect(passedVec(A, 5, 7, 1, 2)).toBe(OK);
    setEv(0, EV_RECOVER_BEGIN, 0);
    expect(run1()).toBe(OK);
    const b = findFx(FX_BOUND);
    expect(fx(<u32>b, 1)).toBe(5);
    expect(vAt(fx(<u32>b, 3), 1)).toBe(7);
    expect(vAt(fx(<u32>b, 4), 1)).toBe(2);
    expect(globalVec(2, 1)).toBe(0);
  });
});
