// Specs written to kill mutants that survived `npm run mutate` (scripts/mutate.ts):
// each pins a fact the other specs and suites did not check. The mutant each one
// kills is named above it (file, the change, and its stable mutant id); check with
//   npm run mutate -- --only ID
import {
  E_BAD_CONFIG, E_UNKNOWN_PID, EV_AT_RESULT, EV_COMMIT, EV_PASSED_AT, EV_RECOVER_APPLY, EV_RECOVER_BEGIN, EV_RECV, EV_SEND, FX_DELIVER_DEVICE,
  EW_STEP, EW_VOFF, FX_AT_REQUIRED, FX_RECOVERED, FX_REPLAY, FX_RESEND, FX_RETIRE, FX_ROLE, FX_SEND, FX_SUPPRESS_NEXT, FX_SUPPRESSED, FX_VOIDED, KIND_ACT, KIND_DEVICE, KIND_LOW, LOG_EXT, LOG_INT, OK, ROLE_HA, ROLE_HS, ROLE_LOW, RULES_PAPER,
  RULES_SAFE,
} from "../constants";
import {
  beginGuarded, causalAt, entryFlags, entryHigh, entryIndex, entryLen, entryPtr, init, Q_AT_PASSED, Q_CKPTS, Q_DIRTY, Q_EXT_OUT, Q_HELD, Q_INLOG, Q_PENDING_AT, Q_REPLAYED,
  Q_ROLE, Q_SUPPRESS_DEV, query, setRole, setTwin, stageCapacity, globalVec, stagePtr,
  decodeBoundsHdr, decodeHeader, decodeVecVals, entryVec, Q_FROM_SHADOW, hdrField, resumeEpoch, setSlot,
} from "../index";
import { VB, vGet } from "../vec";
import * as S from "../state";
import { cvAt } from "../causal";
import { E_BAD_EPOCH, E_GUARDED, E_PAYLOAD_RANGE, E_ROLE_SEND, FX_BROADCAST_PASSED, KIND_SDW, E_HDR_EMPTY, E_HDR_TRUNCATED } from "../constants";
import { countFx, evWord, findFx, fx, nfx, resetAll, run1, setEv, stageFill } from "./helpers";

// 4 processes, 16 events, 256 stage bytes, 4 checkpoints / 128 bytes, 4 log records / 128 bytes.
const initStatus = init(RULES_SAFE, 4, 16, 256, 0, 4, 128, 4, 128);
const L: u32 = 0, A: u32 = 1, B: u32 = 2, H: u32 = 3;

function setup(r: u32): void {
  resetAll();
  S.setRules(r);
  // setRole zeroes the output-commit counters (extOut, suppressDev) too
  setRole(L, ROLE_LOW); setRole(A, ROLE_HA); setRole(B, ROLE_HA); setRole(H, ROLE_HS);
  beginGuarded();
}
function recv(pid: u32, kind: u32, dirty: u32, idx: u32): i32 {
  setEv(0, EV_RECV, pid, kind, dirty, idx, S.epoch & 15, 8);
  return run1();
}
function send(pid: u32, kind: u32): i32 {
  setEv(0, EV_SEND, pid, kind, 0, 0, 0, 0, 0, 0, 0, 0, 5, 6);
  return run1();
}
function passed(pid: u32, v: u32, vext: u32): i32 {
  setEv(0, EV_PASSED_AT, pid, 0, 0, 0, S.epoch & 15, 0, v, vext);
  return run1();
}
function atResult(pid: u32, verdict: u32): i32 {
  setEv(0, EV_AT_RESULT, pid, 0, 0, 0, 0, 0, verdict);
  return run1();
}
/** A whole recovery round with bounds (v, vext). */
function recover(v: u32, vext: u32): i32 {
  setEv(0, EV_RECOVER_BEGIN, 0);
  const st = run1();
  if (st != OK) return st;
  setEv(0, EV_RECOVER_APPLY, 0, 0, 0, 0, S.epoch + 1, 0, v, vext);
  return run1();
}

describe("setup", () => {
  it("init succeeded", () => { expect(initStatus).toBe(OK); });
});

/** A P^ha with two checkpoints and, between them, one logged input. */
function contaminatedTwice(): void {
  setup(RULES_SAFE);
  expect(send(L, KIND_ACT)).toBe(OK);           // int_mSN_G^low = 1
  expect(send(L, KIND_ACT)).toBe(OK);           // = 2
  expect(recv(A, KIND_LOW, 1, 1)).toBe(OK);     // checkpoint 1
  expect(recv(A, KIND_DEVICE, 0, 0)).toBe(OK);  // logged (A is dirty): inside checkpoint 2's snapshot
  expect(query(A, Q_INLOG)).toBe(1);
  expect(recv(A, KIND_LOW, 1, 2)).toBe(OK);     // checkpoint 2, taken after that input
  expect(query(A, Q_CKPTS)).toBe(2);
}

// Kills rules.ts onRecv: delete `store<u32>(ck, p.inLog.nextSeq, R_A0);` (176f5c6d).
// A checkpoint remembers where the receiver log stood when it was taken; reclamation
// frees the inputs logged before the oldest remaining checkpoint (they are in its
// snapshot), and rollback replays the log from there. reclaim.spec.ts builds its
// checkpoints by hand, so nothing checked that onRecv records the position.
describe("a checkpoint records the receiver log's position (reclaim and replay use it)", () => {
  it("a pass that frees the older checkpoint frees the input logged before the newer one", () => {
    contaminatedTwice();
    expect(passed(A, 1, 0)).toBe(OK);
    expect(query(A, Q_CKPTS)).toBe(1);
    expect(query(A, Q_INLOG)).toBe(0);
    expect(query(A, Q_DIRTY)).toBe(1);
    expect(query(A, Q_HELD)).toBe(8); // checkpoint 2's snapshot only
  });
  it("rollback to the newer checkpoint does not replay an input its snapshot already holds", () => {
    contaminatedTwice();
    expect(passed(A, 1, 0)).toBe(OK);
    expect(recover(1, 0)).toBe(OK);
    expect(countFx(FX_REPLAY)).toBe(0);
    expect(query(A, Q_REPLAYED)).toBe(0);
  });
  it("the same without the pass: recovery's own reclamation with V frees it", () => {
    contaminatedTwice();
    expect(vGet(S.knownV, 0)).toBe(0);
    setEv(0, EV_PASSED_AT, B, 0, 0, 0, S.epoch & 15, 0, 1, 0); // V = 1 known (to B only)
    expect(run1()).toBe(OK);
    expect(query(A, Q_INLOG)).toBe(1); // A has not heard of it
    expect(recover(1, 0)).toBe(OK);
    expect(countFx(FX_REPLAY)).toBe(0);
  });
});

// Output commit: p.extOut counts the device messages a process has delivered (Q_EXT_OUT,
// read by telemetry; a checkpoint stores it, and rollback turns the difference into
// suppressDev). Nothing read the count itself. Kills:
//   rules.ts onSend: delete `p.extOut++;` on the clean delivery path (43f48b13)
//   rules.ts onSend: delete `p.extOut++;` on the suppressed-regenerated path (71997f3c)
//   rules.ts onAtResult: delete `p.extOut++;` after a paper P^ha pass (5dc88a50)
describe("output commit: the count of device messages delivered", () => {
  it("a clean P^ha's device message counts", () => {
    setup(RULES_SAFE);
    expect(send(A, KIND_DEVICE)).toBe(OK);
    expect(findFx(FX_DELIVER_DEVICE)).toBe(0);
    expect(query(A, Q_EXT_OUT)).toBe(1);
    expect(send(A, KIND_DEVICE)).toBe(OK);
    expect(query(A, Q_EXT_OUT)).toBe(2);
  });
  it("after a rollback, a regenerated device message is suppressed and counts again (it was delivered)", () => {
    setup(RULES_SAFE);
    expect(send(A, KIND_DEVICE)).toBe(OK);        // d1, clean: delivered
    expect(send(L, KIND_ACT)).toBe(OK);
    expect(recv(A, KIND_LOW, 1, 1)).toBe(OK);     // checkpoint: 1 device message out before it
    expect(send(A, KIND_DEVICE)).toBe(OK);        // d2, dirty: AT first
    expect(query(A, Q_PENDING_AT)).toBe(1);
    expect(atResult(A, 1)).toBe(OK);
    expect(findFx(FX_DELIVER_DEVICE)).toBe(0);
    expect(query(A, Q_EXT_OUT)).toBe(2);
    expect(recover(0, 0)).toBe(OK);               // back to the checkpoint: d2 will be regenerated
    expect(query(A, Q_EXT_OUT)).toBe(1);
    expect(query(A, Q_SUPPRESS_DEV)).toBe(1);
    expect(send(A, KIND_DEVICE)).toBe(OK);        // d2 again: the device already has it
    expect(countFx(FX_SUPPRESSED)).toBe(1);
    expect(countFx(FX_DELIVER_DEVICE)).toBe(0);
    expect(query(A, Q_SUPPRESS_DEV)).toBe(0);
    expect(query(A, Q_EXT_OUT)).toBe(2);
    expect(send(A, KIND_DEVICE)).toBe(OK);        // d3: new
    expect(findFx(FX_DELIVER_DEVICE)).toBe(0);
    expect(query(A, Q_EXT_OUT)).toBe(3);
  });
  it("paper: a P^ha's own pass delivers the message and counts it", () => {
    setup(RULES_PAPER);
    expect(send(L, KIND_ACT)).toBe(OK);
    expect(recv(A, KIND_LOW, 1, 1)).toBe(OK);
    expect(send(A, KIND_DEVICE)).toBe(OK);
    expect(atResult(A, 1)).toBe(OK);
    expect(query(A, Q_AT_PASSED)).toBe(1);
    expect(countFx(FX_DELIVER_DEVICE)).toBe(1);
    expect(query(A, Q_EXT_OUT)).toBe(1);
    expect(nfx).toBeGreaterThan(0);
  });
});

