// bench:startup: start-up time of the gsu command, TypeScript through tsx (the development
// tree) against the compiled JavaScript gsu flash ships to a board (host/**/*.js, plain node).
// The compiled tree is laid by `gsu flash --root` into a temp dir, with node_modules linked.
// Paired and interleaved: each round runs both, in alternating order, and the ratio is taken
// per round; medians printed.
//   npm run bench:startup [-- --rounds N] [-- --quick]   (quick: 3 rounds)
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { layBoardTree } from "./lay-board-tree.ts";

const root = join(import.meta.dirname, "..");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const ri = args.indexOf("--rounds");
const rounds = ri >= 0 ? Number(args[ri + 1]) : quick ? 3 : 15;
if (!(rounds >= 1)) { console.error("bench:startup: --rounds N, N >= 1"); process.exit(2); }

const tmp = mkdtempSync(join(tmpdir(), "gsu-bench-startup-"));
try {
  let opt: string;
  try { opt = layBoardTree(tmp); } catch (e) { console.error(`bench:startup: ${(e as Error).message}`); process.exit(1); }
  const tsxBin = join(root, "bin/gsu.js"), jsBin = join(opt, "bin/gsu.js");

  const cases: { name: string; argv: string[] }[] = [
    { name: "gsu --help", argv: ["--help"] },
    // a board-like start: the runtime, the core's wasm, the components, one step
    { name: "gsu rehearse --reference --steps 1", argv: ["rehearse", "--reference", "--steps", "1", "--html", "-"] },
  ];
  const run = (bin: string, argv: string[], cwd: string) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [bin, ...argv], { cwd, encoding: "utf8" });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${bin} ${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
    return ms;
  };
  const median = (xs: number[]) => { const s = xs.slice().sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  console.log(`bench:startup: ${rounds} paired rounds (alternating order), node ${process.version}`);
  for (const c of cases) {
    const a: number[] = [], b: number[] = [], ratio: number[] = [];
    run(tsxBin, c.argv, root); run(jsBin, c.argv, opt);   // warm the file cache
    for (let i = 0; i < rounds; i++) {
      let x: number, y: number;
      if (i % 2) { y = run(jsBin, c.argv, opt); x = run(tsxBin, c.argv, root); } else { x = run(tsxBin, c.argv, root); y = run(jsBin, c.argv, opt); }
      a.push(x); b.push(y); ratio.push(x / y);
    }
    console.log(`  ${c.name.padEnd(38)} tsx (TypeScript) ${median(a).toFixed(0).padStart(5)} ms   compiled JS ${median(b).toFixed(0).padStart(5)} ms   tsx/compiled ${median(ratio).toFixed(2)}x (median of per-round ratios)`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
