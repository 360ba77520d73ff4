// What the ground commands (gsu upload, upgrade, commit, abort, fault, status)
// share: link, board and key options, opening the link, printing the board's
// events while a command runs, and turning a telecommand reply into an exit
// status (0 accepted, 1 refused or failed, 2 bad arguments via UsageError).
import type { KeyObject } from "node:crypto";
import { basename } from "node:path";
import { IoError, UsageError } from "../cli/args.ts";
import { KEY_ID } from "../board/image.ts";
import { KeyError, loadPrivateKey } from "../board/keys.ts";
import type { Opcode } from "../board/telecommand.ts";
import { GroundStation } from "../telemetry/ground.ts";
import { DictionaryError, loadDictionary, type EventRecord } from "../telemetry/dictionary.ts";
import { LinkSpecError } from "../transport/open.ts";
import { openGroundLink } from "./relay.ts";
import type { Transport } from "../transport/types.ts";
import { DEFAULT_BOARD_NODE, DEFAULT_GROUND_NODE, DEFAULT_TIMEOUT_MS, GroundLink, NoReplyError, type TcReply } from "./link.ts";
import { SeqError, SeqStore, seqFileFor } from "./seq.ts";

/** Where a ground command does its I/O; tests pass their own. */
export interface GroundIO {
  open(spec: string, node: number): Promise<Transport>;
  out(s: string): void;
  err(s: string): void;
  /** stdout is a terminal: progress bar in place instead of lines. */
  tty: boolean;
  columns?: number;
  /** Aborts a running command (SIGINT); default: one made by the command. */
  signal?: AbortSignal;
}

export function defaultIO(): GroundIO {
  return {
    // through the ground server for this link when one runs (gsu ground), else the device
    open: (spec, node) => openGroundLink(spec, node),
    out: (s) => { process.stdout.write(s); },
    err: (s) => { process.stderr.write(s); },
    tty: !!process.stdout.isTTY,
    columns: process.stdout.columns,
  };
}

export const LINK_OPTIONS = {
  link: { type: "string" }, board: { type: "string" }, node: { type: "string" }, timeout: { type: "string" },
  watch: { type: "string" }, dictionary: { type: "string" },
} as const;
export const KEY_OPTIONS = { key: { type: "string" }, "key-id": { type: "string" }, seq: { type: "string" }, target: { type: "string" } } as const;

export const LINK_HELP = `Link options:
  --link SPEC         the link to the board (required):
                        serial:/dev/ttyUSB0@115200   serial, COBS-framed (PTYs too)
                        slcan:/dev/ttyACM0@500000    CAN through a USB-CAN adapter
                        can0                         SocketCAN
  --board N           the board's node id on the link (default ${DEFAULT_BOARD_NODE})
  --node N            this ground station's node id (default ${DEFAULT_GROUND_NODE}); the board
                      replies to it (gsu board --ground N must match)
  --timeout S         seconds to wait for the board (default ${DEFAULT_TIMEOUT_MS / 1000})
  --watch S           afterwards, keep printing the board's events for S seconds
  --dictionary FILE   telemetry dictionary for decoding events (default
                      hardware/dictionary.json)`;

export const KEY_HELP = `Telecommand options:
  --key FILE          Ed25519 private key from gsu keygen (required); the board must
                      trust its .pub
  --key-id ID         the key id the board knows it by (default: the file name
                      without .key)
  --target NAME       the target board's name (its profile's "name"; required): the
                      command is signed for that board only, and every other board
                      refuses it
  --seq N             use sequence number N instead of the next one (to resync after
                      restoring a key file; the board refuses N not above the last
                      it accepted from this key)

Sequence numbers: each telecommand carries the next number for its key id and
target board, kept in KEY.seq next to the key (e.g. keys/ground-1.key.seq holds
{"ground-1@pi-1": 17}). It is written before the
command is sent, so a number is never used twice.`;

export const EXIT_HELP = `Exit status: 0 accepted, 1 refused or failed by the board (its reason is printed),
2 bad arguments, 3 the link cannot be opened or the board does not reply.`;

export interface LinkArgs { spec: string; board: number; node: number; timeoutMs: number; watchMs: number; dictionary?: string }
export interface KeyArgs { keyFile: string; key: KeyObject; keyId: string; target: string; seqs: SeqStore; seq?: number }

