// gsu ground --link SPEC: the ground server for one link (host/ground/server.ts).
import { basename, resolve } from "node:path";
import { EXIT, IoError, parseCommandArgs, UsageError } from "./args.ts";
import { KEY_ID } from "../board/image.ts";
import { KeyError, loadPrivateKey } from "../board/keys.ts";
import { DictionaryError, loadDictionary } from "../telemetry/dictionary.ts";
import { LinkSpecError } from "../transport/open.ts";
import { GroundServer, GroundServerError } from "../ground/server.ts";
import { startConsole } from "../ground/http.ts";
import { infoPath, socketPath } from "../ground/relay.ts";
import { SeqStore, seqFileFor } from "../ground/seq.ts";
import { openFailure, eventLine } from "../ground/cli.ts";
import { ArchiveError } from "../ground/archive.ts";

export const help = `Usage: gsu ground --link SPEC [--key FILE --targets N=NAME,...] [options]

The ground server for one link, in the manner of F Prime's GDS and Yamcs: it owns the
link and
  - decodes and archives every telemetry packet, event and telecommand (JSON Lines in
    --archive DIR: archive.jsonl, rotated at --max-file-mb into archive.1.jsonl ...,
    at most --keep old files; gsu report and gsu export read them);
  - asks every board it hears for the events in the board's own event log that it
    has not seen, so nothing that happened while no ground listened is lost;
  - serves local gsu commands: while it runs, gsu telemetry, status, upload, upgrade,
    commit, abort and fault with the same --link go through it (two at once is fine);
  - serves the web console on 127.0.0.1 (live telemetry plots per board and process,
    the event log, commands with upload progress, the rehearsal diagram). It prints
    the console's URL, which carries an access token.

Options:
  --link SPEC          the link (serial:/dev/ttyUSB0@115200, slcan:/dev/ttyACM0@500000, can0)
  --node N             this ground's node id on the link (default 100)
  --archive DIR        where the archive goes (default gsu-ground/ in this directory)
  --max-file-mb N      archive file size before rotation (default 8)
  --keep N             rotated archive files kept (default 8)
  --port N             the console's port on 127.0.0.1 (default 8470; 0: any free port)
  --no-console         no web console (archive and local clients only)
  --key FILE           sign the console's telecommands with this key (as gsu upgrade
                       --key); without it the console is read-only. Sequence numbers
                       are shared with the CLI through FILE.seq
  --key-id ID          the key id the boards know it by (default: the file name)
  --targets N=NAME,... board node ids and their names (the telecommand target), e.g.
                       1=io,2=gnc,3=comms
  --rehearsal FILE     a rehearsal page (gsu rehearse --html FILE) to show in the console
  --dictionary FILE    telemetry dictionary (default hardware/dictionary.json)
  --duration S         stop after S seconds (default: run until Ctrl-C)
  --quiet              print no events

Exit status: 0 after Ctrl-C or --duration, 2 bad arguments, 3 the link cannot be
opened, another ground server holds it, the console's port is taken or the archive
directory cannot be written.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    link: { type: "string" }, node: { type: "string" }, archive: { type: "string" }, "max-file-mb": { type: "string" }, keep: { type: "string" },
    port: { type: "string" }, "no-console": { type: "boolean" }, key: { type: "string" }, "key-id": { type: "string" }, targets: { type: "string" },
    rehearsal: { type: "string" }, dictionary: { type: "string" }, duration: { type: "string" }, quiet: { type: "boolean" },
  }, { allowPositionals: true });
  if (positionals.length) throw new UsageError(`ground takes no arguments (got '${positionals.join(" ")}')`);
  if (!values.link) throw new UsageError("ground: --link SPEC is required (e.g. --link serial:/dev/ttyUSB0@115200)");
  const int = (v: string | undefined, opt: string, dflt: number, lo: number, hi: number) => {
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) throw new UsageError(`ground: --${opt} must be an integer ${lo}..${hi}, not '${v}'`);
    return Number(v);
  };
  const node = int(values.node, "node", 100, 0, 254);
  const port = int(values.port, "port", 8470, 0, 65535);
  const maxMb = int(values["max-file-mb"], "max-file-mb", 8, 1, 4096);
  const keep = int(values.keep, "keep", 8, 0, 1000);
  let durationMs: number | undefined;
  if (values.duration !== undefined) {
    const d = Number(values.duration);
    if (!Number.isFinite(d) || d <= 0) throw new UsageError(`ground: --duration must be a number of seconds above 0, not '${values.duration}'`);
    durationMs = Math.round(d * 1000);
  }
  const targets = new Map<number, string>();
  for (const kv of values.targets ? values.targets.split(",") : []) {
    const m = /^(\d+)=([A-Za-z0-9][A-Za-z0-9_.-]{0,31})$/.exec(kv.trim());
    if (!m || Number(m[1]) > 254) throw new UsageError(`ground: --targets takes N=NAME pairs separated by commas (1=io,2=gnc), not '${kv}'`);
    targets.set(Number(m[1]), m[2]);
  }
  let key;
  if (values.key !== undefined) {
    const keyId = values["key-id"] ?? basename(values.key).replace(/\.key$/, "");
    if (!KEY_ID.test(keyId)) throw new UsageError(`ground: key id ${JSON.stringify(keyId)} must be 1-64 characters of A-Z a-z 0-9 . _ -; pass --key-id`);
    try { key = { key: loadPrivateKey(values.key), keyId, seqs: new SeqStore(seqFileFor(values.key)), file: values.key }; } catch (e) {
      if (e instanceof KeyError) throw new UsageError(`ground: --key: ${e.message}`);
      throw e;
    }
  } else if (values["key-id"] !== undefined) throw new UsageError("ground: --key-id needs --key FILE");
  try { loadDictionary(values.dictionary); } catch (e) { if (e instanceof DictionaryError) throw new UsageError(`ground: ${e.message}`); throw e; }
  const archiveDir = resolve(values.archive ?? "gsu-ground");

  let server: GroundServer;
  try {
    server = await GroundServer.start({ spec: values.link, node, archiveDir, archive: { maxFileBytes: maxMb * 1024 * 1024, keep }, dictionary: values.dictionary, key, targets, log: (l) => console.error(`gsu ground: ${l}`) });
  } catch (e) {
    if (e instanceof LinkSpecError) throw new UsageError(`ground: ${e.message}`);
    if (e instanceof ArchiveError) throw new IoError(`ground: ${e.message}`);
    if (e instanceof GroundServerError) { console.error(`gsu ground: ${e.message}`); return EXIT.IO; }
    console.error(`gsu ground: cannot open the link ${values.link}: ${openFailure(e)}`);
    return EXIT.IO;
  }
  let web;
  if (!values["no-console"]) {
    try { web = await startConsole(server, { port, rehearsal: values.rehearsal }); } catch (e) {
      await server.close();
      console.error(`gsu ground: ${(e as Error).message}`);
      return EXIT.IO;
    }
  }
  server.writeInfo({ url: web?.url ?? null });
  const out = (s: string) => process.stdout.write(s + "\n");
  out(`gsu ground: serving ${values.link} as node ${server.node}; archive ${archiveDir}`);
  out(`  local gsu commands with --link ${values.link} go through this server (${socketPath(values.link)})`);
  if (web) out(`  web console: ${web.url}${key ? `  (telecommands signed with key ${key.keyId})` : "  (read-only: no --key)"}`);
  out(`  (the URL is also in ${infoPath(values.link)}); Ctrl-C stops`);
  if (!values.quiet) server.subscribe((kind, d) => {
    if (kind === "record" && (d as { type?: string }).type === "event") {
      const e = d as Parameters<typeof eventLine>[0] & { replayed?: boolean; boardSeq?: number };
      out(eventLine(e) + (e.replayed ? ` (from the board's event log, #${e.boardSeq})` : ""));
    }
  });
  await new Promise<void>((res) => {
    const done = () => { clearTimeout(timer); process.off("SIGINT", done); process.off("SIGTERM", done); res(); };
    const timer = durationMs !== undefined ? setTimeout(done, durationMs) : undefined;
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
  await web?.close();
  await server.close();
  out(`gsu ground: stopped; ${server.archive.counters.lines} records archived in ${archiveDir}`);
  return 0;
}
