// Richer fake systems for rule comparisons: a seed-derived shape around a 1- or
// 2-member cluster (co-located; a changed interface between the members when
// there are two), 2-5 G_act workers with varied wiring, 1-3 output devices
// (some fed by several processes), 2-4 boards.
//
// Like host/sim/fake-system.ts: deterministic per-port step joins (a component
// computes step k only when it holds step k on every input port), exact JSON
// snapshots, and a NaN state fault in the new versions. New versions compute
// exactly what the old ones do; only the members' shared link changes format.
// meshSystem(seed, { fault: "cluster" }) makes the fault cluster-wide and
// time-based (every member's state goes NaN once any member reaches the fault
// step), which satisfies the notes' persistent-fault model; the default puts the
// NaN into the named member only, as fake-system does.
//
// Shape features the generator guarantees:
//  - a "folder": a worker with >= 2 cluster inputs that outputs only to devices
//    (under the printed rules, prgt = 0 after its first checkpoint, so every later
//    rise of contamination folds into that checkpoint's interval);
//  - a dirty chain: a worker with cluster input that forwards to another worker
//    (dirty propagates G_act -> G_act);
//  - every worker reaches a device; every device output has a finiteness AT.
import type { ComponentVersion, PortSpec } from "../runtime/app.ts";
import type { SystemSpec, UpgradePlan, Wire } from "../runtime/system.ts";
import type { TestbedSystem } from "./testbed.ts";
import { Rng } from "./rng.ts";
import { joinComponent, msg, read, type Compute } from "./join.ts";
import { detCos, detSin } from "../component/det-math.ts";


/** A component-to-component or component-to-device edge of the shape. */
export interface Edge { from: string; fromPort: string; to: string; toPort?: string; device?: string }

export interface MeshShape {
  seed: number;
  members: string[];           // the cluster (upgraded), co-located
  workers: string[];           // G_act workers (besides the source "src")
  edges: Edge[];               // component -> component and component -> device
  devices: string[];           // output devices
  boards: { name: string; node: number; components: string[] }[];
  roles: Record<string, string[]>; // features per worker: folder, chain, bridge, device-only
}

const pick = <T>(rng: Rng, xs: T[]): T => xs[rng.int(0, xs.length - 1)];