function nodeId(v: string | undefined, opt: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) > 254) throw new UsageError(`--${opt} must be a node id 0..254 (0..127 on CAN), not '${v}'`);
  return Number(v);
}

function seconds(v: string | undefined, opt: string, dflt: number, positive = false): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0 || (positive && n === 0)) {
    throw new UsageError(`--${opt} must be a number of seconds${positive ? " above 0" : " >= 0"}, not '${v}'`);
  }
  return Math.round(n * 1000);
}

export function linkArgs(cmd: string, v: { link?: string; board?: string; node?: string; timeout?: string; watch?: string; dictionary?: string }): LinkArgs {
  if (!v.link) throw new UsageError(`${cmd}: --link SPEC is required (e.g. --link serial:/dev/ttyUSB0@115200, --link can0)`);
  const board = nodeId(v.board, "board", DEFAULT_BOARD_NODE);
  const node = nodeId(v.node, "node", DEFAULT_GROUND_NODE);
  if (board === node) throw new UsageError(`${cmd}: --board and --node are both ${board}; the ground needs its own node id on the link`);
  return { spec: v.link, board, node, timeoutMs: seconds(v.timeout, "timeout", DEFAULT_TIMEOUT_MS, true), watchMs: seconds(v.watch, "watch", 0), dictionary: v.dictionary };
}

export function keyArgs(cmd: string, v: { key?: string; "key-id"?: string; seq?: string; target?: string }): KeyArgs {
  if (!v.key) throw new UsageError(`${cmd}: --key FILE is required: telecommands are signed (make a key with gsu keygen, put its .pub in the board's profile)`);
  const keyId = v["key-id"] ?? basename(v.key).replace(/\.key$/, "");
  if (!KEY_ID.test(keyId)) throw new UsageError(`${cmd}: key id ${JSON.stringify(keyId)} must be 1-64 characters of A-Z a-z 0-9 . _ -; pass --key-id`);
  let seq: number | undefined;
  if (v.seq !== undefined) {
    if (!/^\d+$/.test(v.seq) || Number(v.seq) < 1 || Number(v.seq) > 0xffffffff) throw new UsageError(`${cmd}: --seq must be an integer 1..4294967295, not '${v.seq}'`);
    seq = Number(v.seq);
  }
  let key: KeyObject;
  try { key = loadPrivateKey(v.key); } catch (e) {
    if (e instanceof KeyError) throw /^cannot read/.test(e.message) ? new IoError(`${cmd}: --key: ${e.message}`) : new UsageError(`${cmd}: --key: ${e.message}`);
    throw e;
  }
  if (!v.target) throw new UsageError(`${cmd}: --target NAME is required: a telecommand is signed for one board (the name in its profile, e.g. --target pi-1), and the others refuse it`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(v.target)) throw new UsageError(`${cmd}: --target must be a board name (letters, digits, '_', '.', '-', at most 32), not '${v.target}'`);
  return { keyFile: v.key, key, keyId, target: v.target, seqs: new SeqStore(seqFileFor(v.key)), seq };
}

export interface Session {
  link: GroundLink;
  station: GroundStation;
  /** Events from the board seen so far. */
  events: EventRecord[];
  /** A line drawn in place (the upload bar): cleared before an event line is printed, redrawn after. */
  inPlace?: { clear(): void; redraw(): void };
  signal: AbortSignal;
}

/**
 * Opens the link, runs `f`, then keeps printing events for --watch seconds and
 * closes the link. Problems opening the link: bad spec exits 2, a device that
 * cannot be opened exits 3 with the transport's message.
 */
