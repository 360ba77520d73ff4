// The `gsu` command line: global options, help, and subcommand dispatch.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { commands, type Command } from './commands.ts';
import { UsageError, isParseArgsError, isIoError, parseArgsMessage, EXIT, EXIT_STATUS_HELP } from './args.ts';

const PROG = 'gsu';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function usage(): string {
  const names = Object.keys(commands).sort();
  const width = Math.max(4, ...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${commands[n]!.summary}`);
  lines.push(`  ${'help'.padEnd(width)}  Show help for gsu or for one command.`);
  return [
    `Usage: ${PROG} <command> [options]`,
    '',
    'GSU: guarded software upgrades (MDCD protocol) for distributed embedded systems.',
    '',
    'Commands:',
    ...lines,
    '',
    'Options:',
    '  -h, --help     Show this help.',
    '  -v, --version  Show the gsu version.',
    '',
    `Run '${PROG} <command> --help' for help on one command.`,
    '',
    EXIT_STATUS_HELP,
  ].join('\n');
}

async function commandUsage(name: string, cmd: Command): Promise<string> {
  const extra = await cmd.help();
  // a command's help that has its own usage line says it once
  if (extra && /^Usage: /.test(extra.trimStart())) {
    return /Exit status/.test(extra) ? extra.trimEnd() : [extra.trimEnd(), '', 'Exit status: 0 ok, 1 failed, 2 bad usage, 3 I/O or device error (gsu --help).'].join('\n');
  }
  const head = [`Usage: ${PROG} ${name} [options]`, '', cmd.summary];
  return (extra ? [...head, '', extra.trimEnd()] : head).join('\n');
}

function lookup(name: string): Command {
  const cmd = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!cmd) {
    throw new UsageError(
      `unknown command '${name}'. Known commands: ${Object.keys(commands).sort().join(', ')}, help.`,
    );
  }
  return cmd;
}

/** True if argv asks for help before any `--` separator. */
function wantsHelp(argv: string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '-h' || a === '--help') return true;
  }
  return false;
}

async function dispatch(argv: string[]): Promise<number> {
  // Global options are those before the first positional (the command name).
  const first = argv.findIndex((a) => !a.startsWith('-') || a === '-');
  const globalArgs = first === -1 ? argv : argv.slice(0, first);
  const rest = first === -1 ? [] : argv.slice(first);

  const { values } = parseArgs({
    args: globalArgs,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(usage());
    return 0;
  }
  if (values.version) {
    console.log(version());
    return 0;
  }
  if (rest.length === 0) {
    throw new UsageError('missing command.');
  }

  const [name, ...cmdArgs] = rest as [string, ...string[]];
  if (name === 'help') {
    if (cmdArgs.length === 0) {
      console.log(usage());
    } else {
      const target = cmdArgs[0]!;
      console.log(await commandUsage(target, lookup(target)));
    }
    return 0;
  }
  const cmd = lookup(name);
  if (wantsHelp(cmdArgs)) {
    console.log(await commandUsage(name, cmd));
    return 0;
  }
  return cmd.run(cmdArgs);
}

/** Runs the CLI and returns its exit status (0 ok, 1 the thing checked failed, 2 bad usage, 3 I/O or device error). */
// A reader that stops early (`gsu rehearse | head`) closes the pipe: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => { if (e.code === "EPIPE") process.exit(0); throw e; });
}

export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      console.error(`${PROG}: ${err instanceof UsageError ? err.message : parseArgsMessage(err, argv)}`);
      console.error(`Run '${PROG} --help' for usage.`);
      return EXIT.USAGE;
    }
    if (isIoError(err)) {
      if (process.env.GSU_DEBUG) console.error(err);
      else console.error(`${PROG}: ${err instanceof Error ? err.message : String(err)}`);
      return EXIT.IO;
    }
    if (process.env.GSU_DEBUG) {
      console.error(err);
    } else {
      console.error(`${PROG}: error: ${err instanceof Error ? err.message : String(err)}`);
      console.error('(set GSU_DEBUG=1 for a stack trace)');
    }
    return 1;
  }
}
