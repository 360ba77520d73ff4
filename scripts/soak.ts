// npm run soak [-- --cases N --rules safe|folded|paper --seed S]: the property
// suite at length. Prints how many cases ran, what broke, and how to reproduce it.
//
// npm run soak -- --system gen|genx [--cases N --per-shape K --first F --min-steps A
//   --max-steps B --shrink M --rules R --seed S]: N cases over N/K generated systems
//   gen-F, gen-F+1, ... (host/sim/gen-system.ts), K cases each, A..B steps (default
//   4..16). Prints a progress line, one line per failing case with a gsu rehearse
//   command that reproduces it as written (the first M shrunk, default 20), and the
//   failing cases by problem. --jobs J: J processes, each a disjoint range of systems.
//
// --links (either mode): faulty links in every case: every board runs the link layer over
//   a seeded injector (loss up to 30%, duplication up to 10%, corruption up to 5%, a
//   partition in a third of the cases); the reproduction commands carry the --link-* and
//   --partition options. npm run soak -- --system gen --links --cases 10000 --jobs 2.
// --crashes: also a board crash (and restart 5 steps later) in a quarter of the cases
//   (--crash BOARD@STEP in the reproduction commands).
import { parseArgs } from "node:util";
import { runGenSuite, runSuite } from "../host/sim/property.ts";
import { loadSystemByName } from "../host/sim/systems.ts";
import type { Rules } from "../host/core/core.ts";

const { values } = parseArgs({ options: {
  cases: { type: "string", default: "20000" }, rules: { type: "string", default: "safe" }, seed: { type: "string", default: "1000" },
  system: { type: "string" }, "per-shape": { type: "string", default: "5" }, first: { type: "string", default: "1" },
  "min-steps": { type: "string", default: "4" }, "max-steps": { type: "string", default: "16" }, shrink: { type: "string", default: "20" },
  jobs: { type: "string", default: "1" }, worker: { type: "boolean" }, links: { type: "boolean" }, crashes: { type: "boolean" },
} });
const total = Number(values.cases);
const rules = values.rules as Rules;
if (values.system !== undefined && values.system !== "gen" && values.system !== "genx") {
  console.error(`soak: --system must be gen or genx (generated systems; genx: members on several boards), not '${values.system}'; without it soak runs demo, fake and fake-2boards`);
  process.exit(2);
}
const placement = values.system === "genx" ? "several" as const : "one-board" as const;
const gname = values.system === "genx" ? "genx" : "gen";
if (values.system === "gen" || values.system === "genx") await genMode();

