/**
 * Board profiles: what `gsu board --profile FILE` runs and how it is wired.
 *
 * {
 *   "name": "pi-1",                       // board name, [A-Za-z0-9][A-Za-z0-9_.-]{0,31}
 *   "node": 1,                            // node id on the bus, integer 1..127
 *   "board": "raspberry-pi",              // optional: raspberry-pi | beaglebone (which hardware/<board>/ gsu flash installs)
 *   "description": "...",                 // optional free text
 *   "links": [                            // at least one; no two on the same interface or device
 *     { "kind": "socketcan", "iface": "can0", "bitrate": 500000 },        // 10000..1000000 bit/s
 *     { "kind": "slcan", "path": "/dev/ttyACM0", "bitrate": 500000,       // an SLCAN rate (S0..S8)
 *       "baud": 115200 },                                                 //   optional UART speed to the adapter
 *     { "kind": "serial", "path": "/dev/ttyAMA0", "baud": 115200 }        // a standard UART speed
 *   ],
 *   "stateDir": "/var/lib/gsu",           // absolute, or relative to the profile file
 *   "telecommandWindowSeconds": 600,      // optional: refuse a telecommand signed further than this from the
 *                                         //   board's clock (0 turns the check off; needs a set clock)
 *   "linkKey": "keys/link.key",           // optional: the deployment's 32-byte link key (64 hex digits, gsu keygen
 *                                         //   --link-key); protocol control frames between boards must carry its MAC
 *   "linkFreshnessSeconds": 30,           // optional, ignored: the link layer's freshness is its sequence number (no clock)
 *   "linkAuth": "control",                // optional: with a linkKey, "control" (default) authenticates every frame between
 *                                         //   boards but application frames; "all" application frames too (docs/wire.md)
 *   "linkReliable": false,                // optional: run the link layer (retransmission, incarnations, hello) without a
 *                                         //   key; a linkKey always runs it
 *   "uploads": "signed",                  // optional: "signed" (default: an upload opens only after a signed
 *                                         //   upload telecommand for that image) or "open" (any peer may upload)
 *   "stateQuotaMB": 256,                  // optional: most the state directory may hold (MiB, 1..1048576);
 *                                         //   an upload that would pass it is refused with the reason
 *   "components": ["sensor@1.0.0"],       // optional: name@version to run when the state directory is empty
 *   "trustedKeys": {                      // optional: key id -> Ed25519 public key (.pub PEM file),
 *     "ground": "keys/ground.pub"         //   absolute or relative to the profile file
 *   },
 *   "revokedKeys": {                      // optional: key id -> why it is revoked. Images and telecommands
 *     "ground-old": "leaked 2026-11-20"   //   signed by it are refused as "revoked"; components whose committed
 *   },                                    //   image it signed go back to the profile's versions, reported
 *   "status": "open",                     // optional: who may read status without the signing key:
 *                                         //   "signed" (default: only a signed status telecommand),
 *                                         //   "open" (anyone on the link), or "key:keys/status.key" (a
 *                                         //   shared read-only key, gsu keygen --status-key)
 *   "at": {                               // optional: acceptance-test / commit policy
 *     "commit": { "afterPassed": 50, "quietSeconds": 30 }   // or "commit": "manual"
 *   },
 *   "telemetry": {                        // optional: rates (0 turns a stream off)
 *     "housekeepingHz": 1,                // per-process housekeeping packets, 0..50 per second
 *     "linkHz": 0.2,                      // link counters, 0..50 per second
 *     "maxEventsPerSecond": 20            // event packets beyond this rate are counted, not sent; integer 0..1000
 *   }
 * }
 *
 * validateProfile() checks all of it and refuses unknown fields (typo
 * protection), naming every field that is wrong in one ProfileError:
 *   hardware/raspberry-pi/profile.json: links[0].bitrate must be an integer in 10000..1000000 (bit/s), not "fast"
 * Defaults are filled in, and relative paths are resolved against the
 * profile's directory, so the daemon never has to guess.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { SLCAN_BITRATES, SLCAN_DATA_BITRATES } from "../transport/can/slcan.ts";

export const BOARDS = ["raspberry-pi", "beaglebone"] as const;
export type BoardKind = (typeof BOARDS)[number];

/** CAN modes (docs/wire.md, "CAN modes per link"): every node on a bus must use the same. */
export interface CanLinkModes { fd?: boolean; compact?: boolean }
export interface SocketCanLink extends CanLinkModes { kind: "socketcan"; iface: string; bitrate: number }
export interface SlcanLink extends CanLinkModes { kind: "slcan"; path: string; bitrate: number; baud: number; dataBitrate?: number }
export interface SerialLink { kind: "serial"; path: string; baud: number }
export type ProfileLink = SocketCanLink | SlcanLink | SerialLink;

