// `gsu report`: an HTML page with inline SVG plots from JSON Lines, either a
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
import { linePlot, PLOT_CSS, type Marker, type Series } from "./plot.ts";

type Line = Record<string, unknown> & { type?: string };

const TRACE_TYPES = new Set(["upgrade", "passed-at", "at-failed", "recovery-request", "recovery-begin", "rollback", "retire", "takeover",
  "recovered", "commit", "drop", "memory-full", "component-trap", "send", "recv", "checkpoint"]);

/** Event name (telemetry) or trace type (rehearsal) -> marker label and colour. */
const MARKS: Record<string, [string, string]> = {
  AT_FAILED: ["AT failed", "#d00"], "at-failed": ["AT failed", "#d00"],
  COMPONENT_TRAP: ["trap", "#d00"], "component-trap": ["trap", "#d00"],
  MEMORY_FULL: ["memory full", "#d00"], "memory-full": ["memory full", "#d00"],
  RECOVERY_REQUESTED: ["recovery requested", "#f80"], "recovery-request": ["recovery requested", "#f80"],
  ROLLBACK: ["rollback", "#f80"], rollback: ["rollback", "#f80"],
  TAKEOVER: ["takeover", "#93c"], takeover: ["takeover", "#93c"],
  RECOVERED: ["recovered", "#93c"], recovered: ["recovered", "#93c"],
  COMMITTED: ["commit", "#080"], commit: ["commit", "#080"],
  UPGRADE_STARTED: ["upgrade", "#36c"], upgrade: ["upgrade", "#36c"],
};

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

