// The data behind the report plots, computed apart from any drawing so tests can check it.
//
// Telemetry is change-only: a board's packet carries only the channels whose value changed
// since its last sample round, and every channel in a periodic full refresh
// (host/telemetry/sampler.ts). A channel missing from a packet therefore still has its last
// value: the series here hold each value until the next sample of that channel
// (sample-and-hold), and a channel never seen yet is null (unknown, drawn as a gap), never 0.
// Processes are identified by board and pid, not by fields a packet may leave out, so a
// change-only packet cannot start a new series. Times are relative to the recording's start.
import type { PlotMarker, PlotSpec } from "./uplot.ts";

type Line = Record<string, unknown> & { type?: string };

export interface HeldSeries { label: string; points: [number, number][]; colour?: string }

/**
 * Aligns series sampled at different times on one ascending x axis: at each x, each series
 * has its latest sample at or before x, or null before its first sample.
 */
export function alignHold(series: HeldSeries[], extraX: number[] = []): { x: number[]; series: { label: string; values: (number | null)[]; colour?: string }[] } {
  const xs = [...new Set([...series.flatMap((s) => s.points.map((p) => p[0])), ...extraX])].sort((a, b) => a - b);
  const out = series.map((s) => {
    const pts = s.points.slice().sort((a, b) => a[0] - b[0]);
    const values: (number | null)[] = [];
    let k = 0;
    let held: number | null = null;
    for (const x of xs) {
      while (k < pts.length && pts[k][0] <= x) held = pts[k++][1];
      values.push(held);
    }
    return { label: s.label, values, ...(s.colour ? { colour: s.colour } : {}) };
  });
  return { x: xs, series: out };
}

