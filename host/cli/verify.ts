// gsu verify: checks a signed image as a board would, and says what is in it or why it is refused.
import { readFileSync } from "node:fs";
import { parseCommandArgs, UsageError } from "./args.ts";
import { canonicalJson, describeImage, verifyImage } from "../board/image.ts";
import { loadTrustedKeys } from "../board/keys.ts";

export const help = `Usage: gsu verify --trust DIR_OR_PUB [--trust ...] [--json] FILE

Checks a signed image (gsu sign) exactly as a board does before staging it:
format, size, signature by a trusted key, the wasm's sha256, the manifest and
the wasm module. Prints the manifest summary, or the reason it is refused.

Options:
  --trust PATH   a .pub file, or a directory of .pub files; the key id is the
                 file name without .pub. Repeatable. (required)
  --json         print {"ok":true,"name",...} or {"ok":false,"kind","reason"}

Exit status: 0 the image verifies, 1 it is refused, 2 bad arguments, 3 a file
cannot be read.`;

export function run(argv: string[]): number {
  const { values, positionals } = parseCommandArgs(argv, {
    trust: { type: "string", multiple: true }, json: { type: "boolean" },
  }, { allowPositionals: true });
  if (!values.trust?.length) throw new UsageError("verify: --trust DIR_OR_PUB is required (the public keys to accept)");
  if (positionals.length !== 1) throw new UsageError(`verify: give exactly one image FILE (got ${positionals.length})`);
  const file = positionals[0];
  const keys = loadTrustedKeys(values.trust);
  let bytes: Buffer;
  try { bytes = readFileSync(file); } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const v = verifyImage(bytes, keys);
  if (values.json) {
    if (v.ok) {
      const { file: _f, ...manifest } = v.manifest;
      void _f;
      console.log(canonicalJson({ ok: true, keyId: v.keyId, sha256: v.sha256, size: v.header.size, manifest }));
    } else {
      console.log(canonicalJson({ ok: false, kind: v.kind, reason: v.reason }));
    }
    return v.ok ? 0 : 1;
  }
  if (!v.ok) {
    console.error(`${file}: REJECTED (${v.kind}): ${v.reason}`);
    return 1;
  }
  console.log(`${file}: OK`);
  for (const l of describeImage(v)) console.log(l);
  return 0;
}
