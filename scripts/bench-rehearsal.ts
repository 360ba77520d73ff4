// npm run bench:rehearsal: the protocol's cost on the in-process testbed, paired.
//
// Each pair runs the same components on the same seed twice in the same round, one
// right after the other: unprotected (messages routed with no core, no checkpoints, no
// ATs) and guarded operation without shadows (the new versions run, checkpointed and
// checked, the old ones do not). The order inside a pair alternates (ABBA), so a load
// that drifts over the run hits both sides alike. Simulation-only work (the
// ground-truth oracles and their taint tracking, frame tags, the detail trace) is off
// for both (RunOptions.oracles false), as on a real board. The time of a run is the
// virtual clock's run only, in CPU time of the process (RunResult.runCpuMs; on a shared
// machine wall time mostly measures the other tenants; the wall-time ratio is printed
// too): building the testbed (cores, arenas, component instances) is excluded, and
// printed separately for scale.
//
// A third baseline, directly wired (host/sim/direct.ts): the same component versions called
// in the order the wires give, each output handed straight to its consumers, the same
// device inputs; no network, clock, frames or core. Its device outputs must equal the
// unprotected run's (checked every run); it runs in the same rounds, and the ratio
// unprotected / directly wired is printed per pair (issue 12's goal: at most 2x).
//
// Printed: min / median / max of the per-pair ratios guarded / unprotected, and the
// added time per application message (frames an unprotected run sends plus device
// inputs, counted in an untimed run), min / median / max over the pairs. Then checkpoint
// bytes per step with snapshots of a component's whole memory (as before live-state
// checkpoints) and of its live part, in pairs of guarded runs of a quarter of the steps.
// Last, the bytes allocated per application message in each mode (V8's sampling heap profiler).
//
//   npm run bench:rehearsal               9 pairs of 4000-step runs (about 1 minute)
//   npm run bench:rehearsal -- --quick    a smoke run for CI: 2 pairs of 150 steps
//                                         (the same code paths; the figures are not measurements)
// GSU_BENCH_STEPS and GSU_BENCH_PAIRS override the step and pair counts in either mode.
// Figures also go to bench-results/rehearsal.json (rehearsal-quick.json with --quick).
// By default it runs on the compiled JavaScript a board runs (scripts/bench-compiled.ts lays
// it with gsu flash --root); `-- --tsx` runs the development tree through tsx instead.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compareDevices, runTestbed, type RunOptions } from "../host/sim/testbed.ts";
import { runDirect } from "../host/sim/direct.ts";
import { demoSystem } from "../host/sim/demo-system.ts";
import { setLiveSnapshots } from "../host/component/component.ts";
import { Session } from "node:inspector/promises";

const args = process.argv.slice(2);
for (const a of args) {
  if (a !== "--quick") {
    console.error(`bench-rehearsal: unknown argument '${a}'; usage: npm run bench:rehearsal [-- --quick] [-- --tsx]`);
    process.exit(2);
  }
}
const QUICK = args.includes("--quick");
const sys = demoSystem();
const steps = Number(process.env.GSU_BENCH_STEPS ?? (QUICK ? 150 : 4000));
const pairs = Number(process.env.GSU_BENCH_PAIRS ?? (QUICK ? 2 : 9));
if (!(steps > 0) || !(pairs > 0)) { console.error("bench-rehearsal: GSU_BENCH_STEPS and GSU_BENCH_PAIRS must be positive"); process.exit(2); }
const fail = (msg: string): never => { console.error(`bench-rehearsal: FAILED: ${msg}`); process.exit(1); };

const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
const mmm = (a: number[]) => { const s = sorted(a); return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! }; };

const base: RunOptions = { seed: 11, steps, latency: { min: 50, max: 2000 }, oracles: false };
const UNPROTECTED: Partial<RunOptions> = { reference: true, protocol: false };
const GUARDED: Partial<RunOptions> = { fault: null, shadows: false };
const SHADOWS: Partial<RunOptions> = { fault: null };

function run(o: Partial<RunOptions>) {
  const r = runTestbed(sys, { ...base, ...o });
  if (r.violations.length) fail(`${JSON.stringify(o)}: ${r.violations[0]!.kind}: ${r.violations[0]!.detail}`);
  if (r.unfinished.length) fail(`${JSON.stringify(o)}: unfinished work: ${r.unfinished[0]}`);
  return r;
}

// Application messages: frames an unprotected run sends plus the device inputs. Counted
// once, untimed; every mode carries the same application traffic (the guarded mode adds
// protocol frames, which are its cost, not messages).
let frames = 0;
const calib = runTestbed(sys, { ...base, ...UNPROTECTED, sendTap: () => { frames++; } });
const appMsgs = frames + steps * sys.inputs.length;
const refDevices = calib.devices.map((d) => d.payload).join();
{
  // the guarded run must do the same application work: same device outputs
  const g = run(GUARDED);
  if (g.ended !== "guarded") fail(`guarded run ended '${g.ended}', expected to stay in guarded operation`);
  if (g.devices.map((d) => d.payload).join() !== refDevices) fail("guarded run's device outputs differ from the unprotected run's");
  run(SHADOWS); run(UNPROTECTED); // warm up
}
// the directly wired baseline must do the same application work too: device outputs
// equal the unprotected run's, byte for byte, per device (and per feeder)
function direct() {
  const d = runDirect(sys, steps);
  const diffs = compareDevices(d.devices, calib.devices);
  if (diffs.length || !d.devices.length) fail(`directly wired run's device outputs differ from the unprotected run's: ${diffs.slice(0, 3).join("; ") || "no outputs"}`);
  return d;
}
const directHandled = direct().handled; // warm up (and the check)

