// gsu resync: a board whose telecommand replay state is corrupt refuses every
// telecommand (it fails closed); a signed resync telecommand, quoting the
// challenge the board drew at its start, gives it a new replay state.
import { parseCommandArgs, UsageError } from "./args.ts";
import { defaultIO, EXIT_HELP, KEY_HELP, KEY_OPTIONS, keyArgs, LINK_HELP, LINK_OPTIONS, linkArgs, withLink, type GroundIO } from "../ground/cli.ts";
import { NoReplyError } from "../ground/link.ts";
import { SeqError } from "../ground/seq.ts";

export const help = `Usage: gsu resync --link SPEC --target NAME --key FILE [--challenge HEX] [options]

Recovers a board whose replay state (STATE/telecommand-seq.json) is corrupt: such
a board refuses every telecommand ("replay-state-corrupt") and says so in an event
(REPLAY_STATE_CORRUPT) and in its status, with a challenge it drew at its start.
This command reads the challenge (from the board's refusal of a signed status
telecommand, unless --challenge gives it) and sends a signed resync telecommand
quoting it. The board then takes this key's sequence number as its last, and
refuses every telecommand signed before the resync (by any key), so nothing
captured before it can be replayed. A board whose replay state is sound answers
"nothing to resync".

  --challenge HEX     the board's challenge (32 hex digits), e.g. from gsu status

${LINK_HELP}

${KEY_HELP}

${EXIT_HELP}`;

export async function run(argv: string[], io: GroundIO = defaultIO()): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...LINK_OPTIONS, ...KEY_OPTIONS, challenge: { type: "string" } }, { allowPositionals: true });
  if (positionals.length) throw new UsageError(`resync takes no arguments (got '${positionals.join(" ")}')`);
  if (values.challenge !== undefined && !/^[0-9a-f]{32}$/.test(values.challenge)) throw new UsageError(`resync: --challenge must be 32 lower-case hex digits, not '${values.challenge}'`);
  const a = linkArgs("resync", values);
  const k = keyArgs("resync", values);
  return withLink("resync", a, io, async (s) => {
    const tc = (op: "status" | "resync", args: Record<string, unknown>) =>
      s.link.telecommand(op, args, { key: k.key, keyId: k.keyId, target: k.target, seqs: k.seqs, seq: undefined, timeoutMs: a.timeoutMs });
    try {
      let challenge = values.challenge;
      if (!challenge) {
        const st = await tc("status", {});
        if (st.status === "accepted") { io.out(`board ${a.board} accepts telecommands: its replay state is sound, nothing to resync\n`); return 0; }
        const m = /challenge ([0-9a-f]{32})/.exec(st.text);
        if (!m) { io.err(`gsu resync: board ${a.board} refused status #${st.sent}, but not for a corrupt replay state: ${st.text}\n`); return 1; }
        challenge = m[1];
      }
      const r = await tc("resync", { challenge });
      if (r.status === "accepted") { io.out(`board ${a.board} accepted resync #${r.sent}: ${r.text}\n`); return 0; }
      io.err(`gsu resync: board ${a.board} ${r.status === "failed" ? "could not carry out" : "refused"} resync #${r.sent}: ${r.text}\n`);
      return 1;
    } catch (e) {
      if (e instanceof NoReplyError || e instanceof SeqError) { io.err(`gsu resync: ${e.message}\n`); return 3; }
      throw e;
    }
  });
}
