// The rehearsal report: a readable text summary, a JSON summary for tooling,
// and an HTML page with a space-time diagram (processes as lines; messages,
// checkpoints, ATs, rollback and takeover as marks).
import { closeSync, openSync, writeSync } from "node:fs";
import type { RunResult } from "../sim/testbed.ts";
import { groupByFeeder, type DeviceRecord } from "../sim/testbed.ts";
import type { TraceEvent } from "../runtime/board.ts";
import { plotBlock, uplotHead } from "./uplot.ts";
import { rehearsalSeries } from "./series.ts";
import { glossaryHtml, GLOSSARY_CSS } from "./glossary.ts";

export interface Summary {
  verdict: "pass" | "fail";
  seed: number; steps: number; rules: string; fault: string | null; reference: boolean;
  ended: string;
  differences: string[];
  violations: { kind: string; detail: string }[];
  /** The verdict's problems, "kind: detail" (host/sim/property.ts judge()); empty on PASS. */
  problems: string[];
  timeline: { t_ms: number; board: string; event: string }[];
  processes: RunResult["procs"];
  recovery: { virtual_ms: number; wall_ms: number } | null;
  devices: Record<string, number>;
  checkpoints: number; dirtyReceipts: number; heldAfter: number;
  wall_ms: number;
  /** The earliest device output that differs from the reference run (by time), or null. */
  firstError: string | null;
  /** With faulty links: what was injected and what the link layer did (RunResult.links), and the coordinator rounds' resends and timeouts. */
  links?: RunResult["links"] & { roundResends: number; roundTimeouts: number; rejoins: number };
  /** Boards that crashed (BOARD@STEP): the verdict is judge()'s crash verdict, not device equivalence. */
  crashes?: string[];
}

const KEY = new Set(["memory-full", "component-trap", "upgrade", "at-failed", "recovery-request", "recovery-begin", "rollback", "retire", "takeover", "recovered", "commit", "drop"]);

function describe(e: TraceEvent): string {
  const who = e.comp ? `${e.comp}(${e.gen})` : "";
  switch (e.type) {
    case "upgrade": return `upgrade: guarded operation starts, cluster {${(e.cluster as string[]).join(", ")}}`;
    case "at-failed": return `AT failed: ${who} -> ${e.device}${e.compensated ? " (compensated)" : ""}`;
    case "recovery-request": return `recovery requested (epoch ${e.epoch})`;
    case "recovery-begin": return `recovery round: local bounds v=${e.v} vext=${e.vext}`;
    case "rollback": return `rollback ${who} to checkpoint ${e.to} (distance ${e.distance} messages)`;
    case "retire": return `retire ${who}`;
    case "takeover": return `takeover: old ${e.comp} is active`;
    case "recovered": return `recovered with V=${e.V} Vext=${e.Vext}, epoch ${e.epoch}${e.inexact ? " INEXACT" : ""}`;
    case "commit": return "commit: shadows retired, protocol memory freed";
    case "drop": return `dropped (${e.reason}): ${e.detail}`;
    case "memory-full": return `protocol memory full (${e.code}): messages held, guarded operation ends early by recovery to the old versions`;
    case "component-trap": return `component trapped: ${who}: ${e.error}`;
    default: return e.type;
  }
}

export interface FirstError { t: number; device: string; index: number; got: DeviceRecord | null; want: DeviceRecord | null }

/**
 * The first erroneous device output: of every device output that differs from the reference
 * run's (grouped per device as compareDevices does), the earliest in time. An output the run
 * lacks counts at the time of the run's last output to that device before it (or 0).
 */
export function firstErroneous(run: DeviceRecord[], ref: DeviceRecord[]): FirstError | null {
  const { a, b } = groupByFeeder(run, ref);
  let best: FirstError | null = null;
  for (const dev of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(dev) ?? [], y = b.get(dev) ?? [];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      if (x[i]?.payload === y[i]?.payload) continue;
      const t = x[i]?.t ?? x.at(-1)?.t ?? 0;
      if (!best || t < best.t) best = { t, device: dev, index: i, got: x[i] ?? null, want: y[i] ?? null };
      break;
    }
  }
  return best;
}

