// The web console's browser code (served inline by host/ground/console/page.ts, after
// uPlot and the GSU plot runtime of host/report/uplot.ts). No network but this server.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("gsu-config").textContent);
  var H = { "x-gsu-token": cfg.token };
  var $ = function (id) { return document.getElementById(id); };
  var esc = function (s) { return String(s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; }); };
  var t0 = null;           // µs of the first record: plot times are seconds since it
  var boards = {};         // node -> { values, procs: {pid: {comp, values}}, plots: {...} }
  var MAX_ROWS = 3000;
  var GEN = { base: "", new: "(new)", old: "(old)" };

  function log(line, cls) {
    var el = $("cmdlog"), d = document.createElement("div");
    d.textContent = new Date().toISOString().slice(11, 19) + " " + line;
    if (cls) d.className = cls;
    el.appendChild(d); el.scrollTop = el.scrollHeight;
  }

  // ---- plots: change-only telemetry, held until the next sample (a missing value is not 0)
  function makePlot(b, key, title, yLabel) {
    var box = document.createElement("div");
    box.className = "gsu-plot"; box.id = "plot-" + b.node + "-" + key;
    box.setAttribute("data-rows", "0");
    $("board-" + b.node).querySelector(".plots").appendChild(box);
    return { key: key, el: box, title: title, yLabel: yLabel, x: [], series: [], index: {}, latest: {}, u: null, dirty: false };
  }
  function plotPush(p, t, updates) {
    var grew = false;
    for (var k in updates) {
      if (!(k in p.index)) { p.index[k] = p.series.length; p.series.push({ label: k, values: p.x.map(function () { return null; }) }); grew = true; }
      p.latest[k] = updates[k];
    }
    p.x.push(t);
    for (var i = 0; i < p.series.length; i++) { var s = p.series[i]; s.values.push(s.label in p.latest ? p.latest[s.label] : null); }
    if (p.x.length > MAX_ROWS) { p.x.shift(); p.series.forEach(function (s) { s.values.shift(); }); }
    if (grew && p.u) { p.u.destroy(); p.u = null; }
    p.dirty = true;
  }
  function drawPlots() {
    for (var n in boards) {
      var ps = boards[n].plots;
      for (var k in ps) {
        var p = ps[k];
        if (!p.dirty || !p.series.length) continue;
        p.dirty = false;
        var data = [p.x.slice()].concat(p.series.map(function (s) { return s.values.slice(); }));
        if (!p.u) {
          p.el.innerHTML = "";
          p.u = window.gsuPlot(p.el, { title: p.title, x: data[0], series: p.series.map(function (s, i) { return { label: s.label, values: data[i + 1], colour: PALETTE[i % PALETTE.length] }; }), xLabel: "s since the console's first record", yLabel: p.yLabel, step: true, height: 200 });
        } else p.u.setData(data);
        p.el.setAttribute("data-rows", String(p.x.length));
      }
    }
  }
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  setInterval(drawPlots, 250);

  // ---- boards and processes
  function board(node) {
    var b = boards[node];
    if (b) return b;
    b = boards[node] = { node: node, values: {}, procs: {}, links: {}, plots: {} };
    var sec = document.createElement("div");
    sec.className = "board"; sec.id = "board-" + node;
    var name = cfg.targets && cfg.targets[node] ? " " + cfg.targets[node] : "";
    sec.innerHTML = "<h3>Board " + node + esc(name) + " <span class='dim state'></span></h3><table class='procs'><thead><tr><th>pid</th><th>component</th><th>role</th><th class=num>ATs passed</th><th class=num>failed</th><th class=num>checkpoints</th><th class=num>held bytes</th><th class=num>rollbacks</th><th class=num>takeovers</th></tr></thead><tbody></tbody></table><div class='plots'></div>";
    $("boards").appendChild(sec);
    b.plots.mem = makePlot(b, "mem", "Board " + node + name + ": protocol memory held per process", "bytes");
    b.plots.at = makePlot(b, "at", "Board " + node + name + ": acceptance tests", "count");
    var opt = document.createElement("option"); opt.value = node; opt.textContent = node + name;
    $("board").appendChild(opt);
    if (Object.keys(boards).length === 1) { $("board").value = String(node); pickBoard(); }
    return b;
  }
  function renderBoard(b) {
    var rows = Object.keys(b.procs).sort(function (a, c) { return a - c; }).map(function (pid) {
      var p = b.procs[pid], v = p.values;
      var role = v.PROC_ROLE || "";
      return "<tr><td>" + pid + "</td><td>" + esc(p.comp + (GEN[v.PROC_GEN] || "")) + "</td><td class='role-" + esc(role) + "'>" + esc(role) + "</td><td class=num>" + (v.PROC_AT_PASSED ?? "") + "</td><td class=num>" + (v.PROC_AT_FAILED ?? "") + "</td><td class=num>" + (v.PROC_CKPTS ?? "") + "</td><td class=num>" + (v.PROC_HELD_BYTES ?? "") + "</td><td class=num>" + (v.PROC_ROLLBACKS ?? "") + "</td><td class=num>" + (v.PROC_TAKEOVERS ?? "") + "</td></tr>";
    });
    var el = $("board-" + b.node);
    el.querySelector("tbody").innerHTML = rows.join("");
    var v = b.values;
    el.querySelector(".state").textContent = (v.BOARD_GUARDED ? "guarded operation" : "normal") + (v.BOARD_RECOVERING ? ", recovering" : "") + (v.BOARD_UPTIME !== undefined ? " · up " + v.BOARD_UPTIME + " s" : "") + (v.BOARD_EPOCH !== undefined ? " · epoch " + v.BOARD_EPOCH : "");
  }
  var renderQueued = {};
  function queueRender(b) { if (renderQueued[b.node]) return; renderQueued[b.node] = 1; setTimeout(function () { renderQueued[b.node] = 0; renderBoard(b); }, 200); }

  function onRecord(r) {
    if (r.type !== "tlm" && r.type !== "event") return;
    if (t0 === null) t0 = r.t_us;
    var t = (r.t_us - t0) / 1e6;
    var b = board(r.node);
    if (r.type === "event") return addEvent(r);
    if (r.packet === "BOARD_TLM") {
      for (var k in r.values) b.values[k] = r.values[k];
      var at = {};
      if ("BOARD_AT_PASSED" in r.values) at["ATs passed"] = r.values.BOARD_AT_PASSED;
      if ("BOARD_AT_FAILED" in r.values) at["ATs failed"] = r.values.BOARD_AT_FAILED;
      plotPush(b.plots.at, t, at);
    } else if (r.packet === "PROC_TLM") {
      var p = b.procs[r.pid];
      if (!p || p.comp !== r.comp) p = b.procs[r.pid] = { comp: r.comp, values: {} };
      for (var k2 in r.values) p.values[k2] = r.values[k2];
      if ("PROC_HELD_BYTES" in r.values) {
        // one series per process, named when first seen (an old version's process keeps its line when its generation changes)
        if (!p.label) p.label = r.pid + " " + r.comp + (GEN[p.values.PROC_GEN] || "");
        var u = {};
        u[p.label] = r.values.PROC_HELD_BYTES;
        plotPush(b.plots.mem, t, u);
      }
    }
    queueRender(b);
  }

  // ---- the event log (live, and from the boards' own logs: marked ⟲)
  var nEvents = 0;
  function addEvent(e) {
    var tb = $("events").querySelector("tbody");
    var tr = document.createElement("tr");
    tr.className = "sev-" + e.severity + (e.replayed ? " replayed" : "");
    var when = e.t_us > 1e15 ? new Date(e.t_us / 1000).toISOString().slice(11, 23) : (e.t_us / 1e6).toFixed(3) + " s";
    tr.innerHTML = "<td>" + when + "</td><td>" + e.node + "</td><td>" + esc(e.severity) + "</td><td>" + esc(e.event) + "</td><td>" + esc(e.text) + (e.replayed ? " <i>(from the board's event log, #" + e.boardSeq + ")</i>" : "") + "</td>";
    tb.insertBefore(tr, tb.firstChild);
    if (++nEvents > 1000) tb.removeChild(tb.lastChild);
    $("events-count").textContent = String(nEvents);
  }

  // ---- commands: signed by the server with its key; the browser never holds it
  function pickBoard() {
    var n = $("board").value;
    if (cfg.targets && cfg.targets[n] && !$("target").value) $("target").value = cfg.targets[n];
  }
  $("board").addEventListener("change", pickBoard);
  function command(op, args) {
    var board = Number($("board").value), target = $("target").value.trim();
    if (!target) { log(op + ": give the target board's name (its profile's name)", "bad"); return Promise.resolve(); }
    log("sending " + op + " to board " + board + " (" + target + ") ...");
    return fetch("/api/command", { method: "POST", headers: Object.assign({ "content-type": "application/json" }, H), body: JSON.stringify({ board: board, target: target, op: op, args: args || {} }) })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (j.error) return log(op + ": " + j.error, "bad");
        log("board " + j.board + " " + (j.status === "accepted" ? "accepted" : j.status) + " " + op + (j.seq ? " #" + j.seq : "") + ": " + j.text, j.status === "accepted" ? "ok" : "bad");
      }).catch(function (e) { log(op + ": " + e, "bad"); });
  }
  $("btn-upgrade").addEventListener("click", function () {
    var comps = {}, bad = null;
    $("components").value.trim().split(/[\s,]+/).forEach(function (s) { var m = /^([a-z][a-z0-9_-]*)@(\d+\.\d+\.\d+\S*)$/.exec(s); if (m) comps[m[1]] = m[2]; else if (s) bad = s; });
    if (bad || !Object.keys(comps).length) return log("upgrade: write the versions as estimator@2.0.0 controller@2.0.0" + (bad ? " (not '" + bad + "')" : ""), "bad");
    command("upgrade", { components: comps });
  });
  $("btn-commit").addEventListener("click", function () { command("commit"); });
  $("btn-abort").addEventListener("click", function () { command("abort"); });
  $("btn-status").addEventListener("click", function () { command("status"); });
  $("btn-fault").addEventListener("click", function () {
    var m = /^([a-z][a-z0-9_-]*)@(\d+)$/.exec($("fault").value.trim());
    if (!m) return log("fault: write COMPONENT@STEP, e.g. estimator@0", "bad");
    command("fault", { comp: m[1], step: Number(m[2]) });
  });
  $("btn-upload").addEventListener("click", function () {
    var f = $("image").files[0], target = $("target").value.trim();
    if (!f) return log("upload: choose a signed image (.gsui, from gsu sign)", "bad");
    if (!target) return log("upload: give the target board's name", "bad");
    log("uploading " + f.name + " (" + f.size + " bytes) to board " + $("board").value + " ...");
    $("upload-progress").value = 0; $("upload-progress").max = f.size;
    f.arrayBuffer().then(function (buf) {
      return fetch("/api/upload?board=" + encodeURIComponent($("board").value) + "&target=" + encodeURIComponent(target) + "&name=" + encodeURIComponent(f.name), { method: "POST", headers: Object.assign({ "content-type": "application/octet-stream" }, H), body: buf });
    }).then(function (r) { return r.json(); }).then(function (j) {
      if (j.error) return log("upload: " + j.error, "bad");
      log((j.ok ? "accepted: " : "rejected: ") + j.text, j.ok ? "ok" : "bad");
    }).catch(function (e) { log("upload: " + e, "bad"); });
  });
  $("btn-rehearse").addEventListener("click", function () {
    log("running a rehearsal (gsu rehearse --seed " + $("r-seed").value + " --steps " + $("r-steps").value + ") ...");
    fetch("/api/rehearse", { method: "POST", headers: Object.assign({ "content-type": "application/json" }, H), body: JSON.stringify({ seed: Number($("r-seed").value), steps: Number($("r-steps").value) }) })
      .then(function (r) { return r.json(); }).then(function (j) {
        if (j.error) return log("rehearsal: " + j.error, "bad");
        log("rehearsal: verdict " + j.verdict + " (exit " + j.exit + ")", j.verdict === "PASS" ? "ok" : "bad");
        $("rehearsal").src = "/rehearsal?token=" + encodeURIComponent(cfg.token) + "&n=" + Date.now();
      });
  });

  // ---- state, then the live stream
  fetch("/api/state", { headers: H }).then(function (r) { return r.json(); }).then(function (s) {
    $("keyinfo").textContent = s.keyId ? "telecommands signed with key " + s.keyId : "read-only (no --key)";
    s.recent.forEach(onRecord);
    drawPlots();
    var es = new EventSource("/api/stream?token=" + encodeURIComponent(cfg.token));
    es.addEventListener("record", function (m) { onRecord(JSON.parse(m.data)); });
    es.addEventListener("upload", function (m) {
      var p = JSON.parse(m.data);
      $("upload-progress").max = p.size; $("upload-progress").value = p.acked;
      $("upload-text").textContent = p.done ? (p.ok ? "done: " : "rejected: ") + p.text : p.acked + " of " + p.size + " bytes";
    });
    es.addEventListener("gap", function (m) { var g = JSON.parse(m.data); log(g.text, "bad"); });
    es.addEventListener("open", function () { $("conn").textContent = "live"; });
    es.addEventListener("error", function () { $("conn").textContent = "reconnecting..."; });
    window.gsuConsole = { boards: boards, ready: true };
  }).catch(function (e) { log("cannot read the server's state: " + e, "bad"); });
})();
