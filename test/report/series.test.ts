// The data fed to the report plots: change-only telemetry held until its next sample (a
// missing value is not 0), times relative to the recording's start, one series per process
// (no phantom "(?)" series from packets that leave the version out).
import { describe, expect, it } from "vitest";
import { alignHold, rehearsalSeries, telemetrySeries } from "../../host/report/series.ts";
import { buildReport } from "../../host/report/telemetry-report.ts";
import { failureWindow, firstErroneous, htmlReport, niceStep } from "../../host/report/rehearsal.ts";
import { simTelemetry } from "../../host/telemetry/simlink.ts";
import { GroundStation, type GroundRecord } from "../../host/telemetry/ground.ts";

// A real board's clock: Unix microseconds (2026-11-28), so raw seconds would read 1.79e9.
const T0 = 1_795_800_000_000_000;
const s = (sec: number) => T0 + sec * 1e6;
const proc = (t: number, pid: number, values: Record<string, unknown>) => ({ type: "tlm", packet: "PROC_TLM", node: 2, apid: 33, seq: 0, t_us: t, pid, comp: "estimator", values });
const board = (t: number, values: Record<string, unknown>) => ({ type: "tlm", packet: "BOARD_TLM", node: 2, apid: 34, seq: 0, t_us: t, values });

describe("alignHold", () => {
  it("holds each value until its next sample and is null before the first", () => {
    const a = alignHold([{ label: "a", points: [[1, 10], [3, 0]] }, { label: "b", points: [[2, 5]] }], [0, 4]);
    expect(a.x).toEqual([0, 1, 2, 3, 4]);
    expect(a.series[0].values).toEqual([null, 10, 10, 0, 0]);
    expect(a.series[1].values).toEqual([null, null, 5, 5, 5]);
  });
});

