// `gsu report`: a self-contained HTML page with plots (uPlot, inlined) from JSON Lines, either a
// telemetry recording (`gsu telemetry --jsonl`: {"type":"tlm"|"event",...}) or a
// rehearsal trace (`gsu rehearse --trace`: protocol events with board and t_us,
// device lines {"type":"device",...}), or both.
//   - protocol memory over time (bytes held per process; telemetry only; from a
//     rehearsal trace, checkpoints taken per process instead)
//   - acceptance tests passed and failed over time
//   - recovery events (AT failure, recovery, rollback, takeover, commit) marked on every plot
//   - the space-time diagram of host/report/rehearsal.ts when the trace has messages
import { htmlReport, type Summary } from "./rehearsal.ts";
import type { RunResult, DeviceRecord, ProcReport } from "../sim/testbed.ts";
import type { TraceEvent } from "../runtime/board.ts";
import { plotBlock, uplotHead } from "./uplot.ts";
import { rehearsalSeries, telemetrySeries } from "./series.ts";
import { glossaryHtml, GLOSSARY_CSS } from "./glossary.ts";

type Line = Record<string, unknown> & { type?: string };

const TRACE_TYPES = new Set(["upgrade", "passed-at", "at-failed", "recovery-request", "recovery-begin", "rollback", "retire", "takeover",
  "recovered", "commit", "drop", "memory-full", "component-trap", "send", "recv", "checkpoint"]);

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export interface ParsedInput { lines: Line[]; bad: number }

export function parseJsonl(text: string): ParsedInput {
  const lines: Line[] = [];
  let bad = 0;
  for (const l of text.split("\n")) {
    if (!l.trim()) continue;
    try {
      const j = JSON.parse(l);
      if (j && typeof j === "object" && !Array.isArray(j)) lines.push(j as Line); else bad++;
    } catch { bad++; }
  }
  return { lines, bad };
}

const num = (v: unknown) => (typeof v === "number" ? v : typeof v === "boolean" ? Number(v) : 0);

function boardName(names: Map<number, string>, node: number) { return names.get(node) ?? `node ${node}`; }

/** Plots from telemetry records (change-only channels, held until the next sample; times from the recording's start). */
function telemetrySection(tl: Line[], names: Map<number, string>): { html: string; summary: string[] } {
  const d = telemetrySeries(tl, names);
  const evRows: string[] = [];
  const start = new Date(d.t0_us / 1000);
  for (const r of tl.filter((r) => r.type === "event").sort((a, b) => num(a.t_us) - num(b.t_us))) {
    const rel = (num(r.t_us) - d.t0_us) / 1e6;
    evRows.push(`<tr class="${esc(String(r.severity))}"><td>+${rel.toFixed(3)}</td><td>${esc(boardName(names, num(r.node)))}</td><td>${esc(String(r.severity))}</td><td>${esc(String(r.event))}</td><td>${esc(String(r.text ?? ""))}</td></tr>`);
  }
  // a real board's clock is Unix time; a simulated recording starts at 0
  const startText = d.t0_us > 1e14 ? ` (started ${start.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC")})` : "";
  const html = [
    `<h2>Telemetry</h2>`,
    `<p>Times are seconds since the recording's start${esc(startText)}. Boards send only the channels that changed (and all of them in a periodic refresh): each value holds until its next sample; a channel not yet received is a gap, not 0.</p>`,
    plotBlock(d.memory),
    plotBlock(d.entries),
    plotBlock(d.ats),
    `<h3>Events</h3><table class="ev"><tr><th>t (s since start)</th><th>board</th><th>severity</th><th>event</th><th>text</th></tr>${evRows.join("")}</table>`,
  ].join("\n");
  return {
    html,
    summary: [`${tl.length} telemetry packets from ${new Set(tl.map((r) => r.node)).size} boards over ${d.duration_s.toFixed(3)} s${startText}`,
      `${evRows.length} events; peak protocol memory of one process ${d.peakBytes} bytes`],
  };
}

/** Plots and the space-time diagram from a rehearsal trace. */
function rehearsalSection(tr: Line[], dev: Line[]): { html: string; summary: string[]; css: string } {
  const trace: TraceEvent[] = tr.map((e) => ({ ...e, t: num(e.t_us), board: String(e.board), type: String(e.type) }));
  const devices: DeviceRecord[] = dev.map((d) => ({ t: num(d.t_us), device: String(d.device), payload: String(d.payload ?? ""), comp: String(d.comp ?? ""), gen: String(d.gen ?? "") }));
  const tEnd = Math.max(0, ...trace.map((e) => e.t), ...devices.map((d) => d.t));
  const s = rehearsalSeries(trace, tEnd);
  const parts = [`<h2>Rehearsal trace</h2>`, plotBlock(s.ats),
    s.checkpoints ? plotBlock({ ...s.checkpoints, title: `${s.checkpoints.title}; bytes held need telemetry: gsu telemetry --jsonl` })
      : `<p>No checkpoint events in this trace; protocol memory needs telemetry (gsu telemetry --jsonl).</p>`];
  let css = "";
  if (trace.some((e) => e.type === "send" || e.type === "recv")) {
    const { svg, css: c } = spaceTime(trace, devices, tEnd);
    parts.push(svg);
    css = c;
  } else parts.push(`<p>No message events (send/recv) in this trace, so no space-time diagram: record with gsu rehearse --trace.</p>`);
  const fail = trace.find((e) => e.type === "at-failed");
  return {
    html: parts.join("\n"), css,
    summary: [`rehearsal trace: ${trace.length} protocol events, ${devices.length} device outputs over ${(tEnd / 1e6).toFixed(3)} s of virtual time`,
      fail ? `first failed AT at ${(fail.t / 1e3).toFixed(3)} ms (${fail.board}, ${fail.comp}(${fail.gen}))` : "no failed AT"],
  };
}

