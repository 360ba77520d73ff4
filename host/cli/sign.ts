// gsu sign: a signed image (docs/wire.md, "Signed component images") from a component's manifest and wasm.
import { createPublicKey } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { parseCommandArgs, UsageError } from "./args.ts";
import { loadManifest } from "../component/manifest.ts";
import { manifestPath, wasmPath } from "../component/demo.ts";
import { describeImage, KEY_ID, signImage, verifyImage } from "../board/image.ts";
import { loadPrivateKey } from "../board/keys.ts";
import { abiMismatches } from "../component/abi-check.ts";

export const help = `Usage: gsu sign --key FILE [--key-id ID] (--manifest FILE --wasm FILE | --component NAME@VERSION) [--out FILE]

Writes a signed image: the component's manifest (name, version, interface per
port, acceptance tests), its wasm, the wasm's sha256 and an Ed25519 signature.
A board accepts it only if ID is one of its trusted keys (docs/wire.md, "Signed component images").
Before signing it checks that the wasm fits the manifest and the component ABI
(exports and their signatures, imports, checkpointed globals; output ports need
gsu.send; a gsu build-component stamp must name this manifest) and refuses,
naming each mismatch, when it does not.

Options:
  --key FILE              Ed25519 private key (PEM) from gsu keygen (required)
  --key-id ID             the key id the board knows the public key by
                          (default: the key file's name without .key)
  --manifest FILE         the component's manifest.json
  --wasm FILE             the component's compiled module
  --component NAME@VER    take examples/NAME/VER/manifest.json and
                          build/examples/NAME-VER.wasm (npm run asbuild) instead
  --out FILE              where to write the image (default NAME-VERSION.gsui)

Exit status: 0 written, 1 on a bad key, manifest or wasm (or a wasm that does
not match the manifest), 2 bad arguments.`;

export function run(argv: string[]): number {
  const { values } = parseCommandArgs(argv, {
    key: { type: "string" }, "key-id": { type: "string" }, manifest: { type: "string" }, wasm: { type: "string" },
    component: { type: "string" }, out: { type: "string" },
  });
  if (!values.key) throw new UsageError("sign: --key FILE is required (make one with gsu keygen)");
  const keyId = values["key-id"] ?? basename(values.key).replace(/\.key$/, "");
  if (!KEY_ID.test(keyId)) throw new UsageError(`sign: key id ${JSON.stringify(keyId)} must be 1-64 characters of A-Z a-z 0-9 . _ -; pass --key-id`);
  let manifestFile: string, wasmFile: string;
  if (values.component !== undefined) {
    if (values.manifest || values.wasm) throw new UsageError("sign: give either --component or --manifest and --wasm, not both");
    const m = /^([a-z][a-z0-9_-]*)@(\S+)$/.exec(values.component);
    if (!m) throw new UsageError(`sign: --component must look like estimator@2.0.0, not '${values.component}'`);
    manifestFile = manifestPath(m[1], m[2]);
    wasmFile = wasmPath(m[1], m[2]);
  } else {
    if (!values.manifest || !values.wasm) throw new UsageError("sign: give --manifest FILE and --wasm FILE, or --component NAME@VERSION");
    manifestFile = values.manifest;
    wasmFile = values.wasm;
  }
  const key = loadPrivateKey(values.key);
  const manifest = loadManifest(manifestFile);
  let wasm: Buffer;
  try { wasm = readFileSync(wasmFile); } catch (e) {
    throw new Error(`cannot read ${wasmFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}${values.component ? " (run npm run asbuild)" : ""}`);
  }
  if (!WebAssembly.validate(new Uint8Array(wasm))) throw new Error(`${wasmFile} is not a valid WebAssembly module`);
  const bad = abiMismatches(wasm, manifest, wasmFile);
  if (bad.length) {
    throw new Error(`not signed: ${wasmFile} does not match ${manifestFile} (${manifest.name}@${manifest.version}) and the component ABI:\n${bad.map((l) => `  - ${l}`).join("\n")}`);
  }
  const image = signImage({ manifest, wasm, key, keyId });
  // check the image with the matching public key before handing it out
  const v = verifyImage(image, { [keyId]: createPublicKey(key) });
  if (!v.ok) throw new Error(`the image does not verify after signing (${v.kind}: ${v.reason})`);
  const out = values.out ?? `${manifest.name}-${manifest.version}.gsui`;
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, image);
  renameSync(tmp, out);
  console.log(`wrote ${out} (${image.length} bytes)`);
  for (const l of describeImage(v)) console.log(l);
  return 0;
}
