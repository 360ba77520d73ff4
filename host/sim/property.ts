// The property suite's engine: random cases over seeds, fault steps, fault
// components, latencies and rule sets; the oracles of the protocol notes; and a
// shrinker that turns a failure into a short reproduction command.
import type { Rules } from "../core/core.ts";
import { Rng } from "./rng.ts";
import { compareDevices, groupByFeeder, runTestbed, type DeviceRecord, type RunResult, type TestbedSystem } from "./testbed.ts";
import { genSystem } from "./gen-system.ts";
import type { SimLinkFaults } from "./sim-links.ts";

export interface Case {
  system: string;
  seed: number;
  steps: number;
  fault: { comp: string; step: number } | null;
  latency: { min: number; max: number };
  rules: Rules;
  commitAfter?: number;
  upgradeAt?: number;     // upgrade while the system runs, after this step
  links?: SimLinkFaults;  // faulty links: every board runs the link layer (host/sim/sim-links.ts)
  crashes?: { board: string; step: number; downSteps?: number; atVote?: boolean }[]; // boards that crash and restart downSteps (default 5) steps later
  ride?: false;           // a passed AT's bound never rides on an application frame (RunOptions.ridePassedAt)
}

export interface Verdict { ok: boolean; problems: string[]; result: RunResult }

// The reference of a system, run once at the longest step count asked so far: a run of
// K steps delivers exactly the outputs of steps <= K of a longer run, in the same order
// per feeder (every component is a deterministic function of its per-port input
// sequences; the step is every message's first u32), so shorter references are prefixes.
// A bounded cache: a soak visits thousands of generated systems.
const refCache = new Map<string, { steps: number; devices: DeviceRecord[]; cut: Map<number, DeviceRecord[]> }>();
const stepOfHex = (hex: string): number => Buffer.from(hex.slice(0, 8), "hex").readUInt32LE(0);

export function reference(sysName: string, sys: TestbedSystem, steps: number): DeviceRecord[] {
  let r = refCache.get(sysName);
  if (!r || r.steps < steps) {
    r = { steps, devices: runTestbed(sys, { seed: 0, steps, reference: true }).devices, cut: new Map() };
    refCache.delete(sysName);
    refCache.set(sysName, r);
    if (refCache.size > 64) refCache.delete(refCache.keys().next().value!);
  }
  if (r.steps === steps) return r.devices;
  let d = r.cut.get(steps);
  if (!d) { d = r.devices.filter((x) => x.payload.length < 8 || stepOfHex(x.payload) <= steps); r.cut.set(steps, d); }
  return d;
}

/** Runs one case and checks every oracle. */
export function check(sys: TestbedSystem, c: Case): Verdict {
  const result = runTestbed(sys, {
    seed: c.seed, steps: c.steps, fault: c.fault, rules: c.rules, latency: c.latency, commitAfter: c.commitAfter, upgradeAt: c.upgradeAt, links: c.links, crashes: c.crashes, ridePassedAt: c.ride,
  });
  const problems = judge(sys, c, result);
  return { ok: problems.length === 0, problems, result };
}

/**
 * Drop reasons (host/runtime/board.ts Board.drop, and the core's drop effects) that are
 * the protocol's own, legitimate decisions; every other drop loses a frame nobody
 * re-sends (the simulated links never corrupt one), which the verdict counts.
 *  - stale-contaminated: sent before the last recovery by a contaminated sender with an
 *    index above V; the sender rolled back before that send and regenerates it, or (a
 *    retired new version) the shadow that took over re-sends the old version's twin;
 *  - stale-notice: a passed-AT notification from before the recovery (not an application
 *    message): V already covers it;
 *  - to-retired: addressed to a version the round retired (a new version after recovery,
 *    a shadow after commit): nothing runs there any more, and the version that stays got
 *    its own copy (G_act -> cluster goes to both versions) or regenerates its own traffic;
 *  - unvalidated-after-restart: a dirty message to a board that restarted outside guarded
 *    operation (it has no checkpoint to undo it); the recovery the restart starts re-sends
 *    what the old versions make of it.
 * Not legitimate: refused:E_* (the core refused a frame: lost), malformed-header,
 * short-frame, unknown-wire, not-hosted, unknown-frame.
 */
