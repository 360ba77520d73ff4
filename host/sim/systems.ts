// The systems a rehearsal can run: the demo (AssemblyScript components) and a
// small synthetic one in TypeScript (fast, for property runs).
import type { TestbedSystem } from "./testbed.ts";

export const SYSTEMS: Record<string, () => Promise<TestbedSystem>> = {
  demo: async () => (await import("./demo-system.ts")).demoSystem(),
  fake: async () => (await import("./fake-system.ts")).fakeSystem(),
  "fake-2boards": async () => (await import("./fake-system.ts")).fakeSystem({ placement: "2boards" }),
};

/** Generated topologies: mesh-N (fault in one member), meshc-N (cluster-wide fault). */
export const MESH = /^(meshc?)-(\d+)$/;

export function isSystemName(name: string): boolean { return Object.hasOwn(SYSTEMS, name) || MESH.test(name); }

export async function loadSystemByName(name: string): Promise<TestbedSystem> {
  const m = MESH.exec(name);
  if (m) return (await import("./mesh-system.ts")).meshSystem(Number(m[2]), { fault: m[1] === "meshc" ? "cluster" : "member" });
  const f = SYSTEMS[name];
  if (!f) throw new Error(`unknown system '${name}'; choose one of: ${Object.keys(SYSTEMS).join(", ")}, mesh-N, meshc-N`);
  return f();
}
