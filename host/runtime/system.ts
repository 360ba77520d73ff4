// The system a rehearsal or a board runs: components, wires, devices, placement,
// and the upgrade plan that defines the low-confidence cluster G^low.
import type { ComponentVersion, PortSpec } from "./app.ts";

export interface Endpoint { comp: string; port: string }
export interface Wire {
  from: Endpoint | { device: string };
  to: Endpoint | { device: string };
}
/** An acceptance test on messages to a device. */
export type AcceptanceTest = (payload: Uint8Array) => boolean;

export interface SystemSpec {
  components: Record<string, ComponentVersion>;       // the running (trusted) versions
  wires: Wire[];
  boards: { name: string; node: number; components: string[] }[];
  ats: Record<string, AcceptanceTest>;                // per output device
}

export interface UpgradePlan { upgrades: ComponentVersion[] }

export class PlanError extends Error {
  constructor(message: string) { super(message); this.name = "PlanError"; }
}

export const isDevice = (e: Endpoint | { device: string }): e is { device: string } => "device" in e;

function portOf(v: ComponentVersion, name: string, dir: "in" | "out"): PortSpec {
  const p = v.ports.find((p) => p.name === name && p.dir === dir);
  if (!p) throw new PlanError(`${v.name}@${v.version} has no ${dir}put port '${name}'; its manifest must declare it`);
  return p;
}

/** Checks the wiring against the versions that will run; returns the problems. */
export function checkSpec(spec: SystemSpec): void {
  const placed = new Map<string, string>();
  for (const b of spec.boards) {
    for (const c of b.components) {
      if (!spec.components[c]) throw new PlanError(`board '${b.name}' hosts unknown component '${c}'`);
      if (placed.has(c)) throw new PlanError(`component '${c}' is placed on both '${placed.get(c)}' and '${b.name}'`);
      placed.set(c, b.name);
    }
  }
  for (const c of Object.keys(spec.components)) {
    if (!placed.has(c)) throw new PlanError(`component '${c}' is on no board; add it to a board's components`);
  }
  for (const w of spec.wires) {
    for (const [end, dir] of [[w.from, "out"], [w.to, "in"]] as const) {
      if (isDevice(end)) continue;
      const v = spec.components[end.comp];
      if (!v) throw new PlanError(`a wire names unknown component '${end.comp}'`);
      portOf(v, end.port, dir);
    }
    if (!isDevice(w.from) && !isDevice(w.to)) {
      const a = portOf(spec.components[w.from.comp], w.from.port, "out");
      const b = portOf(spec.components[w.to.comp], w.to.port, "in");
      if (a.iface !== b.iface) {
        throw new PlanError(`interface mismatch on ${w.from.comp}.${w.from.port} -> ${w.to.comp}.${w.to.port}: ${a.iface} vs ${b.iface}`);
      }
    }
    if (isDevice(w.to) && !spec.ats[w.to.device]) {
      throw new PlanError(`device '${w.to.device}' has no acceptance test; every device output needs one`);
    }
  }
}

/**
 * The cluster G^low of a plan: the upgraded components. Every wire whose interface
 * changes must have both ends in the cluster, or the plan is refused naming the port.
 * The members may sit on several boards (docs/protocol.md point 4: per-member index
 * sequences). Returns the members in the plan's order: member slot j is entry j - 1.
 */
export function computeCluster(spec: SystemSpec, plan: UpgradePlan): string[] {
  const next: Record<string, ComponentVersion> = { ...spec.components };
  const cluster = new Set<string>();
  for (const u of plan.upgrades) {
    if (!spec.components[u.name]) throw new PlanError(`upgrade plan names unknown component '${u.name}'`);
    if (cluster.has(u.name)) throw new PlanError(`upgrade plan names '${u.name}' twice`);
    cluster.add(u.name);
    next[u.name] = u;
  }
  for (const w of spec.wires) {
    for (const [end, dir] of [[w.from, "out"], [w.to, "in"]] as const) {
      if (!isDevice(end) && cluster.has(end.comp)) {
        const oldP = portOf(spec.components[end.comp], end.port, dir);
        const newP = portOf(next[end.comp], end.port, dir);
        const other = dir === "out" ? w.to : w.from;
        if (oldP.iface === newP.iface) continue;
        if (isDevice(other)) {
          throw new PlanError(`interface leak: ${end.comp}@${next[end.comp].version} port '${end.port}' changes ${oldP.iface} -> ${newP.iface} towards device '${other.device}', which cannot be upgraded`);
        }
        if (!cluster.has(other.comp)) {
          const op = portOf(spec.components[other.comp], other.port, dir === "out" ? "in" : "out");
          throw new PlanError(`interface leak: ${end.comp}@${next[end.comp].version} port '${end.port}' speaks ${newP.iface} but ${other.comp}@${spec.components[other.comp].version} port '${other.port}' speaks ${op.iface}; add a new version of '${other.comp}' to the plan`);
        }
      }
    }
  }
  // both ends of a changed wire are in the cluster: check they agree in the new versions
  for (const w of spec.wires) {
    if (isDevice(w.from) || isDevice(w.to)) continue;
    if (!cluster.has(w.from.comp) && !cluster.has(w.to.comp)) continue;
    const a = portOf(next[w.from.comp], w.from.port, "out"), b = portOf(next[w.to.comp], w.to.port, "in");
    if (a.iface !== b.iface) {
      throw new PlanError(`interface mismatch after upgrade on ${w.from.comp}.${w.from.port} (${a.iface}) -> ${w.to.comp}.${w.to.port} (${b.iface})`);
    }
  }
  return [...cluster];
}
