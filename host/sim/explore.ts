// Exhaustive exploration of small systems: every delivery interleaving, with the real
// core and the real board runtime, on the deterministic testbed in scheduler mode
// (host/sim/network.ts: per-link FIFO queues; the explorer picks which link's head
// frame, or the next device input, runs next). docs/protocol.md, "Exhaustive
// exploration", argues the reduction's soundness.
//
// Search: depth-first with replay. A run re-executes the testbed from the start with a
// schedule prefix (the testbed is a pure function of the schedule) and extends it with
// the first enabled event not in the sleep set. Reduction: source-set DPOR with sleep
// sets (Abdulla, Aronis, Jonsson, Sagonas, POPL 2014, Algorithm 1), races found on the
// executed run. Two events are dependent iff they run on the same board (see `dep`).
// `reduction: false` runs every interleaving (plain DFS), to cross-check the reduction.
//
// States are counted by hashing what can be observed: every board's core (globals, and
// per process its role, bits, counters, checkpoint and log indexes), every component
// instance's snapshot and oracle marks, the board's round and queue state, every frame
// in flight per link, and the device inputs still to come. The hash only counts; it
// never prunes (the core's causal vectors are not in its inspection queries, so equal
// hashes do not prove equal states).
import type { Board, Instance } from "../runtime/board.ts";
import type { CoreConfig, Rules } from "../core/core.ts";
import { G } from "../core/abi.ts";
import { isDevice } from "../runtime/system.ts";
import type { Pending, Scheduler, SimNetwork } from "./network.ts";
import { judge } from "./property.ts";
import { runTestbed, type RunResult, type TestbedSystem } from "./testbed.ts";

export interface ExploreCase {
  system: string;
  sys: TestbedSystem;
  steps: number;
  rules: Rules;
  fault: { comp: string; step: number } | null;
  commitAfter?: number;
  core?: CoreConfig;
}

/** Small stores: a core starts in about 1.5 ms instead of 3.5; a few steps never fill them. */
export const EXPLORE_CORE: CoreConfig = { ckptSlots: 16, ckptBytes: 16384, logSlots: 32, logBytes: 16384, effects: 256, batch: 64, stageBytes: 8192 };

export interface ExploreOptions {
  /** false: every interleaving (no sleep sets, every enabled event a backtrack point). */
  reduction?: boolean;
  /** Stop after this many runs (complete or sleep-blocked); the report then says "bounded". */
  maxSchedules?: number;
  /** Stop at the first violation. */
  stopAtFirst?: boolean;
  /** Called every `progressEvery` runs (default 1000) while the search goes on. */
  progress?: (r: CaseReport) => void;
  progressEvery?: number;
  /** Collect every terminal state's hash and verdict (the reduction cross-check). */
  keepTerminals?: boolean;
}

export interface Violation { kind: string; runs: number; problems: string[]; schedule: string[] }

export interface CaseReport {
  name: string;
  schedules: number;        // complete runs: every terminal state checked
  blocked: number;          // runs cut by the sleep set (their continuations are covered elsewhere)
  events: number;           // events executed beyond the replayed prefixes
  states: number;           // distinct state hashes
  terminalStates: number;   // distinct terminal state hashes
  maxDepth: number;
  violations: Violation[];
  exhaustive: boolean;
  ms: number;
  terminals?: Map<number, string>; // hash -> sorted problem kinds
}

export function caseName(c: Pick<ExploreCase, "system" | "steps" | "rules" | "fault" | "commitAfter">): string {
  return `${c.system} ${c.rules} steps=${c.steps} ${c.fault ? `fault=${c.fault.comp}@${c.fault.step}` : "no-fault"}${c.commitAfter ? ` commit-after=${c.commitAfter}` : ""}`;
}

/** A schedule as printed and parsed: "c" is the next device input, "1>2" the head frame of the link from node 1 to node 2. */
export const formatSchedule = (s: readonly string[]): string => s.map((l) => (l === "clock" ? "c" : l)).join(" ");
export const parseSchedule = (s: string): string[] => s.trim().split(/[\s,]+/).filter(Boolean).map((l) => (l === "c" ? "clock" : l));

/** What an event touched, as far as dependence goes: the board it ran on (-1: every board). */
interface Info { dst: number }
interface Ev extends Info { link: string; snd: number }
interface Node { sleep: Map<string, Info>; backtrack: Set<string>; done: Set<string>; chosen: string; info?: Info }

