// A board: hosts component instances, asks the protocol core what to do on every
// message event, and carries out the effects (raft's RawNode shape: the core
// decides, the board acts). The same code runs on the simulated testbed and on
// real links; it only sees the Transport interface.
import { Core, CoreError, trimVec, VECTOR_MAX, wide, type CoreEffect, type CoreEvent } from "../core/core.ts";
import { DROP_REASON, FX, HK, KIND, LOG_NAME, type Kind } from "../core/abi.ts";
import { runReceipts, type LeanRun } from "./recv-path.ts";

import type { Header } from "../core/types.ts";
import type { App, ComponentVersion, PortSpec } from "./app.ts";
import { APP_FRAME_MAX_OVERHEAD, FLAG_OLD, FLAG_VEC, decodeFrame, encodeApp, encodeAppInto, FrameError } from "./frame.ts";
import { newSendRun, runSends, type SendRun } from "./send-path.ts";
import { Rounds, splitControl, type Counts } from "./rounds.ts";
import { computeCluster, isDevice, PlanError, type UpgradePlan, type Wire } from "./system.ts";
import { OutputCommit } from "./output-commit.ts";
import { Outbox, OutQueue, type Outgoing } from "./outbox.ts";
import { BytePool, copyBytes, FrameBuf } from "./byte-pool.ts";
import { restoreSnapshot, snapshotBytes, SnapshotWriter } from "./snapshot.ts";
import { BROADCAST } from "../transport/types.ts";
import { BoundRider } from "./bound-rider.ts";
import { boundLength, carriesBound, payloadAt, splitBound, withBound, writeUnbound } from "./route.ts";

export { FLAG_NEW, stepOf, type BoardHooks, type BoardOptions, type CommitPolicy, type Gen, type Instance, type TraceEvent } from "./board-types.ts";
import { FLAG_NEW, stepOf, type BoardOptions, type Gen, type Instance } from "./board-types.ts";

const HK_APP = HK.app, HK_PASSED = HK.passedAt;

const isFull = (e: unknown): boolean =>
  e instanceof CoreError && (e.code === "E_CKPT_FULL" || e.code === "E_LOG_FULL"); // sent by a cluster member's new version during guarded operation

const EMPTY = new Uint8Array(0);


export class Board {
  readonly core: Core;
  readonly name: string;
  readonly node: number;
  private inst: Instance[] = [];
  private byComp = new Map<string, { cur: Instance; low?: Instance; old?: Instance }>();
  private cluster = new Set<string>();
  /** The cluster in the plan's order: member slot j is entry j - 1 (docs/protocol.md point 4). Kept after the operation ends, for frames in flight. */
  private clusterOrder: string[] = [];
  guarded = false;
  private recovering = false;
  /** A checkpoint arena or log filled: everything waits for the abort round. */
  private stalled = false;
  private held: (() => void)[] = [];
  /** Buffers for the components' outputs, reused (byte-pool.ts). */
  readonly bytePool = new BytePool();
  private readonly out = new Outbox(this.bytePool);
  /** The outputs not yet sent (outbox.ts). */
  private get outbox(): OutQueue { return this.out.queue; }
  private busy = false;
  /** A passed AT's bound waiting to ride on the batch's next application frame to each peer (null: it never rides). */
  private readonly rider: BoundRider | null;
  epoch = 0;
  /** The coordinator rounds: recovery, two-phase commit, the upgrade round (rounds.ts). */
  readonly rounds: Rounds;
  /** Held by a commit vote (everything) or an upgrade round (device inputs) until it ends. */
  private pausedAll = false;
  private pausedInputs = false;
  /** The upgraded components of the guarded operation and their new versions, hosted here or not. */
  private upgraded = new Map<string, string>();
  /** The last position given to each device from each component port (toDevice). */
  private readonly output: OutputCommit;
  /** The plan the upgrade round starts (upgradeWhenQuiet). */
  private plannedUpgrade: UpgradePlan | null = null;
  /** Application frames sent to and received from each board (the upgrade round's quiescence check). */
  private frameCounts: Counts = new Map();
  /** Frames from an epoch this board has not reached, until the round's outcome arrives (or the coordinator says there is none). */
  private aheadHeld: { src: number; frame: Uint8Array }[] = [];
  // coordinator state
  private passedSeen = 0;
  private guardStart = 0;
  private commitSent = false;
  readonly stats = { dirtyReceipts: 0, recoveries: 0, commits: 0, atPassed: 0, atFailed: 0, dropped: {} as Record<string, number>, maxRollback: 0, checkpoints: 0, checkpointBytes: 0, logged: 0, peakHeld: 0, ridden: 0 };

  constructor(readonly opts: BoardOptions) {
    this.name = opts.name;
    this.node = opts.node;
    this.nodeOf = new Map(opts.spec.boards.flatMap((b) => b.components.map((c) => [c, b.node] as const)));
    const mine = opts.spec.boards.find((b) => b.node === opts.node);
    if (!mine) throw new Error(`board '${opts.name}': node ${opts.node} is not in the system's board list`);
    this.core = new Core({ procs: Math.max(2, mine.components.length * 2), ...opts.core, rules: opts.rules });
    this.output = new OutputCommit(opts.deviceMarks);
    this.rider = (opts.ridePassedAt ?? !opts.transport.broadcastsOnce)
      ? new BoundRider(opts.spec.boards.map((b) => b.node).filter((n) => n !== opts.node), (dst, f) => opts.transport.send(dst, f))
      : null;
    if (opts.epoch) { this.core.resumeEpoch(opts.epoch); this.epoch = opts.epoch; }
    for (const c of mine.components) {
      const i = this.spawn(c, opts.spec.components[c], "base");
      this.core.setRole(i.pid, "ha");
      this.byComp.set(c, { cur: i });
    }
    const self = this;
    const allBoards = opts.spec.boards.map((b) => b.node);
    this.rounds = new Rounds({
      node: opts.node, coordinator: opts.coordinator, boards: allBoards,
      get required() {
        // Under safe and folded only the cluster's ATs validate, and the cluster's boards
        // count every pass before they announce it: their bounds are the maximum.
        if (opts.rules === "paper") return allBoards;
        // a coordinator restarted outside guarded operation does not know the cluster: it
        // cannot tell which boards made passes, so it waits for every board's bound
        if (self.cluster.size === 0 && opts.restarted) return allBoards;
        const on = new Set([opts.coordinator]);
        for (const b of opts.spec.boards) if (b.components.some((c) => self.cluster.has(c))) on.add(b.node);
        return [...on];
      },
      now: () => opts.hooks.now(),
      timer: opts.hooks.timer,
      header: (h) => this.core.encodeHeader(h),
      send: (dst, f) => this.sendAlone(dst, f),
      epoch: () => this.epoch,
      guarded: () => this.guarded,
      restarted: () => !!opts.restarted && !this.guarded && !this.recovering,
      inDoubt: () => (opts.restarted && opts.inDoubt !== undefined ? opts.inDoubt : -1),
      commitLog: () => (opts.restarted ? opts.commitLog : undefined),
      recovering: () => this.recovering,
      beginLocal: (next) => this.beginLocal(next),
      applyLocal: (V, Vext, next) => this.applyLocal(V, Vext, next),
      commitBlocker: () => this.commitBlocker(),
      commitLocal: () => this.commitLocal(),
      pause: (what, why) => this.pause(what, why),
      resume: (what, why) => this.resume(what, why),
      counts: () => this.frameCounts,
      startUpgrade: (cluster) => {
        // The coordinator's START names the cluster, an upgraded member as name@version.
        const entries = (cluster ?? []).map((e) => e.split("@"));
        const versions = new Map(entries.filter((e) => e.length === 2).map(([n, v]) => [n, v]));
        if (this.plannedUpgrade) { const plan = this.plannedUpgrade; this.plannedUpgrade = null; this.startUpgrade(plan, undefined, versions); return true; }
        // No plan here: a board that hosts none of the cluster needs only its names (which
        // messages are the cluster's); one that hosts a member waits for its plan.
        const names = entries.map((e) => e[0]);
        const mine = names.filter((c) => this.byComp.has(c));
        if (!names.length || mine.length) {
          this.trace("upgrade-waiting", { why: mine.length ? `this board hosts ${mine.join(", ")} of the cluster and has not been given the upgrade plan` : "the coordinator named no cluster" });
          return false;
        }
        this.startUpgrade({ upgrades: [] }, names, versions);
        return true;
      },
      clusterNames: () => [...this.cluster].map((n) => (this.upgraded.has(n) ? `${n}@${this.upgraded.get(n)}` : n)),
      dropAhead: (why) => {
        // only the frames that claim an epoch ahead; others held behind them (onFrame) run as usual
        const rest: { src: number; frame: Uint8Array }[] = [];
        for (const a of this.aheadHeld.splice(0)) {
          let ahead = false;
          try { const h = this.core.decodeHeader(a.frame); ahead = h.kind === "app" && this.isAhead(h.epoch); } catch { /* counted when it runs */ }
          if (ahead) this.drop("future-epoch", `from node ${a.src}: ${why}; a frame claiming a newer epoch was forged or corrupted`);
          else rest.push(a);
        }
        for (const a of rest) this.held.push(() => this.onFrame(a.src, a.frame));
        if (rest.length && !this.recovering && !this.stalled && !this.pausedAll) this.release();
      },
      trace: (type, extra) => this.trace(type, extra ?? {}),
    }, opts.rounds);
    if (opts.outcome) this.rounds.resumeOutcome(opts.outcome);
    opts.transport.onFrame((src, frame) => this.onFrame(src, frame));
  }

