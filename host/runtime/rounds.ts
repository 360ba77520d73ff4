// The coordinator rounds between boards (docs/protocol.md points 6 and 7, section
// "Rounds that survive loss"): the recovery round (begin, bound, apply), the
// two-phase commit (prepare, ready/refuse, commit) and the upgrade round that
// reaches a quiescent point on running boards (quiesce, idle, start, go).
//
// Every round survives lost, duplicated and late frames: every request is resent on a
// timer until it is answered, every handler is idempotent (a repeated request gets the
// same answer), and a board that comes back late is brought to the agreed state by the
// coordinator's resends (apply, commit) or by asking for it (a frame from a newer epoch).
// Without a timer (the explorer, which schedules every delivery itself) nothing is
// resent, and a round waits for every board as before.
//
// Board.ts does the local work (the core's recover-begin / recover-apply / commit,
// pausing and resuming); this file decides when, and talks to the other boards.
import type { Header } from "../core/types.ts";
import { BROADCAST } from "../transport/types.ts";

/** Control frame operations: header kind 6 (control), index = op | arg << 4. */
export const OP = {
  COMMIT: 1, PREPARE: 2, READY: 3, REFUSE: 4, COMMITTED: 5, APPLIED: 6, RESUME: 7,
  QUIESCE: 8, IDLE: 9, START: 10, STARTED: 11, GO: 12, CATCHUP: 13, CURRENT: 14, OFF: 15,
} as const;
export type OpName = keyof typeof OP;
const OP_NAME = new Map<number, OpName>(Object.entries(OP).map(([k, v]) => [v, k as OpName]));
export const opName = (op: number): string => OP_NAME.get(op) ?? `op${op}`;
/** The operations a board sends to the coordinator (its answers); the others come from the coordinator. */
export const ANSWER_OPS: ReadonlySet<number> = new Set([OP.READY, OP.REFUSE, OP.COMMITTED, OP.APPLIED, OP.IDLE, OP.STARTED, OP.CATCHUP]);
/** The largest argument a control frame carries (the index is a 32-bit varint). */
export const ARG_MAX = 0x0fff_ffff;

export const controlIndex = (op: number, arg: number): number => ((arg & ARG_MAX) << 4 | op) >>> 0;
export const splitControl = (index: number): { op: number; arg: number } => ({ op: index & 15, arg: index >>> 4 });

/** Per-peer application frame counts a board reports in IDLE (quiescence detection). */
export type Counts = Map<number, { sent: number; recv: number }>;

export function encodeCounts(c: Counts): Uint8Array {
  const out: number[] = [];
  const varint = (v: number) => { while (v >= 0x80) { out.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); } out.push(v); };
  const peers = [...c.keys()].sort((a, b) => a - b);
  varint(peers.length);
  for (const p of peers) { const x = c.get(p)!; varint(p); varint(x.sent); varint(x.recv); }
  return Uint8Array.from(out);
}

export function decodeCounts(b: Uint8Array): Counts | string {
  let i = 0;
  const varint = (): number | undefined => {
    let v = 0, mul = 1;
    for (let n = 0; n < 5; n++) {
      if (i >= b.length) return undefined;
      const x = b[i++];
      v += (x & 0x7f) * mul;
      if (!(x & 0x80)) return v;
      mul *= 128;
    }
    return undefined;
  };
  const n = varint();
  if (n === undefined || n > 255) return `IDLE body: bad peer count`;
  const c: Counts = new Map();
  for (let k = 0; k < n; k++) {
    const p = varint(), s = varint(), r = varint();
    if (p === undefined || s === undefined || r === undefined) return `IDLE body: truncated at peer ${k} of ${n}`;
    c.set(p, { sent: s, recv: r });
  }
  if (i !== b.length) return `IDLE body: ${b.length - i} trailing bytes`;
  return c;
}

/** What the rounds need from the board they run on. */
export interface RoundHost {
  readonly node: number;
  readonly coordinator: number;
  /** Every board of the system. */
  readonly boards: readonly number[];
  /**
   * Boards whose bound a recovery round must have before it applies: those that make
   * the passes (the cluster's boards, and the coordinator). The others may answer late.
   */
  readonly required: readonly number[];
  now(): number;
  /** Runs fn after us µs; absent: nothing is resent (rounds wait for every board). */
  timer?(us: number, fn: () => void): void;
  header(h: Header): Uint8Array;
  send(dst: number, frame: Uint8Array): void;
  epoch(): number;
  guarded(): boolean;
  /** A board that restarted and is not guarded: it answers a recovery round with nothing to recover (bound 0, 0). */
  restarted(): boolean;
  /**
   * The commit this board voted ready for before it restarted, without learning the
   * outcome (kept on its disk), or -1. Its COMMIT means the others run the new versions:
   * the board must restart into them (trace "commit-adopt") before it acknowledges.
   */
  inDoubt?(): number;
  /**
   * A restarted coordinator: the last commit it opened, and whether it decided it (kept
   * on its disk from the traces "commit-prepare" and "commit-decided", written before the
   * PREPARE or COMMIT leaves). A board in doubt about that commit then hears COMMIT, not
   * RESUME, and a new commit does not reuse its number.
   */
  commitLog?(): { n: number; decided: boolean } | undefined;
  recovering(): boolean;
  /** The core's recover-begin: this board's bound; the board stops application work. */
  // Bounds are vectors over the cluster's member slots (docs/protocol.md point 4); with
  // one member, one component.
  beginLocal(next: number): { v: number[]; vext: number[] };
  applyLocal(V: number[], Vext: number[], next: number): void;
  /** Null when this board can commit now, else why not. */
  commitBlocker(): string | null;
  commitLocal(): void;
  /** Holds (all: every application frame and device input; inputs: device inputs only) until resume. */
  pause(what: "all" | "inputs", why: string): void;
  resume(what: "all" | "inputs", why: string): void;
  /** Application frames sent to and received from each other board so far. */
  counts(): Counts;
  /**
   * Starts guarded operation (upgrade round): with the plan this board was given, or, on
   * a board that hosts none of the cluster, with the cluster the coordinator names. False
   * when it cannot yet (it hosts an upgraded component and has not been given the plan).
   */
  startUpgrade(cluster?: string[]): boolean;
  /** The cluster of the guarded operation this board runs (the coordinator's START names it). */
  clusterNames(): string[];
  /** Frames held because they claimed an epoch this board had not reached, and none was: drop them. */
  dropAhead(why: string): void;
  trace(type: string, extra?: Record<string, unknown>): void;
}

