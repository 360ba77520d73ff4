// Start-up synchronisation (docs/wire.md, "Hello"): what a board puts in its link
// layer hello, and how a board checks a peer's. Boards run together only when they
// agree on the system (the hash of its manifest: boards, placement, wiring) and on
// the versions each board runs; a mismatch names the part that differs.
import { createHash } from "node:crypto";
import { isDevice, type SystemSpec } from "./system.ts";

export const SYSTEM_HASH_BYTES = 16;

export interface HelloInfo {
  /** First 16 bytes of the system manifest's sha256 (systemHash). */
  system: Uint8Array;
  /** The sender's hosted components and the versions it runs (committed, or built in). */
  versions: [string, string][];
}

const end = (e: { comp: string; port: string } | { device: string }) => (isDevice(e) ? `device:${e.device}` : `${e.comp}.${e.port}`);

/** The system manifest every board must share: boards (name, node, components) and wires, canonical. */
export function systemManifest(spec: SystemSpec): string {
  return JSON.stringify({
    boards: [...spec.boards].sort((a, b) => a.node - b.node).map((b) => ({ name: b.name, node: b.node, components: [...b.components].sort() })),
    wires: spec.wires.map((w) => [end(w.from), end(w.to)]),
  });
}

export function systemHash(spec: SystemSpec): Uint8Array {
  return createHash("sha256").update(systemManifest(spec)).digest().subarray(0, SYSTEM_HASH_BYTES);
}

/** This board's hello: the system hash and the versions of the components it hosts. */
export function helloInfo(spec: SystemSpec, node: number): HelloInfo {
  const mine = spec.boards.find((b) => b.node === node)?.components ?? [];
  return { system: systemHash(spec), versions: [...mine].sort().map((c) => [c, spec.components[c]?.version ?? "?"]) };
}

const enc = new TextEncoder(), dec = new TextDecoder("utf-8", { fatal: true });

/** 16-byte hash | u8 n | n x (u8 length, name UTF-8, u8 length, version UTF-8). */
export function encodeHello(h: HelloInfo, max = 1024): Uint8Array {
  const parts: number[] = [...h.system, 0];
  let n = 0;
  for (const [name, v] of h.versions.slice(0, 255)) {
    const e = [name, v].flatMap((s) => { const b = enc.encode(s).subarray(0, 64); return [b.length, ...b]; });
    // a hello fits the link layer's limit; a peer then names what is missing
    if (parts.length + e.length > max) break;
    parts.push(...e);
    n++;
  }
  parts[SYSTEM_HASH_BYTES] = n;
  return Uint8Array.from(parts);
}

export function decodeHello(b: Uint8Array): HelloInfo | string {
  if (b.length < SYSTEM_HASH_BYTES + 1) return `hello body of ${b.length} bytes, shorter than ${SYSTEM_HASH_BYTES + 1}`;
  const system = b.slice(0, SYSTEM_HASH_BYTES);
  const n = b[SYSTEM_HASH_BYTES];
  let i = SYSTEM_HASH_BYTES + 1;
  const versions: [string, string][] = [];
  const str = (): string | null => {
    if (i >= b.length || i + 1 + b[i] > b.length) return null;
    const l = b[i];
    try { const s = dec.decode(b.subarray(i + 1, i + 1 + l)); i += 1 + l; return s; } catch { return null; }
  };
  for (let k = 0; k < n; k++) {
    const name = str(), version = str();
    if (name === null || version === null) return `hello body ends inside version ${k + 1} of ${n}`;
    versions.push([name, version]);
  }
  if (i !== b.length) return `hello body has ${b.length - i} bytes after its versions`;
  return { system, versions };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/**
 * Checks a peer's hello against this board's system: null when they may run
 * together, else a message naming what differs and what to do.
 */
export function checkHello(spec: SystemSpec, self: number, src: number, body: Uint8Array): string | null {
  const peer = spec.boards.find((b) => b.node === src);
  const who = peer ? `board '${peer.name}' (node ${src})` : `node ${src}`;
  const h = decodeHello(body);
  if (typeof h === "string") return `${who} sent a malformed hello: ${h}`;
  const mine = systemHash(spec);
  if (hex(h.system) !== hex(mine)) {
    return `${who} runs another system manifest (hash ${hex(h.system)}, this board ${hex(mine)}): the boards, their components or the wiring differ; give every board the same system file`;
  }
  const diffs: string[] = [];
  const theirs = new Map(h.versions);
  for (const c of peer?.components ?? []) {
    const want = spec.components[c]?.version;
    const got = theirs.get(c);
    if (got === undefined) diffs.push(`${c} is not running there`);
    else if (got !== want) diffs.push(`${c}@${got} where this board's system has ${c}@${want}`);
  }
  if (diffs.length) return `${who} runs ${diffs.join("; ")}: every board must run the same committed versions (update the system file's initial versions, or upgrade the board)`;
  void self;
  return null;
}
