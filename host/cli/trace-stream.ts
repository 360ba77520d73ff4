// gsu rehearse's trace, streamed: the --trace file is written as the run goes (JSON Lines,
// in the order things happen), and the run keeps in memory only what the reports need,
// so memory does not grow with the run's length.
import { closeSync, openSync, writeSync } from "node:fs";
import type { TraceEvent } from "../runtime/board.ts";
import type { DeviceRecord } from "../sim/testbed.ts";

/** Buffered JSON Lines writer: one writeSync per 64 KiB. */
export class TraceWriter {
  private fd: number;
  private buf: string[] = [];
  private size = 0;
  constructor(readonly path: string) { this.fd = openSync(path, "w"); }
  /** A protocol event: its fields, with t_us for t. */
  event(e: TraceEvent): void {
    const { t, ...rest } = e;
    this.line(JSON.stringify({ ...rest, t_us: t }));
  }
  /** A delivery to a device. */
  device(d: DeviceRecord): void {
    this.line(JSON.stringify({ type: "device", device: d.device, payload: d.payload, t_us: d.t, comp: d.comp, gen: d.gen }));
  }
  private line(s: string): void {
    this.buf.push(s);
    this.size += s.length + 1;
    if (this.size >= 1 << 16) this.flush();
  }
  flush(): void {
    if (!this.buf.length) return;
    writeSync(this.fd, this.buf.join("\n") + "\n");
    this.buf = [];
    this.size = 0;
  }
  close(): void { this.flush(); closeSync(this.fd); }
}

/** Detail events that are per message (the bulk of a trace). */
const PER_MESSAGE = new Set(["send", "recv"]);
/** Events of a recovery: the failure window runs through them (report/rehearsal.ts failureWindow). */
const RECOVERY = new Set(["at-failed", "recovery-request", "recovery-begin", "rollback", "retire", "takeover", "recovered"]);

/**
 * Which trace events a rehearsal keeps in memory for its reports (RunOptions.retain). A run
 * of up to `fullSteps` steps keeps everything. A longer one keeps every event but the
 * per-message ones (send, recv), and those only where the HTML report draws them message
 * by message: around the upgrade (from 20 ms before to 40 ms after it) and around each
 * failed AT (the last 40 ms before it, held in a ring until then; after it, until 100 ms
 * after the recovery's last event). The --trace file gets every event either way.
 */
export function reportRetention(o: { steps: number; fullSteps?: number }): (e: TraceEvent, trace: TraceEvent[]) => void {
  if (o.steps <= (o.fullSteps ?? 2000)) return (e, trace) => { trace.push(e); };
  const BEFORE = 40_000, AFTER = 100_000, UP_BEFORE = 20_000, UP_AFTER = 40_000;
  let keepUntil = -1;
  let upgradeAt = -1;
  const ring: TraceEvent[] = []; // per-message events of the last 40 ms
  let head = 0;
  return (e, trace) => {
    if (e.type === "upgrade" && upgradeAt < 0) {
      upgradeAt = e.t;
      rescue(trace, e.t - UP_BEFORE);
    }
    if (RECOVERY.has(e.type)) {
      if (e.type === "at-failed" && e.t > keepUntil) rescue(trace, e.t - BEFORE);
      keepUntil = Math.max(keepUntil, e.t + AFTER);
    }
    if (!PER_MESSAGE.has(e.type) || e.t <= keepUntil || (upgradeAt >= 0 && e.t <= upgradeAt + UP_AFTER)) { trace.push(e); return; }
    ring.push(e);
    while (head < ring.length && ring[head]!.t < e.t - BEFORE) head++;
    if (head > 4096) { ring.splice(0, head); head = 0; }
  };
  /** The ring's events from `from` on go into the trace, in time order. */
  function rescue(trace: TraceEvent[], from: number): void {
    const back = ring.slice(head).filter((r) => r.t >= from);
    ring.length = 0;
    head = 0;
    if (!back.length) return;
    let i = trace.length;
    while (i > 0 && trace[i - 1]!.t > back[0]!.t) i--;
    const tail = trace.splice(i);
    // merge two time-ordered runs (stable: ring events first at equal times, as they came first)
    let a = 0, b = 0;
    while (a < back.length || b < tail.length) {
      if (b >= tail.length || (a < back.length && back[a]!.t <= tail[b]!.t)) trace.push(back[a++]!);
      else trace.push(tail[b++]!);
    }
  }
}
