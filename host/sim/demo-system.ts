// The demo attitude-control loop (examples/) as a testbed system: AssemblyScript
// components, wired by examples/system.json, placed on three boards.
import type { Manifest } from "../component/manifest.ts";
import { wireSystem } from "../component/wiring.ts";
import { imuMessage, loadComponentVersion, loadSystem } from "../component/demo.ts";
import type { ComponentVersion } from "../runtime/app.ts";
import { PlanError } from "../runtime/system.ts";
import type { TestbedSystem } from "./testbed.ts";
import { readFileSync } from "node:fs";

export const DEMO_BOARDS = [
  { name: "io", node: 1, components: ["sensor"] },
  { name: "gnc", node: 2, components: ["estimator", "controller"] },
  { name: "comms", node: 3, components: ["fdir", "telemetry"] },
];

function load(name: string, version: string): ComponentVersion & { manifest: Manifest } {
  try {
    return loadComponentVersion(name, version);
  } catch (e) {
    throw new PlanError(`component ${name}@${version}: ${(e as Error).message}`);
  }
}

type SystemFile = ReturnType<typeof loadSystem> & { boards?: typeof DEMO_BOARDS };

/** Reads and checks a system file (examples/system.json's format, plus optional boards). */
export function readSystemFile(path: string): SystemFile {
  let text: string;
  try { text = readFileSync(path, "utf8"); } catch (e) {
    throw new PlanError(`cannot read system file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let j: unknown;
  try { j = JSON.parse(text); } catch (e) { throw new PlanError(`${path} is not valid JSON: ${(e as Error).message}`); }
  const bad = (field: string, what: string): never => { throw new PlanError(`${path}: '${field}' ${what}`); };
  const o = j as Record<string, unknown>;
  if (typeof o !== "object" || o === null || Array.isArray(o)) bad("(top level)", "must be an object with initial, upgrade and links");
  for (const k of ["initial", "upgrade"] as const) {
    const v = o[k];
    if (typeof v !== "object" || v === null || Array.isArray(v)) bad(k, "must be an object mapping component names to versions");
    for (const [n, ver] of Object.entries(v as object)) if (typeof ver !== "string") bad(`${k}.${n}`, "must be a version string such as \"1.0.0\"");
  }
  if (!Array.isArray(o.links)) bad("links", "must be an array of {from: \"comp.port\", to: \"comp.port\"}");
  (o.links as unknown[]).forEach((l, i) => {
    const x = l as Record<string, unknown>;
    if (typeof x?.from !== "string" || typeof x?.to !== "string") bad(`links[${i}]`, "must have string fields from and to");
  });
  if (o.boards !== undefined) {
    if (!Array.isArray(o.boards)) bad("boards", "must be an array of {name, node, components}");
    (o.boards as unknown[]).forEach((b, i) => {
      const x = b as Record<string, unknown>;
      if (typeof x?.name !== "string") bad(`boards[${i}].name`, "must be a string");
      if (!Number.isInteger(x.node) || (x.node as number) < 1 || (x.node as number) > 127) bad(`boards[${i}].node`, "must be an integer node id in 1..127");
      if (!Array.isArray(x.components)) bad(`boards[${i}].components`, "must be an array of component names");
    });
  }
  return o as unknown as SystemFile;
}

export function demoSystem(boards = DEMO_BOARDS, file?: string): TestbedSystem {
  const sys: SystemFile = file ? readSystemFile(file) : loadSystem();
  if (sys.boards) boards = sys.boards;
  const components: Record<string, ComponentVersion & { manifest: Manifest }> = {};
  for (const [name, version] of Object.entries(sys.initial)) components[name] = load(name, version);
  const inputs: TestbedSystem["inputs"] = [];
  for (const c of Object.values(components)) {
    if (c.manifest.ports.some((p) => p.dir === "in" && p.device === "imu")) inputs.push({ device: "imu", gen: imuMessage });
  }
  const spec = wireSystem(components, sys.links, boards);
  const upgrades = Object.entries(sys.upgrade).map(([name, version]) => load(name, version));
  return { spec, plan: { upgrades }, inputs };
}
