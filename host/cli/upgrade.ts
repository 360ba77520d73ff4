// gsu upgrade: start guarded operation on a board (signed telecommand).
import { parseCommandArgs, UsageError } from "./args.ts";
import { defaultIO, EXIT_HELP, KEY_HELP, KEY_OPTIONS, keyArgs, LINK_HELP, LINK_OPTIONS, linkArgs, parseComponentAt, telecommand, type GroundIO } from "../ground/cli.ts";

export const help = `Usage: gsu upgrade --link SPEC --key FILE [options] NAME@VERSION...

Starts guarded operation on the board: the named versions (already uploaded with
gsu upload) run beside the old ones, their acceptance tests are checked, and the
board commits after enough passed ATs (or gsu commit), or rolls back to the old
versions on a failure. Every rollback and takeover is reported as an event.

  --allow-downgrade   accept versions older than (or equal to) the running ones; the
                      board refuses a downgrade without it, naming the component

Example:
  gsu upgrade --link serial:/dev/ttyUSB0@115200 --key keys/ground-1.key estimator@2.0.0 controller@2.0.0

${LINK_HELP}

${KEY_HELP}

${EXIT_HELP}`;

export async function run(argv: string[], io: GroundIO = defaultIO()): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...LINK_OPTIONS, ...KEY_OPTIONS, "allow-downgrade": { type: "boolean" } }, { allowPositionals: true });
  if (positionals.length === 0) throw new UsageError("upgrade: name the components to upgrade, e.g. estimator@2.0.0 controller@2.0.0");
  const components: Record<string, string> = {};
  for (const p of positionals) {
    const { name, version } = parseComponentAt(p, "upgrade: each component");
    if (Object.hasOwn(components, name)) throw new UsageError(`upgrade: ${name} is named twice (${name}@${components[name]} and ${p})`);
    components[name] = version;
  }
  const a = linkArgs("upgrade", values);
  const k = keyArgs("upgrade", values);
  const args = values["allow-downgrade"] ? { components, allowDowngrade: true } : { components };
  return telecommand("upgrade", "upgrade", args, a, k, io, (r) => {
    io.out(`board ${a.board} accepted upgrade #${r.sent} (${Object.entries(components).map(([n, v]) => `${n}@${v}`).join(", ")})${r.text ? `: ${r.text}` : ""}\n`);
  });
}
