// npm run explore [-- options]: exhaustive exploration of small systems. Every delivery
// interleaving (per-link FIFO) and every device-input position of a few steps, for no
// fault and a fault in each cluster member at each step, with the real core and the real
// board runtime; source-set DPOR with sleep sets prunes interleavings that only reorder
// events on different boards (docs/protocol.md, "Exhaustive exploration").
//
//   --smoke              a small bounded part (< 60 s): x1 and x2 at 2 steps, every fault
//                        case, and an independence check of the reduction
//   --system A[,B]       x1, x2, x2s, x2b (host/sim/explore-systems.ts) or any rehearsal system
//                        (fake, demo, mesh-N, meshc-N: large, use --max-schedules)
//   --steps N            device inputs per run (default: x1 and x2 3, x2s and others 2; --smoke 2)
//   --rules R            safe (default), folded, paper
//   --fault F            all (default: no fault, and each member at each step), none, COMP@STEP
//   --commit-after N     with --fault all: also a no-fault case that commits after N passed ATs
//                        (default 1; 0: none); with --fault none or COMP@STEP: those cases commit
//   --max-schedules N    stop each case after N runs (the report says "bounded")
//   --no-reduction       every interleaving, no DPOR
//   --cross-check        run every case both ways, DPOR and every interleaving, and compare
//                        the terminal states (by hash) and the violation kinds reached
//   --check-independence N   test the independence claim on N random pairs per case
//   --stop-at-first      stop a case at its first violation
//   --replay "SCHED"     run one schedule of one case (--system, --steps, --rules, --fault) and print it
//
// Prints the systems, per case the schedules run, distinct states and violations (each
// with a schedule that reproduces it), progress lines every few seconds, and the totals.
// Exit status 1 if any violation was found.
import { parseArgs } from "node:util";
import type { Rules } from "../host/core/core.ts";
import {
  caseName, checkIndependence, exploreCase, faultCases, formatSchedule, parseSchedule, replay,
  type CaseReport, type ExploreCase,
} from "../host/sim/explore.ts";
import { EXPLORE_SHAPES, faultComponents, loadExploreSystem } from "../host/sim/explore-systems.ts";
import { describeShape } from "../host/sim/mesh-system.ts";

const { values } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    system: { type: "string" },
    steps: { type: "string" },
    rules: { type: "string", default: "safe" },
    fault: { type: "string", default: "all" },
    "commit-after": { type: "string" },
    "max-schedules": { type: "string" },
    "no-reduction": { type: "boolean", default: false },
    "cross-check": { type: "boolean", default: false },
    "check-independence": { type: "string" },
    "stop-at-first": { type: "boolean", default: false },
    replay: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log("npm run explore -- [--smoke] [--system x1,x2,x2s,x2b|fake|mesh-N] [--steps N] [--rules safe|folded|paper] [--fault all|none|COMP@STEP] [--commit-after N] [--max-schedules N] [--no-reduction] [--check-independence N] [--stop-at-first] [--replay \"SCHEDULE\"]");
  process.exit(0);
}
const num = (v: string | undefined, name: string, def: number): number => {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) { console.error(`--${name}: expected a whole number, not '${v}'`); process.exit(2); }
  return n;
};
const rules = values.rules as Rules;
if (!["safe", "folded", "paper"].includes(rules)) { console.error(`--rules: safe, folded or paper, not '${values.rules}'`); process.exit(2); }
const smoke = values.smoke;
const systems = (values.system ?? (smoke ? "x1,x2" : "x1,x2,x2s")).split(",").filter(Boolean);
const DEFAULT_STEPS: Record<string, number> = { x1: 3, x2: 3 };
const stepsOf = (name: string): number => num(values.steps, "steps", smoke ? 2 : DEFAULT_STEPS[name] ?? 2);
if (values.steps !== undefined && stepsOf("") < 1) { console.error("--steps: at least 1"); process.exit(2); }
const commitAfter = num(values["commit-after"], "commit-after", 1);
const maxSchedules = values["max-schedules"] !== undefined ? num(values["max-schedules"], "max-schedules", 0) : undefined;
const indep = num(values["check-independence"], "check-independence", smoke ? 10 : 0);
const reduction = !values["no-reduction"];
const crossCheck = values["cross-check"];
const crossBad: string[] = [];

