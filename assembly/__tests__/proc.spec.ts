import { vGet, vSet } from "../vec";
import { Proc } from "../proc";
import { ROLE_FREE, ROLE_HS } from "../constants";

describe("Proc.create", () => {
  it("starts FREE, clean and with zeroed counters", () => {
    const p = Proc.create(2, 64, 3, 40);
    expect(p.role).toBe(ROLE_FREE);
    expect(p.dirty).toBe(0);
    expect(p.prgt).toBe(0);
    expect(vGet(p.lv, 0)).toBe(0);
    expect(p.iVR).toBe(0);
    expect(p.pendingAt).toBe(0);
    expect(p.fromShadow).toBe(0);
    expect(p.delivered).toBe(0);
    expect(p.ckptsTaken).toBe(0);
    expect(p.resent).toBe(0);
    expect(p.held()).toBe(0);
  });
  it("sizes the checkpoint ring and the three logs from its arguments", () => {
    const p = Proc.create(2, 64, 3, 40);
    expect(p.ckpts.recCap).toBe(2);
    expect(p.ckpts.byteCap).toBe(64);
    expect(p.inLog.recCap).toBe(3);
    expect(p.inLog.byteCap).toBe(40);
    expect(p.outInt.recCap).toBe(3);
    expect(p.outExt.byteCap).toBe(40);
    // four distinct rings with disjoint byte areas
    expect(p.inLog.byteBase).not.toBe(p.outInt.byteBase);
    expect(p.outInt.byteBase).not.toBe(p.outExt.byteBase);
    const q = Proc.create(2, 64, 3, 40);
    expect(changetype<usize>(q)).not.toBe(changetype<usize>(p));
    expect(q.ckpts.byteBase >= p.outExt.byteBase + 40 || q.ckpts.byteBase + 64 <= p.ckpts.byteBase).toBe(true);
  });
});

describe("Proc.held / freeAll", () => {
  it("held sums the aligned bytes of all four rings", () => {
    const p = Proc.create(4, 128, 4, 128);
    p.ckpts.push(20);   // 24
    p.inLog.push(1);    // 8
    p.outInt.push(16);  // 16
    p.outExt.push(0);   // 8
    p.outExt.push(9);   // 16
    expect(p.held()).toBe(72);
  });
  it("freeAll empties every ring and returns what it released", () => {
    const p = Proc.create(4, 128, 4, 128);
    p.ckpts.push(20); p.ckpts.push(3);
    p.inLog.push(1);
    p.outInt.push(16);
    p.outExt.push(9);
    expect(p.freeAll()).toBe(24 + 8 + 8 + 16 + 16);
    expect(p.held()).toBe(0);
    expect(p.ckpts.count).toBe(0);
    expect(p.inLog.count).toBe(0);
    expect(p.outInt.count).toBe(0);
    expect(p.outExt.count).toBe(0);
    expect(p.freeAll()).toBe(0);
  });
});

describe("Proc.resetCounters", () => {
  it("clears the protocol variables but keeps role, statistics and fromShadow", () => {
    const p = Proc.create(1, 8, 1, 8);
    p.role = ROLE_HS; p.dirty = 1; p.prgt = 1; vSet(p.lv, 0, 9); p.iVR = 4; p.iVRext = 3; p.pendingAt = 1;
    p.fromShadow = 1; p.delivered = 5; p.ckptsTaken = 2; p.rollbacks = 1;
    p.ckpts.push(8);
    p.resetCounters();
    expect(p.dirty).toBe(0);
    expect(p.prgt).toBe(0);
    expect(vGet(p.lv, 0)).toBe(0);
    expect(p.iVR).toBe(0);
    expect(p.iVRext).toBe(0);
    expect(p.pendingAt).toBe(0);
    expect(p.role).toBe(ROLE_HS);
    expect(p.fromShadow).toBe(1);
    expect(p.delivered).toBe(5);
    expect(p.ckptsTaken).toBe(2);
    expect(p.rollbacks).toBe(1);
    expect(p.ckpts.count).toBe(1); // memory is freeAll's job
  });
});