  private sent = 0;
  private currentFrame: string | undefined;
  private detail(type: string, extra: () => Record<string, unknown>): void {
    if (this.opts.hooks.detail) this.trace(type, extra());
  }
  private trace(type: string, extra: Record<string, unknown> = {}): void {
    this.opts.hooks.event?.({ t: this.opts.hooks.now(), board: this.name, type, ...extra });
  }

  private spawn(comp: string, version: ComponentVersion, gen: Gen): Instance {
    const pid = this.inst.findIndex((i) => !i.live);
    const slot = pid >= 0 ? pid : this.inst.length;
    const inst: Instance = {
      pid: slot, comp, version, gen, live: true, erroneous: false, steps: new Map(), outPos: new Map(),
      app: undefined as unknown as App,
    };
    let owned = false; // set once the app exists: whether its outputs need the board's copy (App.outputsOwned)
    inst.app = version.create((port, bytes, bad) => {
      this.out.emit(inst, port, bytes, owned, inst.app.erroneous ? bad === true : inst.erroneous);
    }, this.bytePool);
    owned = inst.app.outputsOwned === true;
    this.inst[slot] = inst;
    this.book.delete(slot);
    return inst;
  }

  instances(): Instance[] { return this.inst.filter((i) => i.live); }

  /** True once this board has handled a message: an upgrade then needs state transfer. */
  private started = false;

  /**
   * An upgrade while the system runs: the new version starts from the old one's
   * application state (its manifest-level state transfer). Call it at a quiescent
   * point (no cluster message in flight), as the testbed does.
   */
  private transferState(from: Instance, to: Instance): void {
    if (!from.app.saveState || !to.app.loadState) {
      throw new PlanError(`${to.comp}@${to.version.version}: upgrading while the system runs needs state transfer, and ${from.app.saveState ? to.comp + "@" + to.version.version : from.comp + "@" + from.version.version} has none (gsu_state_save / gsu_state_load)`);
    }
    to.app.loadState(from.app.saveState());
    // the step oracle follows the ports by name: numbers differ between versions
    for (const [port, step] of from.steps) {
      const name = from.version.ports.find((p) => p.port === port && p.dir === "in")?.name;
      const np = to.version.ports.find((p) => p.name === name && p.dir === "in");
      if (np) to.steps.set(np.port, step);
    }
    for (const [port, pos] of from.outPos) {
      const name = from.version.ports.find((p) => p.port === port && p.dir === "out")?.name;
      const np = to.version.ports.find((p) => p.name === name && p.dir === "out");
      if (np) to.outPos.set(np.port, { step: pos.step, ord: pos.ord }); // its own: marks change in place (outbox.ts)
    }
    to.erroneous = from.erroneous;
  }
  hosts(comp: string): boolean { return this.byComp.has(comp); }
  /** The upgraded components of the current (or last) guarded operation and their new versions, on any board. */
  upgradedVersions(): ReadonlyMap<string, string> { return this.upgraded; }

  // ---- upgrade, commit -----------------------------------------------------------------
  /** Starts guarded operation. Every board gets the same plan at the same logical instant. */
  startUpgrade(plan: UpgradePlan, clusterOf?: string[], versions?: ReadonlyMap<string, string>): void {
    // clusterOf: a board that hosts none of the cluster starts with the names the upgrade round gives it
    const cluster = clusterOf ?? computeCluster(this.opts.spec, plan);
    if (this.opts.rules === "paper") {
      // The printed rules need the one shared counter, which only co-location gives (docs/protocol.md point 4).
      const on = this.opts.spec.boards.filter((b) => b.components.some((c) => cluster.includes(c))).map((b) => b.name);
      if (on.length > 1) throw new PlanError(`the cluster {${cluster.join(", ")}} spans boards ${on.join(", ")}; the printed rules (--rules paper) keep one shared counter on one board: place the cluster's components together or use --rules safe or folded`);
    }
    this.cluster = new Set(cluster);
    this.clusterOrder = [...cluster];
    this.upgraded = new Map([...(versions ?? []), ...plan.upgrades.map((u) => [u.name, u.version] as [string, string])]);
    for (const u of plan.upgrades) {
      const e = this.byComp.get(u.name);
      if (!e) continue;
      const low = this.spawn(u.name, u, "new");
      if (this.started) this.transferState(e.cur, low);
      e.cur.gen = "old";
      if (this.opts.shadows === false) {
        e.cur.live = false;
        this.core.setRole(e.cur.pid, "free");
        e.cur = low;
      } else e.old = e.cur;
      e.low = low;
    }
    for (const i of this.instances()) {
      this.core.setRole(i.pid, i.gen === "new" ? "low" : i.gen === "old" ? "hs" : "ha");
    }
    for (const e of this.byComp.values()) if (e.low && e.old) this.core.setTwin(e.old.pid, e.low.pid);
    for (const [c, e] of this.byComp) if (e.low && this.clusterOrder.includes(c)) this.core.setSlot(e.low.pid, this.clusterOrder.indexOf(c) + 1);
    this.core.beginGuarded();
    this.guarded = true;
    this.guardStart = this.opts.hooks.now();
    this.passedSeen = 0;
    this.commitSent = false;
    this.trace("upgrade", { cluster });
  }

  /**
   * Upgrade at a quiescent point on running boards (issue 9): every board is given the
   * plan; the coordinator runs the upgrade round (rounds.ts), which holds the device
   * inputs, waits until no application frame is on any link, starts guarded operation
   * on every board (state transfer) and then resumes the inputs. False if the
   * coordinator cannot start it now (guarded operation already runs).
   */
  upgradeWhenQuiet(plan: UpgradePlan): boolean {
    computeCluster(this.opts.spec, plan); // refuse a bad plan here, not in the middle of the round
    this.plannedUpgrade = plan;
    return this.node === this.opts.coordinator ? this.rounds.startUpgradeRound() : true;
  }

  private pause(what: "all" | "inputs", why: string): void {
    if (what === "all") this.pausedAll = true; else this.pausedInputs = true;
    this.trace("pause", { what, why });
  }
  private resume(what: "all" | "inputs", why: string): void {
    if (what === "all") { if (!this.pausedAll) return; this.pausedAll = false; } else { if (!this.pausedInputs) return; this.pausedInputs = false; }
    this.trace("resume", { what, why });
    this.release();
  }
  /** Runs what was held, in order; whatever is still blocked holds itself again. */
  private release(): void {
    const held = this.held;
    this.held = [];
    for (const a of this.aheadHeld.splice(0)) held.push(() => this.onFrame(a.src, a.frame));
    for (const f of held) f();
    this.checkErroneous();
  }

  /** Any frame but an application frame: a passed-AT bound still waiting to ride goes first, alone. */
  private sendAlone(dst: number, frame: Uint8Array): void {
    this.rider?.flush();
    this.opts.transport.send(dst, frame);
  }

  // ---- inbound -------------------------------------------------------------------------
  onFrame(src: number, frame: Uint8Array): void {
    if (carriesBound(frame)) { this.onRidden(src, frame); return; }
    if (this.recovering || this.stalled || this.pausedAll) {
      // Only the rounds' own frames run now; the rest waits for apply, which
      // classifies what was sent before the recovery (stale epoch), or for the end of the vote.
      let round = true;
      try { round = ["begin", "bound", "apply", "control"].includes(this.core.decodeHeader(frame).kind); } catch { /* counted below */ }
      // behind frames held from an epoch this board had not reached (aheadHeld), in arrival
      // order: release() runs those after this.held, and one sender's frames must stay in order
      if (!round) { if (this.aheadHeld.length) this.aheadHeld.push({ src, frame: this.own(frame) }); else this.holdFrame(src, frame); return; }
    }
    const k0 = frame.length > 0 ? frame[0] >> 5 : -1;
    if (k0 === HK_PASSED && this.onPassedAtFrame(src, frame)) return;
    if (k0 === HK_APP && this.onAppFrame(src, frame)) return;
    let d;
    try {
      d = decodeFrame(this.core, frame);
    } catch (e) {
      if (e instanceof FrameError) { this.drop("malformed-header", e.message); return; }
      throw e;
    }
    const h = d.header;
    try {
      switch (h.kind) {
        case "app": return this.onApp(src, h.dirty, h.index, h.epoch, h.vec, d.body, 0, 2, frame);
        case "passedAt": return this.onPassedAt(h.index, h.aux ?? 0, h.epoch, h.P, h.Q);
        case "begin": return this.rounds.onBegin(src, h.index);
        case "bound": return this.rounds.onBound(src, h.P ?? [h.index], h.Q ?? [h.aux ?? 0], h.epoch);
        case "apply": return this.rounds.onApply(src, h.P ?? [h.index], h.Q ?? [h.aux ?? 0], h.epoch);
        case "control": {
          const c = splitControl(h.index);
          if (this.rounds.onControl(src, c.op, c.arg, d.body)) return;
          this.drop("unknown-control", `control op ${c.op} from node ${src}`);
          return;
        }
      }
    } catch (e) {
      this.refusedFrame(e, src);
      return;
    }
    this.drop("unknown-frame", `header kind ${h.kind}`);
  }

