// gen-N: generated systems for the property suite at scale (mesh-N and meshc-N stay
// as they are, so their commands keep their meaning). A seed-derived DAG of
// step-join components (host/sim/join.ts: deterministic per-port joins, exact JSON
// snapshots, ground-truth taint, a NaN state fault in the new versions):
//  - a cluster of 1-4 members, co-located on one board (the core keeps the cluster's
//    counters on one board: docs/protocol.md point 4); 2-4 boards in all, every other
//    component placed anywhere, the cluster's board included; genx-N: the same
//    topologies with the members on several boards (designed, not built: refused today);
//  - 1-2 sources fed by input devices, 2-6 G_act workers; sometimes a member is fed
//    by an input device directly;
//  - members at different pipeline depths: chains inside the cluster (member ->
//    member over a changed interface), members fed by G_act, bridges (member -> G_act
//    worker -> member), several G_act-facing members;
//  - fan-in (1-3 inputs), fan-out (one output port wired to several components),
//    several output ports, 0-3 device outputs per component (every sink has at least
//    one, so every component reaches a device), devices fed by several components;
//  - every device output has a finiteness AT.
// The new versions compute exactly what the old ones do; only the cluster-internal
// links change format (interface @2, other port numbers, another layout), so device
// equivalence against the old versions' fault-free run is exact. Faults are per
// member: the named member's state goes NaN from the fault step on.
import type { ComponentVersion, PortSpec } from "../runtime/app.ts";
import type { SystemSpec, UpgradePlan, Wire } from "../runtime/system.ts";
import type { TestbedSystem } from "./testbed.ts";
import { Rng } from "./rng.ts";
import { joinComponent, msg, read, type Compute } from "./join.ts";
import { detCos, detSin } from "../component/det-math.ts";
import type { Edge } from "./mesh-system.ts";

export interface GenShape {
  seed: number;
  sources: string[];            // G_act components fed by input devices
  members: string[];            // the cluster (upgraded), co-located
  workers: string[];            // other G_act components
  order: string[];              // every component, in topological order
  edges: Edge[];                // component -> component (toPort) and component -> device (device)
  inputs: { device: string; comp: string; port: string }[];
  devices: string[];            // output devices
  boards: { name: string; node: number; components: string[] }[];
  features: string[];           // what this shape exercises (for reports and coverage counts)
  placement?: Placement;        // genx-N: "several" (gen-N leaves it unset)
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)];
function shuffle<T>(rng: Rng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) { const j = rng.int(0, i); [xs[i], xs[j]] = [xs[j], xs[i]]; }
  return xs;
}

/**
 * Where the members go. `one-board` (gen-N): the whole cluster on one board, as the core
 * requires today (docs/protocol.md point 4). `several` (genx-N): the same topology, each
 * member on a board of its own choosing, at least two boards hosting members when there
 * are two or more (members on several boards: designed, not built, so computeCluster
 * refuses these plans until the core carries vectors).
 */
export type Placement = "one-board" | "several";

