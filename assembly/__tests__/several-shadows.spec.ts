// Two members, each with its shadow, and an active process: per-member numbering of the
// shadows' outputs across a checkpoint and a rollback. Written to kill a mutant that
// survived `npm run mutate` (sample 150, seed 43): rules.ts onRecv
// `own = role == ROLE_HS && perMember(!safe)` -> `role != ROLE_HS` (d7fc8e0f), with which a
// shadow's checkpoint kept the shadows' shared counter instead of its own count; with one
// shadow the two are equal, so it takes two.
import {
  EV_RECOVER_APPLY, EV_RECOVER_BEGIN, EV_RECV, EV_SEND, EW_VOFF, FX_RESEND, FX_SEND, FX_SUPPRESSED, KIND_ACT, KIND_LOW,
  OK, ROLE_HA, ROLE_HS, ROLE_LOW, RULES_SAFE,
} from "../constants";
import { beginGuarded, init, Q_CKPTS, Q_ROLE, query, setRole, setSlot, setTwin, stagePtr } from "../index";
import * as S from "../state";
import { VB } from "../vec";
import { countFx, evWord, findFx, resetAll, run1, setEv } from "./helpers";

const initStatus = init(RULES_SAFE, 5, 16, 256, 0, 4, 128, 4, 128);
const L1: u32 = 0, L2: u32 = 1, A: u32 = 2, H1: u32 = 3, H2: u32 = 4;

function send(pid: u32, kind: u32): i32 {
  setEv(0, EV_SEND, pid, kind, 0, 0, 0, 0, 0, 0, 0, 0, 5, 6);
  return run1();
}
function recv(pid: u32, kind: u32, dirty: u32, idx: u32): i32 {
  setEv(0, EV_RECV, pid, kind, dirty, idx, S.epoch & 15, 8);
  return run1();
}

describe("two shadows: each checkpoint keeps its shadow's own output count", () => {
  it("init", () => { expect(initStatus).toBe(OK); });
  it("H2 outputs twice, H1 once; H1 checkpoints, rolls back under V = (3, 0) and suppresses 3 - 1", () => {
    resetAll();
    S.setRules(RULES_SAFE);
    setRole(L1, ROLE_LOW); setRole(L2, ROLE_LOW); setRole(A, ROLE_HA); setRole(H1, ROLE_HS); setRole(H2, ROLE_HS);
    expect(setSlot(L1, 1)).toBe(OK);
    expect(setSlot(L2, 2)).toBe(OK);
    expect(setTwin(H1, L1)).toBe(OK);
    expect(setTwin(H2, L2)).toBe(OK);
    expect(beginGuarded()).toBe(OK);
    expect(send(H2, KIND_ACT)).toBe(OK);
    expect(send(H2, KIND_ACT)).toBe(OK);
    expect(send(H1, KIND_ACT)).toBe(OK);          // H1's own count 1 (the shadows': 3)
    for (let k = 0; k < 4; k++) expect(send(L1, KIND_ACT)).toBe(OK); // (1..4, 0)
    expect(recv(A, KIND_LOW, 1, 4)).toBe(OK);     // A dirty, local (4, 0)
    expect(recv(H1, KIND_ACT, 1, 4)).toBe(OK);    // from A: H1 checkpoints
    expect(query(H1, Q_CKPTS)).toBe(1);
    setEv(0, EV_RECOVER_BEGIN, 0);
    expect(run1()).toBe(OK);
    setEv(0, EV_RECOVER_APPLY, 0, 0, 0, 0, S.epoch + 1, 0, 3, 0);
    expect(run1()).toBe(OK);                      // 4 > V[0] = 3: H1 back to its checkpoint
    expect(query(H1, Q_ROLE)).toBe(ROLE_HA);
    // L1's outputs 2 and 3 are validated and H1 had made only 1: its next two are suppressed
    expect(send(H1, KIND_ACT)).toBe(OK);
    expect(findFx(FX_SUPPRESSED)).toBeGreaterThanOrEqual(0);
    expect(send(H1, KIND_ACT)).toBe(OK);
    expect(findFx(FX_SUPPRESSED)).toBeGreaterThanOrEqual(0);
    expect(send(H1, KIND_ACT)).toBe(OK);          // its 4th: above V[0], sent
    expect(findFx(FX_SUPPRESSED)).toBe(-1);
    expect(findFx(FX_SEND)).toBeGreaterThanOrEqual(0);
  });
});

// The shadow at pid 0 gets its twin's slot too. Kills index.ts beginGuarded's shadow loop
// `let pid: u32 = 0` -> `1` (280ea1c8): with one member slot 0 and slot 1 both mean
// component 1, so it takes a shadow at pid 0 whose twin is member 2.
describe("a shadow at pid 0 whose twin is member 2", () => {
  it("resends only above V[2]", () => {
    resetAll();
    S.setRules(RULES_SAFE);
    const H: u32 = 0, M1: u32 = 1, M2: u32 = 2, X: u32 = 3;
    setRole(H, ROLE_HS); setRole(M1, ROLE_LOW); setRole(M2, ROLE_LOW); setRole(X, ROLE_HA);
    expect(setSlot(M1, 1)).toBe(OK);
    expect(setSlot(M2, 2)).toBe(OK);
    expect(setTwin(H, M2)).toBe(OK);
    expect(beginGuarded()).toBe(OK);
    expect(send(M2, KIND_ACT)).toBe(OK);          // (0, 1)
    expect(send(M2, KIND_ACT)).toBe(OK);          // (0, 2)
    expect(send(H, KIND_ACT)).toBe(OK);           // the twins: H's 1 and 2, suppressed
    expect(send(H, KIND_ACT)).toBe(OK);
    setEv(0, EV_RECOVER_BEGIN, 0);
    expect(run1()).toBe(OK);
    memory.fill(stagePtr() + 128, 0, 2 * VB);     // V and Vext
    store<u32>(stagePtr() + 128 + 4, 1);          // V = (0, 1): M2's first validated
    setEv(0, EV_RECOVER_APPLY, 0, 0, 0, 0, S.epoch + 1, 0, 0, 0);
    evWord(0, EW_VOFF, 129);
    expect(run1()).toBe(OK);
    expect(countFx(FX_RESEND)).toBe(1);            // H's 2nd only
  });
});