export interface RoundOptions {
  /** Resend an unanswered request after this long (µs). */
  resendUs: number;
  /** A recovery round applies without the boards that have not answered after this long, once every required board has. */
  partitionUs: number;
  /** A commit whose votes are not all in after this long is called off (nothing commits without every board). */
  voteUs: number;
  /** Resend periods without progress before a board stops resending (reported as unfinished). */
  maxResends: number;
  /** An upgrade round that has not started guarded operation everywhere after this long is called off (OFF). */
  upgradeUs: number;
}

export const DEFAULT_ROUNDS: RoundOptions = { resendUs: 250_000, partitionUs: 2_000_000, voteUs: 2_000_000, maxResends: 2_000, upgradeUs: 30_000_000 };

/**
 * What a coordinator keeps on its disk from its trace (RoundHost.commitLog): the commit it
 * opened ("commit-prepare") or decided ("commit-decided"); undefined for any other event.
 * Every host records it the same way before the frame leaves.
 */
export function commitLogEntry(e: { type: string; n?: unknown }): { n: number; decided: boolean } | undefined {
  return e.type === "commit-prepare" || e.type === "commit-decided" ? { n: e.n as number, decided: e.type === "commit-decided" } : undefined;
}

export class Rounds {
  // ---- participant state ----
  /** Recovery requested from the coordinator for this epoch and not yet begun. */
  private requested = 0;
  /** Asked the coordinator for the outcome of this epoch's round (a frame from it arrived first). */
  private catchUp = 0;
  private myBound: { next: number; v: number[]; vext: number[] } | null = null;
  private preparedN = -1;
  /** Prepared for this commit when the coordinator restarted: asking for its outcome (coordinatorRestarted). */
  private askAfterRestart = -1;
  private committedN = -1;
  private quiesceN = -1;
  private startedN = -1;
  private goN = -1;
  /** The upgrade round the coordinator called off (OFF), participant and coordinator side. */
  private offN = -1;
  /** The last upgrade round was called off (or died with its coordinator) before this board started guarded operation. */
  private offBeforeStart = false;
  private lastCounts = "";
  // ---- coordinator state ----
  private round: { epoch: number; bounds: Map<number, [number[], number[]]>; opened: number } | null = null;
  private lastApply: { epoch: number; V: number[]; Vext: number[] } | null = null;
  private unackedApply = new Set<number>();
  private commitN = 0;
  private phase: { n: number; votes: Set<number>; opened: number; manual: boolean } | null = null;
  /** An automatic commit that was called off is tried again at this time (µs), if still guarded. */
  private retryCommitAt = -1;
  private unackedCommit = new Set<number>();
  private lastCommitN = -1;
  /** The commit a restarted coordinator had decided before it restarted (commitLog): it answers a vote for it with COMMIT. */
  private restoredDecided = -1;
  private upgrade: { n: number; stage: "quiesce" | "start"; reports: Map<number, Counts>; started: Set<number>; opened: number } | null = null;
  private upgradeN = 0;
  private startBody = new Uint8Array(0);
  private unackedGo = new Set<number>();
  private ticking = false;
  private backoff = 1;
  private ticks = 0;
  readonly opts: RoundOptions;

  /** A restarted participant in doubt about a commit vote has heard the outcome (rounds.ts inDoubt). */
  private doubtResolved = false;
  private askingDoubt(): boolean { return !this.isCoordinator && !this.doubtResolved && (this.h.inDoubt?.() ?? -1) >= 0; }

  constructor(private h: RoundHost, opts?: Partial<RoundOptions>) {
    this.opts = { ...DEFAULT_ROUNDS, ...opts };
    const log = this.isCoordinator ? h.commitLog?.() : undefined;
    if (log) {
      this.commitN = log.n;
      if (log.decided) { this.lastCommitN = log.n; this.restoredDecided = log.n; }
    }
    if (this.askingDoubt()) this.arm(); // its first tick asks the coordinator
  }

  /**
   * What the rounds did, for gsu status and telemetry: requests and decisions sent again
   * (round-resend), rounds that went on without a silent board or gave up on it
   * (recovery-partial, round-gave-up, a commit vote called off for a missing vote), and
   * boards brought up to date after missing a round (round-catch-up, recovery-late).
   */
  readonly counts = { resends: 0, timeouts: 0, caughtUp: 0 };
  private tr(type: string, extra?: Record<string, unknown>): void {
    if (type === "round-resend") this.counts.resends++;
    else if (type === "recovery-partial" || type === "round-gave-up") this.counts.timeouts++;
    else if (type === "round-catch-up" || type === "recovery-late") this.counts.caughtUp++;
    this.h.trace(type, extra);
  }

