// The web console of gsu ground in a real browser (Debian's chromium, headless, driven by
// playwright-core), against a real board daemon over a PTY: the page loads with no console
// error and fetches nothing from the network, the telemetry plots update, an upload from
// the page shows progress and stages the image, commands from the page reach the board
// (signed by the server: the page never holds the key), and the rollback the fault causes
// shows in the event log.
//
// Chromium: apt-get install chromium; socat for the PTY pair. Without either the suite is
// skipped with that reason, except in CI (CI set), where it runs and fails: CI must test
// the console.
// GSU_CONSOLE_SCREENSHOT=docs/img/console.png also saves a screenshot for the README.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { PtyPair, socatMissing } from "../serial/socat.ts";
import { loadPrivateKey, writeKeyPair } from "../../host/board/keys.ts";
import { signImage } from "../../host/board/image.ts";
import { loadManifest } from "../../host/component/manifest.ts";
import { manifestPath, wasmPath } from "../../host/component/demo.ts";
import { GroundServer } from "../../host/ground/server.ts";
import { startConsole, type ConsoleHttp } from "../../host/ground/http.ts";
import { SeqStore, seqFileFor } from "../../host/ground/seq.ts";

const root = join(import.meta.dirname, "../..");
const CHROMIUM = process.env.GSU_CHROMIUM ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
const inCI = !!process.env.CI;
const skip = inCI ? null : socatMissing ? socatMissing : !haveChromium ? `no ${CHROMIUM} (apt-get install chromium)` : null;