// Per-member numbering (causal.ts): with several cluster members each shadow numbers its
// own suppressed outputs (p.sInt, p.sExt). A new guarded operation must start them at 0
// (setRole and commit reset them through Proc.resetCounters). Kills:
//   proc.ts resetCounters: delete `this.sInt = 0;` (87453ce9), `this.sInt = 0` -> 1 (62d68af6)
//   proc.ts resetCounters: delete `this.sExt = 0;` (93a2f31c), `this.sExt = 0` -> 1 (d3bf59c9)
function twoMembers(): void {
  S.setRules(RULES_SAFE);
  expect(setRole(L, ROLE_LOW)).toBe(OK);
  expect(setRole(B, ROLE_LOW)).toBe(OK);
  expect(setRole(A, ROLE_HA)).toBe(OK);
  expect(setRole(H, ROLE_HS)).toBe(OK);
  expect(setTwin(H, L)).toBe(OK);
  expect(beginGuarded()).toBe(OK);
}
/** H suppresses one output of this kind; returns the index its log gave it. */
function shadowOut(kind: u32, log: u32): u32 {
  expect(send(H, kind)).toBe(OK);
  const i = findFx(FX_SUPPRESSED);
  expect(i).toBeGreaterThanOrEqual(0);
  expect(fx(<u32>i, 1)).toBe(H);
  expect(fx(<u32>i, 3)).toBe(log);
  return fx(<u32>i, 4);
}
describe("per-member numbering: a shadow's own output numbers start at 1 in every guarded operation", () => {
  it("after a commit and a new operation with the same roles", () => {
    resetAll();
    twoMembers();
    expect(shadowOut(KIND_ACT, LOG_INT)).toBe(1);
    expect(shadowOut(KIND_DEVICE, LOG_EXT)).toBe(1);
    expect(shadowOut(KIND_ACT, LOG_INT)).toBe(2);
    expect(shadowOut(KIND_DEVICE, LOG_EXT)).toBe(2);
    setEv(0, EV_COMMIT, 0);
    expect(run1()).toBe(OK);
    resetAll();
    twoMembers();
    expect(shadowOut(KIND_ACT, LOG_INT)).toBe(1);
    expect(shadowOut(KIND_DEVICE, LOG_EXT)).toBe(1);
  });
});

// Per-member takeover: each old version suppresses exactly its twin's validated outputs
// that it has not yet produced itself (V_j - its own count), and sends the rest. Kills:
//   recovery.ts onRecoverApply: `vi - p.sInt` -> `vi + p.sInt` (9dbd15bc), `ve - p.sExt` -> `+` (998f2cc4)
//   recovery.ts onRecoverApply: `... ? vi - p.sInt : 0` -> `: 1` (ebc8ef99), the same for ext (90094c5b)
describe("per-member takeover: a shadow suppresses its twin's validated outputs it has not produced yet", () => {
  it("twin validated 2 of each, shadow produced 1 of each: it suppresses 1 of each, then sends", () => {
    resetAll();
    twoMembers();
    expect(send(L, KIND_ACT)).toBe(OK);
    expect(send(L, KIND_ACT)).toBe(OK);
    for (let k = 0; k < 2; k++) {
      expect(send(L, KIND_DEVICE)).toBe(OK);
      expect(atResult(L, 1)).toBe(OK);
    }
    expect(vGet(S.knownV, 0)).toBe(2);
    expect(vGet(S.knownVext, 0)).toBe(2);
    expect(shadowOut(KIND_ACT, LOG_INT)).toBe(1);
    expect(shadowOut(KIND_DEVICE, LOG_EXT)).toBe(1);
    expect(recover(2, 2)).toBe(OK);
    expect(countFx(FX_RESEND)).toBe(0);
    const i = findFx(FX_SUPPRESS_NEXT);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(fx(<u32>i, 1)).toBe(1);
    expect(fx(<u32>i, 2)).toBe(1);
    expect(fx(<u32>findFx(FX_RECOVERED), 5)).toBe(0); // exact
    // H, now active: its next output of each kind is its twin's validated 2nd: suppressed
    expect(send(H, KIND_ACT)).toBe(OK);
    expect(countFx(FX_SUPPRESSED)).toBe(1);
    expect(send(H, KIND_DEVICE)).toBe(OK);
    expect(countFx(FX_SUPPRESSED)).toBe(1);
    // then new outputs go out
    expect(send(H, KIND_ACT)).toBe(OK);
    expect(countFx(FX_SEND)).toBe(1);
    expect(send(H, KIND_DEVICE)).toBe(OK);
    expect(countFx(FX_DELIVER_DEVICE)).toBe(1);
  });
  it("nothing validated: the shadow resends what it produced and suppresses nothing", () => {
    resetAll();
    twoMembers();
    expect(send(L, KIND_ACT)).toBe(OK);
    expect(shadowOut(KIND_ACT, LOG_INT)).toBe(1);
    expect(shadowOut(KIND_DEVICE, LOG_EXT)).toBe(1);
    expect(recover(0, 0)).toBe(OK);
    expect(countFx(FX_RESEND)).toBe(2);
    const i = findFx(FX_SUPPRESS_NEXT);
    expect(fx(<u32>i, 1)).toBe(0);
    expect(fx(<u32>i, 2)).toBe(0);
    expect(send(H, KIND_ACT)).toBe(OK);
    expect(countFx(FX_SEND)).toBe(1);
    expect(send(H, KIND_DEVICE)).toBe(OK);
    expect(countFx(FX_DELIVER_DEVICE)).toBe(1);
  });
});

// Causal validation (causal.ts): what a member learns from another member's link message
// (the vector the sender had), kept apart while the input belongs to a later step than
// the member's latest output, and folded in when it outputs that step. Kills:
//   causal.ts maxInto: `src + j * 4` -> `src - j * 4` (7be39848)
//   causal.ts learn (pending records full): `maxInto(r + 4, v)` -> `maxInto(r - 4, v)` (e3e266e6), deleted (aded3939)
/** A G_act message carrying index idx reaches pid; step1 = its step + 1 (0: unknown). */
// What a member learns about another member comes from that member's link messages
// (a G_act message's index over-approximates and teaches nothing): B sends to G_act,
// then a link message whose snapshot carries B's vector; recvStep(L, idx, step) delivers
// to L the link message B sent right after its G_act send with index idx.
// (Members on several boards: the link message carries B's whole vector, which the
// FX_SEND effect hands over; recvStep puts it in the event, EW_VOFF.)
const snapOf = new Map<u32, u32>();   // B's own index k -> a copy of the vector it sent after it
const snapBuf: usize = heap.alloc(32 * VB);
let snapN: u32 = 0;
function bSendsAndLinks(): void {
  expect(send(B, KIND_ACT)).toBe(OK);
  const idx = globalVec(4, 1);        // B (slot 2)'s own count: the index (2, k) it just sent
  expect(send(B, KIND_LOW)).toBe(OK);
  const i = findFx(FX_SEND);
  expect(i).toBeGreaterThanOrEqual(0);
  const at = snapBuf + <usize>(snapN++ % 32) * VB;
  memory.copy(at, <usize>fx(<u32>i, 6), VB);
  snapOf.set(idx, <u32>at);
}
function findFxSendIndex(): u32 {
  const i = findFx(FX_SEND);
  expect(i).toBeGreaterThanOrEqual(0);
  return fx(<u32>i, 4);
}
function recvStep(pid: u32, idx: u32, step1: u32): i32 {
  memory.copy(stagePtr() + 128, <usize>snapOf.get(idx), VB);
  setEv(0, EV_RECV, pid, KIND_LOW, 0, 0, S.epoch & 15, 8);
  evWord(0, EW_VOFF, 129);
  evWord(0, EW_STEP, step1);
  return run1();
}
/** Member B sends (2, 1), L (1, 1), B (2, 2): B's vectors are [0,1] and [0,2]. */
function causalSetup(): void {
  resetAll();
  twoMembers();
  snapOf.clear();
  bSendsAndLinks();
  expect(send(L, KIND_ACT)).toBe(OK);
  bSendsAndLinks();
  expect(cvAt(S.procAt(L), 0)).toBe(1);
  expect(cvAt(S.procAt(L), 1)).toBe(0);
}
/** L's device message of step step1 - 1: B's component of the bound its pass would validate. */
function atBoundOfL(step1: u32): u32 {
  setEv(0, EV_SEND, L, KIND_DEVICE);
  evWord(0, EW_STEP, step1);
  expect(run1()).toBe(OK);
  expect(findFx(FX_AT_REQUIRED)).toBe(0);
  return vGet(S.procAt(L).atv, 1);
}
describe("causal validation: what a member learns from another member's messages", () => {
  it("index 1's sender vector is learnt like any other", () => {
    causalSetup();
    expect(recvStep(L, 1, 0)).toBe(OK);
    expect(cvAt(S.procAt(L), 1)).toBe(1);
    expect(atBoundOfL(0)).toBe(1);
    expect(vGet(S.procAt(L).atv, 0)).toBe(1);     // and L's own first
  });
  it("two inputs of the same later step are joined, and folded when the member outputs that step", () => {
    causalSetup();
    expect(recvStep(L, 1, 5)).toBe(OK);
    expect(recvStep(L, 2, 5)).toBe(OK);
    expect(cvAt(S.procAt(L), 1)).toBe(0); // held apart: L's latest output is of an earlier step
    expect(atBoundOfL(5)).toBe(2);
    expect(cvAt(S.procAt(L), 1)).toBe(2);
  });
  it("with every pending record taken, an input of a yet later step joins the latest one", () => {
    causalSetup();
    for (let st: u32 = 10; st < 18; st++) expect(recvStep(L, 1, st)).toBe(OK); // 8 records: full
    expect(recvStep(L, 2, 20)).toBe(OK);
    expect(cvAt(S.procAt(L), 1)).toBe(0);
    expect(atBoundOfL(20)).toBe(2);
    expect(cvAt(S.procAt(L), 1)).toBe(2);
  });
});

