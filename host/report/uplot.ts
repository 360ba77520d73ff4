// uPlot (npm `uplot`), bundled for offline use: its JS and CSS are read from
// node_modules once and inlined into self-contained HTML pages (gsu report, gsu rehearse
// --html) and served by the web console, so no page needs the network.
//
// Node side:
//   uplotAssets()          -> { js, css, version }: uPlot's IIFE build (defines window.uPlot) and its CSS
//   uplotHead()            -> "<style>...</style><script>...</script>": uPlot + the GSU plot runtime, for <head>
//   plotBlock(spec, id?)   -> "<figure>...": one plot, rendered by the runtime when the page loads
//   PLOT_RUNTIME_JS        -> browser code defining window.gsuPlot(el, spec) -> uPlot instance
//   PLOT_CSS               -> the styles plotBlock's figure uses
// Browser side (after uplotHead()):
//   const u = gsuPlot(document.getElementById("x"), spec);   // spec: PlotSpec below, as JSON
//   u.setData([x, ...ys]);                                   // live updates (uPlot API)
// Series values are sample-and-hold already (host/report/series.ts); null is "not known
// yet" and draws as a gap, never as 0.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export interface PlotSeries {
  label: string;
  /** One value per x; null: not known (a gap). */
  values: (number | null)[];
  colour?: string;
}

export interface PlotMarker { x: number; label: string; colour?: string }

export interface PlotSpec {
  title: string;
  /** Shared x values, ascending (seconds since the recording's start, or ms of virtual time). */
  x: number[];
  series: PlotSeries[];
  xLabel: string;
  yLabel: string;
  /** Vertical lines with labels: upgrade, failed AT, rollback, takeover, commit... */
  markers?: PlotMarker[];
  /** Draw as steps: a value holds until the next sample (telemetry, counters). Default true. */
  step?: boolean;
  height?: number;
}

export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

let cached: { js: string; css: string; version: string } | undefined;

/** uPlot's browser build and CSS, read from the installed package (once). */
export function uplotAssets(): { js: string; css: string; version: string } {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let dir: string;
  try { dir = dirname(require.resolve("uplot/package.json")); } catch {
    throw new Error("the plotting library uPlot is not installed (npm package 'uplot'); run npm ci");
  }
  const js = readFileSync(join(dir, "dist/uPlot.iife.min.js"), "utf8");
  const css = readFileSync(join(dir, "dist/uPlot.min.css"), "utf8");
  const version = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
  cached = { js: safeScript(js), css, version };
  return cached;
}

/** Text that can sit inside <script> without ending it early. */
function safeScript(s: string): string { return s.replace(/<\/(script)/gi, "<\\/$1"); }

/** JSON for a <script type="application/json"> block. */
export function jsonScript(v: unknown): string { return JSON.stringify(v).replace(/</g, "\\u003c"); }