// Generated systems. With --jobs N, N child processes take disjoint ranges of shapes (the
// cases are the same as with one job: each shape's cases come from its own seed).
async function genMode(): Promise<never> {
  const perShape = Number(values["per-shape"]);
  const first = Number(values.first);
  const shapes = Math.ceil(total / perShape);
  const jobs = Math.max(1, Math.min(Number(values.jobs), shapes));
  const t0 = Date.now();
  const tty = process.stderr.isTTY && !values.worker;
  let lastLine = 0;
  const fail = (f: { repro: string; problems: string[] }) => `FAIL ${f.repro}  [${[...new Set(f.problems.map((p) => p.split(":")[0]))].join(", ")}]`;
  const progress = (done: number, all: number, failed: number) => {
    const now = Date.now();
    if (done !== all && now - lastLine < (tty ? 500 : 30_000)) return;
    lastLine = now;
    const s = (now - t0) / 1000;
    const line = `${gname}: ${done}/${all} cases, ${failed} failed, ${s.toFixed(0)} s (${(done / s).toFixed(1)} cases/s, about ${((all - done) / Math.max(1e-9, done / s) / 60).toFixed(0)} min left)`;
    if (tty) process.stderr.write(`\r${line.padEnd(78)}`); else process.stderr.write(line + "\n");
  };
  type Tally = { cases: number; failed: number; shapes: number; byProblem: Record<string, number>; checkpoints: number; dirtyReceipts: number; maxRollback: number; ridingCases?: number };
  let rep: Tally;
  if (values.worker) {
    // a child of --jobs: report to the parent
    const send = (m: unknown) => process.send!(m);
    let last = 0;
    const r = runGenSuite({
      rules, seed: Number(values.seed), first, shapes, perShape, minSteps: Number(values["min-steps"]), maxSteps: Number(values["max-steps"]),
      shrink: Number(values.shrink), keep: 0, links: !!values.links || !!values.crashes, crashes: !!values.crashes, placement,
      onFailure: (f) => send({ t: "fail", line: fail(f) }),
      progress: (done, _all, failed) => { if (Date.now() - last > 1000) { last = Date.now(); send({ t: "progress", done, failed }); } },
    });
    const { failures: _f, ...tally } = r;
    send({ t: "end", rep: tally });
    process.disconnect();
    process.exit(0);
  } else if (jobs === 1) {
    rep = runGenSuite({
      rules, seed: Number(values.seed), first, shapes, perShape, minSteps: Number(values["min-steps"]), maxSteps: Number(values["max-steps"]),
      shrink: Number(values.shrink), keep: 0, links: !!values.links || !!values.crashes, crashes: !!values.crashes, placement,
      onFailure: (f) => { if (tty) process.stderr.write("\r" + " ".repeat(78) + "\r"); console.log(fail(f)); },
      progress,
    });
  } else {
    const { fork } = await import("node:child_process");
    const per = Math.ceil(shapes / jobs);
    const done: number[] = [], failed: number[] = [];
    const ends = await Promise.all(Array.from({ length: jobs }, (_, k) => new Promise<Tally>((resolve, reject) => {
      const n = Math.min(per, shapes - k * per);
      const child = fork(new URL(import.meta.url).pathname, [
        "--system", gname, "--worker", "--first", String(first + k * per), "--cases", String(n * perShape), "--per-shape", String(perShape),
        "--min-steps", String(values["min-steps"]), "--max-steps", String(values["max-steps"]), "--rules", rules, "--seed", String(values.seed),
        "--shrink", String(Math.ceil(Number(values.shrink) / jobs)), ...(values.links ? ["--links"] : []), ...(values.crashes ? ["--crashes"] : []),
      ], { execArgv: ["--import", "tsx"] });
      let end: Tally | undefined;
      child.on("message", (m: { t: string; line?: string; done?: number; failed?: number; rep?: Tally }) => {
        if (m.t === "fail") { if (tty) process.stderr.write("\r" + " ".repeat(78) + "\r"); console.log(m.line); }
        else if (m.t === "progress") { done[k] = m.done!; failed[k] = m.failed!; progress(done.reduce((a, b) => a + (b ?? 0), 0), shapes * perShape, failed.reduce((a, b) => a + (b ?? 0), 0)); }
        else if (m.t === "end") end = m.rep;
      });
      child.on("exit", (code) => (end ? resolve(end) : reject(new Error(`soak worker ${k} exited with ${code} before its report`))));
    })));
    rep = { cases: 0, failed: 0, shapes: 0, byProblem: {}, checkpoints: 0, dirtyReceipts: 0, maxRollback: 0 };
    for (const e of ends) {
      rep.cases += e.cases; rep.failed += e.failed; rep.shapes += e.shapes; rep.checkpoints += e.checkpoints; rep.dirtyReceipts += e.dirtyReceipts;
      rep.maxRollback = Math.max(rep.maxRollback, e.maxRollback);
      rep.ridingCases = (rep.ridingCases ?? 0) + (e.ridingCases ?? 0);
      for (const [kind, n] of Object.entries(e.byProblem)) rep.byProblem[kind] = (rep.byProblem[kind] ?? 0) + n;
    }
    progress(rep.cases, rep.cases, rep.failed);
  }
  if (tty) process.stderr.write("\n");
  const byProblem = Object.entries(rep.byProblem).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ");
  console.log(`soak (rules ${rules}, ${gname}-${first}..${gname}-${first + shapes - 1}, ${values["min-steps"]}..${values["max-steps"]} steps${values.links || values.crashes ? ", faulty links" : ""}${values.crashes ? ", crashes" : ""}${jobs > 1 ? `, ${jobs} jobs` : ""}): ` +
    `${rep.cases} cases over ${rep.shapes} generated systems, ${rep.failed} failed${rep.failed ? ` (failing cases by problem: ${byProblem})` : ""} in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
    `${(rep.checkpoints / Math.max(1, rep.dirtyReceipts)).toFixed(3)} checkpoints per dirty receipt, max rollback ${rep.maxRollback}; ` +
    `a passed-AT bound rode on an application frame in ${rep.ridingCases ?? 0} cases`);
  process.exit(rep.failed ? 1 : 0);
}
const systems = ["demo", "fake", "fake-2boards"];
let ran = 0, failed = 0;
const t0 = Date.now();
const byProblem: Record<string, number> = {};
for (const [i, name] of systems.entries()) {
  const sys = await loadSystemByName(name);
  const n = Math.round(total / systems.length);
  const rep = runSuite(sys, name, ["estimator", "controller"], rules, n, Number(values.seed) + i, {
    shrink: true, maxSteps: 150, links: !!values.links || !!values.crashes, crashes: !!values.crashes,
    progress: (d) => { if (d % 200 === 0 && process.stderr.isTTY) process.stderr.write(`\r${name}: ${d}/${n} cases, ${((Date.now() - t0) / 1000).toFixed(0)} s`); },
  });
  if (process.stderr.isTTY) process.stderr.write("\r" + " ".repeat(60) + "\r");
  ran += rep.cases;
  failed += rep.failures.length;
  for (const [k, v] of Object.entries(rep.byProblem)) byProblem[k] = (byProblem[k] ?? 0) + v;
  console.log(`${name}: ${rep.cases} cases, ${rep.failures.length} failed, ${(rep.checkpoints / Math.max(1, rep.dirtyReceipts)).toFixed(3)} checkpoints per dirty receipt, max rollback ${rep.maxRollback}; a bound rode in ${rep.ridingCases ?? 0} cases`);
  for (const f of rep.failures.slice(0, 5)) console.log(`  FAIL ${f.repro}\n    ${f.problems.slice(0, 2).join("\n    ")}`);
}
console.log(`soak (rules ${rules}${values.links || values.crashes ? ", faulty links" : ""}${values.crashes ? ", crashes" : ""}): ${ran} cases ran, ${failed} failed${failed ? ` ${JSON.stringify(byProblem)}` : ""} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
