#!/usr/bin/env node
// GSU command-line entry point. The CLI is written in TypeScript and run
// through tsx at runtime (tsx is a runtime dependency, not a dev one).
import { register } from 'tsx/esm/api';

register();

// Dynamic import: a static one would be hoisted above register().
const { main } = await import('../host/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