/** Markers, one per kind of event per millisecond (the same round reported by several boards). */
function markers(items: { t: number; key: string }[]): Marker[] {
  const seen = new Set<string>();
  const out: Marker[] = [];
  for (const it of items) {
    const m = MARKS[it.key];
    if (!m) continue;
    const k = `${m[0]}@${Math.round(it.t / 1000)}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ t: it.t, label: m[0], colour: m[1] });
  }
  return out;
}

const num = (v: unknown) => (typeof v === "number" ? v : typeof v === "boolean" ? Number(v) : 0);

function boardName(names: Map<number, string>, node: number) { return names.get(node) ?? `node ${node}`; }

/** Plots from telemetry records. */
function telemetrySection(tl: Line[], names: Map<number, string>): { html: string; summary: string[] } {
  const mem = new Map<string, Series>(), atP = new Map<string, Series>(), atF = new Map<string, Series>(), logs = new Map<string, Series>();
  const evs: { t: number; key: string }[] = [];
  const evRows: string[] = [];
  let t0 = Infinity, t1 = -Infinity;
  const push = (m: Map<string, Series>, k: string, t: number, v: number) => {
    let s = m.get(k);
    if (!s) { s = { name: k, points: [] }; m.set(k, s); }
    s.points.push([t, v]);
  };
  for (const r of tl) {
    const t = num(r.t_us), node = num(r.node);
    t0 = Math.min(t0, t); t1 = Math.max(t1, t);
    const v = (r.values ?? {}) as Record<string, unknown>;
    if (r.type === "event") {
      evs.push({ t, key: String(r.event) });
      evRows.push(`<tr class="${String(r.severity)}"><td>${(t / 1e6).toFixed(6)}</td><td>${esc(boardName(names, node))}</td><td>${esc(String(r.severity))}</td><td>${esc(String(r.event))}</td><td>${esc(String(r.text ?? ""))}</td></tr>`);
    } else if (r.packet === "PROC_TLM") {
      const k = `${boardName(names, node)} / ${r.comp} (${v.PROC_GEN ?? "?"}) pid ${r.pid}`;
      push(mem, k, t, num(v.PROC_HELD_BYTES));
      push(logs, k, t, num(v.PROC_LOG_ENTRIES) + num(v.PROC_CKPTS));
    } else if (r.packet === "BOARD_TLM") {
      push(atP, boardName(names, node), t, num(v.BOARD_AT_PASSED));
      push(atF, `${boardName(names, node)} failed`, t, num(v.BOARD_AT_FAILED));
    }
  }
  const marks = markers(evs);
  const x = { x0: t0, x1: t1, xUnit: "us" as const, markers: marks, step: true };
  const nonZero = (m: Map<string, Series>) => [...m.values()].filter((s) => s.points.some((p) => p[1] !== 0));
  const failed = nonZero(atF).map((s) => ({ ...s, colour: "#d00" }));
  const idle = mem.size - nonZero(mem).length;
  const html = [
    `<h2>Telemetry</h2>`,
    linePlot({ ...x, title: `Protocol memory held per process (bytes: checkpoints + message logs)${idle ? `; ${idle} processes held none` : ""}`, yLabel: "bytes", series: nonZero(mem) }),
    linePlot({ ...x, title: "Checkpoints and log entries held per process", yLabel: "entries", series: nonZero(logs) }),
    linePlot({ ...x, title: "Acceptance tests passed (per board, cumulative) and failed (red)", yLabel: "ATs", series: [...nonZero(atP), ...failed] }),
    `<h3>Events</h3><table class="ev"><tr><th>t (s)</th><th>board</th><th>severity</th><th>event</th><th>text</th></tr>${evRows.join("")}</table>`,
  ].join("\n");
  const peak = Math.max(0, ...[...mem.values()].flatMap((s) => s.points.map((p) => p[1])));
  return {
    html,
    summary: [`${tl.length} telemetry packets from ${new Set(tl.map((r) => r.node)).size} boards over ${((t1 - t0) / 1e6).toFixed(3)} s`,
      `${evRows.length} events; peak protocol memory of one process ${peak} bytes`],
  };
}

/** Plots and the space-time diagram from a rehearsal trace. */
function rehearsalSection(tr: Line[], dev: Line[]): { html: string; summary: string[]; css: string } {
  const trace: TraceEvent[] = tr.map((e) => ({ ...e, t: num(e.t_us), board: String(e.board), type: String(e.type) }));
  const devices: DeviceRecord[] = dev.map((d) => ({ t: num(d.t_us), device: String(d.device), payload: String(d.payload ?? ""), comp: String(d.comp ?? ""), gen: String(d.gen ?? "") }));
  const tEnd = Math.max(0, ...trace.map((e) => e.t), ...devices.map((d) => d.t));
  // cumulative counts
  const cum = (pred: (e: TraceEvent) => boolean, key: (e: TraceEvent) => string) => {
    const m = new Map<string, Series>();
    const n = new Map<string, number>();
    for (const e of trace) {
      if (!pred(e)) continue;
      const k = key(e);
      const c = (n.get(k) ?? 0) + 1;
      n.set(k, c);
      let s = m.get(k);
      if (!s) { s = { name: k, points: [[0, 0]] }; m.set(k, s); }
      s.points.push([e.t, c]);
    }
    for (const s of m.values()) s.points.push([tEnd, s.points.at(-1)![1]]);
    return [...m.values()];
  };
  const marks = markers(trace.map((e) => ({ t: e.t, key: e.type })));
  const x = { x0: 0, x1: tEnd, xUnit: "us" as const, markers: marks, step: true };
  const ats = [
    ...cum((e) => e.type === "passed-at", () => "passed ATs (broadcasts)"),
    ...cum((e) => e.type === "at-failed", () => "failed ATs").map((s) => ({ ...s, colour: "#d00" })),
  ];
  const ckpts = cum((e) => e.type === "checkpoint", (e) => `${e.board} / ${e.comp} (${e.gen})`);
  const parts = [`<h2>Rehearsal trace</h2>`,
    linePlot({ ...x, title: "Acceptance tests over time (cumulative)", yLabel: "ATs", series: ats }),
    ckpts.length
      ? linePlot({ ...x, title: "Checkpoints taken per process (cumulative; bytes held need telemetry: gsu telemetry --jsonl)", yLabel: "checkpoints", series: ckpts })
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
${PLOT_CSS}
${css}</style></head><body>
<h1>${esc(title)}</h1>
${o.sources?.length ? `<p>From ${o.sources.map((s) => `<code>${esc(s)}</code>`).join(", ")}</p>` : ""}
<ul>${summary.map((s) => `<li>${esc(s)}</li>`).join("")}</ul>
${sections.join("\n")}
</body></html>`;
}