/** Derives a shape from a seed (deterministic); gen-N is `one-board`, genx-N `several`. */
export function genShape(seed: number, placement: Placement = "one-board"): GenShape {
  const rng = new Rng(seed * 6151 + 29);
  const nMembers = rng.int(1, 4);
  const nWorkers = rng.int(2, 6);
  const sources = rng.next() < 0.3 ? ["s1", "s2"] : ["s1"];
  const members = Array.from({ length: nMembers }, (_, i) => `m${i + 1}`);
  const workers = Array.from({ length: nWorkers }, (_, i) => `a${i + 1}`);
  const isMember = (c: string) => members.includes(c);
  const order = [...sources, ...shuffle(rng, [...members, ...workers])];
  const pos = (c: string) => order.indexOf(c);
  const edges: Edge[] = [];
  const nOut: Record<string, number> = {}, nLink: Record<string, number> = {}, nIn: Record<string, number> = {};
  const newIn = (c: string) => `i${nIn[c] = (nIn[c] ?? 0) + 1}`;
  // a member's port towards members changes interface, so it carries cluster-internal
  // traffic only ("l" ports); every other port keeps its interface ("o" ports)
  const newOut = (c: string, internal: boolean) => internal ? `l${nLink[c] = (nLink[c] ?? 0) + 1}` : `o${nOut[c] = (nOut[c] ?? 0) + 1}`;
  const has = (from: string, to: string) => edges.some((e) => !e.device && e.from === from && e.to === to);
  const link = (from: string, to: string): void => {
    if (has(from, to)) return;
    const internal = isMember(from) && isMember(to);
    const mine = [...new Set(edges.filter((e) => e.from === from && !e.device && e.fromPort.startsWith(internal ? "l" : "o")).map((e) => e.fromPort))];
    const port = mine.length && rng.next() < 0.35 ? pick(rng, mine) : newOut(from, internal); // fan-out
    edges.push({ from, fromPort: port, to, toPort: newIn(to) });
  };

  // Inputs: in1 -> s1, in2 -> s2; sometimes a member reads an input device directly.
  const inputs = sources.map((s, i) => ({ device: `in${i + 1}`, comp: s, port: newIn(s) }));
  if (rng.next() < 0.25) {
    const m = pick(rng, members);
    inputs.push({ device: `in${inputs.length + 1}`, comp: m, port: newIn(m) });
  }
  // Fan-in: 1-3 inputs from earlier components (more if it already reads a device).
  for (const v of order.slice(sources.length)) {
    const cands = order.slice(0, pos(v));
    const n = Math.min(rng.int(inputs.some((x) => x.comp === v) ? 0 : 1, 3), cands.length);
    for (const u of shuffle(rng, [...cands]).slice(0, n)) link(u, v);
  }
  const features = new Set<string>();
  // Guaranteed features, where the order allows them.
  const ms = members.slice().sort((a, b) => pos(a) - pos(b));
  if (nMembers >= 2 && rng.next() < 0.7 && !edges.some((e) => !e.device && isMember(e.from) && isMember(e.to))) {
    const i = rng.int(0, ms.length - 2);
    link(ms[i], pick(rng, ms.slice(i + 1)));
  }
  if (nMembers >= 2 && rng.next() < 0.5) {
    const bridges = workers.filter((a) => ms.some((m) => pos(m) < pos(a)) && ms.some((m) => pos(m) > pos(a)));
    if (bridges.length) {
      const a = pick(rng, bridges);
      link(pick(rng, ms.filter((m) => pos(m) < pos(a))), a);
      link(a, pick(rng, ms.filter((m) => pos(m) > pos(a))));
    }
  }
  if (rng.next() < 0.6) {
    const fed = members.filter((m) => workers.some((a) => pos(a) < pos(m)));
    if (fed.length) { const m = pick(rng, fed); link(pick(rng, workers.filter((a) => pos(a) < pos(m))), m); }
  }
  // Several G_act-facing members: members that send to a G_act worker.
  const want = Math.min(nMembers, rng.int(1, 3));
  const facing = () => members.filter((m) => edges.some((e) => e.from === m && !e.device && !isMember(e.to)));
  for (const m of shuffle(rng, members.filter((m) => !facing().includes(m)))) {
    if (facing().length >= want) break;
    const later = workers.filter((a) => pos(a) > pos(m));
    if (later.length) link(m, pick(rng, later));
  }
  // Fan-out: some output port wired to two components.
  if (!edges.some((e) => !e.device && edges.some((f) => f !== e && !f.device && f.from === e.from && f.fromPort === e.fromPort))) {
    const ports = edges.filter((e) => !e.device);
    for (const e of shuffle(rng, [...ports])) {
      const internal = e.fromPort.startsWith("l");
      const to = order.filter((c) => pos(c) > pos(e.from) && !has(e.from, c) && isMember(c) === internal);
      if (!to.length) continue;
      const t = pick(rng, to);
      edges.push({ from: e.from, fromPort: e.fromPort, to: t, toPort: newIn(t) });
      break;
    }
  }

  // Device outputs: every sink 1-3, others 0-3 (often 0); devices sometimes shared.
  const devices: string[] = [];
  const feedsComp = (c: string) => edges.some((e) => e.from === c && !e.device);
  for (const c of order) {
    const n = !feedsComp(c) ? rng.int(1, 3) : rng.next() < 0.35 ? rng.int(1, 3) : 0;
    for (let i = 0; i < n; i++) {
      const free = devices.filter((d) => !edges.some((e) => e.from === c && e.device === d));
      const dev = free.length && rng.next() < 0.3 ? pick(rng, free) : `d${devices.length + 1}`;
      if (!devices.includes(dev)) devices.push(dev);
      const ext = [...new Set(edges.filter((e) => e.from === c && e.fromPort.startsWith("o")).map((e) => e.fromPort))];
      const port = ext.length && rng.next() < 0.2 ? pick(rng, ext) : newOut(c, false);
      edges.push({ from: c, fromPort: port, to: "", device: dev });
    }
  }

  // Placement: the cluster on one board; 2-4 boards, none empty.
  const nBoards = rng.int(2, 4);
  const home = rng.int(0, nBoards - 1);
  const slots: string[][] = Array.from({ length: nBoards }, (_, i) => (i === home ? [...members] : []));
  const rest = shuffle(rng, [...sources, ...workers]);
  const others = slots.map((_, i) => i).filter((i) => i !== home);
  rest.forEach((c, i) => slots[i < others.length ? others[i] : rng.int(0, nBoards - 1)].push(c));
  if (placement === "several" && nMembers >= 2) spreadMembers(new Rng(seed * 7919 + 3), slots, members, home);
  const boards = slots.map((components, i) => ({ name: `b${i + 1}`, node: i + 1, components }));

  // What the shape exercises.
  const e2 = edges.filter((e) => !e.device);
  features.add(`members=${nMembers}`);
  features.add(`boards=${nBoards}`);
  if (e2.some((e) => isMember(e.from) && isMember(e.to))) features.add("cluster-chain");
  if (e2.some((e) => !isMember(e.from) && isMember(e.to))) features.add("gact-fed-member");
  if (workers.some((a) => e2.some((e) => e.to === a && isMember(e.from)) && e2.some((e) => e.from === a && isMember(e.to)))) features.add("bridge");
  if (facing().length >= 2) features.add("several-gact-facing");
  if (inputs.some((x) => isMember(x.comp))) features.add("device-fed-member");
  if (order.some((c) => e2.filter((e) => e.to === c).length >= 2)) features.add("fan-in");
  if (e2.some((e) => e2.some((f) => f !== e && f.from === e.from && f.fromPort === e.fromPort))) features.add("fan-out");
  if (devices.some((d) => edges.filter((e) => e.device === d).length >= 2)) features.add("shared-device");
  if (members.some((m) => edges.some((e) => e.from === m && e.device))) features.add("member-device");
  const memberBoards = boards.filter((b) => b.components.some(isMember));
  if (memberBoards.length >= 2) features.add(`member-boards=${memberBoards.length}`);
  if (memberBoards.some((b) => b.components.some((x) => !isMember(x)))) features.add("gact-on-cluster-board");
  const depth = new Map<string, number>();
  for (const c of order) depth.set(c, Math.max(0, ...e2.filter((e) => e.to === c).map((e) => depth.get(e.from)! + 1)));
  if (new Set(members.map((m) => depth.get(m))).size >= 2) features.add("member-depths");
  const shape: GenShape = { seed, sources, members, workers, order, edges, inputs, devices, boards, features: [...features] };
  if (placement === "several") shape.placement = placement;
  return shape;
}

