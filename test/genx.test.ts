// genx-N (host/sim/gen-system.ts): gen-N's topologies with the cluster's members on several
// boards (docs/protocol.md point 4, "Members on several boards": designed, not built). Until
// the core carries vectors, computeCluster refuses these plans; this file pins the generator
// and the refusal. When the core is built, the property suite runs over genx-N instead.
import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { describeGen, genShape, genSystem } from "../host/sim/gen-system.ts";
import { isSystemName, loadSystemByName } from "../host/sim/systems.ts";
import { computeCluster, PlanError } from "../host/runtime/system.ts";

const memberBoards = (s: ReturnType<typeof genShape>) => s.boards.filter((b) => b.components.some((c) => s.members.includes(c)));

describe("genx-N", () => {
  it("leaves gen-N as it was (commands in the issues and docs keep their meaning)", () => {
    // The digest of gen-1..gen-200 (descriptions and placements) at a28a825, before genx existed.
    const h = createHash("sha256");
    for (let n = 1; n <= 200; n++) {
      h.update(describeGen(genShape(n)) + "\n");
      h.update(JSON.stringify(genSystem(n).spec.boards) + "\n");
    }
    expect(h.digest("hex")).toBe("d1564b4c2167a6fed88b22b1246ebcb97aebaa73a6d620f388ad257a91935b82");
  });

  it("keeps gen-N's topology, places every component once, and puts members on several boards", () => {
    const seen: Record<string, number> = {};
    for (let n = 1; n <= 200; n++) {
      const g = genShape(n), x = genShape(n, "several");
      for (const f of x.features) seen[f] = (seen[f] ?? 0) + 1;
      expect({ e: x.edges, i: x.inputs, d: x.devices, m: x.members, o: x.order }).toEqual({ e: g.edges, i: g.inputs, d: g.devices, m: g.members, o: g.order });
      expect(x.boards.map((b) => b.name)).toEqual(g.boards.map((b) => b.name));
      expect(x.boards.flatMap((b) => b.components).sort()).toEqual([...x.order].sort());
      expect(x.boards.every((b) => b.components.length > 0), `genx-${n}: an empty board`).toBe(true);
      expect(memberBoards(x).length >= 2, `genx-${n}`).toBe(x.members.length >= 2);
      expect(JSON.stringify(genShape(n, "several"))).toBe(JSON.stringify(x));
    }
    for (const f of ["members=2", "members=3", "members=4", "member-boards=2", "member-boards=3", "cluster-chain", "bridge", "several-gact-facing", "member-depths"]) {
      expect(seen[f] ?? 0, `feature ${f} over genx-1..genx-200`).toBeGreaterThanOrEqual(10);
    }
  });

  it("is reachable by name, and its plans are refused today with the boards named", async () => {
    expect(isSystemName("genx-7")).toBe(true);
    const sys = await loadSystemByName("genx-2");
    expect((sys as { name?: string }).name).toBe("genx-2");
    const boards = memberBoards(genShape(2, "several")).map((b) => b.name);
    expect(boards.length).toBeGreaterThanOrEqual(2);
    let refused = 0;
    for (let n = 1; n <= 50; n++) {
      const s = genSystem(n, "several");
      if (s.shape.members.length < 2) { expect(computeCluster(s.spec, s.plan).length).toBe(1); continue; }
      const names = memberBoards(s.shape).map((b) => b.name);
      expect(() => computeCluster(s.spec, s.plan), `genx-${n}`).toThrow(PlanError);
      expect(() => computeCluster(s.spec, s.plan)).toThrow(new RegExp(`spans boards ${names.join(", ")};.*designed, not built`));
      refused++;
    }
    expect(refused).toBeGreaterThan(30);
  });
});