  /**
   * An application frame with a passed-AT bound riding in it: the two frames it stands for,
   * in the order they were sent (docs/wire.md, "A passed-AT bound riding"), each on its own
   * path (held, dropped or refused as it would be alone). The simulator's marks follow the
   * application frame.
   */
  // The two parts are copied into buffers the board reuses (rxBound, rxApp: no frame per
  // rider); a part that is held for later is copied out (own). A rider inside a rider's
  // handling (no transport delivers synchronously; for safety) takes splitBound's new frames.
  private readonly rxBound = new FrameBuf(256);
  private readonly rxApp = new FrameBuf(512);
  private splitting = false;
  private onRidden(src: number, frame: Uint8Array): void {
    let bound: Uint8Array, app: Uint8Array;
    const p = payloadAt(frame), n = p < 0 ? -1 : boundLength(frame, p);
    if (n < 0 || this.splitting) {
      const s = splitBound(frame);
      if (typeof s === "string") { this.drop("malformed-header", `from node ${src}: ${s}`); return; }
      bound = s.bound; app = s.app;
    } else {
      copyBytes(this.rxBound.room(n), 0, frame, p, n);
      writeUnbound(frame, p, n, this.rxApp.room(frame.length - n));
      bound = this.rxBound.view(n); app = this.rxApp.view(frame.length - n);
    }
    const { oracle, frameTag } = this.opts.hooks;
    // the marks follow the application frame (set each time: the views are reused)
    if (oracle) oracle.setErroneous(app, oracle.isErroneous(frame));
    if (frameTag) frameTag.set(app, frameTag.get(frame) ?? "");
    const was = this.splitting;
    this.splitting = true;
    try {
      this.onFrame(src, bound);
      this.onFrame(src, app);
    } finally { this.splitting = was; }
  }

  /**
   * A frame the core refuses (an epoch from the future, a role that cannot send it, a
   * bound below what this board knows) is a remote fault: count it, drop it, keep running.
   * Anything else is a bug and propagates.
   */
  private refusedFrame(e: unknown, src: number): void {
    if (e instanceof CoreError) { this.drop(`refused:${e.code}`, `from node ${src}: ${e.message}`); return; }
    throw e;
  }

  /**
   * An application frame (most frames), the vector form too: its header's fields are read
   * where the core decoded them, the route and payload from the frame itself at their
   * offsets: no header, frame or body object per message. A header or vector the core
   * cannot decode is dropped as decodeFrame's FrameError is. False when the core's decoding
   * says it is not an application frame after all (the general path takes it).
   */
  private readonly rxVec: number[] = new Array<number>(VECTOR_MAX).fill(0);
  private readonly memberVec: number[] = new Array<number>(VECTOR_MAX).fill(0);
  private onAppFrame(src: number, frame: Uint8Array): boolean {
    const core = this.core;
    let n: number, dirty: number, index: number, epoch: number, pOff: number, vec: number[] | undefined;
    try {
      n = core.decodeHeaderFields(frame);
      if (core.hdrWord(0) !== HK_APP) return false;
      dirty = core.hdrWord(1); index = core.hdrWord(2); epoch = core.hdrWord(3); pOff = n + 2;
      if (frame.length >= n + 2 && (frame[n + 1] & FLAG_VEC)) {
        // the vector form: the header's index is the mask of the components after the route
        pOff += core.decodeVecValuesFields(frame, n + 2, index);
        vec = core.decodedVecInto(this.rxVec); // reused: what is held keeps a copy (holdRouted, holdReceive)
      }
    } catch (e) {
      this.drop("malformed-header", (e as Error).message);
      return true;
    }
    try {
      this.onApp(src, dirty, vec ? vec[0] : index, epoch, vec, frame, n, pOff, frame);
    } catch (e) {
      this.refusedFrame(e, src);
    }
    return true;
  }

  /**
   * A passedAt frame, read where the core decoded it (its bounds, in the vector form, into
   * two arrays the board reuses): no header, frame or vector object per notification.
   * False when the core's decoding says it is not a passedAt after all (the general path takes it).
   */
  private readonly pBuf: number[] = new Array<number>(VECTOR_MAX).fill(0);
  private readonly qBuf: number[] = new Array<number>(VECTOR_MAX).fill(0);
  private onPassedAtFrame(src: number, frame: Uint8Array): boolean {
    const core = this.core;
    let v: number, vext: number, epoch: number, P: number[] | undefined, Q: number[] | undefined;
    try {
      if (frame[0] & 0x10) {
        core.decodeBoundsFields(frame);
        if (core.boundsWord(0) !== HK_PASSED) return false;
        core.readDecodedBounds(this.pBuf, this.qBuf);
        P = this.pBuf; Q = this.qBuf; v = P[0]; vext = Q[0]; epoch = core.boundsWord(3);
      } else {
        core.decodeHeaderFields(frame);
        if (core.hdrWord(0) !== HK_PASSED) return false;
        v = core.hdrWord(2); vext = core.hdrWord(4); epoch = core.hdrWord(3);
      }
    } catch (e) {
      this.drop("malformed-header", (e as Error).message); // as decodeFrame's FrameError is
      return true;
    }
    try {
      this.onPassedAt(v, vext, epoch, P, Q);
    } catch (e) {
      this.refusedFrame(e, src);
    }
    return true;
  }

