// The property suite's engine: random cases over seeds, fault steps, fault
// components, latencies and rule sets; the oracles of the protocol notes; and a
// shrinker that turns a failure into a short reproduction command.
import type { Rules } from "../core/core.ts";
import { Rng } from "./rng.ts";
import { compareDevices, runTestbed, type DeviceRecord, type RunResult, type TestbedSystem } from "./testbed.ts";

export interface Case {
  system: string;
  seed: number;
  steps: number;
  fault: { comp: string; step: number } | null;
  latency: { min: number; max: number };
  rules: Rules;
  commitAfter?: number;
  upgradeAt?: number;     // upgrade while the system runs, after this step
}

export interface Verdict { ok: boolean; problems: string[]; result: RunResult }

const refCache = new Map<string, DeviceRecord[]>();

export function reference(sysName: string, sys: TestbedSystem, steps: number): DeviceRecord[] {
  const key = `${sysName}/${steps}`;
  let r = refCache.get(key);
  if (!r) {
    r = runTestbed(sys, { seed: 0, steps, reference: true }).devices;
    refCache.set(key, r);
  }
  return r;
}

/** Runs one case and checks every oracle. */
export function check(sys: TestbedSystem, c: Case): Verdict {
  const result = runTestbed(sys, {
    seed: c.seed, steps: c.steps, fault: c.fault, rules: c.rules, latency: c.latency, commitAfter: c.commitAfter, upgradeAt: c.upgradeAt,
  });
  const problems = judge(sys, c, result);
  return { ok: problems.length === 0, problems, result };
}

/** Every oracle on a finished run (check, and the explorer's terminal states: host/sim/explore.ts). */
export function judge(sys: TestbedSystem, c: Pick<Case, "system" | "steps" | "fault">, result: RunResult): string[] {
  const problems: string[] = [];
  for (const v of result.violations) problems.push(`${v.kind}: ${v.detail}`);
  const diffs = compareDevices(result.devices, reference(c.system, sys, c.steps));
  if (diffs.length) problems.push(`device equivalence: ${diffs.length} differences, first: ${diffs[0]}`);
  if ((result.ended === "recovery" || result.ended === "commit") && result.heldAfter !== 0) {
    problems.push(`memory: ${result.heldAfter} protocol bytes still held after ${result.ended}`);
  }
  if (c.fault && result.ended === "guarded") problems.push(`the fault at ${c.fault.comp}@${c.fault.step} was never detected`);
  return problems;
}

export function randomCase(rng: Rng, system: string, faultComps: string[], rules: Rules, maxSteps = 80): Case {
  const steps = rng.int(10, maxSteps);
  const withFault = rng.next() < 0.85;
  const lo = rng.int(10, 500);
  return {
    system, seed: rng.int(1, 2 ** 31 - 1), steps, rules,
    fault: withFault ? { comp: faultComps[rng.int(0, faultComps.length - 1)], step: rng.int(1, steps) } : null,
    latency: { min: lo, max: lo + rng.int(0, 20_000) },
    commitAfter: !withFault && rng.next() < 0.5 ? rng.int(1, 3 * steps) : undefined,
    upgradeAt: rng.next() < 0.4 ? rng.int(1, Math.max(1, Math.floor(steps / 2))) : undefined,
  };
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
  parts.push(c.fault ? `--fault ${c.fault.comp}@${c.fault.step}` : "--no-fault");
  parts.push(`--rules ${c.rules} --latency ${c.latency.min}..${c.latency.max}`);
  if (c.commitAfter) parts.push(`--commit-after ${c.commitAfter}`);
  // Always explicit: the CLI's default upgrade step (30) is not the testbed's (0, before the run).
  parts.push(`--upgrade-at ${c.upgradeAt ?? 0}`);
  return parts.join(" ");
}

export interface SuiteReport {
  cases: number;
  failures: { c: Case; problems: string[]; repro: string }[];
  byProblem: Record<string, number>;
  checkpoints: number;
  dirtyReceipts: number;
  maxRollback: number;
}

/** Runs n random cases; returns the tally (used by the test suite, soak and the rule comparison). */
export function runSuite(sys: TestbedSystem, system: string, faultComps: string[], rules: Rules, n: number, seed: number,
  opts: { shrink?: boolean; maxSteps?: number; progress?: (done: number) => void } = {}): SuiteReport {
  const rng = new Rng(seed);
  const rep: SuiteReport = { cases: 0, failures: [], byProblem: {}, checkpoints: 0, dirtyReceipts: 0, maxRollback: 0 };
  for (let i = 0; i < n; i++) {
    const c = randomCase(rng, system, faultComps, rules, opts.maxSteps);
    const v = check(sys, c);
    rep.cases++;
    rep.checkpoints += v.result.checkpoints;
    rep.dirtyReceipts += v.result.dirtyReceipts;
    for (const p of v.result.procs) rep.maxRollback = Math.max(rep.maxRollback, p.rollbackDistance);
    if (!v.ok) {
      const kinds = new Set(v.problems.map((p) => p.split(":")[0]));
      for (const k of kinds) rep.byProblem[k] = (rep.byProblem[k] ?? 0) + 1;
      const small = opts.shrink ? shrink(sys, c) : c;
      rep.failures.push({ c: small, problems: v.problems, repro: reproduce(small) });
    }
    opts.progress?.(i + 1);
  }
  return rep;
}
