// gsu abort: end guarded operation by hand, going back to the old versions.
import { parseCommandArgs, UsageError } from "./args.ts";
import { defaultIO, EXIT_HELP, KEY_HELP, KEY_OPTIONS, keyArgs, LINK_HELP, LINK_OPTIONS, linkArgs, telecommand, type GroundIO } from "../ground/cli.ts";

export const help = `Usage: gsu abort --link SPEC --key FILE [options]

Aborts the guarded upgrade running on the board now: the new versions are
retired and the old ones carry on (the board reports it as events).

${LINK_HELP}

${KEY_HELP}

${EXIT_HELP}`;

export async function run(argv: string[], io: GroundIO = defaultIO()): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...LINK_OPTIONS, ...KEY_OPTIONS }, { allowPositionals: true });
  if (positionals.length) throw new UsageError(`abort takes no arguments (got '${positionals.join(" ")}')`);
  return telecommand("abort", "abort", {}, linkArgs("abort", values), keyArgs("abort", values), io);
}
