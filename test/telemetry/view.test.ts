// The live view on narrow terminals, with colour: every line fits (escapes take no columns);
// times are clock times for a real board, not epoch seconds; the event tail keeps the failed
// AT in view until its rollback shows.
import { describe, expect, it } from "vitest";
import { GroundStation } from "../../host/telemetry/ground.ts";
import { clipVisible, eventTail, fmtTime, LiveView, visibleWidth } from "../../host/telemetry/view.ts";
import { simTelemetry } from "../../host/telemetry/simlink.ts";
import type { EventRecord } from "../../host/telemetry/dictionary.ts";

const ev = (event: string, t_us: number): EventRecord => ({ type: "event", node: 2, apid: 40, seq: 0, t_us, id: 0, event, severity: "WARNING_HI", args: {}, text: event.toLowerCase() } as unknown as EventRecord);

describe("the live view", () => {
  it("clips to the visible width, escapes kept and closed", () => {
    const red = "\x1b[1;31mFATAL\x1b[0m";
    const line = `${"x".repeat(10)} ${red} ${"y".repeat(30)}`;
    expect(visibleWidth(line)).toBe(47);
    const c = clipVisible(line, 14);
    expect(visibleWidth(c)).toBe(14);
    expect(c).toBe(`${"x".repeat(10)} \x1b[1;31mFAT\x1b[0m`);
    expect(clipVisible("short", 40)).toBe("short");
  });

  it("with colour on an 80-column terminal every drawn line fits 79 columns", () => {
    let out = "";
    const g = new GroundStation();
    const v = new LiveView(g, { tty: true, colour: true, columns: 80, out: (s) => { out += s; } });
    for (const p of simTelemetry({ steps: 130 }).packets) g.pushFrame(p.bytes);
    v.draw();
    expect(out).toContain("\x1b[1;33m");                                     // colour is on
    const lines = out.split("\n").map((l) => l.replace(/\x1b\[2K/g, ""));
    expect(Math.max(...lines.map(visibleWidth))).toBeLessThanOrEqual(79);
    expect(v.render().some((l) => visibleWidth(l) > 79)).toBe(true);         // unclipped, they would wrap
  });

  it("a real board's times read as clock time, not epoch seconds", () => {
    const t = Date.UTC(2026, 10, 28, 9, 5, 7, 250) * 1000;
    expect(fmtTime(t)).toMatch(/^\d\d:05:07\.250$/);
    expect(fmtTime(1_204_000)).toBe("1.204 s");                               // simulated: from 0
    const g = new GroundStation();
    const v = new LiveView(g, { tty: true, colour: false });
    expect(v.eventLine(ev("AT_FAILED", t))).not.toMatch(/1795\d{6}/);
  });

  it("--tail keeps the AT_FAILED in view until its rollback shows", () => {
    const evs = [ev("UPGRADE_STARTED", 0), ev("AT_FAILED", 1), ...Array.from({ length: 6 }, (_, i) => ev("RECOVERY_REQUESTED", 2 + i))];
    // no rollback yet: the failed AT is pinned above the last 3
    let t = eventTail(evs, 4);
    expect(t.pinned?.event).toBe("AT_FAILED");
    expect(t.lines.length).toBe(3);
    // the rollback arrives: both in view
    evs.push(ev("ROLLBACK", 10));
    t = eventTail(evs, 4);
    expect(t.pinned?.event).toBe("AT_FAILED");
    expect(t.lines.at(-1)!.event).toBe("ROLLBACK");
    // the rollback scrolls away too: the plain tail
    evs.push(ev("TAKEOVER", 11), ev("RECOVERED", 12), ev("RECOVERED", 13));
    t = eventTail(evs, 4);
    expect(t.pinned).toBeUndefined();
    expect(t.lines.map((e) => e.event)).toEqual(["ROLLBACK", "TAKEOVER", "RECOVERED", "RECOVERED"].slice(-4));
    // within the tail anyway: nothing pinned
    expect(eventTail(evs.slice(0, 3), 4).pinned).toBeUndefined();
  });

  it("the drawn screen with --tail 3 shows the failed AT next to its rollback", () => {
    const g = new GroundStation();
    const v = new LiveView(g, { tty: true, colour: false, tail: 3 });
    let sawBoth = false;
    for (const p of simTelemetry({ steps: 140 }).packets) {
      g.pushFrame(p.bytes);
      const screen = v.render().join("\n");
      if (/AT_FAILED/.test(screen) && /ROLLBACK/.test(screen)) sawBoth = true;
      if (g.events.some((e) => e.event === "AT_FAILED") && !g.events.some((e) => e.event === "ROLLBACK")) expect(screen).toMatch(/AT_FAILED/);
    }
    expect(sawBoth).toBe(true);
  });
});
