// The coordinator rounds (host/runtime/rounds.ts) under lost, late and refused frames:
// unit tests of the state machines over a hand-driven network, then whole systems on the
// testbed with protocol frames lost at random, a board cut off during a recovery, and
// upgrades on running boards through the boards' own upgrade round, judged by the
// simulator's oracles (device equivalence with the fault-free reference, no loss, no
// duplicate, nothing held).
import { describe, expect, it } from "vitest";
import { Core } from "../host/core/core.ts";
import type { Header } from "../host/core/types.ts";
import { controlIndex, decodeCounts, encodeCounts, OP, Rounds, splitControl, type Counts, type RoundHost } from "../host/runtime/rounds.ts";
import { BROADCAST } from "../host/transport/types.ts";
import { roleCheck } from "../host/runtime/roles.ts";
import { loadSystemByName } from "../host/sim/systems.ts";
import { runTestbed, type RunOptions } from "../host/sim/testbed.ts";
import { judge, type Case } from "../host/sim/property.ts";
import { Rng } from "../host/sim/rng.ts";

describe("control frames", () => {
  it("op and argument share the index: op | arg << 4", () => {
    for (const [op, arg] of [[OP.COMMIT, 0], [OP.PREPARE, 1], [OP.IDLE, 12345], [OP.GO, 0x0fff_ffff]]) {
      expect(splitControl(controlIndex(op, arg))).toEqual({ op, arg });
    }
    expect(controlIndex(OP.COMMIT, 0)).toBe(1); // the commit frame c0 01 of earlier versions is COMMIT(0)
  });
  it("IDLE counts round-trip, and a bad body is refused with the reason", () => {
    const c: Counts = new Map([[1, { sent: 0, recv: 300 }], [7, { sent: 2 ** 20, recv: 5 }]]);
    expect(decodeCounts(encodeCounts(c))).toEqual(c);
    expect(decodeCounts(Uint8Array.of(2, 1, 0))).toMatch(/truncated/);
    expect(decodeCounts(Uint8Array.of(0, 9))).toMatch(/trailing/);
    expect(decodeCounts(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x01))).toMatch(/bad peer count/);
  });
});

describe("roles of control frames (the link layer's admit check)", () => {
  it("answers go to the coordinator only, decisions come from it only", () => {
    const enc = (op: number, arg = 1) => new Core({ procs: 2 }).encodeHeader({ kind: "control", dirty: 0, index: controlIndex(op, arg), epoch: 0 });
    const atCoord = roleCheck({ self: 1, coordinator: 1 }), atBoard = roleCheck({ self: 2, coordinator: 1 });
    for (const op of [OP.READY, OP.REFUSE, OP.COMMITTED, OP.APPLIED, OP.IDLE, OP.STARTED]) {
      expect(atCoord(2, enc(op)), `op ${op} to the coordinator`).toBeNull();
      expect(atBoard(3, enc(op)), `op ${op} to another board`).toMatch(/answers go to the coordinator/);
    }
    for (const op of [OP.COMMIT, OP.PREPARE, OP.RESUME, OP.QUIESCE, OP.START, OP.GO]) {
      expect(atBoard(1, enc(op, 300)), `op ${op} from the coordinator`).toBeNull();
      expect(atBoard(3, enc(op, 300)), `op ${op} from another board`).toMatch(/only the coordinator/);
    }
  });
});