// genx-N: moves members off the cluster's home board (the topology and the rest of the
// placement stay gen-N's; a separate stream so gen-N is untouched). Each member after the
// first goes to a board drawn uniformly; if they all landed home, one moves to another
// board. A board left empty gets nothing back: every board of gen-N's placement already
// holds a G_act component or the home board's members, and a member leaves home only when
// home keeps one, so no board empties.
function spreadMembers(rng: Rng, slots: string[][], members: string[], home: number): void {
  const n = slots.length;
  const moved: string[] = [];
  for (const m of members.slice(1)) {
    const to = rng.int(0, n - 1);
    if (to === home) continue;
    slots[home].splice(slots[home].indexOf(m), 1);
    slots[to].push(m);
    moved.push(m);
  }
  if (moved.length === 0) {
    const m = members[rng.int(1, members.length - 1)];
    const to = (home + rng.int(1, n - 1)) % n;
    slots[home].splice(slots[home].indexOf(m), 1);
    slots[to].push(m);
  }
}

/** A one-line description of a shape, for reports. */
export function describeGen(s: GenShape): string {
  const into = (c: string) => s.edges.filter((e) => (e.device ?? e.to) === c).map((e) => `${e.from}.${e.fromPort}`);
  const wiring = [...s.order.map((c) => `${c}<-${[...s.inputs.filter((x) => x.comp === c).map((x) => x.device), ...into(c)].join("+") || "-"}`),
    ...s.devices.map((d) => `${d}<-${into(d).join("+")}`)].join(" ");
  return `cluster {${s.members.join(",")}}; ${wiring}; ${s.boards.map((b) => `${b.name}{${b.components.join(",")}}`).join(" ")}; ${s.features.join(" ")}`;
}

const pspec = (name: string, port: number, dir: "in" | "out", iface: string): PortSpec => ({ name, port, dir, iface });
const INPUT: Record<string, (k: number) => number[]> = {
  in1: (k) => [detSin(k / 7) * 0.01, detCos(k / 5) * 0.02],
  in2: (k) => [detCos(k / 3) * 0.015, detSin(k / 11) * 0.01],
  in3: (k) => [detSin(k / 4 + 1) * 0.02, detCos(k / 9) * 0.005],
};

