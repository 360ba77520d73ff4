// A user's system file for `gsu rehearse --config FILE`: components and versions
// whose wasm + manifest live anywhere (paths relative to the system file, or
// absolute), devices with the inputs the testbed generates, links, boards.
// The format is docs/system-file.md; examples-user/thermal/system.json is a
// complete one. A file without "components" is examples/system.json's format
// (components from examples/), handled by demo-system.ts as before.
//
// Every problem is a PlanError naming the file, the field and what to do
// (gsu rehearse turns it into exit status 2).
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { ComponentInstance, ComponentModule } from "../component/component.ts";
import { loadManifest, type FieldType, type Manifest, type PortDecl } from "../component/manifest.ts";
import { DEFAULT_WASM, readStamp, stampMismatch } from "../component/build.ts";
import { wireSystem } from "../component/wiring.ts";
import type { ComponentVersion } from "../runtime/app.ts";
import { computeCluster, PlanError } from "../runtime/system.ts";
import type { DeviceInput, TestbedSystem } from "./testbed.ts";
import { detSin } from "../component/det-math.ts";

export interface VersionRef {
  name: string;
  version: string;
  /** where the system file names it: components.<name>.<version> */
  field: string;
  /** the version's folder (the string form), or the manifest's folder */
  dir: string;
  manifest: string;
  wasm: string;
}

export interface InputField {
  name: string;
  offset: number;
  type: FieldType;
  wave: "sine" | "square";
  base: number;
  amplitude: number;
  period: number;
  phase: number;
}
export interface DeviceDecl { dir: "in" | "out"; input?: { size: number; fields: InputField[] } }

export interface UserSystemFile {
  file: string;
  components: Record<string, Record<string, VersionRef>>;
  initial: Record<string, string>;
  upgrade: Record<string, string>;
  devices: Record<string, DeviceDecl>;
  links: { from: string; to: string }[];
  boards?: { name: string; node: number; components: string[] }[];
}

export interface ConfigSystem extends TestbedSystem {
  file: string;
  /** component name@version -> where its files are */
  refs: Map<string, VersionRef>;
  /** upgraded components whose new version has the gsu_fault hook */
  faultable: string[];
  /** components of the plan without state transfer (old or new version), for --upgrade-at > 0 */
  noStateTransfer: string[];
}

const IDENT = /^[a-z][a-z0-9_-]*$/;
const SIZE: Record<FieldType, number> = { u8: 1, u16: 2, u32: 4, i32: 4, f32: 4, f64: 8 };
const INT_RANGE: Partial<Record<FieldType, [number, number]>> = {
  u8: [0, 0xff], u16: [0, 0xffff], u32: [0, 0xffffffff], i32: [-0x80000000, 0x7fffffff],
};
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const J = (v: unknown) => JSON.stringify(v);

/** Reads and parses a JSON file; the messages of examples/system.json's loader. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try { text = readFileSync(path, "utf8"); } catch (e) {
    throw new PlanError(`cannot read system file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; check the path`);
  }
  try { return JSON.parse(text); } catch (e) { throw new PlanError(`${path} is not valid JSON: ${(e as Error).message}`); }
}

/** True when the parsed file is in the user format (it has "components"). */
export function isUserSystem(j: unknown): boolean {
  return isObj(j) && j.components !== undefined;
}