  get isCoordinator(): boolean { return this.h.node === this.h.coordinator; }
  /** Work a finished run must not hold (the simulator's stall oracle). */
  unfinished(): string[] {
    const u: string[] = [];
    if (this.round) u.push(`an open recovery round (bounds from ${this.round.bounds.size} of ${this.h.boards.length} boards)`);
    if (this.phase) u.push(`an open commit vote (${this.phase.votes.size} of ${this.h.boards.length} boards ready)`);
    if (this.upgrade) u.push(`an upgrade round at its ${this.upgrade.stage} stage`);
    return u;
  }
  /** Commit or recovery decisions some board has not acknowledged yet (a late or partitioned board). */
  unacknowledged(): string[] {
    const u: string[] = [];
    if (this.unackedApply.size) u.push(`apply of epoch ${this.lastApply?.epoch} not acknowledged by node(s) ${[...this.unackedApply].join(", ")}`);
    if (this.unackedCommit.size) u.push(`commit ${this.lastCommitN} not acknowledged by node(s) ${[...this.unackedCommit].join(", ")}`);
    return u;
  }
  get roundOpen(): boolean { return this.round !== null; }
  /** The outcome of the last recovery round this board ran as coordinator (its host keeps it on disk). */
  get lastOutcome(): { epoch: number; V: number[]; Vext: number[] } | null { return this.lastApply; }
  /**
   * A restarted coordinator resumes the outcome of its last round from disk: a board that
   * missed the apply before the crash asks for it again (begin or CATCHUP of that epoch) and
   * must get it; without it that board waits for ever (docs/protocol.md "A board that crashes").
   */
  resumeOutcome(a: { epoch: number; V: number[]; Vext: number[] }): void {
    if (this.isCoordinator && a.epoch === this.h.epoch()) this.lastApply = { epoch: a.epoch, V: [...a.V], Vext: [...a.Vext] };
  }

  private ctl(op: number, arg: number, body?: Uint8Array): Uint8Array {
    const hdr = this.h.header({ kind: "control", dirty: 0, index: controlIndex(op, arg), epoch: this.h.epoch() & 15 });
    if (!body?.length) return hdr;
    const f = new Uint8Array(hdr.length + body.length);
    f.set(hdr, 0);
    f.set(body, hdr.length);
    return f;
  }
  private sendCtl(dst: number, op: number, arg: number, body?: Uint8Array): void { this.h.send(dst, this.ctl(op, arg, body)); }
  private others(): number[] { return this.h.boards.filter((n) => n !== this.h.node); }

