// Hardening helpers for the board daemon (issue 10): bounded echoes of
// attacker-controlled text, and rate-limited logs. Nothing a peer sends may make a
// reply, an event or a log line unbounded.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** At most this many characters of any text a reply, a log line or an event carries. */
export const MAX_ECHO = 160;

/**
 * `s` cut to at most `max` characters (with "...(N more)" when cut), control
 * characters shown as '?', so that a peer's field can neither overflow a reply
 * nor forge log lines.
 */
export function clip(s: unknown, max = MAX_ECHO): string {
  let t = typeof s === "string" ? s : String(s);
  const extra = t.length > max ? t.length - max : 0;
  if (extra) t = t.slice(0, max);
  // eslint-disable-next-line no-control-regex
  t = t.replace(/[\u0000-\u001f\u007f]/g, "?");
  return extra ? `${t}...(${extra} more)` : t;
}

/**
 * A log that writes at most `burst` lines per `windowMs` per category; the rest
 * are counted and summed up in one line when the window ends (on the next line
 * of that category, or on flush()).
 */
export class RateLimitedLog {
  private w = new Map<string, { start: number; n: number; suppressed: number }>();
  /** Lines suppressed so far, all categories. */
  suppressed = 0;
  constructor(private out: (line: string) => void, private burst = 5, private windowMs = 10_000, private now: () => number = Date.now) {}

  line(category: string, text: string): void {
    const t = this.now();
    let s = this.w.get(category);
    if (!s || t - s.start >= this.windowMs) {
      if (s?.suppressed) this.out(`(${s.suppressed} more '${category}' lines suppressed in ${Math.round(this.windowMs / 1000)} s)`);
      s = { start: t, n: 0, suppressed: 0 };
      this.w.set(category, s);
    }
    if (s.n < this.burst) { s.n++; this.out(text); return; }
    s.suppressed++;
    this.suppressed++;
  }

  flush(): void {
    for (const [cat, s] of this.w) if (s.suppressed) { this.out(`(${s.suppressed} more '${cat}' lines suppressed)`); s.suppressed = 0; }
  }
}

/** Bytes held by the regular files under `dir` (recursively); 0 for what cannot be read. */
export function dirBytes(dir: string): number {
  let n = 0;
  let entries: import("node:fs").Dirent[];
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return 0; }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += dirBytes(p);
    else if (e.isFile()) { try { n += statSync(p).size; } catch { /* gone */ } }
  }
  return n;
}