/**
 * Dependence: the same board. Events on different boards commute: each changes only its
 * own board (core, components, runtime), pops the head of a link into it and appends to
 * links out of it; the testbed's oracle marks are per frame or per board, and its
 * run-wide records (violations, device outputs, the fault-active flag) are compared as
 * order-free sets or per-board sequences. `checkIndependence` tests this claim.
 */
export const dep = (a: Info, b: Info): boolean => a.dst < 0 || b.dst < 0 || a.dst === b.dst;

/** The board(s) that device inputs enter; several boards: an input counts as touching every board. */
function inputNode(sys: TestbedSystem): number {
  const nodes = new Set<number>();
  for (const input of sys.inputs) {
    const w = sys.spec.wires.find((w) => isDevice(w.from) && w.from.device === input.device && !isDevice(w.to));
    const b = w && !isDevice(w.to) ? sys.spec.boards.find((b) => b.components.includes((w.to as { comp: string }).comp)) : undefined;
    nodes.add(b ? b.node : -1);
  }
  return nodes.size === 1 ? [...nodes][0] : -1;
}

// ---- state hash -------------------------------------------------------------------------
class Hash {
  private h1 = 0xdeadbeef; private h2 = 0x41c6ce57;
  n(x: number): this { x = Number.isFinite(x) ? x >>> 0 : 0xffffffff; this.h1 = Math.imul(this.h1 ^ x, 2654435761); this.h2 = Math.imul(this.h2 ^ x, 1597334677); return this; }
  s(x: string): this { for (let i = 0; i < x.length; i++) this.n(x.charCodeAt(i)); return this.n(0xfffe); }
  b(x: Uint8Array): this { this.n(x.length); for (let i = 0; i < x.length; i++) this.n(x[i]); return this; }
  value(): number {
    let h1 = this.h1, h2 = this.h2;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return 4294967296 * (2097151 & h2) + (h1 >>> 0);
  }
}

interface BoardView {
  inst: Instance[]; guarded: boolean; recovering: boolean; stalled: boolean; epoch: number;
  held: unknown[]; outbox: unknown[]; round: { epoch: number; bounds: Map<number, [number, number]> } | null;
  passedSeen: number; commitSent: boolean;
}

const GKEYS = Object.keys(G) as (keyof typeof G)[];
const QEXTRA = ["pendingAt", "delivered", "extOut", "suppressDev", "fromShadow"] as const;

export function stateHash(boards: readonly Board[], net: SimNetwork): number {
  const h = new Hash();
  for (const b of boards) {
    const v = b as unknown as BoardView;
    h.n(b.node).n(+v.guarded).n(+v.recovering).n(+v.stalled).n(v.epoch).n(v.held.length).n(v.outbox.length).n(v.passedSeen).n(+v.commitSent);
    if (v.round) { h.n(v.round.epoch); for (const [k, [a, c]] of [...v.round.bounds].sort((x, y) => x[0] - y[0])) h.n(k).n(a).n(c); } else h.n(0xffff);
    for (const k of GKEYS) h.n(b.core.global(k));
    for (const i of v.inst) {
      if (!i.live) { h.n(0xdead); continue; }
      const mark = (i as unknown as Record<string, unknown>).erroneous ?? (i as unknown as Record<string, unknown>).taint; // the oracle's fallback mark
      h.s(i.comp).s(i.gen).n(i.pid).n(Number(mark ?? 0)).n(i.rolledBack ?? 0);
      for (const [p, s] of [...i.steps].sort((x, y) => x[0] - y[0])) h.n(p).n(s);
      const buf = new Uint8Array(i.app.snapshotSize());
      h.b(buf.subarray(0, i.app.snapshotInto(buf)));
      const st = b.core.state(i.pid);
      h.s(st.role).n(st.dirty).n(st.prgt).n(st.local).n(st.iVR).n(st.iVRext).n(st.held);
      for (const xs of [st.ckpts, st.inLog, st.outInt, st.outExt]) { h.n(xs.length); for (const x of xs) h.n(x); }
      for (const q of QEXTRA) h.n(b.core.q(i.pid, q));
    }
  }
  for (const { link, frames } of net.queued()) { h.s(link); for (const f of frames) h.b(f); }
  h.n(net.clock.pending);
  return h.value();
}