  // ---- timers ---------------------------------------------------------------------------
  /** Something waits for an answer: make sure the resend tick runs. */
  private arm(progress = true): void {
    if (progress) this.ticks = 0;
    if (this.ticking || !this.h.timer) return;
    this.ticking = true;
    this.h.timer(this.opts.resendUs * this.backoff, () => { this.ticking = false; this.tick(); });
  }
  /** A participant holding its inputs for an upgrade round that has not said go or off. */
  private upgradePending(): boolean {
    return !this.isCoordinator && this.quiesceN >= 0 && this.goN !== this.quiesceN && this.offN !== this.quiesceN;
  }
  /**
   * This board answers a recovery round with nothing to recover and moves to its epoch: it
   * restarted, or the upgrade round was called off before it started guarded operation.
   */
  private bystander(): boolean {
    if (this.h.guarded() || this.h.recovering()) return false;
    return this.h.restarted() || this.offBeforeStart;
  }
  private waiting(): boolean {
    return this.askingDoubt() || this.upgradePending() || this.requested > this.h.epoch() || this.catchUp > this.h.epoch() || this.round !== null || this.unackedApply.size > 0 || this.phase !== null
      || this.unackedCommit.size > 0 || this.upgrade !== null || this.unackedGo.size > 0
      || (this.preparedN >= 0 && this.h.guarded()) || (this.retryCommitAt >= 0 && this.h.guarded());
  }
  private tick(): void {
    const now = this.h.now();
    if (++this.ticks > this.opts.maxResends) {
      // Nothing answered for maxResends periods: stop resending (a simulated run must end;
      // a board reports it in unfinished()). Any frame that makes progress starts it again.
      this.tr("round-gave-up", { waiting: [...this.unfinished(), ...this.unacknowledged()].join("; ") || "a request" });
      return;
    }
    // participant: ask again
    if (this.requested > this.h.epoch() && !this.h.recovering() && !this.isCoordinator) {
      this.tr("round-resend", { what: "begin", epoch: this.requested });
      this.h.send(this.h.coordinator, this.h.header({ kind: "begin", dirty: 0, index: this.requested, epoch: this.h.epoch() & 15 }));
    }
    if (this.preparedN >= 0 && this.h.guarded() && !this.isCoordinator) this.sendCtl(this.h.coordinator, OP.READY, this.preparedN);
    // restarted in doubt: ask for the outcome with the vote again (the coordinator answers
    // COMMIT if it committed and this board has not acknowledged, else RESUME: the vote is void)
    if (this.askingDoubt()) this.sendCtl(this.h.coordinator, OP.READY, this.h.inDoubt!());
    if (this.catchUp > this.h.epoch() && !this.isCoordinator) this.sendCtl(this.h.coordinator, OP.CATCHUP, this.catchUp);
    // holding inputs for an upgrade round: remind the coordinator with IDLE (one that called the
    // round off or never ran it answers OFF; one whose round is over, GO)
    if (this.upgradePending()) this.sendCtl(this.h.coordinator, OP.IDLE, this.quiesceN, encodeCounts(this.h.counts()));
    // coordinator
    if (this.round) {
      for (const n of this.h.boards) if (!this.round.bounds.has(n)) {
        this.tr("round-resend", { what: "begin", epoch: this.round.epoch, to: n });
        this.h.send(n, this.h.header({ kind: "begin", dirty: 0, index: this.round.epoch, epoch: this.h.epoch() & 15 }));
      }
      this.tryApply(now);
    }
    if (this.lastApply) for (const n of this.unackedApply) {
      this.tr("round-resend", { what: "apply", epoch: this.lastApply.epoch, to: n });
      this.h.send(n, this.applyFrame(this.lastApply));
    }
    if (this.phase) {
      if (now - this.phase.opened >= this.opts.voteUs) this.callOff(true, `no vote from node(s) ${this.others().filter((n) => !this.phase!.votes.has(n)).join(", ")} within ${this.opts.voteUs / 1000} ms`);
      else for (const n of this.others()) if (!this.phase.votes.has(n)) this.sendCtl(n, OP.PREPARE, this.phase.n);
    }
    if (this.retryCommitAt >= 0 && now >= this.retryCommitAt && !this.phase) {
      this.retryCommitAt = -1;
      if (this.h.guarded() && !this.round) { this.tr("commit-retry", {}); if (!this.startCommit(false)) this.retryCommitAt = now + this.opts.voteUs; }
    }
    for (const n of this.unackedCommit) { this.tr("round-resend", { what: "commit", n: this.lastCommitN, to: n }); this.sendCtl(n, OP.COMMIT, this.lastCommitN); }
    if (this.upgrade && now - this.upgrade.opened >= this.opts.upgradeUs) this.abortUpgrade(`guarded operation had not started on every board after ${this.opts.upgradeUs / 1e6} s`);
    if (this.upgrade) {
      const u = this.upgrade;
      if (u.stage === "quiesce") for (const n of this.others()) this.sendCtl(n, OP.QUIESCE, u.n); // counts may have changed: ask every board
      if (u.stage === "start") for (const n of this.others()) if (!u.started.has(n)) this.sendCtl(n, OP.START, u.n, this.startBody);
    }
    for (const n of this.unackedGo) this.sendCtl(n, OP.GO, this.upgradeN);
    // Late boards: back off up to 8x so a partition does not flood the link.
    this.backoff = this.unackedApply.size || this.unackedCommit.size ? Math.min(8, this.backoff * 2) : 1;
    if (this.waiting()) this.arm(false);
  }

  // ---- recovery round ---------------------------------------------------------------------
  /** This board wants a recovery (a failed AT, a full store, an abort). */
  requestRecovery(): void {
    const next = this.h.epoch() + 1;
    this.tr("recovery-request", { epoch: next });
    if (this.isCoordinator) { this.openRound(next, -1); return; }
    this.requested = next;
    this.h.send(this.h.coordinator, this.h.header({ kind: "begin", dirty: 0, index: next, epoch: this.h.epoch() & 15 }));
    this.arm();
  }

  /**
   * A restarted board got a message of the guarded operation (a dirty one, of the current
   * epoch) and no recovery has begun: its peers may not know it restarted (it crashed before
   * their link layers had its first run's incarnation, or they were cut off from it when it
   * came back). It asks for the recovery its restart needs, once per epoch; a coordinator
   * with no guarded operation to end answers CURRENT and the request is dropped.
   */
  requestAfterRestart(): void {
    const next = this.h.epoch() + 1;
    if (this.requested >= next || this.h.recovering()) return;
    this.tr("recovery-request", { epoch: next, why: "a restarted board got a message of a guarded operation" });
    if (this.isCoordinator) { this.requested = next; this.openRound(next, -1); return; }
    this.requested = next;
    this.h.send(this.h.coordinator, this.h.header({ kind: "begin", dirty: 0, index: next, epoch: this.h.epoch() & 15 }));
    this.arm();
  }

  /**
   * The coordinator restarted while this board was in a recovery round it ran: the round
   * died with it. Ask the restarted coordinator again; it runs the round (with nothing of
   * its own to recover), this board answers with the bound it already has.
   */
  coordinatorRestarted(): boolean {
    if (this.isCoordinator) return false;
    // Voted ready and waiting: the coordinator may have decided before it restarted (it keeps
    // its decision on disk: commitLog). Stay prepared and ask with the vote (tick: READY); it
    // answers COMMIT if it decided, else RESUME, and then guarded operation ends by recovery
    // (askAfterRestart). True: the caller must not request that recovery now.
    const asking = this.preparedN >= 0 && this.h.guarded();
    if (asking) { this.askAfterRestart = this.preparedN; this.tr("commit-outcome-asked", { n: this.preparedN }); this.arm(); }
    // an upgrade round it was running died with it: inputs held for it go on (a board that had
    // started guarded operation ends it by recovery: Board.peerRestarted)
    if ((this.quiesceN >= 0 && this.startedN !== this.quiesceN) || (this.startedN >= 0 && this.goN !== this.startedN)) this.h.resume("inputs", "the coordinator restarted: its upgrade round is off");
    if (this.quiesceN >= 0 && this.startedN !== this.quiesceN) this.offBeforeStart = true;
    if (!asking) this.preparedN = -1;
    this.committedN = -1; this.quiesceN = -1; this.startedN = -1; this.goN = -1; this.lastCounts = "";
    if (!(this.h.recovering() || this.requested > this.h.epoch())) return asking;
    const next = this.h.epoch() + 1;
    this.requested = next;
    this.tr("recovery-request", { epoch: next, why: "the coordinator restarted during the round" });
    this.h.send(this.h.coordinator, this.h.header({ kind: "begin", dirty: 0, index: next, epoch: this.h.epoch() & 15 }));
    this.arm();
    return asking;
  }

