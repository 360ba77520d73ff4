#!/usr/bin/env node
// Builds the WebAssembly (protocol core + example components) when it is
// missing or older than its sources, so `npm ci && npm start` works on a fresh
// clone. Runs as npm's `prepare` (after `npm ci`) and `prestart` hooks; a no-op
// when the build is current. On a board installed with `npm ci --omit=dev`
// there is no AssemblyScript compiler: then it says so and exits 0 when the
// prebuilt files (copied by `gsu flash`) are there, 1 when they are not
// (0 with --soft, the prepare hook, so the install itself never fails).
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// --soft (the prepare hook): never fail the install; say what is missing.
const soft = process.argv.includes("--soft");

function newest(dir, acc = { t: 0, f: "" }) {
  if (!existsSync(dir)) return acc;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== "__tests__") newest(p, acc); continue; }
    const t = statSync(p).mtimeMs;
    if (t > acc.t) { acc.t = t; acc.f = p; }
  }
  return acc;
}

/** The components build-examples.mjs produces: examples/<name>/<version>/index.ts. */
function exampleOutputs() {
  const out = [];
  const ex = join(root, "examples");
  for (const name of readdirSync(ex, { withFileTypes: true })) {
    if (!name.isDirectory()) continue;
    for (const ver of readdirSync(join(ex, name.name), { withFileTypes: true })) {
      if (ver.isDirectory() && existsSync(join(ex, name.name, ver.name, "index.ts")))
        out.push(join(root, "build", "examples", `${name.name}-${ver.name}.wasm`));
    }
  }
  return out;
}

const outputs = [join(root, "build", "core.release.wasm"), join(root, "build", "core.debug.wasm"), ...exampleOutputs()];
const src = newest(join(root, "assembly"));
newest(join(root, "examples"), src);
for (const f of ["asconfig.json", "scripts/build-examples.mjs"]) {
  const t = statSync(join(root, f)).mtimeMs;
  if (t > src.t) { src.t = t; src.f = join(root, f); }
}
const missing = outputs.filter((f) => !existsSync(f));
const stale = missing.length ? [] : outputs.filter((f) => statSync(f).mtimeMs < src.t);
if (missing.length === 0 && stale.length === 0) process.exit(0);

const why = missing.length ? `${missing.length} of ${outputs.length} build outputs missing (${missing[0].slice(root.length + 1)}...)`
  : `${stale.length} build outputs older than ${src.f.slice(root.length + 1)}`;
if (!existsSync(join(root, "node_modules", "assemblyscript"))) {
  if (missing.length === 0) {
    console.error(`gsu: ${why}, and the AssemblyScript compiler is not installed (npm ci --omit=dev): using the prebuilt files`);
    process.exit(0);
  }
  console.error(`gsu: ${why} and the AssemblyScript compiler is not installed. Run 'npm ci' (with dev dependencies) then 'npm run asbuild', or deploy with 'gsu flash', which copies the prebuilt wasm.`);
  process.exit(soft ? 0 : 1);
}
console.error(`gsu: building the WebAssembly (${why}) ...`);
const r = spawnSync(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "--silent", "asbuild"], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
if (r.status !== 0) {
  console.error(`gsu: 'npm run asbuild' failed (status ${r.status ?? r.signal}); the messages above name the file at fault`);
  process.exit(1);
}