const ratio: number[] = [], addedNs: number[] = [], shadowRatio: number[] = [], wallRatio: number[] = [], directRatio: number[] = [];
const ms = { direct: [] as number[], unprotected: [] as number[], guarded: [] as number[], shadows: [] as number[] };
const DIRECT: Partial<RunOptions> = {}; // a key for the round's table: runDirect, not the testbed
const setup: number[] = [];
for (let i = 0; i < pairs; i++) {
  const order = i % 2 === 0 ? [DIRECT, UNPROTECTED, GUARDED, SHADOWS] : [SHADOWS, GUARDED, UNPROTECTED, DIRECT];
  const t = new Map<Partial<RunOptions>, { cpu: number; wall: number }>();
  for (const o of order) {
    if (o === DIRECT) { const d = direct(); t.set(o, { cpu: d.runCpuMs, wall: d.runMs }); continue; }
    const r = run(o);
    t.set(o, { cpu: r.runCpuMs!, wall: r.runMs! });
    setup.push(r.wallMs - r.runMs!);
  }
  const u = t.get(UNPROTECTED)!, g = t.get(GUARDED)!, s = t.get(SHADOWS)!, d = t.get(DIRECT)!;
  ms.direct.push(d.cpu); directRatio.push(u.cpu / d.cpu);
  ms.unprotected.push(u.cpu); ms.guarded.push(g.cpu); ms.shadows.push(s.cpu);
  ratio.push(g.cpu / u.cpu);
  wallRatio.push(g.wall / u.wall);
  shadowRatio.push(s.cpu / u.cpu);
  addedNs.push(((g.cpu - u.cpu) * 1e6) / appMsgs);
}

const R = mmm(ratio), A = mmm(addedNs), S = mmm(shadowRatio), W = mmm(wallRatio), D = mmm(directRatio);
const pct = (x: number) => `${x >= 1 ? "+" : ""}${((x - 1) * 100).toFixed(1)}%`;
console.log(`GSU rehearsal bench: demo system, 3 boards, ${steps} steps, ${appMsgs} application messages per run, ` +
  `${pairs} interleaved pairs, simulation-only checks off (node ${process.version})${QUICK ? "  --quick: smoke run, not a measurement" : ""}`);
console.log("");
console.log("CPU time of the run per mode (ms; the virtual clock's run, building a testbed excluded)   min / median / max");
for (const [k, v] of Object.entries(ms)) {
  const m = mmm(v);
  console.log(`  ${(k === "guarded" ? "guarded, no shadows" : k === "shadows" ? "guarded, with shadows" : k === "direct" ? "directly wired" : k).padEnd(22)} ${m.min.toFixed(1)} / ${m.median.toFixed(1)} / ${m.max.toFixed(1)}   ` +
    `(${((m.median * 1e6) / appMsgs).toFixed(0)} ns per application message)`);
}
const SU = mmm(setup);
console.log(`  building a testbed (wall): ${SU.min.toFixed(1)} / ${SU.median.toFixed(1)} / ${SU.max.toFixed(1)} ms (excluded above)`);
console.log("");
console.log(`unprotected / directly wired, CPU time per pair: min ${D.min.toFixed(2)}x, median ${D.median.toFixed(2)}x, max ${D.max.toFixed(2)}x   (goal <= 2x)`);
console.log(`  per application message (median runs): directly wired ${((mmm(ms.direct).median * 1e6) / appMsgs).toFixed(0)} ns, unprotected ${((mmm(ms.unprotected).median * 1e6) / appMsgs).toFixed(0)} ns` +
  ` (directly wired: ${directHandled} handle() calls per run, device outputs equal the unprotected run's)`);
console.log(`protocol cost, guarded without shadows / unprotected, CPU time per pair: min ${pct(R.min)}, median ${pct(R.median)}, max ${pct(R.max)}   (goal <= +10%, then +5%)`);
console.log(`  the same in wall time per pair: min ${pct(W.min)}, median ${pct(W.median)}, max ${pct(W.max)}   (a shared machine's load shows here)`);
console.log(`added CPU time per application message, per pair: min ${A.min.toFixed(0)} ns, median ${A.median.toFixed(0)} ns, max ${A.max.toFixed(0)} ns   (goal <= 300 ns)`);
console.log(`guarded with shadows / unprotected, CPU time per pair: min ${pct(S.min)}, median ${pct(S.median)}, max ${pct(S.max)}`);
console.log(`checkpoints per run (guarded, no shadows): ${run(GUARDED).checkpoints}`);