export const PROTOCOL_DROPS: ReadonlySet<string> = new Set(["stale-contaminated", "stale-notice", "to-retired", "unvalidated-after-restart"]);

/**
 * The verdict on a finished run: every oracle, one function for the property suite's
 * check(), the explorer's terminal states (host/sim/explore.ts), soak and `gsu rehearse`.
 * Each problem is "kind: detail"; the kinds:
 *  - the run's violations (Board oracles): unvalidated-erroneous-state,
 *    erroneous-device-message, loss, duplicate, component-trap, inexact-recovery,
 *    oracle-inconsistent;
 *  - device equivalence: each device's sequence (per feeder) equals the fault-free
 *    reference run of the old versions;
 *  - memory: protocol bytes still held after commit or recovery;
 *  - undetected: the fault took effect (ground truth: some state derived from it) and
 *    guarded operation ended without any AT failing or new version trapping;
 *  - stalled: (a) when the run ended (no event left anywhere) some board still held work
 *    (held events, unsent outputs, a recovery or coordinator round never finished);
 *    (b) an error was detected (a failed AT, a trapping new version, a full protocol
 *    store) but guarded operation did not end by recovery; (c) with --commit-after N,
 *    no error, and at least N passed-AT notifications broadcast, guarded operation did
 *    not commit;
 *  - dropped: a frame dropped for a reason other than PROTOCOL_DROPS.
 */
export function judge(sys: TestbedSystem, c: Pick<Case, "system" | "steps" | "fault">, result: RunResult): string[] {
  const problems: string[] = [];
  const crashes = result.options.crashes ?? [];
  if (crashes.length) problems.push(...judgeCrash(sys, c, result));
  else {
    for (const v of result.violations) problems.push(`${v.kind}: ${v.detail}`);
    if (result.ended !== "reference") {
      const diffs = compareDevices(result.devices, reference(c.system, sys, c.steps));
      if (diffs.length) problems.push(`device equivalence: ${diffs.length} differences, first: ${diffs[0]}`);
    }
  }
  // after a commit every running process of an upgraded component runs its new version (the
  // plan's), on every board: a board that restarted must not bring an old one back
  if (result.ended === "commit") {
    const want = new Map(sys.plan.upgrades.map((u) => [u.name, u.version]));
    const mixed = result.procs.filter((p) => want.has(p.comp) && p.role !== "retired" && p.version !== undefined && p.version !== want.get(p.comp));
    if (mixed.length) problems.push(`versions after commit: ${mixed.map((p) => `${p.board} runs ${p.comp}@${p.version}, committed ${want.get(p.comp)}`).join("; ")}`);
  }
  if ((result.ended === "recovery" || result.ended === "commit") && result.heldAfter !== 0) {
    problems.push(`memory: ${result.heldAfter} protocol bytes still held after ${result.ended}`);
  }
  const detected = result.trace.find((e) => e.type === "at-failed" || e.type === "memory-full" || (e.type === "component-trap" && e.gen === "new"));
  if (c.fault && result.faultActive && result.ended !== "recovery" && !detected) {
    problems.push(`undetected: the fault at ${c.fault.comp}@${c.fault.step} took effect and no AT failed; guarded operation ended by ${result.ended}`);
  }
  if (result.unfinished.length) problems.push(`stalled: work held forever at the end of the run: ${result.unfinished.join("; ")}`);
  if (detected && result.ended !== "recovery" && result.ended !== "reference") {
    problems.push(`stalled: ${detected.type} on ${detected.board}${detected.comp ? ` (${detected.comp}(${detected.gen}))` : ""} at t=${detected.t} us, but guarded operation ${result.ended === "commit" ? "ended by commit: the error was never recovered" : "never ended"}`);
  }
  const commitAfter = result.options.commitAfter;
  if (commitAfter && !detected && result.ended === "guarded") {
    const passes = result.trace.filter((e) => e.type === "passed-at").length;
    if (passes >= commitAfter) problems.push(`stalled: ${passes} passed ATs broadcast, --commit-after ${commitAfter}, but guarded operation never committed`);
  }
  // with crashes, the last check before a device may hold back a message produced again (judgeCrash checks what the devices got)
  const lost = result.drops.filter((d) => !PROTOCOL_DROPS.has(d.reason) && !(crashes.length && (d.reason === "device-stale-step" || d.reason === "device-repeat")));
  if (lost.length) {
    const by: Record<string, number> = {};
    for (const d of lost) by[d.reason] = (by[d.reason] ?? 0) + 1;
    problems.push(`dropped: ${lost.length} frames (${Object.entries(by).map(([k, n]) => `${k} ${n}`).join(", ")}), first: ${lost[0].board}: ${lost[0].detail}`);
  }
  return problems;
}

