/**
 * Component manifests: examples/<name>/<version>/manifest.json.
 *
 * {
 *   "name": "controller", "version": "2.0.0",
 *   "ports": [
 *     { "name": "attitude", "port": 0, "dir": "in",  "iface": "attitude.quat@2" },
 *     { "name": "wheel",    "port": 1, "dir": "out", "iface": "wheel.cmd@1",
 *       "device": "wheel",
 *       "at": { "kind": "range", "size": 16, "doc": "...",
 *               "fields": [ { "name": "tx", "offset": 4, "type": "i32", "min": -250000, "max": 250000 }, ... ] } }
 *   ]
 * }
 *
 * Port numbers are per component and shared by both directions: gsu_handle
 * receives input port numbers, gsu.send emits output port numbers.
 * `device` marks a port wired to a device instead of another component.
 * `at` (required on output device ports, forbidden elsewhere) is the
 * acceptance test run on every message to that device: the message must be
 * exactly `size` bytes; every listed field is read little endian at `offset`;
 * f64 fields must be finite; any field with min/max must lie in [min, max].
 */
import { readFileSync } from "node:fs";

export type FieldType = "u8" | "u16" | "u32" | "i32" | "f32" | "f64";
export interface AtField {
  name: string;
  offset: number;
  type: FieldType;
  min?: number;
  max?: number;
}
export interface AcceptanceTest {
  kind: "range";
  size: number;
  doc: string;
  fields: AtField[];
}
export interface PortDecl {
  name: string;
  port: number;
  dir: "in" | "out";
  iface: string;
  device?: string;
  at?: AcceptanceTest;
}
export interface Manifest {
  name: string;
  version: string;
  description?: string;
  ports: PortDecl[];
  /** absolute or given path of the manifest file */
  file: string;
}

const FIELD_SIZE: Record<FieldType, number> = { u8: 1, u16: 2, u32: 4, i32: 4, f32: 4, f64: 8 };
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const IDENT = /^[a-z][a-z0-9_-]*$/;
const IFACE = /^[a-z][a-z0-9_.-]*@[1-9]\d*$/;

export class ManifestError extends Error {}

