// gsu upload: send a signed image to a board over the link, resumably.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseCommandArgs, UsageError } from "./args.ts";
import { IMAGE_MAGIC, IMAGE_PREFIX } from "../board/image.ts";
import { imageId } from "../board/upload.ts";
import { defaultIO, KEY_OPTIONS, keyArgs, LINK_HELP, LINK_OPTIONS, linkArgs, withLink, type GroundIO } from "../ground/cli.ts";
import { SeqError } from "../ground/seq.ts";
import { fmtSeconds, NoReplyError } from "../ground/link.ts";
import { fmtBytes, fmtRate, ProgressDisplay } from "../ground/progress.ts";
import { uploadImage, UploadStalledError } from "../ground/upload.ts";

export const help = `Usage: gsu upload --link SPEC [--board N] [--node N] [--key FILE --target NAME] [options] IMAGE.gsui

Sends a signed image (gsu sign) to the board in chunks, each with its own CRC,
and prints the board's verdict: accepted (staged in an inactive slot, ready for
gsu upgrade) or rejected with the reason (signature, tampering, unknown key,
downgrade, interface leak, ...). The running version is never touched.

Resumable: the board keeps what it received. If the upload is interrupted (link
lost, Ctrl-C), run the same command again; it asks the board what it holds and
sends only the rest.

Progress: on a terminal, a bar with bytes, rate and time left, updated in place.
Otherwise one line at every 10% (--quiet: none).

Authorisation: a board whose profile has "uploads": "signed" (the default) accepts
an upload only after a signed upload telecommand naming the image (its sha256 and
size): give --key FILE and --target NAME (and --key-id, --seq as for gsu upgrade),
and gsu upload sends it first.

Options:
  --key FILE          sign an upload telecommand for this image first (see above)
  --target NAME       the target board's name (its profile's "name"), with --key
  --chunk BYTES       data bytes per chunk frame (default 1024; 16..65536)
  --window N          chunks in flight before an acknowledgement (default 8)
  --quiet             no progress display

${LINK_HELP}
  (--timeout also bounds how long the board may acknowledge nothing mid-upload)

Exit status: 0 accepted, 1 rejected by the board (its reason is printed) or
interrupted (run again to resume), 2 bad arguments, 3 the link or a file cannot be
opened, or the board stopped replying (run again to resume).`;

/** name@version from the image header, if it has a readable one (the board judges the rest). */
export function imageLabel(bytes: Uint8Array): string | undefined {
  try {
    if (bytes.length < IMAGE_PREFIX || Buffer.from(bytes.subarray(0, 4)).toString("latin1") !== IMAGE_MAGIC) return undefined;
    const hlen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(6, true);
    const h = JSON.parse(new TextDecoder().decode(bytes.subarray(IMAGE_PREFIX, IMAGE_PREFIX + hlen)));
    const m = h?.manifest;
    return typeof m?.name === "string" && typeof m?.version === "string" ? `${m.name}@${m.version}` : undefined;
  } catch { return undefined; }
}

function int(v: string | undefined, opt: string, dflt: number, lo: number, hi: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) throw new UsageError(`upload: --${opt} must be an integer ${lo}..${hi}, not '${v}'`);
  return Number(v);
}

export async function run(argv: string[], io: GroundIO = defaultIO()): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    ...LINK_OPTIONS, ...KEY_OPTIONS, chunk: { type: "string" }, window: { type: "string" }, quiet: { type: "boolean" },
  }, { allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError(`upload: give exactly one IMAGE.gsui${positionals.length ? ` (got ${positionals.length})` : ""}; make one with gsu sign`);
  const file = positionals[0];
  const chunk = int(values.chunk, "chunk", 1024, 16, 65536);
  const window = int(values.window, "window", 8, 1, 1024);
  const a = linkArgs("upload", values);
  const k = values.key !== undefined || values.target !== undefined ? keyArgs("upload", values) : undefined;
  let image: Uint8Array;
  try { image = new Uint8Array(readFileSync(file)); } catch (e) {
    throw new UsageError(`upload: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (image.length === 0) throw new UsageError(`upload: ${file} is empty`);
  const what = imageLabel(image);
  const name = basename(file);
  const label = what ?? name;

  return withLink("upload", a, io, async (s) => {
    if (k) {
      const id = Buffer.from(imageId(image)).toString("hex");
      let r;
      try {
        r = await s.link.telecommand("upload", { image: id, size: image.length }, { key: k.key, keyId: k.keyId, target: k.target, seqs: k.seqs, seq: k.seq, timeoutMs: a.timeoutMs });
      } catch (e) {
        if (e instanceof NoReplyError || e instanceof SeqError) { io.err(`gsu upload: ${e.message}\n`); return 3; }
        throw e;
      }
      if (r.status !== "accepted") { io.err(`gsu upload: board ${a.board} refused to authorise the upload (#${r.sent}): ${r.text || "(no reason given)"}\n`); return 1; }
      io.out(`board ${a.board} authorised the upload (#${r.sent}): ${r.text}\n`);
    }
    io.out(`uploading ${name}${what ? ` (${what})` : ""}, ${fmtBytes(image.length)}, id ${Buffer.from(imageId(image)).toString("hex").slice(0, 16)}, to board ${a.board} on ${a.spec}\n`);
    const display = values.quiet ? undefined : new ProgressDisplay({ write: io.out, tty: io.tty, columns: io.columns, label });
    if (display && io.tty) s.inPlace = display;
    let out;
    try {
      out = await uploadImage(s.link, image, {
        chunk, window, timeoutMs: a.timeoutMs, signal: s.signal,
        onStart: (p) => display?.start(p),
        onProgress: (p) => display?.update(p),
      });
    } catch (e) {
      display?.end();  // the bar's line ends before the message
      if (e instanceof NoReplyError || e instanceof UploadStalledError) { io.err(`gsu upload: ${e.message}\n`); return 3; }
      throw e;
    } finally {
      display?.end();
      s.inPlace = undefined;
    }
    const p = out.progress;
    const sent = p.size - p.resumedFrom;
    io.out(`${fmtBytes(sent)} in ${fmtSeconds(p.elapsedMs)} (${fmtRate(p.rate)})` +
      `${p.resumedFrom ? `, resumed from ${fmtBytes(p.resumedFrom)}` : ""}${out.retransmitted ? `, ${fmtBytes(out.retransmitted)} sent again` : ""}\n`);
    if (out.ok) {
      io.out(`board ${a.board} accepted ${name}${out.text ? `: ${out.text}` : ""}\n`);
      return 0;
    }
    io.err(`gsu upload: board ${a.board} rejected ${name}: ${out.text || "(no reason given)"}\n`);
    return 1;
  });
}