/** Event name (telemetry) or trace type (rehearsal) -> marker label and colour. */
export const MARKS: Record<string, [string, string]> = {
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

/** Markers, one per kind of event per `merge` x units (the same round reported by several boards). */
export function markersFrom(items: { x: number; key: string }[], merge: number): PlotMarker[] {
  const seen = new Set<string>();
  const out: PlotMarker[] = [];
  for (const it of items) {
    const m = MARKS[it.key];
    if (!m) continue;
    const k = `${m[0]}@${Math.round(it.x / merge)}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ x: it.x, label: m[0], colour: m[1] });
  }
  return out;
}

const num = (v: unknown): number | undefined => (typeof v === "number" ? v : typeof v === "boolean" ? Number(v) : undefined);

export interface TelemetrySeries {
  /** The recording's start (microseconds, as in the packets); every x is seconds after it. */
  t0_us: number;
  duration_s: number;
  memory: PlotSpec;
  entries: PlotSpec;
  ats: PlotSpec;
  markers: PlotMarker[];
  /** Processes whose protocol memory stayed 0 (left out of the memory plot). */
  idle: number;
  peakBytes: number;
}

/** The telemetry plots' data from a recording's tlm/event records (any order). */
export function telemetrySeries(records: Line[], names: Map<number, string> = new Map()): TelemetrySeries {
  const tl = records.filter((r) => typeof r.t_us === "number").slice().sort((a, b) => (a.t_us as number) - (b.t_us as number));
  const t0 = tl.length ? (tl[0].t_us as number) : 0;
  const t1 = tl.length ? (tl.at(-1)!.t_us as number) : 0;
  const rel = (t: number) => (t - t0) / 1e6;
  const board = (node: number) => names.get(node) ?? `node ${node}`;
  // held channel values per board and per board/pid
  const heldBoard = new Map<number, Record<string, unknown>>();
  const heldProc = new Map<string, { node: number; pid: number; comp: string; v: Record<string, unknown> }>();
  const mem = new Map<string, [number, number][]>(), ent = new Map<string, [number, number][]>();
  const atP = new Map<number, [number, number][]>(), atF = new Map<number, [number, number][]>();
  const add = <K>(m: Map<K, [number, number][]>, k: K, x: number, v: number | undefined) => {
    if (v === undefined) return;
    const a = m.get(k) ?? m.set(k, []).get(k)!;
    if (a.length && a.at(-1)![0] === x) a[a.length - 1] = [x, v]; else a.push([x, v]);
  };
  const evs: { x: number; key: string }[] = [];
  for (const r of tl) {
    const x = rel(r.t_us as number), node = num(r.node) ?? 0;
    const v = (r.values ?? {}) as Record<string, unknown>;
    if (r.type === "event") evs.push({ x, key: String(r.event) });
    else if (r.packet === "PROC_TLM") {
      const k = `${node}|${r.pid}`;
      const p = heldProc.get(k) ?? heldProc.set(k, { node, pid: num(r.pid) ?? 0, comp: String(r.comp ?? "?"), v: {} }).get(k)!;
      Object.assign(p.v, v);
      if (typeof r.comp === "string") p.comp = r.comp;
      add(mem, k, x, num(p.v.PROC_HELD_BYTES));
      const le = num(p.v.PROC_LOG_ENTRIES), ck = num(p.v.PROC_CKPTS);
      add(ent, k, x, le === undefined || ck === undefined ? undefined : le + ck);
    } else if (r.packet === "BOARD_TLM") {
      const b = heldBoard.get(node) ?? heldBoard.set(node, {}).get(node)!;
      Object.assign(b, v);
      add(atP, node, x, num(b.BOARD_AT_PASSED));
      add(atF, node, x, num(b.BOARD_AT_FAILED));
    }
  }
  const procLabel = (k: string) => {
    const p = heldProc.get(k)!;
    const gen = typeof p.v.PROC_GEN === "string" ? ` (${p.v.PROC_GEN})` : "";
    return `${board(p.node)} / ${p.comp}${gen} pid ${p.pid}`;
  };
  const nonZero = (pts: [number, number][]) => pts.some((p) => p[1] !== 0);
  const order = <K>(m: Map<K, [number, number][]>) => [...m.entries()].sort((a, b) => String(a[0]).localeCompare(String(b[0]), undefined, { numeric: true }));
  const memS = order(mem).filter(([, p]) => nonZero(p)).map(([k, points]) => ({ label: procLabel(k), points }));
  const entS = order(ent).filter(([, p]) => nonZero(p)).map(([k, points]) => ({ label: procLabel(k), points }));
  const atS = [
    ...order(atP).map(([n, points]) => ({ label: `${board(n)} passed`, points })),
    ...order(atF).filter(([, p]) => nonZero(p)).map(([n, points]) => ({ label: `${board(n)} failed`, points, colour: "#d00" })),
  ];
  const markers = markersFrom(evs, 0.001);
  const ends = [0, rel(t1)];
  const xLabel = "time since the recording's start (s)";
  const spec = (title: string, yLabel: string, s: HeldSeries[]): PlotSpec => ({ title, yLabel, xLabel, markers, ...alignHold(s, ends) });
  const idle = heldProc.size - memS.length;
  return {
    t0_us: t0, duration_s: rel(t1), markers, idle,
    peakBytes: Math.max(0, ...[...mem.values()].flatMap((p) => p.map((q) => q[1]))),
    memory: spec(`Protocol memory held per process (bytes: checkpoints + message logs)${idle ? `; ${idle} processes held none` : ""}`, "bytes", memS),
    entries: spec("Checkpoints and log entries held per process", "entries", entS),
    ats: spec("Acceptance tests passed and failed per board (cumulative)", "ATs", atS),
  };
}

export interface TraceLike { t: number; type: string; board: string; comp?: unknown; gen?: unknown }

/** The rehearsal trace's plots: cumulative ATs and checkpoints per process, x in ms of virtual time. */
export function rehearsalSeries(trace: TraceLike[], tEndUs: number): { ats: PlotSpec; checkpoints: PlotSpec | null; markers: PlotMarker[] } {
  const ms = (t: number) => t / 1000;
  const cum = (pred: (e: TraceLike) => boolean, key: (e: TraceLike) => string): HeldSeries[] => {
    const m = new Map<string, HeldSeries>();
    for (const e of trace) {
      if (!pred(e)) continue;
      const k = key(e);
      const s = m.get(k) ?? m.set(k, { label: k, points: [[0, 0]] }).get(k)!;
      s.points.push([ms(e.t), s.points.at(-1)![1] + 1]);
    }
    return [...m.values()];
  };
  const markers = markersFrom(trace.map((e) => ({ x: ms(e.t), key: e.type })), 1);
  const xLabel = "virtual time since the start (ms)";
  const ends = [0, ms(tEndUs)];
  const ats = [
    ...cum((e) => e.type === "passed-at", () => "passed ATs (broadcasts)"),
    ...cum((e) => e.type === "at-failed", () => "failed ATs").map((s) => ({ ...s, colour: "#d00" })),
  ];
  const ck = cum((e) => e.type === "checkpoint", (e) => `${e.board} / ${e.comp} (${e.gen})`);
  return {
    markers,
    ats: { title: "Acceptance tests over time (cumulative)", xLabel, yLabel: "ATs", markers, ...alignHold(ats, ends) },
    checkpoints: ck.length ? { title: "Checkpoints taken per process (cumulative)", xLabel, yLabel: "checkpoints", markers, ...alignHold(ck, ends) } : null,
  };
}