/**
 * A random case. With `links` (the system's board names) it also draws link faults:
 * loss up to 30%, duplication up to 10%, corruption up to 5%, and in a third of the
 * cases one board cut off for a stretch of steps (a partition); without it the draws,
 * and so every case of a seed, are the same as before link faults existed.
 */
/**
 * A run with board crashes (docs/protocol.md "A board that crashes"). A crashed board's
 * components restart from their initial state, so what the devices get after the crash
 * is not the fault-free reference's; what still holds, and is checked here:
 *  - before the first crash, every device got exactly the reference's messages;
 *  - no device message derived from the injected fault (the ground-truth taint), and
 *    no clean process holds fault-derived state;
 *  - no duplicate: per device and feeder, steps only rise;
 *  - lost steps are only those of the crash: steps whose messages to or from the board
 *    were in flight when it crashed, steps some device had not yet received then (their
 *    unvalidated messages die with the recovery, and the old versions that would re-send
 *    them crashed), and the steps while it was down; nothing earlier or later;
 *  - after the restart every device gets messages again (when the run goes on long enough);
 * and the rest of judge() (memory, stalls, drops).
 */
export function judgeCrash(sys: TestbedSystem, c: Pick<Case, "system" | "steps" | "fault">, r: RunResult): string[] {
  const problems: string[] = [];
  const crashes = r.options.crashes!;
  const period = r.options.periodUs ?? 10_000;
  // The steps a crash may lose: from the earliest step in flight to or from the board when it
  // crashed (the testbed's ground truth of the links) to its restart. A step some device had
  // not received by the crash may be lost too: its messages may have been waiting,
  // unvalidated, on a board that survived, whose recovery discards them, and the old versions
  // that would re-send them crashed (every device's first missing step).
  const ref = reference(c.system, sys, c.steps);
  const byFeeder = groupByFeeder(r.devices, ref);
  const pendingAt = (t: number) => Math.min(...[...byFeeder.b].map(([key, want]) => {
    const got = new Set((byFeeder.a.get(key) ?? []).filter((d) => d.t < t && d.payload.length >= 8).map((d) => stepOfHex(d.payload)));
    const first = want.map((d) => stepOfHex(d.payload)).find((st) => !got.has(st));
    return first ?? Infinity;
  }));
  // ... and the steps until every board has recovered from it (out of guarded operation)
  const recoveredBy = (t: number) => {
    const after = r.trace.filter((e) => e.type === "recovered" && e.t >= t).map((e) => e.t);
    return after.length ? Math.floor(Math.max(...after) / period) + 1 : 0;
  };
  // when each crash happened: as the run recorded it, else the step it was asked for
  const cw = r.crashWindows ?? crashes.map((x) => ({ fromStep: x.step + 1, toStep: x.step + (x.downSteps ?? 5), t: undefined as number | undefined }));
  const at = cw.map((w, i) => w.t ?? crashes[i].step * period + period / 2);
  const windows = cw.map((w, i) => ({ from: Math.min(w.fromStep, pendingAt(at[i])), to: Math.max(w.toStep, recoveredBy(at[i])) }));
  const inWindow = (s: number) => windows.some((w) => s >= w.from && s <= w.to);
  // component ports may lose messages a recovery discarded while the devices already had
  // what they fed; what counts is what the devices miss (below)
  // (and a fresh component can be handed an earlier step again, which it ignores: also not a device's concern)
  // (and the output commit by count can disagree with the one by identity, which decides: what the devices got is judged below)
  for (const v of r.violations) if (v.kind !== "loss" && v.kind !== "duplicate" && v.kind !== "output-commit-mismatch") problems.push(`${v.kind}: ${v.detail}`);
  const first = Math.min(...at);
  const before = compareDevices(r.devices.filter((d) => d.t < first), ref).filter((d) => !/got nothing/.test(d));
  if (before.length) problems.push(`device equivalence before the crash: ${before.length} differences, first: ${before[0]}`);
  const last = new Map<string, number>();
  for (const d of r.devices) {
    if (d.payload.length < 8) continue;
    const k = `${d.device}/${d.comp}`, s = stepOfHex(d.payload);
    if (last.has(k) && s <= last.get(k)!) { problems.push(`duplicate: ${d.device} got step ${s} from ${d.comp}(${d.gen}) after step ${last.get(k)}`); break; }
    last.set(k, s);
  }
  // devices miss only steps of a crash window
  for (const [key, want] of byFeeder.b) {
    const got = new Set((byFeeder.a.get(key) ?? []).filter((d) => d.payload.length >= 8).map((d) => stepOfHex(d.payload)));
    const missing = want.filter((d) => d.payload.length >= 8).map((d) => stepOfHex(d.payload)).filter((st) => !got.has(st) && !inWindow(st));
    if (missing.length) problems.push(`loss: ${key} never got step${missing.length > 1 ? "s" : ""} ${missing.slice(0, 8).join(", ")}, outside the crash windows ${windows.map((w) => `${w.from}..${w.to}`).join(", ")}`);
  }
  const end = Math.max(...windows.map((w) => w.to));
  if (c.steps >= end + 10) {
    for (const dev of new Set(ref.map((d) => d.device))) {
      if (!r.devices.some((d) => d.device === dev && d.payload.length >= 8 && stepOfHex(d.payload) > end)) problems.push(`stalled: ${dev} got nothing after the last restart (step ${end})`);
    }
  }
  return problems;
}