export function describeFirstError(f: FirstError): string {
  const got = f.got ? `got ${f.got.payload.slice(0, 32)} from ${f.got.comp}(${f.got.gen})` : "got nothing";
  return `${f.device}[${f.index}] at ${(f.t / 1000).toFixed(3)} ms: ${got}, reference ${f.want ? f.want.payload.slice(0, 32) : "nothing"}`;
}

export function summarize(r: RunResult, differences: string[], problems?: string[], firstError?: FirstError | null): Summary {
  const o = r.options;
  const devices: Record<string, number> = {};
  for (const d of r.devices) devices[d.device] = (devices[d.device] ?? 0) + 1;
  // collapse per-board repeats of the same round event into one line each
  const timeline = r.trace.filter((e) => KEY.has(e.type)).map((e) => ({ t_ms: e.t / 1000, board: e.board, event: describe(e) }));
  return {
    verdict: (problems ? problems.length === 0 : differences.length === 0 && r.violations.length === 0) ? "pass" : "fail",
    problems: problems ?? [...(differences.length ? [`device equivalence: ${differences.length} differences`] : []), ...r.violations.map((v) => `${v.kind}: ${v.detail}`)],
    seed: o.seed, steps: o.steps, rules: o.rules ?? "safe",
    fault: o.fault ? `${o.fault.comp}@${o.fault.step}` : null, reference: !!o.reference,
    ended: r.ended, differences, violations: r.violations, timeline, processes: r.procs,
    recovery: r.recovery ? { virtual_ms: r.recovery.virtualUs / 1000, wall_ms: r.recovery.wallMs } : null,
    devices, checkpoints: r.checkpoints, dirtyReceipts: r.dirtyReceipts, heldAfter: r.heldAfter, wall_ms: r.wallMs,
    firstError: firstError ? describeFirstError(firstError) : null,
    crashes: o.crashes?.length ? o.crashes.map((x) => `${x.board}@${x.step}${"atVote" in x && x.atVote ? ":vote" : ""}`) : undefined,
    links: r.links ? {
      ...r.links,
      roundResends: r.trace.filter((e) => e.type === "round-resend").length,
      // a round that went on without a silent board, or gave up on it
      roundTimeouts: r.trace.filter((e) => e.type === "recovery-partial" || e.type === "round-gave-up" || e.type === "commit-called-off").length,
      // a board that missed a round and was brought up to date
      rejoins: r.trace.filter((e) => e.type === "round-catch-up" || e.type === "recovery-late").length,
    } : undefined,
  };
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);
const lpad = (s: string | number, n: number) => String(s).padStart(n);

