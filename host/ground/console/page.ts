// The web console page: one self-contained HTML document (uPlot, the plot runtime,
// the console's CSS and code all inlined), so it needs no network but its own server.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { jsonScript, uplotHead } from "../../report/uplot.ts";

let assets: { js: string; css: string } | undefined;
function load(): { js: string; css: string } {
  if (!assets) {
    const dir = import.meta.dirname;
    assets = { js: readFileSync(join(dir, "console.js"), "utf8").replace(/<\/(script)/gi, "<\\/$1"), css: readFileSync(join(dir, "console.css"), "utf8") };
  }
  return assets;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export function consolePage(o: { token: string; spec: string; targets?: Record<string, string> }): string {
  const a = load();
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>GSU ground: ${esc(o.spec)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>${a.css}</style>
${uplotHead()}
<script type="application/json" id="gsu-config">${jsonScript({ token: o.token, spec: o.spec, targets: o.targets ?? {} })}</script>
</head><body>
<header><h1>GSU ground</h1><span>link <b>${esc(o.spec)}</b></span><span class="dim" id="conn">connecting...</span><span class="dim" id="keyinfo"></span></header>
<main>
<div>
<section><h2>Boards and processes</h2><p class="legend-note">Telemetry is sent when it changes (everything every 10 s); the plots hold each value until its next sample. Roles: <span class="role-low">low</span> new version on trial, <span class="role-hs">hs</span> old version shadowing, <span class="role-ha">ha</span> active, not upgraded.</p><div id="boards"></div></section>
<section><h2>Rehearsal: space-time diagram</h2>
<div class="buttons">seed <input id="r-seed" type="number" value="1" style="width:70px"> steps <input id="r-steps" type="number" value="200" style="width:80px"><button id="btn-rehearse">Run rehearsal</button></div>
<iframe id="rehearsal" title="rehearsal report" src="/rehearsal?token=${esc(encodeURIComponent(o.token))}"></iframe></section>
</div>
<div>
<section><h2>Commands</h2>
<form class="cmd" onsubmit="return false">
<label for="board">board</label><select id="board"></select>
<label for="target">target name</label><input id="target" type="text" placeholder="the board profile's name, e.g. gnc">
<label for="components">upgrade to</label><input id="components" type="text" value="estimator@2.0.0 controller@2.0.0">
<label for="fault">fault</label><input id="fault" type="text" value="estimator@0">
</form>
<div class="buttons"><button id="btn-upgrade">Upgrade</button><button id="btn-commit">Commit</button><button id="btn-abort">Abort</button><button id="btn-fault">Inject fault</button><button id="btn-status">Status</button></div>
<div class="buttons"><input id="image" type="file" accept=".gsui"><button id="btn-upload">Upload</button></div>
<progress id="upload-progress" value="0" max="1"></progress><div id="upload-text" class="legend-note"></div>
<div id="cmdlog"></div></section>
<section><h2>Events <span class="dim" id="events-count">0</span></h2><p class="legend-note">Newest first; ⟲ came from the board's own event log (it happened while no ground listened, or its live packet was lost).</p>
<div id="events-wrap"><table id="events"><thead><tr><th>time (UTC)</th><th>board</th><th>severity</th><th>event</th><th>text</th></tr></thead><tbody></tbody></table></div></section>
</div>
</main>
<script>${a.js}</script>
</body></html>`;
}
