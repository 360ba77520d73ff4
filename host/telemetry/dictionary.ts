// The telemetry dictionary (hardware/dictionary.json), shared by board and ground in
// the manner of F Prime's JSON dictionary: packet kinds with their APIDs, telemetry
// channels and events with stable numeric ids, types and severities.
// Board side: encode channel sample sets and events into CCSDS packets by id.
// Ground side: decode packets back to named values.
// Byte layout: docs/wire.md, "Telemetry". All multi-octet values are big endian.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { encodePacket, SequenceCounter, type DecodedPacket } from "./ccsds.ts";

export const SEVERITIES = ["DIAGNOSTIC", "ACTIVITY_LO", "ACTIVITY_HI", "WARNING_LO", "WARNING_HI", "FATAL"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const PRIMITIVES = ["U8", "U16", "U32", "I32", "F64", "BOOL", "STRING"] as const;
export type Value = number | boolean | string;
export type Scope = "process" | "board" | "link";

export interface ChannelDef { id: number; name: string; type: string; description: string; drop?: string; scope: Scope }
export interface ParamDef { name: string; type: string; maxLength?: number }
export interface EventDef { id: number; name: string; severity: Severity; trace?: string; throttle?: number; params: ParamDef[]; format: string }
export interface EnumDef { name: string; representation: "U8"; values: Record<string, number> }
export interface PacketDef { code: number; name: string; layout: string; channels?: Scope }

export const DEFAULT_DICTIONARY = fileURLToPath(new URL("../../hardware/dictionary.json", import.meta.url));
export const STRING_MAX = 255;
/** APID = node * 16 + packet code. */
export const apidFor = (node: number, code: number) => (node << 4) | code;
export const splitApid = (apid: number) => ({ node: apid >>> 4, code: apid & 15 });

export class DictionaryError extends Error {
  constructor(message: string, readonly field: string) {
    super(message);
    this.name = "DictionaryError";
  }
}

/** A loaded, validated dictionary with lookups both ways. */
export class Dictionary {
  readonly channels = new Map<number, ChannelDef>();
  readonly channelByName = new Map<string, ChannelDef>();
  readonly events = new Map<number, EventDef>();
  readonly eventByName = new Map<string, EventDef>();
  readonly eventByTrace = new Map<string, EventDef>();
  readonly enums = new Map<string, EnumDef>();
  readonly packets = new Map<number, PacketDef>();
  readonly packetByName = new Map<string, PacketDef>();
  readonly version: number;
  /** Drop reason -> channel, per scope ("*" is the catch-all). */
  readonly dropChannel: Record<"board" | "link", Map<string, ChannelDef>> = { board: new Map(), link: new Map() };

  constructor(readonly json: DictionaryFile) {
    this.version = json.metadata.dictionaryVersion;
    for (const e of json.enums) this.enums.set(e.name, e);
    for (const p of json.packets) { this.packets.set(p.code, p); this.packetByName.set(p.name, p); }
    for (const scope of ["process", "board", "link"] as const) {
      for (const c of json.channels[scope]) {
        const def = { ...c, scope };
        this.channels.set(c.id, def);
        this.channelByName.set(c.name, def);
        if (c.drop && scope !== "process") this.dropChannel[scope].set(c.drop, def);
      }
    }
    for (const e of json.events) {
      this.events.set(e.id, e);
      this.eventByName.set(e.name, e);
      if (e.trace) this.eventByTrace.set(e.trace, e);
    }
  }

  channelsOf(scope: Scope): ChannelDef[] { return this.json.channels[scope].map((c) => this.channelByName.get(c.name)!); }
  packet(name: string): PacketDef {
    const p = this.packetByName.get(name);
    if (!p) throw new DictionaryError(`dictionary has no packet ${name}`, "packets");
    return p;
  }
  /** True if the APID is one of this dictionary's packet kinds from a node in 0..127. */
  knowsApid(apid: number): boolean { return this.packets.has(splitApid(apid).code) && apid !== 0x7ff; }
}

export interface DictionaryFile {
  metadata: { deployment: string; dictionaryVersion: number; byteOrder: string };
  severities: string[];
  enums: EnumDef[];
  apid: { formula: string; nodeMax: number; idle: number };
  packets: PacketDef[];
  channels: Record<Scope, Omit<ChannelDef, "scope">[]>;
  events: EventDef[];
}

const cache = new Map<string, Dictionary>();
/** Loads and validates a dictionary file (default hardware/dictionary.json); cached per path. */
export function loadDictionary(path = DEFAULT_DICTIONARY): Dictionary {
  let d = cache.get(path);
  if (d) return d;
  let text: string;
  try { text = readFileSync(path, "utf8"); } catch (e) {
    throw new DictionaryError(`cannot read dictionary ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, "(file)");
  }
  let j: unknown;
  try { j = JSON.parse(text); } catch (e) { throw new DictionaryError(`${path} is not valid JSON: ${(e as Error).message}`, "(file)"); }
  d = new Dictionary(validateDictionary(j));
  cache.set(path, d);
  return d;
}

/** Checks a parsed dictionary; throws a DictionaryError naming the first bad field. */
export function validateDictionary(j: unknown): DictionaryFile {
  const bad = (field: string, what: string): never => { throw new DictionaryError(`dictionary: '${field}' ${what}`, field); };
  const obj = (v: unknown, f: string) => { if (typeof v !== "object" || v === null || Array.isArray(v)) bad(f, "must be an object"); return v as Record<string, unknown>; };
  const arr = (v: unknown, f: string) => { if (!Array.isArray(v)) bad(f, "must be an array"); return v as unknown[]; };
  const int = (v: unknown, f: string, max: number, min = 0) => { if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) bad(f, `must be an integer in ${min}..${max}`); return v as number; };
  const name = (v: unknown, f: string) => { if (typeof v !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) bad(f, "must be an identifier"); return v as string; };
  const o = obj(j, "(top level)");
  const md = obj(o.metadata, "metadata");
  int(md.dictionaryVersion, "metadata.dictionaryVersion", 0xffff, 1);
  const sev = arr(o.severities, "severities");
  if (sev.join() !== SEVERITIES.join()) bad("severities", `must be exactly ${SEVERITIES.join(", ")}`);
  const enums = new Set<string>();
  arr(o.enums, "enums").forEach((e, i) => {
    const x = obj(e, `enums[${i}]`);
    const n = name(x.name, `enums[${i}].name`);
    if (enums.has(n) || (PRIMITIVES as readonly string[]).includes(n)) bad(`enums[${i}].name`, `'${n}' is defined twice or shadows a primitive type`);
    enums.add(n);
    if (x.representation !== "U8") bad(`enums[${i}].representation`, "must be U8");
    const seen = new Set<number>();
    for (const [k, v] of Object.entries(obj(x.values, `enums[${i}].values`))) {
      int(v, `enums[${i}].values.${k}`, 255);
      if (seen.has(v as number)) bad(`enums[${i}].values.${k}`, `repeats value ${v}`);
      seen.add(v as number);
    }
  });
  const typeOk = (t: unknown, f: string) => { if (typeof t !== "string" || (!(PRIMITIVES as readonly string[]).includes(t) && !enums.has(t))) bad(f, `must be one of ${PRIMITIVES.join(", ")} or an enum (${[...enums].join(", ")})`); };
  const codes = new Set<number>();
  arr(o.packets, "packets").forEach((p, i) => {
    const x = obj(p, `packets[${i}]`);
    const c = int(x.code, `packets[${i}].code`, 14, 1);
    if (codes.has(c)) bad(`packets[${i}].code`, `repeats code ${c}`);
    codes.add(c);
    name(x.name, `packets[${i}].name`);
  });
  const chObj = obj(o.channels, "channels");
  const ids = new Set<number>(), names = new Set<string>();
  for (const scope of ["process", "board", "link"]) {
    arr(chObj[scope], `channels.${scope}`).forEach((c, i) => {
      const f = `channels.${scope}[${i}]`;
      const x = obj(c, f);
      const id = int(x.id, `${f}.id`, 0xffff);
      if (ids.has(id)) bad(`${f}.id`, `repeats channel id ${id}`);
      ids.add(id);
      const n = name(x.name, `${f}.name`);
      if (names.has(n)) bad(`${f}.name`, `repeats channel name ${n}`);
      names.add(n);
      typeOk(x.type, `${f}.type`);
      if (x.type === "STRING") bad(`${f}.type`, "channels must be fixed-size (no STRING)");
      if (typeof x.description !== "string") bad(`${f}.description`, "must be a string");
    });
  }
  const eids = new Set<number>(), enames = new Set<string>(), traces = new Set<string>();
  arr(o.events, "events").forEach((e, i) => {
    const f = `events[${i}]`;
    const x = obj(e, f);
    const id = int(x.id, `${f}.id`, 0xffff);
    if (eids.has(id)) bad(`${f}.id`, `repeats event id ${id}`);
    eids.add(id);
    const n = name(x.name, `${f}.name`);
    if (enames.has(n)) bad(`${f}.name`, `repeats event name ${n}`);
    enames.add(n);
    if (!(SEVERITIES as readonly unknown[]).includes(x.severity)) bad(`${f}.severity`, `must be one of ${SEVERITIES.join(", ")}`);
    if (x.trace !== undefined) {
      if (typeof x.trace !== "string" || traces.has(x.trace)) bad(`${f}.trace`, "must be a trace event type used by one event only");
      traces.add(x.trace as string);
    }
    if (x.throttle !== undefined) int(x.throttle, `${f}.throttle`, 1000, 1);
    if (typeof x.format !== "string") bad(`${f}.format`, "must be a string");
    const pn = new Set<string>();
    arr(x.params, `${f}.params`).forEach((p, k) => {
      const y = obj(p, `${f}.params[${k}]`);
      const pname = name(y.name, `${f}.params[${k}].name`);
      if (pn.has(pname)) bad(`${f}.params[${k}].name`, `repeats ${pname}`);
      pn.add(pname);
      typeOk(y.type, `${f}.params[${k}].type`);
      if (y.maxLength !== undefined) int(y.maxLength, `${f}.params[${k}].maxLength`, STRING_MAX, 1);
    });
  });
  return o as unknown as DictionaryFile;
}

// ---- value codec ----------------------------------------------------------------------------
class Writer {
  private b = new Uint8Array(64);
  private dv = new DataView(this.b.buffer);
  n = 0;
  private room(k: number) {
    if (this.n + k <= this.b.length) return;
    const nb = new Uint8Array(Math.max(this.b.length * 2, this.n + k));
    nb.set(this.b);
    this.b = nb;
    this.dv = new DataView(nb.buffer);
  }
  u8(v: number) { this.room(1); this.dv.setUint8(this.n, v); this.n += 1; }
  u16(v: number) { this.room(2); this.dv.setUint16(this.n, v); this.n += 2; }
  u32(v: number) { this.room(4); this.dv.setUint32(this.n, v); this.n += 4; }
  i32(v: number) { this.room(4); this.dv.setInt32(this.n, v); this.n += 4; }
  f64(v: number) { this.room(8); this.dv.setFloat64(this.n, v); this.n += 8; }
  bytes(v: Uint8Array) { this.room(v.length); this.b.set(v, this.n); this.n += v.length; }
  done() { return this.b.slice(0, this.n); }
}

export class DecodeError extends Error {
  constructor(message: string, readonly partial?: Record<string, Value>) { super(message); this.name = "DecodeError"; }
}

class Reader {
  private dv: DataView;
  o = 0;
  constructor(private b: Uint8Array) { this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength); }
  get left() { return this.b.length - this.o; }
  private need(k: number, what: string) { if (this.left < k) throw new DecodeError(`truncated: ${what} needs ${k} octets at offset ${this.o}, ${this.left} left`); }
  u8(w = "U8") { this.need(1, w); return this.dv.getUint8(this.o++); }
  u16(w = "U16") { this.need(2, w); const v = this.dv.getUint16(this.o); this.o += 2; return v; }
  u32(w = "U32") { this.need(4, w); const v = this.dv.getUint32(this.o); this.o += 4; return v; }
  i32(w = "I32") { this.need(4, w); const v = this.dv.getInt32(this.o); this.o += 4; return v; }
  f64(w = "F64") { this.need(8, w); const v = this.dv.getFloat64(this.o); this.o += 8; return v; }
  bytes(k: number, w: string) { this.need(k, w); const v = this.b.subarray(this.o, this.o + k); this.o += k; return v; }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Cuts a UTF-8 encoding to at most max octets without splitting a character. */
function clip(s: string, max: number): Uint8Array {
  const b = utf8.encode(s);
  if (b.length <= max) return b;
  let end = max;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--; // b[end] starts the first character left out
  return b.subarray(0, end);
}

function writeValue(d: Dictionary, w: Writer, type: string, v: unknown, field: string, maxLength = STRING_MAX): void {
  const num = (lo: number, hi: number) => {
    const n = typeof v === "boolean" ? Number(v) : Number(v);
    if (!Number.isFinite(n)) throw new DictionaryError(`${field}: ${JSON.stringify(v)} is not a number`, field);
    return Math.min(hi, Math.max(lo, Math.trunc(n)));
  };
  switch (type) {
    case "U8": return w.u8(num(0, 0xff));
    case "U16": return w.u16(num(0, 0xffff));
    case "U32": return w.u32(num(0, 0xffffffff));   // counters saturate rather than wrap
    case "I32": return w.i32(num(-0x80000000, 0x7fffffff));
    case "F64": return w.f64(Number(v));
    case "BOOL": return w.u8(v ? 1 : 0);
    case "STRING": {
      const b = clip(String(v ?? ""), Math.min(maxLength, STRING_MAX));
      w.u8(b.length);
      return w.bytes(b);
    }
  }
  const e = d.enums.get(type);
  if (!e) throw new DictionaryError(`${field}: unknown type ${type}`, field);
  const code = e.values[String(v)];
  if (code === undefined) throw new DictionaryError(`${field}: '${String(v)}' is not a ${type} (${Object.keys(e.values).join(", ")})`, field);
  w.u8(code);
}

function readValue(d: Dictionary, r: Reader, type: string, field: string): Value {
  switch (type) {
    case "U8": return r.u8(field);
    case "U16": return r.u16(field);
    case "U32": return r.u32(field);
    case "I32": return r.i32(field);
    case "F64": return r.f64(field);
    case "BOOL": return r.u8(field) !== 0;
    case "STRING": return fromUtf8.decode(r.bytes(r.u8(field), field));
  }
  const e = d.enums.get(type)!;
  const code = r.u8(field);
  return Object.entries(e.values).find(([, v]) => v === code)?.[0] ?? `${type}#${code}`;
}

// ---- board side: encoder --------------------------------------------------------------------
export interface EventArgs { [param: string]: unknown }

/** Encodes one board's channel sample sets and events as CCSDS packets, with per-APID sequence counts. */
export class TelemetryEncoder {
  private seq = new SequenceCounter();
  constructor(readonly dict: Dictionary, readonly node: number) {
    if (!Number.isInteger(node) || node < 0 || node > 127) throw new DictionaryError(`node id must be 0..127, not ${node}`, "node");
  }

  private samples(w: Writer, scope: Scope, values: Record<string, Value>): void {
    for (const [name, v] of Object.entries(values)) {
      const c = this.dict.channelByName.get(name);
      if (!c) throw new DictionaryError(`no channel named ${name} in the dictionary`, name);
      if (c.scope !== scope) throw new DictionaryError(`channel ${name} is a ${c.scope} channel, not a ${scope} one`, name);
      w.u16(c.id);
      writeValue(this.dict, w, c.type, v, name);
    }
  }
  private packet(name: string, timeUs: number, data: Uint8Array): Uint8Array {
    const apid = apidFor(this.node, this.dict.packet(name).code);
    return encodePacket({ apid, seqCount: this.seq.take(apid), timeUs, data });
  }

  /** One process's channel samples (names from the process scope). */
  proc(timeUs: number, pid: number, comp: string, values: Record<string, Value>): Uint8Array {
    const w = new Writer();
    w.u8(pid);
    writeValue(this.dict, w, "STRING", comp, "comp", 32);
    this.samples(w, "process", values);
    return this.packet("PROC_TLM", timeUs, w.done());
  }
  board(timeUs: number, values: Record<string, Value>): Uint8Array {
    const w = new Writer();
    this.samples(w, "board", values);
    return this.packet("BOARD_TLM", timeUs, w.done());
  }
  link(timeUs: number, index: number, name: string, values: Record<string, Value>): Uint8Array {
    const w = new Writer();
    w.u8(index);
    writeValue(this.dict, w, "STRING", name, "link", 32);
    this.samples(w, "link", values);
    return this.packet("LINK_TLM", timeUs, w.done());
  }
  /** An event by dictionary name; params are taken from args by name (missing ones: 0 / ""). */
  event(timeUs: number, name: string, args: EventArgs = {}): Uint8Array {
    const e = this.dict.eventByName.get(name);
    if (!e) throw new DictionaryError(`no event named ${name} in the dictionary`, name);
    const w = new Writer();
    w.u16(e.id);
    for (const p of e.params) {
      let v = args[p.name];
      if (v === undefined) v = p.type === "STRING" ? "" : p.type === "BOOL" ? false : this.dict.enums.has(p.type) ? Object.keys(this.dict.enums.get(p.type)!.values)[0] : 0;
      if (Array.isArray(v)) v = v.join(",");
      writeValue(this.dict, w, p.type, v, `${name}.${p.name}`, p.maxLength);
    }
    return this.packet("EVENT", timeUs, w.done());
  }
}

// ---- ground side: decoder -------------------------------------------------------------------
export interface TlmRecord {
  type: "tlm";
  packet: "PROC_TLM" | "BOARD_TLM" | "LINK_TLM";
  node: number; apid: number; seq: number; t_us: number;
  pid?: number; comp?: string; link?: number; linkName?: string;
  values: Record<string, Value>;
  error?: string;
  hex?: string;
}
export interface EventRecord {
  type: "event";
  node: number; apid: number; seq: number; t_us: number;
  id: number; event: string; severity: Severity;
  args: Record<string, Value>; text: string;
  error?: string;
  hex?: string;
}
export type TelemetryRecord = TlmRecord | EventRecord;

export function formatEvent(e: EventDef, args: Record<string, Value>): string {
  return e.format.replace(/\{(\w+)\}/g, (m, k: string) => (k in args ? String(args[k]) : m));
}

/**
 * Decodes one CCSDS packet (from PacketDecoder) into named values. Throws a
 * DecodeError for an unknown packet code or event id and for a malformed data
 * field; an unknown channel id ends the packet (the rest cannot be delimited)
 * and is reported in `error` with the values decoded before it.
 */
export function decodeTelemetry(d: Dictionary, p: DecodedPacket): TelemetryRecord {
  const { node, code } = splitApid(p.header.apid);
  const def = d.packets.get(code);
  if (!def) throw new DecodeError(`APID ${p.header.apid}: packet code ${code} is not in the dictionary`);
  const base = { node, apid: p.header.apid, seq: p.header.seqCount, t_us: p.timeUs };
  const r = new Reader(p.data);
  if (def.name === "EVENT") {
    const id = r.u16("event id");
    const e = d.events.get(id);
    if (!e) throw new DecodeError(`event id ${id} (0x${id.toString(16)}) is not in the dictionary (version ${d.version})`);
    const args: Record<string, Value> = {};
    for (const prm of e.params) args[prm.name] = readValue(d, r, prm.type, `${e.name}.${prm.name}`);
    const rec: EventRecord = { type: "event", ...base, id, event: e.name, severity: e.severity, args, text: formatEvent(e, args) };
    if (r.left) rec.error = `${r.left} trailing octets`;
    return rec;
  }
  const rec: TlmRecord = { type: "tlm", packet: def.name as TlmRecord["packet"], ...base, values: {} };
  if (def.name === "PROC_TLM") { rec.pid = r.u8("pid"); rec.comp = readValue(d, r, "STRING", "comp") as string; }
  else if (def.name === "LINK_TLM") { rec.link = r.u8("link"); rec.linkName = readValue(d, r, "STRING", "link name") as string; }
  const scope = def.channels;
  while (r.left) {
    const at = r.o;
    const id = r.u16("channel id");
    const c = d.channels.get(id);
    if (!c || c.scope !== scope) { rec.error = `unknown ${scope} channel id ${id} at offset ${at}; ${r.left + 2} octets not decoded (is the ground dictionary older than the board's?)`; break; }
    rec.values[c.name] = readValue(d, r, c.type, c.name);
  }
  return rec;
}
