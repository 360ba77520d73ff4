// The systems a rehearsal can run: the demo (AssemblyScript components) and a
// small synthetic one in TypeScript (fast, for property runs).
import type { TestbedSystem } from "./testbed.ts";

export const SYSTEMS: Record<string, () => Promise<TestbedSystem>> = {
  demo: async () => (await import("./demo-system.ts")).demoSystem(),
  fake: async () => (await import("./fake-system.ts")).fakeSystem(),
  "fake-2boards": async () => (await import("./fake-system.ts")).fakeSystem({ placement: "2boards" }),
};

export async function loadSystemByName(name: string): Promise<TestbedSystem> {
  const f = SYSTEMS[name];
  if (!f) throw new Error(`unknown system '${name}'; choose one of: ${Object.keys(SYSTEMS).join(", ")}`);
  return f();
}
