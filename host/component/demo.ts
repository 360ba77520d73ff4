/**
 * The demo attitude-control system: where its files are, the IMU input the
 * host generates, and a minimal in-process pipeline (no protocol, no
 * checkpoints) used by tests and usable as a fault-free reference run.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { ComponentInstance, ComponentModule } from "./component.ts";
import type { OutputBuffers } from "../runtime/app.ts";
import { detCos, detSin } from "./det-math.ts";
import { loadManifest, portByName, type Manifest } from "./manifest.ts";

export const EXAMPLES_DIR = fileURLToPath(new URL("../../examples/", import.meta.url));
export const BUILD_DIR = fileURLToPath(new URL("../../build/examples/", import.meta.url));

export function manifestPath(name: string, version: string): string {
  return join(EXAMPLES_DIR, name, version, "manifest.json");
}
export function wasmPath(name: string, version: string): string {
  return join(BUILD_DIR, `${name}-${version}.wasm`);
}

export interface SystemSpec {
  initial: Record<string, string>;
  upgrade: Record<string, string>;
  devices: Record<string, { dir: "in" | "out" }>;
  links: { from: string; to: string }[];
}
export function loadSystem(path = join(EXAMPLES_DIR, "system.json")): SystemSpec {
  return JSON.parse(readFileSync(path, "utf8")) as SystemSpec;
}

const modCache = new Map<string, ComponentModule>();
export function loadComponentModule(name: string, version: string): ComponentModule {
  const key = `${name}@${version}`;
  let m = modCache.get(key);
  if (!m) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(wasmPath(name, version));
    } catch {
      throw new Error(`component ${key}: ${wasmPath(name, version)} not found; run npm run build:examples`);
    }
    m = ComponentModule.fromBytes(bytes, key);
    modCache.set(key, m);
  }
  return m;
}

/**
 * IMU device message for step k: u32 k + f64 wx, wy, wz (rad/s), little
 * endian, 28 bytes. Deterministic sinusoids of k.
 */
export function imuMessage(k: number): Uint8Array {
  const b = new Uint8Array(28);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, k >>> 0, true);
  dv.setFloat64(4, 0.05 * detCos(0.013 * k), true);
  dv.setFloat64(12, 0.04 * detSin(0.007 * k + 0.3), true);
  dv.setFloat64(20, 0.03 * detCos(0.011 * k + 1.0), true);
  return b;
}

export interface PipelineOptions {
  versions: Record<string, string>;
  steps: number;
  /** 0 = FIFO in link order; otherwise a seed for a random interleaving across links */
  seed?: number;
  /** component name -> step from which its fault hook fires */
  faults?: Record<string, number>;
}
export interface PipelineRun {
  /** messages sent to each device, in order */
  devices: Map<string, Uint8Array[]>;
  /** messages carried by each link "from->to", in order */
  links: Map<string, Uint8Array[]>;
  manifests: Map<string, Manifest>;
}

/** Runs the demo loop in-process: one instance per component, per-link FIFO queues. */
export function runPipeline(opts: PipelineOptions, sys: SystemSpec = loadSystem()): PipelineRun {
  const manifests = new Map<string, Manifest>();
  const inst = new Map<string, ComponentInstance>();
  const devices = new Map<string, Uint8Array[]>();
  const links = new Map<string, Uint8Array[]>();
  type Q = { key: string; comp: string; port: number; q: Uint8Array[]; head: number };
  const queues: Q[] = [];
  const route = new Map<string, Q>(); // "comp:outport" -> queue
  const deviceOut = new Map<string, string>(); // "comp:outport" -> device
  let imuTarget: Q | null = null;

  for (const [name, version] of Object.entries(opts.versions)) manifests.set(name, loadManifest(manifestPath(name, version)));
  for (const l of sys.links) {
    const [fc, fp] = l.from.split(".") as [string, string];
    const [tc, tp] = l.to.split(".") as [string, string];
    const fm = manifests.get(fc), tm = manifests.get(tc);
    if (!fm || !tm) throw new Error(`system link ${l.from}->${l.to}: component not deployed`);
    const out = portByName(fm, fp), inp = portByName(tm, tp);
    if (out.iface !== inp.iface) throw new Error(`system link ${l.from}->${l.to}: iface ${out.iface} != ${inp.iface}`);
    const q: Q = { key: `${l.from}->${l.to}`, comp: tc, port: inp.port, q: [], head: 0 };
    queues.push(q);
    route.set(`${fc}:${out.port}`, q);
    links.set(q.key, q.q);
  }
  for (const [name, m] of manifests) {
    for (const p of m.ports) {
      if (!p.device) continue;
      if (p.dir === "out") { deviceOut.set(`${name}:${p.port}`, p.device); devices.set(p.device, []); }
      else if (p.device === "imu") imuTarget = { key: "imu", comp: name, port: p.port, q: [], head: 0 };
    }
  }
  if (!imuTarget) throw new Error("no component reads device imu");
  for (const [name] of manifests) {
    const mod = loadComponentModule(name, opts.versions[name]!);
    const c = new ComponentInstance(mod, (port, bytes) => {
      const k = `${name}:${port}`;
      const q = route.get(k);
      if (q) { q.q.push(bytes); return; }
      const d = deviceOut.get(k);
      if (d) { devices.get(d)!.push(bytes); return; }
      throw new Error(`${name} sent on unwired port ${port}`);
    });
    c.start();
    const f = opts.faults?.[name];
    if (f !== undefined) c.injectFault(f);
    inst.set(name, c);
  }
  for (let k = 0; k < opts.steps; k++) imuTarget.q.push(imuMessage(k));
  const all = [imuTarget, ...queues];
  let s = (opts.seed ?? 0) >>> 0;
  const rnd = () => { s = (s + 0x6d2b79f5) >>> 0; let t = Math.imul(s ^ (s >>> 15), 1 | s); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const ready: Q[] = [];
  for (;;) {
    ready.length = 0;
    for (const q of all) if (q.head < q.q.length) ready.push(q);
    if (ready.length === 0) break;
    const q = opts.seed ? ready[Math.floor(rnd() * ready.length)]! : ready[ready.length - 1]!;
    inst.get(q.comp)!.handle(q.port, q.q[q.head++]!);
  }
  return { devices, links, manifests };
}

/**
 * A component version ready for the runtime (structurally a
 * host/runtime/app.ts ComponentVersion): its manifest ports plus a factory
 * that instantiates the compiled module and runs _start.
 */
export function loadComponentVersion(name: string, version: string) {
  const manifest = loadManifest(manifestPath(name, version));
  const module = loadComponentModule(name, version);
  return {
    name, version, ports: manifest.ports, manifest, module,
    create(onSend: (port: number, bytes: Uint8Array) => void, buffers?: OutputBuffers): ComponentInstance {
      const c = new ComponentInstance(module, onSend, buffers);
      c.start();
      return c;
    },
  };
}