// ---- one run ----------------------------------------------------------------------------
interface Run { events: Ev[]; result: RunResult; end: "terminal" | "blocked" | "stopped"; lastHash: number; enabled: Pending[][] }

interface ExecOptions {
  prefix: readonly string[];
  nodes: Node[];
  reduce: boolean;
  states: Set<number> | null;  // hash every state from the prefix's last event on
  clockDst: number;
  detail?: boolean;
  /** Beyond the prefix: pick among the enabled events not asleep (default: the first). */
  pick?: (enabled: readonly Pending[]) => number;
  /** Stop once the prefix has run. */
  stopAfterPrefix?: boolean;
}

function execute(c: ExploreCase, x: ExecOptions): Run {
  const { prefix, nodes, reduce, states, clockDst } = x;
  const events: Ev[] = [];
  const seen: Pending[][] = [];
  let cur: Ev | null = null;
  let end: Run["end"] = "terminal";
  let net!: SimNetwork, boards!: Board[];
  let lastHash = 0;
  const sender = new WeakMap<Uint8Array, number>();
  const begin = (p: Pending): void => {
    cur = { link: p.link, dst: p.frame ? p.dst : clockDst, snd: p.frame ? sender.get(p.frame) ?? -1 : -1 };
    events.push(cur);
  };
  const sched: Scheduler = {
    start(n, ctx) { net = n; boards = ctx as Board[]; },
    choose(enabled) {
      const d = events.length;
      seen.push(enabled.slice());
      if (d < prefix.length) {
        const i = enabled.findIndex((p) => p.link === prefix[d]);
        if (i < 0) throw new Error(`replay diverged at event ${d}: '${prefix[d]}' is not enabled (enabled: ${enabled.map((p) => p.link).join(" ")}); the testbed is not deterministic`);
        begin(enabled[i]);
        return i;
      }
      if (x.stopAfterPrefix) { end = "stopped"; return -1; }
      // a new choice point: inherit the parent's sleep set, filtered by the event just run
      const sleep = new Map<string, Info>();
      const parent = nodes[d - 1], pe = events[d - 1];
      if (reduce && parent && pe) for (const [l, s] of parent.sleep) if (!dep(s, pe)) sleep.set(l, s);
      const awake = enabled.filter((p) => !sleep.has(p.link));
      if (!awake.length) { end = "blocked"; return -1; }
      const i = enabled.indexOf(awake[x.pick ? x.pick(awake) : 0]);
      const n: Node = { sleep, backtrack: new Set(), done: new Set(), chosen: enabled[i].link };
      if (reduce) n.backtrack.add(n.chosen); else for (const p of enabled) n.backtrack.add(p.link);
      nodes[d] = n;
      begin(enabled[i]);
      return i;
    },
    sent(p) { if (cur && p.frame) sender.set(p.frame, events.length - 1); },
    ran() {
      const d = events.length - 1;
      if (nodes[d]) nodes[d].info = { dst: events[d].dst };
      cur = null;
      if (states && d >= prefix.length - 1) { lastHash = stateHash(boards, net); states.add(lastHash); }
    },
  };
  const result = runTestbed(c.sys, {
    seed: 0, steps: c.steps, fault: c.fault, rules: c.rules, commitAfter: c.commitAfter, core: c.core ?? EXPLORE_CORE,
    // Every bound travels alone: the larger space. A bound riding on an application frame
    // is delivered with it, as one event, and one left alone goes at the end of its batch,
    // on a link that carries nothing else from that batch; so every schedule with riding is
    // one of these (the application frame chosen right after its bound), and the receiver
    // handles the two as it handles them alone (docs/protocol.md, "The passed-AT bound rides").
    ridePassedAt: false,
    scheduler: sched, detail: x.detail,
  });
  if (states && end === "terminal") lastHash = stateHash(boards, net);
  return { events, result, end, lastHash, enabled: seen };
}

