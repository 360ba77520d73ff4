// The deterministic testbed: several boards in one process over the simulated
// network, a virtual clock, seeded latencies. Same seed, same run.
import { Board, type Instance, type TraceEvent } from "../runtime/board.ts";
import type { SystemSpec, UpgradePlan } from "../runtime/system.ts";
import { commitLogEntry, type RoundOptions } from "../runtime/rounds.ts";
import type { Mark, MarkStore } from "../runtime/output-commit.ts";
import type { CoreConfig, Rules } from "../core/core.ts";
import { VirtualClock } from "./clock.ts";
import { Rng } from "./rng.ts";
import { SimNetwork, type NetworkOptions, type Scheduler } from "./network.ts";
import { untracked } from "./join.ts";
import { Gate, simLinkStack, type LinkStack, type Outstanding, type SimLinkFaults } from "./sim-links.ts";
import { committedSpec } from "./systems.ts";

export interface DeviceInput { device: string; gen(step: number): Uint8Array }

export interface TestbedSystem {
  spec: SystemSpec;
  plan: UpgradePlan;
  inputs: DeviceInput[];
}

export interface RunOptions {
  seed: number;
  steps: number;
  fault?: { comp: string; step: number } | null;
  reference?: boolean;          // old versions only, no upgrade
  rules?: Rules;
  commitAfter?: number;         // passed ATs before an automatic commit
  periodUs?: number;            // virtual time between input steps
  latency?: { min: number; max: number };
  core?: CoreConfig;
  onEvent?: (e: TraceEvent) => void;
  /** Trace every message, checkpoint and device output (for the space-time diagram). */
  detail?: boolean;
  /** Upgrade while the system runs: at the first quiescent instant after this step (0: before any traffic). */
  upgradeAt?: number;
  /** Benchmark baselines: no protocol at all, or guarded operation without shadows. */
  protocol?: boolean;
  shadows?: boolean;
  /** Observes every frame on the simulated links (candump-style recording). */
  tap?: (t: number, src: number, dst: number, frame: Uint8Array) => void;
  /** Observes every frame once as it is sent (candump recordings). */
  sendTap?: (t: number, src: number, dst: number, frame: Uint8Array) => void;
  /** Called once the testbed is built, right before the run (bench:rehearsal samples the run's allocations from here). */
  onRunStart?: () => void;
  /** Exploration (host/sim/explore.ts): the scheduler picks every delivery (per-link FIFO, no latencies, seed unused). */
  scheduler?: Scheduler;
  /** Resend period and timeouts of the coordinator rounds. */
  rounds?: Partial<RoundOptions>;
  /** Link faults: see NetworkOptions.perturb. */
  perturb?: NetworkOptions["perturb"];
  /** Upgrade at --upgrade-at through the boards' own upgrade round (rounds.ts) instead of the testbed's global view of the links. */
  upgradeRound?: boolean;
  /**
   * Faulty links (host/sim/sim-links.ts): every board runs the link layer over a fault
   * injector (loss, duplication, corruption, reordering, partitions). Implies the
   * boards' own upgrade round for --upgrade-at (the testbed cannot see the layer's queues).
   */
  links?: SimLinkFaults;
  /**
   * Boards that crash (everything in memory lost) between step STEP and the next, and
   * restart downSteps steps later (default 5) with their last committed versions, their
   * recovery epoch and a new link-layer incarnation (implies links). `atVote`: instead,
   * right after the board votes ready in a commit vote at or after that step (so it restarts
   * in doubt: rounds.ts inDoubt); the coordinator, which does not vote, right after it decides
   * a commit (it restarts with its commit log: rounds.ts commitLog).
   */
  crashes?: { board: string; step: number; downSteps?: number; atVote?: boolean }[];
  /**
   * False: a passed AT's bound always travels in a passedAt frame of its own (the schedules
   * found before it rode on application frames). Default: it rides (host/runtime/bound-rider.ts).
   */
  ridePassedAt?: boolean;
  /** False: a restarted board has lost what each device got (no device marks on its disk; tests show what that costs). */
  deviceMarks?: boolean;
  /**
   * Benchmarks: false turns the simulation-only checks off (the ground-truth oracles and
   * their taint tracking, frame tags, the detail trace), as on a real board. Default true.
   */
  oracles?: boolean;
  /**
   * Which trace events the result keeps: called with every event and the result's trace
   * (default: push every one). onEvent sees every event either way (gsu rehearse streams
   * its --trace file from it and keeps only what its reports draw: host/cli/trace-stream.ts).
   */
  retain?: (e: TraceEvent, trace: TraceEvent[]) => void;
  /** Sees every delivery to a device as it happens. */
  onDevice?: (d: DeviceRecord) => void;
}

