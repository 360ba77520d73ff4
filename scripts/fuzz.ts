// npm run fuzz [-- INPUTS_PER_DECODER [SEED]]: the fuzz harness at 10^6 inputs per
// decoder by default (targets with a `full` limit, the Ed25519-bound ones, get
// that many); prints counts, drop-reason histograms, already reported bugs hit
// and any invariant violation, and exits non-zero on one.
import { TARGETS, inputsFor } from "./fuzz-harness.ts";

const n = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 1);
let bad = 0;
let total = 0;
const t0 = performance.now();
for (const t of TARGETS) {
  const [name, run] = t;
  const started = performance.now();
  const reports = await run(inputsFor(t, n, "full"), seed + name.length);
  const ms = performance.now() - started;
  for (const r of reports) {
    total += r.inputs;
    console.log(`\n${r.name}: ${r.inputs} inputs, ${r.accepted} accepted, ${(ms / 1000).toFixed(1)} s; max buffered ${r.maxBuffered} (limit ${r.bufferLimit})`);
    const rows = Object.entries(r.reasons).sort((a, b) => b[1] - a[1]);
    const w = Math.max(...rows.map(([k]) => k.length), 10);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(w)} ${String(v).padStart(10)}`);
    for (const [bug, { hits, example }] of Object.entries(r.known ?? {})) console.log(`  KNOWN BUG (${hits} inputs): ${bug}; e.g. ${example}`);
    for (const p of r.problems) { console.log(`  PROBLEM: ${p}`); bad++; }
    if (r.maxBuffered > r.bufferLimit) { console.log(`  PROBLEM: bound exceeded: held ${r.maxBuffered} > ${r.bufferLimit}`); bad++; }
  }
}
console.log(`\n${total} decoder inputs in ${((performance.now() - t0) / 1000).toFixed(1)} s, heap (oracle sets included) ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB; ${bad ? `${bad} PROBLEMS` : "no problems"}`);
process.exit(bad ? 1 : 0);
