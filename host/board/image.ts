/**
 * Signed component images (docs/wire.md, "Signed component images"): what `gsu sign` writes, what a
 * board stores in its slots and what it checks before it runs anything.
 *
 *   "GSUI" | u16 format (1) | u32 header length H | H bytes canonical JSON header | wasm
 *
 * The header carries the manifest, the wasm's size and sha256, the key id and an
 * Ed25519 signature (node:crypto) over a canonical encoding of
 * {format, keyId, manifest, sha256, size}. The wasm is bound to the signature
 * through its sha256.
 *
 * verifyImage() never throws on bad input: it returns the image, or a rejection
 * whose kind says what class of fault it is and whose reason says what, exactly,
 * is at fault.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { validateManifest, type Manifest } from "../component/manifest.ts";

export const IMAGE_MAGIC = "GSUI";
export const IMAGE_FORMAT = 1;
/** Bytes before the header: magic (4), format (2), header length (4). */
export const IMAGE_PREFIX = 10;
export const MAX_HEADER = 1 << 20;
export const MAX_WASM = 64 << 20;
/** Prepended to the canonical JSON that is signed, so a signature made for an image can never be replayed as a signature on something else. */
export const SIGNATURE_CONTEXT = "gsu-image-signature-v1\n";
export const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The manifest as carried in an image: the validated manifest without the local `file` path. */
export type ImageManifest = Omit<Manifest, "file">;

export interface ImageHeader {
  format: number;
  keyId?: string;
  manifest: ImageManifest;
  sha256: string;
  /** base64 Ed25519 signature; absent in an unsigned image */
  sig?: string;
  size: number;
}

export type RejectionKind =
  | "truncated" | "bad-magic" | "unsupported-format" | "malformed" | "tampered" | "unsigned"
  | "unknown-key" | "bad-signature" | "manifest-invalid" | "wasm-invalid"
  // policy (host/board/policy.ts) and store (host/board/store.ts) refusals
  | "downgrade" | "same-version" | "interface-leak" | "plan-invalid" | "busy" | "not-staged"
  // the signing key is listed in the board profile's revokedKeys (host/board/store.ts)
  | "revoked";

export interface Rejection { ok: false; kind: RejectionKind; reason: string }

export interface VerifiedImage {
  ok: true;
  manifest: Manifest;
  wasm: Uint8Array;
  header: ImageHeader;
  keyId: string;
  sha256: string;
}

/** A refusal as an exception, for callers that prefer to throw (the store, the CLI). */
export class RejectedError extends Error {
  readonly kind: RejectionKind;
  constructor(kind: RejectionKind, reason: string) {
    super(`${kind}: ${reason}`);
    this.name = "RejectedError";
    this.kind = kind;
  }
  get reason(): string { return this.message.slice(this.kind.length + 2); }
}

export const reject = (kind: RejectionKind, reason: string): Rejection => ({ ok: false, kind, reason });

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace,
 * strings and numbers as JSON.stringify writes them. Refuses values JSON cannot
 * carry exactly (undefined, non-finite numbers, functions, ...).
 */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v === "boolean" || typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new TypeError(`canonical JSON cannot carry the number ${v}`);
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
  }
  throw new TypeError(`canonical JSON cannot carry a ${typeof v}`);
}

export const sha256Hex = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** The manifest fields an image carries (drops `file`, which is a local path). */
export function imageManifest(m: Manifest | ImageManifest): ImageManifest {
  const out: ImageManifest = { name: m.name, version: m.version, ports: m.ports };
  if (m.description !== undefined) out.description = m.description;
  return out;
}

/** The exact bytes the Ed25519 signature covers. */
export function signedBytes(h: Pick<ImageHeader, "format" | "keyId" | "manifest" | "sha256" | "size">): Buffer {
  const body = canonicalJson({ format: h.format, keyId: h.keyId, manifest: h.manifest, sha256: h.sha256, size: h.size });
  return Buffer.from(SIGNATURE_CONTEXT + body, "utf8");
}

/** Lays out an image from a header and the wasm. Low level: no checks beyond sizes. */
export function encodeImage(header: ImageHeader, wasm: Uint8Array): Uint8Array {
  const head = Buffer.from(canonicalJson(header), "utf8");
  if (head.length > MAX_HEADER) throw new RangeError(`image header is ${head.length} bytes; the limit is ${MAX_HEADER}`);
  const out = new Uint8Array(IMAGE_PREFIX + head.length + wasm.length);
  out.set(Buffer.from(IMAGE_MAGIC, "latin1"), 0);
  const dv = new DataView(out.buffer);
  dv.setUint16(4, header.format, true);
  dv.setUint32(6, head.length, true);
  out.set(head, IMAGE_PREFIX);
  out.set(wasm, IMAGE_PREFIX + head.length);
  return out;
}