// (Removed with per-member index sequences: "recovery reports an inexact shadow
// renumbering". Each shadow numbers its own outputs and restores only its own counts, so
// the renumbering is exact by construction and the `inexact = 1` statements it killed
// are gone; recovery.spec.ts pins that the round is exact.)

// A shadow's suppressed outputs are logged with flags 0: not an input (LF_INPUT), not
// dirty (LF_DIRTY). Kills rules.ts onSend: logPayload(p.outInt, ..., 0) -> 1 (eb264250),
// logPayload(p.outExt, ..., 0) -> 1 (5b24a030).
describe("a shadow's output log records carry no flags", () => {
  it("internal and external", () => {
    setup(RULES_SAFE);
    expect(send(H, KIND_ACT)).toBe(OK);
    expect(send(H, KIND_DEVICE)).toBe(OK);
    expect(entryFlags(H, 2, 0)).toBe(0);
    expect(entryFlags(H, 3, 0)).toBe(0);
  });
});

// A new guarded operation gives each member a fresh causal state. Kills:
//   causal.ts assignSlot: delete `p.foldStep = 0;` (b3ff8518), `p.foldStep = 0` -> 1 (3ad6d984)
//   (atCnt, the members' counts at a pending AT, is gone with per-member sequences: each
//    member's pending bound is its own vector p.atv)
describe("a new guarded operation starts each member's causal state afresh", () => {
  it("no output folded yet: an input of step 0 is held apart until the member outputs step 0", () => {
    resetAll();
    twoMembers();
    // operation 1: L outputs a device message of step 9, which passes; commit
    setEv(0, EV_SEND, L, KIND_DEVICE);
    evWord(0, EW_STEP, 10);
    expect(run1()).toBe(OK);
    expect(atResult(L, 1)).toBe(OK);
    setEv(0, EV_COMMIT, 0);
    expect(run1()).toBe(OK);
    // operation 2
    resetAll();
    twoMembers();
    snapOf.clear();
    bSendsAndLinks();                             // index 1, B's vector [0,1]
    expect(recvStep(L, 1, 1)).toBe(OK);           // an input of step 0
    expect(causalAt(L, 1)).toBe(0);               // L has output nothing of step 0 yet
    expect(atBoundOfL(1)).toBe(1);                // its step-0 output depends on it
    expect(causalAt(L, 1)).toBe(1);
  });
  it("two members with ATs pending at once keep their own counts", () => {
    resetAll();
    twoMembers();
    expect(send(L, KIND_ACT)).toBe(OK);          // (1, 1)
    expect(send(B, KIND_ACT)).toBe(OK);          // (2, 1)
    expect(atBoundOfL(0)).toBe(0);                // L depends on its own (1, 1) only
    expect(vGet(S.procAt(L).atv, 0)).toBe(1);
    setEv(0, EV_SEND, B, KIND_DEVICE);
    expect(run1()).toBe(OK);
    expect(vGet(S.procAt(B).atv, 0)).toBe(0);     // B depends on its own (2, 1) only
    expect(vGet(S.procAt(B).atv, 1)).toBe(1);
    expect(vGet(S.procAt(L).atv, 1)).toBe(0);     // L's pending bound is its own
    expect(atResult(L, 1)).toBe(OK);              // validates index 1: L's first send
    expect(vGet(S.knownV, 0)).toBe(1);
    expect(recover(1, 1)).toBe(OK);
    const i = findFx(FX_SUPPRESS_NEXT);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(fx(<u32>i, 1)).toBe(1);                // H (L's shadow) suppresses its twin of index 1
    expect(fx(<u32>i, 2)).toBe(1);                // and of L's device message
  });
});

// With several members every shadow must name its twin (setTwin); setRole forgets any
// earlier twin. Kills index.ts setRole: `p.twin = 0` -> 1 (2cb6cf1c: twin pid 0).
describe("several members: a shadow without a twin is refused", () => {
  it("even when pid 0 is a member", () => {
    resetAll();
    S.setRules(RULES_SAFE);
    setRole(L, ROLE_LOW); setRole(B, ROLE_LOW); setRole(A, ROLE_HA); setRole(H, ROLE_HS);
    expect(beginGuarded()).toBe(E_BAD_CONFIG);
    expect(S.guarded).toBe(0);
  });
});

// Inspection exports answer "none" past the end. Kills index.ts causalAt: negated range
// check (ff37a77b), `pid >= S.maxProcs` -> `>` (653567f6); entryIndex/entryHigh/entryFlags/
// entryPtr/entryLen: `i < r.count` -> `<=` (0f5e1ee6, 2944863a, 7bf0db9d, fb0ae611, 8e9f9df4).
describe("inspection past the end", () => {
  it("causalAt: a member's vector, and no process beyond procs", () => {
    resetAll();
    twoMembers();
    expect(send(L, KIND_ACT)).toBe(OK);
    expect(causalAt(L, 0)).toBe(1);
    expect(causalAt(4, 0)).toBe(0xFFFFFFFF);
    // No vector (not a member) and entries past MAXM read 0. Kills causal.ts cvAt
    // `return 0` -> `return 1` (1b40b312).
    expect(causalAt(A, 0)).toBe(0);
    expect(causalAt(L, 16)).toBe(0);
  });
  it("entries of an emptied ring read as absent, not as the stale record", () => {
    setup(RULES_SAFE);
    expect(send(L, KIND_ACT)).toBe(OK);
    expect(recv(A, KIND_LOW, 1, 1)).toBe(OK);
    expect(entryIndex(A, 0, 0)).toBe(1);
    expect(entryHigh(A, 0, 0)).toBe(1);
    expect(entryLen(A, 0, 0)).toBe(8);
    expect(recover(0, 0)).toBe(OK);               // A rolls back; every record is freed
    expect(query(A, Q_CKPTS)).toBe(0);
    expect(entryIndex(A, 0, 0)).toBe(0xFFFFFFFF);
    expect(entryHigh(A, 0, 0)).toBe(0xFFFFFFFF);
    expect(entryFlags(A, 0, 0)).toBe(0xFFFFFFFF);
    expect(entryPtr(A, 0, 0)).toBe(0);
    expect(entryLen(A, 0, 0)).toBe(0);
  });
});

// Paper rules, several shadows: after a recovery the shadows suppress the largest
// iVR - int_mSN_G^high_sdw over the shadows whose iVR is not below the counter. Kills
// recovery.ts onRecoverApply: `p.iVR - sdwCounter > paperSuppress` -> `p.iVR + sdwCounter > ...` (2cb2464a).
describe("paper: the shadows' suppression after takeover is the largest iVR - counter", () => {
  it("two shadows told different bounds", () => {
    resetAll();
    S.setRules(RULES_PAPER);
    setRole(L, ROLE_LOW); setRole(A, ROLE_HA); setRole(B, ROLE_HS); setRole(H, ROLE_HS);
    expect(beginGuarded()).toBe(OK);
    expect(send(H, KIND_ACT)).toBe(OK);          // int_mSN_G^high_sdw = 1
    expect(S.sdwCounter).toBe(1);
    expect(passed(B, 3, 0)).toBe(OK);             // B: iVR 3 (3 - 1 = 2)
    expect(passed(H, 2, 0)).toBe(OK);             // H: iVR 2 (2 - 1 = 1)
    expect(recover(3, 0)).toBe(OK);
    const i = findFx(FX_SUPPRESS_NEXT);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(fx(<u32>i, 1)).toBe(2);
  });
});

