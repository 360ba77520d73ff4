// Board side of telemetry: samples a Board's processes, protocol counters and link
// counters into dictionary channels, and turns the Board's trace events into
// dictionary events; both come out as CCSDS packets ready for a link.
//
//   const tlm = new BoardTelemetry(node);                  // before the Board exists
//   const board = new Board({ ..., hooks: { ..., event: (e) => { const p = tlm.event(e); if (p) send(p); } } });
//   tlm.attach(board);
//   setInterval(() => tlm.sample().forEach(send), 1000);   // channels at 1 Hz (changed ones; all every 10 s)
import type { Board, TraceEvent } from "../runtime/board.ts";
import type { Core } from "../core/core.ts";
import type { Transport } from "../transport/types.ts";
import { loadDictionary, SEVERITIES, TelemetryEncoder, type Dictionary, type Severity, type Value } from "./dictionary.ts";

export interface BoardTelemetryOptions {
  dict?: Dictionary;
  /** Clock for packet times, microseconds since the epoch (default: wall clock). */
  now?: () => number;
  /** Events below this severity are not sent (default ACTIVITY_LO: DIAGNOSTIC is off, as F Prime's default filter). */
  minSeverity?: Severity;
  /** Link names for LINK_TLM (default: "link0", "link1", ...). */
  linkNames?: string[];
  /** Extra transports to report besides the board's own. */
  transports?: Transport[];
  /**
   * Each packet of a sample round carries only the channels whose value changed since
   * the last round, as F Prime's TlmChan does, and every channel once every N rounds
   * (default 10; 1: always all), staggered across the packets. A packet with nothing
   * to send is left out, except BOARD_TLM (the heartbeat).
   */
  refreshEvery?: number;
}

export interface ProcSample { pid: number; comp: string; values: Record<string, Value> }

/** Aligned payload bytes, as the core's rings count them (assembly/ring.ts alen). */
const alen = (n: number) => (n === 0 ? 8 : (n + 7) & ~7);

interface CoreInternals { x?: { entryLen(pid: number, which: number, i: number): number } }

/**
 * Entries and bytes held in one of a process's rings (0 checkpoints, 1 input log,
 * 2 internal output log, 3 external output log). The Core facade exposes counts and
 * the total held, but not bytes per ring: this reads the core's exported entryLen.
 */
export function ringUsage(core: Core, pid: number, which: 0 | 1 | 2 | 3): { entries: number; bytes: number } {
  const entries = core.q(pid, (["ckpts", "inLog", "outInt", "outExt"] as const)[which]);
  const x = (core as unknown as CoreInternals).x;
  if (!x?.entryLen) return { entries, bytes: which === 0 ? core.q(pid, "held") : 0 };
  let bytes = 0;
  for (let i = 0; i < entries; i++) bytes += alen(x.entryLen(pid, which, i) >>> 0);
  return { entries, bytes };
}

export class BoardTelemetry {
  readonly dict: Dictionary;
  readonly encoder: TelemetryEncoder;
  private board?: Board;
  private readonly now: () => number;
  private readonly minSeverity: number;
  private readonly startUs: number;
  private takeovers = new Map<string, number>();   // comp -> takeovers by its old version
  private comps = new Map<number, { comp: string; gen: string }>(); // pid -> component, kept after retirement
  private throttle = new Map<number, { second: number; n: number }>();
  private last = new Map<string, Record<string, Value>>(); // packet key -> values last sent
  private rounds = 0;
  throttled = 0;
  eventsSent = 0;

  constructor(readonly node: number, readonly o: BoardTelemetryOptions = {}) {
    this.dict = o.dict ?? loadDictionary();
    this.encoder = new TelemetryEncoder(this.dict, node);
    this.now = o.now ?? (() => Date.now() * 1000);
    this.minSeverity = SEVERITIES.indexOf(o.minSeverity ?? "ACTIVITY_LO");
    this.startUs = this.now();
  }

  attach(board: Board): this {
    if (board.node !== this.node) throw new Error(`telemetry for node ${this.node} attached to board '${board.name}' (node ${board.node})`);
    this.board = board;
    return this;
  }

  private get b(): Board {
    if (!this.board) throw new Error("BoardTelemetry: attach(board) first");
    return this.board;
  }