/** Checks the file's structure and resolves every path (reads no manifest or wasm). */
export function parseUserSystem(file: string, j: unknown): UserSystemFile {
  const base = dirname(resolve(file));
  const bad = (field: string, what: string): never => { throw new PlanError(`${file}: field "${field}" ${what}`); };
  if (!isObj(j)) bad("(top level)", "must be an object with components, initial, upgrade, devices and links");
  const o = j as Record<string, unknown>;
  const known = new Set(["description", "components", "initial", "upgrade", "devices", "links", "boards"]);
  for (const k of Object.keys(o)) if (!known.has(k)) bad(k, `is not part of a system file (expected: ${[...known].join(", ")}); remove it or fix its name`);

  // components: name -> version -> "folder" | { manifest, wasm }
  if (!isObj(o.components) || Object.keys(o.components).length === 0) {
    bad("components", `must map component names to their versions' folders, e.g. {"filter": {"1.0.0": "filter/1.0.0"}}`);
  }
  const at = (p: string) => (isAbsolute(p) ? p : join(base, p));
  const components: UserSystemFile["components"] = {};
  for (const [name, versions] of Object.entries(o.components as object)) {
    const f = `components.${name}`;
    if (!IDENT.test(name)) bad(f, "must be a lowercase component name (a-z, 0-9, _ and -, starting with a letter)");
    if (!isObj(versions) || Object.keys(versions).length === 0) bad(f, `must map versions to folders, e.g. {"1.0.0": "${name}/1.0.0"}`);
    components[name] = {};
    for (const [version, v] of Object.entries(versions as object)) {
      const fv = `${f}.${version}`;
      let ref: VersionRef;
      if (typeof v === "string" && v.length) {
        const dir = at(v);
        ref = { name, version, field: fv, dir, manifest: join(dir, "manifest.json"), wasm: join(dir, DEFAULT_WASM) };
      } else if (isObj(v) && typeof v.manifest === "string" && typeof v.wasm === "string" && Object.keys(v).length === 2) {
        ref = { name, version, field: fv, dir: dirname(at(v.manifest)), manifest: at(v.manifest), wasm: at(v.wasm) };
      } else {
        bad(fv, `must be a folder holding manifest.json and ${DEFAULT_WASM} (e.g. "${name}/${version}"), or {"manifest": "path/manifest.json", "wasm": "path/x.wasm"}; got ${J(v)}`);
      }
      components[name][version] = ref!;
    }
  }

  const versionMap = (k: "initial" | "upgrade"): Record<string, string> => {
    const v = o[k];
    if (!isObj(v)) bad(k, `must be an object mapping component names to versions, e.g. {"filter": "1.0.0"}`);
    for (const [n, ver] of Object.entries(v as object)) {
      if (typeof ver !== "string") bad(`${k}.${n}`, `must be a version string such as "1.0.0" (got ${J(ver)})`);
      if (!components[n]) bad(`${k}.${n}`, `names component "${n}", which "components" does not list (it lists ${Object.keys(components).join(", ")}); add it there with its folder`);
      if (!components[n][ver]) {
        bad(`${k}.${n}`, `names ${n}@${ver}, but "components.${n}" lists only ${Object.keys(components[n]).join(", ")}; add "${ver}": "${n}/${ver}" there or fix the version`);
      }
    }
    return v as Record<string, string>;
  };
  const initial = versionMap("initial");
  if (Object.keys(initial).length === 0) bad("initial", "must name at least one component: the deployed versions");
  const upgrade = versionMap("upgrade");
  if (Object.keys(upgrade).length === 0) bad("upgrade", "must name at least one component: the versions the rehearsal upgrades to");
  for (const [n, ver] of Object.entries(upgrade)) {
    if (!initial[n]) bad(`upgrade.${n}`, `upgrades "${n}", which "initial" does not deploy; add its running version to "initial"`);
    if (initial[n] === ver) bad(`upgrade.${n}`, `is ${ver}, the version already running ("initial.${n}"); name the new version`);
  }

  // devices: name -> { dir, input? }
  if (!isObj(o.devices)) bad("devices", `must map device names to {"dir": "in" | "out"}; an input device also has "input" (docs/system-file.md)`);
  const devices: Record<string, DeviceDecl> = {};
  for (const [name, d] of Object.entries(o.devices as object)) {
    const f = `devices.${name}`;
    if (!IDENT.test(name)) bad(f, "must be a lowercase device name");
    if (!isObj(d) || (d.dir !== "in" && d.dir !== "out")) bad(`${f}.dir`, `must be "in" (the system reads it) or "out" (the system drives it)`);
    const dd = d as Record<string, unknown>;
    for (const k of Object.keys(dd)) if (k !== "dir" && k !== "input") bad(`${f}.${k}`, `is not a device field (dir, input)`);
    if (dd.dir === "out") {
      if (dd.input !== undefined) bad(`${f}.input`, `is only for input devices; an output device's acceptance test lives in the manifest of the port that drives it ("at")`);
      devices[name] = { dir: "out" };
    } else {
      if (dd.input === undefined) bad(`${f}.input`, `is required: the testbed generates every message of an input device, e.g. {"size": 12, "fields": [{"name": "x", "offset": 4, "type": "f64", "base": 1, "amplitude": 0.5, "period": 100}]}`);
      devices[name] = { dir: "in", input: parseInput(dd.input, `${f}.input`, bad) };
    }
  }
  if (!Object.values(devices).some((d) => d.dir === "in")) bad("devices", "declares no input device; the testbed drives a system through its input devices, one message per step");

  if (!Array.isArray(o.links)) bad("links", `must be an array of {"from": "comp.port", "to": "comp.port"}`);
  const links = (o.links as unknown[]).map((l, i) => {
    if (!isObj(l) || typeof l.from !== "string" || typeof l.to !== "string" || Object.keys(l).length !== 2) {
      bad(`links[${i}]`, `must be {"from": "comp.port", "to": "comp.port"} (got ${J(l)})`);
    }
    return { from: (l as { from: string }).from, to: (l as { to: string }).to };
  });

  let boards: UserSystemFile["boards"];
  if (o.boards !== undefined) {
    if (!Array.isArray(o.boards) || o.boards.length === 0) bad("boards", `must be a non-empty array of {"name", "node", "components"}`);
    const names = new Set<string>(), nodes = new Set<number>();
    boards = (o.boards as unknown[]).map((b, i) => {
      const x = b as Record<string, unknown>;
      if (!isObj(x) || typeof x.name !== "string" || !x.name) bad(`boards[${i}].name`, "must be a non-empty string");
      if (!Number.isInteger(x.node) || (x.node as number) < 1 || (x.node as number) > 127) bad(`boards[${i}].node`, `must be an integer node id in 1..127 (got ${J(x.node)})`);
      if (!Array.isArray(x.components) || x.components.some((c) => typeof c !== "string")) bad(`boards[${i}].components`, "must be an array of component names");
      if (names.has(x.name as string)) bad(`boards[${i}].name`, `repeats board name "${x.name}"`);
      if (nodes.has(x.node as number)) bad(`boards[${i}].node`, `repeats node id ${x.node}; every board needs its own`);
      names.add(x.name as string); nodes.add(x.node as number);
      for (const c of x.components as string[]) {
        if (!initial[c]) bad(`boards[${i}].components`, `names "${c}", which "initial" does not deploy`);
      }
      return { name: x.name as string, node: x.node as number, components: x.components as string[] };
    });
  }
  return { file, components, initial, upgrade, devices, links, boards };
}

