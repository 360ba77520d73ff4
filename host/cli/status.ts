// gsu status: what a board runs and how its guarded operation stands.
import { parseCommandArgs, UsageError } from "./args.ts";
import { defaultIO, EXIT_HELP, KEY_HELP, KEY_OPTIONS, keyArgs, LINK_HELP, LINK_OPTIONS, linkArgs, telecommand, withLink, type GroundIO } from "../ground/cli.ts";
import { M } from "../board/mgmt.ts";
import { decodeStatusReply, encodeStatusQuery, loadStatusKey } from "../board/status-query.ts";

export const help = `Usage: gsu status --link SPEC --target NAME [--status-key FILE] [options] [--json]
       gsu status --link SPEC --target NAME --key FILE [options] [--json]

Asks the board for its state: component versions, slots, guarded operation,
counters, whether it accepts telecommands. Prints it as "key: value" lines, or
with --json the board's JSON as it is.

Without --key it sends a read-only status query, which needs no signing key:
the board answers it if its profile says "status": "open", or "key:FILE" and
--status-key gives that file (gsu keygen --status-key); with "signed" (the
default) it refuses and says so. With --key it sends a signed status telecommand,
which every board answers.

  --json              print the board's JSON reply, pretty-printed
  --status-key FILE   the board's read-only status key (64 hex digits)

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
  const { values, positionals } = parseCommandArgs(argv, { ...LINK_OPTIONS, ...KEY_OPTIONS, json: { type: "boolean" }, "status-key": { type: "string" } }, { allowPositionals: true });
  if (positionals.length) throw new UsageError(`status takes no arguments (got '${positionals.join(" ")}')`);
  const a = linkArgs("status", values);
  // with --json, stdout carries the JSON and nothing else: board events go to stderr
  const sessionIo = values.json ? { ...io, out: io.err } : io;
  const print = (text: string) => {
    let j: unknown;
    try { j = JSON.parse(text); } catch {
      io.out(`board ${a.board} status (not JSON): ${text}\n`);
      return;
    }
    if (values.json) io.out(JSON.stringify(j, null, 2) + "\n");
    else io.out([`board ${a.board} on ${a.spec}:`, ...formatStatus(j, "  ")].join("\n") + "\n");
  };
  if (values.key !== undefined) {
    if (values["status-key"] !== undefined) throw new UsageError("status: give --key (signed telecommand) or --status-key (read-only query), not both");
    return telecommand("status", "status", {}, a, keyArgs("status", values), sessionIo, (r) => print(r.text));
  }
  // read-only: no signing key
  if (!values.target) throw new UsageError("status: --target NAME is required (the board's profile name; the query names the board it is for)");
  let key: Buffer | undefined;
  if (values["status-key"] !== undefined) {
    try { key = loadStatusKey(values["status-key"]); } catch (e) { throw new UsageError(`status: --status-key: ${(e as Error).message}`); }
  }
  const target = values.target;
  return withLink("status", a, sessionIo, (s) => new Promise<number>((resolve) => {
    const { body, nonce } = encodeStatusQuery(target, { key });
    const hex = Buffer.from(nonce).toString("hex");
    const done = (n: number) => { clearTimeout(timer); off(); resolve(n); };
    const off = s.link.on(M.STATUS_R, (b) => {
      let r;
      try { r = decodeStatusReply(b); } catch { return; }
      if (Buffer.from(r.nonce).toString("hex") !== hex) return;
      if (r.ok) { print(r.text); done(0); return; }
      io.err(`gsu status: board ${a.board} refused the read-only status query: ${r.text}\n`);
      done(1);
    });
    const timer = setTimeout(() => {
      io.err(`gsu status: ${s.link.noReply(a.timeoutMs, "status reply")} (a read-only query for another --target is ignored, and a board answers at most 4 a second)\n`);
      done(3);
    }, a.timeoutMs);
    s.link.send(M.STATUS_Q, body);
  }));
}