// One member (safe): a shadow resends only its outputs above V (the twin's validated
// ones were delivered). Written for recovery.ts resendAbove `R_IDX <= bound` -> `<`
// (62dcca18), which turned out equivalent (test/mutation-equivalent.json); kept as a pin.
describe("takeover resends only the shadow's outputs above the validated bounds", () => {
  it("an output whose index equals V is not resent", () => {
    setup(RULES_SAFE);
    expect(send(L, KIND_ACT)).toBe(OK);          // index 1
    expect(send(L, KIND_DEVICE)).toBe(OK);
    expect(atResult(L, 1)).toBe(OK);              // V = 1, Vext = 1
    expect(send(H, KIND_ACT)).toBe(OK);          // the twins: shadow int 1, ext 1
    expect(send(H, KIND_DEVICE)).toBe(OK);
    expect(send(H, KIND_ACT)).toBe(OK);          // int 2: above V
    expect(recover(1, 1)).toBe(OK);
    expect(countFx(FX_RESEND)).toBe(1);
    const i = findFx(FX_RESEND);
    expect(fx(<u32>i, 7)).toBe(2);                // the index it was logged with
  });
});

// A new guarded operation forgets what members held apart (inputs of steps they had not
// output yet). Kills causal.ts causalReset: delete `memory.fill(pend, 0, MAXM * PSLOT);` (65ffce72).
describe("a new guarded operation drops the inputs members held apart", () => {
  it("an input of a later step held at commit does not reach the next operation's vector", () => {
    resetAll();
    twoMembers();
    snapOf.clear();
    bSendsAndLinks();
    bSendsAndLinks();
    bSendsAndLinks();                             // index 3: B's vector [0,3]
    expect(recvStep(L, 3, 5)).toBe(OK);           // held apart (step 4)
    expect(causalAt(L, 1)).toBe(0);
    setEv(0, EV_COMMIT, 0);
    expect(run1()).toBe(OK);
    resetAll();
    twoMembers();
    expect(atBoundOfL(5)).toBe(0);                // L outputs step 4: nothing of this operation to fold
    expect(causalAt(L, 1)).toBe(0);
  });
});


// The configuration and inspection exports refuse the first pid past the table (pid ==
// procs), not only pids far beyond it. Kills index.ts setRole `pid >= S.maxProcs` -> `>`
// (f87ebef8), setTwin `pid >= S.maxProcs` -> `>` (f7a9c097), `twin >= S.maxProcs` -> `>`
// (57024e7a), `... || ...` -> `&&` (45ca01a9), query `pid >= S.maxProcs` -> `>` (f443df40).
describe("pid == procs is unknown to every export", () => {
  it("setRole, setTwin (either side) and query", () => {
    resetAll();
    S.setRules(RULES_SAFE);
    setRole(L, ROLE_LOW); setRole(H, ROLE_HS);
    expect(setRole(4, ROLE_HA)).toBe(E_UNKNOWN_PID);
    expect(setTwin(4, L)).toBe(E_UNKNOWN_PID);
    expect(setTwin(H, 4)).toBe(E_UNKNOWN_PID);
    expect(query(4, Q_ROLE)).toBe(0xFFFFFFFF);
    expect(setTwin(H, L)).toBe(OK);               // the same calls in range are accepted
    expect(query(H, Q_ROLE)).toBe(ROLE_HS);
  });
});

/** The `inexact` word of the last recovery's FX_RECOVERED effect. */
function recoveredInexact(): u32 {
  const i = findFx(FX_RECOVERED);
  expect(i).toBeGreaterThanOrEqual(0);
  return fx(<u32>i, 5);
}

// (Removed with per-member index sequences: "several members: bounds the send records
// cannot map make recovery inexact". The send records, learnBound and mapLost are gone: a
// bound is a vector whose component j is member j's own count, which needs no mapping.)

// Takeover resends the outputs of every shadow, pid 0 included. Kills recovery.ts
// resendAbove: `let pid: u32 = 0` -> `1` (617d755b).
describe("a shadow at pid 0 resends its outputs above V", () => {
  it("one member, the shadow first in the table", () => {
    resetAll();
    S.setRules(RULES_SAFE);
    const Hs: u32 = 0, Ln: u32 = 1;
    setRole(Hs, ROLE_HS); setRole(Ln, ROLE_LOW); setRole(2, ROLE_HA);
    expect(beginGuarded()).toBe(OK);
    expect(send(Ln, KIND_ACT)).toBe(OK);         // index 1
    expect(send(Ln, KIND_DEVICE)).toBe(OK);
    expect(atResult(Ln, 1)).toBe(OK);             // V = 1, Vext = 1
    expect(send(Hs, KIND_ACT)).toBe(OK);         // the twins: shadow int 1, ext 1
    expect(send(Hs, KIND_DEVICE)).toBe(OK);
    expect(send(Hs, KIND_ACT)).toBe(OK);         // int 2: above V
    expect(recover(1, 1)).toBe(OK);
    expect(countFx(FX_RESEND)).toBe(1);
    expect(fx(<u32>findFx(FX_RESEND), 1)).toBe(Hs);
  });
});

// A member's causal vector is the core's own memory: the host writing the whole staging
// area (payload bytes of a batch) leaves it intact. Kills causal.ts cvOf: `cvBase + pid * ...`
// -> `cvBase - pid * ...` (6531dc5f), which put the vectors of pids 1, 2, ... over the
// scratch and the end of the staging area.
describe("the staging area does not alias a member's causal vector", () => {
  it("filling every stage byte leaves the vectors of members at pids 0 and 2 as they were", () => {
    resetAll();
    twoMembers();                                 // members L (pid 0, slot 1) and B (pid 2, slot 2)
    expect(send(L, KIND_ACT)).toBe(OK);           // (1, 1)
    expect(send(B, KIND_ACT)).toBe(OK);           // (2, 1)
    expect(send(B, KIND_ACT)).toBe(OK);           // (2, 2)
    expect(causalAt(L, 0)).toBe(1);
    expect(causalAt(B, 1)).toBe(2);
    stageFill(0, stageCapacity(), 0x55);
    expect(causalAt(L, 0)).toBe(1);
    expect(causalAt(L, 1)).toBe(0);
    expect(causalAt(B, 0)).toBe(0);
    expect(causalAt(B, 1)).toBe(2);
  });
});

// A member holds at most PN = 8 records of inputs of later steps; a ninth step joins the
// record of the latest held step (folded later than it could be: validates less, never
// more). Kills causal.ts learn: `let hi: u32 = 0` -> `1` (d98c7b14), the negated
// latest-step test (3592d677), delete `hi = i;` (3e3c9dbc): each joins it to an earlier
// step's record, which then folds at that step's output and validates indexes it must not.
/** B sends 10 times (its vector's own entry: the index sent, 1..10), linking each to L. */
function tenSnapshots(): void {
  resetAll();
  twoMembers();
  snapOf.clear();
  for (let k = 0; k < 10; k++) bSendsAndLinks();
  expect(S.lowCounter).toBe(10);
}
describe("a member's held inputs when all 8 records are taken", () => {
  it("the latest held step is the first record", () => {
    tenSnapshots();
    expect(recvStep(L, 9, 10)).toBe(OK);                       // record 0: step 9, vector [.,9]
    for (let k: u32 = 1; k <= 7; k++) expect(recvStep(L, k, k + 2)).toBe(OK); // steps 2..8, vectors [.,1..7]
    expect(recvStep(L, 8, 11)).toBe(OK);                       // step 10: joins step 9's record
    expect(causalAt(L, 1)).toBe(0);
    atBoundOfL(10);                                            // L outputs step 9: folds steps 2..8 only
    expect(causalAt(L, 1)).toBe(7);
  });
  it("the latest held step is the last record", () => {
    tenSnapshots();
    for (let k: u32 = 1; k <= 8; k++) expect(recvStep(L, k, k + 1)).toBe(OK); // steps 1..8, vectors [.,1..8]
    expect(recvStep(L, 9, 11)).toBe(OK);                       // step 10: joins step 8's record
    atBoundOfL(9);                                             // L outputs step 8: folds steps 1..7 only
    expect(causalAt(L, 1)).toBe(7);
  });
});