function parseInput(raw: unknown, f: string, bad: (field: string, what: string) => never): { size: number; fields: InputField[] } {
  if (!isObj(raw)) bad(f, `must be {"size": BYTES, "fields": [...]}`);
  const r = raw as Record<string, unknown>;
  if (!Number.isInteger(r.size) || (r.size as number) < 4 || (r.size as number) > 4096) bad(`${f}.size`, `must be the message size in bytes, 4..4096 (bytes 0-3 are the u32 step); got ${J(r.size)}`);
  const size = r.size as number;
  if (!Array.isArray(r.fields)) bad(`${f}.fields`, "must be an array (it may be empty: a message holding only the step)");
  const used = new Uint8Array(size).fill(1, 0, 4); // bytes 0-3: the step
  const fields = (r.fields as unknown[]).map((x, j) => {
    const g = (k: string) => `${f}.fields[${j}].${k}`;
    if (!isObj(x)) bad(`${f}.fields[${j}]`, "must be an object");
    const allowed = ["name", "offset", "type", "wave", "base", "amplitude", "period", "phase"];
    for (const k of Object.keys(x)) if (!allowed.includes(k)) bad(g(k), `is not an input field property (${allowed.join(", ")})`);
    if (typeof x.type !== "string" || !(x.type in SIZE)) bad(g("type"), `must be one of ${Object.keys(SIZE).join(", ")} (got ${J(x.type)})`);
    const t = x.type as FieldType;
    if (!Number.isInteger(x.offset) || (x.offset as number) < 4 || (x.offset as number) + SIZE[t] > size) {
      bad(g("offset"), `must be an integer with 4 <= offset and offset + ${SIZE[t]} <= size ${size} (bytes 0-3 are the step); got ${J(x.offset)}`);
    }
    const off = x.offset as number;
    if (used.subarray(off, off + SIZE[t]).some((b) => b)) bad(g("offset"), `overlaps another field (bytes ${off}..${off + SIZE[t] - 1})`);
    used.fill(1, off, off + SIZE[t]);
    if (x.wave !== undefined && x.wave !== "sine" && x.wave !== "square") bad(g("wave"), `must be "sine" (default) or "square"`);
    for (const k of ["base", "amplitude", "period", "phase"]) {
      if (x[k] !== undefined && (typeof x[k] !== "number" || !Number.isFinite(x[k]))) bad(g(k), "must be a finite number");
    }
    const amplitude = (x.amplitude as number | undefined) ?? 0;
    if (amplitude !== 0 && !((x.period as number | undefined)! > 0)) bad(g("period"), "must be a positive number of steps when amplitude is not 0");
    return {
      name: typeof x.name === "string" ? x.name : `field${j}`, offset: off, type: t, wave: (x.wave as "sine" | "square" | undefined) ?? "sine",
      base: (x.base as number | undefined) ?? 0, amplitude, period: (x.period as number | undefined) ?? 1, phase: (x.phase as number | undefined) ?? 0,
    };
  });
  return { size, fields };
}