export async function withLink(cmd: string, a: LinkArgs, io: GroundIO, f: (s: Session) => Promise<number>): Promise<number> {
  let dict;
  try { dict = loadDictionary(a.dictionary); } catch (e) { if (e instanceof DictionaryError) throw new UsageError(`${cmd}: ${e.message}`); throw e; }
  const ac = new AbortController();
  const signal = io.signal ? AbortSignal.any([io.signal, ac.signal]) : ac.signal;
  const onSig = () => ac.abort();
  if (!io.signal) process.once("SIGINT", onSig);
  let transport: Transport;
  try {
    transport = await io.open(a.spec, a.node);
  } catch (e) {
    if (!io.signal) process.off("SIGINT", onSig);
    if (e instanceof LinkSpecError) throw new UsageError(`${cmd}: ${e.message}`);
    io.err(`gsu ${cmd}: cannot open the link ${a.spec}: ${openFailure(e)}\n`);
    return 3;
  }
  const events: EventRecord[] = [];
  let session: Session;
  const station = new GroundStation({
    dict, keepHex: false,
    onRecord(r) {
      if (r.type !== "event" || r.node !== a.board) return;
      events.push(r);
      session.inPlace?.clear();
      io.out(eventLine(r) + "\n");
      session.inPlace?.redraw();
    },
  });
  const link = new GroundLink(transport, { board: a.board, spec: a.spec, station });
  session = { link, station, events, signal };
  try {
    const status = await f(session);
    if (a.watchMs > 0 && !signal.aborted) {
      await new Promise<void>((res) => {
        const t = setTimeout(res, a.watchMs);
        signal.addEventListener("abort", () => { clearTimeout(t); res(); }, { once: true });
      });
    }
    return status;
  } finally {
    if (!io.signal) process.off("SIGINT", onSig);
    await link.close();
  }
}

/** A transport's open failure, without its "Retrying ..." (a ground command gives up instead). */
export function openFailure(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s*Retrying \(backoff[^)]*\) until it appears\.$/, "");
}

/**
 * One board event as a line: "event 14:03:07.412 board 1 WARNING_HI TAKEOVER: takeover: old estimator is active".
 * Boards stamp events with Unix time (µs); a small stamp (a board clock since boot) is shown in seconds.
 */
export function eventLine(e: EventRecord): string {
  const t = e.t_us > 1e15 ? new Date(e.t_us / 1000).toISOString().slice(11, 23) : `${(e.t_us / 1e6).toFixed(3)} s`;
  return `event ${t} board ${e.node} ${e.severity} ${e.event}: ${e.text}`;
}

const seqHint = (k: KeyArgs) =>
  `\n  The ground's last number for key id ${k.keyId} and board ${k.target} is ${k.seqs.last(SeqStore.scoped(k.keyId, k.target))} (in ${k.seqs.file}). If the board has accepted higher ones ` +
  `(the file was restored from a backup, or another ground station uses this key), pass --seq N with N above the board's last.`;

/**
 * Sends one telecommand and reports the reply: accepted -> `accepted(reply)`
 * prints (default: the board's text) and exit 0; refused or failed -> the
 * board's reason on stderr and exit 1; no reply -> what to check, exit 1.
 */
export async function telecommand(
  cmd: string, op: Opcode, args: Record<string, unknown>, a: LinkArgs, k: KeyArgs, io: GroundIO,
  accepted: (r: TcReply & { sent: number }, s: Session) => void = (r) => io.out(`board ${a.board} accepted ${op} #${r.sent}${r.text ? `: ${r.text}` : ""}\n`),
): Promise<number> {
  return withLink(cmd, a, io, async (s) => {
    let r: TcReply & { sent: number };
    try {
      r = await s.link.telecommand(op, args, { key: k.key, keyId: k.keyId, target: k.target, seqs: k.seqs, seq: k.seq, timeoutMs: a.timeoutMs });
    } catch (e) {
      if (e instanceof NoReplyError || e instanceof SeqError) { io.err(`gsu ${cmd}: ${e.message}\n`); return 3; }
      throw e;
    }
    switch (r.status) {
      case "accepted":
        accepted(r, s);
        return 0;
      case "refused":
        io.err(`gsu ${cmd}: board ${a.board} refused ${op} #${r.sent}: ${r.text || "(no reason given)"}${/replay|not newer/i.test(r.text) ? seqHint(k) : ""}\n`);
        return 1;
      case "failed":
        io.err(`gsu ${cmd}: board ${a.board} accepted ${op} #${r.sent} but could not carry it out: ${r.text || "(no reason given)"}\n`);
        return 1;
      default:
        io.err(`gsu ${cmd}: board ${a.board} answered ${op} #${r.sent} with status ${r.code}, which this gsu does not know (0 accepted, 1 refused, 2 failed): ${r.text}\n`);
        return 1;
    }
  });
}

/** NAME@VERSION (estimator@2.0.0). */
export function parseComponentAt(s: string, what: string): { name: string; version: string } {
  const m = /^([a-z][a-z0-9_-]*)@((0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?)$/.exec(s);
  if (!m) throw new UsageError(`${what} must look like estimator@2.0.0 (component name @ semantic version), not '${s}'`);
  return { name: m[1], version: m[2] };
}
