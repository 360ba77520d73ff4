import { Proc } from "../proc";
import { Ring, R_A0, R_IDX, R_IDX2, R_SEQ } from "../ring";
import { reclaim, freedBytes, freedCkpts, freedLogs } from "../reclaim";
import { ROLE_HA, ROLE_HS, RULES_FOLDED, RULES_PAPER, RULES_SAFE } from "../constants";
import * as S from "../state";
import { VB, vGet, vSet, vZero } from "../vec";

// reclaim needs no init: a Proc from Proc.create and the rules global are enough.

function fresh(role: u32): Proc {
  const p = Proc.create(4, 256, 8, 256);
  p.role = role;
  return p;
}
// A checkpoint with index idx, remembering the receiver log's next sequence number.
const VA: usize = heap.alloc(VB), VE: usize = heap.alloc(VB);
// reclaim with scalar bounds (component 1 of the vectors; the others 0)
function rc(p: Proc, v: u32, ve: u32): void { vZero(VA); vZero(VE); vSet(VA, 0, v); vSet(VE, 0, ve); reclaim(p, VA, VE); }
function ckpt(p: Proc, idx: u32, len: u32 = 8): void {
  const r = p.ckpts.push(len);
  store<u32>(r, idx, R_IDX);
  vSet(p.ckpts.vec(r, 0), 0, idx);
  store<u32>(r, p.inLog.nextSeq, R_A0);
  p.dirty = 1;
}
function log(r: Ring, idx: u32, len: u32 = 8): void {
  const rec = r.push(len);
  store<u32>(rec, idx, R_IDX);
  if (r.nvec > 0) vSet(r.vec(rec, 0), 0, idx);
}
function idxAt(r: Ring, i: u32): u32 { return load<u32>(r.at(i), R_IDX); }
function seqAt(r: Ring, i: u32): u32 { return load<u32>(r.at(i), R_SEQ); }

describe("reclaim (RULES_PAPER)", () => {
  beforeEach(() => { S.setRules(RULES_PAPER); });

  it("drops checkpoints and receiver-log entries with index <= v, keeps the rest", () => {
    const p = fresh(ROLE_HA);
    ckpt(p, 1, 20);           // 24 bytes
    log(p.inLog, 1, 3);       // 8
    log(p.inLog, 2, 9);       // 16
    ckpt(p, 3);               // 8
    log(p.inLog, 4);          // 8
    ckpt(p, 5);
    log(p.inLog, 6);
    rc(p, 3, 0);
    expect(freedCkpts).toBe(2);
    expect(freedLogs).toBe(2);
    expect(freedBytes).toBe(24 + 8 + 8 + 16);
    expect(p.ckpts.count).toBe(1);
    expect(idxAt(p.ckpts, 0)).toBe(5);
    expect(p.inLog.count).toBe(2);
    expect(idxAt(p.inLog, 0)).toBe(4);
    expect(p.dirty).toBe(1);
  });

  it("cleans the process when no checkpoint remains", () => {
    const p = fresh(ROLE_HA);
    ckpt(p, 2); log(p.inLog, 2); log(p.inLog, 3);
    rc(p, 10, 0);
    expect(freedCkpts).toBe(1);
    expect(freedLogs).toBe(2);
    expect(freedBytes).toBe(24);
    expect(p.held()).toBe(0);
    expect(p.dirty).toBe(0);
  });

  it("removes only a prefix: an entry above v shields older-looking ones behind it", () => {
    const p = fresh(ROLE_HA);
    ckpt(p, 5); ckpt(p, 2);
    log(p.inLog, 5); log(p.inLog, 1);
    rc(p, 3, 0);
    expect(freedCkpts).toBe(0);
    expect(freedLogs).toBe(0);
    expect(freedBytes).toBe(0);
    expect(p.ckpts.count).toBe(2);
    expect(p.inLog.count).toBe(2);
  });

  it("v = 0 frees nothing indexed above 0 and resets the freed counters", () => {
    const p = fresh(ROLE_HA);
    ckpt(p, 1); log(p.inLog, 1);
    rc(p, 1, 0);
    expect(freedCkpts).toBe(1);
    ckpt(p, 2);
    rc(p, 0, 0);
    expect(freedCkpts).toBe(0);
    expect(freedLogs).toBe(0);
    expect(freedBytes).toBe(0);
    expect(p.dirty).toBe(1);
  });

  it("the paper's gap 1: dropping C1 cleans a process whose interval folded a higher index", () => {
    // documented printed behaviour, not a core bug (protocol-notes, suspected gap 1)
    const p = fresh(ROLE_HA);
    ckpt(p, 1);
    vSet(p.lv, 0, 3); // m3 folded into C1's interval without a checkpoint
    rc(p, 2, 0);
    expect(p.dirty).toBe(0);
  });

  it("shadow: raises iVR/iVRext and reclaims both output logs by iVR", () => {
    const p = fresh(ROLE_HS);
    log(p.outInt, 1); log(p.outInt, 2); log(p.outInt, 3);
    log(p.outExt, 1); log(p.outExt, 2); log(p.outExt, 3);
    rc(p, 2, 1);
    expect(p.iVR).toBe(2);
    expect(p.iVRext).toBe(1);
    expect(p.outInt.count).toBe(1);
    expect(idxAt(p.outInt, 0)).toBe(3);
    expect(p.outExt.count).toBe(1); // paper: ext log indexed by int_mSN_G^high_sdw, bound iVR
    expect(idxAt(p.outExt, 0)).toBe(3);
    expect(freedLogs).toBe(4);
    expect(freedBytes).toBe(32);
    expect(p.dirty).toBe(0);
  });

  it("shadow: iVR only grows; a later smaller v still reclaims by iVR", () => {
    const p = fresh(ROLE_HS);
    rc(p, 4, 2);
    expect(p.iVR).toBe(4);
    log(p.outInt, 3); // logged late, already covered by iVR
    log(p.outInt, 5);
    rc(p, 1, 0);
    expect(p.iVR).toBe(4);
    expect(p.iVRext).toBe(2);
    expect(freedLogs).toBe(1);
    expect(idxAt(p.outInt, 0)).toBe(5);
  });

  it("non-shadows leave iVR and the output logs alone", () => {
    const p = fresh(ROLE_HA);
    log(p.outInt, 1); log(p.outExt, 1);
    rc(p, 9, 9);
    expect(p.iVR).toBe(0);
    expect(p.iVRext).toBe(0);
    expect(p.outInt.count).toBe(1);
    expect(p.outExt.count).toBe(1);
    expect(freedLogs).toBe(0);
  });
});

