// gsu report: an HTML page with plots from telemetry recordings and rehearsal traces.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { IoError, parseCommandArgs, UsageError } from "./args.ts";
import { buildReport, parseJsonl } from "../report/telemetry-report.ts";

export const help = `Usage: gsu report FILE.jsonl [FILE.jsonl ...] [--out report.html]

Renders a self-contained HTML page with plots (uPlot, inlined: no network needed)
from JSON Lines. Telemetry is change-only (a board sends a channel when it changes,
and all of them in a periodic refresh): each value holds until its next sample, and
times are seconds since the recording's start. A legend explains the protocol's terms.
Inputs:
  - a telemetry recording (gsu telemetry --jsonl FILE): protocol memory held per
    process over time, checkpoints and log entries held, ATs passed and failed,
    the event log;
  - a rehearsal trace (gsu rehearse --trace FILE): ATs over time, checkpoints taken
    per process, and the space-time diagram (processes as lines; messages,
    checkpoints, ATs, rollback and takeover as marks).
Recovery events (failed AT, recovery, rollback, takeover, commit) are marked on
every plot. Several files are combined into one page.

Options:
  --out FILE        where to write the page (default gsu-report.html)
  --title TEXT      page title
  --names N=NAME,.. board names for telemetry node ids, e.g. 1=io,2=gnc,3=comms`;

export function run(argv: string[]): number {
  const { values, positionals } = parseCommandArgs(argv, { out: { type: "string" }, title: { type: "string" }, names: { type: "string" } }, { allowPositionals: true });
  if (!positionals.length) throw new UsageError("report needs at least one JSON Lines file, e.g. gsu report run.jsonl");
  const names = new Map<number, string>();
  for (const kv of values.names ? values.names.split(",") : []) {
    const m = /^(\d+)=(.+)$/.exec(kv.trim());
    if (!m) throw new UsageError(`--names takes N=NAME pairs separated by commas, not '${kv}'`);
    names.set(Number(m[1]), m[2]);
  }
  const lines = [];
  let bad = 0;
  for (const f of positionals) {
    let text: string;
    try { text = readFileSync(f, "utf8"); } catch (e) { throw new IoError(`cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
    const p = parseJsonl(text);
    lines.push(...p.lines);
    bad += p.bad;
  }
  let html: string;
  try { html = buildReport(lines, { title: values.title, sources: positionals, names }); } catch (e) { throw new UsageError(`${positionals.join(", ")}: ${(e as Error).message}`); }
  const out = values.out ?? "gsu-report.html";
  writeFileSync(out, html);
  process.stdout.write(`${lines.length} lines read${bad ? `, ${bad} not JSON objects (skipped)` : ""}\nHTML report: ${resolve(out)}\n`);
  return 0;
}