  /** A frame from an epoch this board has not reached: it missed a round; ask the coordinator for it. */
  behind(): void {
    if (this.isCoordinator || this.catchUp > this.h.epoch()) return;
    this.catchUp = this.h.epoch() + 1;
    this.tr("round-catch-up", { epoch: this.catchUp });
    // Not a recovery request: the coordinator only sends the outcome of a round that is
    // over (apply), or its current epoch (CURRENT) when there is none, and then the frame
    // that claimed a newer epoch was forged or corrupt: the board drops what it held for it.
    this.sendCtl(this.h.coordinator, OP.CATCHUP, this.catchUp);
    this.arm();
  }

  onBegin(src: number, next: number): void {
    if (this.isCoordinator) { this.openRound(next, src); return; }
    if (src !== this.h.coordinator) return; // only the coordinator opens rounds; a request goes to it
    if (next !== this.h.epoch() + 1) return;
    if (!this.h.guarded()) {
      // restarted (or its upgrade round called off before it started): nothing of the guarded
      // operation is here; answer so the round need not wait
      if (!this.bystander()) return;
      this.myBound = { next, v: [0], vext: [0] };
    } else if (this.phase === null && this.preparedN >= 0) this.resumeFromPrepare("a recovery round began");
    if (this.h.guarded() && !this.h.recovering()) {
      const b = this.h.beginLocal(next);
      this.myBound = { next, ...b };
    }
    const b = this.myBound!;
    this.h.send(this.h.coordinator, this.h.header(boundsHeader("bound", b.v, b.vext, this.h.epoch() & 15)));
  }

  private openRound(next: number, src: number): void {
    const epoch = this.h.epoch();
    if (next <= epoch) {
      // A late board asks for a round that is over: send it the outcome again.
      if (src >= 0 && this.lastApply && this.lastApply.epoch === next) { this.unackedApply.add(src); this.h.send(src, this.applyFrame(this.lastApply)); this.arm(); }
      return;
    }
    if (next !== epoch + 1) return;
    if (this.round) {
      if (src >= 0 && !this.round.bounds.has(src)) this.h.send(src, this.h.header({ kind: "begin", dirty: 0, index: next, epoch: epoch & 15 }));
      return;
    }
    // a restarted coordinator runs the round the others ask for (they lost the guarded operation it held)
    const bystander = this.bystander();
    if (!this.h.guarded() && !bystander) { if (src >= 0) this.sendCtl(src, OP.CURRENT, epoch); return; } // nothing to end: the request is void
    if (this.phase) this.callOff(false, "a recovery round began");
    this.round = { epoch: next, bounds: new Map(), opened: this.h.now() };
    this.h.send(BROADCAST, this.h.header({ kind: "begin", dirty: 0, index: next, epoch: epoch & 15 }));
    const b = bystander ? { v: [0], vext: [0] } : this.h.beginLocal(next);
    this.round.bounds.set(this.h.node, [b.v, b.vext]);
    this.arm();
    this.tryApply(this.h.now());
  }

  onBound(src: number, v: number[], vext: number[], epochMod: number): void {
    if (!this.round || ((epochMod + 1) & 15) !== (this.round.epoch & 15)) return;
    if (!this.h.boards.includes(src)) return;
    this.round.bounds.set(src, [v, vext]);
    this.tryApply(this.h.now());
  }

  private tryApply(now: number): void {
    const r = this.round;
    if (!r) return;
    const missing = this.h.boards.filter((n) => !r.bounds.has(n));
    if (missing.length) {
      // Every bound a pass produced is known to the boards that make passes (the
      // cluster's): without them V could be too low. The others may be late.
      if (!this.h.timer || now - r.opened < this.opts.partitionUs) return;
      if (this.h.required.some((n) => !r.bounds.has(n))) return;
      this.tr("recovery-partial", { epoch: r.epoch, missing });
    }
    // componentwise maximum (vectors over the members)
    const V: number[] = [], Vext: number[] = [];
    for (const [a, b] of r.bounds.values()) { joinInto(V, a); joinInto(Vext, b); }
    if (!V.length) V.push(0);
    if (!Vext.length) Vext.push(0);
    this.round = null;
    this.lastApply = { epoch: r.epoch, V, Vext };
    for (const n of this.others()) this.unackedApply.add(n);
    this.h.send(BROADCAST, this.applyFrame(this.lastApply));
    this.h.applyLocal(V, Vext, r.epoch);
    this.arm();
  }

  private applyFrame(a: { epoch: number; V: number[]; Vext: number[] }): Uint8Array {
    return this.h.header(boundsHeader("apply", a.V, a.Vext, a.epoch & 15));
  }