describe("reclaim (RULES_SAFE)", () => {
  beforeEach(() => { S.setRules(RULES_SAFE); });

  it("reclaims the receiver log by position: entries before the oldest remaining checkpoint", () => {
    const p = fresh(ROLE_HA);
    ckpt(p, 3);                   // A0 = 0
    log(p.inLog, 9); log(p.inLog, 9);
    ckpt(p, 5);                   // A0 = 2
    log(p.inLog, 9); log(p.inLog, 1); // above v and below v: position decides, not index
    rc(p, 3, 0);
    expect(freedCkpts).toBe(1);
    expect(freedLogs).toBe(2);
    expect(freedBytes).toBe(24);
    expect(p.inLog.count).toBe(2);
    expect(seqAt(p.inLog, 0)).toBe(2);
    expect(idxAt(p.inLog, 1)).toBe(1); // index 1 <= v survives: it follows C5
    expect(p.dirty).toBe(1);
  });

  it("clears the whole receiver log when the last checkpoint goes, whatever the indexes", () => {
    const p = fresh(ROLE_HA);
    ckpt(p, 2);
    log(p.inLog, 7); log(p.inLog, 8); log(p.inLog, 0);
    rc(p, 2, 0);
    expect(freedCkpts).toBe(1);
    expect(freedLogs).toBe(3);
    expect(p.inLog.count).toBe(0);
    expect(p.held()).toBe(0);
    expect(p.dirty).toBe(0);
  });

  it("keeps a receiver log that follows its checkpoint even when no checkpoint is freed", () => {
    const p = fresh(ROLE_HA);
    ckpt(p, 4);
    log(p.inLog, 1); log(p.inLog, 2);
    rc(p, 3, 0);
    expect(freedCkpts).toBe(0);
    expect(freedLogs).toBe(0);
    expect(p.inLog.count).toBe(2);
  });

  it("drops receiver-log entries older than the oldest checkpoint without freeing a checkpoint", () => {
    const p = fresh(ROLE_HA);
    log(p.inLog, 9); log(p.inLog, 9); // logged before the checkpoint (seq 0, 1)
    ckpt(p, 4);                       // A0 = 2
    rc(p, 0, 0);
    expect(freedCkpts).toBe(0);
    expect(freedLogs).toBe(2);
    expect(p.inLog.count).toBe(0);
  });

  it("shadow: reclaims the ext log by its own bound iVRext", () => {
    const p = fresh(ROLE_HS);
    log(p.outInt, 1); log(p.outInt, 2); log(p.outInt, 3);
    log(p.outExt, 1); log(p.outExt, 2); log(p.outExt, 3);
    rc(p, 2, 1);
    expect(p.iVR).toBe(2);
    expect(p.iVRext).toBe(1);
    expect(p.outInt.count).toBe(1);
    expect(p.outExt.count).toBe(2);
    expect(idxAt(p.outExt, 0)).toBe(2);
    expect(freedLogs).toBe(3);
    rc(p, 0, 3);
    expect(p.iVR).toBe(2);
    expect(p.iVRext).toBe(3);
    expect(p.outExt.count).toBe(0);
    expect(p.outInt.count).toBe(1);
    expect(freedLogs).toBe(2);
  });
});

describe("reclaim (RULES_FOLDED)", () => {
  beforeEach(() => { S.setRules(RULES_FOLDED); });

  it("keys checkpoints by their highest folded index and reclaims the receiver log by position", () => {
    const p = fresh(ROLE_HA);
    ckpt(p, 1);
    store<u32>(p.ckpts.newest(), 3, R_IDX2);   // index 3 folded into C1's interval
    vSet(p.ckpts.vec(p.ckpts.newest(), 1), 0, 3);
    log(p.inLog, 9);
    rc(p, 2, 0);
    expect(freedCkpts).toBe(0);
    expect(freedLogs).toBe(0);
    expect(p.dirty).toBe(1);
    rc(p, 3, 0);
    expect(freedCkpts).toBe(1);
    expect(freedLogs).toBe(1);
    expect(freedBytes).toBe(16);
    expect(p.dirty).toBe(0);
  });
  it("shadow ext log by iVRext, as under the safe rules", () => {
    const p = fresh(ROLE_HS);
    log(p.outExt, 1); log(p.outExt, 2);
    rc(p, 2, 1);
    expect(p.outExt.count).toBe(1);
  });
});