export interface ComponentRef { name: string; version: string }
export type CommitPolicy = { afterPassed: number; quietSeconds: number } | "manual";

export interface TelemetryRates {
  housekeepingHz: number;
  linkHz: number;
  maxEventsPerSecond: number;
}

export interface BoardProfile {
  name: string;
  node: number;
  board?: BoardKind;
  description?: string;
  links: ProfileLink[];
  /** Absolute (resolved against the profile's directory). */
  stateDir: string;
  /** Bytes the state directory may hold (uploads beyond it are refused). */
  stateQuotaBytes: number;
  /** A telecommand signed further than this from the board's clock is refused (0: no check). */
  telecommandWindowSeconds: number;
  /** Absolute path of the deployment's link key (docs/wire.md, "Authenticated control frames"), if any. */
  linkKey?: string;
  linkFreshnessSeconds: number;
  /** With a link key: which frames between boards carry a MAC (docs/wire.md, "The link layer"). */
  linkAuth: "control" | "all";
  /** Run the link layer between boards even without a key (a key always runs it). */
  linkReliable: boolean;
  /** "signed": uploads need a signed upload telecommand naming the image first; "open": any peer may upload. */
  uploads: "signed" | "open";
  components: ComponentRef[];
  /** key id -> absolute path of the .pub PEM. */
  trustedKeys: Record<string, string>;
  /** key id -> the reason it is revoked (never also trusted). */
  revokedKeys: Record<string, string>;
  /** Read-only status without the signing key: "signed" (only by telecommand), "open", or a shared key file (absolute). */
  status: "signed" | "open" | { key: string };
  at: { commit: CommitPolicy };
  telemetry: TelemetryRates;
  /** Where the profile came from (a path, or a label). */
  source: string;
}