  onApply(src: number, V: number[], Vext: number[], epochMod: number): void {
    if (this.isCoordinator || src !== this.h.coordinator) return;
    const epoch = this.h.epoch();
    if (epochMod === (epoch & 15) && epoch > 0) { this.sendCtl(this.h.coordinator, OP.APPLIED, epoch); return; } // a resend: already applied
    if (epochMod !== ((epoch + 1) & 15)) return;
    const next = epoch + 1;
    if (!this.h.recovering() && !this.bystander()) {
      if (!this.h.guarded()) return;
      // It missed the begin (lost, or it was cut off): recover now, from the agreed bound.
      this.tr("recovery-late", { epoch: next });
      if (this.preparedN >= 0) this.resumeFromPrepare("a recovery round ended");
      this.h.beginLocal(next);
    }
    this.requested = 0;
    this.myBound = null;
    this.h.applyLocal(V, Vext, next);
    this.sendCtl(this.h.coordinator, OP.APPLIED, next);
  }

  // ---- two-phase commit --------------------------------------------------------------------
  /** The coordinator starts a commit vote. False when it cannot now (with the reason traced). */
  startCommit(manual: boolean): boolean {
    if (!this.isCoordinator || this.phase || this.round || !this.h.guarded()) return false;
    const why = this.h.commitBlocker();
    if (why) { this.tr("commit-refused", { node: this.h.node, why }); return false; }
    this.retryCommitAt = -1;
    const n = ++this.commitN;
    this.phase = { n, votes: new Set([this.h.node]), opened: this.h.now(), manual };
    this.h.pause("all", `commit ${n}: waiting for every board`);
    this.tr("commit-prepare", { n });
    if (this.others().length === 0) { this.decideCommit(); return true; }
    this.h.send(BROADCAST, this.ctl(OP.PREPARE, n));
    this.arm();
    return true;
  }

  private decideCommit(): void {
    const p = this.phase!;
    this.phase = null;
    this.lastCommitN = p.n;
    // written to the coordinator's disk before the COMMIT leaves (a restart then still knows it)
    this.tr("commit-decided", { n: p.n });
    for (const n of this.others()) this.unackedCommit.add(n);
    if (this.unackedCommit.size) this.h.send(BROADCAST, this.ctl(OP.COMMIT, p.n));
    this.h.commitLocal();
    this.h.resume("all", `commit ${p.n}`);
    this.arm();
  }

  /** timedOut: a vote missing after voteUs (counted in counts.timeouts), not a refusal or a recovery. */
  private callOff(timedOut: boolean, why: string): void {
    const p = this.phase;
    if (!p) return;
    this.phase = null;
    if (timedOut) this.counts.timeouts++;
    this.tr("commit-called-off", { n: p.n, why });
    // The automatic policy tries again later (a board that was busy or cut off may be ready then).
    if (!p.manual && why !== "a recovery round began") this.retryCommitAt = this.h.now() + this.opts.voteUs;
    this.h.send(BROADCAST, this.ctl(OP.RESUME, p.n));
    this.h.resume("all", `commit ${p.n} called off`);
    this.arm();
  }

  private resumeFromPrepare(why: string): void {
    this.preparedN = -1;
    this.h.resume("all", why);
  }

