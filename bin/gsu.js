#!/usr/bin/env node
// GSU command-line entry point. A flashed board runs the compiled JavaScript that
// gsu flash lays next to this file (host/**/*.js, host/board/compile-js.ts): plain node,
// no TypeScript transpilation at start. The development tree has only the TypeScript
// sources and runs them through tsx (a runtime dependency, not a dev one).
import { existsSync } from 'node:fs';

// The oldest Node gsu runs on (package.json "engines"): 20.11 (import.meta.dirname;
// the BeagleBone's armv7l Node from npm is 20.11.0, tested by npm run test:arm -- --arch armhf).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 11)) {
  console.error(`gsu: needs Node.js 20.11 or newer; this is ${process.version} (${process.execPath}). Install a newer Node (https://nodejs.org, or your distribution's nodejs package).`);
  process.exit(1);
}

// A long in-process rehearsal (gsu rehearse, --links sim, the default) runs in a worker
// thread of this same process with a bounded V8 heap (host/cli is unchanged): V8 otherwise
// grows its young and old generations lazily up to its defaults and a 20,000-step run took
// 190-280 MB of RSS although what it keeps alive is a few tens of MB (issue 12). The limit
// grows with --steps; GSU_REHEARSE_HEAP_MB=N sets the old-generation limit, 0 turns the
// worker off. Running out of it ends the run with a message that says so (exit 3).
import { Worker, isMainThread, workerData } from 'node:worker_threads';
if (isMainThread) {
  const heapMb = rehearseHeapMb(process.argv.slice(2));
  if (heapMb > 0) process.exit(await runInWorker(heapMb, process.env.GSU_REHEARSE_HEAP_MB ? 'GSU_REHEARSE_HEAP_MB' : 'set from --steps'));
} else if (workerData?.gsuTty) {
  // the worker's stdout/stderr are relayed to this process's own: keep what they are
  for (const k of ['stdout', 'stderr']) {
    const t = workerData.gsuTty[k];
    if (t) Object.assign(process[k], { isTTY: true, columns: t.columns, rows: t.rows, hasColors: () => t.colors, getColorDepth: () => t.depth });
  }
}

function rehearseHeapMb(argv) {
  if (argv[0] !== 'rehearse') return 0;
  const opt = (name) => {
    let v;
    for (let i = 1; i < argv.length; i++) {
      if (argv[i] === '--') break;
      if (argv[i] === `--${name}`) v = argv[i + 1];
      else if (argv[i].startsWith(`--${name}=`)) v = argv[i].slice(name.length + 3);
    }
    return v;
  };
  const links = opt('links');
  if (links !== undefined && links !== 'sim') return 0;      // boards in their own processes
  if (argv.includes('--help') || argv.includes('-h')) return 0;
  const env = process.env.GSU_REHEARSE_HEAP_MB;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0) { console.error(`gsu: GSU_REHEARSE_HEAP_MB must be a whole number of MB (0 = no limit), not '${env}'`); process.exit(2); }
    return n;
  }
  const steps = Number(opt('steps') ?? 200);
  if (!Number.isInteger(steps) || steps <= 2000) return 0;  // short runs (and bad values: main reports them) as before
  // measured: 20,000 steps run in 48 MB of old generation; 64 MB plus 2 MB per further 1000 steps
  return 64 + Math.ceil(Math.max(0, steps - 20000) / 1000) * 2;
}

async function runInWorker(heapMb, from) {
  const tty = (s) => s.isTTY ? { columns: s.columns, rows: s.rows, colors: s.hasColors(), depth: s.getColorDepth() } : null;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
  }
  const w = new Worker(new URL(import.meta.url), {
    argv: process.argv.slice(2), stdout: false, stderr: false, stdin: false,
    workerData: { gsuTty: { stdout: tty(process.stdout), stderr: tty(process.stderr) } },
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 6 },
  });
  return await new Promise((resolve) => {
    let err = null;
    w.on('error', (e) => { err = e; });
    w.on('exit', (code) => {
      if (err?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        console.error(`gsu: the rehearsal ran out of its heap limit (${heapMb} MB of old generation, ${from}); run it again with a larger limit, e.g. GSU_REHEARSE_HEAP_MB=${heapMb * 2} gsu rehearse ..., or GSU_REHEARSE_HEAP_MB=0 for none`);
        resolve(3);
      } else if (err) {
        console.error(err);
        resolve(code || 1);
      } else resolve(code);
    });
  });
}

const compiled = new URL('../host/cli/main.js', import.meta.url);
let main;
if (existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  // Dynamic import: the loader must be registered first.
  ({ main } = await import('../host/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));