export function loadManifest(path: string): Manifest {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ManifestError(`${path}: cannot read manifest (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return validateManifest(json, path);
}

export function validateManifest(json: unknown, file = "<manifest>"): Manifest {
  const bad = (field: string, msg: string): never => {
    throw new ManifestError(`${file}: field "${field}" ${msg}`);
  };
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObj(json)) bad("(root)", "must be a JSON object");
  const m = json as Record<string, unknown>;
  if (typeof m.name !== "string" || !IDENT.test(m.name)) bad("name", `must be a lowercase identifier (got ${JSON.stringify(m.name)})`);
  if (typeof m.version !== "string" || !SEMVER.test(m.version)) bad("version", `must be a semver string like "1.0.0" (got ${JSON.stringify(m.version)})`);
  if (m.description !== undefined && typeof m.description !== "string") bad("description", "must be a string");
  if (!Array.isArray(m.ports) || m.ports.length === 0) bad("ports", "must be a non-empty array");
  const ports: PortDecl[] = [];
  const names = new Set<string>();
  const nums = new Set<number>();
  (m.ports as unknown[]).forEach((raw, i) => {
    const f = (k: string) => `ports[${i}].${k}`;
    if (!isObj(raw)) bad(`ports[${i}]`, "must be an object");
    const p = raw as Record<string, unknown>;
    if (typeof p.name !== "string" || !IDENT.test(p.name)) bad(f("name"), `must be a lowercase identifier (got ${JSON.stringify(p.name)})`);
    if (names.has(p.name as string)) bad(f("name"), `duplicates port name "${p.name}"`);
    if (typeof p.port !== "number" || !Number.isInteger(p.port) || p.port < 0 || p.port > 0xffffffff) bad(f("port"), `must be a non-negative integer (got ${JSON.stringify(p.port)})`);
    if (nums.has(p.port as number)) bad(f("port"), `duplicates port number ${p.port}`);
    if (p.dir !== "in" && p.dir !== "out") bad(f("dir"), `must be "in" or "out" (got ${JSON.stringify(p.dir)})`);
    if (typeof p.iface !== "string" || !IFACE.test(p.iface)) bad(f("iface"), `must look like "attitude.euler@1" (got ${JSON.stringify(p.iface)})`);
    if (p.device !== undefined && (typeof p.device !== "string" || !IDENT.test(p.device))) bad(f("device"), `must be a lowercase identifier (got ${JSON.stringify(p.device)})`);
    const decl: PortDecl = { name: p.name as string, port: p.port as number, dir: p.dir as "in" | "out", iface: p.iface as string };
    if (p.device !== undefined) decl.device = p.device as string;
    if (p.at !== undefined) {
      if (!(decl.device && decl.dir === "out")) bad(f("at"), "is only allowed on output ports wired to a device");
      decl.at = validateAt(p.at, f("at"), bad, isObj);
    } else if (decl.device && decl.dir === "out") {
      bad(f("at"), `is required: output port "${decl.name}" drives device "${decl.device}" and needs an acceptance test`);
    }
    names.add(decl.name);
    nums.add(decl.port);
    ports.push(decl);
  });
  const out: Manifest = { name: m.name as string, version: m.version as string, ports, file };
  if (typeof m.description === "string") out.description = m.description;
  return out;
}

function validateAt(
  raw: unknown, at: string, bad: (f: string, m: string) => never, isObj: (v: unknown) => v is Record<string, unknown>,
): AcceptanceTest {
  if (!isObj(raw)) bad(at, "must be an object");
  const a = raw as Record<string, unknown>;
  if (a.kind !== "range") bad(`${at}.kind`, `must be "range" (got ${JSON.stringify(a.kind)})`);
  if (typeof a.size !== "number" || !Number.isInteger(a.size) || a.size <= 0 || a.size > 4096) bad(`${at}.size`, "must be the exact message size in bytes (1..4096)");
  if (typeof a.doc !== "string" || a.doc.length === 0) bad(`${at}.doc`, "must say in words what the acceptance test checks");
  if (!Array.isArray(a.fields) || a.fields.length === 0) bad(`${at}.fields`, "must be a non-empty array");
  const fields: AtField[] = [];
  (a.fields as unknown[]).forEach((rf, j) => {
    const f = (k: string) => `${at}.fields[${j}].${k}`;
    if (!isObj(rf)) bad(`${at}.fields[${j}]`, "must be an object");
    const x = rf as Record<string, unknown>;
    if (typeof x.name !== "string" || x.name.length === 0) bad(f("name"), "must be a non-empty string");
    if (typeof x.type !== "string" || !(x.type in FIELD_SIZE)) bad(f("type"), `must be one of ${Object.keys(FIELD_SIZE).join(", ")} (got ${JSON.stringify(x.type)})`);
    const t = x.type as FieldType;
    if (typeof x.offset !== "number" || !Number.isInteger(x.offset) || x.offset < 0 || x.offset + FIELD_SIZE[t] > (a.size as number)) {
      bad(f("offset"), `must be an integer with offset + ${FIELD_SIZE[t]} <= size ${a.size} (got ${JSON.stringify(x.offset)})`);
    }
    for (const k of ["min", "max"] as const) {
      if (x[k] !== undefined && (typeof x[k] !== "number" || !Number.isFinite(x[k]))) bad(f(k), "must be a finite number");
    }
    if (typeof x.min === "number" && typeof x.max === "number" && x.min > x.max) bad(f("min"), `is greater than max (${x.min} > ${x.max})`);
    const field: AtField = { name: x.name as string, offset: x.offset as number, type: t };
    if (typeof x.min === "number") field.min = x.min;
    if (typeof x.max === "number") field.max = x.max;
    fields.push(field);
  });
  return { kind: "range", size: a.size as number, doc: a.doc as string, fields };
}

/**
 * Run an acceptance test on one device message. Returns null when it
 * passes, or a short reason naming the failing field.
 */
export function checkAT(at: AcceptanceTest, bytes: Uint8Array): string | null {
  if (bytes.length !== at.size) return `size ${bytes.length} != ${at.size}`;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const f of at.fields) {
    let v: number;
    switch (f.type) {
      case "u8": v = dv.getUint8(f.offset); break;
      case "u16": v = dv.getUint16(f.offset, true); break;
      case "u32": v = dv.getUint32(f.offset, true); break;
      case "i32": v = dv.getInt32(f.offset, true); break;
      case "f32": v = dv.getFloat32(f.offset, true); break;
      default: v = dv.getFloat64(f.offset, true); break;
    }
    if (!Number.isFinite(v)) return `${f.name} is not finite (${v})`;
    if (f.min !== undefined && v < f.min) return `${f.name} = ${v} < min ${f.min}`;
    if (f.max !== undefined && v > f.max) return `${f.name} = ${v} > max ${f.max}`;
  }
  return null;
}

export function portByName(m: Manifest, name: string): PortDecl {
  const p = m.ports.find((x) => x.name === name);
  if (!p) throw new ManifestError(`${m.file}: ${m.name}@${m.version} has no port "${name}" (ports: ${m.ports.map((x) => x.name).join(", ")})`);
  return p;
}
