// gsu telemetry: the ground side. Decodes CCSDS telemetry packets from a link, a
// recording or stdin, shows a live view and records JSON Lines.
import { createWriteStream, readFileSync, type WriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { IoError, parseCommandArgs, UsageError } from "./args.ts";
import { glossaryText } from "../report/glossary.ts";
import { GroundStation, type GroundRecord } from "../telemetry/ground.ts";
import { LiveView } from "../telemetry/view.ts";
import { DictionaryError, loadDictionary, type TelemetryRecord } from "../telemetry/dictionary.ts";
import type { Transport } from "../transport/types.ts";
import { GroundLink, DEFAULT_GROUND_NODE } from "../ground/link.ts";
import { openFailure } from "../ground/cli.ts";
import { LinkSpecError } from "../transport/open.ts";
import { openGroundLink } from "../ground/relay.ts";

export const help = `Usage: gsu telemetry (--link SPEC | --from-jsonl FILE | --stdin-hex) [options]

Decodes the boards' CCSDS telemetry packets (channels and events, hardware/dictionary.json),
shows a live view that updates in place (boards, processes, counters, the last events),
and records every decoded packet as JSON Lines. When stdout is not a terminal it prints
one line per event instead, then a summary.

Input (one of):
  --link sim[:SEED]     the demo system on the simulated testbed, with a fault in the
                        new estimator at step 120 (paced in virtual time, see --speed)
  --link SPEC           a real link: serial:/dev/ttyUSB0@115200, slcan:/dev/ttyACM0@500000,
                        can0. The ground joins it as node --node and shows the telemetry
                        (TM management frames) every board sends there, until Ctrl-C
                        or --duration
  --from-jsonl FILE     replay a recording made with --jsonl (packets are re-decoded
                        from their hex with the current dictionary)
  --stdin-hex           one link frame per line on stdin, as hex (spaces allowed);
                        each frame holds one or more whole packets

Options:
  --jsonl FILE          record every decoded packet (and every rejection) as JSON Lines
  --speed X             pace replay: 1 = real time, 10 = ten times faster, 0 = no pacing
                        (default 1 for --link sim, 0 for --from-jsonl)
  --dictionary FILE     dictionary to decode with (default hardware/dictionary.json)
  --names N=NAME,...    board names for node ids, e.g. 1=io,2=gnc,3=comms
  --tail N              events shown in the live view (default 10)
  --node N              real links: this ground station's node id (default 100)
  --duration S          real links: stop after S seconds (default: run until Ctrl-C)

The view's columns use the protocol's terms:
${glossaryText()}

Exit status: 0, or 1 if any packet was rejected, 2 on bad arguments, 3 when the
link or a file cannot be opened.`;

export interface AttachOptions {
  jsonl?: string;
  view?: boolean;
  names?: Map<number, string>;
  dictionary?: string;
  onRecord?: (r: GroundRecord) => void;
}

/**
 * Wires a real link: every frame the transport delivers is decoded as CCSDS
 * telemetry, shown in the live view and recorded. close() stops the view and
 * flushes the recording.
 */
export function attachTransport(transport: Transport, o: AttachOptions & { tail?: number; source?: string } = {}): { station: GroundStation; view?: LiveView; link: GroundLink; close(): Promise<void> } {
  const g = ground(o, o.source ?? `link node ${transport.node}`);
  // Boards send telemetry as management frames [0xFF][9][CCSDS packets...] among
  // their protocol frames; GroundLink takes the TM frames' packets to the station.
  const link = new GroundLink(transport, { spec: o.source ?? `node ${transport.node}`, station: g.station });
  return { ...g, link };
}

function ground(o: AttachOptions & { tail?: number }, source: string) {
  const rec: WriteStream | undefined = o.jsonl ? createWriteStream(o.jsonl) : undefined;
  let view: LiveView | undefined;
  const station = new GroundStation({
    dict: o.dictionary ? loadDictionary(o.dictionary) : undefined,
    onRecord(r) {
      rec?.write(JSON.stringify(r) + "\n");
      view?.record(r);
      o.onRecord?.(r);
    },
  });
  if (o.view !== false) { view = new LiveView(station, { source, names: o.names, tail: o.tail }); view.start(); }
  return {
    station, view,
    close: () => new Promise<void>((resolve) => {
      view?.stop();
      if (rec) rec.end(resolve); else resolve();
    }),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseHex(line: string, n: number): Uint8Array {
  const h = line.replace(/\s+/g, "");
  if (h.length % 2 || !/^[0-9a-fA-F]*$/.test(h)) throw new UsageError(`stdin line ${n}: not hex (an even number of 0-9a-f digits)`);
  return Uint8Array.from(Buffer.from(h, "hex"));
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    link: { type: "string" }, "from-jsonl": { type: "string" }, "stdin-hex": { type: "boolean" },
    jsonl: { type: "string" }, speed: { type: "string" }, dictionary: { type: "string" }, names: { type: "string" }, tail: { type: "string" },
    node: { type: "string" }, duration: { type: "string" },
  });
  const inputs = [values.link !== undefined, values["from-jsonl"] !== undefined, !!values["stdin-hex"]].filter(Boolean).length;
  if (inputs !== 1) throw new UsageError("give exactly one input: --link SPEC, --from-jsonl FILE or --stdin-hex");
  let speed: number | undefined;
  if (values.speed !== undefined) {
    speed = Number(values.speed);
    if (!Number.isFinite(speed) || speed < 0) throw new UsageError(`--speed must be a number >= 0, not '${values.speed}'`);
  }
  let tail: number | undefined;
  if (values.tail !== undefined) {
    if (!/^\d+$/.test(values.tail)) throw new UsageError(`--tail must be a non-negative integer, not '${values.tail}'`);
    tail = Number(values.tail);
  }
  const names = new Map<number, string>();
  for (const kv of values.names ? values.names.split(",") : []) {
    const m = /^(\d+)=(.+)$/.exec(kv.trim());
    if (!m) throw new UsageError(`--names takes N=NAME pairs separated by commas, not '${kv}'`);
    names.set(Number(m[1]), m[2]);
  }
  try { loadDictionary(values.dictionary); } catch (e) { if (e instanceof DictionaryError) throw new UsageError(e.message); throw e; }

  let node = DEFAULT_GROUND_NODE;
  if (values.node !== undefined) {
    if (!/^\d+$/.test(values.node) || Number(values.node) > 254) throw new UsageError(`--node must be a node id 0..254 (0..127 on CAN), not '${values.node}'`);
    node = Number(values.node);
  }
  let durationMs: number | undefined;
  if (values.duration !== undefined) {
    const d = Number(values.duration);
    if (values.duration.trim() === "" || !Number.isFinite(d) || d <= 0) throw new UsageError(`--duration must be a number of seconds above 0, not '${values.duration}'`);
    durationMs = Math.round(d * 1000);
  }
  let sim: { seed: number } | undefined;
  if (values.link !== undefined) {
    const m = /^sim(?::(\d+))?$/.exec(values.link);
    if (!m) {
      if (values.speed !== undefined) throw new UsageError("--speed paces a simulation or a replay; a real link runs in real time");
      return runLink(values.link, node, durationMs, { jsonl: values.jsonl, names, dictionary: values.dictionary, tail });
    }
    sim = { seed: m[1] ? Number(m[1]) : 1 };
    if (names.size === 0) { names.set(1, "io"); names.set(2, "gnc"); names.set(3, "comms"); }
  }
  if (values.node !== undefined || durationMs !== undefined) throw new UsageError("--node and --duration apply to real links (--link SPEC) only");
  const source = sim ? `source: sim (seed ${sim.seed})` : values["from-jsonl"] ? `source: ${values["from-jsonl"]}` : "source: stdin";
  const g = ground({ jsonl: values.jsonl, names, dictionary: values.dictionary, tail }, source);
  const stop = new AbortController();
  const onSig = () => stop.abort();
  process.once("SIGINT", onSig);
  try {
    if (sim) {
      const { simTelemetry } = await import("../telemetry/simlink.ts");
      const r = simTelemetry({ seed: sim.seed, dict: g.station.dict });
      await play(r.packets.map((p) => ({ t: p.t_us, feed: () => g.station.pushFrame(p.bytes, p.node) })), speed ?? 1, stop.signal);
    } else if (values["from-jsonl"]) {
      const file = values["from-jsonl"];
      let text: string;
      try { text = readFileSync(file, "utf8"); } catch (e) { throw new IoError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code}`); }
      const items: { t: number; feed: () => void }[] = [];
      text.split("\n").forEach((line, i) => {
        if (!line.trim()) return;
        let r: Partial<TelemetryRecord> & { type?: string; hex?: string };
        try { r = JSON.parse(line); } catch { throw new UsageError(`${file}:${i + 1}: not JSON`); }
        if (r.type !== "tlm" && r.type !== "event") return;   // rejections, rehearsal trace lines
        const t = Number(r.t_us ?? 0);
        if (r.hex) { const b = parseHex(r.hex, i + 1); items.push({ t, feed: () => g.station.pushFrame(b) }); }
        else items.push({ t, feed: () => g.station.ingest(r as TelemetryRecord) });
      });
      if (!items.length) throw new UsageError(`${file} holds no telemetry records (type "tlm" or "event")`);
      await play(items, speed ?? 0, stop.signal);
    } else {
      const rl = createInterface({ input: process.stdin });
      let n = 0;
      for await (const line of rl) {
        n++;
        if (!line.trim() || line.startsWith("#")) continue;
        g.station.pushFrame(parseHex(line, n));
        if (stop.signal.aborted) break;
      }
    }
  } finally {
    process.off("SIGINT", onSig);
    await g.close();
  }
  return Object.keys(g.station.rejects).length ? 1 : 0;
}

/** A real link: telemetry until Ctrl-C (or --duration). */
async function runLink(spec: string, node: number, durationMs: number | undefined, o: AttachOptions & { tail?: number }): Promise<number> {
  let transport: Transport;
  try {
    transport = await openGroundLink(spec, node);
  } catch (e) {
    if (e instanceof LinkSpecError) throw new UsageError(e.message);
    console.error(`gsu telemetry: cannot open the link ${spec}: ${openFailure(e)}`);
    return 3;
  }
  const via = (transport as { via?: string }).via === "ground-server" ? ", through gsu ground" : "";
  const g = attachTransport(transport, { ...o, source: `source: ${spec} (ground node ${transport.node}${via})` });
  await new Promise<void>((resolve) => {
    const done = () => { clearTimeout(timer); process.off("SIGINT", done); process.off("SIGTERM", done); resolve(); };
    const timer = durationMs !== undefined ? setTimeout(done, durationMs) : undefined;
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
  await g.link.close();
  await g.close();
  return Object.keys(g.station.rejects).length ? 1 : 0;
}

/** Feeds items in time order, sleeping (t - t0) / speed between them (speed 0: no sleeping). */
async function play(items: { t: number; feed: () => void }[], speed: number, signal: AbortSignal): Promise<void> {
  const wall0 = performance.now();
  const t0 = items[0]?.t ?? 0;
  for (const it of items) {
    if (signal.aborted) return;
    if (speed > 0) {
      const due = (it.t - t0) / 1000 / speed - (performance.now() - wall0);
      if (due > 2) await sleep(due);
    }
    it.feed();
  }
}