/** Derives a shape from a seed (deterministic). */
export function meshShape(seed: number): MeshShape {
  const rng = new Rng(seed * 7919 + 17);
  const nMembers = rng.next() < 0.5 ? 1 : 2;
  const nWorkers = rng.int(2, 5);
  const members = nMembers === 2 ? ["m1", "m2"] : ["m1"];
  const workers = Array.from({ length: nWorkers }, (_, i) => `a${i + 1}`);
  const roles: Record<string, string[]> = Object.fromEntries(workers.map((w) => [w, []]));
  const edges: Edge[] = [];
  const outCount: Record<string, number> = {};
  const inCount: Record<string, number> = {};
  const newOut = (c: string) => `o${outCount[c] = (outCount[c] ?? 0) + 1}`;
  const newIn = (c: string) => `i${inCount[c] = (inCount[c] ?? 0) + 1}`;
  const memberPorts: { comp: string; port: string }[] = []; // cluster ports towards G_act (for fan-out reuse)
  const link = (from: string, to: string, fromPort?: string) => {
    edges.push({ from, fromPort: fromPort ?? newOut(from), to, toPort: newIn(to) });
  };
  const clusterLink = (to: string) => {
    // a fresh cluster port, or (sometimes) fan-out from an existing one
    const reuse = memberPorts.filter((p) => !edges.some((e) => e.from === p.comp && e.fromPort === p.port && e.to === to));
    if (reuse.length && rng.next() < 0.3) { const p = pick(rng, reuse); link(p.comp, to, p.port); return; }
    const comp = pick(rng, members);
    const port = newOut(comp);
    memberPorts.push({ comp, port });
    link(comp, to, port);
  };

  // The cluster: src -> m1; with two members, m1 -> m2 over the changed link.
  link("src", "m1");
  // An optional bridge: m1 -> a1 -> m2 (a dirty G_act process sending into the cluster).
  const bridge = nMembers === 2 && nWorkers >= 3 && rng.next() < 0.35 ? workers[0] : null;
  if (nMembers === 2) {
    edges.push({ from: "m1", fromPort: "link", to: "m2", toPort: "link" });
    if (rng.next() < 0.5) link("src", "m2");
  }
  if (bridge) {
    const port = newOut("m1");
    link("m1", bridge, port);
    link(bridge, "m2");
    roles[bridge].push("bridge");
  }

  // Workers in topological order. The folder outputs only to devices; a chain
  // head (dirty) forwards to a later worker.
  const rest = workers.filter((w) => w !== bridge);
  const folder = rest[rest.length - 1 - rng.int(0, Math.min(1, rest.length - 1))];
  roles[folder].push("folder", "device-only");
  const chainHead = rest.find((w) => w !== folder && rest.indexOf(w) < rest.length - 1);
  const noFeed = new Set<string>([folder]); // workers nobody may take input from
  for (const wk of rest) {
    const earlier = rest.slice(0, rest.indexOf(wk)).filter((w) => !noFeed.has(w));
    if (wk === folder) {
      const n = rng.int(2, 3);
      for (let i = 0; i < n; i++) clusterLink(wk);
      if (rng.next() < 0.5) link("src", wk);
      if (earlier.length && rng.next() < 0.5) link(pick(rng, earlier), wk);
      continue;
    }
    if (wk === chainHead) {
      clusterLink(wk);
      roles[wk].push("chain");
      if (rng.next() < 0.5) link("src", wk);
      continue;
    }
    // a random worker: 1-3 inputs from the source, the cluster, earlier workers;
    // the first non-head worker after the chain head takes input from it.
    const head = chainHead && rest.indexOf(chainHead) < rest.indexOf(wk) && !edges.some((e) => e.from === chainHead && workers.includes(e.to));
    if (head) link(chainHead!, wk);
    const n = rng.int(head ? 0 : 1, 2);
    for (let i = 0; i < n; i++) {
      const r = rng.next();
      if (r < 0.45) clusterLink(wk);
      else if (r < 0.7 && earlier.length) {
        const from = pick(rng, earlier);
        if (!edges.some((e) => e.from === from && e.to === wk)) link(from, wk);
      } else if (!edges.some((e) => e.from === "src" && e.to === wk)) link("src", wk);
    }
    if (!edges.some((e) => e.to === wk)) clusterLink(wk);
  }
  if (chainHead && !edges.some((e) => e.from === chainHead && workers.includes(e.to))) link(chainHead, folder);
  // The second member must send something to G_act (the cluster's output);
  // with two members, m1 may send only over the link.
  if (nMembers === 2 && !edges.some((e) => e.from === "m2" && workers.includes(e.to))) {
    const to = folder;
    const port = newOut("m2");
    memberPorts.push({ comp: "m2", port });
    link("m2", to, port);
  }

  // Devices: every worker that feeds no worker gets a device; others sometimes;
  // members sometimes (a cluster output to a device). One (comp, device) pair once.
  const nDev = rng.int(1, 3);
  const devices = Array.from({ length: nDev }, (_, i) => `d${i}`);
  const feeds = (c: string) => edges.some((e) => e.from === c && !e.device && workers.includes(e.to));
  const addDev = (c: string, d?: string) => {
    const options = devices.filter((x) => !edges.some((e) => e.from === c && e.device === x));
    if (!options.length) return;
    const dev = d && options.includes(d) ? d : pick(rng, options);
    edges.push({ from: c, fromPort: newOut(c), to: "", device: dev });
  };
  for (const wk of workers) {
    if (!feeds(wk) || rng.next() < 0.3) addDev(wk);
    if (!edges.some((e) => e.from === wk && !e.device) && !roles[wk].includes("device-only")) roles[wk].push("device-only");
  }
  for (const m of members) if (rng.next() < 0.3) addDev(m);
  if (rng.next() < 0.3) addDev("src");
  // make some device fed by several processes (if there is more than one feeder)
  const feeders = (d: string) => edges.filter((e) => e.device === d).length;
  if (!devices.some((d) => feeders(d) >= 2)) {
    const d0 = devices.find((d) => feeders(d) >= 1) ?? devices[0];
    const cand = workers.filter((w) => !edges.some((e) => e.from === w && e.device === d0));
    if (cand.length) addDev(pick(rng, cand), d0);
  }
  // drop devices nobody feeds
  const used = devices.filter((d) => feeders(d) > 0);

  // Placement: the cluster on one board, 2-4 boards, none empty.
  const units: string[][] = [["src"], members, ...workers.map((w) => [w])];
  const nBoards = Math.min(rng.int(2, 4), units.length);
  const slots: string[][] = Array.from({ length: nBoards }, () => []);
  const order = units.map((u, i) => ({ u, k: rng.next(), i })).sort((a, b) => a.k - b.k);
  order.forEach(({ u }, i) => (i < nBoards ? slots[i] : slots[rng.int(0, nBoards - 1)]).push(...u));
  const boards = slots.map((components, i) => ({ name: `b${i + 1}`, node: i + 1, components }));
  return { seed, members, workers, edges, devices: used, boards, roles };
}