/** Browser code: window.gsuPlot(el, spec) draws a PlotSpec with uPlot; every .gsu-plot on the page is drawn at load. */
export const PLOT_RUNTIME_JS = `(function(){
"use strict";
function markersPlugin(markers){
  return {hooks:{draw:[function(u){
    if(!markers||!markers.length)return;
    var ctx=u.ctx,top=u.bbox.top,h=u.bbox.height,left=u.bbox.left,right=u.bbox.left+u.bbox.width;
    var dpr=window.devicePixelRatio||1;
    ctx.save();ctx.font=(10*dpr)+"px system-ui,sans-serif";ctx.textBaseline="top";
    var lastX=-1e9,row=0,seen={};
    markers.slice().sort(function(a,b){return a.x-b.x;}).forEach(function(m){
      var x=Math.round(u.valToPos(m.x,"x",true));
      if(x<left-1||x>right+1)return;
      ctx.strokeStyle=m.colour||"#93c";ctx.setLineDash([4*dpr,3*dpr]);ctx.lineWidth=dpr;
      ctx.beginPath();ctx.moveTo(x,top);ctx.lineTo(x,top+h);ctx.stroke();
      if(x-lastX<40*dpr){row++;}else{row=0;seen={};}
      lastX=x;
      if(seen[m.label])return;seen[m.label]=1;
      ctx.fillStyle=m.colour||"#93c";
      var w=ctx.measureText(m.label).width,tx=x+3*dpr>right-w?x-3*dpr-w:x+3*dpr;
      ctx.fillText(m.label,tx,top+2*dpr+row*11*dpr);
    });
    ctx.restore();
  }]}};
}
function gsuPlot(el,spec){
  var width=Math.max(360,Math.min((el.clientWidth||900),1400));
  var step=spec.step!==false;
  var paths=step&&uPlot.paths&&uPlot.paths.stepped?uPlot.paths.stepped({align:1}):undefined;
  var opts={
    title:spec.title,width:width,height:spec.height||260,
    scales:{x:{time:false}},
    axes:[{label:spec.xLabel},{label:spec.yLabel,size:60}],
    series:[{label:spec.xLabel}].concat(spec.series.map(function(s){
      return {label:s.label,stroke:s.colour,width:1.6,spanGaps:false,paths:paths,points:{show:false}};
    })),
    legend:{live:true},
    plugins:[markersPlugin(spec.markers)]
  };
  var data=[spec.x].concat(spec.series.map(function(s){return s.values;}));
  return new uPlot(opts,data,el);
}
window.gsuPlot=gsuPlot;
function drawAll(){
  var els=document.querySelectorAll(".gsu-plot[data-spec]");
  for(var i=0;i<els.length;i++){
    var el=els[i],src=document.getElementById(el.getAttribute("data-spec"));
    if(!src||el.getAttribute("data-drawn"))continue;
    el.setAttribute("data-drawn","1");
    gsuPlot(el,JSON.parse(src.textContent));
  }
}
if(document.readyState==="loading")document.addEventListener("DOMContentLoaded",drawAll);else drawAll();
})();`;

export const PLOT_CSS = `.gsu-fig{margin:0 0 18px}.gsu-plot{max-width:1400px}.gsu-marks{font-size:12px;color:#555;margin:2px 0 0}
.gsu-marks span{margin-right:12px;white-space:nowrap}`;

/** <style> and <script> for <head>: uPlot, the plot runtime, and the figure styles. */
export function uplotHead(): string {
  const a = uplotAssets();
  return `<style>${a.css}\n${PLOT_CSS}</style>\n<script>/* uPlot ${a.version} (MIT) */\n${a.js}</script>\n<script>${safeScript(PLOT_RUNTIME_JS)}</script>`;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
let nextId = 0;

/** One plot: a placeholder the runtime draws into, its data as JSON, and its markers as text. */
export function plotBlock(spec: PlotSpec, id = `gsu-plot-${++nextId}`): string {
  const s: PlotSpec = { ...spec, series: spec.series.map((x, i) => ({ ...x, colour: x.colour ?? PALETTE[i % PALETTE.length] })) };
  const marks = (spec.markers ?? []).length
    ? `<p class="gsu-marks">Marks: ${dedupeMarks(spec.markers!).map((m) => `<span style="color:${m.colour ?? "#93c"}">┆ ${esc(m.label)} at ${fmt(m.x)}</span>`).join("")}</p>`
    : "";
  return `<figure class="gsu-fig"><div class="gsu-plot" id="${id}" data-spec="${id}-data"></div><script type="application/json" id="${id}-data">${jsonScript(s)}</script>${marks}</figure>`;
}

const fmt = (x: number) => `${+x.toFixed(3)}`;

function dedupeMarks(ms: PlotMarker[]): PlotMarker[] {
  const seen = new Set<string>();
  return ms.filter((m) => { const k = `${m.label}@${fmt(m.x)}`; if (seen.has(k)) return false; seen.add(k); return true; });
}