export function randomCase(rng: Rng, system: string, faultComps: string[], rules: Rules, maxSteps = 80, minSteps = 10, links?: { boards: string[]; crashes?: boolean }): Case {
  const steps = rng.int(Math.min(minSteps, maxSteps), maxSteps);
  const withFault = rng.next() < 0.85;
  const lo = rng.int(10, 500);
  const c: Case = {
    system, seed: rng.int(1, 2 ** 31 - 1), steps, rules,
    fault: withFault ? { comp: faultComps[rng.int(0, faultComps.length - 1)], step: rng.int(1, steps) } : null,
    latency: { min: lo, max: lo + rng.int(0, 20_000) },
    commitAfter: !withFault && rng.next() < 0.5 ? rng.int(1, 3 * steps) : undefined,
    upgradeAt: rng.next() < 0.4 ? rng.int(1, Math.max(1, Math.floor(steps / 2))) : undefined,
  };
  if (links && links.boards.length > 1) {
    const pct = (max: number) => Math.round(rng.next() * max * 100) / 100;
    c.links = { loss: pct(0.3), dup: pct(0.1), corrupt: pct(0.05), partitions: [] };
    if (rng.next() < 1 / 3) {
      const from = rng.int(1, Math.max(1, steps - 1));
      c.links.partitions!.push({ board: links.boards[rng.int(0, links.boards.length - 1)], fromStep: from, toStep: from + rng.int(1, 20) });
    }
    // a quarter of the cases: a board crashes and restarts 5 steps later: during guarded
    // operation, or, with an upgrade while the system runs, before, during or after its
    // upgrade round (which a crash calls off: docs/protocol.md "A board that crashes")
    if (links.crashes && rng.next() < 1 / 4 && steps > 2) c.crashes = [{ board: links.boards[rng.int(0, links.boards.length - 1)], step: rng.int(1, steps - 1) }];
    // with a commit, half of those crash right after the board's first vote from that step
    // on (a restart in doubt; no draw of its own: the other cases stay as they were)
    if (c.crashes && c.commitAfter !== undefined && c.seed % 2 === 0) c.crashes[0].atVote = true;
  }
  return c;
}