  // ---- channels -------------------------------------------------------------------------
  procSamples(): ProcSample[] {
    const b = this.b, core = b.core;
    const live = new Map(b.instances().map((i) => [i.pid, i]));
    const out: ProcSample[] = [];
    for (let pid = 0; pid < core.config.procs!; pid++) {
      const role = core.role(pid);
      if (role === "free") continue;
      const inst = live.get(pid);
      if (inst) this.comps.set(pid, { comp: inst.comp, gen: inst.gen });
      const known = this.comps.get(pid);
      const comp = known?.comp ?? `#${pid}`;
      const gen = known?.gen ?? (role === "hs" ? "old" : role === "low" ? "new" : "base");
      const ck = ringUsage(core, pid, 0);
      const logs = ([1, 2, 3] as const).map((w) => ringUsage(core, pid, w));
      out.push({
        pid, comp, values: {
          PROC_ROLE: role, PROC_GEN: gen, PROC_DIRTY: core.q(pid, "dirty") !== 0, PROC_MSN_LOCAL: core.q(pid, "local"),
          PROC_PRGT: core.q(pid, "prgt") !== 0, PROC_IVR: core.q(pid, "iVR"), PROC_IVR_EXT: core.q(pid, "iVRext"),
          PROC_CKPTS: ck.entries, PROC_CKPT_BYTES: ck.bytes,
          PROC_LOG_ENTRIES: logs.reduce((s, l) => s + l.entries, 0), PROC_LOG_BYTES: logs.reduce((s, l) => s + l.bytes, 0),
          PROC_HELD_BYTES: core.q(pid, "held"), PROC_PEAK_BYTES: core.q(pid, "peak"),
          PROC_CKPTS_TAKEN: core.q(pid, "ckptsTaken"), PROC_LOGGED: core.q(pid, "logged"),
          PROC_AT_PASSED: core.q(pid, "atPassed"), PROC_AT_FAILED: core.q(pid, "atFailed"),
          PROC_ROLLBACKS: core.q(pid, "rollbacks"), PROC_LAST_ROLLBACK: core.q(pid, "lastRollback"),
          PROC_TAKEOVERS: gen === "old" ? this.takeovers.get(comp) ?? 0 : 0,
          PROC_REPLAYED: core.q(pid, "replayed"), PROC_RESENT: core.q(pid, "resent"), PROC_DELIVERED: core.q(pid, "delivered"),
        },
      });
    }
    return out;
  }

  boardSamples(tUs = this.now()): Record<string, Value> {
    const b = this.b, core = b.core, s = b.stats;
    const v: Record<string, Value> = {
      BOARD_GUARDED: core.global("guarded") !== 0, BOARD_RECOVERING: core.global("recovering") !== 0, BOARD_EPOCH: b.epoch,
      BOARD_INT_MSN_LOW: core.global("low"), BOARD_EXT_MSN_LOW: core.global("lowExt"),
      BOARD_INT_MSN_SDW: core.global("sdw"), BOARD_EXT_MSN_SDW: core.global("sdwExt"),
      BOARD_KNOWN_V: core.global("knownV"), BOARD_KNOWN_VEXT: core.global("knownVext"),
      BOARD_HELD_BYTES: core.heldBytes(), BOARD_PEAK_HELD: Math.max(s.peakHeld, core.heldBytes()),
      BOARD_RECOVERIES: s.recoveries, BOARD_TAKEOVERS: [...this.takeovers.values()].reduce((a, n) => a + n, 0), BOARD_COMMITS: s.commits,
      BOARD_AT_PASSED: s.atPassed, BOARD_AT_FAILED: s.atFailed, BOARD_CHECKPOINTS: s.checkpoints, BOARD_LOGGED: s.logged,
      BOARD_DIRTY_RECEIPTS: s.dirtyReceipts, BOARD_MAX_ROLLBACK: s.maxRollback, BOARD_EVENTS_THROTTLED: this.throttled,
      BOARD_UPTIME: Math.max(0, Math.floor((tUs - this.startUs) / 1e6)),
      BOARD_ROUND_RESENDS: b.rounds.counts.resends, BOARD_ROUND_TIMEOUTS: b.rounds.counts.timeouts, BOARD_ROUND_CATCH_UPS: b.rounds.counts.caughtUp,
    };
    Object.assign(v, this.drops("board", s.dropped));
    return v;
  }

