// gsu commit: end guarded operation by hand, keeping the new versions.
import { parseCommandArgs, UsageError } from "./args.ts";
import { defaultIO, EXIT_HELP, KEY_HELP, KEY_OPTIONS, keyArgs, LINK_HELP, LINK_OPTIONS, linkArgs, telecommand, type GroundIO } from "../ground/cli.ts";

export const help = `Usage: gsu commit --link SPEC --key FILE [options]

Commits the guarded upgrade running on the board now: the old versions are
retired and the protocol memory is freed (the board also commits by itself after
its configured number of passed ATs and quiet time).

${LINK_HELP}

${KEY_HELP}

${EXIT_HELP}`;

export async function run(argv: string[], io: GroundIO = defaultIO()): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...LINK_OPTIONS, ...KEY_OPTIONS }, { allowPositionals: true });
  if (positionals.length) throw new UsageError(`commit takes no arguments (got '${positionals.join(" ")}')`);
  return telecommand("commit", "commit", {}, linkArgs("commit", values), keyArgs("commit", values), io);
}