export interface DeviceRecord { t: number; device: string; payload: string; comp: string; gen: string }

export interface ProcReport {
  board: string; comp: string; gen: string; role: string; checkpoints: number; logged: number;
  /** The component version the process runs. */
  version?: string;
  peakBytes: number; rollbackDistance: number; atPassed: number; atFailed: number;
}

export interface RunResult {
  options: RunOptions;
  devices: DeviceRecord[];
  trace: TraceEvent[];
  violations: { kind: string; detail: string }[];
  /** Ground truth: some state derived from the injected fault at some point (the fault took effect). */
  faultActive: boolean;
  /** Every message a board dropped, with its reason (Board.drop). */
  drops: { board: string; reason: string; detail: string }[];
  /** Work some board still held when the run ended (nothing left to move it). */
  unfinished: string[];
  procs: ProcReport[];
  heldAfter: number;            // protocol bytes still held when the run ended
  ended: "commit" | "recovery" | "guarded" | "reference";
  virtualUs: number;
  wallMs: number;
  /** Wall time of the run itself (the virtual clock or the scheduler driving the boards), without building the testbed. */
  runMs?: number;
  /** CPU time of the process during the run itself (every thread: GC included); a loaded machine inflates wall time, not this. */
  runCpuMs?: number;
  recovery?: { virtualUs: number; wallMs: number; atFailedAt: number };
  checkpoints: number;
  /** Bytes the boards wrote into checkpoints (component snapshots and their trailers). */
  checkpointBytes?: number;
  /**
   * With crashes: the steps each crash can lose (ground truth from the links): from the
   * earliest step of an application frame to or from the board still undelivered at the
   * crash, to the step before it restarted.
   */
  /** Per crash as it happened (t: its virtual time, µs; a restart in doubt that adopts a commit is a crash of its own). */
  crashWindows?: { board: string; fromStep: number; toStep: number; t?: number }[];
  /** With faulty links: what the injectors did and what the link layers did about it, summed over the boards. */
  links?: { lost: number; duplicated: number; delayed: number; corrupted: number; cut: number; retransmits: number; duplicatesDropped: number; delivered: number };
  dirtyReceipts: number;
  /** Application frames a passed-AT bound rode in, over every board (host/runtime/bound-rider.ts). */
  ridden: number;
  /** Output buffers the boards' pools had to make, over every board (host/runtime/byte-pool.ts): once warm, none. */
  buffersMade: number;
}