export function textReport(s: Summary, boards: string): string {
  const L: string[] = [];
  L.push(`GSU rehearsal: seed ${s.seed}, ${s.steps} steps, rules ${s.rules}, ${s.reference ? "reference run (old versions only)" : s.fault ? `fault ${s.fault}` : "no fault"}`);
  L.push(`Boards: ${boards}`);
  if (s.crashes) L.push(`Crashes: ${s.crashes.map((c) => c.endsWith(":vote") ? `${c.slice(0, -5).replace("@", " right after its first commit vote from step ")}, restarted 5 steps later (in doubt: it adopts a commit the others made)` : `${c.replace("@", " after step ")}, restarted 5 steps later`).join("; ")}`);
  L.push("");
  L.push("Timeline (virtual time)");
  for (const e of s.timeline.slice(0, 60)) L.push(`  ${lpad(e.t_ms.toFixed(3), 10)} ms  ${pad(e.board, 7)} ${e.event}`);
  if (s.timeline.length > 60) L.push(`  ... ${s.timeline.length - 60} more events (see --trace)`);
  if (!s.timeline.length) L.push("  (no protocol events)");
  L.push("");
  L.push("Processes");
  L.push(`  ${pad("board", 7)} ${pad("component", 11)} ${pad("version", 8)} ${pad("role now", 9)} ${lpad("ckpts", 6)} ${lpad("logged", 7)} ${lpad("peak mem", 10)} ${lpad("rollback", 9)} ${lpad("AT ok", 6)} ${lpad("AT fail", 8)}`);
  for (const p of s.processes) {
    L.push(`  ${pad(p.board, 7)} ${pad(p.comp, 11)} ${pad(p.gen, 8)} ${pad(p.role, 9)} ${lpad(p.checkpoints, 6)} ${lpad(p.logged, 7)} ${lpad(`${p.peakBytes} B`, 10)} ${lpad(p.rollbackDistance, 9)} ${lpad(p.atPassed, 6)} ${lpad(p.atFailed, 8)}`);
  }
  L.push("");
  L.push(`Checkpoints: ${s.checkpoints} for ${s.dirtyReceipts} dirty receipts (${s.dirtyReceipts ? (s.checkpoints / s.dirtyReceipts).toFixed(2) : "-"} per receipt; naive communication-induced checkpointing takes 1.00)`);
  if (s.recovery) L.push(`Recovery latency (failed AT -> first old-version output at a device): ${s.recovery.virtual_ms.toFixed(3)} ms virtual, ${s.recovery.wall_ms.toFixed(3)} ms wall`);
  L.push(`Guarded operation ended by: ${s.ended}; protocol memory still held: ${s.heldAfter} bytes`);
  L.push(`Devices: ${Object.entries(s.devices).map(([d, n]) => `${d} ${n} messages`).join(", ") || "none"}`);
  if (s.links) {
    const k = s.links;
    L.push(`Links: injected ${k.lost} lost, ${k.duplicated} duplicated, ${k.corrupted} corrupted (dropped by the frame check), ${k.cut} cut by partitions; ` +
      `the link layer retransmitted ${k.retransmits} and dropped ${k.duplicatesDropped} duplicates; rounds: ${k.roundResends} resends, ${k.roundTimeouts} timeouts, ${k.rejoins} boards caught up`);
  }
  L.push("");
  if (s.verdict === "pass") {
    L.push(s.reference ? "Verdict: PASS (reference run; the oracles on protocol state held)"
      : s.crashes ? `Verdict: PASS: before the crash (${s.crashes.join(", ")}) devices saw exactly the fault-free reference run's messages; after it nothing derived from the fault, no duplicate, only the steps while the board was down lost, and every device served again (the restarted components start from their initial state).`
      : "Verdict: PASS: devices saw exactly what the fault-free reference run of the old versions produced; no oracle broke.");
  } else {
    L.push("Verdict: FAIL");
    if (s.firstError) L.push(`  first erroneous device output: ${s.firstError}`);
    for (const d of s.differences.slice(0, 10)) L.push(`  device: ${d}`);
    for (const p of s.problems.filter((p) => !p.startsWith("device equivalence")).slice(0, 12)) L.push(`  ${p}`);
  }
  return L.join("\n");
}