// ---- one schedule ----------------------------------------------------------------------------
if (values.replay !== undefined) {
  if (systems.length !== 1) { console.error("--replay needs exactly one --system"); process.exit(2); }
  const sys = await loadExploreSystem(systems[0]);
  const steps = stepsOf(systems[0]);
  const [fault] = values.fault === "all" ? [null] : faultCases(faultComponents(sys), steps, values.fault);
  const c: ExploreCase = { system: systems[0], sys, steps, rules, fault, commitAfter: num(values["commit-after"], "commit-after", 0) || undefined };
  const r = replay(c, parseSchedule(values.replay), true);
  console.log(`replay ${caseName(c)}`);
  console.log(`schedule (${r.schedule.length} events${r.complete ? "" : ", cut"}): ${formatSchedule(r.schedule)}`);
  const keep = new Set(["send", "recv", "checkpoint", "passed-at", "at-failed", "recovery-request", "recovery-begin", "rollback", "recovered", "takeover", "retire", "drop", "commit", "memory-full", "component-trap"]);
  for (const e of r.result.trace) {
    if (!keep.has(e.type)) continue;
    const { t, board, type, ...rest } = e;
    console.log(`  t=${t} ${board} ${type} ${Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(" ")}`);
  }
  for (const d of r.result.devices) console.log(`  device ${d.device} <- ${d.comp}(${d.gen}) ${d.payload}`);
  console.log(r.problems.length ? `VIOLATIONS:\n  ${r.problems.join("\n  ")}` : "no violation");
  process.exit(r.problems.length ? 1 : 0);
}

// ---- exploration ---------------------------------------------------------------------------
const t0 = performance.now();
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
console.log(`explore: rules ${rules}, steps ${systems.map((s) => `${s}:${stepsOf(s)}`).join(" ")}, faults ${values.fault}${commitAfter && values.fault === "all" ? `, plus a commit after ${commitAfter} passed AT(s)` : ""}; ` +
  `${reduction ? "source-set DPOR with sleep sets (dependent = same board)" : "no reduction: every interleaving"}${maxSchedules !== undefined ? `; at most ${maxSchedules} runs per case` : ""}${smoke ? " [smoke]" : ""}`);