export function runTestbed(sys: TestbedSystem, o: RunOptions): RunResult {
  const wall0 = performance.now();
  const clock = new VirtualClock();
  const rng = new Rng(o.seed);
  const lat = o.latency ?? { min: 50, max: 2000 };
  const net = new SimNetwork(clock, rng, { minLatency: lat.min, maxLatency: lat.max, tap: o.tap, sendTap: o.sendTap, scheduler: o.scheduler, perturb: o.perturb,
    copied: o.oracles === false ? undefined : (sent, copy) => { if (erroneous.has(sent)) erroneous.add(copy); const t = tags.get(sent); if (t !== undefined) tags.set(copy, t); } });
  const devices: DeviceRecord[] = [];
  const trace: TraceEvent[] = [];
  const violations: { kind: string; detail: string }[] = [];
  const erroneous = new WeakSet<Uint8Array>(); // frames whose payload derives from the fault (ground truth)
  const tags = new WeakMap<Uint8Array, string>();
  const drops: RunResult["drops"] = [];
  /** Every trace event, the boards' and the testbed's own (crash, restart): kept as o.retain says, and to o.onEvent. */
  const record = (e: TraceEvent) => { if (o.retain) o.retain(e, trace); else trace.push(e); o.onEvent?.(e); };
  let faultActive = false;
  let failAt: { t: number; wall: number } | null = null;
  let recovery: RunResult["recovery"];
  let roundUpgrade: (() => void) | undefined;
  const coordinator = sys.spec.boards.find((b) => b.components.some((c) => sys.plan.upgrades.some((u) => u.name === c)))?.node
    ?? sys.spec.boards[0].node;

  const period = o.periodUs ?? 10_000;
  const links = o.links ?? (o.crashes?.length ? {} : undefined);
  const stacks: LinkStack[] = [];
  const ports = new Map<number, ReturnType<SimNetwork["attach"]>>();
  const marks = {
    erroneous: (f: Uint8Array) => erroneous.has(f), tag: (f: Uint8Array) => tags.get(f),
    mark: (f: Uint8Array, bad: boolean, tag: string | undefined) => { if (bad) erroneous.add(f); else erroneous.delete(f); if (tag !== undefined) tags.set(f, tag); },
  };
  /** One run of a board: its transport (a gate closed when it crashes) and whether it is alive. */
  const transportOf = (node: number, life: { alive: boolean; gate?: Gate; stack?: LinkStack }, incarnation: number, onPeerRestarted: (n: number) => void) => {
    const port = ports.get(node) ?? ports.set(node, net.attach(node)).get(node)!;
    if (!links) return port;
    life.gate = new Gate(port);
    const st = simLinkStack({ spec: sys.spec, node, coordinator, port: life.gate, clock, faults: links, seed: o.seed * 31 + incarnation - 1, periodUs: period, marks, incarnation, onPeerRestarted,
      outstanding: o.crashes?.length ? outstanding : undefined });
    stacks.push(st);
    life.stack = st;
    return st.transport;
  };
  const viaRound = !!(o.upgradeRound || links);
  const everyBoard: Board[] = [];
  const outstanding: Outstanding = new Map();
  const crashWindows: NonNullable<RunResult["crashWindows"]> = [];
  // what each board keeps on disk across a crash: the last position each device got (output-commit.ts)
  const disks = new Map<number, Map<string, Mark>>();
  const diskOf = (node: number): MarkStore => {
    const d = disks.get(node) ?? disks.set(node, new Map()).get(node)!;
    return { load: () => d.entries(), save: (k, m) => { const x = d.get(k); if (x) { x.step = m.step; x.ord = m.ord; } else d.set(k, { step: m.step, ord: m.ord }); } };
  };

  const voted = new Map<number, number>();
  /** A coordinator's last commit opened, and whether it decided it, on its disk (rounds.ts commitLog). */
  const commitLogs = new Map<number, { n: number; decided: boolean }>();
  /** Boards that committed, on disk (their own commit, or one they adopted after a restart in doubt). */
  const committedOnDisk = new Set<number>();
  let onVote: (node: number) => void = () => {};
  let adopt: (node: number) => void = () => {};
  const makeBoard = (b: SystemSpec["boards"][number], restart?: { epoch: number; incarnation: number; spec: SystemSpec; outcome?: Board["opts"]["outcome"]; inDoubt?: number; commitLog?: Board["opts"]["commitLog"] }): Board => {
    const life: { alive: boolean; gate?: Gate; stack?: LinkStack } = { alive: true };
    let me: Board | undefined;
    const board = new Board({
    name: b.name, node: b.node, transport: transportOf(b.node, life, restart?.incarnation ?? 1, (n) => {
      // until every peer has seen the restart, what it sent to the board's previous run is lost
      const name = sys.spec.boards.find((y) => y.node === n)?.name;
      const w = [...crashWindows].reverse().find((x) => x.board === name);
      if (w) w.toStep = Math.max(w.toStep, Math.floor(clock.now / period) + 1);
      me?.peerRestarted(n);
    }), spec: restart?.spec ?? sys.spec, coordinator,
    restarted: !!restart, epoch: restart?.epoch, outcome: restart?.outcome, inDoubt: restart?.inDoubt, commitLog: restart?.commitLog, deviceMarks: o.deviceMarks === false ? undefined : diskOf(b.node),
    // procs: one per component plus one per new version this board will host (the board's
    // default, two per component, covers any plan; the cores' arenas are most of a short
    // run's cost). Same pids, same behaviour.
    rules: o.rules ?? "safe", protocol: o.protocol, shadows: o.shadows, ridePassedAt: o.ridePassedAt,
    core: { procs: Math.max(2, b.components.length + sys.plan.upgrades.filter((u) => b.components.includes(u.name)).length), ...o.core },
    commit: o.commitAfter ? { afterPassed: o.commitAfter } : undefined,
    rounds: o.rounds,
    hooks: {
      now: () => clock.now,
      // the explorer schedules every delivery itself: no timers (nothing is resent)
      timer: o.scheduler ? undefined : (us, fn) => clock.after(us, () => { if (life.alive) fn(); }),
      detail: o.oracles === false ? false : o.detail,
      // as on a board with no one reading the event stream: passed ATs counted, not traced
      passedAtEvents: o.oracles !== false,
      frameTag: o.oracles === false ? undefined : { get: (f) => tags.get(f), set: (f, id) => { tags.set(f, id); } },
      device(device, payload, from: Instance) {
        const d: DeviceRecord = { t: clock.now, device, payload: Buffer.from(payload).toString("hex"), comp: from.comp, gen: from.gen };
        devices.push(d);
        o.onDevice?.(d);
        if (failAt && !recovery && from.gen === "old") {
          recovery = { virtualUs: clock.now - failAt.t, wallMs: performance.now() - failAt.wall, atFailedAt: failAt.t };
        }
      },
      event(e) {
        if (e.type === "upgrade" && roundUpgrade) roundUpgrade();
        // what a board keeps on disk: the commit it voted for (until it learns the outcome)
        if (e.type === "commit-voted") { voted.set(b.node, e.n as number); onVote(b.node); }
        if (e.type === "commit-decided") onVote(b.node);
        const log = commitLogEntry(e);
        if (log) commitLogs.set(b.node, log);
        if (e.type === "commit" || e.type === "commit-after-restart" || e.type === "commit-vote-void") voted.delete(b.node);
        if (e.type === "commit-adopt") clock.at(clock.now, () => adopt(b.node));
        if (e.type === "at-failed" && !failAt) failAt = { t: clock.now, wall: performance.now() };
        if (e.type === "drop") drops.push({ board: e.board, reason: e.reason as string, detail: e.detail as string });
        record(e);
      },
      oracle: o.oracles === false ? undefined : {
        isErroneous: (f) => erroneous.has(f),
        setErroneous: (f, bad) => { if (bad) erroneous.add(f); else erroneous.delete(f); }, // frames in reused buffers are marked each time
        violation: (kind, detail) => violations.push({ kind, detail }),
        faultActive: () => { faultActive = true; },
      },
    },
    });
    me = board;
    everyBoard.push(board);
    lives.set(board, life);
    return board;
  };
  const lives = new Map<Board, { alive: boolean; gate?: Gate; stack?: LinkStack }>();
  const boards: Board[] = sys.spec.boards.map((b) => makeBoard(b));

  // Crashes: the board's run ends (its frames stop both ways, its timers die, device
  // inputs to it are lost); it restarts later with what a board keeps on disk: its
  // committed versions and its recovery epoch; a new link-layer incarnation.
  const down = new Set<number>();
  const newSpec = committedSpec(sys);
  const crash = (bi: number, step: number, downSteps: number) => {
    if (down.has(bi)) return;
    const old = boards[bi];
    const life = lives.get(old)!;
    life.alive = false;
    if (life.gate) life.gate.open = false;
    life.stack?.layer.stop(); // its timers die with it
    down.add(bi);
    if (old.stats.commits > 0) committedOnDisk.add(old.node);
    let from = step + 1;
    for (const [k, f] of outstanding) if (f.src === old.node || f.dst === old.node) { if (f.step >= 0) from = Math.min(from, f.step); outstanding.delete(k); }
    crashWindows.push({ board: old.name, fromStep: from, toStep: Math.max(step + downSteps, Math.floor(clock.now / period) + 1), t: clock.now });
    record({ type: "crash", t: clock.now, board: old.name, guarded: old.guarded } as unknown as TraceEvent);
    clock.at(clock.now + downSteps * period, () => restart(bi, old));
  };
  const restart = (bi: number, old: Board) => {
    const committed = committedOnDisk.has(old.node);
    const incarnation = everyBoard.filter((b) => b.node === old.node).length + 1;
    // (a coordinator's last round outcome is written when it applies, like the epoch)
    boards[bi] = makeBoard(sys.spec.boards[bi], { epoch: old.epoch, incarnation, spec: committed ? newSpec : sys.spec, outcome: old.rounds.lastOutcome ?? undefined, inDoubt: committed ? undefined : voted.get(old.node), commitLog: commitLogs.get(old.node) });
    down.delete(bi);
    record({ type: "restart", t: clock.now, board: old.name, epoch: old.epoch, incarnation } as unknown as TraceEvent);
  };
  // A board that restarted in doubt and hears its vote was committed: it records the commit
  // on its disk and restarts into the committed versions at once (rounds.ts "commit-adopt").
  adopt = (node) => {
    const bi = sys.spec.boards.findIndex((b) => b.node === node);
    if (bi < 0 || down.has(bi)) return;
    committedOnDisk.add(node);
    voted.delete(node);
    crash(bi, Math.floor(clock.now / period), 0);
  };
  for (const c of o.crashes ?? []) {
    const bi = sys.spec.boards.findIndex((b) => b.name === c.board);
    if (bi < 0) throw new Error(`crash: the system has no board '${c.board}' (boards: ${sys.spec.boards.map((b) => b.name).join(", ")})`);
    if (c.atVote) {
      const prev = onVote;
      let done = false;
      onVote = (node) => {
        prev(node);
        // after the vote has left (the READY is sent in the same turn as the event)
        if (!done && node === sys.spec.boards[bi].node && clock.now >= c.step * period) { done = true; clock.at(clock.now, () => crash(bi, Math.floor(clock.now / period), c.downSteps ?? 5)); }
      };
    } else clock.at(c.step * period + period / 2, () => crash(bi, c.step, c.downSteps ?? 5));
  }

  let upgraded = !!o.reference || !o.upgradeAt;
  const paused: (() => void)[] = [];
  let faultArmed = false;
  const armFault = () => {
    if (o.fault && !faultArmed) {
      faultArmed = true;
      const inst = boards.flatMap((b) => b.instances()).find((i) => i.comp === o.fault!.comp && i.gen === "new");
      if (!inst) throw new Error(`--fault names '${o.fault.comp}', which is not in the upgrade's cluster (${sys.plan.upgrades.map((u) => u.name).join(", ")})`);
      if (!inst.app.injectFault) throw new Error(`${inst.comp}@${inst.version.version} has no fault-injection hook`);
      if (!inst.app.erroneous) {
        // no ground-truth hook: the fallback oracle runs a fault-free twin of this instance in
        // lockstep (an exact copy of its state, without the fault armed); where their outputs
        // differ the fault has taken effect
        const out: { port: number; bytes: Uint8Array }[] = [];
        const twin = inst.version.create((port, bytes) => out.push({ port, bytes: bytes.slice() }));
        const snap = new Uint8Array(inst.app.snapshotSize());
        twin.restoreFrom(snap.subarray(0, inst.app.snapshotInto(snap)));
        inst.twin = { app: twin, out };
      }
      inst.app.injectFault(o.fault.step);
    }
  };
  const upgrade = () => {
    upgraded = true;
    for (const b of boards) b.startUpgrade(sys.plan);
    armFault();
    for (const f of paused.splice(0)) f(); // resume the inputs held while quiescing
  };
  if (viaRound && o.upgradeAt && !o.reference) {
    // The boards' own upgrade round: the testbed only tells every board the plan and
    // the coordinator when to start; the boards hold their inputs and find the
    // quiescent point themselves. The fault is armed once the round has started
    // guarded operation everywhere.
    upgraded = true;
    clock.at(o.upgradeAt * period + period / 2, () => {
      // the plan goes to the boards that host an upgraded component; the others learn the
      // cluster from the coordinator's START (as board daemons that were sent no plan)
      for (const b of boards) if (b.node !== coordinator && sys.plan.upgrades.some((u) => b.hosts(u.name))) b.upgradeWhenQuiet(sys.plan);
      boards.find((b) => b.node === coordinator)!.upgradeWhenQuiet(sys.plan);
    });
    roundUpgrade = () => { if (boards.every((b) => b.guarded || b.stats.commits || b.stats.recoveries)) armFault(); };
  }
  if (!o.reference && !(viaRound && o.upgradeAt)) {
    if (!o.upgradeAt) upgrade();
    else {
      // While the system runs, at a quiescent point: the inputs after STEP are held,
      // the links drain, the upgraded components' state is transferred (a message in
      // flight would reach only one version), then the inputs resume.
      const tryUpgrade = () => { if (net.inFlight > 0) clock.after(50, tryUpgrade); else upgrade(); };
      clock.at(o.upgradeAt * period + period / 2, tryUpgrade);
    }
  }
  for (const input of sys.inputs) {
    const bi = boards.findIndex((b) => sys.spec.wires.some((w) => "device" in w.from && w.from.device === input.device && !("device" in w.to) && b.hosts(w.to.comp)));
    if (bi < 0) throw new Error(`no board hosts the component that device '${input.device}' feeds`);
    for (let k = 1; k <= o.steps; k++) {
      // an input to a board that is down is lost (its process is not there to read it)
      const feed = () => { if (!down.has(bi)) boards[bi].deviceInput(input.device, input.gen(k)); };
      clock.at(k * period, () => (!upgraded && k > (o.upgradeAt ?? 0) ? paused.push(feed) : feed()));
    }
  }
  untracked.length = 0;
  o.onRunStart?.();
  const run0 = performance.now(), cpu0 = process.cpuUsage();
  if (o.scheduler) net.drive(boards); else clock.run();
  const runMs = performance.now() - run0;
  const cpu1 = process.cpuUsage(cpu0), runCpuMs = (cpu1.user + cpu1.system) / 1000;
  for (const u of untracked.splice(0)) violations.push({ kind: "oracle-inconsistent", detail: `${u} with no taint behind it: the ground-truth taint was lost on the way` });

  const procs: ProcReport[] = [];
  let checkpoints = 0;
  for (const b of boards) {
    for (let pid = 0; pid < b.core.config.procs; pid++) {
      const role = b.core.role(pid);
      if (role === "free") continue;
      const inst = (b as unknown as { inst: Instance[] }).inst[pid];
      procs.push({
        board: b.name, comp: inst?.comp ?? `#${pid}`, gen: inst?.gen ?? "?", role,
        checkpoints: b.core.q(pid, "ckptsTaken"), logged: b.core.q(pid, "logged"), peakBytes: b.core.q(pid, "peak"),
        version: inst?.version.version,
        rollbackDistance: b.core.q(pid, "lastRollback"), atPassed: b.core.q(pid, "atPassed"), atFailed: b.core.q(pid, "atFailed"),
      });
      checkpoints += b.core.q(pid, "ckptsTaken");
    }
  }
  const ended = o.reference ? "reference" : everyBoard.some((b) => b.stats.recoveries) ? "recovery" : everyBoard.some((b) => b.stats.commits) ? "commit" : "guarded";
  return {
    options: o, devices, trace, violations, procs, faultActive, drops,
    unfinished: boards.flatMap((b) => b.unfinished().map((u) => `${b.name}: ${u}`)),
    heldAfter: boards.reduce((s, b) => s + b.core.heldBytes(), 0),
    ended, virtualUs: clock.now, wallMs: performance.now() - wall0, runMs, runCpuMs, recovery, checkpoints,
    dirtyReceipts: boards.reduce((s, b) => s + b.stats.dirtyReceipts, 0),
    ridden: everyBoard.reduce((s, b) => s + b.stats.ridden, 0),
    buffersMade: everyBoard.reduce((s, b) => s + b.bytePool.made, 0) + stacks.reduce((s, st) => s + st.layer.buffersMade, 0),
    checkpointBytes: boards.reduce((s, b) => s + b.stats.checkpointBytes, 0),
    crashWindows: o.crashes?.length ? crashWindows : undefined,
    links: links ? stacks.reduce((a, st) => {
      const f = st.faults(), l = st.layerStats();
      return { lost: a.lost + f.lost, duplicated: a.duplicated + f.duplicated, delayed: a.delayed + f.delayed, corrupted: a.corrupted + f.corrupted, cut: a.cut + f.cut,
        retransmits: a.retransmits + l.retransmits + l.fastRetransmits, duplicatesDropped: a.duplicatesDropped + l.duplicates, delivered: a.delivered + l.delivered };
    }, { lost: 0, duplicated: 0, delayed: 0, corrupted: 0, cut: 0, retransmits: 0, duplicatesDropped: 0, delivered: 0 }) : undefined,
  };
}

