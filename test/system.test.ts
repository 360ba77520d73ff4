// The cluster G^low from an upgrade plan, and configurations that cannot work.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { demoSystem, DEMO_BOARDS } from "../host/sim/demo-system.ts";
import { computeCluster, PlanError } from "../host/runtime/system.ts";

const root = join(import.meta.dirname, "..");
const base = JSON.parse(readFileSync(join(root, "examples/system.json"), "utf8"));
const dir = mkdtempSync(join(tmpdir(), "gsu-system-"));
const write = (name: string, j: unknown) => { const p = join(dir, name); writeFileSync(p, typeof j === "string" ? j : JSON.stringify(j)); return p; };
const rehearse = (...args: string[]) => spawnSync(process.execPath, [join(root, "bin/gsu.js"), "rehearse", "--html", "-", ...args], { encoding: "utf8", timeout: 60_000 });

describe("the cluster of an upgrade plan", () => {
  const sys = demoSystem();
  it("the demo's plan: the estimator and the controller (their interface changes)", () => {
    expect(computeCluster(sys.spec, sys.plan).sort()).toEqual(["controller", "estimator"]);
  });
  it("upgrading only the estimator leaks its new interface: refused, naming the port", () => {
    const est = sys.plan.upgrades.find((u) => u.name === "estimator")!;
    expect(() => computeCluster(sys.spec, { upgrades: [est] })).toThrow(PlanError);
    expect(() => computeCluster(sys.spec, { upgrades: [est] })).toThrow(/estimator@2\.0\.0 port 'attitude' speaks attitude\.quat@2 but controller@1\.0\.0 port 'attitude' speaks attitude\.euler@1/);
  });
  it("a cluster split across boards is accepted (members on several boards, docs/protocol.md point 4), in the plan's order", () => {
    const split = demoSystem([{ name: "a", node: 1, components: ["sensor", "estimator"] }, { name: "b", node: 2, components: ["controller", "fdir", "telemetry"] }]);
    expect(computeCluster(split.spec, split.plan)).toEqual(split.plan.upgrades.map((u) => u.name));
  });
});

describe("gsu rehearse --config: configurations that cannot work exit 2 with a clear message", () => {
  it("the demo's own system file runs and passes", () => {
    const r = rehearse("--config", write("ok.json", { ...base, boards: DEMO_BOARDS }), "--steps", "40", "--fault", "controller@20");
    expect(r.status, r.stderr).toBe(0);
  });
  for (const [name, cfg, pat] of [
    ["a plan whose interface leaks", { ...base, upgrade: { estimator: "2.0.0" } }, /interface leak: estimator@2\.0\.0 port 'attitude'/],
    ["an unknown component", { ...base, initial: { ...base.initial, gyro: "1.0.0" } }, /component gyro@1\.0\.0/],
    ["an unknown version", { ...base, upgrade: { ...base.upgrade, controller: "9.9.9" } }, /controller@9\.9\.9/],
    ["a link to a port that does not exist", { ...base, links: [...base.links, { from: "sensor.gyro", to: "fdir.nope" }] }, /fdir@1\.0\.0 has no input port 'nope'/],
    ["a board hosting an unknown component", { ...base, boards: [{ name: "x", node: 1, components: ["sensor", "estimator", "controller", "fdir", "telemetry", "ghost"] }] }, /unknown component 'ghost'/],
    ["a component on no board", { ...base, boards: [{ name: "x", node: 1, components: ["sensor", "estimator", "controller", "fdir"] }] }, /'telemetry' is on no board/],
    ["a bad node id", { ...base, boards: [{ name: "x", node: 900, components: [] }] }, /boards\[0\]\.node/],
    ["links that are not an array", { ...base, links: {} }, /'links' must be an array/],
    ["a file that is not JSON", "{ nope", /is not valid JSON/],
  ] as const) {
    it(name, () => {
      const r = rehearse("--config", write(`${name.replace(/\W+/g, "-")}.json`, cfg), "--steps", "10");
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(pat);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
  it("a missing file", () => {
    const r = rehearse("--config", join(dir, "missing.json"));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot read system file .*missing\.json: ENOENT/);
  });
});