/** The message of an input device at step k: u32 k, then every field at base + amplitude * wave(2 pi k / period + phase). */
export function inputMessage(d: { size: number; fields: InputField[] }, k: number): Uint8Array {
  const b = new Uint8Array(d.size);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, k >>> 0, true);
  for (const f of d.fields) {
    const s = detSin((2 * Math.PI * k) / f.period + f.phase);
    let v = f.base + f.amplitude * (f.wave === "square" ? (s >= 0 ? 1 : -1) : s);
    const r = INT_RANGE[f.type];
    if (r) v = Math.min(r[1], Math.max(r[0], Math.round(v)));
    switch (f.type) {
      case "u8": dv.setUint8(f.offset, v); break;
      case "u16": dv.setUint16(f.offset, v, true); break;
      case "u32": dv.setUint32(f.offset, v, true); break;
      case "i32": dv.setInt32(f.offset, v, true); break;
      case "f32": dv.setFloat32(f.offset, v, true); break;
      default: dv.setFloat64(f.offset, v, true); break;
    }
  }
  return b;
}

/** A path as the user would type it: relative to the working directory when that is shorter. */
function shown(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") && r.length < p.length ? r : p;
}

const moduleCache = new Map<string, ComponentModule>();

function loadVersion(file: string, ref: VersionRef): ComponentVersion & { manifest: Manifest; module: ComponentModule } {
  const where = `${file}: field "${ref.field}"`;
  let manifest: Manifest;
  try { manifest = loadManifest(ref.manifest); } catch (e) {
    throw new PlanError(`${where}: ${(e as Error).message}${/cannot read/.test((e as Error).message) ? `; the folder of ${ref.name}@${ref.version} must hold manifest.json` : ""}`);
  }
  if (manifest.name !== ref.name || manifest.version !== ref.version) {
    throw new PlanError(`${where}: ${shown(ref.manifest)} declares ${manifest.name}@${manifest.version}, not ${ref.name}@${ref.version}; point the field at ${ref.name}@${ref.version}'s folder, or fix "name"/"version" in the manifest`);
  }
  let bytes: Uint8Array;
  try { bytes = readFileSync(ref.wasm); } catch (e) {
    throw new PlanError(`${where}: cannot read ${shown(ref.wasm)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); build it: gsu build-component ${shown(ref.dir)}${ref.wasm === join(ref.dir, DEFAULT_WASM) ? "" : ` --out ${shown(ref.wasm)}`}`);
  }
  const key = `${ref.wasm}\0${Buffer.from(bytes.subarray(0, 64)).toString("hex")}\0${bytes.length}`;
  let module = moduleCache.get(key);
  if (!module) {
    try { module = ComponentModule.fromBytes(bytes, `${ref.name}@${ref.version}`); } catch (e) {
      throw new PlanError(`${where}: ${shown(ref.wasm)} is not a usable GSU component: ${(e as Error).message.replace(/^component \S+: /, "")}; build it with gsu build-component ${shown(ref.dir)}`);
    }
    moduleCache.set(key, module);
  }
  let stamp;
  try { stamp = readStamp(module.module); } catch (e) { throw new PlanError(`${where}: ${shown(ref.wasm)}: ${(e as Error).message}; rebuild it with gsu build-component ${shown(ref.dir)}`); }
  const diff = stamp && stampMismatch(stamp, manifest);
  if (diff) {
    throw new PlanError(`${where}: ${shown(ref.wasm)} does not match ${shown(ref.manifest)}: ${diff}; rebuild it (gsu build-component ${shown(ref.dir)}) or point the field at the right files`);
  }
  try {
    const probe = new ComponentInstance(module, () => {});
    probe.start();
  } catch (e) {
    throw new PlanError(`${where}: ${shown(ref.wasm)}: its top-level init (_start) fails: ${(e as Error).message}`);
  }
  const mod = module;
  return {
    name: ref.name, version: ref.version, ports: manifest.ports, manifest, module: mod,
    create(onSend, buffers) { const c = new ComponentInstance(mod, onSend, buffers); c.start(); return c; },
  };
}