// ---- the state machines over a network the test drives by hand ---------------------------
const core = new Core({ procs: 2 });
type Frame = { src: number; dst: number; f: Uint8Array };
class Net {
  queue: Frame[] = [];
  lose: (fr: Frame) => boolean = () => false;
  t = 0;
  timers: { at: number; fn: () => void }[] = [];
  nodes = new Map<number, Node>();
  deliverAll(max = 10_000): void {
    for (let i = 0; i < max && this.queue.length; i++) {
      const fr = this.queue.shift()!;
      if (this.lose(fr)) continue;
      this.nodes.get(fr.dst)?.recv(fr.src, fr.f);
    }
  }
  /** Advances time to the next timer and runs it. */
  tick(): boolean {
    this.timers.sort((a, b) => a.at - b.at);
    const t = this.timers.shift();
    if (!t) return false;
    this.t = Math.max(this.t, t.at);
    t.fn();
    return true;
  }
  settle(rounds = 200): void { for (let i = 0; i < rounds; i++) { this.deliverAll(); if (!this.tick()) break; } this.deliverAll(); }
}
class Node {
  epoch = 0; guarded = true; recovering = false; committed = 0; applied: { V: number | number[]; Vext: number | number[] }[] = [];
  blocker: string | null = null; paused = new Set<string>(); upgraded = 0; bound: { v: number | number[]; vext: number | number[] } = { v: 0, vext: 0 };
  counts: Counts = new Map();
  events: string[] = [];
  hasPlan = true; startedWith: string[] = [];
  rounds: Rounds;
  constructor(readonly net: Net, readonly node: number, coordinator: number, boards: number[], required: number[]) {
    net.nodes.set(node, this);
    const host: RoundHost = {
      node, coordinator, boards, required,
      now: () => net.t,
      timer: (us, fn) => { net.timers.push({ at: net.t + us, fn }); },
      header: (h: Header) => core.encodeHeader(h),
      send: (dst, f) => { for (const d of dst === BROADCAST ? boards.filter((n) => n !== node) : [dst]) net.queue.push({ src: node, dst: d, f }); },
      epoch: () => this.epoch,
      guarded: () => this.guarded,
      restarted: () => false,
      recovering: () => this.recovering,
      // bounds are vectors over the members; one component prints as a number
      beginLocal: () => { this.recovering = true; return { v: typeof this.bound.v === "number" ? [this.bound.v] : this.bound.v, vext: typeof this.bound.vext === "number" ? [this.bound.vext] : this.bound.vext }; },
      applyLocal: (V, Vext, next) => { this.applied.push({ V: V.length === 1 ? V[0] : V, Vext: Vext.length === 1 ? Vext[0] : Vext }); this.recovering = false; this.guarded = false; this.epoch = next; },
      commitBlocker: () => this.blocker,
      commitLocal: () => { if (this.guarded) { this.committed++; this.guarded = false; } },
      pause: (what) => { this.paused.add(what); },
      resume: (what) => { this.paused.delete(what); },
      counts: () => this.counts,
      startUpgrade: (cluster) => { if (!this.hasPlan && !cluster?.length) return false; if (!this.hasPlan) this.startedWith = cluster!; this.upgraded++; this.guarded = true; return true; },
      clusterNames: () => ["m1", "m2"],
      dropAhead: () => { this.events.push("drop-ahead"); },
      trace: (type) => { this.events.push(type); },
    };
    this.rounds = new Rounds(host, { resendUs: 100, partitionUs: 1_000, voteUs: 1_000, maxResends: 50 });
  }
  recv(src: number, f: Uint8Array): void {
    const h = core.decodeHeader(f);
    switch (h.kind) {
      case "begin": return this.rounds.onBegin(src, h.index);
      case "bound": return this.rounds.onBound(src, h.P ?? [h.index], h.Q ?? [h.aux ?? 0], h.epoch);
      case "apply": return this.rounds.onApply(src, h.P ?? [h.index], h.Q ?? [h.aux ?? 0], h.epoch);
      case "control": { const c = splitControl(h.index); this.rounds.onControl(src, c.op, c.arg, f.subarray(h.length)); return; }
    }
  }
}
function system(n: number, required = [1]): { net: Net; nodes: Node[] } {
  const net = new Net();
  const boards = Array.from({ length: n }, (_, i) => i + 1);
  return { net, nodes: boards.map((b) => new Node(net, b, 1, boards, required)) };
}