// A member's pass validates P = knownV ⊔ its vector, and its shadow resends only above its
// own component of V. (Written for causal.ts notePass's count tables, gone with per-member
// sequences; kept as a pin of the same story.)
describe("a member's pass and its shadow's takeover use the member's own component", () => {
  it("the shadow resends only its outputs above its twin's validated count", () => {
    resetAll();
    twoMembers();
    for (let k = 0; k < 3; k++) expect(send(L, KIND_ACT)).toBe(OK); // (1, 1..3)
    expect(atBoundOfL(0)).toBe(0);
    expect(vGet(S.procAt(L).atv, 0)).toBe(3);                  // L's device message depends on 1..3
    for (let k = 0; k < 1025; k++) expect(send(B, KIND_ACT)).toBe(OK); // (2, 1..1025): nothing to forget
    expect(passed(A, 3, 0)).toBe(OK);
    expect(atResult(L, 1)).toBe(OK);
    expect(vGet(S.knownV, 0)).toBe(3);
    expect(vGet(S.knownV, 1)).toBe(0);
    for (let k = 0; k < 4; k++) expect(send(H, KIND_ACT)).toBe(OK); // L's twin: its outputs 1..4
    expect(recover(3, 1)).toBe(OK);                            // Vext 1: L's device message
    expect(recoveredInexact()).toBe(0);
    expect(countFx(FX_RESEND)).toBe(1);                        // only the 4th: 1..3 were delivered
  });
});

// A shadow's rollback that voids a single logged output reports it. Kills recovery.ts
// onRecoverApply: `vi + ve > 0` -> `> 1` (80a81cb0); gap3-shadow-rollback.txt voids two.
describe("a shadow rolling back over one output reports it voided", () => {
  it("one G_act output after its checkpoint", () => {
    setup(RULES_SAFE);
    expect(send(L, KIND_ACT)).toBe(OK);           // index 1 to A
    expect(recv(A, KIND_LOW, 1, 1)).toBe(OK);     // A dirty
    expect(recv(H, KIND_ACT, 1, 1)).toBe(OK);     // the shadow takes a dirty input: checkpoint
    expect(query(H, Q_CKPTS)).toBe(1);
    expect(send(H, KIND_ACT)).toBe(OK);           // one output after it, logged
    expect(recover(0, 0)).toBe(OK);
    const i = findFx(FX_VOIDED);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(fx(<u32>i, 1)).toBe(H);
    expect(fx(<u32>i, 2) + fx(<u32>i, 3)).toBe(1);
  });
});

// One member: after takeover the shadow suppresses Vext minus its own device outputs so far
// (it did not roll back). Kills recovery.ts onRecoverApply: `Vext - newSdwExt` -> `+` (809b9a0d);
// recovery-suppress-next.txt has a shadow with no device output yet.
describe("one member: the device suppression after takeover counts the shadow's own outputs", () => {
  it("Vext 2, one shadow device output: suppress one more", () => {
    setup(RULES_SAFE);
    expect(send(L, KIND_DEVICE)).toBe(OK);
    expect(atResult(L, 1)).toBe(OK);              // ext_mSN_G^low 1
    expect(send(L, KIND_DEVICE)).toBe(OK);
    expect(atResult(L, 1)).toBe(OK);              // 2
    expect(send(H, KIND_DEVICE)).toBe(OK);        // the twin of the first: ext_mSN_G^high_sdw 1
    expect(recover(0, 2)).toBe(OK);
    const i = findFx(FX_SUPPRESS_NEXT);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(fx(<u32>i, 1)).toBe(0);
    expect(fx(<u32>i, 2)).toBe(1);
  });
});

// Several members: a shadow that rolls back restores its own output count to the
// checkpoint's, so after takeover it suppresses the regenerated twins of its member's
// validated outputs. Kills recovery.ts onRecoverApply: delete `p.sInt = si;` (2741510c).
describe("several members: a rolled-back shadow suppresses its regenerated validated outputs", () => {
  it("two outputs after its checkpoint, both twins of validated ones", () => {
    resetAll();
    twoMembers();                                 // L, B members; H the shadow of L
    expect(send(L, KIND_ACT)).toBe(OK);           // index 1
    expect(send(L, KIND_ACT)).toBe(OK);           // index 2
    expect(send(L, KIND_DEVICE)).toBe(OK);
    expect(atResult(L, 1)).toBe(OK);              // V = 2: L's two sends validated
    expect(send(L, KIND_ACT)).toBe(OK);           // index 3
    expect(recv(H, KIND_ACT, 1, 3)).toBe(OK);     // H checkpoints (its own count 0)
    expect(send(H, KIND_ACT)).toBe(OK);           // its outputs 1, 2: twins of L's 1, 2
    expect(send(H, KIND_ACT)).toBe(OK);
    expect(recover(2, 1)).toBe(OK);               // H rolls back to the checkpoint
    expect(query(H, Q_ROLE)).toBe(ROLE_HA);
    expect(send(H, KIND_ACT)).toBe(OK);           // regenerated twin of 1: suppressed
    expect(findFx(FX_SUPPRESSED)).toBeGreaterThanOrEqual(0);
    expect(send(H, KIND_ACT)).toBe(OK);           // twin of 2: suppressed
    expect(findFx(FX_SUPPRESSED)).toBeGreaterThanOrEqual(0);
    expect(send(H, KIND_ACT)).toBe(OK);           // new: goes out
    expect(findFx(FX_SUPPRESSED)).toBe(-1);
  });
});

// Several members: B's shadow takes over against B's own component of V, whatever L's
// says. (Written for causal.ts learnBound's mapping, gone with per-member sequences.)
function passedVec(pid: u32, p0: u32, p1: u32): i32 {
  const at = stagePtr() + 64;
  memory.fill(at, 0, 2 * VB);
  store<u32>(at, p0); store<u32>(at, p1, 4);
  setEv(0, EV_PASSED_AT, pid, 0, 0, 0, S.epoch & 15);
  evWord(0, EW_VOFF, 65);
  return run1();
}
function recoverVec(v0: u32, v1: u32): i32 {
  setEv(0, EV_RECOVER_BEGIN, 0);
  const st = run1();
  if (st != OK) return st;
  const at = stagePtr() + 64;
  memory.fill(at, 0, 2 * VB);
  store<u32>(at, v0); store<u32>(at, v1, 4);
  setEv(0, EV_RECOVER_APPLY, 0, 0, 0, 0, S.epoch + 1);
  evWord(0, EW_VOFF, 65);
  return run1();
}
describe("several members: a shadow takes over against its own member's component", () => {
  it("B's count at the bound, for B's shadow", () => {
    resetAll();
    S.setRules(RULES_SAFE);
    setRole(L, ROLE_LOW); setRole(B, ROLE_LOW); setRole(A, ROLE_HA); setRole(H, ROLE_HS);
    expect(setTwin(H, B)).toBe(OK);
    expect(beginGuarded()).toBe(OK);
    expect(send(B, KIND_ACT)).toBe(OK);           // (2, 1)
    expect(send(L, KIND_ACT)).toBe(OK);           // (1, 1)
    expect(send(B, KIND_ACT)).toBe(OK);           // (2, 2)
    expect(passedVec(A, 1, 1)).toBe(OK);          // validates L's 1st and B's 1st
    expect(send(H, KIND_ACT)).toBe(OK);           // B's twin: its outputs 1, 2
    expect(send(H, KIND_ACT)).toBe(OK);
    expect(recoverVec(5, 1)).toBe(OK);            // L's component does not matter to H
    expect(recoveredInexact()).toBe(0);
    expect(countFx(FX_RESEND)).toBe(1);           // its 2nd (twin of (2, 2)): not delivered
  });
});

// Several members: after takeover the shadow suppresses the twin of its member's delivered
// device message (its own count), reported like every post-takeover suppression: log
// LOG_EXT, index 0 (nothing logged). Kills rules.ts onSend: the supExt branch's
// `emit(FX_SUPPRESSED, pid, evi, LOG_EXT, 0)` -> `..., 1)` (4de5ac22).
describe("several members: the shadow suppresses its twin's delivered device message after takeover", () => {
  it("one device message passed before the fault", () => {
    resetAll();
    twoMembers();
    expect(send(L, KIND_DEVICE)).toBe(OK);
    expect(atResult(L, 1)).toBe(OK);              // Vext = 1 (L's)
    expect(recover(0, 1)).toBe(OK);
    expect(send(H, KIND_DEVICE)).toBe(OK);        // its regenerated twin
    const i = findFx(FX_SUPPRESSED);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(fx(<u32>i, 3)).toBe(LOG_EXT);
    expect(fx(<u32>i, 4)).toBe(0);
    expect(send(H, KIND_DEVICE)).toBe(OK);        // the next one is new
    expect(findFx(FX_DELIVER_DEVICE)).toBeGreaterThanOrEqual(0);
  });
});