  onControl(src: number, op: number, arg: number, body: Uint8Array): boolean {
    const c = this.isCoordinator;
    const fromCoord = src === this.h.coordinator;
    switch (op) {
      // participant side
      case OP.PREPARE:
        if (c || !fromCoord) return true;
        if (this.committedN === arg) { this.sendCtl(src, OP.COMMITTED, arg); return true; }
        if (this.preparedN === arg) { this.sendCtl(src, OP.READY, arg); return true; }
        {
          const why = !this.h.guarded() ? "no guarded operation here"
            : this.requested > this.h.epoch() ? "it has asked for a recovery round" : this.h.commitBlocker();
          if (why) { this.tr("commit-refused", { node: this.h.node, n: arg, why }); this.sendCtl(src, OP.REFUSE, arg); return true; }
        }
        this.preparedN = arg;
        this.h.pause("all", `commit ${arg}: voted ready`);
        // written to the board's disk before the vote leaves (a restart then knows it is in doubt)
        this.tr("commit-voted", { n: arg });
        this.sendCtl(src, OP.READY, arg);
        this.arm();
        return true;
      case OP.COMMIT:
        if (c || !fromCoord) return true;
        if (this.askAfterRestart === arg) this.askAfterRestart = -1;
        if (this.h.guarded()) { this.committedN = arg; this.h.commitLocal(); }
        else if (this.h.restarted() && this.committedN !== arg && this.preparedN < 0 && this.h.inDoubt?.() === arg && !this.doubtResolved) {
          // it voted ready, restarted, and runs its old versions: the others committed the new
          // ones. Not acknowledged here: the board restarts into the committed versions (its
          // host does that on this event) and acknowledges the coordinator's next resend.
          this.doubtResolved = true;
          this.tr("commit-adopt", { n: arg });
          return true;
        }
        else if (this.doubtResolved && this.h.inDoubt?.() === arg && this.committedN !== arg) {
          return true; // adopted: the host is starting this board again on the committed versions
        }
        // restarted since: it runs what its store committed, and no guarded operation here waits for this commit
        else if (this.h.restarted() && this.committedN !== arg && this.preparedN < 0) { this.committedN = arg; this.tr("commit-after-restart", { n: arg }); }
        if (this.preparedN >= 0) this.resumeFromPrepare(`commit ${arg}`);
        if (this.committedN === arg) this.sendCtl(src, OP.COMMITTED, arg);
        return true;
      case OP.RESUME:
        if (c || !fromCoord) return true;
        if (this.preparedN === arg) this.resumeFromPrepare(`commit ${arg} called off`);
        // the restarted coordinator had not decided it: guarded operation ends by recovery, as
        // after any coordinator restart (Board.peerRestarted)
        if (this.askAfterRestart === arg) { this.askAfterRestart = -1; if (this.h.guarded() && !this.h.recovering()) this.requestRecovery(); }
        // in doubt about this vote: it was not committed (or is void); the old versions stay
        if (this.askingDoubt() && this.h.inDoubt!() === arg) { this.doubtResolved = true; this.tr("commit-vote-void", { n: arg }); }
        return true;
      // coordinator side
      case OP.READY:
        if (!c) return true;
        if (this.phase && this.phase.n === arg) {
          this.phase.votes.add(src);
          if (this.h.boards.every((n) => this.phase!.votes.has(n))) this.decideCommit();
        } else if (this.lastCommitN === arg && (this.unackedCommit.has(src) || arg === this.restoredDecided)) this.sendCtl(src, OP.COMMIT, arg);
        else if (!this.phase || this.phase.n !== arg) this.sendCtl(src, OP.RESUME, arg); // a stale vote: release it
        return true;
      case OP.REFUSE:
        if (c && this.phase && this.phase.n === arg) this.callOff(false, `node ${src} cannot commit now`);
        return true;
      case OP.COMMITTED:
        if (c && arg === this.lastCommitN) this.unackedCommit.delete(src);
        return true;
      case OP.CATCHUP:
        if (!c) return true;
        if (this.lastApply && this.lastApply.epoch >= arg) { this.unackedApply.add(src); this.h.send(src, this.applyFrame(this.lastApply)); this.arm(); }
        else this.sendCtl(src, OP.CURRENT, this.h.epoch());
        return true;
      case OP.CURRENT:
        if (c || !fromCoord) return true;
        if (arg <= this.h.epoch() && this.catchUp > this.h.epoch()) { this.catchUp = 0; this.h.dropAhead(`the coordinator is at epoch ${arg}`); }
        // a recovery asked for with no guarded operation at the coordinator (requestAfterRestart): void
        if (arg <= this.h.epoch() && this.requested > this.h.epoch() && !this.h.guarded() && !this.h.recovering()) this.requested = 0;
        return true;
      case OP.APPLIED:
        if (c && this.lastApply && arg === this.lastApply.epoch) this.unackedApply.delete(src);
        return true;
      // upgrade round
      case OP.QUIESCE:
        if (c || !fromCoord) return true;
        if (arg <= this.goN) return true;
        if (arg === this.startedN) { this.sendCtl(src, OP.STARTED, arg); return true; }
        if (this.quiesceN !== arg) { this.quiesceN = arg; this.lastCounts = ""; this.offBeforeStart = false; this.h.pause("inputs", `upgrade ${arg}: quiescing`); }
        this.reportIdle(true);
        this.arm();
        return true;
      case OP.IDLE: {
        if (c && arg === this.offN) { this.sendCtl(src, OP.OFF, arg); return true; }
        if (c && !this.upgrade && arg > this.upgradeN) { this.sendCtl(src, OP.OFF, arg); return true; } // a round this coordinator never ran (it restarted)
        if (c && !this.upgrade && arg === this.upgradeN && this.unackedGo.has(src)) { this.sendCtl(src, OP.GO, arg); return true; }
        if (!c || !this.upgrade || this.upgrade.n !== arg || this.upgrade.stage !== "quiesce") return true;
        const counts = decodeCounts(body);
        if (typeof counts === "string") { this.tr("drop", { reason: "bad-idle", detail: `from node ${src}: ${counts}` }); return true; }
        this.upgrade.reports.set(src, counts);
        this.checkQuiet();
        return true;
      }
      case OP.START:
        if (c || !fromCoord) return true;
        if (arg === this.quiesceN && this.startedN !== arg) {
          const names = new TextDecoder().decode(body).split(",").filter(Boolean);
          if (this.h.startUpgrade(names)) this.startedN = arg;
        }
        if (this.startedN === arg) this.sendCtl(src, OP.STARTED, arg); // else: the coordinator asks again
        return true;
        return true;
      case OP.STARTED:
        if (!c) return true;
        if (arg === this.offN) { this.sendCtl(src, OP.OFF, arg); return true; }
        if (!this.upgrade && arg === this.upgradeN) { this.unackedGo.delete(src); return true; } // the answer to GO
        if (!this.upgrade || this.upgrade.n !== arg) return true;
        this.upgrade.started.add(src);
        this.checkStarted();
        return true;
      case OP.OFF:
        // the upgrade round is off: inputs resume; a board that had started guarded operation
        // ends it in the recovery round the coordinator runs (the old versions take over)
        if (c || !fromCoord) return true;
        if (arg === this.quiesceN && this.offN !== arg && this.goN !== arg) {
          this.offN = arg;
          if (this.startedN !== arg) this.offBeforeStart = true;
          this.tr("upgrade-aborted", { n: arg, why: "the coordinator called the upgrade round off" });
          this.h.resume("inputs", `upgrade ${arg}: off`);
        }
        return true;
      case OP.GO:
        if (c || !fromCoord) return true;
        if (arg === this.startedN && this.goN !== arg) { this.goN = arg; this.h.resume("inputs", `upgrade ${arg}: go`); }
        if (this.goN === arg) this.sendCtl(src, OP.STARTED, arg);
        return true;
    }
    return false;
  }

