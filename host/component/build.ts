/**
 * Building a user's AssemblyScript component: DIR/index.ts + DIR/manifest.json ->
 * a component wasm. The compiler and the global-export pass are those of
 * scripts/build-examples.mjs (compileComponent: asc --runtime stub --exportStart
 * _start -O3, then every mutable global exported as gsu_g<i>); this adds one
 * custom section, "gsu.component", that records what the binary was built from:
 *
 *   UTF-8 JSON {"name": "filter", "version": "2.0.0", "ports": "raw:0:in:temp.raw@1,temp:2:out:temp.trend@2"}
 *
 * (ports in port-number order, name:port:dir:iface). `gsu rehearse --config`
 * compares it with the manifest the system file gives for that version, so a
 * wasm listed under the wrong component, or a manifest edited after the build,
 * is refused with the two files named. A binary without the section (built
 * with asc and the pass by hand) is accepted unchecked.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadManifest, type Manifest } from "./manifest.ts";

export const STAMP_SECTION = "gsu.component";
export const DEFAULT_WASM = "component.wasm";

export interface Stamp { name: string; version: string; ports: string }

export function portsSignature(m: Pick<Manifest, "ports">): string {
  return [...m.ports].sort((a, b) => a.port - b.port).map((p) => `${p.name}:${p.port}:${p.dir}:${p.iface}`).join(",");
}

function leb(n: number): number[] {
  const out: number[] = [];
  do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n);
  return out;
}

/** Appends the "gsu.component" custom section (custom sections may follow every other section). */
export function stampComponent(binary: Uint8Array, m: Pick<Manifest, "name" | "version" | "ports">): Uint8Array {
  const name = new TextEncoder().encode(STAMP_SECTION);
  const payload = new TextEncoder().encode(JSON.stringify({ name: m.name, version: m.version, ports: portsSignature(m) } satisfies Stamp));
  const body = [...leb(name.length), ...name, ...payload];
  const sec = new Uint8Array([0, ...leb(body.length), ...body]);
  const out = new Uint8Array(binary.length + sec.length);
  out.set(binary);
  out.set(sec, binary.length);
  return out;
}

/** The stamp of a compiled module, or null when it has none. Throws when it is malformed. */
export function readStamp(module: WebAssembly.Module): Stamp | null {
  const secs = WebAssembly.Module.customSections(module, STAMP_SECTION);
  if (secs.length === 0) return null;
  const j = JSON.parse(new TextDecoder().decode(secs[0])) as Stamp;
  if (typeof j?.name !== "string" || typeof j.version !== "string" || typeof j.ports !== "string") throw new Error(`malformed "${STAMP_SECTION}" section`);
  return j;
}

/** Null when the stamp agrees with the manifest, else what differs. */
export function stampMismatch(stamp: Stamp, m: Manifest): string | null {
  const diffs: string[] = [];
  if (stamp.name !== m.name || stamp.version !== m.version) diffs.push(`it was built as ${stamp.name}@${stamp.version}, the manifest is ${m.name}@${m.version}`);
  const sig = portsSignature(m);
  if (stamp.ports !== sig) diffs.push(`it was built for ports ${stamp.ports}, the manifest declares ${sig}`);
  return diffs.length ? diffs.join("; ") : null;
}

export class BuildInputError extends Error {}

export interface BuildResult { out: string; bytes: number; globals: number; manifest: Manifest }

/**
 * Compiles DIR/index.ts (its manifest: DIR/manifest.json) into `out`
 * (default DIR/component.wasm), atomically. Missing or invalid inputs throw
 * BuildInputError; a compile error throws Error with the compiler's messages.
 */
export async function buildComponentDir(dir: string, out = join(dir, DEFAULT_WASM)): Promise<BuildResult> {
  const entry = join(dir, "index.ts"), mpath = join(dir, "manifest.json");
  if (!existsSync(dir)) throw new BuildInputError(`${dir}: no such folder; give the folder that holds index.ts and manifest.json`);
  if (!existsSync(mpath)) throw new BuildInputError(`${mpath}: missing; a component folder holds manifest.json next to index.ts (see examples-user/thermal/)`);
  if (!existsSync(entry)) throw new BuildInputError(`${entry}: missing; a component folder holds its AssemblyScript entry as index.ts`);
  let manifest: Manifest;
  try { manifest = loadManifest(mpath); } catch (e) { throw new BuildInputError((e as Error).message); }
  let compile: typeof import("../../scripts/build-examples.mjs").compileComponent;
  try {
    ({ compileComponent: compile } = await import("../../scripts/build-examples.mjs"));
  } catch (e) {
    throw new Error(`the AssemblyScript compiler is not installed (${(e as Error).message.split("\n")[0]}); run 'npm ci' with dev dependencies in the GSU checkout`);
  }
  const { binary, globals } = await compile(entry, `${manifest.name}@${manifest.version}`);
  const stamped = stampComponent(binary, manifest);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, stamped);
  renameSync(tmp, out);
  return { out, bytes: stamped.length, globals, manifest };
}