// ---- HTML -------------------------------------------------------------------------------
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** A message-sequence diagram's SVG, piece by piece in document order (htmlReportChunks streams it). */
function* diagramParts(r: RunResult, t0: number, t1: number, width: number, title: string): Generator<string> {
  const lanes: string[] = [];
  const laneOf = (board: string, comp: string, gen: string) => {
    const k = `${board} / ${comp} (${gen})`;
    let i = lanes.indexOf(k);
    if (i < 0) { lanes.push(k); i = lanes.length - 1; }
    return i;
  };
  const compBoard = new Map<string, string>();
  // every lane the window draws on, known before the layout (a component runs as "base"
  // before the upgrade, as "old"/"new" after): sorted by board, component, version
  const keys: { board: string; comp: string; gen: string }[] = [];
  const seenK = new Set<string>();
  const want = (board: string, comp: string, gen: string) => { const k = `${board}|${comp}|${gen}`; if (!seenK.has(k)) { seenK.add(k); keys.push({ board, comp, gen }); } };
  for (const p of r.procs) { want(p.board, p.comp, p.gen); compBoard.set(p.comp, p.board); }
  for (const e of r.trace) if (e.t >= t0 && e.t <= t1 && e.comp && e.gen) want(e.board, e.comp as string, e.gen as string);
  for (const d of r.devices) if (d.t >= t0 && d.t <= t1 && compBoard.has(d.comp)) want(compBoard.get(d.comp)!, d.comp, d.gen);
  const bOrder = [...new Set(keys.map((k) => k.board))], cOrder = [...new Set(keys.map((k) => k.comp))];
  const gOrder: Record<string, number> = { base: 0, old: 1, new: 2 };
  keys.sort((a, b) => bOrder.indexOf(a.board) - bOrder.indexOf(b.board) || cOrder.indexOf(a.comp) - cOrder.indexOf(b.comp) || (gOrder[a.gen] ?? 3) - (gOrder[b.gen] ?? 3));
  for (const k of keys) laneOf(k.board, k.comp, k.gen);
  const devs = [...new Set(r.devices.map((d) => d.device))];
  const left = 230, top = 30, rowH = 26;
  const y = (i: number) => top + i * rowH;
  const devY = (d: string) => y(lanes.length + devs.indexOf(d));
  const x = (t: number) => left + ((t - t0) / Math.max(1, t1 - t0)) * (width - left - 20);
  const inWin = (t: number) => t >= t0 && t <= t1;
  const H = y(lanes.length + devs.length) + 34;
  const axisY = H - 28;
  yield `<h2>${esc(title)}</h2><div class="scroll"><svg width="${width}" height="${H}" xmlns="http://www.w3.org/2000/svg">`;
  // time axis: ticks at round steps of virtual time (ms)
  const stepMs = niceStep((t1 - t0) / 1000, Math.max(4, Math.floor((width - left) / 110)));
  yield `<line x1="${left}" y1="${axisY}" x2="${width - 20}" y2="${axisY}" class="axis"/>`;
  for (let ms = Math.ceil(t0 / 1000 / stepMs) * stepMs; ms * 1000 <= t1 + 1e-6; ms += stepMs) {
    const X = x(ms * 1000);
    yield `<line x1="${X}" y1="${top - 8}" x2="${X}" y2="${axisY}" class="tickg"/><line x1="${X}" y1="${axisY}" x2="${X}" y2="${axisY + 4}" class="axis"/><text x="${X}" y="${axisY + 15}" class="lab" text-anchor="middle">${+ms.toFixed(3)}</text>`;
  }
  yield `<text x="${width - 20}" y="${H - 2}" class="lab" text-anchor="end">virtual time (ms)</text>`;
  for (let i = 0; i < lanes.length; i++) yield `<line x1="${left}" y1="${y(i)}" x2="${width - 20}" y2="${y(i)}" class="lane"/><text x="4" y="${y(i) + 4}" class="lab">${esc(lanes[i]!)}</text>`;
  for (const d of devs) yield `<line x1="${left}" y1="${devY(d)}" x2="${width - 20}" y2="${devY(d)}" class="dev"/><text x="4" y="${devY(d) + 4}" class="lab">device ${esc(d)}</text>`;
  let upgradeMarked = false;
  const sends = new Map<string, TraceEvent>();
  for (const e of r.trace) if (e.type === "send") sends.set(e.id as string, e);
  for (const e of r.trace) {
    if (!inWin(e.t)) continue;
    const lane = e.comp ? laneOf(e.board, e.comp as string, e.gen as string) : -1;
    switch (e.type) {
      case "recv": {
        const s = sends.get(e.id as string);
        if (s && s.t >= t0) {
          const from = laneOf(s.board, s.comp as string, s.gen as string);
          yield `<line x1="${x(s.t)}" y1="${y(from)}" x2="${x(e.t)}" y2="${y(lane)}" class="${e.dirty ? "msgd" : "msg"}"><title>${esc(`${s.comp}->${e.comp} dirty=${e.dirty} index=${e.index}`)}</title></line>`;
        }
        break;
      }
      case "checkpoint": yield `<rect x="${x(e.t) - 3}" y="${y(lane) - 3}" width="6" height="6" class="ckpt"><title>checkpoint ${e.index}</title></rect>`; break;
      case "passed-at": yield `<circle cx="${x(e.t)}" cy="${y(lane)}" r="3.5" class="pass"><title>passed AT v=${e.v}</title></circle>`; break;
      case "at-failed": yield `<text x="${x(e.t) - 6}" y="${y(lane) + 6}" class="fail">✖</text>`; break;
      case "rollback": yield `<path d="M${x(e.t)},${y(lane) - 9} l-10,5 l10,5 z" class="rb"><title>rollback to ${e.to}, distance ${e.distance}</title></path>`; break;
      case "takeover": {
        const ln = laneOf(e.board, e.comp as string, "old");
        yield `<path d="M${x(e.t)},${y(ln) - 7} l7,7 l-7,7 l-7,-7 z" class="tk"><title>takeover ${e.comp}</title></path>`;
        break;
      }
      case "retire": yield `<line x1="${x(e.t)}" y1="${y(lane) - 8}" x2="${x(e.t)}" y2="${y(lane) + 8}" class="ret"/>`; break;
      case "recovered": case "commit": yield `<line x1="${x(e.t)}" y1="${top - 12}" x2="${x(e.t)}" y2="${axisY}" class="epoch"><title>${esc(e.type === "commit" ? "commit" : `recovered with V=${e.V} Vext=${e.Vext}`)}</title></line>`; break;
      case "upgrade": if (!upgradeMarked) {
        upgradeMarked = true;
        yield `<line x1="${x(e.t)}" y1="${top - 14}" x2="${x(e.t)}" y2="${axisY}" class="upg"><title>upgrade: guarded operation starts</title></line><text x="${x(e.t) + 3}" y="${top - 16}" class="upgl">upgrade</text>`;
      } break;
    }
  }
  for (const d of r.devices) {
    if (!inWin(d.t)) continue;
    const b = compBoard.get(d.comp) ?? "";
    yield `<line x1="${x(d.t)}" y1="${y(laneOf(b, d.comp, d.gen))}" x2="${x(d.t)}" y2="${devY(d.device)}" class="out ${d.gen}"><title>${esc(`${d.comp}(${d.gen}) -> ${d.device}: ${d.payload.slice(0, 24)}`)}</title></line>`;
  }
  yield "</svg></div>";
}

