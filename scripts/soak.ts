// npm run soak [-- --cases N --rules safe|folded|paper --seed S]: the property
// suite at length. Prints how many cases ran, what broke, and how to reproduce it.
import { parseArgs } from "node:util";
import { runSuite } from "../host/sim/property.ts";
import { loadSystemByName } from "../host/sim/systems.ts";
import type { Rules } from "../host/core/core.ts";

const { values } = parseArgs({ options: { cases: { type: "string", default: "20000" }, rules: { type: "string", default: "safe" }, seed: { type: "string", default: "1000" } } });
const total = Number(values.cases);
const rules = values.rules as Rules;
const systems = ["demo", "fake", "fake-2boards"];
let ran = 0, failed = 0;
const t0 = Date.now();
const byProblem: Record<string, number> = {};
for (const [i, name] of systems.entries()) {
  const sys = await loadSystemByName(name);
  const n = Math.round(total / systems.length);
  const rep = runSuite(sys, name, ["estimator", "controller"], rules, n, Number(values.seed) + i, {
    shrink: true, maxSteps: 150,
    progress: (d) => { if (d % 200 === 0 && process.stderr.isTTY) process.stderr.write(`\r${name}: ${d}/${n} cases, ${((Date.now() - t0) / 1000).toFixed(0)} s`); },
  });
  if (process.stderr.isTTY) process.stderr.write("\r" + " ".repeat(60) + "\r");
  ran += rep.cases;
  failed += rep.failures.length;
  for (const [k, v] of Object.entries(rep.byProblem)) byProblem[k] = (byProblem[k] ?? 0) + v;
  console.log(`${name}: ${rep.cases} cases, ${rep.failures.length} failed, ${(rep.checkpoints / Math.max(1, rep.dirtyReceipts)).toFixed(3)} checkpoints per dirty receipt, max rollback ${rep.maxRollback}`);
  for (const f of rep.failures.slice(0, 5)) console.log(`  FAIL ${f.repro}\n    ${f.problems.slice(0, 2).join("\n    ")}`);
}
console.log(`soak (rules ${rules}): ${ran} cases ran, ${failed} failed${failed ? ` ${JSON.stringify(byProblem)}` : ""} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
