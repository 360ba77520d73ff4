// The demo attitude-control loop (examples/) as a testbed system: AssemblyScript
// components, wired by examples/system.json, placed on three boards.
import { checkAT, type Manifest } from "../component/manifest.ts";
import { imuMessage, loadComponentVersion, loadSystem } from "../component/demo.ts";
import type { ComponentVersion } from "../runtime/app.ts";
import { checkSpec, PlanError, type SystemSpec, type Wire } from "../runtime/system.ts";
import type { TestbedSystem } from "./testbed.ts";

export const DEMO_BOARDS = [
  { name: "io", node: 1, components: ["sensor"] },
  { name: "gnc", node: 2, components: ["estimator", "controller"] },
  { name: "comms", node: 3, components: ["fdir", "telemetry"] },
];

function load(name: string, version: string): ComponentVersion & { manifest: Manifest } {
  try {
    return loadComponentVersion(name, version);
  } catch (e) {
    throw new PlanError(`component ${name}@${version}: ${(e as Error).message}`);
  }
}

export function demoSystem(boards = DEMO_BOARDS): TestbedSystem {
  const sys = loadSystem();
  const components: Record<string, ComponentVersion & { manifest: Manifest }> = {};
  for (const [name, version] of Object.entries(sys.initial)) components[name] = load(name, version);
  const wires: Wire[] = [];
  const ats: SystemSpec["ats"] = {};
  const inputs: TestbedSystem["inputs"] = [];
  for (const c of Object.values(components)) {
    for (const p of c.manifest.ports) {
      if (!p.device) continue;
      if (p.dir === "in") {
        wires.push({ from: { device: p.device }, to: { comp: c.name, port: p.name } });
        if (p.device === "imu") inputs.push({ device: "imu", gen: imuMessage });
      } else {
        wires.push({ from: { comp: c.name, port: p.name }, to: { device: p.device } });
        if (p.at) { const at = p.at; ats[p.device] = (b) => checkAT(at, b) === null; }
      }
    }
  }
  for (const l of sys.links) {
    const [fc, fp] = l.from.split("."), [tc, tp] = l.to.split(".");
    if (!fp || !tp) throw new PlanError(`examples/system.json: link '${l.from} -> ${l.to}' must name component.port on both ends`);
    wires.push({ from: { comp: fc, port: fp }, to: { comp: tc, port: tp } });
  }
  const spec: SystemSpec = { components, wires, boards, ats };
  checkSpec(spec);
  const upgrades = Object.entries(sys.upgrade).map(([name, version]) => load(name, version));
  return { spec, plan: { upgrades }, inputs };
}
