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
// Last, the bytes allocated per application message in each mode and layer (V8's sampling heap
// profiler, in child processes: see allocProfile).
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
import { spawnSync } from "node:child_process";

const args = process.argv.slice(2);
// --alloc-child MODE STEPS: this script as its own child, for the allocation profile (below)
const ALLOC_CHILD = args[0] === "--alloc-child";
for (const a of ALLOC_CHILD ? [] : args) {
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

// ---- allocation profile ----------------------------------------------------------------
// V8's sampling heap profiler (one sample per 256 bytes allocated on average, objects a GC
// has collected included), over one untimed run; the testbed's construction excluded
// (sampling starts with the run: RunOptions.onRunStart). Each sample is charged to the
// layer of the JavaScript function that allocated it (a builtin's, e.g. slice or push, to
// its caller's): the runtime a board runs (host/runtime, the core's facade host/core, the
// component host host/component/component.ts), the links (host/transport: the link layer
// and the fault injector under it, in the modes that run them), the simulator (host/sim:
// network, clock, testbed, the oracle's marks carried across the layer), or the system's own code (the demo's devices and input
// generators, the ATs its manifests declare). The profiler charges an inlined
// function's allocation to the function it was inlined into, so the profile runs in a
// child process with inlining off (--no-turbo-inlining), which also keeps the optimizer
// from removing temporary objects across calls: it counts at least what a board allocates.
// Sampling covers the second half of the run (from the first frame sent at or after step
// steps/2 of the 10 ms period), once the board is warm (caches filled, pools stocked), and
// the bytes are divided by the second half's share of the run's messages (the demo sends
// the same messages every step). The directly wired run has no clock: its whole run.
type Layer = "runtime" | "links" | "simulator" | "system";
const LAYERS: Layer[] = ["runtime", "links", "simulator", "system"];
interface AllocProfile { messages: number; window: string; bytes: Record<Layer, number>; sites: [string, number][] }
// "layer": guarded without shadows, each board over the real link layer (host/transport/reliable.ts,
// no key) over a fault injector that injects nothing, over the simulated network; "keyed": the
// same with a link key (auth "control", the default: every frame but an application frame without
// a riding bound carries a MAC, acknowledgements included)
const LINK_KEY = new Uint8Array(32).map((_, i) => i * 7 + 1);
const MODES: Record<string, Partial<RunOptions> | null> = {
  direct: null, unprotected: UNPROTECTED, guarded: GUARDED, shadows: SHADOWS, layer: { ...GUARDED, links: {} }, keyed: { ...GUARDED, links: { key: LINK_KEY } },
};
function layerOf(url: string): Layer {
  if (/\/host\/(runtime|core)\/|\/host\/component\/component\.[jt]s$/.test(url)) return "runtime";
  if (/\/host\/transport\//.test(url)) return "links";
  if (/\/host\/sim\//.test(url)) return "simulator";
  return "system";
}
interface ProfileNode { selfSize: number; children: ProfileNode[]; callFrame: { functionName: string; url: string; lineNumber: number } }
async function allocProfile(o: Partial<RunOptions> | null, n: number): Promise<AllocProfile> {
  // application messages: frames an unprotected run sends plus the device inputs
  let frames = 0;
  runTestbed(sys, { ...base, steps: n, ...UNPROTECTED, sendTap: () => { frames++; } });
  const all = frames + n * sys.inputs.length, cut = Math.floor(n / 2), PERIOD = 10_000;
  const messages = o === null ? all : (all * (n - cut)) / n;
  if (o === null) runDirect(sys, n); else runTestbed(sys, { ...base, steps: n, ...o }); // warm-up: the same code paths
  const session = new Session();
  session.connect();
  // an in-process session dispatches the command at once: sampling starts before post returns
  const start = () => session.post("HeapProfiler.startSampling", { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  if (o === null) { await start(); runDirect(sys, n); } else {
    let started: Promise<unknown> | undefined;
    const r = runTestbed(sys, { ...base, steps: n, ...o, periodUs: PERIOD, sendTap: (t) => { if (!started && t >= cut * PERIOD) started = start(); } });
    if (!started) fail("no frame was sent in the second half of the run");
    if (r.violations.length || r.unfinished.length) fail(`allocation run ${JSON.stringify(o)}: ${r.violations[0]?.kind ?? r.unfinished[0]}`);
    await started;
  }
  const { profile } = await session.post("HeapProfiler.stopSampling");
  session.disconnect();
  const bytes: Record<Layer, number> = { runtime: 0, links: 0, simulator: 0, system: 0 };
  const sites = new Map<string, number>();
  const walk = (node: ProfileNode, owner: { url: string; fn: string; line: number } | null): void => {
    const f = node.callFrame;
    const here = f.url && !f.url.startsWith("node:") ? { url: f.url, fn: f.functionName || "(anonymous)", line: f.lineNumber + 1 } : owner;
    if (node.selfSize) {
      const l = here ? layerOf(here.url) : "system"; // node's own (the profiler's session, timers): not the runtime's
      bytes[l] += node.selfSize;
      if (here && (l === "runtime" || l === "links")) {
        const site = `${here.url.replace(/^.*\/(host\/)/, "$1")}:${here.line} ${here.fn}${f.url ? "" : ` (${f.functionName})`}`;
        sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
      }
    }
    for (const c of node.children) walk(c, here);
  };
  walk(profile.head as unknown as ProfileNode, null);
  return { messages, window: o === null ? "whole run" : `steps ${cut}-${n}`, bytes, sites: [...sites].sort((a, b) => b[1] - a[1]).slice(0, 8) };
}
/** allocProfile in a child process with inlining off (this script, --alloc-child MODE STEPS). */
function allocChild(mode: string, n: number): AllocProfile {
  const r = spawnSync(process.execPath, [...process.execArgv, "--no-turbo-inlining", fileURLToPath(import.meta.url), "--alloc-child", mode, String(n)],
    { encoding: "utf8", env: process.env, maxBuffer: 1 << 24 });
  const line = r.stdout?.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{")) fail(`allocation profile (${mode}, ${n} steps) exited ${r.status}: ${(r.stderr || r.stdout || "").trim().slice(-400)}`);
  return JSON.parse(line) as AllocProfile;
}
if (ALLOC_CHILD) {
  const [, mode, n] = args;
  if (!(mode in MODES) || !(Number(n) > 0)) fail(`--alloc-child MODE STEPS: MODE one of ${Object.keys(MODES).join(", ")}, STEPS positive`);
  console.log(JSON.stringify(await allocProfile(MODES[mode], Number(n))));
  process.exit(0);
}

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
// runtime): allocProfile below, in child processes (one per mode and run length).
const alloc: Record<string, AllocProfile> = {};
for (const mode of ["direct", "unprotected", "guarded", "shadows", "layer", "keyed"] as const) alloc[mode] = allocChild(mode, steps);
const label = (k: string) => (k === "guarded" ? "guarded, no shadows" : k === "shadows" ? "guarded, with shadows" : k === "direct" ? "directly wired" : k === "layer" ? "guarded, link layer" : k === "keyed" ? "guarded, keyed links" : k);
const perMsg = (a: AllocProfile, l: Layer) => a.bytes[l] / a.messages;
console.log("");
console.log("allocated per application message (V8's sampling heap profiler, once the run is warm; a child process per mode with");
console.log("inlining off, so that each allocation is charged to the function that made it), by layer:   runtime / links / simulator / system");
for (const [k, a] of Object.entries(alloc)) {
  console.log(`  ${label(k).padEnd(22)} ${LAYERS.map((l) => perMsg(a, l).toFixed(1)).join(" / ")} B   (${a.window}` +
    `${k === "direct" ? "; the component host's output copies are its runtime share)" : k === "layer" || k === "keyed" ? "; goal: runtime and links 0)" : "; goal: runtime 0)"}`);
}
for (const [k, a] of Object.entries(alloc)) {
  if (k !== "direct" && a.sites.length) console.log(`  the runtime's and links' sites, ${label(k)}: ${a.sites.map(([site, b]) => `${site} ${(b / a.messages).toFixed(2)} B`).join("; ")}`);
}

const result = {
  allocated: alloc,
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
