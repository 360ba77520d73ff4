// npm run bench:rehearsal: the protocol's cost on the in-process testbed, and
// recovery latency in wall-clock time. Ratios are measured side by side in one run.
//
//   npm run bench:rehearsal               2000 steps, median of 7 interleaved rounds, 30 faults
//   npm run bench:rehearsal -- --quick    a smoke run for CI: 200 steps, 1 round, 4 faults
//                                         (the same code paths; the figures are not measurements)
// GSU_BENCH_STEPS and GSU_BENCH_ROUNDS override the step and round counts in either mode.
import { runTestbed, type RunOptions } from "../host/sim/testbed.ts";
import { demoSystem } from "../host/sim/demo-system.ts";

const args = process.argv.slice(2);
for (const a of args) {
  if (a !== "--quick") {
    console.error(`bench-rehearsal: unknown argument '${a}'; usage: npm run bench:rehearsal [-- --quick]`);
    process.exit(2);
  }
}
const QUICK = args.includes("--quick");
const sys = demoSystem();
const steps = Number(process.env.GSU_BENCH_STEPS ?? (QUICK ? 200 : 2000));
const rounds = Number(process.env.GSU_BENCH_ROUNDS ?? (QUICK ? 1 : 7));
const FAULTS = QUICK ? 4 : 30;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

// messages handled = every delivery to a component or a device
function rate(o: Partial<RunOptions>): { msgs: number; ms: number } {
  const r = runTestbed(sys, { seed: 11, steps, latency: { min: 50, max: 2000 }, ...o });
  const msgs = r.devices.length + r.procs.length * steps; // a proxy fixed per workload
  return { msgs, ms: r.wallMs };
}

const modes: Record<string, Partial<RunOptions>> = {
  unprotected: { reference: true, protocol: false },
  "unguarded runtime": { reference: true },
  guarded: { fault: null },
  "guarded, no shadows": { fault: null, shadows: false },
};
const times: Record<string, number[]> = {};
for (const k of Object.keys(modes)) { times[k] = []; rate(modes[k]); } // warm up
for (let i = 0; i < rounds; i++) {
  for (const [k, o] of Object.entries(modes)) times[k].push(rate(o).ms); // interleaved, so load hits all alike
}
const base = median(times.unprotected);
console.log(`GSU rehearsal bench: demo system, ${steps} steps, 3 boards, median of ${rounds} interleaved runs (node ${process.version})${QUICK ? "  --quick: smoke run, not a measurement" : ""}`);
console.log("");
console.log("mode                      wall ms   steps/s    throughput vs unprotected");
// unprotected: messages routed with no core at all; unguarded runtime: the same runtime and
// core, with every process trusted (no cluster): the protocol has nothing to do
for (const k of Object.keys(modes)) {
  const m = median(times[k]);
  console.log(`${k.padEnd(24)} ${m.toFixed(1).padStart(8)} ${Math.round(steps / (m / 1000)).toString().padStart(9)}    ${(base / m).toFixed(3)}`);
}
const prot = median(times["guarded, no shadows"]);
console.log("");
console.log(`protocol cost (guarded without shadow execution vs unprotected): ${((prot / base - 1) * 100).toFixed(1)}% (goal <= 5%)`);
console.log(`  the same against the unguarded runtime (core consulted on every message, nothing to checkpoint, log or shadow): ${((prot / median(times["unguarded runtime"]) - 1) * 100).toFixed(1)}%`);
console.log(`shadow execution doubles the cluster's work: guarded with shadows costs ${((median(times.guarded) / base - 1) * 100).toFixed(1)}%`);

// recovery latency: failed AT -> first old-version output at a device, wall clock
const lat: number[] = [];
const virt: number[] = [];
for (let i = 0; i < FAULTS; i++) {
  const r = runTestbed(sys, { seed: 100 + i, steps: 200, fault: { comp: i % 2 ? "estimator" : "controller", step: 50 + i }, latency: { min: 50, max: 2000 } });
  if (!r.recovery) throw new Error(`seed ${100 + i}: no recovery measured`);
  lat.push(r.recovery.wallMs);
  virt.push(r.recovery.virtualUs / 1000);
}
console.log("");
console.log(`recovery latency over ${FAULTS} faults: wall median ${median(lat).toFixed(3)} ms, max ${Math.max(...lat).toFixed(3)} ms (goal <= 2 ms); virtual (link latency 50..2000 µs) median ${median(virt).toFixed(3)} ms`);
console.log("  for scale: a reboot-based A/B rollback takes tens of seconds");
