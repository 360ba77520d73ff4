// Shared argument-parsing helpers for gsu subcommands.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * A mistake in how the CLI was invoked (unknown subcommand, bad option,
 * missing argument). main() prints its message without a stack trace and
 * exits with status 2.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * An I/O or device error: a file or port that cannot be opened, a board that does not
 * reply, a missing interface. main() prints its message and exits with status 3.
 */
export class IoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IoError';
  }
}

/** The exit statuses of every gsu command (documented once: gsu --help, README). */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, IO: 3 } as const;

export const EXIT_STATUS_HELP = `Exit status (every command):
  0  ok
  1  the thing checked failed: a rehearsal's verdict is FAIL, an image fails
     verification, a board refused or rejected a command
  2  bad usage: an unknown option, a missing or contradictory argument
  3  an I/O or device error: a file, port or interface missing or unreadable,
     a board that does not reply`;

/** errno codes that make an error an I/O error (exit 3) wherever it was thrown. */
const IO_CODES = /\b(ENOENT|EACCES|EPERM|EISDIR|ENOTDIR|EIO|ENXIO|ENODEV|EBUSY|ETIMEDOUT|ECONNREFUSED|ECONNRESET|EPIPE|ENOSPC|EROFS)\b/;

/** True for an I/O or device error: IoError, a system error, or a link's no-reply error. */
export function isIoError(err: unknown): boolean {
  if (err instanceof IoError) return true;
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && IO_CODES.test(code)) return true;
  if (err.name === 'NoReplyError' || err.constructor?.name === 'NoReplyError') return true;
  return IO_CODES.test(err.message);
}

/** True for the errors node:util parseArgs throws on bad input. */
export function isParseArgsError(err: unknown): err is Error & { code: string } {
  if (!(err instanceof Error)) return false;
  const code: unknown = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/**
 * parseArgs with strict checking, whose failures become UsageErrors.
 * Subcommands should use this so a bad option exits 2 with a clear message.
 */
export function parseCommandArgs<T extends ParseArgsConfig['options']>(
  argv: string[],
  options: T,
  { allowPositionals = false }: { allowPositionals?: boolean } = {},
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    if (isParseArgsError(err)) throw new UsageError(parseArgsMessage(err, argv));
    throw err;
  }
}

/** parseArgs's message in gsu's words: a value that starts with '-' (a negative number) says what to do. */
export function parseArgsMessage(err: Error, argv: string[]): string {
  const m = /^Option '(-{1,2}[^' ]+)(?: <value>)?' argument is ambiguous/.exec(err.message);
  if (m) {
    const i = argv.indexOf(m[1]);
    const v = i >= 0 ? argv[i + 1] : undefined;
    if (v !== undefined && /^-\d/.test(v)) return `${m[1]} must not be negative, not '${v}'`;
    return `${m[1]} needs a value${v !== undefined ? `, and '${v}' looks like an option (for a value starting with '-', write ${m[1]}=${v})` : ""}`;
  }
  const n = /^Option '(-{1,2}[^' ]+)(?: <value>)?' argument missing/.exec(err.message);
  if (n) return `${n[1]} needs a value`;
  return err.message;
}
