import { vGet } from "../vec";
import { setLastS, vecs, vecs2 } from "./helpers";
import * as S from "../state";
import { Proc } from "../proc";
import { EFFECT_WORDS, EVENT_WORDS, ROLE_FREE, ROLE_HA, ROLE_LOW, ROLE_RETIRED, RULES_PAPER } from "../constants";

// state.init (not index.init): 3 processes, 4 events, 64 stage bytes, 8 effects,
// 2 checkpoints of 64 bytes, 3 log records of 48 bytes.
S.init(RULES_PAPER, 3, 4, 64, 8, 2, 64, 3, 48);

function fxw(i: u32, w: u32): u32 { return load<u32>(S.fxBuf + <usize>i * EFFECT_WORDS * 4 + <usize>w * 4); }
function emit9(): void { S.emit(99, 1, 2, 3, 4, 5, 6, 7, 8); }
function fillFx(): void { while (S.fxRoom() > 0) S.emit(1); }
function overflow(): void { S.emit(1); }

describe("state.init", () => {
  it("records the configuration", () => {
    expect(S.rules).toBe(RULES_PAPER);
    expect(S.maxProcs).toBe(3);
    expect(S.evCap).toBe(4);
    expect(S.fxCap).toBe(8);
    expect(S.stageCap).toBe(64);
    expect(S.procTable).not.toBe(0);
  });
  it("allocates one Proc per slot, FREE and with the configured rings", () => {
    for (let i: u32 = 0; i < 3; i++) {
      const p = S.procAt(i);
      expect(p.role).toBe(ROLE_FREE);
      expect(p.ckpts.recCap).toBe(2);
      expect(p.ckpts.byteCap).toBe(64);
      expect(p.inLog.recCap).toBe(3);
      expect(p.outExt.byteCap).toBe(48);
    }
    expect(changetype<usize>(S.procAt(0))).not.toBe(changetype<usize>(S.procAt(1)));
  });
  it("lays the event, effect, stage and scratch buffers out without overlap", () => {
    expect(S.evBuf + 4 * EVENT_WORDS * 4 <= S.fxBuf).toBe(true);
    expect(S.fxBuf + 8 * EFFECT_WORDS * 4 <= S.stage).toBe(true);
    expect(S.stage + 64 <= S.scratch).toBe(true);
    expect(S.scratch + 64 <= S.heapEnd).toBe(true);
  });
});

describe("lookup / isLive", () => {
  it("returns null for FREE or out-of-range pids", () => {
    expect(S.lookup(0)).toBeNull();
    expect(S.lookup(3)).toBeNull();
    expect(S.lookup(0xFFFFFFFF)).toBeNull();
  });
  it("returns the process once it has a role", () => {
    S.procAt(1).role = ROLE_HA;
    const p = S.lookup(1);
    expect(p).not.toBeNull();
    expect(changetype<usize>(p)).toBe(changetype<usize>(S.procAt(1)));
    expect(S.isLive(S.procAt(1))).toBe(true);
    S.procAt(1).role = ROLE_RETIRED;
    expect(S.lookup(1)).not.toBeNull(); // retired is still known (E_RETIRED, not E_UNKNOWN_PID)
    expect(S.isLive(S.procAt(1))).toBe(false);
    expect(S.isLive(S.procAt(0))).toBe(false);
    S.procAt(1).role = ROLE_LOW;
    expect(S.isLive(S.procAt(1))).toBe(true);
    S.procAt(1).role = ROLE_FREE;
  });
});

describe("effects", () => {
  it("emit writes type and eight arguments, 16 words apart", () => {
    S.beginBatch();
    expect(S.fxRoom()).toBe(8);
    emit9();
    S.emit(5, 10);
    expect(S.fxCount).toBe(2);
    expect(S.fxRoom()).toBe(6);
    expect(fxw(0, 0)).toBe(99);
    expect(fxw(0, 1)).toBe(1);
    expect(fxw(0, 8)).toBe(8);
    expect(fxw(1, 0)).toBe(5);
    expect(fxw(1, 1)).toBe(10);
    expect(fxw(1, 2)).toBe(0); // defaults
    S.beginBatch();
    expect(S.fxCount).toBe(0);
    expect(S.fxRoom()).toBe(8);
  });
  it("aborts instead of writing past the effect buffer", () => {
    S.beginBatch();
    fillFx();
    expect(S.fxCount).toBe(8);
    expect(overflow).toThrow();
    S.beginBatch();
  });
});

describe("shared counters", () => {
  it("bump, set, take and reset", () => {
    S.resetCounters();
    expect(S.bumpLow()).toBe(1);
    expect(S.bumpLow()).toBe(2);
    expect(S.lowCounter).toBe(2);
    expect(S.bumpLowExt()).toBe(1);
    expect(S.bumpSdw()).toBe(1);
    expect(S.bumpSdwExt()).toBe(1);
    S.setSdw(7, 3);
    expect(S.sdwCounter).toBe(7);
    expect(S.sdwExt).toBe(3);
    S.setSuppress(2, 1);
    expect(S.takeSuppressInt()).toBe(true);
    expect(S.takeSuppressInt()).toBe(true);
    expect(S.takeSuppressInt()).toBe(false);
    expect(S.suppressInt).toBe(0);
    expect(S.takeSuppressExt()).toBe(true);
    expect(S.takeSuppressExt()).toBe(false);
    S.noteKnown(vecs(5, 2), vecs2());
    S.noteKnown(vecs(3, 4), vecs2());
    expect(vGet(S.knownV, 0)).toBe(5);
    expect(vGet(S.knownVext, 0)).toBe(4);
    const s0 = S.nextOutSeq();
    expect(S.nextOutSeq()).toBe(s0 + 1);
    S.setSuppress(4, 4);
    S.resetCounters();
    expect(S.lowCounter).toBe(0);
    expect(S.lowExt).toBe(0);
    expect(S.sdwCounter).toBe(0);
    expect(S.sdwExt).toBe(0);
    expect(vGet(S.knownV, 0)).toBe(0);
    expect(vGet(S.knownVext, 0)).toBe(0);
    expect(S.suppressInt).toBe(4);      // not a counter: recovery sets it
    expect(S.nextOutSeq()).toBe(s0 + 2); // output order stays monotonic
    S.setSuppress(0, 0);
  });
  it("setters for the guarded-operation flags", () => {
    S.setGuarded(1); S.setRecovering(1); S.setEpoch(3); setLastS(4, 5); S.setRules(1);
    expect(S.guarded).toBe(1);
    expect(S.recovering).toBe(1);
    expect(S.epoch).toBe(3);
    expect(vGet(S.lastV, 0)).toBe(4);
    expect(vGet(S.lastVext, 0)).toBe(5);
    expect(S.rules).toBe(1);
    S.setGuarded(0); S.setRecovering(0); S.setEpoch(0); setLastS(0, 0); S.setRules(RULES_PAPER);
  });
});