// Checkpoints before/after live-state snapshots: the same guarded runs (no shadows), in
// pairs, with snapshots of all of a component's memory (as before) and of its live part.
const ckSteps = Math.max(1, Math.round(steps / 4));
const ck = { whole: [] as number[], live: [] as number[], ratio: [] as number[], wholeBytes: 0, liveBytes: 0, checkpoints: 0 };
for (let i = 0; i < pairs; i++) {
  const t: Record<string, number> = {};
  for (const live of i % 2 === 0 ? [false, true] : [true, false]) {
    setLiveSnapshots(live);
    const r = runTestbed(sys, { ...base, ...GUARDED, steps: ckSteps });
    t[live ? "live" : "whole"] = r.runCpuMs!;
    if (live) ck.liveBytes = r.checkpointBytes!; else ck.wholeBytes = r.checkpointBytes!;
    ck.checkpoints = r.checkpoints;
  }
  setLiveSnapshots(true);
  ck.whole.push(t.whole!); ck.live.push(t.live!); ck.ratio.push(t.live! / t.whole!);
}
const CR = mmm(ck.ratio);
console.log("");
console.log(`checkpoints, guarded without shadows, ${ckSteps} steps, ${pairs} interleaved pairs: ${ck.checkpoints} checkpoints per run (${(ck.checkpoints / ckSteps).toFixed(2)} per step)`);
console.log(`  bytes per step: whole memory ${Math.round(ck.wholeBytes / ckSteps)} B, live state ${Math.round(ck.liveBytes / ckSteps)} B ` +
  `(${(ck.wholeBytes / ck.liveBytes).toFixed(1)}x fewer); per checkpoint ${Math.round(ck.wholeBytes / ck.checkpoints)} B -> ${Math.round(ck.liveBytes / ck.checkpoints)} B`);
console.log(`  CPU time live / whole, per pair: min ${pct(CR.min)}, median ${pct(CR.median)}, max ${pct(CR.max)}`);

// Bytes allocated per application message (issue 12: no per-message allocations in the
// runtime), by V8's sampling heap profiler (one sample per 256 bytes allocated on average,
// objects a GC has collected included): one untimed run of each mode, the testbed's
// construction excluded (sampling starts with the run: RunOptions.onRunStart). The directly
// wired run allocates too (each output copied out of the component, the device records).
async function allocated(o: Partial<RunOptions> | null): Promise<number> {
  const session = new Session();
  session.connect();
  // an in-process session dispatches the command at once: sampling starts before post returns
  const start = () => session.post("HeapProfiler.startSampling", { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  if (o === null) { await start(); runDirect(sys, steps); } else {
    // the testbed is built synchronously inside runTestbed: sample from its first input on
    let started: Promise<unknown> | undefined;
    runTestbed(sys, { ...base, ...o, onRunStart: () => { started = start(); } });
    if (!started) fail("RunOptions.onRunStart was not called");
    await started;
  }
  const { profile } = await session.post("HeapProfiler.stopSampling");
  session.disconnect();
  let bytes = 0;
  const walk = (n: { selfSize: number; children: unknown[] }) => { bytes += n.selfSize; for (const c of n.children) walk(c as typeof n); };
  walk(profile.head as unknown as { selfSize: number; children: unknown[] });
  return bytes / appMsgs;
}
const alloc = { direct: await allocated(null), unprotected: await allocated(UNPROTECTED), guarded: await allocated(GUARDED) };
console.log("");
console.log(`allocated per application message (V8 sampling heap profiler, one run each): directly wired ${alloc.direct.toFixed(0)} B, ` +
  `unprotected ${alloc.unprotected.toFixed(0)} B, guarded without shadows ${alloc.guarded.toFixed(0)} B`);

const result = {
  allocatedBytesPerMessage: alloc,
  when: new Date().toISOString(), node: process.version, tree: process.env.GSU_BENCH_TREE ?? "tsx", quick: QUICK, steps, pairs, appMsgs,
  runCpuMs: ms, ratioUnprotectedToDirect: { ...D, all: directRatio }, directHandledPerRun: directHandled,
  nsPerMessageMedian: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, (mmm(v).median * 1e6) / appMsgs])), ratioGuardedToUnprotected: { ...R, all: ratio }, wallRatio: { ...W, all: wallRatio }, addedNsPerMessage: { ...A, all: addedNs },
  ratioShadowsToUnprotected: { ...S, all: shadowRatio }, setupMs: SU,
  checkpoints: { steps: ckSteps, perRun: ck.checkpoints, bytesPerStepWhole: ck.wholeBytes / ckSteps, bytesPerStepLive: ck.liveBytes / ckSteps, cpuRatioLiveToWhole: { ...CR, all: ck.ratio } },
};
// GSU_BENCH_RESULTS: the repo's bench-results/ when scripts/bench-compiled.ts runs this from a temp tree
const resultsDir = process.env.GSU_BENCH_RESULTS ?? fileURLToPath(new URL("../bench-results/", import.meta.url));
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, QUICK ? "rehearsal-quick.json" : "rehearsal.json"), `${JSON.stringify(result, null, 2)}\n`);
