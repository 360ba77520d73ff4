// npm run fuzz [-- INPUTS_PER_DECODER [SEED]] [--daemon N]: the fuzz harness at
// 10^6 inputs per decoder by default (targets with a `full` limit, the
// Ed25519-bound ones, get that many); prints counts, drop-reason histograms,
// already reported bugs hit and any invariant violation, and exits non-zero on
// one. Then the board daemon end to end over a PTY (scripts/fuzz-daemon.ts): N
// inputs (default 5000; 0 skips it) with a liveness check every 100.
import { TARGETS, inputsFor } from "./fuzz-harness.ts";
import { fuzzDaemon } from "./fuzz-daemon.ts";
import { socatMissing } from "../test/serial/socat.ts";

const argv = process.argv.slice(2);
const di = argv.indexOf("--daemon");
const daemonN = di >= 0 ? Number(argv[di + 1]) : 5000;
if (di >= 0) argv.splice(di, 2);
if (!Number.isInteger(daemonN) || daemonN < 0) { console.error(`--daemon must be a count of inputs (0 skips the daemon), not '${process.argv[process.argv.indexOf("--daemon") + 1]}'`); process.exit(2); }
const n = Number(argv[0] ?? 1_000_000);
const seed = Number(argv[1] ?? 1);
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
if (daemonN > 0) {
  if (socatMissing) console.log(`\nboard daemon over a PTY: skipped, ${socatMissing}`);
  else {
    console.log(`\nboard daemon end to end over a PTY: ${daemonN} inputs, seed ${seed}`);
    const r = await fuzzDaemon(daemonN, seed, { log: (l) => console.log(l) });
    console.log(`  sent: ${Object.entries(r.sent).map(([k, v]) => `${k} ${v}`).join(", ")}; ${r.liveness} liveness checks; ${r.seconds.toFixed(1)} s`);
    console.log(`  replies: ${Object.entries(r.replies).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    console.log(`  board drops: ${Object.entries(r.dropped).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ") || "none"}`);
    console.log(`  longest log line ${r.maxLogLine}, longest reply ${r.maxReply} characters`);
    for (const f of r.handlerFaults) { console.log(`  PROBLEM: handler fault: ${f}`); bad++; }
    for (const p of r.problems) { console.log(`  PROBLEM: ${p}`); bad++; }
    total += r.inputs;
  }
}
console.log(`\n${total} inputs in ${((performance.now() - t0) / 1000).toFixed(1)} s, heap (oracle sets included) ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB; ${bad ? `${bad} PROBLEMS` : "no problems"}`);
process.exit(bad ? 1 : 0);
