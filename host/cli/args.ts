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
    if (isParseArgsError(err)) throw new UsageError(err.message);
    throw err;
  }
}
