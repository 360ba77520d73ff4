// gsu build-component: compile a user's AssemblyScript component into the wasm
// `gsu rehearse --config` (and `gsu sign`) take. Wraps scripts/build-examples.mjs's
// compileComponent (asc + the global-export pass) via host/component/build.ts.
import { existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { parseCommandArgs, UsageError } from "./args.ts";
import { BuildInputError, buildComponentDir, DEFAULT_WASM } from "../component/build.ts";

export const help = `Usage: gsu build-component DIR... [--out FILE]
       gsu build-component --system FILE

Compiles an AssemblyScript component: DIR/index.ts, described by
DIR/manifest.json, into DIR/${DEFAULT_WASM} (asc --runtime stub --exportStart
_start -O3, then the pass that exports every mutable global for exact
checkpoints; see host/component/component.ts for the ABI). The wasm records the
manifest's name, version and ports; gsu rehearse --config refuses a wasm whose
manifest changed since, naming both files.

Options:
  --out FILE      write the wasm there instead (one DIR only)
  --system FILE   build every component version a system file lists (its
                  "components"; see docs/system-file.md) whose folder holds index.ts,
                  into the wasm path the file gives for it

Start from examples-user/thermal/ (lib/gsu.ts is the ABI helper to copy).

Exit status: 0 when every component built, 1 when the compiler failed (its
messages name file:line), 2 on bad arguments or a missing or invalid manifest.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { out: { type: "string" }, system: { type: "string" } }, { allowPositionals: true });
  let jobs: { dir: string; out?: string; label?: string }[];
  if (values.system) {
    if (positionals.length || values.out) throw new UsageError("--system builds what the system file lists; give no DIR and no --out with it");
    const { readJsonFile, isUserSystem, parseUserSystem } = await import("../sim/config-system.ts");
    const { PlanError } = await import("../runtime/system.ts");
    let sys;
    try {
      const j = readJsonFile(values.system);
      if (!isUserSystem(j)) throw new UsageError(`${values.system} has no "components" field: it uses the examples' components (npm run build:examples builds those); see docs/system-file.md`);
      sys = parseUserSystem(values.system, j);
    } catch (e) {
      if (e instanceof PlanError) throw new UsageError(e.message);
      throw e;
    }
    jobs = [];
    for (const versions of Object.values(sys.components)) {
      for (const r of Object.values(versions)) {
        const src = join(dirname(r.manifest), "index.ts");
        if (!existsSync(src)) { process.stdout.write(`  ${r.name}@${r.version}: no ${src}; skipped (a prebuilt wasm)\n`); continue; }
        jobs.push({ dir: dirname(r.manifest), out: r.wasm, label: `${r.name}@${r.version}` });
      }
    }
    if (!jobs.length) throw new UsageError(`${values.system}: no component folder holds an index.ts; nothing to build`);
  } else {
    if (!positionals.length) throw new UsageError("give the component folder(s) to build (each holds index.ts and manifest.json), or --system FILE");
    if (values.out && positionals.length > 1) throw new UsageError("--out takes one DIR");
    jobs = positionals.map((dir) => ({ dir, out: values.out }));
  }
  const t0 = performance.now();
  // one at a time: asc is CPU-bound and this keeps the messages in order
  for (const j of jobs) {
    try {
      const r = await buildComponentDir(j.dir, j.out);
      const rel = relative(process.cwd(), r.out);
      process.stdout.write(`  ${rel.startsWith("..") ? r.out : rel}  ${r.bytes} B, ${r.globals} mutable globals exported  (${r.manifest.name}@${r.manifest.version})\n`);
    } catch (e) {
      if (e instanceof BuildInputError) throw new UsageError(e.message);
      process.stderr.write(`gsu: ${(e as Error).message.trimEnd()}\n`);
      return 1;
    }
  }
  process.stdout.write(`built ${jobs.length} component${jobs.length === 1 ? "" : "s"} in ${(performance.now() - t0).toFixed(0)} ms\n`);
  return 0;
}