/** Loads a user system file (format: docs/system-file.md) into a testbed system. */
export function loadUserSystem(file: string, parsed?: unknown): ConfigSystem {
  const u = parseUserSystem(file, parsed ?? readJsonFile(file));
  const bad = (field: string, what: string): never => { throw new PlanError(`${file}: field "${field}" ${what}`); };
  const refs = new Map<string, VersionRef>();
  const cur: Record<string, ComponentVersion & { manifest: Manifest; module: ComponentModule }> = {};
  const next: typeof cur = {};
  for (const [n, v] of Object.entries(u.initial)) { cur[n] = loadVersion(file, u.components[n][v]); refs.set(`${n}@${v}`, u.components[n][v]); }
  for (const [n, v] of Object.entries(u.upgrade)) { next[n] = loadVersion(file, u.components[n][v]); refs.set(`${n}@${v}`, u.components[n][v]); }
  const src = (c: { name: string; version: string }) => `${c.name}@${c.version} (${shown(refs.get(`${c.name}@${c.version}`)!.manifest)})`;

  // devices: every device a manifest names is declared, with its direction; every declared one is used
  const usedBy = new Map<string, string>();
  for (const c of [...Object.values(cur), ...Object.values(next)]) {
    for (const p of c.manifest.ports) {
      if (!p.device) continue;
      const d = u.devices[p.device];
      if (!d) bad("devices", `does not declare device "${p.device}", which port "${p.name}" of ${src(c)} ${p.dir === "in" ? "reads" : "drives"}; add "${p.device}": {"dir": "${p.dir}"${p.dir === "in" ? `, "input": {...}` : ""}}`);
      if (d.dir !== p.dir) bad(`devices.${p.device}.dir`, `is "${d.dir}", but port "${p.name}" of ${src(c)} is an ${p.dir === "in" ? "input" : "output"} port on it`);
      if (!usedBy.has(p.device)) usedBy.set(p.device, c.name);
    }
  }
  for (const d of Object.keys(u.devices)) {
    if (!Object.values(cur).some((c) => c.manifest.ports.some((p) => p.device === d))) {
      bad(`devices.${d}`, `is not named by any port of the deployed versions' manifests (their devices: ${[...usedBy.keys()].join(", ") || "none"}); remove it or fix its name`);
    }
  }

  // links: both ends exist with the right direction, in the running and the new versions
  const parseEnd = (s: string, f: string): [string, string] => {
    const m = /^([^.]+)\.([^.]+)$/.exec(s);
    if (!m) bad(f, `must be "component.port" (got ${J(s)})`);
    return [m![1], m![2]];
  };
  const port = (c: { manifest: Manifest; name: string; version: string }, name: string, dir: "in" | "out", f: string, role: string): PortDecl => {
    const p = c.manifest.ports.find((x) => x.name === name);
    const mine = c.manifest.ports.filter((x) => x.dir === dir && !x.device).map((x) => x.name);
    const list = `its ${dir === "in" ? "input" : "output"} ports: ${mine.join(", ") || "none"}`;
    if (!p) bad(f, `names port "${name}" of ${role}${src(c)}, which has no port "${name}" (${list}); fix the link or the manifest`);
    if (p!.dir !== dir) bad(f, `names port "${name}" of ${role}${src(c)}, an ${p!.dir === "in" ? "input" : "output"} port; a link goes from an output port to an input port (${list})`);
    if (p!.device) bad(f, `names port "${name}" of ${role}${src(c)}, which the manifest wires to device "${p!.device}"; links join component ports only`);
    return p!;
  };
  const seen = new Set<string>();
  const linked = new Set<string>();
  u.links.forEach((l, i) => {
    const [fc, fp] = parseEnd(l.from, `links[${i}].from`), [tc, tp] = parseEnd(l.to, `links[${i}].to`);
    for (const [c, f] of [[fc, "from"], [tc, "to"]] as const) {
      if (!cur[c]) bad(`links[${i}].${f}`, `names component "${c}", which "initial" does not deploy (it deploys ${Object.keys(cur).join(", ")})`);
    }
    const key = `${l.from}->${l.to}`;
    if (seen.has(key)) bad(`links[${i}]`, `repeats the link ${l.from} -> ${l.to}`);
    seen.add(key);
    const a = port(cur[fc], fp, "out", `links[${i}].from`, ""), b = port(cur[tc], tp, "in", `links[${i}].to`, "");
    if (a.iface !== b.iface) bad(`links[${i}]`, `joins ${l.from} (${a.iface}) to ${l.to} (${b.iface}) in the running versions; both ends must speak the same interface`);
    if (next[fc]) port(next[fc], fp, "out", `links[${i}].from`, "the upgrade's ");
    if (next[tc]) port(next[tc], tp, "in", `links[${i}].to`, "the upgrade's ");
    linked.add(`${tc}.${tp}`);
  });
  for (const c of [...Object.values(cur), ...Object.values(next)]) {
    for (const p of c.manifest.ports) {
      if (p.dir === "in" && !p.device && !linked.has(`${c.name}.${p.name}`)) {
        bad("links", `has no link to input port "${p.name}" of ${src(c)}, so it would wait forever; add {"from": "<component>.<port>", "to": "${c.name}.${p.name}"} or remove the port`);
      }
    }
  }

  const boards = u.boards ?? [{ name: "board", node: 1, components: Object.keys(cur) }];
  const wrap = <T>(f: () => T): T => {
    try { return f(); } catch (e) {
      if (!(e instanceof PlanError)) throw e;
      const field = /interface leak|after upgrade|upgrade plan/.test(e.message) ? "upgrade" : /board/.test(e.message) ? "boards" : /wire|link|interface/.test(e.message) ? "links" : "";
      throw new PlanError(`${file}: ${field ? `field "${field}": ` : ""}${e.message}`);
    }
  };
  const spec = wrap(() => wireSystem(cur, u.links, boards));
  const plan = { upgrades: Object.values(next) };
  wrap(() => computeCluster(spec, plan));

  const inputs: DeviceInput[] = [];
  for (const [name, d] of Object.entries(u.devices)) {
    if (d.dir !== "in") continue;
    const readers = Object.values(cur).filter((c) => c.manifest.ports.some((p) => p.device === name && p.dir === "in")).map((c) => c.name);
    const on = new Set(boards.filter((b) => b.components.some((c) => readers.includes(c))).map((b) => b.name));
    if (on.size > 1) bad(`devices.${name}`, `is read by ${readers.join(", ")} on boards ${[...on].join(", ")}; an input device is wired to one board: place its readers together`);
    const input = d.input!;
    inputs.push({ device: name, gen: (k) => inputMessage(input, k) });
  }
  const faultable = Object.values(next).filter((c) => c.module.hasFault).map((c) => c.name);
  const noStateTransfer = Object.keys(next).filter((n) => !cur[n].module.hasStateTransfer || !next[n].module.hasStateTransfer);
  return { spec, plan, inputs, file, refs, faultable, noStateTransfer };
}
