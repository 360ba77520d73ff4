// The live terminal view of `gsu telemetry`: a table of boards, processes and
// counters and an event log tail, redrawn in place with ANSI escapes. When the
// output is not a terminal it prints one line per event instead.
import type { EventRecord, Value } from "./dictionary.ts";
import type { GroundRecord, GroundStation } from "./ground.ts";

const ESC = "\x1b[";
export const ansi = {
  hide: `${ESC}?25l`, show: `${ESC}?25h`, clearLine: `${ESC}2K`, clearDown: `${ESC}J`,
  up: (n: number) => (n > 0 ? `${ESC}${n}F` : "\r"),
};

const SEV_COLOUR: Record<string, string> = {
  DIAGNOSTIC: "2", ACTIVITY_LO: "0", ACTIVITY_HI: "36", WARNING_LO: "33", WARNING_HI: "1;33", FATAL: "1;31",
};

const pad = (s: unknown, n: number) => String(s).padEnd(n).slice(0, Math.max(n, 1));
const lpad = (s: unknown, n: number) => String(s).padStart(n);
const num = (v: Value | undefined) => (typeof v === "number" ? v : typeof v === "boolean" ? Number(v) : 0);
const yes = (v: Value | undefined) => (v === true ? "yes" : v === false ? "no" : "-");
const bytes = (n: number) => (n >= 10_240 ? `${(n / 1024).toFixed(0)}K` : String(n));
/** A real board's packet time is Unix microseconds; a simulated one counts from 0. */
const isClock = (us: number) => us > 1e14;
const two = (n: number) => String(n).padStart(2, "0");
/** Clock time (HH:MM:SS.mmm, local) for a real board's time, seconds for a simulated one. */
export const fmtTime = (us: number) => {
  if (!isClock(us)) return `${(us / 1e6).toFixed(3)} s`;
  const d = new Date(us / 1000);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, "0")}`;
};

/** The printed width of a line: ANSI escape sequences take no columns. */
export const ANSI_RE = /\x1b\[[0-9;?]*[A-Za-z]/g;
export function visibleWidth(s: string): number { return s.replace(ANSI_RE, "").length; }

/** The first `width` visible characters of a line, escapes kept (and a reset added if colour was cut). */
export function clipVisible(s: string, width: number): string {
  if (visibleWidth(s) <= width) return s;
  let out = "", n = 0, i = 0, coloured = false;
  while (i < s.length && n < width) {
    if (s[i] === "\x1b") {
      ANSI_RE.lastIndex = i;
      const m = ANSI_RE.exec(s);
      if (m && m.index === i) { out += m[0]; coloured = m[0] !== `${ESC}0m`; i += m[0].length; continue; }
    }
    out += s[i++]; n++;
  }
  ANSI_RE.lastIndex = 0;
  return coloured ? out + `${ESC}0m` : out;
}

/** Events that end the story an AT_FAILED starts. */
const RECOVERY_SHOWN = new Set(["ROLLBACK"]);

/**
 * The last `n` events, except that the latest AT_FAILED stays on screen (pinned first) while its
 * rollback has not arrived yet or is still in view, so cause and effect are seen together.
 */
export function eventTail(events: EventRecord[], n: number): { lines: EventRecord[]; pinned?: EventRecord } {
  if (n <= 0) return { lines: [] };
  const tail = events.slice(-n);
  let fi = -1;
  for (let i = events.length - 1; i >= 0; i--) if (events[i].event === "AT_FAILED") { fi = i; break; }
  if (fi < 0 || fi >= events.length - n) return { lines: tail };
  const rb = events.findIndex((e, i) => i > fi && RECOVERY_SHOWN.has(e.event));
  const shown = events.slice(-(n - 1));
  if (rb >= 0 && !shown.includes(events[rb])) return { lines: tail };   // rollback seen and gone: no pin
  return { pinned: events[fi], lines: shown };
}

export interface ViewOptions {
  out?: (s: string) => void;
  tty?: boolean;
  colour?: boolean;
  source?: string;
  /** Lines of the event tail (default 10). */
  tail?: number;
  /** Terminal width (default: stdout's columns). */
  columns?: number;
  /** Node id -> board name, if known. */
  names?: Map<number, string>;
}

export class LiveView {
  private lines = 0;
  private first?: number;
  private dirty = false;
  private timer?: NodeJS.Timeout;
  private readonly out: (s: string) => void;
  readonly tty: boolean;
  private readonly colour: boolean;

  constructor(readonly station: GroundStation, readonly o: ViewOptions = {}) {
    this.out = o.out ?? ((s) => process.stdout.write(s));
    this.tty = o.tty ?? !!process.stdout.isTTY;
    this.colour = o.colour ?? (this.tty && !process.env.NO_COLOR);
  }

  private c(code: string, s: string): string { return this.colour && code !== "0" ? `${ESC}${code}m${s}${ESC}0m` : s; }
  private name(node: number): string { return this.o.names?.get(node) ?? `node ${node}`; }

  /** Feed every record here (GroundOptions.onRecord). */
  record(r: GroundRecord): void {
    if (!this.tty) {
      if (r.type === "event") this.out(this.eventLine(r) + "\n");
      else if (r.type === "reject") this.out(`rejected (${r.reason}): ${r.detail}\n`);
      return;
    }
    this.dirty = true;
  }

  eventLine(e: EventRecord): string {
    return `${lpad(fmtTime(e.t_us), 12)}  ${pad(this.name(e.node), 8)} ${this.c(SEV_COLOUR[e.severity] ?? "0", pad(e.severity, 11))} ${pad(e.event, 20)} ${e.text}`;
  }

  /** Starts redrawing at most `hz` times a second (TTY only). */
  start(hz = 10): void {
    if (!this.tty) return;
    this.out(ansi.hide);
    this.timer = setInterval(() => { if (this.dirty) this.draw(); }, 1000 / hz);
  }

  /** Final redraw (TTY) or summary line (otherwise); restores the cursor. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) { this.draw(); this.out(ansi.show); }
    else this.out(this.summary() + "\n");
  }

  summary(): string {
    const s = this.station;
    const rej = Object.entries(s.rejects).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
    const lost = [...s.boards.values()].reduce((a, b) => a + b.lost, 0);
    return `${s.packets} packets from ${s.boards.size} boards, ${s.events.length} events shown, rejected: ${rej}, lost by sequence count: ${lost}`;
  }

  /** The screen as lines (also used by tests). */
  render(): string[] {
    const s = this.station;
    const L: string[] = [];
    const last = Math.max(0, ...[...s.boards.values()].map((b) => b.t_us));
    if (this.first === undefined && s.packets) this.first = Math.min(...[...s.boards.values()].map((b) => b.t_us), last);
    const since = this.first !== undefined && isClock(last) ? ` (+${((last - this.first) / 1e6).toFixed(1)} s)` : "";
    L.push(this.c("1", `GSU telemetry`) + `  ${this.o.source ?? ""}  t=${fmtTime(last)}${since}  ${this.summary()}`);
    L.push("");
    L.push(this.c("4", `${pad("board", 9)}${pad("guarded", 8)}${lpad("epoch", 5)} ${lpad("int_mSN low", 11)} ${lpad("sdw", 6)} ${lpad("held B", 8)} ${lpad("AT ok", 6)} ${lpad("fail", 5)} ${lpad("recov", 5)} ${lpad("takeov", 6)} ${lpad("commit", 6)} ${lpad("frames out/in", 14)} ${lpad("dropped", 8)}  drop reasons`));
    const boards = [...s.boards.values()].sort((a, b) => a.node - b.node);
    for (const b of boards) {
      const v = b.values;
      let fo = 0, fi = 0, dr = 0;
      const reasons: string[] = [];
      for (const l of b.links.values()) {
        fo += num(l.values.LINK_FRAMES_OUT); fi += num(l.values.LINK_FRAMES_IN); dr += num(l.values.LINK_DROPPED);
        for (const [k, x] of Object.entries(l.values)) if (k.startsWith("LINK_DROP_") && num(x)) reasons.push(`${k.slice(10).toLowerCase()} ${x}`);
      }
      for (const [k, x] of Object.entries(v)) if (k.startsWith("BOARD_DROP_") && num(x)) { reasons.push(`${k.slice(11).toLowerCase()} ${x}`); dr += num(x); }
      const guarded = v.BOARD_RECOVERING ? this.c("33", pad("recover", 8)) : v.BOARD_GUARDED ? this.c("36", pad("yes", 8)) : pad(yes(v.BOARD_GUARDED), 8);
      L.push(`${pad(this.name(b.node), 9)}${guarded}${lpad(num(v.BOARD_EPOCH), 5)} ${lpad(num(v.BOARD_INT_MSN_LOW), 11)} ${lpad(num(v.BOARD_INT_MSN_SDW), 6)} ${lpad(bytes(num(v.BOARD_HELD_BYTES)), 8)} ${lpad(num(v.BOARD_AT_PASSED), 6)} ${lpad(num(v.BOARD_AT_FAILED), 5)} ${lpad(num(v.BOARD_RECOVERIES), 5)} ${lpad(num(v.BOARD_TAKEOVERS), 6)} ${lpad(num(v.BOARD_COMMITS), 6)} ${lpad(`${fo}/${fi}`, 14)} ${lpad(dr, 8)}  ${reasons.join(", ").replace(/_/g, "-")}`);
    }
    L.push("");
    L.push(this.c("4", `${pad("board", 9)}${lpad("pid", 3)} ${pad("component", 11)}${pad("gen", 5)}${pad("role", 8)}${pad("dirty", 6)}${lpad("local", 6)} ${lpad("ckpts", 5)} ${lpad("ckpt B", 7)} ${lpad("logs", 5)} ${lpad("log B", 6)} ${lpad("held B", 7)} ${lpad("peak B", 7)} ${lpad("AT ok", 6)} ${lpad("fail", 4)} ${lpad("rollb", 5)} ${lpad("takeov", 6)}`));
    for (const b of boards) {
      for (const p of [...b.procs.values()].sort((x, y) => x.pid - y.pid)) {
        const v = p.values;
        const role = String(v.PROC_ROLE ?? "-");
        const roleC = role === "low" ? this.c("36", pad(role, 8)) : role === "hs" ? this.c("35", pad(role, 8)) : role === "retired" ? this.c("2", pad(role, 8)) : pad(role, 8);
        const dirty = v.PROC_DIRTY ? this.c("33", pad("dirty", 6)) : pad("clean", 6);
        L.push(`${pad(this.name(b.node), 9)}${lpad(p.pid, 3)} ${pad(p.comp, 11)}${pad(v.PROC_GEN ?? "-", 5)}${roleC}${dirty}${lpad(num(v.PROC_MSN_LOCAL), 6)} ${lpad(num(v.PROC_CKPTS), 5)} ${lpad(bytes(num(v.PROC_CKPT_BYTES)), 7)} ${lpad(num(v.PROC_LOG_ENTRIES), 5)} ${lpad(bytes(num(v.PROC_LOG_BYTES)), 6)} ${lpad(bytes(num(v.PROC_HELD_BYTES)), 7)} ${lpad(bytes(num(v.PROC_PEAK_BYTES)), 7)} ${lpad(num(v.PROC_AT_PASSED), 6)} ${lpad(num(v.PROC_AT_FAILED), 4)} ${lpad(num(v.PROC_ROLLBACKS), 5)} ${lpad(num(v.PROC_TAKEOVERS), 6)}`);
      }
    }
    L.push("");
    const n = this.o.tail ?? 10;
    L.push(this.c("4", `Events (last ${n})`));
    const { lines: tail, pinned } = eventTail(s.events, n);
    if (pinned) L.push(this.eventLine(pinned) + this.c("2", "  (kept in view until its rollback shows)"));
    for (const e of tail) L.push(this.eventLine(e));
    for (let i = tail.length + (pinned ? 1 : 0); i < n; i++) L.push("");
    return L;
  }

  /** Redraws in place: back to the first line of the last frame, rewrite, clear what is left. */
  draw(): void {
    this.dirty = false;
    const lines = this.render();
    const width = this.o.columns ?? process.stdout.columns ?? 200;
    // every line fits the terminal (colour or not: escapes take no columns), so none wraps and the redraw stays in place
    const clip = (l: string) => clipVisible(l, width - 1);
    this.out((this.lines ? ansi.up(this.lines) : "") + lines.map((l) => ansi.clearLine + clip(l)).join("\n") + "\n" + ansi.clearDown);
    this.lines = lines.length;
  }
}