export const DEFAULT_COMMIT: { afterPassed: number; quietSeconds: number } = { afterPassed: 20, quietSeconds: 10 };
export const DEFAULT_STATE_QUOTA_MB = 256;
export const DEFAULT_TC_WINDOW_S = 600;
export const DEFAULT_TELEMETRY: TelemetryRates = { housekeepingHz: 1, linkHz: 0.2, maxEventsPerSecond: 20 };
export const SOCKETCAN_BITRATE = { min: 10_000, max: 1_000_000 };
/** UART speeds Linux termios can set (B1200..B4000000). */
export const SERIAL_BAUDS: readonly number[] = [
  1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600,
  1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000,
];

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
const IFACE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,14}$/; // IFNAMSIZ - 1, no '/'
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/; // as image.ts's KEY_ID (gsu keygen's names)
const COMP_NAME = /^[a-z][a-z0-9_-]*$/; // as in component manifests
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** A profile that is not acceptable; `problems` names every bad field ("links[0].bitrate must be ..."). */
export class ProfileError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    super(problems.length === 1
      ? `${source}: ${problems[0]}`
      : `${source}: ${problems.length} problems:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ProfileError";
  }
}

/** How a bad value is quoted in messages: JSON, cut short. */
function show(v: unknown): string {
  if (v === undefined) return "missing";
  let s: string;
  try { s = JSON.stringify(v) ?? String(v); } catch { s = String(v); }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

class Checker {
  problems: string[] = [];
  /** Known fields that an unknown one looks like a typo of: not also reported as missing. */
  private typoOf = new Set<string>();
  bad(field: string, must: string, value: unknown): void {
    if (value === undefined && this.typoOf.has(field)) return;
    this.problems.push(value === undefined ? `${field} is missing; it must be ${must}` : `${field} must be ${must}, not ${show(value)}`);
  }
  /** Refuses keys of `o` outside `allowed`, naming them (typo protection). */
  known(o: Record<string, unknown>, where: string, allowed: readonly string[]): void {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) {
        const field = where ? `${where}.${k}` : k;
        const near = allowed.find((a) => a.toLowerCase() === k.toLowerCase() || editDistance(a, k) <= 2);
        if (near && o[near] === undefined) this.typoOf.add(where ? `${where}.${near}` : near);
        this.problems.push(`${field} is not a known field${where ? ` of ${where}` : ""}${near ? ` (did you mean '${near}'?)` : ""}; known fields: ${allowed.join(", ")}`);
      }
    }
  }
  str(o: Record<string, unknown>, field: string, key: string, re: RegExp, must: string, optional = false): string | undefined {
    const v = o[key];
    if (v === undefined && optional) return undefined;
    if (typeof v !== "string" || !re.test(v)) { this.bad(field, must, v); return undefined; }
    return v;
  }
  int(o: Record<string, unknown>, field: string, key: string, min: number, max: number, unit = "", dflt?: number): number | undefined {
    const v = o[key];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      this.bad(field, `an integer in ${min}..${max}${unit ? ` (${unit})` : ""}`, v);
      return undefined;
    }
    return v;
  }
  num(o: Record<string, unknown>, field: string, key: string, min: number, max: number, unit: string, dflt: number): number | undefined {
    const v = o[key];
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      this.bad(field, `a number in ${min}..${max} (${unit})`, v);
      return undefined;
    }
    return v;
  }
  oneOf(o: Record<string, unknown>, field: string, key: string, list: readonly number[], what: string, dflt?: number): number | undefined {
    const v = o[key];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== "number" || !list.includes(v)) { this.bad(field, `one of ${list.join(", ")}${what ? ` (${what})` : ""}`, v); return undefined; }
    return v;
  }
}

function editDistance(a: string, b: string): number {
  a = a.toLowerCase(); b = b.toLowerCase();
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

const TOP_FIELDS = ["name", "node", "board", "description", "links", "stateDir", "stateQuotaMB", "telecommandWindowSeconds", "linkKey", "linkFreshnessSeconds", "linkAuth", "linkReliable", "uploads", "components", "trustedKeys", "revokedKeys", "status", "at", "telemetry"] as const;
const LINK_FIELDS: Record<ProfileLink["kind"], readonly string[]> = {
  socketcan: ["kind", "iface", "bitrate", "fd", "compact"],
  slcan: ["kind", "path", "bitrate", "baud", "fd", "dataBitrate", "compact"],
  serial: ["kind", "path", "baud"],
};

function checkLink(c: Checker, l: unknown, field: string): ProfileLink | undefined {
  if (!isObject(l)) {
    c.bad(field, `a link object: {"kind": "socketcan", "iface", "bitrate"}, {"kind": "slcan", "path", "bitrate"} or {"kind": "serial", "path", "baud"}`, l);
    return undefined;
  }
  const kind = l.kind;
  if (kind !== "socketcan" && kind !== "slcan" && kind !== "serial") {
    c.bad(`${field}.kind`, `one of "socketcan", "slcan", "serial"`, kind);
    return undefined;
  }
  c.known(l, field, LINK_FIELDS[kind]);
  if (kind === "socketcan") {
    const iface = c.str(l, `${field}.iface`, "iface", IFACE, "a network interface name such as \"can0\" (at most 15 characters, no '/')");
    const bitrate = c.int(l, `${field}.bitrate`, "bitrate", SOCKETCAN_BITRATE.min, SOCKETCAN_BITRATE.max, "bit/s");
    return iface !== undefined && bitrate !== undefined ? { kind, iface, bitrate, ...canModes(c, l, field) } : undefined;
  }
  const path = devicePath(c, l, `${field}.path`);
  if (kind === "slcan") {
    const bitrate = c.oneOf(l, `${field}.bitrate`, "bitrate", SLCAN_BITRATES, "bit/s, the SLCAN S0..S8 rates");
    const baud = c.oneOf(l, `${field}.baud`, "baud", SERIAL_BAUDS, "the UART speed to the adapter; USB adapters ignore it", 115200);
    const modes = canModes(c, l, field);
    let dataBitrate: number | undefined;
    if (l.dataBitrate !== undefined) {
      if (!modes.fd) c.bad(`${field}.dataBitrate`, `only with "fd": true (a CAN FD data bit rate)`, l.dataBitrate);
      else dataBitrate = c.oneOf(l, `${field}.dataBitrate`, "dataBitrate", SLCAN_DATA_BITRATES, "bit/s, the SLCAN FD Y2/Y5 rates");
    }
    return path !== undefined && bitrate !== undefined && baud !== undefined ? { kind, path, bitrate, baud, ...modes, ...(dataBitrate !== undefined ? { dataBitrate } : {}) } : undefined;
  }
  const baud = c.oneOf(l, `${field}.baud`, "baud", SERIAL_BAUDS, "");
  return path !== undefined && baud !== undefined ? { kind, path, baud } : undefined;
}

function canModes(c: Checker, l: Record<string, unknown>, field: string): CanLinkModes {
  const m: CanLinkModes = {};
  for (const k of ["fd", "compact"] as const) {
    if (l[k] === undefined) continue;
    if (typeof l[k] !== "boolean") c.bad(`${field}.${k}`, "true or false (every node on the bus must use the same CAN mode)", l[k]);
    else if (l[k]) m[k] = true;
  }
  return m;
}

function devicePath(c: Checker, o: Record<string, unknown>, field: string): string | undefined {
  const v = o.path;
  if (typeof v !== "string" || !v.startsWith("/") || /\s|\0/.test(v)) {
    c.bad(field, "an absolute device path such as \"/dev/ttyACM0\"", v);
    return undefined;
  }
  return v;
}

function checkPathString(c: Checker, v: unknown, field: string, must: string): string | undefined {
  if (typeof v !== "string" || v.length === 0 || v.includes("\0")) { c.bad(field, must, v); return undefined; }
  return v;
}

/**
 * Validates a parsed profile. `source` labels messages (the file's path);
 * relative paths (stateDir, trustedKeys) are resolved against `baseDir`
 * (default: the directory of `source`). Throws ProfileError naming every bad field.
 */
export function validateProfile(json: unknown, source = "profile", baseDir = dirname(resolve(source))): BoardProfile {
  const c = new Checker();
  if (!isObject(json)) throw new ProfileError(source, [`the profile must be a JSON object with name, node, links and stateDir, not ${show(json)}`]);
  const o = json;
  c.known(o, "", TOP_FIELDS);

  const name = c.str(o, "name", "name", NAME, "a board name of letters, digits, '_', '.', '-' (at most 32 characters)");
  const node = c.int(o, "node", "node", 1, 127, "the node id");
  let board: BoardKind | undefined;
  if (o.board !== undefined) {
    if (typeof o.board === "string" && (BOARDS as readonly string[]).includes(o.board)) board = o.board as BoardKind;
    else c.bad("board", `one of ${BOARDS.map((b) => `"${b}"`).join(", ")}`, o.board);
  }
  let description: string | undefined;
  if (o.description !== undefined) {
    if (typeof o.description === "string") description = o.description;
    else c.bad("description", "a string", o.description);
  }

  const links: ProfileLink[] = [];
  if (!Array.isArray(o.links) || o.links.length === 0) {
    c.bad("links", "a non-empty array of links, e.g. [{\"kind\": \"socketcan\", \"iface\": \"can0\", \"bitrate\": 500000}]", o.links);
  } else {
    const seen = new Map<string, number>();
    o.links.forEach((l, i) => {
      const link = checkLink(c, l, `links[${i}]`);
      if (!link) return;
      const at = link.kind === "socketcan" ? `interface ${link.iface}` : `device ${link.path}`;
      const prev = seen.get(at);
      if (prev !== undefined) c.problems.push(`links[${i}] uses ${at}, which links[${prev}] already uses`);
      else seen.set(at, i);
      links.push(link);
    });
  }

  const stateRaw = checkPathString(c, o.stateDir, "stateDir", "a directory path such as \"/var/lib/gsu\" (absolute, or relative to the profile)");
  const stateDir = stateRaw === undefined ? "" : isAbsolute(stateRaw) ? stateRaw : resolve(baseDir, stateRaw);

  const tcWindow = c.num(o, "telecommandWindowSeconds", "telecommandWindowSeconds", 0, 366 * 86_400, "seconds a telecommand's signed time may be from the board's clock; 0 turns the check off", DEFAULT_TC_WINDOW_S);
  const freshS = c.num(o, "linkFreshnessSeconds", "linkFreshnessSeconds", 0.01, 86_400, "seconds an authenticated control frame's freshness may be from the board's clock", 30);
  let linkKey: string | undefined;
  if (o.linkKey !== undefined) {
    const lk = checkPathString(c, o.linkKey, "linkKey", "the path of the deployment's link key (64 hex digits; gsu keygen --link-key), absolute or relative to the profile");
    if (lk !== undefined) linkKey = isAbsolute(lk) ? lk : resolve(baseDir, lk);
  }
  let linkAuth: "control" | "all" | undefined = "control";
  if (o.linkAuth !== undefined) {
    if (o.linkAuth === "control" || o.linkAuth === "all") linkAuth = o.linkAuth;
    else { c.bad("linkAuth", "\"control\" (frames between boards but application frames carry a MAC) or \"all\"", o.linkAuth); linkAuth = undefined; }
  }
  let linkReliable: boolean | undefined = false;
  if (o.linkReliable !== undefined) {
    if (typeof o.linkReliable === "boolean") linkReliable = o.linkReliable;
    else { c.bad("linkReliable", "true or false", o.linkReliable); linkReliable = undefined; }
  }
  let uploads: "signed" | "open" | undefined = "signed";
  if (o.uploads !== undefined) {
    if (o.uploads === "signed" || o.uploads === "open") uploads = o.uploads;
    else { c.bad("uploads", "\"signed\" (an upload needs a signed upload telecommand first) or \"open\"", o.uploads); uploads = undefined; }
  }
  const quotaMB = c.num(o, "stateQuotaMB", "stateQuotaMB", 1, 1 << 20, "MiB the state directory may hold", DEFAULT_STATE_QUOTA_MB);

  const components: ComponentRef[] = [];
  if (o.components !== undefined) {
    if (!Array.isArray(o.components)) c.bad("components", "an array of \"name@version\" strings such as \"sensor@1.0.0\"", o.components);
    else {
      const names = new Map<string, number>();
      o.components.forEach((s, i) => {
        const m = typeof s === "string" ? /^([^@]+)@([^@]+)$/.exec(s) : null;
        if (!m || !COMP_NAME.test(m[1]!) || !SEMVER.test(m[2]!)) {
          c.bad(`components[${i}]`, "\"name@version\" with a lower-case component name and a semantic version, such as \"sensor@1.0.0\"", s);
          return;
        }
        const prev = names.get(m[1]!);
        if (prev !== undefined) { c.problems.push(`components[${i}] names '${m[1]}' again (components[${prev}]); a board runs one initial version per component`); return; }
        names.set(m[1]!, i);
        components.push({ name: m[1]!, version: m[2]! });
      });
    }
  }

  const trustedKeys: Record<string, string> = {};
  if (o.trustedKeys !== undefined) {
    if (!isObject(o.trustedKeys)) c.bad("trustedKeys", "an object mapping key ids to .pub PEM files, e.g. {\"ground\": \"keys/ground.pub\"}", o.trustedKeys);
    else {
      for (const [id, p] of Object.entries(o.trustedKeys)) {
        if (!KEY_ID.test(id)) { c.problems.push(`trustedKeys has a bad key id ${show(id)}; ids are letters, digits, '_', '.', '-' (at most 64)`); continue; }
        const path = checkPathString(c, p, `trustedKeys.${id}`, "the path of an Ed25519 public key in PEM (.pub), absolute or relative to the profile");
        if (path !== undefined) trustedKeys[id] = isAbsolute(path) ? path : resolve(baseDir, path);
      }
    }
  }

  const revokedKeys: Record<string, string> = {};
  if (o.revokedKeys !== undefined) {
    if (!isObject(o.revokedKeys)) c.bad("revokedKeys", "an object mapping revoked key ids to the reason, e.g. {\"ground-old\": \"leaked 2026-11-20\"}", o.revokedKeys);
    else {
      for (const [id, why] of Object.entries(o.revokedKeys)) {
        if (!KEY_ID.test(id)) { c.problems.push(`revokedKeys has a bad key id ${show(id)}; ids are letters, digits, '_', '.', '-' (at most 64)`); continue; }
        if (typeof why !== "string" || why.length > 200) { c.bad(`revokedKeys.${id}`, "a short reason (a string of at most 200 characters)", why); continue; }
        if (Object.hasOwn(trustedKeys, id)) { c.problems.push(`revokedKeys.${id}: key id ${id} is also in trustedKeys; a key is either trusted or revoked (remove it from trustedKeys)`); continue; }
        revokedKeys[id] = why;
      }
    }
  }
  let status: BoardProfile["status"] | undefined = "signed";
  if (o.status !== undefined) {
    const v = o.status;
    if (v === "signed" || v === "open") status = v;
    else if (typeof v === "string" && v.startsWith("key:") && v.length > 4 && !v.includes("\0")) {
      const f = v.slice(4);
      status = { key: isAbsolute(f) ? f : resolve(baseDir, f) };
    } else { c.bad("status", "\"signed\" (status only by signed telecommand), \"open\" (anyone may read it) or \"key:FILE\" (a read-only key, gsu keygen --status-key)", v); status = undefined; }
  }

  let commit: CommitPolicy | undefined = DEFAULT_COMMIT;
  if (o.at !== undefined) {
    if (!isObject(o.at)) { c.bad("at", "an object such as {\"commit\": {\"afterPassed\": 20, \"quietSeconds\": 10}}", o.at); commit = undefined; }
    else {
      c.known(o.at, "at", ["commit"]);
      const cm = o.at.commit;
      if (cm === undefined) commit = DEFAULT_COMMIT;
      else if (cm === "manual") commit = "manual";
      else if (!isObject(cm)) { c.bad("at.commit", "\"manual\" or {\"afterPassed\": N, \"quietSeconds\": T}", cm); commit = undefined; }
      else {
        c.known(cm, "at.commit", ["afterPassed", "quietSeconds"]);
        const afterPassed = c.int(cm, "at.commit.afterPassed", "afterPassed", 1, 1_000_000, "passed ATs before an automatic commit");
        const quietSeconds = c.num(cm, "at.commit.quietSeconds", "quietSeconds", 0, 86_400, "seconds with no failed AT before an automatic commit", DEFAULT_COMMIT.quietSeconds);
        commit = afterPassed !== undefined && quietSeconds !== undefined ? { afterPassed, quietSeconds } : undefined;
      }
    }
  }

  let telemetry: TelemetryRates | undefined = { ...DEFAULT_TELEMETRY };
  if (o.telemetry !== undefined) {
    if (!isObject(o.telemetry)) { c.bad("telemetry", "an object such as {\"housekeepingHz\": 1, \"linkHz\": 0.2, \"maxEventsPerSecond\": 20}", o.telemetry); telemetry = undefined; }
    else {
      const t = o.telemetry;
      c.known(t, "telemetry", ["housekeepingHz", "linkHz", "maxEventsPerSecond"]);
      const housekeepingHz = c.num(t, "telemetry.housekeepingHz", "housekeepingHz", 0, 50, "packets per second per process; 0 turns them off", DEFAULT_TELEMETRY.housekeepingHz);
      const linkHz = c.num(t, "telemetry.linkHz", "linkHz", 0, 50, "link-counter packets per second; 0 turns them off", DEFAULT_TELEMETRY.linkHz);
      const maxEventsPerSecond = c.int(t, "telemetry.maxEventsPerSecond", "maxEventsPerSecond", 0, 1000, "events per second", DEFAULT_TELEMETRY.maxEventsPerSecond);
      telemetry = housekeepingHz !== undefined && linkHz !== undefined && maxEventsPerSecond !== undefined
        ? { housekeepingHz, linkHz, maxEventsPerSecond } : undefined;
    }
  }

  if (c.problems.length > 0 || name === undefined || node === undefined || !commit || !telemetry || quotaMB === undefined || tcWindow === undefined || freshS === undefined || linkAuth === undefined || linkReliable === undefined || uploads === undefined || status === undefined) {
    throw new ProfileError(source, c.problems.length ? c.problems : ["invalid profile"]);
  }
  const profile: BoardProfile = { name, node, links, stateDir, stateQuotaBytes: Math.round(quotaMB * 1024 * 1024), telecommandWindowSeconds: tcWindow, linkFreshnessSeconds: freshS, linkAuth, linkReliable, uploads, components, trustedKeys, revokedKeys, status, at: { commit }, telemetry, source };
  if (board) profile.board = board;
  if (linkKey) profile.linkKey = linkKey;
  if (description !== undefined) profile.description = description;
  return profile;
}

/** Reads, parses and validates a profile file. Throws ProfileError (unreadable, bad JSON, bad fields). */
export function loadProfile(path: string): BoardProfile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ProfileError(path, [`cannot read the profile: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ProfileError(path, [`is not valid JSON: ${(e as Error).message}`]);
  }
  return validateProfile(json, path, dirname(resolve(path)));
}