  // ---- the upgrade round: a quiescent point on running boards ----------------------------------
  /**
   * The coordinator starts guarded operation on every board at one quiescent point: every
   * board holds its device inputs, the links drain (every board reports the application
   * frames it sent to and received from each other board; the round waits until every
   * pair balances), every board transfers state and starts guarded operation, and only
   * then do the inputs resume. Each board must have been given the plan beforehand.
   */
  startUpgradeRound(): boolean {
    if (!this.isCoordinator || this.upgrade || this.h.guarded()) return false;
    const n = ++this.upgradeN;
    this.upgrade = { n, stage: "quiesce", reports: new Map(), started: new Set([this.h.node]), opened: this.h.now() };
    this.h.pause("inputs", `upgrade ${n}: quiescing`);
    this.tr("upgrade-quiesce", { n });
    if (this.others().length) this.h.send(BROADCAST, this.ctl(OP.QUIESCE, n));
    this.arm();
    this.checkQuiet();
    return true;
  }

  /**
   * The coordinator calls its upgrade round off (a board restarted during it, or it did not
   * reach guarded operation everywhere in upgradeUs): OFF to every board, inputs resume, and
   * if guarded operation started anywhere (the round's start stage) it ends by recovery, an
   * abort: the old versions, whose state at the quiescent point the shadows kept, take over.
   * The ground sees upgrade-aborted; a new upgrade needs the plan again (gsu upgrade).
   */
  abortUpgrade(why: string): void {
    const u = this.upgrade;
    if (!this.isCoordinator || !u) return;
    this.upgrade = null;
    this.offN = u.n;
    this.tr("upgrade-aborted", { n: u.n, why });
    if (this.others().length) this.h.send(BROADCAST, this.ctl(OP.OFF, u.n));
    if (this.h.guarded() && !this.round) this.openRound(this.h.epoch() + 1, -1);
    this.h.resume("inputs", `upgrade ${u.n}: off`);
    this.arm();
  }

  /** A board restarted: an upgrade round of this coordinator cannot finish with what it lost (the plan). */
  peerRestarted(node: number): void {
    if (!this.isCoordinator) return;
    this.unackedGo.delete(node);
    // a commit it had not acknowledged: its new run hears it now, not after the resend backoff
    // (a run in doubt about it adopts it: inDoubt)
    if (this.unackedCommit.has(node)) { this.tr("round-resend", { what: "commit", n: this.lastCommitN, to: node }); this.sendCtl(node, OP.COMMIT, this.lastCommitN); }
    if (this.upgrade) this.abortUpgrade(`node ${node} restarted during the round (it lost the plan)`);
  }

  /** A participant reports its counts while quiescing (after every application frame it handles). */
  reportIdle(force = false): void {
    if (this.isCoordinator) { if (this.upgrade?.stage === "quiesce") this.checkQuiet(); return; }
    if (this.quiesceN < 0 || this.startedN === this.quiesceN) return;
    const body = encodeCounts(this.h.counts());
    const key = Buffer.from(body).toString("hex");
    if (!force && key === this.lastCounts) return;
    this.lastCounts = key;
    this.sendCtl(this.h.coordinator, OP.IDLE, this.quiesceN, body);
  }

  private checkQuiet(): void {
    const u = this.upgrade;
    if (!u || u.stage !== "quiesce") return;
    const all = new Map(u.reports);
    all.set(this.h.node, this.h.counts());
    if (!this.h.boards.every((n) => all.has(n))) return;
    for (const a of this.h.boards) for (const b of this.h.boards) {
      const sent = all.get(a)!.get(b)?.sent ?? 0, recv = all.get(b)!.get(a)?.recv ?? 0;
      if (sent !== recv) return; // a frame a -> b is still on the link
    }
    u.stage = "start";
    this.tr("upgrade-quiet", { n: u.n, afterUs: this.h.now() - u.opened });
    this.h.startUpgrade();
    this.startBody = new TextEncoder().encode(this.h.clusterNames().join(","));
    if (this.others().length) this.h.send(BROADCAST, this.ctl(OP.START, u.n, this.startBody));
    this.checkStarted();
  }

  private checkStarted(): void {
    const u = this.upgrade;
    if (!u || u.stage !== "start" || !this.h.boards.every((n) => u.started.has(n))) return;
    this.upgrade = null;
    for (const n of this.others()) this.unackedGo.add(n);
    if (this.unackedGo.size) this.h.send(BROADCAST, this.ctl(OP.GO, u.n));
    this.h.resume("inputs", `upgrade ${u.n}: go`);
    this.arm();
  }
}

/** dst := dst ⊔ src, componentwise (dst grows to src's length). */
export function joinInto(dst: number[], src: readonly number[]): void {
  for (let j = 0; j < src.length; j++) if (j >= dst.length || src[j] > dst[j]) dst[j] = src[j];
  for (let j = 0; j < dst.length; j++) if (dst[j] === undefined) dst[j] = 0;
}
/** A bound or apply header: the scalar form when only the first components can be nonzero. */
function boundsHeader(kind: "bound" | "apply", P: number[], Q: number[], epoch: number): Header {
  const h: Header = { kind, dirty: 0, index: P[0] ?? 0, epoch, aux: Q[0] ?? 0 };
  if (P.some((x, j) => j > 0 && x !== 0) || Q.some((x, j) => j > 0 && x !== 0)) { h.P = P; h.Q = Q; }
  return h;
}