const reports: CaseReport[] = [];
const found: { c: ExploreCase; r: CaseReport }[] = [];
let indepPairs = 0;
const indepBad: string[] = [];
for (const name of systems) {
  const sys = await loadExploreSystem(name);
  const members = faultComponents(sys);
  const steps = stepsOf(name);
  const shape = EXPLORE_SHAPES[name];
  console.log(`system ${name}: ${shape ? describeShape(shape).replace("; ;", ";") : `cluster {${members.join(", ")}}; boards ${sys.spec.boards.map((b) => `${b.name}{${b.components.join(",")}}`).join(" ")}`}`);
  const explicitCommit = values.fault !== "all" && values["commit-after"] !== undefined && commitAfter > 0 ? commitAfter : undefined;
  const cases: ExploreCase[] = faultCases(members, steps, values.fault).map((fault) => ({ system: name, sys, steps, rules, fault, commitAfter: explicitCommit }));
  if (commitAfter && values.fault === "all") cases.splice(1, 0, { system: name, sys, steps, rules, fault: null, commitAfter });
  for (const c of cases) {
    let last = performance.now();
    const r = exploreCase(c, {
      reduction, maxSchedules, keepTerminals: crossCheck, stopAtFirst: values["stop-at-first"], progressEvery: 100,
      progress: (p) => {
        if (performance.now() - last < 5000) return;
        last = performance.now();
        console.log(`  ... ${p.name}: ${p.schedules} schedules, ${p.states} states, ${p.violations.length} violation kinds, ${secs(p.ms)}`);
      },
    });
    reports.push(r);
    console.log(`  ${r.name}: ${r.schedules} schedules (+${r.blocked} sleep-blocked), ${r.states} distinct states (${r.terminalStates} terminal), depth ${r.maxDepth}, ` +
      `${r.violations.length ? `VIOLATIONS ${r.violations.map((v) => `${v.kind} x${v.runs}`).join(", ")}` : "0 violations"}, ${secs(r.ms)}${r.exhaustive ? "" : ", BOUNDED (not exhaustive)"}`);
    if (r.violations.length) found.push({ c, r });
    if (crossCheck) {
      const f = exploreCase(c, { reduction: !reduction, maxSchedules, keepTerminals: true });
      const key = (x: CaseReport) => JSON.stringify([...x.terminals!].sort((a, b) => a[0] - b[0]));
      const kinds = (x: CaseReport) => x.violations.map((v) => v.kind).sort().join(",");
      const same = key(f) === key(r) && kinds(f) === kinds(r) && f.exhaustive && r.exhaustive;
      console.log(`    cross-check: ${reduction ? f.schedules : r.schedules} interleavings vs ${reduction ? r.schedules + r.blocked : f.schedules + f.blocked} DPOR runs (${secs(f.ms)}): ` +
        `${same ? "the same" : "DIFFERENT"} ${r.terminalStates} terminal state(s)${kinds(r) ? ` and violation kinds ${kinds(r)}` : ", no violation"}`);
      if (!same) crossBad.push(r.name);
    }
    if (indep) {
      const k = checkIndependence(c, indep, reports.length);
      indepPairs += k.pairs;
      indepBad.push(...k.mismatches);
    }
  }
}

const total = (f: (r: CaseReport) => number) => reports.reduce((s, r) => s + f(r), 0);
for (const { c, r } of found) {
  // kinds first seen on the same schedule are printed together
  const bySchedule = new Map<string, typeof r.violations>();
  for (const v of r.violations) { const k = formatSchedule(v.schedule); (bySchedule.get(k) ?? bySchedule.set(k, []).get(k)!).push(v); }
  for (const [sched, vs] of bySchedule) {
    console.log(`\nVIOLATION in ${r.name}: ${vs.map((v) => `${v.kind} (${v.runs} of ${r.schedules + r.blocked} runs)`).join(", ")}`);
    for (const p of vs[0].problems.slice(0, 6)) console.log(`  ${p}`);
    const flags = [`--system ${c.system}`, `--steps ${c.steps}`, `--rules ${c.rules}`, `--fault ${c.fault ? `${c.fault.comp}@${c.fault.step}` : "none"}`];
    if (c.commitAfter) flags.push(`--commit-after ${c.commitAfter}`);
    console.log(`  reproduce: npm run explore -- ${flags.join(" ")} --replay "${sched}"`);
  }
}
if (indep) {
  console.log(`\nindependence check: ${indepPairs} pairs of events on different boards run in both orders, ${indepBad.length} differ`);
  for (const m of indepBad.slice(0, 10)) console.log(`  ${m}`);
}
if (crossCheck) console.log(`\ncross-check: ${reports.length - crossBad.length} of ${reports.length} cases reach the same terminal states and violation kinds both ways${crossBad.length ? `; DIFFERENT: ${crossBad.join("; ")}` : ""}`);
const nViol = total((r) => r.violations.length);
const exhaustive = reports.every((r) => r.exhaustive);
console.log(`\nexplore: ${systems.length} system(s), ${reports.length} cases, ${total((r) => r.schedules)} schedules (+${total((r) => r.blocked)} sleep-blocked), ` +
  `${total((r) => r.states)} distinct states, ${nViol} violation kind(s) in ${found.length} case(s), ${exhaustive ? "exhaustive" : "BOUNDED"}, ${secs(performance.now() - t0)}`);
process.exit(nViol || indepBad.length || crossBad.length ? 1 : 0);