/**
 * The rehearsal report's space-time diagrams, rebuilt from a trace. rehearsal.ts does
 * not export its diagram function, so this renders its full page from a RunResult
 * rebuilt from the trace and keeps the diagram sections and their CSS.
 */
export function spaceTime(trace: TraceEvent[], devices: DeviceRecord[], tEnd: number): { svg: string; css: string } {
  const lanes: ProcReport[] = [];
  const seen = new Set<string>();
  const genOrder: Record<string, number> = { base: 0, new: 1, old: 2 };
  const boardOrder: string[] = [];
  for (const e of trace) {
    if (!boardOrder.includes(e.board)) boardOrder.push(e.board);
    if (!e.comp || !e.gen) continue;
    const k = `${e.board}|${e.comp}|${e.gen}`;
    if (seen.has(k)) continue;
    seen.add(k);
    lanes.push({ board: e.board, comp: String(e.comp), gen: String(e.gen), role: "", checkpoints: 0, logged: 0, peakBytes: 0, rollbackDistance: 0, atPassed: 0, atFailed: 0 });
  }
  const compOrder = lanes.map((l) => l.comp);
  lanes.sort((a, b) => boardOrder.indexOf(a.board) - boardOrder.indexOf(b.board) || compOrder.indexOf(a.comp) - compOrder.indexOf(b.comp) || (genOrder[a.gen] ?? 3) - (genOrder[b.gen] ?? 3));
  const fail = trace.find((e) => e.type === "at-failed");
  const r = {
    options: { seed: 0, steps: 0 }, devices, trace, violations: [], procs: lanes, heldAfter: 0, ended: "guarded",
    virtualUs: tEnd, wallMs: 0, recovery: fail ? { virtualUs: 0, wallMs: 0, atFailedAt: fail.t } : undefined, checkpoints: 0, dirtyReceipts: 0,
  } as unknown as RunResult;
  const page = htmlReport(r, { verdict: "pass", seed: 0 } as Summary, "");
  const svg = [...page.matchAll(/<h2>[^<]*<\/h2><div class="scroll"><svg[\s\S]*?<\/svg><\/div>/g)].map((m) => m[0]).join("\n");
  const key = /<p class="key">[\s\S]*?<\/p>/.exec(page)?.[0] ?? "";
  const css = (/<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? "").replace(/body\{[^}]*\}/, "").replace(/\.verdict\{[^}]*\}/, "");
  return { svg: `<h2>Space-time diagram</h2>${key}${svg}`, css };
}

export interface ReportOptions { title?: string; sources?: string[]; names?: Map<number, string> }

/** The whole HTML page from parsed JSONL lines (telemetry, rehearsal trace, or both). */
export function buildReport(lines: Line[], o: ReportOptions = {}): string {
  const tl = lines.filter((l) => (l.type === "tlm" || l.type === "event") && typeof l.apid === "number");
  const dev = lines.filter((l) => l.type === "device");
  const tr = lines.filter((l) => typeof l.type === "string" && TRACE_TYPES.has(l.type) && typeof l.board === "string");
  const rejects = lines.filter((l) => l.type === "reject").length;
  if (!tl.length && !tr.length) throw new Error("no telemetry records (type tlm/event) and no rehearsal trace events (board, t_us) in the input");
  const sections: string[] = [];
  const summary: string[] = [];
  let css = "";
  if (tl.length) { const s = telemetrySection(tl, o.names ?? new Map()); sections.push(s.html); summary.push(...s.summary); }
  if (rejects) summary.push(`${rejects} packets were rejected by the ground decoder (see the recording's "reject" lines)`);
  if (tr.length || dev.length) { const s = rehearsalSection(tr, dev); sections.push(s.html); summary.push(...s.summary); css = s.css; }
  const title = o.title ?? "GSU report";
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{font:14px system-ui,sans-serif;margin:20px;color:#222;max-width:1500px}h2{margin-top:28px}
table.ev{border-collapse:collapse;font:12px monospace}table.ev td,table.ev th{border-bottom:1px solid #eee;padding:2px 8px;text-align:left}
tr.WARNING_HI td,tr.FATAL td{color:#b00}tr.WARNING_LO td{color:#a60}tr.DIAGNOSTIC td{color:#888}
${GLOSSARY_CSS}
${css}</style>
${uplotHead()}</head><body>
<h1>${esc(title)}</h1>
${o.sources?.length ? `<p>From ${o.sources.map((s) => `<code>${esc(s)}</code>`).join(", ")}</p>` : ""}
<ul>${summary.map((s) => `<li>${esc(s)}</li>`).join("")}</ul>
${sections.join("\n")}
${glossaryHtml()}
</body></html>`;
}