// ---- races (source-set DPOR) ----------------------------------------------------------------
function addBacktracks(events: Ev[], nodes: Node[], from: number): void {
  const n = events.length;
  const W = (n + 31) >>> 5;
  const hb: Uint32Array[] = []; // hb[j] has bit k iff event k happens before event j
  const has = (s: Uint32Array, k: number) => (s[k >>> 5] & (1 << (k & 31))) !== 0;
  const lastOn = new Map<string, number>();
  for (let j = 0; j < n; j++) {
    const e = events[j];
    const deps: number[] = [];
    for (let k = 0; k < j; k++) if (dep(events[k], e)) deps.push(k);
    const preds = deps.slice();
    if (e.snd >= 0) preds.push(e.snd);                     // its frame was sent by event snd
    const pl = lastOn.get(e.link);
    if (pl !== undefined) preds.push(pl);                  // per-link FIFO
    lastOn.set(e.link, j);
    const set = new Uint32Array(W);
    for (const k of preds) { for (let w = 0; w < W; w++) set[w] |= hb[k][w]; set[k >>> 5] |= 1 << (k & 31); }
    hb.push(set);
    if (j < from) continue;
    // a race i -> j: dependent, not the sender, not the same link, and no other path i ->hb j
    for (const i of deps) {
      if (i === e.snd || events[i].link === e.link) continue;
      if (preds.some((k) => k !== i && has(hb[k], i))) continue;
      // v = notdep(i, E).j; initials: its events with no happens-before predecessor in v
      const v: number[] = [];
      for (let k = i + 1; k < j; k++) if (!has(hb[k], i)) v.push(k);
      v.push(j);
      const initials = new Set<string>();
      for (let a = 0; a < v.length; a++) {
        let first = true;
        for (let b = 0; b < a && first; b++) if (has(hb[v[a]], v[b])) first = false;
        if (first) initials.add(events[v[a]].link);
      }
      const node = nodes[i];
      if ([...initials].some((l) => node.backtrack.has(l))) continue;
      const pick = [...initials].find((l) => !node.sleep.has(l)) ?? [...initials][0];
      node.backtrack.add(pick);
    }
  }
}

// ---- the search ---------------------------------------------------------------------------
export function exploreCase(c: ExploreCase, o: ExploreOptions = {}): CaseReport {
  const t0 = performance.now();
  const reduce = o.reduction !== false;
  const clockDst = inputNode(c.sys);
  const nodes: Node[] = [];
  const states = new Set<number>();
  const terminalSet = new Set<number>();
  const terminals = o.keepTerminals ? new Map<number, string>() : undefined;
  const rep: CaseReport = {
    name: caseName(c), schedules: 0, blocked: 0, events: 0, states: 0, terminalStates: 0, maxDepth: 0,
    violations: [], exhaustive: true, ms: 0, terminals,
  };
  const byKind = new Map<string, Violation>();
  let prefix: string[] = [];
  for (;;) {
    const run = execute(c, { prefix, nodes, reduce, states, clockDst });
    rep.events += run.events.length - Math.max(0, prefix.length - 1);
    rep.maxDepth = Math.max(rep.maxDepth, run.events.length);
    nodes.length = run.events.length; // a blocked run's last choice point was never stored
    const schedule = run.events.map((e) => e.link);
    let problems: string[];
    if (run.end === "terminal") {
      rep.schedules++;
      terminalSet.add(run.lastHash);
      problems = judge(c.sys, c, run.result);
      terminals?.set(run.lastHash, [...new Set(problems.map(kindOf))].sort().join(","));
    } else {
      rep.blocked++;
      problems = run.result.violations.map((v) => `${v.kind}: ${v.detail}`); // the oracles checked at every step
    }
    for (const k of new Set(problems.map(kindOf))) {
      const v = byKind.get(k);
      if (v) { v.runs++; continue; }
      byKind.set(k, { kind: k, runs: 1, problems, schedule });
    }
    if (reduce) addBacktracks(run.events, nodes, Math.max(0, prefix.length - 1));
    // the deepest choice point with a backtrack event not yet explored nor asleep
    let d = nodes.length - 1;
    let next: string | undefined;
    for (; d >= 0; d--) {
      const n = nodes[d];
      n.done.add(n.chosen);
      if (reduce && n.info) n.sleep.set(n.chosen, n.info);
      next = [...n.backtrack].find((l) => !n.done.has(l) && !n.sleep.has(l));
      if (next) break;
    }
    const runs = rep.schedules + rep.blocked;
    const stop = d < 0 || (o.maxSchedules !== undefined && runs >= o.maxSchedules) || (o.stopAtFirst && byKind.size > 0);
    if (o.progress && !stop && runs % (o.progressEvery ?? 1000) === 0) {
      Object.assign(rep, { states: states.size, terminalStates: terminalSet.size, violations: [...byKind.values()], ms: performance.now() - t0 });
      o.progress(rep);
    }
    if (stop) { rep.exhaustive = d < 0; break; }
    nodes.length = d + 1;
    nodes[d].chosen = next!;
    nodes[d].info = undefined;
    prefix = nodes.map((n) => n.chosen);
  }
  Object.assign(rep, { states: states.size, terminalStates: terminalSet.size, violations: [...byKind.values()], ms: performance.now() - t0 });
  return rep;
}

