// Small systems for exhaustive exploration (host/sim/explore.ts, npm run explore):
// hand-made mesh shapes (host/sim/mesh-system.ts: deterministic per-port step joins,
// exact snapshots, a NaN state fault in the new versions, a changed interface on the
// members' link), small enough that every delivery interleaving of a few steps can
// be run.
//
//   x1: cluster {m1}; G_act {src, a1}; boards b1{src, a1} b2{m1}
//       src -> m1, src -> a1 (clean input to a dirty process: receiver-side logging),
//       m1 -> a1, m1 -> device dm (the cluster's AT), a1 -> device d (a dirty AT)
//   x2: cluster {m1, m2} (m1 -> m2 over the changed link); G_act {src, a1};
//       boards b1{src} b2{m1, m2} b3{a1}
//       src -> m1, m1 -> m2, m1 -> a1 and m2 -> a1 (two G_act-facing members:
//       per-member numbering), m2 -> device dm (its pass validates m1's messages
//       through the link: causal validation), a1 -> device d
//   x2s: x2 plus src -> a1 (receiver-side logging with two members)
//   x2b: x2 with the members on two boards: b1{src} b2{m1} b3{m2, a1} (members on
//       several boards, docs/protocol.md point 4: vectors on the wire)
import type { MeshShape } from "./mesh-system.ts";
import type { TestbedSystem } from "./testbed.ts";

const E = (from: string, fromPort: string, to: string, toPort: string) => ({ from, fromPort, to, toPort });
const D = (from: string, fromPort: string, device: string) => ({ from, fromPort, to: "", device });

export const EXPLORE_SHAPES: Record<string, MeshShape> = {
  x1: {
    seed: 1, members: ["m1"], workers: ["a1"],
    edges: [E("src", "o1", "m1", "i1"), E("src", "o2", "a1", "i1"), E("m1", "o1", "a1", "i2"), D("m1", "o2", "dm"), D("a1", "o1", "d")],
    devices: ["dm", "d"],
    boards: [{ name: "b1", node: 1, components: ["src", "a1"] }, { name: "b2", node: 2, components: ["m1"] }],
    roles: {},
  },
  x2: {
    seed: 2, members: ["m1", "m2"], workers: ["a1"],
    edges: [E("src", "o1", "m1", "i1"), E("m1", "link", "m2", "link"), E("m1", "o1", "a1", "i1"), E("m2", "o1", "a1", "i2"), D("m2", "o2", "dm"), D("a1", "o1", "d")],
    devices: ["dm", "d"],
    boards: [{ name: "b1", node: 1, components: ["src"] }, { name: "b2", node: 2, components: ["m1", "m2"] }, { name: "b3", node: 3, components: ["a1"] }],
    roles: {},
  },
  x2s: {
    seed: 3, members: ["m1", "m2"], workers: ["a1"],
    edges: [E("src", "o1", "m1", "i1"), E("src", "o2", "a1", "i1"), E("m1", "link", "m2", "link"), E("m1", "o1", "a1", "i2"), E("m2", "o1", "a1", "i3"), D("m2", "o2", "dm"), D("a1", "o1", "d")],
    devices: ["dm", "d"],
    boards: [{ name: "b1", node: 1, components: ["src"] }, { name: "b2", node: 2, components: ["m1", "m2"] }, { name: "b3", node: 3, components: ["a1"] }],
    roles: {},
  },
  x2b: {
    seed: 4, members: ["m1", "m2"], workers: ["a1"],
    edges: [E("src", "o1", "m1", "i1"), E("m1", "link", "m2", "link"), E("m1", "o1", "a1", "i1"), E("m2", "o1", "a1", "i2"), D("m2", "o2", "dm"), D("a1", "o1", "d")],
    devices: ["dm", "d"],
    boards: [{ name: "b1", node: 1, components: ["src"] }, { name: "b2", node: 2, components: ["m1"] }, { name: "b3", node: 3, components: ["m2", "a1"] }],
    roles: {},
  },
};

export const EXPLORE_SYSTEM_NAMES = Object.keys(EXPLORE_SHAPES);

/** An exploration system by name: x1, x2, x2s, x2b, or any rehearsal system (fake, demo, mesh-N, meshc-N). */
export async function loadExploreSystem(name: string): Promise<TestbedSystem> {
  const shape = EXPLORE_SHAPES[name];
  if (shape) return (await import("./mesh-system.ts")).meshSystem(shape);
  return (await import("./systems.ts")).loadSystemByName(name);
}

/** The components a fault can be injected into: the upgrade's cluster. */
export function faultComponents(sys: TestbedSystem): string[] {
  return sys.plan.upgrades.map((u) => u.name);
}
