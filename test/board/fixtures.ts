// Shared by the board tests: keys, signed images of the demo components, temp dirs.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadManifest, type Manifest } from "../../host/component/manifest.ts";
import { manifestPath, wasmPath } from "../../host/component/demo.ts";
import { signImage } from "../../host/board/image.ts";

const made: string[] = [];
/** A fresh temp directory, removed by cleanupTmp() (call it in afterAll). */
export const tmp = (what = "store"): string => {
  const d = mkdtempSync(join(tmpdir(), `gsu-${what}-`));
  made.push(d);
  return d;
};
export const cleanupTmp = (): void => { for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true }); };

export interface Key { priv: KeyObject; pub: KeyObject }
export const newKey = (): Key => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { priv: privateKey, pub: publicKey };
};

export const ground1 = newKey();
export const rogue = newKey();
export const trusted = { "ground-1": ground1.pub };

export const manifestOf = (name: string, version: string): Manifest => loadManifest(manifestPath(name, version));
export const wasmOf = (name: string, version: string): Uint8Array => readFileSync(wasmPath(name, version));

/** A signed image of examples/NAME/VERSION. */
export function image(name: string, version: string, { key = ground1, keyId = "ground-1", manifest }: { key?: Key; keyId?: string; manifest?: unknown } = {}): Uint8Array {
  return signImage({ manifest: manifest ?? manifestOf(name, version), wasm: wasmOf(name, version), key: key.priv, keyId });
}

/** examples/NAME/FROM's manifest and wasm, signed as version AS (for downgrade cases). */
export function relabelled(name: string, from: string, as: string): Uint8Array {
  const m = manifestOf(name, from);
  return signImage({ manifest: { ...m, version: as }, wasm: wasmOf(name, from), key: ground1.priv, keyId: "ground-1" });
}

/** Writes signed images of the demo's estimator and controller, 1.0.0 and 2.0.0, and the trusted key, for a child process. */
export function writeCrashFixtures(dir: string): void {
  for (const n of ["estimator", "controller"]) for (const v of ["1.0.0", "2.0.0"]) writeFileSync(join(dir, `${n}-${v}.gsui`), image(n, v));
  writeFileSync(join(dir, "ground-1.pub"), ground1.pub.export({ format: "pem", type: "spki" }));
}