describe.skipIf(!!skip)(`web console in headless Chromium${skip ? `: skipped, ${skip}` : ""}`, () => {
  const dir = mkdtempSync(join(tmpdir(), "gsu-console-"));
  const pair = new PtyPair();
  const keys = writeKeyPair("ground", dir);
  let board: ChildProcess | null = null;
  let boardOut = "";
  let server: GroundServer;
  let web: ConsoleHttp;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const offsite: string[] = [];

  async function until(f: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
    const t0 = Date.now();
    while (!(await f())) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}; board said:\n${boardOut.slice(-2000)}\ncommand log: ${await page?.locator("#cmdlog").innerText().catch(() => "")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const rows = async (id: string) => Number(await page.locator(id).getAttribute("data-rows"));

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`CI is set but ${CHROMIUM} is missing: .ci/run installs Debian's chromium (apt-get install chromium); the web console's browser tests must run in CI`);
    if (socatMissing) throw new Error(`CI is set but ${socatMissing}: .ci/run installs it; the web console's browser tests must run in CI`);
    await pair.up();
    const profile = join(dir, "profile.json");
    writeFileSync(profile, JSON.stringify({
      name: "testbed", node: 1, links: [{ kind: "serial", path: pair.a, baud: 115200 }], stateDir: join(dir, "state"),
      components: ["sensor@1.0.0", "estimator@1.0.0", "controller@1.0.0", "fdir@1.0.0", "telemetry@1.0.0"],
      trustedKeys: { ground: keys.pubFile }, at: { commit: "manual" }, telemetry: { housekeepingHz: 5 },
    }));
    board = spawn(process.execPath, [join(root, "bin/gsu.js"), "board", "--profile", profile, "--sim-devices", "100"], { stdio: ["ignore", "pipe", "pipe"] });
    board.stdout!.on("data", (d) => { boardOut += d; });
    board.stderr!.on("data", (d) => { boardOut += d; });
    // Chromium starts while the board does
    const launching = import("playwright-core").then(({ chromium }) => chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] }));
    launching.catch(() => {});
    await until(() => boardOut.includes("up; serving the ground"), 15_000, "board start");
    server = await GroundServer.start({ spec: `serial:${pair.b}@115200`, archiveDir: join(dir, "archive"), runDir: join(dir, "run"), pollMs: 500,
      key: { key: loadPrivateKey(keys.keyFile), keyId: "ground", seqs: new SeqStore(seqFileFor(keys.keyFile)), file: keys.keyFile },
      targets: new Map([[1, "testbed"]]) });
    web = await startConsole(server, { port: 0, timeoutMs: 8000 });
    browser = await launching;
    page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => { if (!r.url().startsWith(`http://127.0.0.1:${web.port}/`) && !r.url().startsWith("data:")) offsite.push(r.url()); });
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await server?.close();
    board?.kill("SIGKILL");
    await pair.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a request without the access token", async () => {
    const r = await fetch(`http://127.0.0.1:${web.port}/api/state`);
    expect(r.status).toBe(403);
    expect((await r.json()).error).toMatch(/access token/);
    const c = await fetch(`http://127.0.0.1:${web.port}/api/command?token=${web.token}`, { method: "POST", body: "{}" });
    expect(c.status).toBe(403);                      // a form post from another site carries no header
  });

  it("loads with no console error and nothing from the network; the telemetry plots update", async () => {
    await page.goto(web.url);
    await until(() => page.evaluate(() => !!(window as unknown as { gsuConsole?: { ready: boolean } }).gsuConsole?.ready), 10_000, "the console's state");
    await until(async () => (await page.locator("#plot-1-mem canvas").count()) > 0, 10_000, "the memory plot");
    const r0 = await rows("#plot-1-at");
    await until(async () => (await rows("#plot-1-at")) > r0 + 2, 10_000, "the AT plot to grow");
    await until(async () => (await page.locator("#board-1 tbody tr").count()) >= 5, 5000, "the process table");
    expect(errors).toEqual([]);
    expect(offsite).toEqual([]);
  }, 30_000);

  it("an upload from the page shows progress and stages the image; upgrade, status and fault from the page reach the board; the rollback shows in the event log; a rehearsal's diagram shows", async () => {
    for (const n of ["estimator", "controller"]) {
      const img = join(dir, `${n}-2.0.0.gsui`);
      writeFileSync(img, signImage({ manifest: loadManifest(manifestPath(n, "2.0.0")), wasm: readFileSync(wasmPath(n, "2.0.0")), key: loadPrivateKey(keys.keyFile), keyId: "ground" }));
      await page.setInputFiles("#image", img);
      await page.click("#btn-upload");
      await until(async () => new RegExp(`accepted: upload accepted: ${n} 2\\.0\\.0 staged`).test(await page.locator("#cmdlog").innerText()), 20_000, `${n} upload`);
      expect(await page.locator("#upload-progress").evaluate((p: HTMLProgressElement) => p.value === p.max && p.max > 1000)).toBe(true);
    }
    await page.click("#btn-upgrade");
    await until(async () => /accepted upgrade #\d+: guarded operation started/.test(await page.locator("#cmdlog").innerText()), 10_000, "upgrade accepted");
    await page.click("#btn-status");
    await until(async () => /accepted status #\d+: \{"board":"testbed"/.test(await page.locator("#cmdlog").innerText()), 10_000, "status reply");
    await page.fill("#fault", "estimator@0");
    await page.click("#btn-fault");
    await until(async () => /ROLLBACK/.test(await page.locator("#events").innerText()), 15_000, "ROLLBACK in the event log");
    await until(async () => /TAKEOVER/.test(await page.locator("#events").innerText()), 15_000, "TAKEOVER in the event log");
    expect(await page.locator("#events").innerText()).toMatch(/rollback \w+\(\w+\) to checkpoint \d+/);
    // the board really did it: its state through the server
    const st = await fetch(`http://127.0.0.1:${web.port}/api/command`, { method: "POST", headers: { "x-gsu-token": web.token, "content-type": "application/json" }, body: JSON.stringify({ board: 1, target: "testbed", op: "status" }) });
    const s = JSON.parse((await st.json()).text);
    expect(s.guarded).toBe(false);
    expect(s.instances.find((i: { comp: string }) => i.comp === "estimator").version).toBe("1.0.0");
    expect(errors).toEqual([]);
    // the rehearsal's space-time diagram, as gsu rehearse --html draws it
    await page.fill("#r-steps", "150");
    await page.click("#btn-rehearse");
    await until(async () => /rehearsal: verdict PASS/.test(await page.locator("#cmdlog").innerText()), 40_000, "the rehearsal");
    await until(async () => (await page.frameLocator("#rehearsal").locator("svg").count()) > 0, 10_000, "the space-time diagram");
    expect(await page.frameLocator("#rehearsal").locator("h1").innerText()).toMatch(/GSU upgrade rehearsal/);
    expect(errors).toEqual([]);
    if (process.env.GSU_CONSOLE_SCREENSHOT) {
      await new Promise((r) => setTimeout(r, 2500));   // a few more samples after the recovery
      await page.screenshot({ path: process.env.GSU_CONSOLE_SCREENSHOT, fullPage: false });
    }
  }, 120_000);
});