/** A one-line description of a shape, for reports. */
export function describeShape(s: MeshShape): string {
  const byTo = new Map<string, string[]>();
  for (const e of s.edges) {
    const to = e.device ?? e.to;
    byTo.set(to, [...(byTo.get(to) ?? []), e.from]);
  }
  const comps = ["src", ...s.members, ...s.workers];
  const wiring = [...comps.slice(1), ...s.devices].map((c) => `${c}<-${(byTo.get(c) ?? []).join("+")}`).join(" ");
  const roles = Object.entries(s.roles).filter(([, r]) => r.length).map(([w, r]) => `${w}:${r.join("/")}`).join(" ");
  const boards = s.boards.map((b) => `${b.name}{${b.components.join(",")}}`).join(" ");
  return `cluster {${s.members.join(",")}}; ${wiring}; ${roles}; ${boards}`;
}

const pspec = (name: string, port: number, dir: "in" | "out", iface: string): PortSpec => ({ name, port, dir, iface });

/** Builds the system of a shape: old versions of everything, new versions of the members. */
export function meshSystem(seedOrShape: number | MeshShape, opts: { fault?: "member" | "cluster" } = {}): TestbedSystem & { shape: MeshShape; name: string } {
  const s = typeof seedOrShape === "number" ? meshShape(seedOrShape) : seedOrShape;
  // "member" (default): the NaN goes into the faulted member's state only (like fake-system).
  // "cluster": whichever member is named, the whole cluster's state goes NaN from that moment.
  const shared = opts.fault === "cluster" ? { f: { step: -1, on: false } } : undefined;
  const crng = new Rng(s.seed * 104729 + 3);
  const comps = ["src", ...s.members, ...s.workers];
  const components: Record<string, ComponentVersion> = {};
  const upgrades: ComponentVersion[] = [];
  const wires: Wire[] = [{ from: { device: "imu" }, to: { comp: "src", port: "imu" } }];
  for (const e of s.edges) {
    wires.push(e.device
      ? { from: { comp: e.from, port: e.fromPort }, to: { device: e.device } }
      : { from: { comp: e.from, port: e.fromPort }, to: { comp: e.to, port: e.toPort! } });
  }
  const LINK_V2_PORT = 50;
  for (const c of comps) {
    const inNames = c === "src" ? ["imu"] : [...new Set(s.edges.filter((e) => !e.device && e.to === c).map((e) => e.toPort!))];
    const outNames = [...new Set(s.edges.filter((e) => e.from === c).map((e) => e.fromPort))];
    // old-version ports: inputs 0.., outputs after them
    const ports: PortSpec[] = [
      ...inNames.map((n, i) => pspec(n, i, "in", n === "link" ? "link@1" : `${c}.${n}@1`)),
      ...outNames.map((n, i) => pspec(n, inNames.length + i, "out", n === "link" ? "link@1" : `${c}.${n}@1`)),
    ];
    // interfaces must agree on wires: name a wire's interface by its source port
    for (const e of s.edges) {
      if (e.device || e.to !== c || e.toPort === "link") continue;
      const p = ports.find((p) => p.name === e.toPort && p.dir === "in")!;
      p.iface = `${e.from}.${e.fromPort}@1`;
    }
    for (const p of ports) if (p.dir === "out" && p.name !== "link") p.iface = `${c}.${p.name}@1`;
    // behaviour: bounded accumulator over weighted inputs; each output a fixed mix
    const decay = [0.5, 0.25, 0.75][crng.int(0, 2)];
    const w = inNames.map(() => [1, -0.5, 0.25, 2][crng.int(0, 3)]);
    const outMix = outNames.map(() => ({ a: [1, 0.5, -1, 0.125][crng.int(0, 3)], b: [0, 1, -2][crng.int(0, 2)] }));
    const base: Compute = (acc, inputs, k) => {
      let x = 0;
      inputs.forEach((v, i) => { x += w[i] * v[0] + (v.length > 1 ? 0.5 * v[1] : 0); });
      const a = decay * acc + x;
      const out: Record<number, number[]> = {};
      outNames.forEach((_n, j) => { out[inNames.length + j] = [outMix[j].a * a + 0.001 * k, outMix[j].b * x]; });
      return { acc: a, out };
    };
    components[c] = joinComponent(c, "1.0.0", ports, base, false);
    if (!s.members.includes(c)) continue;
    // The new version: identical behaviour; the link speaks link@2 on another
    // port number and another layout: [2y, x, 7] instead of [x, y].
    const linkOut = outNames.indexOf("link"), linkIn = inNames.indexOf("link");
    const ports2 = ports.map((p) => p.name === "link" ? { ...p, iface: "link@2", port: LINK_V2_PORT } : { ...p });
    const v2: Compute = (acc, inputs, k) => {
      const ins = linkIn >= 0 ? inputs.map((v, i) => i === linkIn ? [v[1], v[0] / 2] : v) : inputs;
      const r = base(acc, ins, k);
      if (linkOut >= 0) {
        const port1 = inNames.length + linkOut;
        const [x, y] = r.out[port1];
        delete r.out[port1];
        r.out[LINK_V2_PORT] = [2 * y, x, 7];
      }
      return r;
    };
    // state transfer: a buffered link input in the old layout [x, y] becomes [2y, x, 7]
    upgrades.push(joinComponent(c, "2.0.0", ports2, v2, true, shared, (port, v) => (port === "link" ? [2 * v[1], v[0], 7] : v)));
  }
  const finite = (b: Uint8Array) => read(b).values.every((v) => Number.isFinite(v) && Math.abs(v) < 1e12);
  const spec: SystemSpec = {
    components, wires, boards: s.boards,
    ats: Object.fromEntries(s.devices.map((d) => [d, finite])),
  };
  const plan: UpgradePlan = { upgrades };
  return {
    spec, plan, shape: s, name: `${opts.fault === "cluster" ? "meshc" : "mesh"}-${s.seed}`,
    inputs: [{ device: "imu", gen: (k) => msg(k, [detSin(k / 7) * 0.01, detCos(k / 5) * 0.02]) }],
  };
}
