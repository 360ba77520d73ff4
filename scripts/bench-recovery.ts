// npm run bench:recovery: recovery latency, wall clock, over many faults in ONE testbed
// that is built once and reused: the demo's three boards run; every cycle upgrades them at
// a quiescent point (estimator and controller v1 -> v2, state transferred from the running
// old versions), injects a persistent fault into a new version (estimator and controller
// in turn), and lets the protocol detect it (failed AT), recover (rollback, the old
// versions take over) and go on. Latency: from the failed AT to the first output of an
// old version at a device, as the testbed measures it (RunResult.recovery). Simulation-only
// checks are off, as on a real board. On a shared machine wall time includes the time the
// process waits for a CPU; the CPU time of the process over the same interval is printed too. Every cycle must end in a recovery whose device
// outputs equal the fault-free reference's (checked for the whole run at the end).
//
//   npm run bench:recovery               1000 faults (a few minutes)
//   npm run bench:recovery -- --quick    a smoke run for CI: 20 faults
//                                        (the same code paths; the figures are not measurements)
// GSU_BENCH_FAULTS overrides the fault count. Figures also go to bench-results/recovery.json.
// By default it runs on the compiled JavaScript a board runs (scripts/bench-compiled.ts lays
// it with gsu flash --root); `-- --tsx` runs the development tree through tsx instead.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Board } from "../host/runtime/board.ts";
import { demoSystem } from "../host/sim/demo-system.ts";
import { VirtualClock } from "../host/sim/clock.ts";
import { Rng } from "../host/sim/rng.ts";
import { SimNetwork } from "../host/sim/network.ts";
import { runTestbed } from "../host/sim/testbed.ts";

const args = process.argv.slice(2);
for (const a of args) {
  if (a !== "--quick") { console.error(`bench-recovery: unknown argument '${a}'; usage: npm run bench:recovery [-- --quick] [-- --tsx]`); process.exit(2); }
}
const QUICK = args.includes("--quick");
const FAULTS = Number(process.env.GSU_BENCH_FAULTS ?? (QUICK ? 20 : 1000));
if (!(FAULTS > 0)) { console.error("bench-recovery: GSU_BENCH_FAULTS must be positive"); process.exit(2); }
const fail = (msg: string): never => { console.error(`bench-recovery: FAILED: ${msg}`); process.exit(1); };

const sys = demoSystem();
const PERIOD = 10_000;          // µs between input steps, as the testbed
const CYCLE = 30;               // steps per cycle: upgrade at 0, fault at 8, recovered long before 30
const FAULT_AT = 8;
const STEPS = FAULTS * CYCLE + 5;

const clock = new VirtualClock();
const net = new SimNetwork(clock, new Rng(11), { minLatency: 50, maxLatency: 2000 });
const coordinator = sys.spec.boards.find((b) => b.components.some((c) => sys.plan.upgrades.some((u) => u.name === c)))!.node;
const devices: { device: string; payload: string; gen: string }[] = [];
const lat: number[] = [], virt: number[] = [];
let failAt: { t: number; wall: number; cpu: NodeJS.CpuUsage } | null = null;
const cpuLat: number[] = [];
let cycleRecovered = false;
const drops: string[] = [];
const boards = sys.spec.boards.map((b) => new Board({
  name: b.name, node: b.node, transport: net.attach(b.node), spec: sys.spec, coordinator, rules: "safe",
  core: { procs: Math.max(2, b.components.length + sys.plan.upgrades.filter((u) => b.components.includes(u.name)).length) },
  hooks: {
    now: () => clock.now,
    timer: (us, fn) => clock.after(us, fn),
    device(device, payload, from) {
      devices.push({ device, payload: Buffer.from(payload).toString("hex"), gen: from.gen });
      if (failAt && from.gen === "old") {
        lat.push(performance.now() - failAt.wall);
        const c = process.cpuUsage(failAt.cpu);
        cpuLat.push((c.user + c.system) / 1000);
        virt.push((clock.now - failAt.t) / 1000);
        failAt = null;
        cycleRecovered = true;
      }
    },
    event(e) {
      if (e.type === "at-failed" && !failAt && !cycleRecovered) failAt = { t: clock.now, wall: performance.now(), cpu: process.cpuUsage() };
      if (e.type === "drop") drops.push(`${e.board}: ${e.reason}: ${e.detail}`);
    },
  },
}));

