// Two board daemons (`gsu board --system`) as OS processes over a PTY serial link,
// with the link layer and the deployment's key: they open a session by hello (in any
// start order: io, the board with the device input, starts first and waits), the demo
// runs across them, and the device outputs equal the reference run's, in order.
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PtyPair, socatMissing } from "../serial/socat.ts";
import { runTestbed } from "../../host/sim/testbed.ts";
import { demoSystem } from "../../host/sim/demo-system.ts";
import { writeLinkKey } from "../../host/board/keys.ts";

const root = join(import.meta.dirname, "../..");

describe.skipIf(!!socatMissing)(`two board daemons with the link layer over a PTY serial link${socatMissing ? `: skipped, ${socatMissing}` : ""}`, () => {
  it("io starts first and waits for gnc's hello; then the split demo runs, every device output as in the reference; gnc killed and restarted is recognised and rejoins", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gsu-mbl-"));
    const pair = new PtyPair();
    await pair.up();
    const key = writeLinkKey("deploy", dir);
    const sys = JSON.parse(readFileSync(join(root, "examples/system.json"), "utf8"));
    sys.boards = [{ name: "io", node: 1, components: ["sensor", "fdir", "telemetry"] }, { name: "gnc", node: 2, components: ["estimator", "controller"] }];
    writeFileSync(join(dir, "system.json"), JSON.stringify(sys));
    const procs = [];
    const outs: Record<string, string> = {};
    try {
      for (const [name, node, comps, dev] of [["io", 1, ["sensor@1.0.0", "fdir@1.0.0", "telemetry@1.0.0"], pair.a], ["gnc", 2, ["estimator@1.0.0", "controller@1.0.0"], pair.b]] as const) {
        const prof = join(dir, `${name}.json`);
        writeFileSync(prof, JSON.stringify({ name, node, links: [{ kind: "serial", path: dev, baud: 115200 }], stateDir: join(dir, `state-${name}`), components: comps, at: { commit: "manual" }, linkKey: key }));
        const p = spawn(process.execPath, [join(root, "bin/gsu.js"), "board", "--profile", prof, "--system", join(dir, "system.json"), ...(name === "io" ? ["--sim-devices", "100"] : [])], { stdio: ["ignore", "pipe", "inherit"] });
        outs[name] = "";
        p.stdout!.on("data", (d) => { outs[name] += d; });
        const t1 = Date.now();
        while (!outs[name].includes("serving the ground") && Date.now() - t1 < 15_000) await new Promise((r) => setTimeout(r, 20));
        procs.push(p);
        // io waits alone for a while: its components take no input before gnc is in step
        if (name === "io") await new Promise((r) => setTimeout(r, 700));
      }
      const lines = (b: string) => existsSync(join(dir, `state-${b}`, "devices.jsonl")) ? readFileSync(join(dir, `state-${b}`, "devices.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)) : [];
      const t0 = Date.now();
      while ((lines("gnc").length < 100 || lines("io").length < 100) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 100));
      expect(outs.io).toMatch(/link: session with node 2 open/);
      expect(outs.gnc).toMatch(/link: session with node 1 open/);
      const ref = runTestbed(demoSystem(), { seed: 0, steps: 300, reference: true }).devices;
      const wheel = lines("gnc").filter((d) => d.device === "wheel").map((d) => d.payload);
      const down = lines("io").filter((d) => d.device === "downlink").map((d) => d.payload);
      expect(wheel.length).toBeGreaterThanOrEqual(100);
      expect(down.length).toBeGreaterThanOrEqual(90);
      // nothing was lost while io waited: the first step's outputs are there
      expect(wheel).toEqual(ref.filter((d) => d.device === "wheel").slice(0, wheel.length).map((d) => d.payload));
      expect(down).toEqual(ref.filter((d) => d.device === "downlink").slice(0, down.length).map((d) => d.payload));

      // gnc is killed (kill -9) and started again: a higher incarnation from its state
      // directory; io recognises the restart, both open a new session, and the loop runs on
      const inc0 = Number(readFileSync(join(dir, "state-gnc", "incarnation"), "utf8"));
      procs[1].kill("SIGKILL");
      await new Promise((r) => setTimeout(r, 300));
      const p2 = spawn(process.execPath, [join(root, "bin/gsu.js"), "board", "--profile", join(dir, "gnc.json"), "--system", join(dir, "system.json")], { stdio: ["ignore", "pipe", "inherit"] });
      procs.push(p2);
      outs.gnc2 = "";
      p2.stdout!.on("data", (d) => { outs.gnc2 += d; });
      const t2 = Date.now();
      while (!(outs.gnc2.includes("session with node 1 open") && /link: node 2 restarted/.test(outs.io)) && Date.now() - t2 < 15_000) await new Promise((r) => setTimeout(r, 50));
      const inc1 = Number(readFileSync(join(dir, "state-gnc", "incarnation"), "utf8"));
      expect(inc1).toBeGreaterThan(inc0);
      expect(outs.io).toMatch(new RegExp(`link: node 2 restarted \\(incarnation ${inc0} -> ${inc1}\\)`));
      expect(outs.gnc2).toMatch(/link: session with node 1 open/);
      const n = lines("gnc").length;
      const t3 = Date.now();
      while (lines("gnc").length < n + 50 && Date.now() - t3 < 10_000) await new Promise((r) => setTimeout(r, 100));
      expect(lines("gnc").length).toBeGreaterThanOrEqual(n + 50);
    } finally {
      for (const p of procs) p.kill("SIGKILL");
      await pair.dispose();
    }
  }, 60_000);
});