/**
 * Loads every trusted key of a profile as an Ed25519 public KeyObject, by key id
 * (the shape of keys.ts's loadTrustedKeys).
 * Throws ProfileError naming trustedKeys.<id> for a missing, unreadable or
 * non-Ed25519 key. The daemon calls this at start; validation alone does not
 * touch the files (a profile is often checked on a machine without them).
 */
export function loadProfileKeys(profile: BoardProfile): Record<string, KeyObject> {
  const keys: Record<string, KeyObject> = {};
  const problems: string[] = [];
  for (const [id, path] of Object.entries(profile.trustedKeys)) {
    let pem: string;
    try {
      pem = readFileSync(path, "utf8");
    } catch (e) {
      problems.push(`trustedKeys.${id}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      continue;
    }
    try {
      const key = createPublicKey(pem);
      if (key.asymmetricKeyType !== "ed25519") {
        problems.push(`trustedKeys.${id}: ${path} is a ${key.asymmetricKeyType ?? "non-asymmetric"} key, not Ed25519`);
        continue;
      }
      keys[id] = key;
    } catch (e) {
      problems.push(`trustedKeys.${id}: ${path} is not a PEM public key: ${(e as Error).message}`);
    }
  }
  if (problems.length) throw new ProfileError(profile.source, problems);
  return keys;
}

/** The hardware/<board> directory name for a profile given by --profile: a board name or a path. */
export function isBoardKind(s: string): s is BoardKind {
  return (BOARDS as readonly string[]).includes(s);
}