/** Smallest step count (and fault step) that still fails. */
export function shrink(sys: TestbedSystem, c: Case): Case {
  let best = c;
  for (let steps = Math.max(1, c.fault?.step ?? 1, (c.upgradeAt ?? 0) + 1); steps < best.steps; steps++) {
    const t = { ...best, steps };
    if (!check(sys, t).ok) { best = t; break; }
  }
  return best;
}

export function reproduce(c: Case): string {
  const parts = [`gsu rehearse --system ${c.system} --seed ${c.seed} --steps ${c.steps}`];
  // a fault step before the upgrade acts from the new version's first step, exactly as one at the
  // upgrade step (same run); gsu rehearse refuses a fault step before --upgrade-at
  parts.push(c.fault ? `--fault ${c.fault.comp}@${Math.max(c.fault.step, c.upgradeAt ?? 0)}` : "--no-fault");
  parts.push(`--rules ${c.rules} --latency ${c.latency.min}..${c.latency.max}`);
  if (c.commitAfter) parts.push(`--commit-after ${c.commitAfter}`);
  // Always explicit: the CLI's default upgrade step (30) is not the testbed's (0, before the run).
  parts.push(`--upgrade-at ${c.upgradeAt ?? 0}`);
  const l = c.links;
  if (l) {
    if (l.loss) parts.push(`--link-loss ${l.loss}`);
    if (l.dup) parts.push(`--link-dup ${l.dup}`);
    if (l.corrupt) parts.push(`--link-corrupt ${l.corrupt}`);
    for (const p of l.partitions ?? []) parts.push(`--partition ${p.board}@${p.fromStep}..${p.toStep}`);
  }
  for (const x of c.crashes ?? []) parts.push(`--crash ${x.board}@${x.step}${x.atVote ? ":vote" : ""}`);
  if (c.ride === false) parts.push("--no-ride");
  return parts.join(" ");
}

export interface SuiteReport {
  cases: number;
  failures: { c: Case; problems: string[]; repro: string }[];
  byProblem: Record<string, number>;
  checkpoints: number;
  dirtyReceipts: number;
  maxRollback: number;
  /** With faulty links: frames the injectors lost, duplicated, damaged or cut, and the link layers' retransmissions, over every case. */
  linkFaults?: { injected: number; retransmits: number };
  /** Cases in which a passed-AT bound rode on an application frame (host/runtime/bound-rider.ts). */
  ridingCases?: number;
}

/** Runs n random cases; returns the tally (used by the test suite, soak and the rule comparison). */
/** Adds one case's figures to a suite's tally (cases, checkpoints, rollbacks, problems by kind). */
function tally(rep: { cases: number; checkpoints: number; dirtyReceipts: number; maxRollback: number; byProblem: Record<string, number>; linkFaults?: SuiteReport["linkFaults"]; ridingCases?: number }, v: Verdict): void {
  rep.cases++;
  if (v.result.ridden > 0) rep.ridingCases = (rep.ridingCases ?? 0) + 1;
  rep.checkpoints += v.result.checkpoints;
  rep.dirtyReceipts += v.result.dirtyReceipts;
  for (const p of v.result.procs) rep.maxRollback = Math.max(rep.maxRollback, p.rollbackDistance);
  const l = v.result.links;
  if (l) {
    rep.linkFaults ??= { injected: 0, retransmits: 0 };
    rep.linkFaults.injected += l.lost + l.duplicated + l.corrupted + l.cut;
    rep.linkFaults.retransmits += l.retransmits;
  }
  if (!v.ok) for (const k of new Set(v.problems.map((p) => p.split(":")[0]))) rep.byProblem[k] = (rep.byProblem[k] ?? 0) + 1;
}