/**
 * Device outputs of a run and of its reference grouped per device, or per device and
 * feeder where the reference has several feeders (their order depends on the schedule).
 */
export function groupByFeeder(run: DeviceRecord[], ref: DeviceRecord[]): { a: Map<string, DeviceRecord[]>; b: Map<string, DeviceRecord[]> } {
  const feeders = new Map<string, Set<string>>();
  for (const r of ref) (feeders.get(r.device) ?? feeders.set(r.device, new Set()).get(r.device)!).add(r.comp);
  const key = (r: DeviceRecord) => ((feeders.get(r.device)?.size ?? 1) > 1 ? `${r.device}/${r.comp}` : r.device);
  const group = (rs: DeviceRecord[]) => {
    const m = new Map<string, DeviceRecord[]>();
    for (const r of rs) { const k = key(r); (m.get(k) ?? m.set(k, []).get(k)!).push(r); }
    return m;
  };
  return { a: group(run), b: group(ref) };
}

/**
 * Device equivalence: each device's sequence equals the reference's exactly. A device fed
 * by several components is compared per feeder: the order between feeders depends on
 * the schedule even in the reference run.
 */
export function compareDevices(run: DeviceRecord[], ref: DeviceRecord[]): string[] {
  const diffs: string[] = [];
  const { a, b } = groupByFeeder(run, ref);
  for (const dev of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(dev) ?? [], y = b.get(dev) ?? [];
    const n = Math.max(x.length, y.length);
    for (let i = 0; i < n; i++) {
      if (x[i]?.payload !== y[i]?.payload) {
        diffs.push(`${dev}[${i}]: got ${x[i] ? `${x[i].payload} from ${x[i].comp}(${x[i].gen})` : "nothing"}, reference ${y[i]?.payload ?? "nothing"}`);
        if (diffs.length > 20) return diffs;
      }
    }
  }
  return diffs;
}
