// The HTML reports in a real browser: Debian's chromium, headless, driven by playwright-core.
// A report (gsu report of a rehearsal trace and a telemetry recording) must load with no
// console error and draw its plots (uPlot canvases) from the inlined library, offline.
import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { htmlReport, summarize } from "../../host/report/rehearsal.ts";
import { runTestbed } from "../../host/sim/testbed.ts";
import { loadSystemByName } from "../../host/sim/systems.ts";
import { buildReport } from "../../host/report/telemetry-report.ts";
import { simTelemetry } from "../../host/telemetry/simlink.ts";
import { GroundStation, type GroundRecord } from "../../host/telemetry/ground.ts";

const CHROMIUM = process.env.GSU_CHROMIUM ?? "/usr/bin/chromium";
const have = existsSync(CHROMIUM);

describe.skipIf(!have)(`report pages in headless Chromium${have ? "" : ` (skipped: no ${CHROMIUM}; apt-get install chromium)`}`, () => {
  it("a telemetry report and a rehearsal report load offline with no console error and draw every plot", async () => {
    const recs: GroundRecord[] = [];
    const g = new GroundStation({ onRecord: (r) => recs.push(r) });
    for (const p of simTelemetry({ steps: 60 }).packets) g.pushFrame(p.bytes);
    const html = buildReport(recs as unknown as Record<string, unknown>[], { names: new Map([[1, "io"], [2, "gnc"], [3, "comms"]]) });
    const file = join(mkdtempSync(join(tmpdir(), "gsu-report-browser-")), "report.html");
    writeFileSync(file, html);
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
      page.on("pageerror", (e) => errors.push(String(e)));
      const requests: string[] = [];
      page.on("request", (r) => { if (!r.url().startsWith("file:")) requests.push(r.url()); });
      await page.goto(`file://${file}`);
      const plots = await page.locator(".gsu-plot").count();
      expect(plots).toBe(3);
      await page.waitForFunction((n) => document.querySelectorAll(".gsu-plot canvas").length === n, plots, { timeout: 5000 });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);                                          // nothing fetched from the network
      const legend = await page.locator(".gsu-plot .u-legend").first().innerText();
      expect(legend).toMatch(/time since the recording's start/);
      expect(legend).not.toMatch(/\(\?\)/);
      // the rehearsal page (gsu rehearse --html) in the same browser: its plots draw, no error
      const sys = await loadSystemByName("fake");
      const run = runTestbed(sys, { seed: 1, steps: 40, fault: { comp: "estimator", step: 25 }, detail: true });
      const rfile = join(dirname(file), "rehearsal.html");
      writeFileSync(rfile, htmlReport(run, summarize(run, []), "Verdict: PASS"));
      await page.goto(`file://${rfile}`);
      const rplots = await page.locator(".gsu-plot").count();
      expect(rplots).toBeGreaterThanOrEqual(1);
      await page.waitForFunction((n) => document.querySelectorAll(".gsu-plot canvas").length === n, rplots, { timeout: 5000 });
      expect(await page.locator("h2", { hasText: "Around the failed AT, through the recovery" }).count()).toBe(1);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
