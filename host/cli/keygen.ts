// gsu keygen: an Ed25519 key pair for signing component images.
import { mkdirSync } from "node:fs";
import { parseCommandArgs, UsageError } from "./args.ts";
import { KEY_ID } from "../board/image.ts";
import { writeKeyPair, writeLinkKey, writeStatusKey } from "../board/keys.ts";

export const help = `Usage: gsu keygen --name NAME [--out DIR] [--force]
       gsu keygen --link-key NAME [--out DIR] [--force]
       gsu keygen --status-key NAME [--out DIR] [--force]

Generates an Ed25519 key pair for signing component images (gsu sign):
  DIR/NAME.key   the private key, PKCS#8 PEM, mode 0600. Keep it on the ground.
  DIR/NAME.pub   the public key, SPKI PEM. Put it in each board's trusted keys.
NAME is the key id that signed images carry (e.g. ground-1).

With --link-key: DIR/NAME.link, a deployment's link key (32 random bytes as 64 hex
digits, mode 0600). Copy it to every board of the deployment and name it in each
profile ("linkKey"): protocol control frames between boards then carry its MAC.
gsu flash copies it to /etc/gsu/ with mode 0600 when the profile names it by a
path beside the profile (hardware/README.md).

With --status-key: DIR/NAME.status, a read-only status key (64 hex digits, mode
0600). A profile with "status": "key:FILE" answers status queries carrying its MAC
(gsu status --status-key FILE); it commands nothing.

Options:
  --name NAME   key id: 1-64 characters of A-Z a-z 0-9 . _ -, starting with a
                letter or digit (required)
  --out DIR     where to write the two files (default: the current directory;
                created if missing)
  --force       overwrite existing files (otherwise an existing file is an error)

Exit status: 0 written, 1 could not write, 2 bad arguments.`;

export function run(argv: string[]): number {
  const { values } = parseCommandArgs(argv, {
    name: { type: "string" }, out: { type: "string" }, force: { type: "boolean" }, "link-key": { type: "string" }, "status-key": { type: "string" },
  });
  if (values["status-key"] !== undefined) {
    if (!KEY_ID.test(values["status-key"])) throw new UsageError(`keygen: --status-key ${JSON.stringify(values["status-key"])} must be 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit`);
    mkdirSync(values.out ?? ".", { recursive: true });
    const f = writeStatusKey(values["status-key"], values.out ?? ".", { force: values.force ?? false });
    console.log(`status key: ${f} (mode 0600; a profile with "status": "key:${f}" answers gsu status --status-key ${f}; it commands nothing)`);
    return 0;
  }
  if (values["link-key"] !== undefined) {
    if (!KEY_ID.test(values["link-key"])) throw new UsageError(`keygen: --link-key ${JSON.stringify(values["link-key"])} must be 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit`);
    mkdirSync(values.out ?? ".", { recursive: true });
    const f = writeLinkKey(values["link-key"], values.out ?? ".", { force: values.force ?? false });
    console.log(`link key: ${f} (mode 0600; copy it to every board of the deployment, profile "linkKey")`);
    return 0;
  }
  if (!values.name) throw new UsageError("keygen: --name is required (the key id, e.g. --name ground-1)");
  if (!KEY_ID.test(values.name)) throw new UsageError(`keygen: --name ${JSON.stringify(values.name)} must be 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit`);
  const dir = values.out ?? ".";
  mkdirSync(dir, { recursive: true });
  const r = writeKeyPair(values.name, dir, { force: values.force ?? false });
  console.log(`private key: ${r.keyFile} (mode 0600; keep it secret)`);
  console.log(`public key:  ${r.pubFile}`);
  console.log(`key id ${values.name}, fingerprint ${r.fingerprint}`);
  return 0;
}
