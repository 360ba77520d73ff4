// The board runs compiled JavaScript: gsu flash ships host/**/*.ts compiled to .js in the same
// layout (so every path a module finds relative to itself, import.meta.url, still holds), and
// bin/gsu.js imports host/cli/main.js with plain node when it is there: no TypeScript
// transpilation at start (the development tree has no .js and runs through tsx).
// esbuild (it comes with tsx) strips the types file by file; relative imports of .ts files
// that are compiled too become .js. Imports that leave the compiled tree (the development
// scripts gsu build-component loads lazily) are left as they are.
import { readFileSync } from "node:fs";
import { dirname, relative, resolve, sep } from "node:path";
import { createRequire } from "node:module";

type Esbuild = { transformSync(code: string, o: Record<string, unknown>): { code: string } };
let esbuild: Esbuild | undefined;
function loadEsbuild(): Esbuild {
  if (!esbuild) {
    try { esbuild = createRequire(import.meta.url)("esbuild") as Esbuild; } catch {
      throw new Error("compiling the board's JavaScript needs esbuild (it comes with tsx; run npm ci)");
    }
  }
  return esbuild;
}

const SPEC = /(\bfrom\s*|\bimport\s*\(\s*|\bexport\s*\*\s*from\s*)(["'])(\.{1,2}\/[^"']+?)\.ts\2/g;

/**
 * Compiles one TypeScript module to JavaScript. `compiled(abs)` says whether an imported .ts
 * file is compiled too (its import becomes .js).
 */
export function compileModule(file: string, compiled: (abs: string) => boolean, source = readFileSync(file, "utf8")): string {
  const { code } = loadEsbuild().transformSync(source, {
    loader: "ts", format: "esm", target: "node20", sourcefile: file, sourcemap: false,
    // not minified, so functions and classes keep their own names (errors name their classes,
    // e.g. NoReplyError) without keepNames, whose __name(fn, "f") call would run every time a
    // closure is created: on the per-message path too (issue 12)
    keepNames: false, minify: false,
    tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
  });
  return code.replace(SPEC, (m, pre: string, q: string, spec: string) => {
    const target = resolve(dirname(file), `${spec}.ts`);
    return compiled(target) ? `${pre}${q}${spec}.js${q}` : m;
  });
}

/** Compiles every file of `files` (absolute .ts paths under `root`) -> [relative .js path, code]. */
export function compileTree(root: string, files: string[]): [string, string][] {
  const set = new Set(files.map((f) => resolve(f)));
  return files.map((f) => [relative(root, f).split(sep).join("/").replace(/\.ts$/, ".js"), compileModule(f, (abs) => set.has(abs))]);
}
