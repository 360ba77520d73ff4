#!/usr/bin/env node
// Builds every demo component examples/<name>/<version>/index.ts into
// build/examples/<name>-<version>.wasm:
//   asc --runtime stub --exportStart _start -O3, then a binaryen pass that
//   exports every mutable global as gsu_g0, gsu_g1, ... (in module order) and
//   records their types in a custom section "gsu.globals"
//   (u32 LE count, then one byte per global: 0 i32, 1 i64, 2 f32, 3 f64),
//   so the host can checkpoint/restore linear memory + globals exactly.
// Usage: node scripts/build-examples.mjs [name[/version] ...]
import asc from "assemblyscript/asc";
import binaryen from "binaryen";
import { readdirSync, existsSync, mkdirSync, writeFileSync, readFileSync, statSync, renameSync } from "node:fs";
import { join, dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const examples = join(root, "examples");
const outDir = join(root, "build", "examples");

export const GLOBAL_TYPE_CODES = { i32: 0, i64: 1, f32: 2, f64: 3 };

/** The binaryen pass. Returns the rewritten binary and the exported global list. */
export function exportMutableGlobals(bytes, label = "module") {
  const mod = binaryen.readBinary(bytes);
  try {
    // Validate with every feature on (binaryen's advice), but emit with the
    // module's own feature set: emitting under Features.All writes GC-style
    // type encodings that Node 20 rejects ("Unknown type code 0x4f").
    const own = mod.getFeatures() | binaryen.Features.MutableGlobals;
    mod.setFeatures(binaryen.Features.All);
    const typeCode = new Map([
      [binaryen.i32, 0], [binaryen.i64, 1], [binaryen.f32, 2], [binaryen.f64, 3],
    ]);
    const codes = [];
    const n = mod.getNumGlobals();
    for (let i = 0; i < n; i++) {
      const info = binaryen.getGlobalInfo(mod.getGlobalByIndex(i));
      if (!info.mutable) continue;
      if (info.module) throw new Error(`${label}: mutable global ${info.name} is imported (${info.module}.${info.base}); a component must own all its mutable state`);
      const code = typeCode.get(info.type);
      if (code === undefined) throw new Error(`${label}: mutable global ${info.name} has a non-numeric type; only i32/i64/f32/f64 globals can be checkpointed`);
      mod.addGlobalExport(info.name, `gsu_g${codes.length}`);
      codes.push(code);
    }
    const sec = new Uint8Array(4 + codes.length);
    new DataView(sec.buffer).setUint32(0, codes.length, true);
    sec.set(codes, 4);
    mod.addCustomSection("gsu.globals", sec);
    if (!mod.validate()) throw new Error(`${label}: binaryen validation failed after exporting globals`);
    mod.setFeatures(own);
    return { binary: mod.emitBinary(), globals: codes.length };
  } finally {
    mod.dispose();
  }
}

/** Component directories: examples/<name>/<version>/ holding index.ts + manifest.json. */
export function listComponents(filters = []) {
  const out = [];
  for (const name of readdirSync(examples).sort()) {
    const nd = join(examples, name);
    if (!statSync(nd).isDirectory()) continue;
    for (const version of readdirSync(nd).sort()) {
      const dir = join(nd, version);
      if (!statSync(dir).isDirectory() || !existsSync(join(dir, "manifest.json"))) continue;
      if (filters.length && !filters.some((f) => f === name || f === `${name}/${version}`)) continue;
      out.push({ name, version, dir });
    }
  }
  return out;
}

/** Compile one AssemblyScript component entry and apply the global-export pass, in memory. */
export async function compileComponent(entry, label = entry) {
  let wasm = null;
  const stderr = [];
  const { error } = await asc.main([
    relative(root, entry),
    "--baseDir", root,
    "--outFile", "out.wasm",
    "--runtime", "stub",
    "--exportStart", "_start",
    "-O3",
    // an explicit, empty config so asc does not pick up the core's ./asconfig.json
    "--config", "examples/asconfig.json",
  ], {
    stdout: { write() {} },
    stderr: { write(s) { stderr.push(String(s)); } },
    writeFile(file, contents) { if (file.endsWith(".wasm")) wasm = contents; },
  });
  if (error) throw new Error(`asc failed for ${label}:\n${stderr.join("")}`);
  if (!wasm) throw new Error(`asc produced no binary for ${label}`);
  return exportMutableGlobals(wasm, label);
}

export async function buildComponent({ name, version, dir }) {
  const entry = join(dir, "index.ts");
  if (!existsSync(entry)) throw new Error(`${relative(root, dir)}: missing index.ts`);
  const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  if (m.name !== name || m.version !== version) {
    throw new Error(`${relative(root, dir)}/manifest.json: name/version (${m.name}@${m.version}) must match the folder (${name}/${version})`);
  }
  const { binary, globals } = await compileComponent(entry, `${name}-${version}`);
  const file = join(outDir, `${name}-${version}.wasm`);
  // atomic: parallel test workers may rebuild the same component concurrently
  mkdirSync(outDir, { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, binary);
  renameSync(tmp, file);
  return { file, bytes: binary.length, globals };
}

async function main() {
  const t0 = performance.now();
  mkdirSync(outDir, { recursive: true });
  const comps = listComponents(process.argv.slice(2));
  if (comps.length === 0) throw new Error("no components found under examples/*/*/manifest.json");
  // asc.main is async but CPU-bound; running them concurrently is still one thread,
  // the whole set builds in a second or two.
  const results = await Promise.all(comps.map(buildComponent));
  for (const [i, r] of results.entries()) {
    console.log(`  ${relative(root, r.file)}  ${r.bytes} B, ${r.globals} mutable globals exported  (${comps[i].name}@${comps[i].version})`);
  }
  console.log(`built ${results.length} components in ${(performance.now() - t0).toFixed(0)} ms`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => { console.error(e.message ?? e); process.exit(1); });
}