describe("the recovery round", () => {
  it("every board applies the maximum bound, once, though 40% of the round's frames are lost", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const { net, nodes } = system(4);
      const rng = new Rng(seed);
      net.lose = () => rng.int(0, 99) < 40;
      nodes.forEach((x, i) => { x.bound = { v: 10 + i, vext: 3 - (i % 2) }; });
      nodes[2].rounds.requestRecovery();
      net.settle(400);
      for (const x of nodes) expect(x.applied, `seed ${seed}, node ${x.node}`).toEqual([{ V: 13, Vext: 3 }]);
      expect(nodes[0].rounds.unacknowledged()).toEqual([]);
    }
  });
  // Members on several boards (docs/protocol.md point 4): bounds are vectors over the
  // members; the coordinator applies their componentwise maximum, on the wire in the
  // vector form (docs/wire.md "Vectors").
  it("vector bounds: every board applies the componentwise maximum, 40% of the round's frames lost", () => {
    for (let seed = 1; seed <= 10; seed++) {
      const { net, nodes } = system(3, [1, 2, 3]);
      const rng = new Rng(seed);
      net.lose = () => rng.int(0, 99) < 40;
      nodes[0].bound = { v: [4, 0, 1], vext: [1] };
      nodes[1].bound = { v: [2, 7], vext: [0, 3] };
      nodes[2].bound = { v: 5, vext: 0 };
      nodes[1].rounds.requestRecovery();
      net.settle(400);
      for (const x of nodes) expect(x.applied, `seed ${seed}, node ${x.node}`).toEqual([{ V: [5, 7, 1], Vext: [1, 3] }]);
    }
  });
  it("a silent board that makes no passes does not stop it; it catches up from the agreed bound when it returns", () => {
    const { net, nodes } = system(3, [1]);
    nodes[0].bound = { v: 9, vext: 2 };
    let cut = true;
    net.lose = (fr) => cut && (fr.src === 3 || fr.dst === 3);
    nodes[1].rounds.requestRecovery();
    for (let i = 0; i < 30 && !nodes[0].applied.length; i++) { net.deliverAll(); net.tick(); }
    net.deliverAll();
    expect(nodes[0].events).toContain("recovery-partial");
    expect(nodes[1].applied).toEqual([{ V: 9, Vext: 2 }]);
    expect(nodes[2].applied).toEqual([]);
    expect(nodes[0].rounds.unacknowledged().join()).toMatch(/not acknowledged by node\(s\) 3/);
    cut = false;
    net.settle();
    expect(nodes[2].applied).toEqual([{ V: 9, Vext: 2 }]);
    expect(nodes[2].events).toContain("recovery-late");
    expect(nodes[0].rounds.unacknowledged()).toEqual([]);
    // what gsu status and telemetry report (BOARD_ROUND_*): the coordinator resent and went on without node 3, which caught up
    expect(nodes[0].rounds.counts.resends).toBeGreaterThan(0);
    expect(nodes[0].rounds.counts.timeouts).toBe(1);
    expect(nodes[2].rounds.counts.caughtUp).toBe(1);
    expect(nodes[1].rounds.counts).toEqual({ resends: 0, timeouts: 0, caughtUp: 0 });
  });
  it("never applies without the boards that make passes: their bound is the maximum", () => {
    const { net, nodes } = system(3, [1, 2]);
    net.lose = (fr) => fr.src === 2 || fr.dst === 2;
    nodes[0].rounds.requestRecovery();
    net.settle(30);
    expect(nodes[0].applied).toEqual([]);
    expect(nodes[0].rounds.unfinished().join()).toMatch(/open recovery round/);
  });
  it("a forged frame from a future epoch is no recovery request: the coordinator says where it is, and the held frames are dropped", () => {
    const { net, nodes } = system(2, [1]);
    nodes[1].rounds.behind();
    net.settle();
    expect(nodes.map((x) => x.applied.length)).toEqual([0, 0]);
    expect(nodes.map((x) => x.recovering)).toEqual([false, false]);
    expect(nodes[1].events).toContain("drop-ahead");
  });
  it("a board that missed the whole round asks for it when it sees the newer epoch", () => {
    const { net, nodes } = system(2, [1]);
    net.lose = (fr) => fr.dst === 2; // begin and every apply resend lost
    nodes[0].rounds.requestRecovery();
    for (let i = 0; i < 12; i++) { net.deliverAll(); net.tick(); }
    expect(nodes[0].applied.length).toBe(1);
    expect(nodes[1].applied.length).toBe(0);
    net.lose = () => false;
    nodes[1].rounds.behind(); // what Board does on an application frame from epoch 1
    net.settle();
    expect(nodes[1].applied.length).toBe(1);
    expect(nodes[1].events).toContain("round-catch-up");
  });
});

