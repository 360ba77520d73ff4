// Test helper: (re)build the demo components when build/examples is missing
// or older than their sources, so `npx vitest run` works without a prior
// `npm run build:examples`.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildComponent, listComponents } from "../scripts/build-examples.mjs";
import { EXAMPLES_DIR, wasmPath } from "../host/component/demo.ts";

export async function ensureExamplesBuilt(): Promise<void> {
  const lib = statSync(join(EXAMPLES_DIR, "lib", "gsu.ts")).mtimeMs;
  const stale = listComponents().filter((c) => {
    const out = wasmPath(c.name, c.version);
    if (!existsSync(out)) return true;
    const src = Math.max(lib, statSync(join(c.dir, "index.ts")).mtimeMs, statSync(join(c.dir, "manifest.json")).mtimeMs);
    return statSync(out).mtimeMs < src;
  });
  await Promise.all(stale.map(buildComponent));
}