// Effects with fewer arguments than words leave the rest 0 (the buffer is deterministic:
// traces and replays compare it). Kills state.ts emit's defaults `d: u32 = 0` -> `1`
// (3cc23d90), `e` (e6eef573), `f` (d8ffdee4) and the others'.
describe("an effect's unused words are 0", () => {
  it("retire (one argument) and role (two)", () => {
    setup(RULES_SAFE);
    expect(recover(0, 0)).toBe(OK);               // L retires, H takes over
    const r = findFx(FX_RETIRE);
    expect(r).toBeGreaterThanOrEqual(0);
    expect(fx(<u32>r, 1)).toBe(L);
    for (let w: u32 = 2; w <= 8; w++) expect(fx(<u32>r, w)).toBe(0);
    const o = findFx(FX_ROLE);
    expect(o).toBeGreaterThanOrEqual(0);
    for (let w: u32 = 3; w <= 8; w++) expect(fx(<u32>o, w)).toBe(0);
  });
});

// Found by the sample `npm run mutate -- --sample 120 --seed 41` at aa0d2ed (the core in
// vector form). Each spec names the mutant it kills.

// A member's held-input records leave when folded: the count is written back. Kills
// causal.ts stepOut: delete `store<u32>(base, n);` (c9bbed21), with which folded records
// stayed counted, the table looked full, and a later step's input joined a stale record
// and folded a step late.
describe("a member's held inputs: folded records free their places", () => {
  it("8 records folded, then two new steps each fold at their own output", () => {
    tenSnapshots();
    for (let k: u32 = 1; k <= 8; k++) expect(recvStep(L, k, k)).toBe(OK); // steps 0..7, vectors [.,1..8]
    setEv(0, EV_SEND, L, KIND_ACT); evWord(0, EW_STEP, 8);
    expect(run1()).toBe(OK);                                   // L outputs step 7: folds all 8
    expect(causalAt(L, 1)).toBe(8);
    expect(recvStep(L, 9, 10)).toBe(OK);                       // step 9, vector [.,9]
    expect(recvStep(L, 10, 11)).toBe(OK);                      // step 10, vector [.,10]
    setEv(0, EV_SEND, L, KIND_ACT); evWord(0, EW_STEP, 10);
    expect(run1()).toBe(OK);                                   // L outputs step 9: folds step 9's only
    expect(causalAt(L, 1)).toBe(9);
  });
});

// entryVec answers "absent" past an entry's vectors: a checkpoint has two (c, c2), a
// receiver-log record one. Kills index.ts entryVec `k >= r.nvec` -> `k > r.nvec` (fc589714).
describe("entryVec past an entry's vectors", () => {
  it("k == nvec reads as absent", () => {
    setup(RULES_SAFE);
    expect(send(L, KIND_ACT)).toBe(OK);
    expect(send(L, KIND_ACT)).toBe(OK);
    expect(recv(A, KIND_LOW, 1, 1)).toBe(OK);     // A checkpoints: (c, c2) = (1, 1)
    expect(recv(A, KIND_LOW, 1, 2)).toBe(OK);     // and again: (2, 2), the next slot
    expect(entryVec(A, 0, 0, 1, 0)).toBe(1);
    expect(entryVec(A, 0, 1, 0, 0)).toBe(2);
    expect(entryVec(A, 0, 0, 2, 0)).toBe(0xFFFFFFFF); // not the next slot's c
    expect(entryVec(A, 0, 1, 2, 0)).toBe(0xFFFFFFFF);
  });
});

// The host may hand a frame that ends at the last byte of linear memory. Kills index.ts
// decodeVecVals `ptr + len > memory end` -> `>=` (5bbce51e).
describe("a vector's components at the very end of memory", () => {
  it("decode, not a range error", () => {
    const end = <u32>(memory.size() << 16);
    const keep1 = load<u8>(end - 1);
    store<u8>(end - 1, 5);                        // mask 2: component 1 alone, varint 5
    const used = decodeVecVals(end - 1, 0, 1, 2);
    store<u8>(end - 1, keep1);
    expect(used).toBe(1);
    expect(decodeVecVals(end - 1, 0, 2, 2)).toBe(-7); // one byte past the end
    expect(decodeBoundsHdr(end, 1)).toBe(-7);
  });
});

// A new guarded operation clears every process's takeover state, pid 0's included. Kills
// index.ts beginGuarded `let pid: u32 = 0` -> `1` in the reset loop (587ff9e1).
describe("beginGuarded clears the takeover state of the process at pid 0", () => {
  it("a shadow at pid 0 took over; the next guarded operation starts it afresh", () => {
    resetAll();
    S.setRules(RULES_SAFE);
    const Hs: u32 = 0, Ln: u32 = 1;
    setRole(Hs, ROLE_HS); setRole(Ln, ROLE_LOW); setRole(2, ROLE_HA);
    expect(beginGuarded()).toBe(OK);
    expect(send(Ln, KIND_ACT)).toBe(OK);
    expect(recover(0, 0)).toBe(OK);               // Hs takes over
    expect(query(Hs, Q_FROM_SHADOW)).toBe(1);
    expect(query(Hs, Q_ROLE)).toBe(ROLE_HA);
    setRole(Ln, ROLE_LOW);
    expect(beginGuarded()).toBe(OK);              // a new upgrade; Hs stays an active process
    expect(query(Hs, Q_FROM_SHADOW)).toBe(0);
  });
});


// Outside guarded operation a send changes no causal state: a member committed with an
// input of a later step held apart; made a member again, it sends before beginGuarded.
// Kills rules.ts onSend `rules != RULES_PAPER && guarded` -> `||` (2e9eccb2).
describe("a send outside guarded operation folds nothing", () => {
  it("held input stays held until the next guarded operation resets it", () => {
    tenSnapshots();
    expect(recvStep(L, 5, 7)).toBe(OK);          // step 6, vector [.,5]: held apart
    expect(causalAt(L, 1)).toBe(0);
    setEv(0, EV_COMMIT, 0);
    expect(run1()).toBe(OK);
    expect(setRole(L, ROLE_LOW)).toBe(OK);
    setEv(0, EV_SEND, L, KIND_ACT); evWord(0, EW_STEP, 7);
    expect(run1()).toBe(OK);                      // its output of step 6, not guarded
    expect(causalAt(L, 1)).toBe(0);
  });
});

// Found by the sample `npm run mutate -- --sample 150 --seed 43` (after the seed-41 specs).

// Member slot j's passed device messages are its own count, read at its own place. Kills
// causal.ts passedOf `slot - 1` -> `slot - 0` (4975133e).
describe("each member's count of passed device messages", () => {
  it("E_1 = 1 after L's pass, E_2 = 0", () => {
    resetAll();
    twoMembers();
    expect(send(L, KIND_DEVICE)).toBe(OK);
    expect(atResult(L, 1)).toBe(OK);
    expect(globalVec(5, 0)).toBe(1);
    expect(globalVec(5, 1)).toBe(0);
  });
});

// An input of the step a member has already output folds at once (it cannot be held for a
// later output of that step). Kills causal.ts learn `step1 <= p.foldStep` -> `<` (adc61f23).
describe("an input of the step just output folds at once", () => {
  it("output of step 3, then an input of step 3", () => {
    tenSnapshots();
    setEv(0, EV_SEND, L, KIND_ACT); evWord(0, EW_STEP, 4);
    expect(run1()).toBe(OK);                     // L outputs step 3
    expect(recvStep(L, 5, 4)).toBe(OK);          // an input of step 3, vector [.,5]
    expect(causalAt(L, 1)).toBe(5);
  });
});

/** pid receives a member message of step step1 - 1 whose vector has component j = x, the rest 0. */
function recvCompAt(pid: u32, j: u32, x: u32, step1: u32): i32 {
  const at = stagePtr() + 128;
  memory.fill(at, 0, VB);
  store<u32>(at + <usize>j * 4, x);
  setEv(0, EV_RECV, pid, KIND_LOW, 0, 0, S.epoch & 15, 8);
  evWord(0, EW_VOFF, 129);
  evWord(0, EW_STEP, step1);
  return run1();
}
// A held record's step is matched at the record's own first word, not 8 bytes before it
// (component 15 of the record before it, which with 15 or more members can equal a step). Kills causal.ts
// learn `base + 4 + i * PREC` -> `base - 4 + ...` in the search (e2d54117).
describe("a held step is found at its record, whatever the vectors hold", () => {
  it("component 15 of one record equals the next input's step", () => {
    tenSnapshots();
    expect(recvCompAt(L, 14, 7, 5)).toBe(OK);      // held: step 4, component 15 = 7 (the word 8 bytes before record 1)
    expect(recvCompAt(L, 1, 3, 6)).toBe(OK);       // held: step 5, component 2 = 3
    expect(recvCompAt(L, 1, 9, 7)).toBe(OK);       // held: step 6, component 2 = 9
    setEv(0, EV_SEND, L, KIND_ACT); evWord(0, EW_STEP, 6);
    expect(run1()).toBe(OK);                     // L outputs step 5: folds steps 4 and 5
    expect(causalAt(L, 14)).toBe(7);
    expect(causalAt(L, 1)).toBe(3);
    setEv(0, EV_SEND, L, KIND_ACT); evWord(0, EW_STEP, 7);
    expect(run1()).toBe(OK);                     // L outputs step 6: folds step 6
    expect(causalAt(L, 1)).toBe(9);
  });
});

