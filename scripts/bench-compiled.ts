// Runs a bench on the compiled JavaScript a board runs (the default), or on the development
// tree through tsx (--tsx). tsx adds a getter per imported binding and a `__name` call per
// closure, so its figures are not the board's.
//
//   node --import tsx scripts/bench-compiled.ts scripts/bench-X.ts [--tsx] [bench arguments]
//
// Compiled: `gsu flash --root TMP --profile raspberry-pi` lays the board's tree (host/**/*.js
// compiled by host/board/compile-js.ts, build/, examples/, package.json) into a temp dir,
// node_modules is linked into it, and the bench script itself is compiled beside it
// (TMP/opt/gsu/scripts/bench-X.js, its ../host/*.ts imports rewritten to the laid .js), so
// every path a module finds relative to itself (import.meta.url) holds. The bench then
// runs there with plain node, arguments and stdio passed through, and its exit code is
// this process's; the temp dir is removed afterwards. Results files go to the repo's
// bench-results/ (GSU_BENCH_RESULTS, read by the benches; GSU_BENCH_TREE says which tree ran).
// --tsx: the bench is imported in this process, as `node --import tsx scripts/bench-X.ts`.
// The first line printed says which tree ran. GSU_BENCH_NODE_FLAGS (space-separated) are
// given to the compiled bench's node, for diagnosis: e.g. "--single-threaded" or "--trace-gc"
// (node refuses those in NODE_OPTIONS).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { compileModule } from "../host/board/compile-js.ts";
import { layBoardTree } from "./lay-board-tree.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const [entryArg, ...rest] = process.argv.slice(2);
if (!entryArg || !/\.ts$/.test(entryArg) || !existsSync(entryArg)) {
  console.error(`bench-compiled: usage: node --import tsx scripts/bench-compiled.ts scripts/bench-X.ts [--tsx] [bench arguments]${entryArg ? ` ('${entryArg}' is not a .ts file that exists)` : ""}`);
  process.exit(2);
}
const entry = resolve(entryArg);
const tsx = rest.includes("--tsx");
const args = rest.filter((a) => a !== "--tsx");
process.env.GSU_BENCH_RESULTS = join(root, "bench-results");

if (tsx) {
  console.log("bench tree: TypeScript through tsx (the development tree; not what a board runs)");
  process.env.GSU_BENCH_TREE = "tsx";
  process.argv = [process.argv[0]!, entry, ...args];
  await import(pathToFileURL(entry).href);
} else {
  console.log("bench tree: compiled JavaScript (as on a board): gsu flash --root layout, plain node");
  const tmp = mkdtempSync(join(tmpdir(), "gsu-bench-compiled-"));
  const clean = () => rmSync(tmp, { recursive: true, force: true });
  const fail = (msg: string): never => { console.error(`bench-compiled: ${msg}`); clean(); process.exit(1); };
  let opt = "";
  try { opt = layBoardTree(tmp); } catch (e) { fail((e as Error).message); }
  // the bench script, compiled beside the laid tree; each import of a .ts must be laid as .js
  const laid = (abs: string) => existsSync(join(opt, relative(root, abs).replace(/\.ts$/, ".js")));
  let code: string;
  try { code = compileModule(entry, laid); } catch (e) { fail(`compiling ${relative(root, entry)}: ${(e as Error).message}`); }
  const left = /\bfrom\s*["'](\.{1,2}\/[^"']+\.ts)["']/.exec(code!);
  if (left) fail(`${relative(root, entry)} imports ${left[1]}, which gsu flash does not lay (only host/**/*.ts is compiled for a board)`);
  const out = join(opt, relative(root, entry).replace(/\.ts$/, ".js"));
  if (!out.startsWith(join(opt, "scripts"))) fail(`${entryArg}: the bench must be in scripts/`);
  writeFileSync(out, code!);
  process.env.GSU_BENCH_TREE = "compiled";
  const child = spawn(process.execPath, [...(process.env.GSU_BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean), out, ...args], { stdio: "inherit", cwd: process.cwd() });
  const forward = (s: NodeJS.Signals) => () => { child.kill(s); };
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, forward(s));
  child.on("error", (e) => fail(`running ${basename(out)}: ${e.message}`));
  child.on("exit", (codeOut, signal) => {
    clean();
    process.exit(codeOut ?? (signal ? 128 + (({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as Record<string, number>)[signal] ?? 1) : 1));
  });
}