export function runSuite(sys: TestbedSystem, system: string, faultComps: string[], rules: Rules, n: number, seed: number,
  opts: { shrink?: boolean; maxSteps?: number; progress?: (done: number) => void; links?: boolean; crashes?: boolean } = {}): SuiteReport {
  const rng = new Rng(seed);
  const rep: SuiteReport = { cases: 0, failures: [], byProblem: {}, checkpoints: 0, dirtyReceipts: 0, maxRollback: 0 };
  for (let i = 0; i < n; i++) {
    const c = randomCase(rng, system, faultComps, rules, opts.maxSteps, undefined, opts.links ? { boards: sys.spec.boards.map((b) => b.name), crashes: opts.crashes } : undefined);
    const v = check(sys, c);
    tally(rep, v);
    if (!v.ok) {
      const small = opts.shrink ? shrink(sys, c) : c;
      rep.failures.push({ c: small, problems: small === c ? v.problems : check(sys, small).problems, repro: reproduce(small) });
    }
    opts.progress?.(i + 1);
  }
  return rep;
}

export interface GenSuiteOptions {
  rules: Rules;
  seed: number;
  /** Generated systems gen-first .. gen-(first+shapes-1), perShape random cases each. */
  first: number;
  shapes: number;
  perShape: number;
  minSteps?: number;
  maxSteps?: number;
  /** Shrink the first N failures (a shrink reruns the case once per shorter step count). */
  shrink?: number;
  progress?: (done: number, total: number, failed: number) => void;
  /** Every failure as it is found (its reproduction command runs as printed). */
  onFailure?: (f: SuiteReport["failures"][number]) => void;
  /** Keep at most this many failures in the report (the tallies count all). */
  keep?: number;
  /** Faulty links in every case (loss, duplication, corruption, partitions: randomCase). */
  links?: boolean;
  /** With links: a board crash in a quarter of the cases. */
  crashes?: boolean;
  /** genx-N: the same topologies with the members on several boards (docs/protocol.md point 4). */
  placement?: "one-board" | "several";
}

/** Random cases over many generated systems (host/sim/gen-system.ts): the property suite at scale. */
export function runGenSuite(o: GenSuiteOptions): SuiteReport & { shapes: number; failed: number } {
  const rep: SuiteReport & { shapes: number; failed: number } = { cases: 0, failures: [], byProblem: {}, checkpoints: 0, dirtyReceipts: 0, maxRollback: 0, shapes: 0, failed: 0 };
  const total = o.shapes * o.perShape;
  for (let n = o.first; n < o.first + o.shapes; n++) {
    const sys = genSystem(n, o.placement ?? "one-board");
    rep.shapes++;
    const rng = new Rng(o.seed * 1_000_003 + n);
    for (let i = 0; i < o.perShape; i++) {
      const c = randomCase(rng, sys.name, sys.shape.members, o.rules, o.maxSteps ?? 16, o.minSteps ?? 4, o.links ? { boards: sys.spec.boards.map((b) => b.name), crashes: o.crashes } : undefined);
      const v = check(sys, c);
      tally(rep, v);
      if (!v.ok) {
        rep.failed++;
        const small = rep.failed <= (o.shrink ?? 0) ? shrink(sys, c) : c;
        const f = { c: small, problems: small === c ? v.problems : check(sys, small).problems, repro: reproduce(small) };
        o.onFailure?.(f);
        if (rep.failures.length < (o.keep ?? Infinity)) rep.failures.push(f);
      }
      o.progress?.(rep.cases, total, rep.failed);
    }
  }
  return rep;
}