// A bad second bound in the vector form is reported as the aux field's fault. Kills
// codec.ts decodeBounds `hErrAux = 1` -> `0` (072a518d).
describe("a truncated second bound names the aux field", () => {
  it("passedAt, vector form, P complete, Q missing", () => {
    const at = stagePtr();
    store<u8>(at, 0x31); store<u8>(at + 1, 0x03); store<u8>(at + 2, 0x02); store<u8>(at + 3, 0x07);
    expect(decodeBoundsHdr(<u32>at, 4)).toBeLessThan(0);
    expect(hdrField(6)).toBe(1);
    expect(decodeBoundsHdr(<u32>at, 2)).toBeLessThan(0); // P's components missing: the index's fault
    expect(hdrField(6)).toBe(0);
  });
});

// setRole gives a process a fresh role: one that took over from a shadow is no longer
// "from a shadow" (it may not send the old interface's shadow-internal messages). Kills
// index.ts setRole: delete `p.fromShadow = 0;` (8447a8ae).
describe("setRole clears the takeover mark", () => {
  it("a shadow took over; set to active again it sends no shadow-internal message", () => {
    resetAll();
    S.setRules(RULES_SAFE);
    setRole(0, ROLE_LOW); setRole(1, ROLE_HS); setRole(2, ROLE_HA);
    expect(beginGuarded()).toBe(OK);
    expect(recover(0, 0)).toBe(OK);              // pid 1 takes over
    expect(query(1, Q_FROM_SHADOW)).toBe(1);
    expect(send(1, KIND_SDW)).toBe(OK);          // the old interface, after takeover
    expect(setRole(1, ROLE_HA)).toBe(OK);
    expect(query(1, Q_FROM_SHADOW)).toBe(0);
    expect(send(1, KIND_SDW)).toBe(E_ROLE_SEND);
  });
});

// With all 8 of a member's records taken, the search for a held step stops at the 8th: the
// word after it is the next member's count. Kills causal.ts learn `i < n` -> `i <= n` in the
// search (8c599852), which matched L's input against B's count and wrote it into B's record.
describe("a full member's search stays in its own records", () => {
  it("L full, B holds one record, L gets an input whose step equals B's count", () => {
    tenSnapshots();
    expect(recvCompAt(B, 0, 4, 3)).toBe(OK);     // B holds: step 2, component 1 = 4 (B's count: 1)
    for (let k: u32 = 2; k <= 9; k++) expect(recvCompAt(L, 1, k, k)).toBe(OK); // L: 8 records
    expect(recvCompAt(L, 1, 20, 1)).toBe(OK);    // step 0, component 2 = 20: joins step 8's record
    setEv(0, EV_SEND, B, KIND_ACT); evWord(0, EW_STEP, 3);
    expect(run1()).toBe(OK);                     // B outputs step 2: folds its record
    expect(causalAt(B, 0)).toBe(4);
    setEv(0, EV_SEND, L, KIND_ACT); evWord(0, EW_STEP, 9);
    expect(run1()).toBe(OK);                     // L outputs step 8: folds all its records
    expect(causalAt(L, 1)).toBe(20);
  });
});

// resumeEpoch: a restarted board resumes the persisted epoch outside guarded operation and
// recovery, never backwards. Kills index.ts resumeEpoch `if (S.recovering)` negated (ae2c54f2).
describe("resumeEpoch", () => {
  it("outside guarded operation it resumes; inside it refuses; never backwards", () => {
    resetAll();
    expect(resumeEpoch(3)).toBe(OK);
    expect(S.epoch).toBe(3);
    expect(resumeEpoch(2)).toBe(E_BAD_EPOCH);
    setRole(L, ROLE_LOW); setRole(A, ROLE_HA);
    expect(beginGuarded()).toBe(OK);
    expect(resumeEpoch(4)).toBe(E_GUARDED);      // (a recovery happens only in guarded operation)
    expect(S.epoch).toBe(3);
  });
});

// entryVec reads the receiver log too (which 1). Kills index.ts entryVec `which > 1` ->
// `which >= 1` (70d2a2d9).
describe("entryVec on the receiver log", () => {
  it("a logged message's index vector", () => {
    setup(RULES_SAFE);
    expect(send(L, KIND_ACT)).toBe(OK);
    expect(recv(A, KIND_LOW, 1, 1)).toBe(OK);     // checkpoint
    expect(recv(A, KIND_ACT, 0, 0)).toBe(OK);     // a clean message after it: logged
    expect(query(A, Q_INLOG)).toBe(1);
    expect(entryVec(A, 1, 0, 0, 0)).not.toBe(0xFFFFFFFF);
    expect(entryVec(A, 2, 0, 0, 0)).toBe(0xFFFFFFFF);
  });
});

// An event's vector may end at the last byte of the staging area. Kills rules.ts vecOk
// `o - 1` -> `o + 1` (e6843ce6), which refused it.
describe("a vector at the very end of the staging area", () => {
  it("is accepted; one byte further is refused", () => {
    tenSnapshots();
    const cap = stageCapacity();
    const off = cap - VB;                          // the vector's first byte
    memory.fill(stagePtr() + off, 0, VB);
    store<u32>(stagePtr() + off + 4, 2);           // component 2 = 2
    setEv(0, EV_RECV, L, KIND_LOW, 0, 0, S.epoch & 15, 8);
    evWord(0, EW_VOFF, 1 + off);
    expect(run1()).toBe(OK);
    setEv(0, EV_RECV, L, KIND_LOW, 0, 0, S.epoch & 15, 8);
    evWord(0, EW_VOFF, 2 + off);
    expect(run1()).toBe(E_PAYLOAD_RANGE);
  });
});

// A checkpoint taken while a device message's AT is pending counts that message as out:
// it was produced before the checkpoint. Kills rules.ts onRecv `p.extOut + p.pendingAt` ->
// `p.extOut - p.pendingAt` (05df13c9).
describe("output commit: a checkpoint with a device message's AT pending", () => {
  it("rolling back to it regenerates nothing already out", () => {
    setup(RULES_SAFE);
    expect(send(A, KIND_DEVICE)).toBe(OK);        // d1, clean: delivered (extOut 1)
    expect(send(L, KIND_ACT)).toBe(OK);
    expect(recv(A, KIND_LOW, 1, 1)).toBe(OK);     // C1
    expect(send(A, KIND_DEVICE)).toBe(OK);        // d2, dirty: AT pending
    expect(query(A, Q_PENDING_AT)).toBe(1);
    expect(send(L, KIND_ACT)).toBe(OK);
    expect(recv(A, KIND_LOW, 1, 2)).toBe(OK);     // C2: d1 and d2 out before it
    expect(atResult(A, 1)).toBe(OK);              // d2 delivered (extOut 2)
    expect(query(A, Q_EXT_OUT)).toBe(2);
    expect(recover(1, 0)).toBe(OK);               // index 1 validated: back to C2, not C1
    expect(query(A, Q_SUPPRESS_DEV)).toBe(0);
    expect(query(A, Q_EXT_OUT)).toBe(2);
  });
});

// A shadow's checkpoint keeps its own output counts (per-member numbering), and a rollback
// restores them: after takeover it suppresses V[j] minus that count. Kills rules.ts onRecv
// `role == ROLE_HS && ...` -> `role != ROLE_HS` (d7fc8e0f).
describe("a shadow's checkpoint keeps its own output numbers", () => {
  it("two outputs, a checkpoint, a rollback, V = 3: one regenerated output suppressed", () => {
    setup(RULES_SAFE);
    expect(shadowOut(KIND_ACT, LOG_INT)).toBe(1);
    expect(shadowOut(KIND_ACT, LOG_INT)).toBe(2);
    for (let k = 0; k < 4; k++) expect(send(L, KIND_ACT)).toBe(OK); // indexes 1..4
    expect(recv(A, KIND_LOW, 1, 4)).toBe(OK);     // A dirty, local 4
    expect(recv(H, KIND_ACT, 1, 4)).toBe(OK);     // from A: H checkpoints, its own count 2
    expect(query(H, Q_CKPTS)).toBe(1);
    expect(recover(3, 0)).toBe(OK);               // 4 > V: H rolls back to it and takes over
    expect(query(H, Q_ROLE)).toBe(ROLE_HA);
    expect(send(H, KIND_ACT)).toBe(OK);           // its 3rd: the twin of L's 3rd, validated
    expect(findFx(FX_SUPPRESSED)).toBeGreaterThanOrEqual(0);
    expect(send(H, KIND_ACT)).toBe(OK);           // its 4th: above V, sent
    expect(findFx(FX_SUPPRESSED)).toBe(-1);
    expect(findFx(FX_SEND)).toBeGreaterThanOrEqual(0);
  });
});