// inputs: one step at a time (nothing scheduled ahead), held while an upgrade waits for quiet links
let held = false;
const pending: number[] = [];
const feed = (k: number) => {
  for (const input of sys.inputs) {
    const board = boards.find((b) => sys.spec.wires.some((w) => "device" in w.from && w.from.device === input.device && !("device" in w.to) && b.hosts(w.to.comp)))!;
    board.deviceInput(input.device, input.gen(k));
  }
};
let cycles = 0;
const step = (k: number) => {
  if (k > STEPS) return;
  clock.at(k * PERIOD, () => {
    const c = (k - 1) % CYCLE;
    if (c === 0 && cycles < FAULTS) {
      if (cycles > 0 && !cycleRecovered) fail(`cycle ${cycles}: the fault injected at step ${k - CYCLE + FAULT_AT} was not recovered within ${CYCLE - FAULT_AT} steps`);
      if (boards.some((b) => b.guarded)) fail(`cycle ${cycles}: a board is still in guarded operation`);
      cycleRecovered = false;
      held = true;
      const tryUpgrade = () => {
        if (net.inFlight > 0) { clock.after(50, tryUpgrade); return; }
        for (const b of boards) b.startUpgrade(sys.plan);
        held = false;
        for (const j of pending.splice(0)) feed(j);
      };
      tryUpgrade();
      cycles++;
    }
    if (c === FAULT_AT && cycles <= FAULTS) {
      const comp = cycles % 2 ? "estimator" : "controller";
      const inst = boards.flatMap((b) => b.instances()).find((i) => i.comp === comp && i.gen === "new");
      if (!inst) fail(`cycle ${cycles}: no new version of ${comp} to fault`);
      inst!.app.injectFault!(k);
    }
    if (held) pending.push(k); else feed(k);
    step(k + 1);
  });
};
step(1);
const wall0 = performance.now();
clock.run();
const wallS = (performance.now() - wall0) / 1000;
if (!cycleRecovered) fail(`the last cycle's fault was not recovered`);
if (lat.length !== FAULTS) fail(`${lat.length} recoveries measured for ${FAULTS} faults`);
const recoveries = boards.reduce((s, b) => s + b.stats.recoveries, 0);
if (recoveries !== FAULTS * boards.length) fail(`${recoveries} board recoveries, expected ${FAULTS * boards.length} (${FAULTS} faults x ${boards.length} boards)`);
const unfinished = boards.flatMap((b) => b.unfinished());
if (unfinished.length) fail(`work left when the run ended: ${unfinished[0]}`);

// the devices saw exactly what the old versions alone produce, fault after fault
const ref = runTestbed(sys, { seed: 11, steps: STEPS, reference: true, oracles: false });
for (const dev of new Set(ref.devices.map((d) => d.device))) {
  const a = devices.filter((d) => d.device === dev).map((d) => d.payload), b = ref.devices.filter((d) => d.device === dev).map((d) => d.payload);
  const i = a.findIndex((p, j) => p !== b[j]);
  if (i >= 0 || a.length !== b.length) fail(`device ${dev}: output ${i >= 0 ? i : Math.min(a.length, b.length)} differs from the fault-free reference (${a.length} vs ${b.length} outputs)`);
}

const q = (a: number[], p: number) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!; };
const r = { p50: q(lat, 0.5), p99: q(lat, 0.99), max: Math.max(...lat) };
const v = { p50: q(virt, 0.5), p99: q(virt, 0.99), max: Math.max(...virt) };
const cp = { p50: q(cpuLat, 0.5), p99: q(cpuLat, 0.99), max: Math.max(...cpuLat) };
console.log(`GSU recovery bench: demo system, one testbed reused for ${FAULTS} upgrade-fault-recovery cycles (${STEPS} steps, ${wallS.toFixed(1)} s; node ${process.version})${QUICK ? "  --quick: smoke run, not a measurement" : ""}`);
console.log(`  failed AT -> first old-version output at a device, wall clock: p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, max ${r.max.toFixed(3)} ms   (goal p99 <= 1 ms)`);
console.log(`  the same in CPU time of this process (a loaded machine's preemption left out; GC threads in): p50 ${cp.p50.toFixed(3)} ms, p99 ${cp.p99.toFixed(3)} ms, max ${cp.max.toFixed(3)} ms`);
console.log(`  the same in virtual time (link latency 50..2000 µs): p50 ${v.p50.toFixed(3)} ms, p99 ${v.p99.toFixed(3)} ms, max ${v.max.toFixed(3)} ms`);
console.log(`  first 10 recoveries (cold code): max ${Math.max(...lat.slice(0, 10)).toFixed(3)} ms; the rest: p99 ${q(lat.slice(10), 0.99)?.toFixed(3) ?? "-"} ms, max ${lat.length > 10 ? Math.max(...lat.slice(10)).toFixed(3) : "-"} ms`);
const warm = lat.slice(100);
const W = warm.length ? { p50: q(warm, 0.5), p99: q(warm, 0.99), max: Math.max(...warm) } : undefined;
if (W) console.log(`  after the first 100 cycles (code optimized; V8 tiers a function up after enough calls): p50 ${W.p50.toFixed(3)} ms, p99 ${W.p99.toFixed(3)} ms, max ${W.max.toFixed(3)} ms (${warm.length} recoveries)`);
console.log(`  devices equal the fault-free reference over the whole run; ${drops.length} frames dropped`);
// GSU_BENCH_RESULTS: the repo's bench-results/ when scripts/bench-compiled.ts runs this from a temp tree
const resultsDir = process.env.GSU_BENCH_RESULTS ?? fileURLToPath(new URL("../bench-results/", import.meta.url));
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, QUICK ? "recovery-quick.json" : "recovery.json"),
  `${JSON.stringify({ when: new Date().toISOString(), node: process.version, tree: process.env.GSU_BENCH_TREE ?? "tsx", quick: QUICK, faults: FAULTS, wallMs: r, cpuMs: cp, virtualMs: v, wallMsAfter100: W, all: lat, allCpu: cpuLat }, null, 2)}\n`);
