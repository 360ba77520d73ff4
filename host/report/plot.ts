// Inline SVG plots for HTML reports (no dependencies): step or line series over
// time, with vertical markers for events.

export interface Series { name: string; points: [number, number][]; colour?: string }
export interface Marker { t: number; label: string; colour?: string }
export interface PlotOptions {
  title: string;
  series: Series[];
  markers?: Marker[];
  width?: number;
  height?: number;
  yLabel?: string;
  /** x values are microseconds; shown in seconds. */
  xUnit?: "us";
  /** Draw as steps (counters, gauges sampled) rather than straight segments. */
  step?: boolean;
  /** x range (default: the data's). */
  x0?: number; x1?: number;
}

export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** Round tick step: 1, 2 or 5 times a power of ten, giving about n ticks. */
export function niceStep(range: number, n = 5): number {
  if (!(range > 0)) return 1;
  const raw = range / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

const fmtNum = (v: number) => (Math.abs(v) >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : Math.abs(v) >= 1e4 ? `${(v / 1e3).toFixed(0)}k` : `${+v.toFixed(3)}`);

export function linePlot(o: PlotOptions): string {
  const W = o.width ?? 900, H = o.height ?? 260;
  const L = 64, R = 16, T = 28, B = 36;
  const all = o.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]).concat((o.markers ?? []).map((m) => m.t));
  const x0 = o.x0 ?? (xs.length ? Math.min(...xs) : 0);
  const x1 = o.x1 ?? (xs.length ? Math.max(...xs) : 1);
  const yMax = Math.max(1, ...all.map((p) => p[1]));
  const yStep = niceStep(yMax, 4);
  const yTop = Math.ceil(yMax / yStep) * yStep;
  const sx = (x: number) => L + ((x - x0) / Math.max(1e-9, x1 - x0)) * (W - L - R);
  const sy = (y: number) => T + (1 - y / yTop) * (H - T - B);
  const xScale = o.xUnit === "us" ? 1e6 : 1;
  const parts: string[] = [];
  parts.push(`<text x="${L}" y="16" class="pt">${esc(o.title)}</text>`);
  for (let y = 0; y <= yTop + 1e-9; y += yStep) {
    parts.push(`<line x1="${L}" y1="${sy(y)}" x2="${W - R}" y2="${sy(y)}" class="grid"/><text x="${L - 6}" y="${sy(y) + 4}" class="ax" text-anchor="end">${fmtNum(y)}</text>`);
  }
  const xStep = niceStep((x1 - x0) / xScale, 8) * xScale;
  for (let x = Math.ceil(x0 / xStep) * xStep; x <= x1 + 1e-9; x += xStep) {
    parts.push(`<line x1="${sx(x)}" y1="${H - B}" x2="${sx(x)}" y2="${H - B + 4}" class="axl"/><text x="${sx(x)}" y="${H - B + 16}" class="ax" text-anchor="middle">${fmtNum(x / xScale)}</text>`);
  }
  parts.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" class="axl"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" class="axl"/>`);
  parts.push(`<text x="${W - R}" y="${H - 4}" class="ax" text-anchor="end">${o.xUnit === "us" ? "time (s)" : ""}</text>`);
  if (o.yLabel) parts.push(`<text x="12" y="${(T + H - B) / 2}" class="ax" transform="rotate(-90 12 ${(T + H - B) / 2})" text-anchor="middle">${esc(o.yLabel)}</text>`);
  // markers closer than 40 px share one label
  const groups: { x: number; ms: Marker[] }[] = [];
  for (const m of (o.markers ?? []).slice().sort((a, b) => a.t - b.t)) {
    const x = sx(m.t);
    const g = groups.at(-1);
    if (g && x - g.x < 40) g.ms.push(m); else groups.push({ x, ms: [m] });
  }
  groups.forEach((g) => {
    for (const m of g.ms) parts.push(`<line x1="${sx(m.t)}" y1="${T}" x2="${sx(m.t)}" y2="${H - B}" class="mk" stroke="${m.colour ?? "#93c"}"><title>${esc(m.label)} at ${(m.t / xScale).toFixed(4)}</title></line>`);
    const right = g.x > W * 0.6;
    const seen = new Set<string>();
    let row = 0;
    for (const m of g.ms) {
      if (seen.has(m.label)) continue;
      seen.add(m.label);
      parts.push(`<text x="${right ? g.x - 3 : g.x + 3}" y="${T + 10 + row++ * 11}" class="mkl" fill="${m.colour ?? "#93c"}"${right ? ' text-anchor="end"' : ""}>${esc(m.label)}</text>`);
    }
  });
  o.series.forEach((s, i) => {
    if (!s.points.length) return;
    const c = s.colour ?? PALETTE[i % PALETTE.length];
    const pts = s.points.slice().sort((a, b) => a[0] - b[0]);
    let d = `M${sx(pts[0][0]).toFixed(1)},${sy(pts[0][1]).toFixed(1)}`;
    for (let k = 1; k < pts.length; k++) {
      const X = sx(pts[k][0]).toFixed(1), Y = sy(pts[k][1]).toFixed(1);
      d += o.step ? `H${X}V${Y}` : `L${X},${Y}`;
    }
    parts.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="1.6" class="series"><title>${esc(s.name)}</title></path>`);
  });
  const legend = o.series.map((s, i) => `<span><i style="background:${s.colour ?? PALETTE[i % PALETTE.length]}"></i>${esc(s.name)}</span>`).join("");
  return `<figure class="plot"><svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">${parts.join("")}</svg><figcaption class="legend">${legend}</figcaption></figure>`;
}

export const PLOT_CSS = `.plot{margin:0 0 18px}.pt{font:bold 13px system-ui,sans-serif;fill:#222}.ax{font:11px monospace;fill:#444}
.grid{stroke:#eee}.axl{stroke:#888}.mk{stroke-dasharray:4 3;stroke-width:1}.mkl{font:10px system-ui,sans-serif}
.legend span{margin-right:14px;font-size:12px;white-space:nowrap}.legend i{display:inline-block;width:12px;height:3px;margin:0 4px 3px 0;vertical-align:middle}`;
