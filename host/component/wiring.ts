// One way to turn component manifests and "comp.port" links into the runtime's
// SystemSpec: device ports become device wires (with the manifest's AT for
// outputs), links become component wires. Used by the testbed's demo system, the
// board daemon and the upload policy checks.
import { checkAT, type Manifest } from "./manifest.ts";
import type { ComponentVersion } from "../runtime/app.ts";
import { checkSpec, PlanError, type SystemSpec, type Wire } from "../runtime/system.ts";

export interface WiringOptions {
  /** Skip links whose ends are not among the components (a board running part of a system). */
  onlyPresent?: boolean;
}

export function wireSystem(
  components: Record<string, ComponentVersion & { manifest: Manifest }>,
  links: { from: string; to: string }[],
  boards: SystemSpec["boards"],
  o: WiringOptions = {},
): SystemSpec {
  const wires: Wire[] = [];
  const ats: SystemSpec["ats"] = {};
  for (const [name, c] of Object.entries(components)) {
    if (c.manifest.name !== name) throw new PlanError(`the manifest given for '${name}' is ${c.manifest.name}@${c.manifest.version}`);
    for (const p of c.manifest.ports) {
      if (!p.device) continue;
      if (p.dir === "in") wires.push({ from: { device: p.device }, to: { comp: name, port: p.name } });
      else {
        wires.push({ from: { comp: name, port: p.name }, to: { device: p.device } });
        if (p.at) { const at = p.at; ats[p.device] = (b) => checkAT(at, b) === null; }
      }
    }
  }
  for (const l of links) {
    const [fc, fp, ...f2] = l.from.split("."), [tc, tp, ...t2] = l.to.split(".");
    if (!fp || !tp || f2.length || t2.length) throw new PlanError(`link '${l.from} -> ${l.to}' must name component.port on both ends`);
    if (o.onlyPresent && !(components[fc] && components[tc])) continue;
    wires.push({ from: { comp: fc, port: fp }, to: { comp: tc, port: tp } });
  }
  const spec: SystemSpec = { components, wires, boards, ats };
  checkSpec(spec);
  return spec;
}
