#!/usr/bin/env node
// Project test runner: builds the AssemblyScript core, runs the as-pect specs
// (assembly/__tests__/*.spec.ts) and the vitest suites (test/**/*.test.ts),
// streaming each runner's output live, then prints combined totals. The very
// last line is always exactly `N passed, N failed`.
//
// Exit status is non-zero if any test failed or any runner crashed (a crashed
// runner — non-zero exit without a parsable failure count — counts as at
// least one failure). All runners run even if an earlier one fails.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const resultsDir = path.join(root, 'test-results');
const vitestJson = path.join(resultsDir, 'vitest.json');
const colour = process.stdout.isTTY && !process.env.NO_COLOR;

// eslint-disable-next-line no-control-regex
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

/** Runs a command, teeing its output to ours; resolves to {code, output}. */
function run(label, cmd, args, extraEnv = {}) {
  process.stdout.write(`\n=== ${label}: ${[path.basename(cmd), ...args].join(' ')}\n`);
  return new Promise((resolve) => {
    let output = '';
    const env = { ...process.env, ...extraEnv };
    if (colour) env.FORCE_COLOR ??= '1';
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => {
      output += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      output += d;
      process.stderr.write(d);
    });
    child.on('error', (err) => {
      process.stderr.write(`${label}: could not start: ${err.message}\n`);
      resolve({ code: 127, output });
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

const results = []; // {name, passed, failed, skipped, note}

function record(name, passed, failed, skipped, code, note = '') {
  if (code !== 0 && failed === 0) {
    failed = 1; // crashed, or failed without reporting a failed test
    note ||= `exited with status ${code}`;
  }
  results.push({ name, passed, failed, skipped, note });
}

// (a) Build the wasm core (debug + release).
{
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const { code } = await run('asbuild', npm, ['run', '--silent', 'asbuild']);
  record('asbuild', 0, 0, 0, code, code === 0 ? '' : 'build failed');
}

// (b) as-pect specs. Its summary reporter prints `[Tests]: P / T`.
{
  const asp = path.join(root, 'node_modules', '@as-pect', 'cli', 'bin', 'asp.js');
  const { code, output } = await run('as-pect', process.execPath, [
    asp,
    '--config',
    'as-pect.config.js',
    '--no-logo',
  ]);
  const text = stripAnsi(output);
  const m = /\[Tests\]:\s*(\d+)\s*\/\s*(\d+)/.exec(text);
  if (m) {
    const passed = Number(m[1]);
    const total = Number(m[2]);
    record('as-pect', passed, total - passed, 0, code);
  } else {
    // No summary: as-pect stopped early (e.g. a spec failed to compile). Keep
    // the per-file counts (`<file> Pass: P / T`) of the specs that did run.
    let passed = 0;
    let failed = 0;
    for (const f of text.matchAll(/\.ts Pass:\s*(\d+)\s*\/\s*(\d+)/g)) {
      passed += Number(f[1]);
      failed += Number(f[2]) - Number(f[1]);
    }
    record('as-pect', passed, failed + 1, 0, code || 1, 'stopped before its summary (crashed?)');
  }
}

// (c) vitest, with its JSON reporter written alongside the default one.
{
  mkdirSync(resultsDir, { recursive: true });
  rmSync(vitestJson, { force: true });
  const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const { code } = await run('vitest', process.execPath, [
    vitest,
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${vitestJson}`,
  ]);
  let report;
  try {
    report = JSON.parse(readFileSync(vitestJson, 'utf8'));
  } catch {
    report = undefined;
  }
  if (report) {
    const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    // A suite that fails to load (syntax error, throwing import) has no tests.
    const brokenSuites = (report.testResults ?? []).filter(
      (s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0,
    ).length;
    record('vitest', report.numPassedTests ?? 0, (report.numFailedTests ?? 0) + brokenSuites, skipped, code);
  } else {
    record('vitest', 0, 0, 0, code || 1, 'no JSON report (crashed?)');
  }
}

const total = results.reduce(
  (t, r) => ({ passed: t.passed + r.passed, failed: t.failed + r.failed, skipped: t.skipped + r.skipped }),
  { passed: 0, failed: 0, skipped: 0 },
);

process.stdout.write('\n=== summary\n');
for (const r of results) {
  const parts = [`${r.passed} passed`, `${r.failed} failed`];
  if (r.skipped) parts.push(`${r.skipped} skipped`);
  process.stdout.write(`${r.name.padEnd(8)} ${parts.join(', ')}${r.note ? `  (${r.note})` : ''}\n`);
}
if (total.skipped) process.stdout.write(`${total.skipped} skipped\n`);
process.stdout.write(`${total.passed} passed, ${total.failed} failed\n`);
process.exitCode = total.failed > 0 ? 1 : 0;