describe("two-phase commit", () => {
  it("commits every board once, under 40% loss, and only after every board voted ready", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const { net, nodes } = system(3);
      const rng = new Rng(seed);
      net.lose = () => rng.int(0, 99) < 40;
      expect(nodes[0].rounds.startCommit(true)).toBe(true);
      expect(nodes[0].committed).toBe(0);
      net.settle(400);
      for (const x of nodes) { expect(x.committed, `seed ${seed} node ${x.node}`).toBe(1); expect(x.paused.size).toBe(0); }
    }
  });
  it("a board that cannot commit refuses: nobody commits, everyone resumes, and the automatic policy tries again", () => {
    const { net, nodes } = system(3);
    nodes[2].blocker = "3 held events";
    nodes[0].rounds.startCommit(false);
    net.deliverAll();
    expect(nodes.map((x) => x.committed)).toEqual([0, 0, 0]);
    expect(nodes.every((x) => x.paused.size === 0)).toBe(true);
    expect(nodes[0].events).toContain("commit-called-off");
    nodes[2].blocker = null;
    net.settle();
    expect(nodes[0].events).toContain("commit-retry");
    expect(nodes.map((x) => x.committed)).toEqual([1, 1, 1]);
  });
  it("a board that has asked for a recovery refuses the vote, and the recovery wins", () => {
    const { net, nodes } = system(2);
    net.lose = (fr) => fr.dst === 1 && core.decodeHeader(fr.f).kind === "begin"; // its request is lost for now
    nodes[1].rounds.requestRecovery();
    nodes[0].rounds.startCommit(true);
    net.deliverAll();
    expect(nodes[1].events).toContain("commit-refused");
    net.lose = () => false;
    net.settle();
    expect(nodes.map((x) => x.committed)).toEqual([0, 0]);
    expect(nodes.map((x) => x.applied.length)).toEqual([1, 1]);
  });
  it("a silent board: no commit (called off after the vote timeout), and nobody stays paused", () => {
    const { net, nodes } = system(3);
    net.lose = (fr) => fr.dst === 3 || fr.src === 3;
    nodes[0].rounds.startCommit(true);
    net.settle(40);
    expect(nodes.map((x) => x.committed)).toEqual([0, 0, 0]);
    expect(nodes[0].paused.size + nodes[1].paused.size).toBe(0);
    expect(nodes[0].rounds.counts.timeouts).toBeGreaterThan(0); // the vote called off for node 3's missing vote
  });
});

describe("the upgrade round", () => {
  it("starts no board while application frames are still on a link, then starts every board before any resumes", () => {
    const { net, nodes } = system(3);
    for (const x of nodes) x.guarded = false;
    // board 2 has sent 5 frames to board 3 that board 3 has not received yet
    nodes[1].counts.set(3, { sent: 5, recv: 0 });
    expect(nodes[0].rounds.startUpgradeRound()).toBe(true);
    net.settle(10);
    expect(nodes.map((x) => x.upgraded)).toEqual([0, 0, 0]);
    expect(nodes.every((x) => x.paused.has("inputs"))).toBe(true);
    nodes[2].counts.set(2, { sent: 0, recv: 5 });
    nodes[2].rounds.reportIdle();
    net.settle();
    expect(nodes.map((x) => x.upgraded)).toEqual([1, 1, 1]);
    expect(nodes.every((x) => !x.paused.has("inputs"))).toBe(true);
    expect(nodes[0].rounds.unfinished()).toEqual([]);
  });
  it("a board without the plan starts with the cluster the coordinator names", () => {
    const { net, nodes } = system(2);
    for (const x of nodes) x.guarded = false;
    nodes[1].hasPlan = false;
    nodes[0].rounds.startUpgradeRound();
    net.settle();
    expect(nodes.map((x) => x.upgraded)).toEqual([1, 1]);
    expect(nodes[1].startedWith).toEqual(["m1", "m2"]);
  });
});