  private drop(reason: string, detail: string): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
    this.trace("drop", { reason, detail });
  }

  private readonly deviceWire = new Map<string, number>();
  /** A device input (sensor) to a component on this board. */
  deviceInput(device: string, payload: Uint8Array): void {
    if (this.recovering || this.stalled || this.pausedAll || this.pausedInputs) { this.holdInput(device, payload); return; }
    const wi = this.deviceWire.get(device) ?? this.wireFromDevice(device);
    const w = this.opts.spec.wires[wi];
    if (isDevice(w.to)) return;
    const e = this.byComp.get(w.to.comp);
    if (!e) throw new Error(`board '${this.name}': device '${device}' feeds '${w.to.comp}', which this board does not host`);
    const targets = this.guarded && e.low && e.old ? this.targets2(e.low, e.old) : this.targets1(e.cur);
    this.receive(targets, "device", wi, w, 0, 0, this.epoch, undefined, payload, false);
  }

  private wireFromDevice(device: string): number {
    const wi = this.opts.spec.wires.findIndex((w) => isDevice(w.from) && w.from.device === device);
    if (wi < 0) throw new Error(`board '${this.name}': no wire from device '${device}'`);
    this.deviceWire.set(device, wi);
    return wi;
  }

  // A message's targets, in one of two arrays reused for every message (no array per message).
  // receive() reads them only until it flushes, and copies what it holds for later (slice).
  private readonly tgt1: Instance[] = [undefined as unknown as Instance];
  private readonly tgt2: Instance[] = [undefined as unknown as Instance, undefined as unknown as Instance];
  private targets1(a: Instance): Instance[] { this.tgt1[0] = a; return this.tgt1; }
  private targets2(a: Instance, b: Instance): Instance[] { this.tgt2[0] = a; this.tgt2[1] = b; return this.tgt2; }

  /** A frame's epoch (mod 16) is one this board has not reached yet. */
  private isAhead(epochMod: number): boolean { return ((this.epoch - epochMod) & 15) > 8; }

  /**
   * An application frame: its header's fields, and `body` holding the route at `off` and the
   * payload from `pOff` on (the frame itself on the lean path: off = the header's length,
   * pOff = off + 2, after the vector form's components if any).
   */
  private onApp(src: number, dirty: number, index: number, epoch: number, vec: number[] | undefined,
    body: Uint8Array, off: number, pOff: number, frame: Uint8Array): void {
    if (this.opts.protocol !== false && this.isAhead(epoch)) {
      // From an epoch this board has not reached: it missed a recovery round's frames.
      // Hold it and ask the coordinator for the round's outcome.
      this.aheadHeld.push({ src, frame: this.own(frame) }); // a split rider's part lies in a reused buffer
      this.rounds.behind();
      return;
    }
    const c = this.frameCounts.get(src) ?? this.frameCounts.set(src, { sent: 0, recv: 0 }).get(src)!;
    c.recv++;
    this.onAppRouted(dirty, index, epoch, vec, body, off, pOff, frame);
    this.rounds.reportIdle();
  }

  private onAppRouted(dirty: number, index: number, epoch: number, hvec: number[] | undefined,
    body: Uint8Array, off: number, pOff: number, frame: Uint8Array): void {
    if (body.length - off < 2) { this.drop("short-frame", `${Math.max(0, body.length - off)} route bytes`); return; }
    const wi = body[off], flags = body[off + 1];
    const w = this.opts.spec.wires[wi];
    if (!w || isDevice(w.to)) { this.drop("unknown-wire", `wire ${wi}`); return; }
    const e = this.byComp.get(w.to.comp);
    if (!e) { this.drop("not-hosted", `${w.to.comp}`); return; }
    const fromComp = isDevice(w.from) ? null : w.from.comp;
    if (this.opts.restarted && !this.guarded && dirty) {
      // A restarted board outside guarded operation has no checkpoint to roll back to: it
      // cannot take a message that may derive from an unvalidated one. The others' recovery
      // (peerRestarted) re-sends what the old versions make of it.
      this.drop("unvalidated-after-restart", `from ${fromComp ?? "a device"} to ${w.to.comp}: dirty, and this board restarted outside guarded operation`);
      // its peers run guarded operation and may not know it restarted: ask for the recovery
      if (((epoch ^ this.epoch) & 15) === 0) this.rounds.requestAfterRestart();
      return;
    }
    if (this.guarded && !(flags & (FLAG_OLD | FLAG_NEW)) && fromComp && this.cluster.has(fromComp) && this.opts.protocol !== false) {
      // A cluster member's message without a version flag during guarded operation: its board
      // is not in guarded operation, so it restarted (its members run their committed
      // versions from their initial state) and this board may not have seen it yet. End
      // guarded operation by recovery, as for a peer restart, and take the frame after it.
      this.trace("member-outside-guarded", { from: fromComp, to: w.to.comp });
      if (!this.recovering) this.requestRecovery();
      this.holdRouted(dirty, index, epoch, hvec, body, off, pOff, frame);
      return;
    }
    let targets: Instance[];
    let kind: Kind;
    if (flags & FLAG_OLD) {
      const t = e.old ?? (e.cur.gen === "old" ? e.cur : undefined);
      if (!t) { this.drop("to-retired", `shadow message for ${w.to.comp} after commit`); return; }
      targets = this.targets1(t); kind = "sdw";
      if (!this.guarded) kind = "act";
    } else if (flags & FLAG_NEW) {
      kind = "low";
      if (this.cluster.has(w.to.comp)) {
        const t = e.low ?? (e.cur.gen === "new" ? e.cur : undefined);
        if (!t) { this.drop("to-retired", `new-version message for ${w.to.comp} after recovery`); return; }
        targets = this.targets1(t);
      } else targets = this.targets1(e.cur);
      if (!this.guarded) kind = "act";
    } else {
      kind = this.guarded && fromComp && this.cluster.has(fromComp) ? "low" : "act";
      targets = this.guarded && e.low && e.old ? this.targets2(e.low, e.old) : this.targets1(e.cur);
    }
    const bad = this.opts.hooks.oracle?.isErroneous(frame) ?? false;
    this.currentFrame = this.opts.hooks.frameTag?.get(frame);
    // The message's index vector (docs/protocol.md point 4): the vector form's, or for a
    // member's message to G_act its own count k at its slot (the wire names the member).
    let vec = hvec;
    if (!vec && (flags & FLAG_NEW) && fromComp && !this.clusterOrder.includes(w.to.comp)) {
      const slot = this.clusterOrder.indexOf(fromComp) + 1;
      if (slot > 1) { vec = this.memberVec.fill(0); vec[slot - 1] = index; } // reused (rxVec's rule)
    }
    // the payload, copied into a buffer the board reuses and handed on as a view of its
    // length made once (rxPayload: no view per message); a receipt inside this one's
    // handling (none on any transport; for safety) takes a view of its own
    const pl = body.length - pOff;
    let payload: Uint8Array;
    if (this.rxBusy) payload = body.subarray(pOff);
    else { copyBytes(this.rxPayload.room(pl), 0, body, pOff, pl); payload = this.rxPayload.view(pl); }
    const was = this.rxBusy;
    this.rxBusy = true;
    try {
      this.receive(targets, kind, wi, w, dirty, vec ? vec[0] : index, epoch, vec, payload, bad);
    } finally { this.rxBusy = was; }
  }
  private readonly rxPayload = new FrameBuf(512);
  private rxBusy = false;

  // What waits for the end of a recovery, a vote or a full store, in this.held. Each closure is
  // made here, not in the per-message function that holds it: a function that makes a
  // closure over its arguments allocates their context on every call, closure made or not.
  // What is held keeps its own copy of bytes and vectors the board reuses (frames it split,
  // payload views, member vectors).
  private holdFrame(src: number, frame: Uint8Array): void {
    const f = this.own(frame);
    this.held.push(() => this.onFrame(src, f));
  }
  private holdInput(device: string, payload: Uint8Array): void {
    this.held.push(() => this.deviceInput(device, payload));
  }
  private holdRouted(dirty: number, index: number, epoch: number, hvec: number[] | undefined,
    body: Uint8Array, off: number, pOff: number, frame: Uint8Array): void {
    const b = this.own(body), f = body === frame ? b : this.own(frame), v = hvec?.slice();
    this.held.push(() => this.onAppRouted(dirty, index, epoch, v, b, off, pOff, f));
  }
  private holdReceive(rest: Instance[], from: Kind, wi: number, w: Wire, dirty: number, index: number, epoch: number,
    vec: number[] | undefined, payload: Uint8Array, bad: boolean): void {
    const p = payload.slice(), v = vec?.slice();
    this.held.push(() => this.receive(rest, from, wi, w, dirty, index, epoch, v, p, bad));
  }
  /**
   * A copy of a frame the board holds for later: a received frame is valid during the
   * transport's call only (Transport.onFrame: the link layer delivers from buffers it
   * reuses), and a part of a rider or a payload lies in a buffer the board reuses. Held
   * frames are off the per-message path (a recovery, a vote, a frame ahead of its turn). The
   * oracle's mark goes with the copy (simulation only).
   */
  private own(f: Uint8Array): Uint8Array {
    const c = f.slice();
    const oracle = this.opts.hooks.oracle;
    if (oracle) oracle.setErroneous(c, oracle.isErroneous(f));
    return c;
  }

  // A receipt's header is four arguments (dirty, index, epoch, vec), not an object: no object per message.
  private receive(targets: Instance[], from: Kind, wi: number, w: Wire, dirty: number, index: number, epoch: number,
    vec: number[] | undefined, payload: Uint8Array, bad: boolean): void {
    if (this.opts.protocol === false) {
      // index loops on the per-message path: a for-of over an array may make an iterator per call
      for (let k = 0; k < targets.length; k++) this.deliver(targets[k], w, payload, bad);
      this.flushUnprotected();
      this.checkErroneous();
      return;
    }
    if (this.guarded && dirty === 1) for (let k = 0; k < targets.length; k++) if (targets[k].gen !== "new") this.stats.dirtyReceipts++;
    if (!this.receiveLean(targets, from, wi, w, dirty, index, epoch, vec, payload, bad)) this.receiveObjects(targets, from, wi, w, dirty, index, epoch, vec, payload, bad);
  }

  private receiveObjects(targets: Instance[], from: Kind, wi: number, w: Wire, dirty: number, index: number, epoch: number,
    vec: number[] | undefined, payload: Uint8Array, bad: boolean): void {
    const evs: CoreEvent[] = targets.map((t) => this.recvEvent(t, from, wi, dirty, index, epoch, vec, payload));
    let fx: CoreEffect[];
    try {
      fx = this.core.submit(evs);
    } catch (e) {
      if (!(e instanceof CoreError)) throw e;
      fx = e.effects; // what ran, ran: carry it out
      if (isFull(e)) {
        // Out of protocol memory: the rest waits, whole, for the round.
        this.holdReceive(targets.slice(e.eventIndex), from, wi, w, dirty, index, epoch, vec, payload, bad);
        this.stall(e);
      } else {
        this.drop(`refused:${e.code}`, `${targets[e.eventIndex]?.comp ?? "?"} wire ${wi}: ${e.message}`);
      }
    }
    for (const e of fx) {
      const t = targets.find((x) => "pid" in e && x.pid === e.pid);
      if (!t) continue;
      if (e.type === "checkpoint") {
        this.checkpoint(t, e.snapshot);
        if (this.opts.hooks.detail) this.trace("checkpoint", { comp: t.comp, gen: t.gen, index: e.index });
      } else if (e.type === "deliver") {
        if (this.opts.hooks.detail) this.trace("recv", { comp: t.comp, gen: t.gen, id: this.currentFrame, dirty, index });
        this.deliver(t, w, payload, bad);
      }
      else if (e.type === "drop") this.drop(e.reason, `${t.comp}(${t.gen}) wire ${wi}`);
      else if (e.type === "logged") this.stats.logged++;
    }
    this.flush();
    this.checkErroneous();
  }

  private recvEvent(t: Instance, from: Kind, wi: number, dirty: number, index: number, epoch: number, vec: number[] | undefined,
    payload: Uint8Array): CoreEvent {
    return { type: "recv", pid: t.pid, from, peer: wi, dirty, index, epoch, vec,
      snapBytes: snapshotBytes(t), payload, step: stepOf(payload) };
  }

  // The lean path (recv-path.ts): event words in, effects read in place. False when the
  // events did not fit the staging area (nothing ran): the object path takes them.
  private readonly lean: LeanRun = { put: 0, nfx: 0, done: 0, st: 0 };
  private readonly leanPids: number[] = [0, 0];
  private readonly leanSnap: number[] = [0, 0];
  private receiveLean(targets: Instance[], from: Kind, wi: number, w: Wire, dirty: number, index: number, epoch: number,
    vec: number[] | undefined, payload: Uint8Array, bad: boolean): boolean {
    const n = targets.length;
    if (n > 2) return false;
    for (let i = 0; i < n; i++) { this.leanPids[i] = targets[i].pid; this.leanSnap[i] = snapshotBytes(targets[i]); }
    const core = this.core;
    const r = runReceipts(core, this.lean, this.leanPids, this.leanSnap, n, from, wi, dirty, index, epoch, vec, payload);
    if (r.put < n) return false;
    const nfx = r.nfx, done = r.done, st = r.st;
    if (st < 0) {
      // a refusal: what ran, ran (its effects are carried out below, as submit's path does)
      const err = core.leanRefusal(st, this.recvEvent(targets[done], from, wi, dirty, index, epoch, vec, payload), done, nfx);
      if (isFull(err)) {
        this.holdReceive(targets.slice(done), from, wi, w, dirty, index, epoch, vec, payload, bad);
        this.stall(err);
      } else {
        this.drop(`refused:${err.code}`, `${targets[done]?.comp ?? "?"} wire ${wi}: ${err.message}`);
      }
    }
    for (let i = 0; i < nfx; i++) {
      const type = core.fxType(i);
      if (type !== FX.CHECKPOINT && type !== FX.DELIVER && type !== FX.DROP && type !== FX.LOGGED) continue;
      const pid = core.fxWord(i, 1);
      const t = n > 0 && targets[0].pid === pid ? targets[0] : n > 1 && targets[1].pid === pid ? targets[1] : undefined;
      if (!t) continue;
      if (type === FX.CHECKPOINT) {
        this.checkpointAt(t, core.memoryView(), core.fxCheckpointAt(i), core.fxCheckpointLength(i));
        if (this.opts.hooks.detail) this.trace("checkpoint", { comp: t.comp, gen: t.gen, index: core.fxWord(i, 2) });
      } else if (type === FX.DELIVER) {
        if (this.opts.hooks.detail) this.trace("recv", { comp: t.comp, gen: t.gen, id: this.currentFrame, dirty, index });
        this.deliver(t, w, payload, bad);
      } else if (type === FX.DROP) {
        const c = core.fxWord(i, 3);
        this.drop(DROP_REASON[c] ?? String(c), `${t.comp}(${t.gen}) wire ${wi}`);
      } else this.stats.logged++;
    }
    if (st >= 0 && done < n) {
      // the effect buffer filled before every event ran: the rest go the object path
      this.receiveObjects(targets.slice(done), from, wi, w, dirty, index, epoch, vec, payload, bad);
      return true;
    }
    this.flush();
    this.checkErroneous();
    return true;
  }

  /** The input port of t's version a wire ends at (cached per version and wire: no search per message). */
  private readonly inPorts = new Map<ComponentVersion, Map<Wire, PortSpec>>();
  private inPort(t: Instance, w: Wire): PortSpec {
    let m = this.inPorts.get(t.version);
    if (!m) { m = new Map(); this.inPorts.set(t.version, m); }
    let p = m.get(w);
    if (!p) {
      const portName = isDevice(w.to) ? "" : w.to.port;
      p = t.version.ports.find((q) => q.name === portName && q.dir === "in");
      if (!p) throw new Error(`${t.comp}@${t.version.version} has no input port '${portName}'`);
      m.set(w, p);
    }
    return p;
  }
  private deliver(t: Instance, w: Wire, payload: Uint8Array, bad: boolean): void {
    const p = this.inPort(t, w);
    this.started = true;
    if (this.opts.hooks.oracle) {
      // remember erroneous inputs by content: a replay after a rollback hands back only the bytes
      this.remember(t.pid, "in", this.opts.spec.wires.indexOf(w), payload, bad);
      if (!t.app.erroneous && bad) t.erroneous = true;
    }
    if (this.opts.hooks.oracle && payload.length >= 4) {
      const step = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true);
      const last = t.steps.get(p.port) ?? -1;
      if (last >= 0 && step !== last + 1) {
        this.opts.hooks.oracle.violation(step <= last ? "duplicate" : "loss",
          `${this.name}: ${t.comp}(${t.gen}) port '${p.name}' got step ${step} after ${last}`);
      }
      t.steps.set(p.port, step);
    }
    try {
      const before = this.outbox.length;
      t.app.handle(p.port, payload, bad);
      if (t.twin) this.compareTwin(t, t.twin, before, p.port, payload);
    } catch (e) {
      // A trapping component never takes the board down. In a new version during
      // guarded operation it is a detected error like a failed AT: recover.
      const msg = (e as Error).message;
      this.trace("component-trap", { comp: t.comp, gen: t.gen, error: msg });
      if (t.gen === "new" && this.guarded) { this.stats.atFailed++; this.requestRecovery(); return; }
      this.opts.hooks.oracle?.violation("component-trap", `${this.name}: ${t.comp}(${t.gen}): ${msg}`);
      this.stats.dropped["component-trap"] = (this.stats.dropped["component-trap"] ?? 0) + 1;
    }
  }

  // A checkpoint: the component's snapshot and the runtime's trailer (snapshot.ts).
  private readonly snapWriter = new SnapshotWriter();
  private checkpoint(t: Instance, view: Uint8Array): void {
    this.checkpointAt(t, view, 0, view.length);
  }
  /** A checkpoint into the `cap` bytes at `at` of `mem` (the core's memory: App.snapshotAt, no view per checkpoint). */
  private checkpointAt(t: Instance, mem: Uint8Array, at: number, cap: number): void {
    const len = this.snapWriter.write(t, mem, at, cap);
    this.core.setCheckpointLength(t.pid, len);
    this.stats.checkpoints++;
    this.stats.checkpointBytes += len;
  }

  private restore(t: Instance, snap: Uint8Array): void {
    restoreSnapshot(t, snap);
    t.twin = undefined; // no twin state to match a rollback: the fallback flag (restored with it) carries on
    t.rolledBack = (t.rolledBack ?? 0) + 1;
  }

  // ---- outbound ------------------------------------------------------------------------
  /** Sends everything the components emitted, one core batch per round. */
  private flushUnprotected(): void {
    while (this.outbox.length) {
      const batch = this.out.take();
      for (let i = 0; i < batch.n; i++) {
        const o = batch.items[i], ws = this.outWires(o);
        for (let j = 0; j < ws.length; j++) {
          const wi = ws[j], w = this.opts.spec.wires[wi];
          if (isDevice(w.to)) this.toDevice(w, o.bytes, o.inst, o.bad, o.step, o.ord);
          else this.transmitFields(w, wi, 0, 0, 0, undefined, 0, o.bytes, o.bad);
        }
      }
      this.out.recycle(batch);
    }
  }

  // The wires leaving an output port, by the instance's port number (cached on the
  // instance: this runs for every message a component sends).
  /** The board hosting each component. */
  private readonly nodeOf: Map<string, number>;
  private outWires(o: Outgoing): number[] {
    const byPort = o.inst.outWires ?? (o.inst.outWires = []);
    return byPort[o.port] ?? (byPort[o.port] = this.wiresFrom(o.inst, o.port));
  }
  private wiresFrom(inst: Instance, port: number): number[] {
    const portName = inst.version.ports.find((p) => p.port === port && p.dir === "out")?.name;
    if (portName === undefined) throw new Error(`${inst.comp}@${inst.version.version} sent on undeclared output port ${port}`);
    const ws: number[] = [];
    this.opts.spec.wires.forEach((w, wi) => { if (!isDevice(w.from) && w.from.comp === inst.comp && w.from.port === portName) ws.push(wi); });
    return ws;
  }

  // The pending sends of a flush and the effects of its last run (send-path.ts), reused.
  private readonly sends: SendRun = newSendRun();
  private readonly sendOut: Outgoing[] = [];

  private flush(): void {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.outbox.length && !this.recovering && !this.stalled) {
        const batch = this.out.take();
        const r = this.sends;
        let n = 0;
        for (let i = 0; i < batch.n; i++) {
          const o = batch.items[i];
          if (!o.inst.live) continue;
          const ws = this.outWires(o);
          for (let j = 0; j < ws.length; j++) {
            const wi = ws[j];
            this.sendOut[n] = o; r.pid[n] = o.inst.pid; r.kind[n] = KIND[this.kindTo(o.inst, this.opts.spec.wires[wi])];
            r.wire[n] = wi; r.payload[n] = o.bytes;
            n++;
          }
        }
        this.sendLean(n);
        // drop the references (the arrays keep their length for the next flush), then reuse the entries
        for (let k = 0; k < n; k++) { this.sendOut[k] = undefined as unknown as Outgoing; r.payload[k] = EMPTY; }
        this.out.recycle(batch);
      }
    } finally {
      this.rider?.flush(); // the batch is done: a bound that found no frame to ride goes alone
      this.busy = false;
    }
    this.maybeCommit();
  }

  /** The pending sends k in [from, to) as submitSends' events and their meta. */
  private sendsAsObjects(from: number, to: number): { evs: CoreEvent[]; meta: { o: Outgoing; wi: number; w: Wire }[] } {
    const evs: CoreEvent[] = [], meta: { o: Outgoing; wi: number; w: Wire }[] = [];
    for (let k = from; k < to; k++) {
      const o = this.sendOut[k], wi = this.sends.wire[k], w = this.opts.spec.wires[wi];
      evs.push({ type: "send", pid: o.inst.pid, to: this.kindTo(o.inst, w), peer: wi, payload: o.bytes, step: stepOf(o.bytes) });
      meta.push({ o, wi, w });
    }
    return { evs, meta };
  }

  // The lean form of submitSends (below) for the n pending sends of a flush: the same runs,
  // the same effects carried out in the same order, no event or effect objects.
  private sendLean(n: number): void {
    const core = this.core, r = this.sends;
    let start = 0;
    while (start < n) {
      if (this.recovering || this.stalled) { this.holdSends(this.sendsAsObjects(start, n).meta); return; }
      runSends(core, r, start, n);
      if (r.put === 0) {
        // a payload larger than the staging area: the object path refuses it with the reason
        const one = this.sendsAsObjects(start, start + 1);
        this.submitSends(one.evs, one.meta);
        start++;
        continue;
      }
      let at = -1;
      for (let i = 0; i < r.nfx; i++) {
        const k = start + r.ev[i];
        switch (r.type[i]) {
          case FX.SEND: {
            const wi = r.wire[k];
            this.sendApp(this.sendOut[k], wi, this.opts.spec.wires[wi], r.w3[i], r.w4[i], r.w5[i], r.vec[i]);
            break;
          }
          case FX.AT_REQUIRED: at = k; break; // the run's last event: its verdict after the other effects
          case FX.DELIVER_DEVICE: {
            const o = this.sendOut[k];
            this.toDevice(this.opts.spec.wires[r.wire[k]], o.bytes, o.inst, o.bad, o.step, o.ord);
            break;
          }
          case FX.SUPPRESSED: {
            const wi = r.wire[k];
            this.onSuppressed(this.sendOut[k], wi, this.opts.spec.wires[wi], LOG_NAME[r.w3[i]] === "ext", r.w4[i]);
            break;
          }
          case FX.COUNTER: break;
          default: throw new Error(`unexpected effect type ${r.type[i]} for a send`);
        }
      }
      if (at >= 0) {
        const o = this.sendOut[at], wi = r.wire[at];
        this.atVerdict(o, wi, this.opts.spec.wires[wi]);
      }
      if (r.st < 0) {
        const ev = this.sendsAsObjects(start + r.done, start + r.done + 1).evs[0];
        const err = core.leanRefusal(r.st, ev, r.done, 0);
        if (!isFull(err)) throw err;
        this.holdSends(this.sendsAsObjects(start + r.done, n).meta);
        this.stall(err);
        return;
      }
      start += r.done;
    }
  }

  // One process has at most one AT pending in the core (E_AT_PENDING otherwise), and a
  // step may send to several devices: the sends are submitted in runs that end at a
  // device send, and that run's AT verdict is submitted before the next run. The AT runs
  // synchronously, so a component's second device message waits only for the first's
  // verdict; nothing is refused and nothing is lost (docs/protocol.md, "Several device
  // messages in one step").
  private submitSends(evs: CoreEvent[], meta: { o: Outgoing; wi: number; w: Wire }[]): void {
    let start = 0;
    while (start < evs.length) {
      if (this.recovering || this.stalled) {
        // A failed AT (or a full store) in an earlier run: the rest waits for the round,
        // which changes the kinds (no cluster any more): recompute them then.
        this.holdSends(meta.slice(start));
        return;
      }
      let end = start;
      while (end < evs.length && (evs[end] as { to?: string }).to !== "device") end++;
      end = Math.min(end + 1, evs.length);
      const m = meta.slice(start, end);
      let fx: CoreEffect[];
      try {
        fx = this.core.submit(evs.slice(start, end));
      } catch (e) {
        if (!(e instanceof CoreError) || !isFull(e)) throw e;
        for (const f of e.effects) this.onSendEffect(f, m);
        this.holdSends(meta.slice(start + e.eventIndex));
        this.stall(e);
        return;
      }
      for (const e of fx) this.onSendEffect(e, m);
      start = end;
    }
  }

  private holdSends(rest: { o: Outgoing; wi: number; w: Wire }[]): void {
    if (!rest.length) return;
    for (const m of rest) m.o.held = true; // kept past its batch: not reused (outbox.ts)
    const gen = rest.map((m) => m.o.inst.rolledBack ?? 0);
    this.held.push(() => {
      // A sender that rolled back in the round regenerates these from its checkpoint.
      const live = rest.filter((m, i) => m.o.inst.live && (m.o.inst.rolledBack ?? 0) === gen[i]);
      this.submitSends(live.map((m) => ({ type: "send", pid: m.o.inst.pid, to: this.kindTo(m.o.inst, m.w), peer: m.wi, payload: m.o.bytes, step: stepOf(m.o.bytes) })), live);
    });
  }

  private stall(e: CoreError): void {
    if (this.stalled) return;
    this.stalled = true;
    this.trace("memory-full", { code: e.code, field: e.field });
    this.requestRecovery();
  }

  private kindTo(src: Instance, w: Wire): Kind {
    if (isDevice(w.to)) return "device";
    // After a recovery the old versions that took over still talk to each other over the
    // old interface: "sdw", so the core does not count it among the outputs to suppress.
    if (!this.guarded) return src.gen === "old" && this.cluster.has(w.to.comp) && this.epoch > 0 ? "sdw" : "act";
    const toCluster = this.cluster.has(w.to.comp);
    if (src.gen === "old") return toCluster ? "sdw" : "act";
    return toCluster ? "low" : "act";
  }

  private onSendEffect(e: CoreEffect, meta: { o: Outgoing; wi: number; w: Wire }[]): void {
    switch (e.type) {
      case "send": {
        const m = meta[e.event];
        this.sendApp(m.o, m.wi, m.w, e.header.dirty, e.header.index, e.header.epoch, e.header.vec);
        break;
      }
      case "at-required":
        this.atVerdict(meta[e.event].o, meta[e.event].wi, meta[e.event].w);
        break;
      case "deliver-device": {
        const m = meta[e.event];
        this.toDevice(m.w, m.o.bytes, m.o.inst, m.o.bad, m.o.step, m.o.ord);
        break;
      }
      case "suppressed": {
        const m = meta[e.event];
        this.onSuppressed(m.o, m.wi, m.w, e.log === "ext", e.index);
        break;
      }
      case "counter":
        break;
      default:
        throw new Error(`unexpected effect ${e.type} for a send`);
    }
  }

  /** A component's message the core let through (its SEND effect's header fields), on the wire with its version flag. */
  private sendApp(o: Outgoing, wi: number, w: Wire, dirty: number, index: number, epoch: number, vec: number[] | undefined): void {
    const flags = !this.guarded ? 0 : o.inst.gen === "old" ? FLAG_OLD : o.inst.gen === "new" ? FLAG_NEW : 0;
    // A member's message to G_act carries its own count k; the wire names the member (no vector on the wire).
    const toGact = flags === FLAG_NEW && vec !== undefined && !isDevice(w.to) && !this.cluster.has(w.to.comp);
    this.transmitFields(w, wi, dirty, index, epoch, toGact ? undefined : vec, flags, o.bytes, o.bad);
  }

  /** A shadow's output, logged by the core: remember whether it is erroneous for a resend. */
  private onSuppressed(o: Outgoing, wi: number, w: Wire, ext: boolean, index: number): void {
    if (this.opts.hooks.oracle) this.remember(o.inst.pid, "out", wi, o.bytes, o.bad);
    if (ext && o.step >= 0) this.suppressedDevice(o, w, index);
  }

  /**
   * A device message's acceptance test, and its verdict to the core. The verdict's effects
   * are copied out of the core's buffer into reused arrays (carrying one out may call the
   * core again: a local passed AT, an encoded header), then carried out in order: no
   * effect objects per device message.
   */
  private readonly atFx = { type: [] as number[], pid: [] as number[], v: [] as number[], vext: [] as number[], epoch: [] as number[],
    /** a BROADCAST_PASSED's bound vectors, in arrays reused per effect slot (VECTOR_MAX components), and whether it has them */
    P: [] as number[][], Q: [] as number[][], wideV: [] as boolean[] };
  /** A passed AT's notification is encoded here (then sent, or queued to ride: the rider copies it). */
  private readonly pa = new FrameBuf(256);
  private atVerdict(o: Outgoing, wi: number, w: Wire): void {
    const dev = (w.to as { device: string }).device;
    const ok = this.opts.spec.ats[dev](o.bytes);
    const core = this.core, a = this.atFx;
    core.putAtResult(0, o.inst.pid, ok);
    const nfx = core.runLean(1), st = core.status();
    if (st < 0) throw core.leanRefusal(st, { type: "at-result", pid: o.inst.pid, passed: ok }, 0, nfx);
    for (let i = 0; i < nfx; i++) {
      const t = core.fxType(i);
      a.type[i] = t;
      if (t === FX.BROADCAST_PASSED) {
        a.pid[i] = core.fxWord(i, 1); a.v[i] = core.fxWord(i, 2); a.vext[i] = core.fxWord(i, 3); a.epoch[i] = core.fxWord(i, 4);
        const P = a.P[i] ?? (a.P[i] = new Array<number>(VECTOR_MAX).fill(0)), Q = a.Q[i] ?? (a.Q[i] = new Array<number>(VECTOR_MAX).fill(0));
        a.wideV[i] = core.fxBoundsInto(i, a.v[i], a.vext[i], P, Q);
      }
    }
    for (let i = 0; i < nfx; i++) {
      switch (a.type[i]) {
        case FX.DELIVER_DEVICE:
          this.stats.atPassed++;
          this.toDevice(w, o.bytes, o.inst, o.bad, o.step, o.ord);
          break;
        case FX.BROADCAST_PASSED: {
          const v = a.v[i], vext = a.vext[i], epoch = a.epoch[i];
          const P = a.wideV[i] ? a.P[i] : undefined, Q = a.wideV[i] ? a.Q[i] : undefined;
          const frame = this.pa.view(this.core.encodePassedAtInto(this.pa.buf, 0, v, vext, epoch, P, Q));
          if (this.opts.hooks.event && this.opts.hooks.passedAtEvents !== false) this.trace("passed-at", P ? { comp: o.inst.comp, gen: o.inst.gen, v, vext, P: trimVec(P), Q: trimVec(Q!) } : { comp: o.inst.comp, gen: o.inst.gen, v, vext });
          // local processes other than the sender, then every other board
          this.localPassed(v, vext, epoch, a.pid[i], P, Q);
          // it rides on the batch's next application frame to each peer, if any (bound-rider.ts)
          if (this.rider && this.busy) this.rider.queue(frame);
          else this.sendAlone(BROADCAST, frame);
          break;
        }
        case FX.RECLAIM:
        case FX.COUNTER:
          break;
        case FX.AT_FAILED: {
          this.stats.atFailed++;
          const sub = this.opts.compensate?.(o.inst, dev, o.bytes) ?? null;
          this.trace("at-failed", { comp: o.inst.comp, gen: o.inst.gen, device: dev, compensated: sub !== null });
          if (sub) {
            this.core.submit([{ type: "compensated", pid: o.inst.pid }]);
            this.toDevice(w, sub, o.inst, false, o.step, o.ord);
          } else {
            this.requestRecovery();
          }
          break;
        }
        default:
          throw new Error(`unexpected effect type ${a.type[i]} for an AT verdict`);
      }
    }
  }

  private transmit(w: Wire, wi: number, header: Header, flags: number, payload: Uint8Array, bad: boolean): void {
    if (isDevice(w.to)) return;
    this.transmitFrame(w, wi, header.dirty, header.index, encodeApp(this.core, header, wi, flags, payload), flags, bad);
  }
  // The lean path's frames are built in one buffer the board reuses (tx) and handed to the
  // transport as a view of their length (Transport.send: valid during the call; a transport
  // copies what it keeps). A bound waiting for this peer rides in the frame as it is built.
  private readonly tx = new FrameBuf(512);
  private transmitFields(w: Wire, wi: number, dirty: number, index: number, epoch: number, vec: number[] | undefined,
    flags: number, payload: Uint8Array, bad: boolean): void {
    if (isDevice(w.to)) return;
    const dst = this.nodeOf.get(w.to.comp)!;
    const bound = this.rider?.take(dst) ?? null;
    const buf = this.tx.room(APP_FRAME_MAX_OVERHEAD + (bound ? bound.length : 0) + payload.length);
    const len = encodeAppInto(this.core, buf, dirty, index, epoch, vec, wi, flags, payload, bound);
    if (bound) this.stats.ridden++;
    this.sendFrame(w, dst, dirty, index, this.tx.view(len), flags, bad);
  }
  private transmitFrame(w: Wire, wi: number, dirty: number, index: number, frame: Uint8Array, flags: number, bad: boolean): void {
    const dst = this.nodeOf.get((w.to as { comp: string }).comp)!;
    const bound = this.rider?.take(dst);
    if (bound) { frame = withBound(frame, bound); this.stats.ridden++; }
    this.sendFrame(w, dst, dirty, index, frame, flags, bad);
  }
  private sendFrame(w: Wire, dst: number, dirty: number, index: number, frame: Uint8Array, flags: number, bad: boolean): void {
    this.opts.hooks.oracle?.setErroneous(frame, bad);
    if (this.opts.hooks.detail && this.opts.hooks.frameTag) {
      const id = `${this.node}.${++this.sent}`;
      this.opts.hooks.frameTag.set(frame, id);
      const from = isDevice(w.from) ? "" : w.from.comp;
      this.trace("send", { id, comp: from, gen: flags & FLAG_OLD ? "old" : flags & FLAG_NEW ? "new" : "base", to: (w.to as { comp: string }).comp, dirty, index });
    }
    const c = this.frameCounts.get(dst) ?? this.frameCounts.set(dst, { sent: 0, recv: 0 }).get(dst)!;
    c.sent++;
    this.opts.transport.send(dst, frame);
  }

  // ---- passed AT ------------------------------------------------------------------------
  private readonly passPids: number[] = [];
  private localPassed(v: number, vext: number, epoch: number, except: number, P?: number[], Q?: number[]): void {
    // event words sharing one staged pair of bound vectors, in runs of at most the core's
    // batch; the effects (reclaims) need nothing here
    const pids = this.passPids, core = this.core;
    let n = 0;
    for (let k = 0; k < this.inst.length; k++) { const i = this.inst[k]; if (i.live && i.pid !== except && i.gen !== "new") pids[n++] = i.pid; }
    for (let from = 0; from < n;) {
      const vword = core.stageSharedBounds(P, Q, v, vext);
      const m = Math.min(n - from, core.evCap);
      for (let k = 0; k < m; k++) core.putPassedAt(k, pids[from + k], v, vext, epoch, vword);
      const nfx = core.runLean(m), st = core.status(), done = core.consumed();
      // (P and Q may be the board's reused arrays: the refusal keeps copies)
      if (st < 0) throw core.leanRefusal(st, P || Q ? { type: "passed-at", pid: pids[from + done], v, vext, epoch, P: P && trimVec(P), Q: Q && trimVec(Q) } : { type: "passed-at", pid: pids[from + done], v, vext, epoch }, from + done, nfx);
      if (done === 0) throw new Error("core made no progress on passed-at events (bug)");
      from += done;
    }
    this.countPass();
  }

  private onPassedAt(v: number, vext: number, epoch: number, P?: number[], Q?: number[]): void {
    this.localPassed(v, vext, epoch, -1, P, Q);
    this.checkErroneous();
  }

  private countPass(): void {
    if (!this.guarded || this.node !== this.opts.coordinator || !this.opts.commit) return;
    this.passedSeen++;
    const quiet = this.opts.hooks.now() - this.guardStart >= (this.opts.commit.quietUs ?? 0);
    if (this.passedSeen >= this.opts.commit.afterPassed && quiet && !this.commitSent && !this.rounds.roundOpen) {
      // Not here: a pass can arrive in the middle of a batch of sends whose effects
      // the core decided under guarded operation. Commit once the batch is done.
      this.commitSent = true;
      this.commitPending = true;
      if (!this.busy) this.maybeCommit();
    }
  }

  private commitPending = false;
  private maybeCommit(): void {
    if (!this.commitPending || this.busy) return;
    this.commitPending = false;
    if (!this.guarded || this.rounds.roundOpen || this.recovering || this.stalled) return;
    // Two-phase: every board votes (rounds.ts); a board that cannot commit now refuses,
    // and the policy tries again at the next pass.
    if (!this.rounds.startCommit(false)) this.commitSent = false;
  }

  /** Why this board cannot commit now (a commit vote), or null. */
  private commitBlocker(): string | null {
    if (this.recovering) return "a recovery round is running";
    if (this.stalled) return "its protocol store is full (an abort round is due)";
    if (this.busy) return "it is processing a batch";
    if (this.outbox.length) return `${this.outbox.length} outputs not yet sent`;
    if (this.held.length) return `${this.held.length} held events`;
    if (this.pausedInputs) return "an upgrade round is running";
    return null;
  }

  private commitLocal(): void {
    if (!this.guarded) return;
    if (this.recovering) { this.trace("commit-refused", { node: this.node, why: "a recovery round is running" }); return; }
    const fx = this.core.submit([{ type: "commit" }]);
    for (const e of fx) {
      if (e.type === "retire") this.retire(e.pid);
      if (e.type === "role") this.promote(e.pid);
    }
    this.guarded = false;
    this.output.forgetShadows();
    this.stats.commits++;
    this.trace("commit", {});
    this.checkErroneous();
  }

  /**
   * Commit by hand: the coordinator runs the two-phase commit; every board votes, and
   * nothing commits unless every board is ready. False when no guarded operation runs
   * here, a round is open, or this board cannot commit now (traced with the reason).
   */
  commitNow(): boolean {
    if (!this.guarded || this.rounds.roundOpen || this.recovering) return false;
    this.commitSent = true;
    return this.rounds.startCommit(true);
  }

  /**
   * A peer board restarted (its link layer saw a new incarnation): whatever it held for
   * the guarded operation (checkpoints, logs, counters, its processes) is gone, so
   * guarded operation ends by recovery on every board (docs/protocol.md "A board that
   * crashes"). Outside guarded operation nothing is to be done.
   */
  peerRestarted(node: number): void {
    this.trace("peer-restarted", { node, guarded: this.guarded });
    // the link counts with its previous run are void (an upgrade round balances them): both start at 0
    this.frameCounts.delete(node);
    // (prepared for a commit when the coordinator restarted: it asks for the outcome first)
    const asking = node === this.opts.coordinator && this.rounds.coordinatorRestarted();
    this.rounds.peerRestarted(node);
    if (this.guarded && !this.recovering && !asking) this.requestRecovery();
  }

  /** Abort by hand: a recovery round hands over to the old versions. */
  abortNow(): boolean {
    if (!this.guarded || this.recovering) return false;
    this.requestRecovery();
    return true;
  }

  // ---- recovery (docs/protocol.md point 6; the round itself: rounds.ts) --------------------
  private requestRecovery(): void {
    this.rounds.requestRecovery();
  }

  /** The core's recover-begin: stops application work and returns this board's bound. */
  private beginLocal(next: number): { v: number[]; vext: number[] } {
    this.recovering = true;
    const fx = this.core.submit([{ type: "recover-begin" }]);
    const b = fx.find((e) => e.type === "bound") as { v: number; vext: number; P?: number[]; Q?: number[] };
    this.trace("recovery-begin", b.P ? { epoch: next, v: b.v, vext: b.vext, P: b.P, Q: b.Q } : { epoch: next, v: b.v, vext: b.vext });
    return { v: b.P ?? [b.v], vext: b.Q ?? [b.vext] };
  }

  private applyLocal(Vv: number[], Vextv: number[], next: number): void {
    const V = Vv[0] ?? 0, Vext = Vextv[0] ?? 0;
    if (!this.guarded && !this.recovering) {
      // a restarted board in a round it has nothing to recover in: it moves to the round's epoch
      this.core.resumeEpoch(next);
      this.epoch = next;
      this.trace("recovered", { V, Vext, epoch: next, bystander: true });
      this.release(); // frames of the new epoch it held
      return;
    }
    const fx = this.core.submit([wide(Vv) || wide(Vextv)
      ? { type: "recover-apply", V, Vext, epoch: next, Vvec: Vv, Vextvec: Vextv }
      : { type: "recover-apply", V, Vext, epoch: next }]);
    this.recovering = false;
    this.stalled = false;
    this.guarded = false;
    this.epoch = next;
    this.stats.recoveries++;
    const saved = this.out.take().toArray(); // its queue is not recycled: the entries live on below
    const savedGen = saved.map((o) => o.inst.rolledBack ?? 0);
    for (const e of fx) {
      switch (e.type) {
        case "rollback": {
          const t = this.inst[e.pid];
          this.restore(t, e.snapshot);
          this.stats.maxRollback = Math.max(this.stats.maxRollback, e.distance);
          this.trace("rollback", { comp: t.comp, gen: t.gen, to: e.index, distance: e.distance });
          break;
        }
        case "replay": {
          const t = this.inst[e.pid];
          this.deliver(t, this.opts.spec.wires[e.peer], e.payload, this.recalled(e.pid, "in", e.peer, e.payload));
          break;
        }
        case "resend": {
          const t = this.inst[e.pid];
          const w = this.opts.spec.wires[e.peer];
          const bad = this.recalled(e.pid, "out", e.peer, e.payload);
          if (e.log === "ext") { const m = this.output.recallShadow(e.pid, e.index); this.toDevice(w, e.payload, t, bad, m ? m.step : -1, m ? m.ord : 0); }
          else this.transmit(w, e.peer, { kind: "app", dirty: 0, index: 0, epoch: next & 15 }, 0, e.payload, bad);
          break;
        }
        case "retire": this.retire(e.pid); break;
        case "role": this.promote(e.pid); break;
        case "recovered":
          this.trace("recovered", { V: e.V, Vext: e.Vext, epoch: e.epoch, inexact: e.inexact });
          // The shadows' outputs could not all be matched to the validated bound: never silent.
          if (e.inexact) this.opts.hooks.oracle?.violation("inexact-recovery", `board ${this.name}: V=${e.V} Vext=${e.Vext} could not be mapped to every cluster member's outputs`);
          break;
      }
    }
    this.output.forgetShadows();
    // Outputs emitted before the round by a process that rolled back in it are void: it
    // regenerates them from its checkpoint.
    const pending = this.out.take().toArray();
    for (const o of [...saved.filter((o, i) => (o.inst.rolledBack ?? 0) === savedGen[i]), ...pending]) this.outbox.push(o);
    this.flush();
    this.release();
  }

  private retire(pid: number): void {
    const t = this.inst[pid];
    t.live = false;
    const e = this.byComp.get(t.comp)!;
    if (e.low === t) { e.low = undefined; e.cur = e.old!; e.old = undefined; }
    if (e.old === t) { e.old = undefined; e.cur = e.low!; e.low = undefined; }
    this.trace("retire", { comp: t.comp, gen: t.gen });
  }
  private promote(pid: number): void {
    const t = this.inst[pid];
    const e = this.byComp.get(t.comp)!;
    e.cur = t;
    if (t.gen === "old") this.trace("takeover", { comp: t.comp });
  }

  /**
   * A device message the core suppressed. A shadow's (role hs): remembered by its log index
   * for a resend at takeover. An active process's (its output commit by count after a
   * rollback): the device gets it if its position is new to it after all (a replay a crash
   * made inexact regenerates fewer messages than were delivered; the count would then eat
   * new ones). Without a crash the two rules agree; a disagreement is a violation.
   */
  private suppressedDevice(o: Outgoing, w: Wire, index: number): void {
    if (this.core.role(o.inst.pid) === "hs") { this.output.rememberShadow(o.inst.pid, index, o.step, o.ord); return; }
    if (this.opts.rules === "paper" || !isDevice(w.to) || isDevice(w.from)) return;
    if (!this.output.isNew(this.commitKey(w), o.step, o.ord)) return;
    this.opts.hooks.oracle?.violation("output-commit-mismatch", `${this.name}: ${o.inst.comp}(${o.inst.gen}) -> ${w.to.device}: step ${o.step} #${o.ord} suppressed by count after a rollback, but the device never got it`);
    this.trace("output-commit", { comp: o.inst.comp, gen: o.inst.gen, device: w.to.device, step: o.step, ord: o.ord });
    this.toDevice(w, o.bytes, o.inst, o.bad, o.step, o.ord);
  }

  /** A device port's output-commit key (OutputCommit.key), cached per wire: no string per message. */
  private readonly commitKeys = new Map<Wire, string>();
  private commitKey(w: Wire): string {
    let k = this.commitKeys.get(w);
    if (k === undefined) {
      k = OutputCommit.key((w.to as { device: string }).device, (w.from as { comp: string }).comp, (w.from as { port: string }).port);
      this.commitKeys.set(w, k);
    }
    return k;
  }
  /** Every delivery to a device. An erroneous message reaching a device breaks the guarantee, whatever the ATs said. */
  // (posStep, posOrd): the message's position on its port (outbox.ts); posStep -1 when the
  // core's log index did not name one (a resend): after the last the device got.
  private toDevice(w: Wire, payload: Uint8Array, from: Instance, bad: boolean, posStep: number, posOrd: number): void {
    const dev = (w.to as { device: string }).device;
    // The last check before a device (output-commit.ts): a message whose position (step,
    // ordinal in the step) on its component port is not past the last one the device got
    // from that port is never passed on: it can only be one produced again by a replay a
    // crash made inexact, or by a restarted board (docs/protocol.md "A board that crashes").
    // The printed rules keep their own output commit: only an earlier step is held back.
    if (payload.length >= 4 && !isDevice(w.from)) {
      const key = this.commitKey(w);
      let step = posStep, ord = posOrd;
      if (step < 0) {
        step = stepOf(payload)!;
        const last = this.output.last(key);
        ord = last && last.step === step ? last.ord + 1 : 0;
      }
      const no = this.output.admit(key, step, ord, this.opts.rules === "paper");
      if (no) { this.drop(no.reason, `${from.comp}(${from.gen}) -> ${dev}: step ${step} #${ord} after step ${no.last.step} #${no.last.ord} was delivered`); return; }
    }
    this.opts.hooks.device(dev, payload, from);
    if (!bad || !this.opts.hooks.oracle) return;
    const key = `${dev}/${from.comp}/${from.gen}`;
    if (this.reportedDev.has(key)) return;
    this.reportedDev.add(key);
    this.opts.hooks.oracle.violation("erroneous-device-message", `${this.name}: device '${dev}' received a message derived from the fault from ${from.comp}(${from.gen}), step ${stepOf(payload)}, at t=${this.opts.hooks.now()} us`);
  }

  // Simulation only: which logged inputs and outputs derive from the fault, by content
  // (per process, direction, wire and payload; the latest message with that content
  // wins). The core's replay and resend effects hand back only the bytes.
  private book = new Map<number, Set<string>>();
  private reported = new Set<Instance>();
  private reportedDev = new Set<string>(); // device/comp/gen: reported once (the first erroneous message)
  private remember(pid: number, dir: "in" | "out", wi: number, payload: Uint8Array, bad: boolean): void {
    let b = this.book.get(pid);
    if (!bad && !b?.size) return;
    const key = `${dir}/${wi}/${Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("hex")}`;
    if (bad) (b ?? this.book.set(pid, b = new Set()).get(pid)!).add(key);
    else b!.delete(key);
  }
  private recalled(pid: number, dir: "in" | "out", wi: number, payload: Uint8Array): boolean {
    const b = this.book.get(pid);
    return !!b?.size && b.has(`${dir}/${wi}/${Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("hex")}`);
  }

  /** The fallback oracle's source: outputs of the faulty instance that differ from its fault-free twin's. */
  private compareTwin(t: Instance, twin: NonNullable<Instance["twin"]>, before: number, port: number, payload: Uint8Array): void {
    twin.out.length = 0;
    twin.app.handle(port, payload);
    const mine = this.outbox.toArray(before).filter((o) => o.inst === t);
    const n = Math.max(mine.length, twin.out.length);
    for (let i = 0; i < n; i++) {
      const a = mine[i], b = twin.out[i];
      if (a && b && a.port === b.port && Buffer.compare(a.bytes, b.bytes) === 0) continue;
      t.erroneous = true;
      if (a) a.bad = true;
    }
    if (t.erroneous) for (const o of mine) o.bad = true; // the state is corrupted: every output of this step derives from it
  }

  /** Work this board still holds; a finished run must find none (the simulator's stall oracle). */
  unfinished(): string[] {
    const u: string[] = [];
    if (this.held.length) u.push(`${this.held.length} held events`);
    if (this.aheadHeld.length) u.push(`${this.aheadHeld.length} frames from an epoch this board never reached`);
    if (this.outbox.length) u.push(`${this.outbox.length} unsent outputs`);
    if (this.recovering) u.push("a recovery round it never finished");
    if (this.stalled) u.push("a full protocol store waiting for its abort round");
    u.push(...this.rounds.unfinished(), ...this.rounds.unacknowledged());
    if (this.pausedAll) u.push("paused by a commit vote that never ended");
    if (this.pausedInputs) u.push("device inputs paused by an upgrade round that never ended");
    return u;
  }

  // ---- oracle (simulation only) ---------------------------------------------------------------
  /**
   * Ground truth, independent of the protocol: after every event, no process the
   * protocol considers clean (dirty bit 0 and not a new version in guarded operation;
   * after a recovery or a commit every live process is) may hold state derived from the
   * injected fault. Erroneous = App.erroneous() where the component tracks it (exact data
   * flow), else the message-level fallback flag. Reported once per process.
   */
  private checkErroneous(): void {
    const o = this.opts.hooks.oracle;
    if (o) {
      for (const i of this.instances()) {
        if (!(i.app.erroneous ? i.app.erroneous() : i.erroneous)) continue;
        o.faultActive?.();
        if (this.reported.has(i) || this.core.role(i.pid) === "low" || this.core.q(i.pid, "dirty") !== 0) continue;
        this.reported.add(i);
        const role = this.core.role(i.pid);
        o.violation("unvalidated-erroneous-state", `${this.name}: ${i.comp}(${i.gen}, role ${role}) is clean (dirty bit 0${this.guarded ? "" : ", guarded operation over"}) but its state holds a value derived from the fault, at t=${this.opts.hooks.now()} us`);
      }
    }
    this.stats.peakHeld = Math.max(this.stats.peakHeld, this.core.heldBytes());
  }
}
