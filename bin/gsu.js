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
