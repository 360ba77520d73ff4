// gsu status: what a board runs and how its guarded operation stands.
import { parseCommandArgs, UsageError } from "./args.ts";
import { defaultIO, EXIT_HELP, KEY_HELP, KEY_OPTIONS, keyArgs, LINK_HELP, LINK_OPTIONS, linkArgs, telecommand, type GroundIO } from "../ground/cli.ts";

export const help = `Usage: gsu status --link SPEC --key FILE [options] [--json]

Asks the board (signed status telecommand) for its state: component versions,
slots, guarded operation, counters. Prints it as "key: value" lines, or with
--json the board's JSON as it is.

  --json              print the board's JSON reply, pretty-printed

${LINK_HELP}

${KEY_HELP}

${EXIT_HELP}`;

const scalar = (v: unknown) => v === null || typeof v !== "object";
const show = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));
const flat = (v: unknown): v is Record<string, unknown> => !scalar(v) && !Array.isArray(v) && Object.values(v as object).every(scalar);
const pairs = (o: Record<string, unknown>) => Object.entries(o).map(([a, b]) => `${a}=${show(b)}`).join(", ") || "{}";

/**
 * Renders any JSON value as indented "key: value" lines: short scalar lists and
 * small flat objects on one line, lists of strings or flat objects one item per
 * "- " line, anything deeper nested.
 */
export function formatStatus(v: unknown, indent = ""): string[] {
  if (scalar(v)) return [`${indent}${show(v)}`];
  if (Array.isArray(v)) {
    if (v.length === 0) return [`${indent}(none)`];
    if (v.every(scalar) || v.every(flat)) return v.map((x) => `${indent}- ${scalar(x) ? show(x) : pairs(x as Record<string, unknown>)}`);
    return v.flatMap((x, i) => [`${indent}[${i}]`, ...formatStatus(x, indent + "  ")]);
  }
  const out: string[] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (scalar(x)) out.push(`${indent}${k}: ${show(x)}`);
    else if (Array.isArray(x) && x.every(scalar) && x.map(show).join(", ").length <= 60) out.push(`${indent}${k}: ${x.map(show).join(", ") || "(none)"}`);
    else if (flat(x) && Object.keys(x).length <= 8 && pairs(x).length <= 80) out.push(`${indent}${k}: ${pairs(x)}`);
    else out.push(`${indent}${k}:`, ...formatStatus(x, indent + "  "));
  }
  return out;
}

export async function run(argv: string[], io: GroundIO = defaultIO()): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...LINK_OPTIONS, ...KEY_OPTIONS, json: { type: "boolean" } }, { allowPositionals: true });
  if (positionals.length) throw new UsageError(`status takes no arguments (got '${positionals.join(" ")}')`);
  const a = linkArgs("status", values);
  // with --json, stdout carries the JSON and nothing else: board events go to stderr
  const sessionIo = values.json ? { ...io, out: io.err } : io;
  return telecommand("status", "status", {}, a, keyArgs("status", values), sessionIo, (r) => {
    let j: unknown;
    try { j = JSON.parse(r.text); } catch {
      io.out(`board ${a.board} status (not JSON): ${r.text}\n`);
      return;
    }
    if (values.json) io.out(JSON.stringify(j, null, 2) + "\n");
    else io.out([`board ${a.board} on ${a.spec}:`, ...formatStatus(j, "  ")].join("\n") + "\n");
  });
}
