// Ed25519 signing keys for images: generation (gsu keygen), loading (gsu sign),
// and the trusted public keys a board or `gsu verify` checks images against.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { closeSync, fchmodSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { KEY_ID } from "./image.ts";

export class KeyError extends Error {
  constructor(message: string) { super(message); this.name = "KeyError"; }
}

export interface KeyPairFiles { keyFile: string; pubFile: string; fingerprint: string }

/** First 16 hex digits of the sha256 of the raw 32-byte public key. */
export function fingerprint(pub: KeyObject): string {
  const raw = pub.export({ format: "der", type: "spki" }).subarray(-32);
  return createHash("sha256").update(raw).digest("hex").slice(0, 16);
}

/**
 * Writes a new file with exactly `mode`, whatever existed before. With `force`
 * the text goes to a fresh temp file (created 0600 or `mode`, then fchmod'ed) that
 * is renamed over the old one: an existing file's mode (say a world-readable 0644
 * key) is never inherited, and the new key never sits in a readable file.
 */
function writeNew(path: string, text: string, mode: number, force: boolean): void {
  const target = force ? `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp` : path;
  let fd: number;
  try {
    fd = openSync(target, "wx", mode & 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new KeyError(`${path} already exists; remove it or pass --force`);
    throw new KeyError(`cannot write ${path}: ${(e as Error).message}`);
  }
  try {
    fchmodSync(fd, mode); // the umask cannot widen it, an old file's mode cannot either
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(target); } catch { /* gone */ }
    throw new KeyError(`cannot write ${path}: ${(e as Error).message}`);
  }
  closeSync(fd);
  if (force) {
    try { renameSync(target, path); } catch (e) {
      try { unlinkSync(target); } catch { /* gone */ }
      throw new KeyError(`cannot replace ${path}: ${(e as Error).message}`);
    }
  }
  try { const d = openSync(dirname(path), "r"); try { fsyncSync(d); } finally { closeSync(d); } } catch { /* best effort */ }
}

/** Writes DIR/NAME.key (PKCS#8 PEM, mode 0600) and DIR/NAME.pub (SPKI PEM). */
export function writeKeyPair(name: string, dir: string, { force = false } = {}): KeyPairFiles {
  if (!KEY_ID.test(name)) throw new KeyError(`key name ${JSON.stringify(name)} must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit (it becomes the key id)`);
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const keyFile = join(dir, `${name}.key`);
  const pubFile = join(dir, `${name}.pub`);
  // open(2) applies the umask to the mode; 0600 is already the strictest useful one.
  writeNew(keyFile, privateKey.export({ format: "pem", type: "pkcs8" }) as string, 0o600, force);
  writeNew(pubFile, publicKey.export({ format: "pem", type: "spki" }) as string, 0o644, force);
  return { keyFile, pubFile, fingerprint: fingerprint(publicKey) };
}

/**
 * DIR/NAME.link: a deployment's link key (32 random bytes as 64 hex digits, mode
 * 0600) for authenticated control frames between boards; every board of the
 * deployment gets the same file (profile "linkKey"). docs/wire.md.
 */
export function writeLinkKey(name: string, dir: string, { force = false } = {}): string {
  if (!KEY_ID.test(name)) throw new KeyError(`link key name ${JSON.stringify(name)} must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit`);
  const file = join(dir, `${name}.link`);
  writeNew(file, `${randomBytes(32).toString("hex")}\n`, 0o600, force);
  return file;
}

/**
 * DIR/NAME.status: a read-only status key (32 random bytes as 64 hex digits, mode
 * 0600) for boards whose profile says "status": "key:FILE". It lets its holder read
 * status (gsu status --status-key FILE) and nothing else: give it to whoever
 * watches the boards, not the signing key. docs/wire.md, "Management frames".
 */
export function writeStatusKey(name: string, dir: string, { force = false } = {}): string {
  if (!KEY_ID.test(name)) throw new KeyError(`status key name ${JSON.stringify(name)} must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit`);
  const file = join(dir, `${name}.status`);
  writeNew(file, `${randomBytes(32).toString("hex")}\n`, 0o600, force);
  return file;
}

export function loadPrivateKey(path: string): KeyObject {
  let text: Buffer;
  try { text = readFileSync(path); } catch (e) { throw new KeyError(`cannot read key ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
  let k: KeyObject;
  try { k = createPrivateKey(text); } catch (e) { throw new KeyError(`${path} is not a private key in PEM (${(e as Error).message})`); }
  if (k.asymmetricKeyType !== "ed25519") throw new KeyError(`${path} is a ${k.asymmetricKeyType} key; gsu signs with Ed25519 (make one with gsu keygen)`);
  return k;
}

export function loadPublicKey(path: string): KeyObject {
  let text: Buffer;
  try { text = readFileSync(path); } catch (e) { throw new KeyError(`cannot read public key ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
  let k: KeyObject;
  try { k = createPublicKey(text); } catch (e) { throw new KeyError(`${path} is not a public key in PEM (${(e as Error).message})`); }
  if (k.asymmetricKeyType !== "ed25519") throw new KeyError(`${path} is a ${k.asymmetricKeyType} key; gsu trusts only Ed25519 keys`);
  return k;
}

/**
 * Trusted keys from .pub files and directories of them. The key id is the
 * file name without .pub (ground-1.pub -> ground-1). Two files giving the same
 * id are refused.
 */
export function loadTrustedKeys(paths: string[]): Record<string, KeyObject> {
  const out: Record<string, KeyObject> = {};
  const from: Record<string, string> = {};
  const add = (file: string) => {
    const id = basename(file).replace(/\.pub$/, "");
    if (!KEY_ID.test(id)) throw new KeyError(`${file}: ${JSON.stringify(id)} is not a usable key id`);
    if (Object.hasOwn(out, id)) throw new KeyError(`key id ${id} is given twice: ${from[id]} and ${file}`);
    out[id] = loadPublicKey(file);
    from[id] = file;
  };
  for (const p of paths) {
    let st;
    try { st = statSync(p); } catch (e) { throw new KeyError(`cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
    if (st.isDirectory()) {
      const pubs = readdirSync(p).filter((f) => f.endsWith(".pub")).sort();
      if (pubs.length === 0) throw new KeyError(`${p} holds no .pub files`);
      for (const f of pubs) add(join(p, f));
    } else {
      add(p);
    }
  }
  return out;
}
