// gsu fault: fault injection by telecommand (rehearsals, HIL tests).
import { parseCommandArgs, UsageError } from "./args.ts";
import { defaultIO, EXIT_HELP, KEY_HELP, KEY_OPTIONS, keyArgs, LINK_HELP, LINK_OPTIONS, linkArgs, telecommand, type GroundIO } from "../ground/cli.ts";

export const help = `Usage: gsu fault --link SPEC --key FILE [options] COMPONENT@STEP

Injects a fault into the new version of COMPONENT on the board at its step STEP
(e.g. estimator@120), to rehearse detection, rollback and takeover. Watch the
board's events with --watch S or gsu telemetry.

Example:
  gsu fault --link serial:/dev/ttyUSB0@115200 --key keys/ground-1.key --watch 10 estimator@120

${LINK_HELP}

${KEY_HELP}

${EXIT_HELP}`;

export async function run(argv: string[], io: GroundIO = defaultIO()): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...LINK_OPTIONS, ...KEY_OPTIONS }, { allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError(`fault: give one COMPONENT@STEP, e.g. estimator@120${positionals.length ? ` (got '${positionals.join(" ")}')` : ""}`);
  const m = /^([a-z][a-z0-9_-]*)@(\d+)$/.exec(positionals[0]);
  if (!m || !Number.isSafeInteger(Number(m[2]))) throw new UsageError(`fault: '${positionals[0]}' must look like estimator@120 (component name @ step number)`);
  const comp = m[1], step = Number(m[2]);
  const a = linkArgs("fault", values);
  return telecommand("fault", "fault", { comp, step }, a, keyArgs("fault", values), io, (r) => {
    io.out(`board ${a.board} accepted fault #${r.sent}: ${comp} faults at step ${step}${r.text ? ` (${r.text})` : ""}\n`);
  });
}