// A member's pass reports its own new count in Q, whatever the other members' counts are.
// Kills rules.ts onAtResult `vGet(vt, p.slot - 1) < e` -> `vGet(vt, p.slot - 0) < e` (5dfc06fe).
describe("a member's pass carries its own count of passed device messages", () => {
  it("B passed two, then L's first: Q = (1, 2)", () => {
    resetAll();
    twoMembers();
    expect(send(B, KIND_DEVICE)).toBe(OK);
    expect(atResult(B, 1)).toBe(OK);
    expect(send(B, KIND_DEVICE)).toBe(OK);
    expect(atResult(B, 1)).toBe(OK);
    expect(send(L, KIND_DEVICE)).toBe(OK);
    expect(atResult(L, 1)).toBe(OK);
    const b = findFx(FX_BROADCAST_PASSED);
    expect(b).toBeGreaterThanOrEqual(0);
    expect(load<u32>(<usize>fx(<u32>b, 6))).toBe(1);
    expect(load<u32>(<usize>fx(<u32>b, 6) + 4)).toBe(2);
  });
});

// A header may end at the last byte of linear memory. Kills index.ts decodeHeader
// `ptr + len > memory end` -> `>=` (1ec6b721).
describe("a header at the very end of memory", () => {
  it("decodes, not a range error", () => {
    const end = <u32>(memory.size() << 16);
    const k0 = load<u8>(end - 2), k1 = load<u8>(end - 1);
    store<u8>(end - 2, 0x00); store<u8>(end - 1, 0x01); // app, clean, epoch 0, index 1
    const st = decodeHeader(end - 2, 2);
    const idx = hdrField(2);
    store<u8>(end - 2, k0); store<u8>(end - 1, k1);
    expect(st).toBe(0);
    expect(idx).toBe(1);
    expect(decodeHeader(end - 2, 3)).toBe(-7);
  });
});

// A member in slot 16 (the last) with all 8 records taken: the 9th step joins the latest of
// its own records. (Written for causal.ts learn's full case `i < n` -> `i <= n`, 140cbe32,
// which reads the word after the 8th record: it does not kill it, that word reads 0 here;
// the mutant is listed in test/mutation-equivalent.json with the reason.)
describe("slot 16's held inputs when all 8 records are taken", () => {
  it("the 9th step joins the latest of its own records", () => {
    resetAll();
    S.setRules(RULES_SAFE);
    setRole(L, ROLE_LOW); setRole(A, ROLE_HA);
    expect(setSlot(L, 16)).toBe(OK);
    expect(beginGuarded()).toBe(OK);
    for (let k: u32 = 1; k <= 8; k++) expect(recvCompAt(L, 0, k, k + 1)).toBe(OK); // steps 1..8
    expect(recvCompAt(L, 1, 50, 11)).toBe(OK);   // step 10: joins step 8's record (now step 10)
    setEv(0, EV_SEND, L, KIND_ACT); evWord(0, EW_STEP, 11);
    expect(run1()).toBe(OK);                     // L outputs step 10: folds every record
    expect(causalAt(L, 0)).toBe(8);
    expect(causalAt(L, 1)).toBe(50);
  });
});

// A shadow's checkpoint records where its device-output log stood: a rollback voids only the
// outputs logged after it. Kills rules.ts onRecv: delete
// `store<u32>(ck, p.outExt.nextSeq, R_A2);` (d125bcf5), which voided the older ones too.
describe("a shadow's rollback keeps its device outputs from before the checkpoint", () => {
  it("one device output, a checkpoint, a rollback: nothing voided, the output re-sent", () => {
    setup(RULES_SAFE);
    expect(shadowOut(KIND_DEVICE, LOG_EXT)).toBe(1);
    expect(send(L, KIND_ACT)).toBe(OK);
    expect(recv(A, KIND_LOW, 1, 1)).toBe(OK);
    expect(recv(H, KIND_ACT, 1, 1)).toBe(OK);     // from A, dirty: H checkpoints
    expect(query(H, Q_CKPTS)).toBe(1);
    expect(recover(0, 0)).toBe(OK);               // H back to its checkpoint, takes over
    expect(findFx(FX_VOIDED)).toBe(-1);
    expect(countFx(FX_RESEND)).toBe(1);           // its device output: above Vext = 0
  });
});

// Under paper a member's message to another member carries the members' counts and nothing
// else, whatever the scratch vector held. Kills rules.ts allSent: delete `vZero(dst);`
// (ce9eccbb), with which a component a pass notice had named (beyond the members) leaked.
describe("paper: a member-to-member header carries only the members' counts", () => {
  it("a pass notice names component 6; L's next message to B does not", () => {
    resetAll();
    S.setRules(RULES_PAPER);
    setRole(L, ROLE_LOW); setRole(B, ROLE_LOW); setRole(A, ROLE_HA); setRole(H, ROLE_HS);
    expect(setTwin(H, L)).toBe(OK);
    expect(beginGuarded()).toBe(OK);
    const at = stagePtr() + 128;
    memory.fill(at, 0, 2 * VB);
    store<u32>(at + VB + 5 * 4, 9);               // Vext = (0, 0, 0, 0, 0, 9)
    setEv(0, EV_PASSED_AT, A, 0, 0, 0, S.epoch & 15, 0, 0, 0);
    evWord(0, EW_VOFF, 129);
    expect(run1()).toBe(OK);
    expect(send(L, KIND_DEVICE)).toBe(OK);
    expect(atResult(L, 1)).toBe(OK);              // Q = known Vext with L's count: (1, 0, 0, 0, 0, 9)
    expect(send(L, KIND_LOW)).toBe(OK);           // to B: paper's header, every member's count
    const i = findFx(FX_SEND);
    expect(i).toBeGreaterThanOrEqual(0);
    const a = fx(<u32>i, 6);
    expect(a == 0 ? 0 : load<u32>(<usize>a + 5 * 4)).toBe(0);
  });
});

// Two inputs of the same held step join in one record, every component included. Kills
// causal.ts maxInto `let j: u32 = 0` -> `1` (9610f558), which dropped component 1.
describe("a held step's second input joins its record in every component", () => {
  it("B holds step 4 twice: component 1 = 3, then 7", () => {
    tenSnapshots();
    expect(recvCompAt(B, 0, 3, 5)).toBe(OK);
    expect(recvCompAt(B, 0, 7, 5)).toBe(OK);
    setEv(0, EV_SEND, B, KIND_ACT); evWord(0, EW_STEP, 5);
    expect(run1()).toBe(OK);                      // B outputs step 4
    expect(causalAt(B, 0)).toBe(7);
  });
});

// A bounds header of no bytes is empty; of one byte, truncated. Kills codec.ts decodeBounds
// `len == 0` -> `len == 1` (736a98ee).
describe("decodeBounds: empty and one-byte inputs", () => {
  it("0 bytes: empty; 1 byte: truncated", () => {
    const at = stagePtr();
    store<u8>(at, 0x31);                          // passedAt, vector form, epoch 1
    expect(decodeBoundsHdr(<u32>at, 0)).toBe(E_HDR_EMPTY);
    expect(decodeBoundsHdr(<u32>at, 1)).toBe(E_HDR_TRUNCATED);
  });
});

// A shadow whose named twin is no longer a member is a shadow of no member: with several
// members, beginGuarded refuses. Kills index.ts beginGuarded `p.twin > 0 && twin is LOW` ->
// `||` (0e115d17), which gave it the ex-member's slot (0) and started.
describe("several members: a shadow whose twin was made active again is refused", () => {
  it("twin named, then its role changed", () => {
    resetAll();
    S.setRules(RULES_SAFE);
    setRole(L, ROLE_LOW); setRole(B, ROLE_LOW); setRole(H, ROLE_HS);
    expect(setTwin(H, L)).toBe(OK);
    expect(setRole(L, ROLE_HA)).toBe(OK);
    expect(setRole(A, ROLE_LOW)).toBe(OK);        // members now B and A
    expect(beginGuarded()).toBe(E_BAD_CONFIG);
  });
});

// Paper: at takeover a shadow whose iVR equals the shadows' counter resends nothing (the
// printed rule resends only when iVR is below it). (Written for recovery.ts onRecoverApply
// `p.iVR < sdwCounter` -> `<=`, 40d5b8ea; it does not kill it: with iVR equal to the counter
// the pass already freed every logged output, so a resend finds none. Listed as equivalent.)
describe("paper: iVR equal to the shadows' counter: no resend", () => {
  it("one validated output and its twin", () => {
    setup(RULES_PAPER);
    expect(send(L, KIND_ACT)).toBe(OK);           // counter 1
    expect(send(H, KIND_ACT)).toBe(OK);           // its twin: shadows' counter 1
    expect(send(L, KIND_DEVICE)).toBe(OK);
    expect(atResult(L, 1)).toBe(OK);              // passes with v = 1
    expect(passed(H, 1, 1)).toBe(OK);             // H learns iVR = 1
    expect(recover(1, 1)).toBe(OK);
    expect(countFx(FX_RESEND)).toBe(0);
  });
});