/** Round tick step: 1, 2 or 5 times a power of ten, giving about n ticks. */
export function niceStep(range: number, n = 5): number {
  if (!(range > 0)) return 1;
  const raw = range / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/**
 * The window of the "around the failed AT" diagram, virtual microseconds: from 40 ms before
 * the failed AT to 20 ms after the recovery's last event (rollback, takeover, recovered,
 * the first old-version output at a device), so the recovery is in view.
 */
export function failureWindow(r: RunResult): [number, number] | null {
  const fail = r.recovery?.atFailedAt ?? r.trace.find((e) => e.type === "at-failed")?.t;
  if (fail === undefined) return null;
  let end = fail;
  const rec = r.trace.filter((e) => e.t >= fail && ["recovery-request", "recovery-begin", "rollback", "retire", "takeover", "recovered"].includes(e.type));
  for (const e of rec) end = Math.max(end, e.t);
  const lastRecovered = rec.filter((e) => e.type === "recovered").at(-1)?.t ?? end;
  const firstOld = r.devices.find((d) => d.t >= lastRecovered && d.gen === "old")?.t;
  if (firstOld !== undefined) end = Math.max(end, firstOld);
  return [Math.max(0, fail - 40_000), end + 20_000];
}

/** The rehearsal's HTML page. `firstError`: the earliest device output that differs from the reference (failing runs). */
export function htmlReport(r: RunResult, s: Summary, text: string): string {
  return [...htmlReportChunks(r, s, text)].join("");
}

/**
 * Writes the HTML page to `path` as it is built, in chunks of about 1 MiB (the same bytes as
 * htmlReport), so a long run's page (11 MB at 20000 steps) is never held whole in memory.
 */
export function writeHtmlReport(path: string, r: RunResult, s: Summary, text: string): void {
  const fd = openSync(path, "w");
  try {
    let buf: string[] = [], n = 0;
    for (const c of htmlReportChunks(r, s, text)) {
      buf.push(c); n += c.length;
      if (n >= 1 << 20) { writeSync(fd, buf.join("")); buf = []; n = 0; }
    }
    if (buf.length) writeSync(fd, buf.join(""));
  } finally { closeSync(fd); }
}

/** The page, piece by piece in document order. */
export function* htmlReportChunks(r: RunResult, s: Summary, text: string): Generator<string> {
  const end = r.virtualUs;
  const win = failureWindow(r);
  const up = r.trace.find((e) => e.type === "upgrade");
  const plots = rehearsalSeries(r.trace, end);
  const headline = s.verdict === "pass"
    ? `PASS: ${s.reference ? "reference run; the oracles on protocol state held" : "devices saw exactly what the fault-free reference run of the old versions produced; no oracle broke"}`
    : `FAIL: ${s.firstError ? `first erroneous device output: ${s.firstError}` : s.problems[0] ?? "the run did not meet its oracle"}`;
  const problems = s.verdict === "fail" && s.problems.length ? `<ul class="problems">${s.problems.slice(0, 20).map((p) => `<li>${esc(p)}</li>`).join("")}</ul>` : "";
  yield `<!doctype html><html><head><meta charset="utf-8"><title>GSU rehearsal: seed ${s.seed}</title><style>
body{font:14px system-ui,sans-serif;margin:20px;color:#222}.scroll{overflow-x:auto;border:1px solid #ddd;margin-bottom:16px}
.lane{stroke:#999}.dev{stroke:#333;stroke-width:2}.lab{font:11px monospace;fill:#333}.axis{stroke:#666}.tickg{stroke:#eee}
.msg{stroke:#4a7;stroke-width:.7;opacity:.6}.msgd{stroke:#d80;stroke-width:.8;opacity:.7}
.ckpt{fill:#36c}.pass{fill:#2a2}.fail{fill:#d00;font-size:16px}.rb{fill:#f80}.tk{fill:#93c}.ret{stroke:#000;stroke-width:3}
.epoch{stroke:#93c;stroke-dasharray:4 3}.upg{stroke:#36c;stroke-width:2;stroke-dasharray:6 3}.upgl{font:bold 11px system-ui,sans-serif;fill:#36c}
.out{stroke:#555;stroke-width:.6}.out.old{stroke:#93c}.out.new{stroke:#d80}
.verdict{font-size:20px;font-weight:bold;color:${s.verdict === "pass" ? "#080" : "#c00"}}pre{background:#f6f6f6;padding:10px;overflow-x:auto}
.problems{color:#900}.key span{margin-right:14px}
${GLOSSARY_CSS}</style>
${uplotHead()}</head><body>
<h1>GSU upgrade rehearsal</h1><p class="verdict">${esc(headline)}</p>${problems}
<p class="key"><span style="color:#4a7">━ clean message</span><span style="color:#d80">━ dirty message</span><span style="color:#36c">■ checkpoint</span><span style="color:#2a2">● passed AT</span><span style="color:#d00">✖ failed AT</span><span style="color:#f80">◀ rollback</span><span style="color:#93c">◆ takeover</span><span>┃ retired</span><span style="color:#36c">╎ upgrade</span><span style="color:#93c">┆ recovery / commit</span><span>│ output to a device (purple: old version)</span></p>
`;
  if (win) yield* diagramParts(r, win[0], win[1], 1400, `Around the failed AT, through the recovery (${((win[1] - win[0]) / 1000).toFixed(0)} ms of virtual time from ${(win[0] / 1000).toFixed(1)} ms)`);
  if (up) yield* diagramParts(r, Math.max(0, up.t - 20_000), Math.min(end, up.t + 40_000), 1400, `Around the upgrade at ${(up.t / 1000).toFixed(1)} ms: guarded operation starts`);
  yield* diagramParts(r, 0, end, Math.min(6000, Math.max(1400, Math.round(end / 400))), "The whole run");
  yield `
<h2>Over time</h2>${plotBlock(plots.ats)}${plots.checkpoints ? plotBlock(plots.checkpoints) : ""}
<h2>Report</h2><pre>${esc(text)}</pre>
${glossaryHtml()}</body></html>`;
}