export interface SignInput {
  /** a Manifest from loadManifest/validateManifest, or the raw manifest JSON (validated here) */
  manifest: unknown;
  wasm: Uint8Array;
  /** Ed25519 private key (KeyObject or PEM) */
  key: KeyObject | string | Buffer;
  keyId: string;
}

/** Builds a signed image. Throws (ManifestError, TypeError) on a bad manifest, key or key id. */
export function signImage({ manifest, wasm, key, keyId }: SignInput): Uint8Array {
  if (!KEY_ID.test(keyId)) throw new TypeError(`key id ${JSON.stringify(keyId)} must be 1-64 characters of A-Z a-z 0-9 . _ - and start with a letter or digit`);
  if (wasm.length > MAX_WASM) throw new RangeError(`wasm is ${wasm.length} bytes; the limit is ${MAX_WASM}`);
  const file = typeof manifest === "object" && manifest !== null && typeof (manifest as Manifest).file === "string" ? (manifest as Manifest).file : "<manifest>";
  const m = imageManifest(validateManifest(manifest, file));
  const header: ImageHeader = { format: IMAGE_FORMAT, keyId, manifest: m, sha256: sha256Hex(wasm), size: wasm.length };
  const priv = typeof key === "string" || Buffer.isBuffer(key) ? createPrivateKey(key) : key;
  if (priv.type !== "private" || priv.asymmetricKeyType !== "ed25519") throw new TypeError(`key must be an Ed25519 private key (got ${priv.type} ${priv.asymmetricKeyType})`);
  header.sig = sign(null, signedBytes(header), priv).toString("base64");
  return encodeImage(header, wasm);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Checks an image against the board's trusted keys (key id -> Ed25519 public
 * key). Returns the manifest and wasm, or the reason it is refused.
 */
export function verifyImage(bytes: Uint8Array, trustedKeys: Record<string, KeyObject | string>): VerifiedImage | Rejection {
  const n = bytes.length;
  if (n < IMAGE_PREFIX) return reject("truncated", `image is ${n} bytes; its fixed prefix alone (magic, format, header length) is ${IMAGE_PREFIX}`);
  const magic = Buffer.from(bytes.subarray(0, 4)).toString("latin1");
  if (magic !== IMAGE_MAGIC) return reject("bad-magic", `not a GSU image: starts with ${Buffer.from(bytes.subarray(0, 4)).toString("hex")}, expected ${Buffer.from(IMAGE_MAGIC).toString("hex")} ("GSUI")`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = dv.getUint16(4, true);
  if (format !== IMAGE_FORMAT) return reject("unsupported-format", `image format ${format}; this gsu reads format ${IMAGE_FORMAT}`);
  const hlen = dv.getUint32(6, true);
  if (hlen === 0 || hlen > MAX_HEADER) return reject("malformed", `header length ${hlen} is outside 1..${MAX_HEADER}`);
  if (n < IMAGE_PREFIX + hlen) return reject("truncated", `image is ${n} bytes; its header alone needs ${IMAGE_PREFIX + hlen} (header length ${hlen})`);
  const headBytes = bytes.subarray(IMAGE_PREFIX, IMAGE_PREFIX + hlen);
  let text: string;
  let raw: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headBytes);
    raw = JSON.parse(text);
  } catch (e) {
    return reject("malformed", `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isObj(raw)) return reject("malformed", "header must be a JSON object");
  const h = raw;
  if (h.format !== format) return reject("malformed", `header field "format" is ${JSON.stringify(h.format)} but the prefix says ${format}`);
  if (typeof h.size !== "number" || !Number.isInteger(h.size) || h.size < 0 || h.size > MAX_WASM) return reject("malformed", `header field "size" must be an integer in 0..${MAX_WASM} (got ${JSON.stringify(h.size)})`);
  if (typeof h.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(h.sha256)) return reject("malformed", `header field "sha256" must be 64 lowercase hex digits`);
  if (!isObj(h.manifest)) return reject("malformed", `header field "manifest" must be an object`);
  if (h.keyId !== undefined && (typeof h.keyId !== "string" || !KEY_ID.test(h.keyId))) return reject("malformed", `header field "keyId" must be a key id such as "ground-1" (got ${JSON.stringify(h.keyId)})`);
  if (h.sig !== undefined && (typeof h.sig !== "string" || !/^[A-Za-z0-9+/]{86}==$/.test(h.sig))) return reject("malformed", `header field "sig" must be a base64 Ed25519 signature (64 bytes)`);
  const extra = Object.keys(h).filter((k) => !["format", "keyId", "manifest", "sha256", "sig", "size"].includes(k));
  if (extra.length) return reject("malformed", `header has unknown field(s) ${extra.map((k) => JSON.stringify(k)).join(", ")}`);
  let canonical: string;
  try { canonical = canonicalJson(h); } catch (e) { return reject("malformed", `header: ${(e as Error).message}`); }
  if (canonical !== text) return reject("malformed", "header is not in canonical form (sorted keys, no whitespace)");
  const have = n - IMAGE_PREFIX - hlen;
  const size = h.size;
  if (have < size) return reject("truncated", `image is ${n} bytes but needs ${IMAGE_PREFIX + hlen + size}: the wasm has ${have} of its ${size} bytes`);
  if (have > size) return reject("malformed", `${have - size} trailing byte(s) after the ${size}-byte wasm`);
  const header = h as unknown as ImageHeader;
  const what = `${typeof header.manifest.name === "string" ? header.manifest.name : "?"}@${typeof header.manifest.version === "string" ? header.manifest.version : "?"}`;
  if (header.sig === undefined || header.keyId === undefined) {
    return reject("unsigned", `image ${what} is unsigned${header.keyId === undefined ? " (no key id, no signature)" : " (no signature)"}; sign it with gsu sign`);
  }
  const trusted = Object.keys(trustedKeys);
  const pubRaw = Object.hasOwn(trustedKeys, header.keyId) ? trustedKeys[header.keyId] : undefined;
  if (pubRaw === undefined) {
    return reject("unknown-key", `image ${what} is signed by key ${header.keyId}, which this board does not trust (trusted: ${trusted.length ? trusted.sort().join(", ") : "none"})`);
  }
  const pub = typeof pubRaw === "string" ? createPublicKey(pubRaw) : pubRaw;
  let good = false;
  try {
    const sig = Buffer.from(header.sig, "base64");
    // one spelling only: unused base64 bits must be zero (else 16 strings verify as one image)
    if (sig.toString("base64") !== header.sig) return reject("malformed", `header field "sig" is not canonical base64`);
    good = verify(null, signedBytes(header), pub, sig);
  } catch { good = false; }
  if (!good) {
    return reject("bad-signature", `signature does not match key ${header.keyId}: image ${what}'s header (manifest, sha256, size or key id) was altered after signing, or it was signed by another key`);
  }
  const wasm = bytes.subarray(IMAGE_PREFIX + hlen);
  const actual = sha256Hex(wasm);
  if (actual !== header.sha256) {
    return reject("tampered", `wasm of ${what} does not match its signed sha256: the header says ${header.sha256.slice(0, 16)}…, the bytes hash to ${actual.slice(0, 16)}…`);
  }
  let manifest: Manifest;
  try {
    manifest = validateManifest(header.manifest, `image ${what}`);
  } catch (e) {
    return reject("manifest-invalid", (e as Error).message);
  }
  if (!WebAssembly.validate(wasm as Uint8Array<ArrayBuffer>)) return reject("wasm-invalid", `image ${what}: the signed payload is not a valid WebAssembly module`);
  return { ok: true, manifest, wasm, header, keyId: header.keyId, sha256: actual };
}