  /**
   * Drop counters by reason -> the dictionary's per-reason channels (unknown reasons
   * add up in *_DROP_OTHER). Only non-zero counters are sent: they never decrease,
   * so a channel absent from a sample set reads 0.
   */
  private drops(scope: "board" | "link", dropped: Record<string, number>): Record<string, Value> {
    const m = this.dict.dropChannel[scope];
    const v: Record<string, number> = {};
    for (const [reason, n] of Object.entries(dropped)) {
      if (!n) continue;
      const c = m.get(reason) ?? m.get("*")!;
      v[c.name] = (v[c.name] ?? 0) + n;
    }
    return v;
  }

  transports(): Transport[] { return [this.b.opts.transport, ...(this.o.transports ?? [])]; }

  linkSamples(t: Transport): Record<string, Value> {
    const s = t.stats();
    // the link layer between boards (host/transport/reliable.ts), when the transport is one
    const l = (s as { layer?: { retransmits: number; sessionResets: number; inFlight: number; peersOpen: number } }).layer;
    return {
      LINK_FRAMES_OUT: s.framesOut, LINK_FRAMES_IN: s.framesIn, LINK_BYTES_OUT: s.bytesOut, LINK_BYTES_IN: s.bytesIn,
      LINK_DROPPED: Object.values(s.dropped).reduce((a, n) => a + n, 0),
      ...(l ? { LINK_RETRANSMITS: l.retransmits, LINK_SESSION_RESETS: l.sessionResets, LINK_IN_FLIGHT: l.inFlight, LINK_PEERS_OPEN: l.peersOpen } : {}),
      ...this.drops("link", s.dropped),
    };
  }

  /**
   * One sample round: BOARD_TLM, one LINK_TLM per transport, one PROC_TLM per process,
   * each with the channels changed since the last round (all of them on refresh rounds).
   */
  sample(tUs = this.now()): Uint8Array[] {
    // Refreshes are staggered: packet k of the round is whole when (round + k) % N == 0,
    // so the full sets spread over N seconds instead of arriving together (round 0: all).
    const round = this.rounds++, n = Math.max(1, this.o.refreshEvery ?? 10);
    let k = 0;
    const full = () => round === 0 || (round + k++) % n === 0;
    const out = [this.encoder.board(tUs, this.changed("board", this.boardSamples(tUs), full()))];
    this.transports().forEach((t, i) => {
      const f = full();
      const v = this.changed(`link${i}`, this.linkSamples(t), f);
      if (f || Object.keys(v).length) out.push(this.encoder.link(tUs, i, this.o.linkNames?.[i] ?? `link${i}`, v));
    });
    for (const p of this.procSamples()) {
      const f = full();
      const v = this.changed(`proc${p.pid}/${p.comp}/${p.values.PROC_GEN}`, p.values, f);
      if (f || Object.keys(v).length) out.push(this.encoder.proc(tUs, p.pid, p.comp, v));
    }
    return out;
  }

  private changed(key: string, v: Record<string, Value>, full: boolean): Record<string, Value> {
    const prev = this.last.get(key);
    this.last.set(key, v);
    if (full || !prev) return v;
    const d: Record<string, Value> = {};
    for (const [k, x] of Object.entries(v)) if (prev[k] !== x) d[k] = x;
    return d;
  }

  // ---- events ---------------------------------------------------------------------------
  /**
   * The EVENT packet for a Board trace event, or null when the dictionary has no
   * event for it (detail events: send, recv, checkpoint), its severity is filtered
   * out, or it is over its throttle (events per second; counted in BOARD_EVENTS_THROTTLED).
   * Takeovers are counted whether or not the event is sent.
   */
  event(e: TraceEvent, tUs?: number): Uint8Array | null {
    if (e.type === "takeover") this.takeovers.set(String(e.comp), (this.takeovers.get(String(e.comp)) ?? 0) + 1);
    const def = this.dict.eventByTrace.get(e.type);
    if (!def) return null;
    if (SEVERITIES.indexOf(def.severity) < this.minSeverity) return null;
    const t = tUs ?? (typeof e.t === "number" ? e.t : this.now());
    if (def.throttle) {
      const second = Math.floor(t / 1e6);
      const s = this.throttle.get(def.id);
      if (!s || s.second !== second) this.throttle.set(def.id, { second, n: 1 });
      else if (++s.n > def.throttle) { this.throttled++; return null; }
    }
    this.eventsSent++;
    return this.encoder.event(t, def.name, e);
  }
}
