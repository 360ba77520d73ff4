// gsu telemetry and gsu report as a user runs them (stdout is a pipe: line mode).
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TelemetryEncoder, loadDictionary } from "../../host/telemetry/dictionary.ts";
import { buildReport, parseJsonl } from "../../host/report/telemetry-report.ts";
import { GroundStation } from "../../host/telemetry/ground.ts";
import { LiveView } from "../../host/telemetry/view.ts";
import { simTelemetry } from "../../host/telemetry/simlink.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "gsu-telemetry-"));
const gsu = (args: string[], input?: string) =>
  spawnSync(process.execPath, [join(root, "bin/gsu.js"), ...args], { cwd: dir, encoding: "utf8", timeout: 60_000, input, env: { ...process.env, NO_COLOR: "1" } });

describe("gsu telemetry", () => {
  const live = gsu(["telemetry", "--link", "sim", "--speed", "0", "--jsonl", "tlm.jsonl"]);
  it("prints one line per event when stdout is not a terminal, then a summary", () => {
    expect(live.status).toBe(0);
    const lines = live.stdout.trim().split("\n");
    expect(lines.some((l) => /gnc\s+WARNING_HI\s+TAKEOVER\s+takeover: old estimator is active/.test(l))).toBe(true);
    expect(lines.some((l) => /comms\s+WARNING_HI\s+ROLLBACK/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^\d+ packets from 3 boards, .*rejected: none, lost by sequence count: 0$/);
    expect(live.stdout).not.toContain("\x1b[");
  });
  it("records every decoded packet as JSON Lines, with its hex", () => {
    const recs = readFileSync(join(dir, "tlm.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(recs.length).toBe(Number(/^(\d+) packets/.exec(live.stdout.trim().split("\n").at(-1)!)![1]));
    expect(new Set(recs.map((r) => r.type))).toEqual(new Set(["tlm", "event"]));
    expect(recs.every((r) => /^08[0-9a-f]{2}c/.test(r.hex))).toBe(true);  // TM, secondary header, unsegmented
  });
  it("--from-jsonl replays a recording to the same result", () => {
    const r = gsu(["telemetry", "--from-jsonl", "tlm.jsonl"]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split("\n").at(-1)).toBe(live.stdout.trim().split("\n").at(-1));
    expect(r.stdout).toContain("TAKEOVER");
  });
  it("--stdin-hex decodes one frame per line and reports rejections (exit 1)", () => {
    const enc = new TelemetryEncoder(loadDictionary(), 5);
    const ok = Buffer.from(enc.event(2_000_000, "TELECOMMAND_REFUSED", { command: "commit", reason: "replayed sequence number 41" })).toString("hex");
    const cut = ok.slice(0, ok.length - 6);
    const r = gsu(["telemetry", "--stdin-hex"], `# a comment\n${ok.replace(/(..)/g, "$1 ")}\n\n${cut}\n`);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/node 5\s+WARNING_HI\s+TELECOMMAND_REFUSED\s+telecommand commit refused: replayed sequence number 41/);
    expect(r.stdout).toMatch(/rejected \(truncated\)/);
  });
  it("refuses bad usage with exit 2", () => {
    expect(gsu(["telemetry"]).status).toBe(2);
    expect(gsu(["telemetry", "--stdin-hex", "--link", "sim"]).status).toBe(2);
    const real = gsu(["telemetry", "--link", "serial:/dev/ttyUSB0"]);  // no baud rate
    expect(real.status).toBe(2);
    expect(real.stderr).toMatch(/serial:PATH@BAUD/);
    expect(gsu(["telemetry", "--stdin-hex"], "zz\n").status).toBe(2);
  });
});

describe("the live view on a terminal", () => {
  it("redraws in place: the second frame moves the cursor back up over the first and clears each line", () => {
    let out = "";
    const g = new GroundStation();
    const v = new LiveView(g, { tty: true, colour: false, out: (s) => { out += s; }, names: new Map([[2, "gnc"]]) });
    const run = simTelemetry({ steps: 130 });
    for (const p of run.packets.slice(0, 40)) g.pushFrame(p.bytes);
    v.draw();
    const first = out.split("\n").length - 1;
    out = "";
    for (const p of run.packets.slice(40)) g.pushFrame(p.bytes);
    v.draw();
    expect(out.startsWith(`\x1b[${first}F`)).toBe(true);
    expect(out).toContain("\x1b[2K");
    expect(out.endsWith("\x1b[J")).toBe(true);
    const screen = v.render().join("\n");
    expect(screen).toMatch(/gnc\s+\d+ estimator\s+old\s+ha/);
    expect(screen).toMatch(/TAKEOVER\s+takeover: old controller is active/);
  });
});

describe("gsu report", () => {
  it("renders a rehearsal trace: plots, recovery markers and the space-time diagram", () => {
    expect(gsu(["rehearse", "--trace", "trace.jsonl", "--html", "-", "--steps", "80", "--fault", "estimator@50"]).status).toBe(0);
    const r = gsu(["report", "trace.jsonl", "--out", "trace.html"]);
    expect(r.status).toBe(0);
    const html = readFileSync(join(dir, "trace.html"), "utf8");
    expect(html.match(/class="gsu-plot"/g)!.length).toBe(2);                 // ATs, checkpoints (uPlot)
    expect(html.match(/<svg/g)!.length).toBeGreaterThanOrEqual(2);           // the space-time diagrams
    expect(html).toContain("Acceptance tests over time");
    expect(html).toContain("Space-time diagram");
    expect(html).toContain("Around the failed AT");
    expect(html).toMatch(/class="gsu-marks">Marks: .*AT failed at /);
    expect(html).toMatch(/class="gsu-marks">Marks: .*takeover at /);
    expect(html).not.toMatch(/<script[^>]+src=/);                            // self-contained: uPlot inlined
  });
  it("renders a telemetry recording: memory per process, ATs, events", () => {
    const r = gsu(["report", "tlm.jsonl", "--out", "tlm.html", "--names", "1=io,2=gnc,3=comms"]);
    expect(r.status).toBe(0);
    const html = readFileSync(join(dir, "tlm.html"), "utf8");
    expect(html).toContain("Protocol memory held per process");
    expect(html).toContain('"label":"comms / telemetry (base) pid 1"');
    expect(html).toContain("Acceptance tests passed");
    expect(html).toMatch(/<td>gnc<\/td><td>WARNING_HI<\/td><td>TAKEOVER<\/td>/);
  });
  it("combines files and refuses input with nothing to plot", () => {
    expect(gsu(["report", "tlm.jsonl", "trace.jsonl", "--out", "both.html"]).status).toBe(0);
    writeFileSync(join(dir, "empty.jsonl"), '{"hello":1}\nnot json\n');
    const r = gsu(["report", "empty.jsonl"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no telemetry records/);
    expect(gsu(["report"]).status).toBe(2);
  });
  it("buildReport escapes text from the input", () => {
    const { lines } = parseJsonl(JSON.stringify({ type: "event", node: 1, apid: 24, seq: 0, t_us: 0, event: "X", severity: "FATAL", text: "<script>" }));
    const body = buildReport(lines).split("<body>")[1];
    expect(body).not.toContain("<script>");
    expect(body).toContain("&lt;script&gt;");
  });
});