/**
 * The key id an image's header names, without verifying anything (undefined when
 * the header cannot be read or names none): how a board tells a revoked key from
 * an unknown one.
 */
export function imageKeyId(bytes: Uint8Array): string | undefined {
  if (bytes.length < IMAGE_PREFIX) return undefined;
  const hlen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(6, true);
  if (hlen === 0 || hlen > MAX_HEADER || bytes.length < IMAGE_PREFIX + hlen) return undefined;
  try {
    const h = JSON.parse(new TextDecoder().decode(bytes.subarray(IMAGE_PREFIX, IMAGE_PREFIX + hlen))) as { keyId?: unknown };
    return typeof h?.keyId === "string" && KEY_ID.test(h.keyId) ? h.keyId : undefined;
  } catch { return undefined; }
}

/** verifyImage that throws RejectedError. */
export function verifyImageOrThrow(bytes: Uint8Array, trustedKeys: Record<string, KeyObject | string>): VerifiedImage {
  const r = verifyImage(bytes, trustedKeys);
  if (!r.ok) throw new RejectedError(r.kind, r.reason);
  return r;
}

/** A few lines describing a verified image (gsu verify, gsu sign). */
export function describeImage(v: VerifiedImage): string[] {
  const m = v.manifest;
  const lines = [
    `${m.name} ${m.version}: signed by ${v.keyId}, wasm ${v.header.size} bytes, sha256 ${v.sha256}`,
  ];
  if (m.description) lines.push(`  ${m.description}`);
  for (const p of m.ports) {
    let l = `  port ${p.port} ${p.name.padEnd(10)} ${p.dir.padEnd(3)} ${p.iface}`;
    if (p.device) l += `  device ${p.device}`;
    if (p.at) l += `  AT: ${p.at.size} B, ${p.at.fields.map((f) => `${f.name}${f.min !== undefined || f.max !== undefined ? ` in [${f.min ?? "-inf"}, ${f.max ?? "inf"}]` : ""}`).join(", ")}`;
    lines.push(l);
  }
  return lines;
}