const kindOf = (p: string): string => p.split(":")[0];

/** Runs one schedule (then the first enabled event at each step until the end); for reproductions. */
export function replay(c: ExploreCase, schedule: readonly string[], detail = false): { result: RunResult; problems: string[]; schedule: string[]; complete: boolean } {
  const run = execute(c, { prefix: schedule, nodes: [], reduce: false, states: null, clockDst: inputNode(c.sys), detail });
  const problems = run.end === "terminal" ? judge(c.sys, c, run.result) : run.result.violations.map((v) => `${v.kind}: ${v.detail}`);
  return { result: run.result, problems, schedule: run.events.map((e) => e.link), complete: run.end === "terminal" };
}

/** Every case of a system: no fault, and a fault in each cluster member at each step. */
export function faultCases(members: string[], steps: number, which: "all" | "none" | string = "all"): ({ comp: string; step: number } | null)[] {
  if (which === "none") return [null];
  if (which !== "all") {
    const m = /^([\w-]+)@(\d+)$/.exec(which);
    if (!m) throw new Error(`--fault: expected all, none or COMP@STEP, not '${which}'`);
    if (!members.includes(m[1])) throw new Error(`--fault: '${m[1]}' is not in the cluster (${members.join(", ")})`);
    return [{ comp: m[1], step: Number(m[2]) }];
  }
  const out: ({ comp: string; step: number } | null)[] = [null];
  for (const comp of members) for (let s = 1; s <= steps; s++) out.push({ comp, step: s });
  return out;
}

/**
 * Tests the independence claim behind the reduction on the real code: along random
 * schedules, for two enabled events on different boards, runs prefix.a.b and prefix.b.a
 * and compares the states reached (hash) and the oracle violations recorded (their
 * timestamps aside: a device input advances the virtual clock, which only reports read).
 */
export function checkIndependence(c: ExploreCase, samples: number, seed = 1): { pairs: number; mismatches: string[] } {
  const clockDst = inputNode(c.sys);
  let r = seed >>> 0 || 1;
  const rand = (n: number) => { r ^= r << 13; r >>>= 0; r ^= r >>> 17; r ^= r << 5; r >>>= 0; return r % n; };
  const out = { pairs: 0, mismatches: [] as string[] };
  const dstOf = (p: Pending) => (p.frame ? p.dst : clockDst);
  const viol = (res: RunResult) => res.violations.map((v) => `${v.kind}: ${v.detail.replace(/t=\d+/g, "t=?")}`).sort().join("\n");
  for (let k = 0; k < samples * 4 && out.pairs < samples; k++) {
    const walk = execute(c, { prefix: [], nodes: [], reduce: false, states: null, clockDst, pick: (en) => rand(en.length) });
    const points = walk.enabled.map((en, d) => ({ d, en })).filter(({ en }) => new Set(en.map(dstOf)).size > 1);
    if (!points.length) continue;
    const { d, en } = points[rand(points.length)];
    const a = en[rand(en.length)];
    const others = en.filter((p) => !dep({ dst: dstOf(p) }, { dst: dstOf(a) }));
    if (!others.length) continue;
    const b = others[rand(others.length)];
    const prefix = walk.events.slice(0, d).map((e) => e.link);
    const ab = execute(c, { prefix: [...prefix, a.link, b.link], nodes: [], reduce: false, states: new Set(), clockDst, stopAfterPrefix: true });
    const ba = execute(c, { prefix: [...prefix, b.link, a.link], nodes: [], reduce: false, states: new Set(), clockDst, stopAfterPrefix: true });
    out.pairs++;
    if (ab.lastHash !== ba.lastHash || viol(ab.result) !== viol(ba.result)) {
      out.mismatches.push(`${caseName(c)}: after "${formatSchedule(prefix)}", ${a.link} then ${b.link} differs from ${b.link} then ${a.link}${ab.lastHash !== ba.lastHash ? " (state)" : " (violations)"}`);
    }
  }
  return out;
}
