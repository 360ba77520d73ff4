// The per-message path's reuse (issue 12: no per-message allocations in the runtime): the
// byte pool, the frame buffer's views, the outbox's position marks and the shadow ring, and
// that a run's pools stop growing once warm. (How many bytes a message allocates is
// bench:rehearsal's figure, by V8's sampling heap profiler; this checks the mechanisms.)
import { describe, expect, it } from "vitest";
import { BytePool, copyBytes, FrameBuf, MAX_LEN } from "../host/runtime/byte-pool.ts";
import { OutputCommit, type Mark } from "../host/runtime/output-commit.ts";
import { runTestbed } from "../host/sim/testbed.ts";
import { demoSystem } from "../host/sim/demo-system.ts";

describe("byte pool and frame buffer", () => {
  it("a buffer given back is taken again for the same length, whole; views, odd buffers and long ones are not kept", () => {
    const p = new BytePool();
    const a = p.take(20);
    expect(a.length).toBe(20);
    expect(p.made).toBe(1);
    p.give(a);
    expect(p.take(20)).toBe(a);
    expect(p.take(20)).not.toBe(a); // taken already: a new one
    expect(p.made).toBe(2);
    const big = new Uint8Array(64);
    p.give(big.subarray(0, 20)); // a view: its buffer is not the pool's to hand out
    expect(p.take(20)).not.toBe(big);
    const long = p.take(MAX_LEN + 1);
    p.give(long);
    expect(p.take(MAX_LEN + 1)).not.toBe(long);
  });
  it("copyBytes copies short and long runs alike", () => {
    for (const n of [0, 1, 37, 256, 257, 5000]) {
      const src = Uint8Array.from({ length: n + 7 }, (_, i) => (i * 31 + 5) & 255), dst = new Uint8Array(n + 11);
      copyBytes(dst, 3, src, 7, n);
      expect([...dst.subarray(3, 3 + n)]).toEqual([...src.subarray(7, 7 + n)]);
      expect(dst[0] | dst[1] | dst[2]).toBe(0);
    }
  });
  it("a frame buffer hands out one view per length, and new ones when it grows", () => {
    const f = new FrameBuf(8);
    const v5 = f.view(5);
    expect(f.view(5)).toBe(v5);
    expect(f.holds(v5)).toBe(true);
    const buf = f.room(100);
    expect(buf.length).toBeGreaterThanOrEqual(100);
    expect(f.view(5)).not.toBe(v5);
    expect(f.holds(v5)).toBe(false); // the old buffer is no longer reused: its views are the holder's now
  });
});

describe("output commit, in place", () => {
  it("admits only later positions, keeps its own mark and saves a copy-able one to the store", () => {
    const saved: [string, Mark][] = [];
    const oc = new OutputCommit({ load: () => [["d<-c.p", { step: 3, ord: 1 }]], save: (k, m) => { saved.push([k, { ...m }]); } });
    expect(oc.admit("d<-c.p", 3, 1)).toMatchObject({ reason: "device-repeat", last: { step: 3, ord: 1 } });
    expect(oc.admit("d<-c.p", 2, 9)).toMatchObject({ reason: "device-stale-step" });
    expect(oc.admit("d<-c.p", 3, 1, true)).toBeNull(); // the printed rules hold back only an earlier step
    expect(oc.admit("d<-c.p", 4, 0)).toBeNull();
    expect(oc.isNew("d<-c.p", 4, 0)).toBe(false);
    expect(oc.isNew("d<-c.p", 4, 1)).toBe(true);
    expect(saved).toEqual([["d<-c.p", { step: 3, ord: 1 }], ["d<-c.p", { step: 4, ord: 0 }]]);
    const refused = oc.admit("d<-c.p", 1, 0)!;
    oc.admit("d<-c.p", 5, 0);
    expect(refused.last).toEqual({ step: 4, ord: 0 }); // a refusal's mark is a copy: later admits do not change it
  });
  it("remembers each shadow's latest 4096 device outputs by log index; older ones fall out; a recovery forgets them", () => {
    const oc = new OutputCommit();
    for (let i = 0; i < 5000; i++) oc.rememberShadow(2, i, 100 + i, i % 3);
    expect(oc.recallShadow(2, 4999)).toEqual({ step: 5099, ord: 4999 % 3 });
    expect(oc.recallShadow(2, 904)).toEqual({ step: 1004, ord: 904 % 3 });
    expect(oc.recallShadow(2, 903)).toBeUndefined(); // 903 + 4096 = 4999 took its slot
    expect(oc.recallShadow(3, 4999)).toBeUndefined(); // per process
    oc.rememberShadow(2, 4999, 7, 7); // the same index again: the latest wins
    expect(oc.recallShadow(2, 4999)).toEqual({ step: 7, ord: 7 });
    oc.forgetShadows();
    expect(oc.recallShadow(2, 4999)).toBeUndefined();
  });
});

describe("a run's pools stop growing once warm", () => {
  it("the demo, guarded with shadows, unprotected, and over the link layer with and without a key: the buffers made in 200 steps are all a run of 600 makes", () => {
    const sys = demoSystem();
    const key = new Uint8Array(32).fill(7);
    for (const o of [{ fault: null }, { reference: true, protocol: false }, { fault: null, links: {} }, { fault: null, links: { key } }]) {
      const short = runTestbed(sys, { seed: 5, steps: 200, oracles: false, ...o });
      const long = runTestbed(sys, { seed: 5, steps: 600, oracles: false, ...o });
      expect(short.violations).toEqual([]);
      expect(long.devices.length).toBe(3 * short.devices.length);
      expect(short.buffersMade).toBeGreaterThan(0);
      expect(long.buffersMade).toBe(short.buffersMade);
    }
  });
});
