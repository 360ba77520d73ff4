// The upload progress display. On a terminal: one bar redrawn in place with \r
// (bytes, percent, rate, time left). Not on a terminal: a plain line at every
// 10% step, so logs and CI traces show progress without control characters.
import type { UploadProgress } from "./upload.ts";

export const fmtBytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(2)} MiB`;

export const fmtRate = (bps: number): string => `${fmtBytes(Math.round(bps))}/s`;

export function fmtDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "--";
  if (ms < 1000) return "<1 s";
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${String(s % 60).padStart(2, "0")} s` : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

const pct = (p: UploadProgress) => (p.size ? Math.floor((p.acked * 100) / p.size) : 100);

export interface ProgressOptions {
  write: (s: string) => void;
  tty: boolean;
  /** Terminal width (bar mode). */
  columns?: number;
  label: string;
  /** Bar mode: least ms between redraws (default 100). */
  redrawMs?: number;
}

export class ProgressDisplay {
  private lastDraw = -Infinity;
  private lastStep = -1;
  private drawn = false;
  private last: UploadProgress | null = null;

  constructor(private o: ProgressOptions) {}

  /** One line: bytes, percent, rate, time left. */
  static line(p: UploadProgress): string {
    return `${fmtBytes(p.acked)} / ${fmtBytes(p.size)} (${pct(p)}%), ${fmtRate(p.rate)}, ${p.acked >= p.size ? "done" : `${fmtDuration(p.etaMs)} left`}`;
  }

  start(p: UploadProgress): void {
    if (p.resumedFrom > 0) this.o.write(`${this.o.label}: resuming: the board already holds ${fmtBytes(p.resumedFrom)} of ${fmtBytes(p.size)} (${pct(p)}%)\n`);
    this.lastStep = Math.floor(pct(p) / 10);
    if (!this.o.tty) { if (p.resumedFrom === 0) this.o.write(`${this.o.label}: ${ProgressDisplay.line(p)}\n`); }
    else this.update(p, true);
  }

  update(p: UploadProgress, force = false): void {
    this.last = p;
    if (this.o.tty) {
      const now = performance.now();
      if (!force && p.acked < p.size && now - this.lastDraw < (this.o.redrawMs ?? 100)) return;
      this.lastDraw = now;
      this.o.write(`\r${this.bar(p)}\x1b[K`);
      this.drawn = true;
      return;
    }
    const step = Math.floor(pct(p) / 10);
    if (step > this.lastStep) {
      this.lastStep = step;
      this.o.write(`${this.o.label}: ${ProgressDisplay.line(p)}\n`);
    }
  }

  /** Bar mode: wipes the bar so another line can be printed in its place. */
  clear(): void {
    if (this.drawn) this.o.write("\r\x1b[K");
  }

  /** Bar mode: draws the last state again (after clear()). */
  redraw(): void {
    if (this.drawn && this.last) this.o.write(`\r${this.bar(this.last)}\x1b[K`);
  }

  /** Ends the bar's line (bar mode) so the next message starts on its own line. */
  end(): void {
    if (this.drawn) { this.o.write("\n"); this.drawn = false; }
  }

  private bar(p: UploadProgress): string {
    const text = ` ${pct(p).toString().padStart(3)}% ${fmtBytes(p.acked)}/${fmtBytes(p.size)} ${fmtRate(p.rate)} ${p.acked >= p.size ? "done" : `${fmtDuration(p.etaMs)} left`}`;
    const cols = this.o.columns ?? 80;
    const label = this.o.label.length > 24 ? `${this.o.label.slice(0, 23)}…` : this.o.label;
    const width = Math.max(10, Math.min(40, cols - text.length - label.length - 4));
    const fill = p.size ? Math.round((p.acked / p.size) * width) : width;
    return `${label} [${"#".repeat(fill)}${"-".repeat(width - fill)}]${text}`;
  }
}