describe("telemetrySeries (change-only channels)", () => {
  const recs = [
    // full refresh at 0 s
    board(s(0), { BOARD_AT_PASSED: 0, BOARD_AT_FAILED: 0, BOARD_HELD_BYTES: 0 }),
    proc(s(0), 0, { PROC_GEN: "new", PROC_ROLE: "low", PROC_HELD_BYTES: 0, PROC_CKPTS: 0, PROC_LOG_ENTRIES: 0 }),
    proc(s(0), 1, { PROC_GEN: "old", PROC_ROLE: "hs", PROC_HELD_BYTES: 0, PROC_CKPTS: 0, PROC_LOG_ENTRIES: 0 }),
    // changes only
    board(s(1), { BOARD_AT_PASSED: 1000 }),
    proc(s(1), 0, { PROC_HELD_BYTES: 65_600, PROC_CKPTS: 1 }),
    board(s(2), { BOARD_HELD_BYTES: 65_600 }),                       // AT count unchanged: left out
    proc(s(2), 0, { PROC_LOG_ENTRIES: 2 }),                            // held bytes unchanged: left out
    proc(s(2), 1, { PROC_DELIVERED: 5 }),                              // no PROC_GEN in this packet
    board(s(3), { BOARD_AT_PASSED: 1200 }),
    proc(s(4), 0, { PROC_HELD_BYTES: 0, PROC_CKPTS: 0, PROC_LOG_ENTRIES: 0 }),
    { type: "event", node: 2, apid: 40, seq: 1, t_us: s(3.5), event: "AT_FAILED", severity: "WARNING_HI", text: "AT failed" },
    { type: "event", node: 2, apid: 40, seq: 0, t_us: s(0), event: "UPGRADE_STARTED", severity: "ACTIVITY_HI", text: "upgrade" },
  ];
  const d = telemetrySeries(recs, new Map([[2, "gnc"]]));

  it("times are seconds since the recording's start", () => {
    expect(d.t0_us).toBe(T0);
    expect(d.memory.x[0]).toBe(0);
    expect(d.memory.x.at(-1)).toBe(4);
    expect(d.ats.x).toEqual([0, 1, 2, 3, 4]);
    expect(d.duration_s).toBe(4);
  });
  it("a value missing from a packet holds its last sample (not 0)", () => {
    const passed = d.ats.series.find((x) => x.label === "gnc passed")!;
    expect(passed.values).toEqual([0, 1000, 1000, 1200, 1200]);
    const mem = d.memory.series.find((x) => x.label === "gnc / estimator (new) pid 0")!;
    // x = 0, 1, 2, 4 (the memory plot's samples), 65600 held at 2 s, dropping at 4 s exactly
    expect(d.memory.x).toEqual([0, 1, 2, 4]);
    expect(mem.values).toEqual([0, 65_600, 65_600, 0]);
    const ent = d.entries.series.find((x) => x.label === "gnc / estimator (new) pid 0")!;
    expect(ent.values).toEqual([0, 1, 3, 0]);
  });
  it("no phantom series: one per board/pid, named with its version from the last full packet", () => {
    const labels = [...d.memory.series, ...d.entries.series, ...d.ats.series].map((x) => x.label);
    expect(labels.some((l) => l.includes("(?)"))).toBe(false);
    expect(d.memory.series.map((x) => x.label)).toEqual(["gnc / estimator (new) pid 0"]);  // pid 1 held nothing
    expect(d.idle).toBe(1);
    expect(d.ats.series.map((x) => x.label)).toEqual(["gnc passed"]);                      // no failed count ever above 0
  });
  it("events become markers at their relative time, the upgrade among them", () => {
    expect(d.markers).toEqual(expect.arrayContaining([
      { x: 0, label: "upgrade", colour: expect.any(String) },
      { x: 3.5, label: "AT failed", colour: expect.any(String) },
    ]));
  });
  it("a channel never received is null, not 0", () => {
    const late = telemetrySeries([board(s(0), { BOARD_UPTIME: 1 }), board(s(1), { BOARD_AT_PASSED: 3 })]);
    expect(late.ats.series[0].values).toEqual([null, 3]);
  });
  it("a simulated board's change-only recording: the AT count never falls back", () => {
    const recsSim: GroundRecord[] = [];
    const g = new GroundStation({ onRecord: (r) => recsSim.push(r) });
    for (const p of simTelemetry({ steps: 160 }).packets) g.pushFrame(p.bytes);
    const partial = recsSim.filter((r) => r.type === "tlm" && r.packet === "PROC_TLM" && !("PROC_GEN" in r.values));
    expect(partial.length).toBeGreaterThan(0);                     // the recording is change-only
    const t = telemetrySeries(recsSim as unknown as Record<string, unknown>[]);
    for (const ser of t.ats.series.filter((x) => x.label.endsWith("passed"))) {
      const v = ser.values.filter((x): x is number => x !== null);
      expect(v.length).toBeGreaterThan(2);
      for (let i = 1; i < v.length; i++) expect(v[i]).toBeGreaterThanOrEqual(v[i - 1]);
    }
    expect([...t.memory.series, ...t.entries.series].every((x) => !x.label.includes("(?)"))).toBe(true);
  });
  it("the report page embeds these series, not raw epoch seconds", () => {
    const html = buildReport(recs);
    const data = [...html.matchAll(/<script type="application\/json" id="[^"]+">([^<]*)<\/script>/g)].map((m) => JSON.parse(m[1]));
    expect(data.length).toBe(3);
    expect(data.every((p) => p.x[0] === 0 && p.x.at(-1) <= 4)).toBe(true);
    expect(html).toContain("time since the recording's start (s)");
    expect(html).toContain('id="terms"');                              // the legend of the protocol's terms
  });
});

describe("rehearsal report data", () => {
  it("cumulative AT counts in ms of virtual time, held between events", () => {
    const tr = [{ t: 1000, type: "passed-at", board: "gnc" }, { t: 3000, type: "passed-at", board: "gnc" }, { t: 5000, type: "at-failed", board: "gnc", comp: "controller", gen: "new" }];
    const r = rehearsalSeries(tr, 10_000);
    expect(r.ats.x).toEqual([0, 1, 3, 5, 10]);
    expect(r.ats.series[0].values).toEqual([0, 1, 2, 2, 2]);
    expect(r.ats.series[1].values).toEqual([0, 0, 0, 1, 1]);   // a trace counts from 0: every event is in it
    expect(r.checkpoints).toBeNull();
  });
  it("the first erroneous device output is the earliest in time, across devices", () => {
    const dev = (t: number, device: string, payload: string, gen = "new") => ({ t, device, payload, comp: "c", gen });
    const ref = [dev(1, "wheel", "aa"), dev(2, "wheel", "bb"), dev(3, "downlink", "cc"), dev(4, "downlink", "dd")];
    // wheel differs at index 1 (t=20), downlink at index 0 (t=15): downlink first, though compareDevices lists wheel first
    const run = [dev(10, "wheel", "aa"), dev(20, "wheel", "XX"), dev(15, "downlink", "YY"), dev(30, "downlink", "dd")];
    expect(firstErroneous(run, ref)).toMatchObject({ device: "downlink", index: 0, t: 15 });
    expect(firstErroneous(ref, ref)).toBeNull();
    expect(firstErroneous(run.slice(0, 1), ref.slice(0, 2))).toMatchObject({ device: "wheel", index: 1, got: null });
  });
  it("the failed-AT window reaches past the recovery and the first old-version output", () => {
    const r = {
      trace: [{ t: 100_000, type: "at-failed", board: "gnc" }, { t: 130_000, type: "rollback", board: "comms" }, { t: 160_000, type: "recovered", board: "comms" }],
      devices: [{ t: 90_000, device: "w", payload: "", comp: "c", gen: "new" }, { t: 175_000, device: "w", payload: "", comp: "c", gen: "old" }],
      recovery: { atFailedAt: 100_000, virtualUs: 75_000, wallMs: 1 },
    } as unknown as Parameters<typeof failureWindow>[0];
    expect(failureWindow(r)).toEqual([60_000, 195_000]);
  });
  it("tick steps are round", () => {
    expect(niceStep(2000, 8)).toBe(200);
    expect(niceStep(70, 10)).toBe(5);
  });
  it("a passing page says PASS once, marks the upgrade, and has time ticks", () => {
    const r = {
      options: { seed: 1, steps: 10 }, devices: [], violations: [], heldAfter: 0, ended: "guarded", virtualUs: 100_000, wallMs: 1, checkpoints: 0, dirtyReceipts: 0,
      procs: [{ board: "gnc", comp: "c", gen: "new", role: "low", checkpoints: 0, logged: 0, peakBytes: 0, rollbackDistance: 0, atPassed: 0, atFailed: 0 }],
      trace: [{ t: 30_000, type: "upgrade", board: "gnc", cluster: ["c"] }, { t: 50_000, type: "passed-at", board: "gnc", comp: "c", gen: "new", v: 1 }],
    } as unknown as Parameters<typeof htmlReport>[0];
    const html = htmlReport(r, { verdict: "pass", seed: 1, reference: false, problems: [] } as unknown as Parameters<typeof htmlReport>[1], "...\nVerdict: PASS: devices saw exactly what...");
    expect(html.match(/PASS/g)!.length).toBe(2);                     // the headline and the text report's last line
    expect(html).not.toMatch(/PASS: Verdict: PASS/);
    expect(html).toMatch(/<h2>Around the upgrade at 30\.0 ms/);
    expect(html).toMatch(/class="upgl">upgrade</);
    expect(html).toMatch(/class="lab" text-anchor="middle">50</);    // a tick at 50 ms
    expect(html).not.toMatch(/Around the failed AT/);
  });
});
