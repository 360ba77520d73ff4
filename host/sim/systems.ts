// The systems a rehearsal can run: the demo (AssemblyScript components) and a
// small synthetic one in TypeScript (fast, for property runs).
import type { TestbedSystem } from "./testbed.ts";
import type { SystemSpec } from "../runtime/system.ts";

/** The system as a board runs it after the upgrade's commit: the plan's new versions in place of the old. */
export function committedSpec(sys: Pick<TestbedSystem, "spec" | "plan">): SystemSpec {
  return { ...sys.spec, components: { ...sys.spec.components, ...Object.fromEntries(sys.plan.upgrades.map((u) => [u.name, u])) } };
}

export const SYSTEMS: Record<string, () => Promise<TestbedSystem>> = {
  demo: async () => (await import("./demo-system.ts")).demoSystem(),
  fake: async () => (await import("./fake-system.ts")).fakeSystem(),
  "fake-2boards": async () => (await import("./fake-system.ts")).fakeSystem({ placement: "2boards" }),
};

/** Generated topologies: mesh-N (fault in one member), meshc-N (cluster-wide fault). */
export const MESH = /^(meshc?)-(\d+)$/;
/** Generated systems at scale (host/sim/gen-system.ts): 1-4 members, per-member faults. */
export const GEN = /^gen-(\d+)$/;
/** gen-N's topologies with the members on several boards (docs/protocol.md point 4: designed, not built; refused today). */
export const GENX = /^genx-(\d+)$/;

/** The error for a name no system has, listing every name a user can give. */
export function unknownSystem(name: string): string {
  return `unknown system '${name}'; choose one of: ${Object.keys(SYSTEMS).join(", ")}, mesh-N, meshc-N, gen-N, genx-N`;
}

export function isSystemName(name: string): boolean { return Object.hasOwn(SYSTEMS, name) || MESH.test(name) || GEN.test(name) || GENX.test(name); }

export async function loadSystemByName(name: string): Promise<TestbedSystem> {
  const m = MESH.exec(name);
  if (m) return (await import("./mesh-system.ts")).meshSystem(Number(m[2]), { fault: m[1] === "meshc" ? "cluster" : "member" });
  const g = GEN.exec(name);
  if (g) return (await import("./gen-system.ts")).genSystem(Number(g[1]));
  const gx = GENX.exec(name);
  if (gx) return (await import("./gen-system.ts")).genSystem(Number(gx[1]), "several");
  const f = SYSTEMS[name];
  if (!f) throw new Error(unknownSystem(name));
  return f();
}