// ---- whole systems on the testbed --------------------------------------------------------
const isControl = (f: Uint8Array) => f[0] >> 5 !== 0;
async function runCases(label: string, n: number, opts: (i: number, sys: Awaited<ReturnType<typeof loadSystemByName>>, rng: Rng) => Partial<RunOptions>, upgradeAt?: (i: number) => number | undefined) {
  const failures: string[] = [];
  const events: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const name = i % 3 === 0 ? "demo" : `gen-${i * 7 + 3}`;
    const sys = await loadSystemByName(name);
    const rng = new Rng(9000 + i);
    const members = sys.plan.upgrades.map((u) => u.name);
    const fault = i % 3 === 2 ? null : { comp: members[i % members.length], step: 2 + (i % 7) };
    const c: Case = { system: name, seed: rng.int(1, 1e9), steps: 12, fault, latency: { min: 50, max: 4000 }, rules: "safe", commitAfter: fault ? undefined : 3, upgradeAt: upgradeAt?.(i) };
    const r = runTestbed(sys, { ...c, ...opts(i, sys, rng) });
    for (const e of r.trace) events[e.type] = (events[e.type] ?? 0) + 1;
    const p = judge(sys, c, r);
    if (p.length) failures.push(`${label} ${JSON.stringify(c)}: ${p[0]}`);
  }
  return { failures, events };
}

describe("whole systems: rounds under loss, partitions, upgrades on running boards", () => {
  it("35% of protocol frames lost (begin, bound, apply, passed AT, control): every case passes, and resends did the work", async () => {
    const { failures, events } = await runCases("loss", 24, (_i, _s, rng) => ({ perturb: (_s, _d, f, t) => (isControl(f) && rng.int(0, 99) < 35 ? null : t) }));
    expect(failures).toEqual([]);
    expect(events["round-resend"]).toBeGreaterThan(10);
    expect(events["recovery-begin"]).toBeGreaterThan(10);
    expect(events.commit).toBeGreaterThan(0);
  }, 120_000);
  it("the last board cut off for 3.5 s from the first step (protocol frames lost, application frames delayed as a retransmitting link does): every case passes", async () => {
    const { failures, events } = await runCases("partition", 18, (_i, sys) => {
      const cut = sys.spec.boards[sys.spec.boards.length - 1].node;
      return { perturb: (s, d, f, t) => ((s === cut || d === cut) && t >= 15_000 && t < 3_500_000 ? (isControl(f) ? null : 3_500_000 + (t - 15_000) / 100) : t) };
    });
    expect(failures).toEqual([]);
    expect(events["recovery-partial"]).toBeGreaterThan(0);
    expect(events["commit-called-off"]).toBeGreaterThan(0);
  }, 120_000);
  it("upgrades on running boards through the upgrade round, with 35% of protocol frames lost: every case passes", async () => {
    const { failures, events } = await runCases("round", 24,
      (_i, _s, rng) => ({ upgradeRound: true, perturb: (_s, _d, f, t) => (isControl(f) && rng.int(0, 99) < 35 ? null : t) }),
      (i) => 1 + (i % 4));
    expect(failures).toEqual([]);
    expect(events["upgrade-quiet"]).toBe(24);
  }, 120_000);
});
