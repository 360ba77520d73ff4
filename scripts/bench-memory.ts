// npm run bench:memory: peak memory (RSS) of `gsu rehearse` with a --trace file, as a
// separate process per run (each run's own peak: node's resourceUsage().maxRSS, printed at
// exit by scripts/maxrss-preload.mjs). Runs with the HTML report and without it (--html -).
// The trace is streamed to its file (host/cli/trace-stream.ts), so memory does not grow
// with the run; a baseline run of 200 steps shows what any run takes. Each configuration
// runs on two trees: the development tree (TypeScript through tsx) and the compiled
// JavaScript that `gsu flash` lays on a board (host/board/compile-js.ts; laid into a temp
// dir by `gsu flash --root`, node_modules linked: scripts/lay-board-tree.ts, as bench:startup and bench-compiled.ts do).
//
//   npm run bench:memory               200 and 20000 steps, 3 runs each (a few minutes)
//   npm run bench:memory -- --quick    a smoke run for CI: 200 and 400 steps, 1 run each
//                                      (the same code paths; the figures are not measurements)
// Figures also go to bench-results/memory.json (memory-quick.json with --quick).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { layBoardTree } from "./lay-board-tree.ts";

const args = process.argv.slice(2);
for (const a of args) {
  if (a !== "--quick") { console.error(`bench-memory: unknown argument '${a}'; usage: npm run bench:memory [-- --quick]`); process.exit(2); }
}
const QUICK = args.includes("--quick");
const LONG = QUICK ? 400 : 20000, RUNS = QUICK ? 1 : 3, GOAL_MB = 150;
const gsu = fileURLToPath(new URL("../bin/gsu.js", import.meta.url));
const preload = new URL("./maxrss-preload.mjs", import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), "gsu-bench-memory-"));
const fail = (msg: string): never => { console.error(`bench-memory: FAILED: ${msg}`); rmSync(dir, { recursive: true, force: true }); process.exit(1); };
const flashRoot = join(dir, "flash");
let opt = "";
try { opt = layBoardTree(flashRoot); } catch (e) { fail((e as Error).message); }
const trees = { tsx: gsu, compiled: join(opt, "bin/gsu.js") } as const;
type Tree = keyof typeof trees;

// Node 20 can deadlock as a process ends (nodejs/node#54918: the main thread drains V8's
// background tasks while a concurrent compile job waits for a collection only the main
// thread can run). Seen here once in about 200 runs, after the run had written its files:
// a run that has not ended after HANG_S is killed and run again (twice at most), and said so.
const HANG_S = 300;
function run(tree: Tree, steps: number, html: boolean): { mb: number; traceBytes: number; verdict: string } {
  const trace = join(dir, "t.jsonl");
  const go = () => spawnSync(process.execPath, ["--import", preload, trees[tree], "rehearse", "--steps", String(steps), "--trace", trace, "--html", html ? join(dir, "r.html") : "-", "--json"],
    { encoding: "utf8", maxBuffer: 64 << 20, timeout: HANG_S * 1000, killSignal: "SIGKILL" });
  let r = go();
  for (let again = 0; again < 2 && r.signal === "SIGKILL"; again++) {
    console.error(`bench-memory: gsu rehearse (${tree}) --steps ${steps} had not ended after ${HANG_S} s (node's exit-time deadlock, nodejs/node#54918?): killed, running it again`);
    r = go();
  }
  const m = /GSU_MAXRSS_KB (\d+)\s*$/.exec(r.stderr ?? "");
  if (r.status !== 0 || !m) fail(`gsu rehearse (${tree}) --steps ${steps} exited ${r.status}: ${(r.stderr ?? "").slice(-400)}`);
  return { mb: (Number(m![1]) * 1024) / 1e6, // maxRSS is in KiB; MB = 10^6 bytes
    traceBytes: statSync(trace).size, verdict: JSON.parse(r.stdout).verdict };
}

const rows: { tree: Tree; steps: number; html: boolean; mb: number[]; traceBytes: number }[] = [];
for (const steps of [200, LONG]) {
  for (const html of [true, false]) {
    const byTree = { tsx: [] as number[], compiled: [] as number[] };
    let traceBytes = 0;
    for (let i = 0; i < RUNS; i++) {
      // the two trees interleaved, alternating which goes first
      for (const tree of (i % 2 ? ["compiled", "tsx"] : ["tsx", "compiled"]) as Tree[]) {
        const r = run(tree, steps, html);
        if (r.verdict !== "pass") fail(`gsu rehearse (${tree}) --steps ${steps}: verdict ${r.verdict}`);
        byTree[tree].push(r.mb); traceBytes = r.traceBytes;
      }
    }
    for (const tree of ["tsx", "compiled"] as Tree[]) rows.push({ tree, steps, html, mb: byTree[tree], traceBytes });
  }
}
rmSync(dir, { recursive: true, force: true });
console.log(`gsu rehearse peak RSS in MB (10^6 bytes; node ${process.version}), ${RUNS} run(s) each, min / median / max${QUICK ? "  --quick: smoke run, not a measurement" : ""}`);
for (const r of rows) {
  const s = [...r.mb].sort((a, b) => a - b);
  const goal = r.steps === 20000 ? `   goal < ${GOAL_MB} MB: ${s[Math.floor(s.length / 2)]! < GOAL_MB ? "met" : "NOT met"}` : "";
  console.log(`  ${r.tree === "tsx" ? "tsx     " : "compiled"} --steps ${String(r.steps).padEnd(6)} --trace FILE ${r.html ? "--html FILE" : "--html -   "}  ${s[0]!.toFixed(0)} / ${s[Math.floor(s.length / 2)]!.toFixed(0)} / ${s[s.length - 1]!.toFixed(0)} MB` +
    `   (trace file ${(r.traceBytes / 1048576).toFixed(1)} MiB)${goal}`);
}
mkdirSync(new URL("../bench-results/", import.meta.url), { recursive: true });
writeFileSync(new URL(`../bench-results/${QUICK ? "memory-quick.json" : "memory.json"}`, import.meta.url), `${JSON.stringify({ when: new Date().toISOString(), node: process.version, quick: QUICK, rows }, null, 2)}\n`);