/** Builds the system of a shape: old versions of everything, new versions of the members. */
export function genSystem(seedOrShape: number | GenShape, placement: Placement = "one-board"): TestbedSystem & { shape: GenShape; name: string } {
  const s = typeof seedOrShape === "number" ? genShape(seedOrShape, placement) : seedOrShape;
  const name = `${s.placement === "several" ? "genx" : "gen"}-${s.seed}`;
  const crng = new Rng(s.seed * 104723 + 11);
  const components: Record<string, ComponentVersion> = {};
  const upgrades: ComponentVersion[] = [];
  const wires: Wire[] = s.inputs.map((x) => ({ from: { device: x.device }, to: { comp: x.comp, port: x.port } }));
  for (const e of s.edges) {
    wires.push(e.device
      ? { from: { comp: e.from, port: e.fromPort }, to: { device: e.device } }
      : { from: { comp: e.from, port: e.fromPort }, to: { comp: e.to, port: e.toPort! } });
  }
  for (const c of s.order) {
    // inputs in port-name order: device inputs, then component inputs
    const inNames = [...s.inputs.filter((x) => x.comp === c).map((x) => x.port), ...s.edges.filter((e) => !e.device && e.to === c).map((e) => e.toPort!)];
    const outNames = [...new Set(s.edges.filter((e) => e.from === c).map((e) => e.fromPort))];
    const srcOf = (inPort: string) => s.edges.find((e) => !e.device && e.to === c && e.toPort === inPort);
    const linkIn = inNames.map((n) => !!srcOf(n)?.fromPort.startsWith("l"));
    const linkOut = outNames.map((n) => n.startsWith("l"));
    const ifaceIn = (n: string, v2: boolean) => { const e = srcOf(n); return e ? `${e.from}.${e.fromPort}@${v2 && e.fromPort.startsWith("l") ? 2 : 1}` : `${n}@1`; };
    const ports = (v2: boolean): PortSpec[] => [
      ...inNames.map((n, i) => pspec(n, v2 && linkIn[i] ? 60 + i : i, "in", ifaceIn(n, v2))),
      ...outNames.map((n, j) => pspec(n, v2 && linkOut[j] ? 50 + j : inNames.length + j, "out", `${c}.${n}@${v2 && linkOut[j] ? 2 : 1}`)),
    ];
    // behaviour: a bounded accumulator over normalised weighted inputs; every output
    // depends on the accumulator and on every input (so taint is exact per message)
    const decay = [0.25, 0.5, 0.75][crng.int(0, 2)];
    const w = inNames.map(() => [1, -0.5, 0.25, 2, -1][crng.int(0, 4)]);
    const norm = w.reduce((a, x) => a + Math.abs(x), 0) * 1.5;
    const mix = outNames.map(() => ({ a: [1, -1, 0.5, -0.5][crng.int(0, 3)], b: [0.5, -0.5][crng.int(0, 1)], g: [0.5, -0.5][crng.int(0, 1)] }));
    const behaviour = (v2: boolean): Compute => {
      const outPorts = ports(v2).filter((p) => p.dir === "out").map((p) => p.port);
      return (acc, inputs, k) => {
        let x = 0;
        inputs.forEach((v0, i) => {
          // new versions read the changed layout [2y, x, 7] of a cluster-internal link
          const v = v2 && linkIn[i] ? [v0[1], v0[0] / 2] : v0;
          x += w[i] * (v[0] + 0.5 * v[1]);
        });
        x /= norm;
        const a = decay * acc + (1 - decay) * x;
        const out: Record<number, number[]> = {};
        outNames.forEach((_n, j) => {
          const vals = [mix[j].a * a + 0.001 * k, mix[j].b * x + mix[j].g * a];
          out[outPorts[j]] = v2 && linkOut[j] ? [2 * vals[1], vals[0], 7] : vals;
        });
        return { acc: a, out };
      };
    };
    components[c] = joinComponent(c, "1.0.0", ports(false), behaviour(false), false);
    // state transfer: a buffered link input in the old layout [x, y] becomes [2y, x, 7]
    const adopt = (port: string, v: number[]) => (linkIn[inNames.indexOf(port)] ? [2 * v[1], v[0], 7] : v);
    if (s.members.includes(c)) upgrades.push(joinComponent(c, "2.0.0", ports(true), behaviour(true), true, undefined, adopt));
  }
  const finite = (b: Uint8Array) => read(b).values.every((v) => Number.isFinite(v) && Math.abs(v) < 1e12);
  const spec: SystemSpec = { components, wires, boards: s.boards, ats: Object.fromEntries(s.devices.map((d) => [d, finite])) };
  const plan: UpgradePlan = { upgrades };
  return {
    spec, plan, shape: s, name,
    inputs: s.inputs.map((x) => ({ device: x.device, gen: (k: number) => msg(k, INPUT[x.device](k)) })),
  };
}
