// gsu keygen, gsu sign, gsu verify.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureExamplesBuilt } from "../examples-build.ts";
import { manifestPath, wasmPath } from "../../host/component/demo.ts";
import { cleanupTmp, tmp } from "./fixtures.ts";

afterAll(() => cleanupTmp());

const root = fileURLToPath(new URL("../..", import.meta.url));
function gsu(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/gsu.js", ...args], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(async () => {
  await ensureExamplesBuilt();
  dir = tmp("cli");
  expect(gsu("keygen", "--name", "ground-1", "--out", join(dir, "keys")).status).toBe(0);
  expect(gsu("keygen", "--name", "rogue", "--out", join(dir, "rogue")).status).toBe(0);
}, 120_000);

describe("gsu keygen / sign / verify", () => {
  it("keygen writes NAME.key (0600) and NAME.pub, and will not overwrite without --force", () => {
    const key = join(dir, "keys", "ground-1.key");
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(key, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(join(dir, "keys", "ground-1.pub"), "utf8")).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const again = gsu("keygen", "--name", "ground-1", "--out", join(dir, "keys"));
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/ground-1\.key already exists; remove it or pass --force/);
  });

  it("sign --component, then verify prints the manifest summary", () => {
    const out = join(dir, "est2.gsui");
    const s = gsu("sign", "--key", join(dir, "keys", "ground-1.key"), "--key-id", "ground-1", "--component", "estimator@2.0.0", "--out", out);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/estimator 2\.0\.0: signed by ground-1/);
    const v = gsu("verify", "--trust", join(dir, "keys"), out);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/OK\nestimator 2\.0\.0: signed by ground-1, wasm \d+ bytes, sha256 [0-9a-f]{64}/);
    expect(v.stdout).toMatch(/port 1 attitude\s+out attitude\.quat@2/);
    const j = gsu("verify", "--json", "--trust", join(dir, "keys", "ground-1.pub"), out);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: true, keyId: "ground-1", manifest: { name: "estimator", version: "2.0.0" } });
  });

  it("sign --manifest --wasm (key id from the file name) gives the same image", () => {
    const a = join(dir, "c2-a.gsui"), b = join(dir, "c2-b.gsui");
    expect(gsu("sign", "--key", join(dir, "keys", "ground-1.key"), "--component", "controller@2.0.0", "--out", a).status).toBe(0);
    const r = gsu("sign", "--key", join(dir, "keys", "ground-1.key"), "--manifest", manifestPath("controller", "2.0.0"), "--wasm", wasmPath("controller", "2.0.0"), "--out", b);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(gsu("verify", "--trust", join(dir, "keys"), b).stdout).toMatch(/port 1 wheel\s+out wheel\.cmd@1\s+device wheel\s+AT: 16 B/);
  });

  it("verify refuses, with the reason, and exits 1", () => {
    const good = join(dir, "est1.gsui");
    expect(gsu("sign", "--key", join(dir, "keys", "ground-1.key"), "--component", "estimator@1.0.0", "--out", good).status).toBe(0);
    const bytes = readFileSync(good);
    const tampered = join(dir, "tampered.gsui");
    const t = Buffer.from(bytes); t[t.length - 3] ^= 1;
    writeFileSync(tampered, t);
    let r = gsu("verify", "--trust", join(dir, "keys"), tampered);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/REJECTED \(tampered\): wasm of estimator@1\.0\.0 does not match its signed sha256/);
    const truncated = join(dir, "truncated.gsui");
    writeFileSync(truncated, bytes.subarray(0, 200));
    r = gsu("verify", "--trust", join(dir, "keys"), truncated);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/REJECTED \(truncated\)/);
    // signed by rogue's key but claiming to be ground-1
    const forged = join(dir, "forged.gsui");
    expect(gsu("sign", "--key", join(dir, "rogue", "rogue.key"), "--key-id", "ground-1", "--component", "estimator@1.0.0", "--out", forged).status).toBe(0);
    r = gsu("verify", "--trust", join(dir, "keys"), forged);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/REJECTED \(bad-signature\): signature does not match key ground-1/);
    r = gsu("verify", "--trust", join(dir, "rogue"), good);
    expect(r.stderr).toMatch(/REJECTED \(unknown-key\): .*signed by key ground-1, which this board does not trust \(trusted: rogue\)/);
    const j = gsu("verify", "--json", "--trust", join(dir, "keys"), truncated);
    expect(j.status).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, kind: "truncated" });
  });

  it("--help on each exits 0; bad arguments exit 2 naming the problem", () => {
    for (const c of ["keygen", "sign", "verify"]) {
      const h = gsu(c, "--help");
      expect(h.status).toBe(0);
      expect(h.stdout).toMatch(new RegExp(`Usage: gsu ${c}`));
    }
    expect(gsu("--help").stdout).toMatch(/^\s+keygen\s+\S[\s\S]*^\s+sign\s+\S[\s\S]*^\s+verify\s+\S/m);
    const bad: [string[], RegExp][] = [
      [["keygen"], /--name is required/],
      [["keygen", "--name", "bad name"], /--name "bad name" must be/],
      [["keygen", "--bogus"], /--bogus/],
      [["sign", "--component", "estimator@2.0.0"], /--key FILE is required/],
      [["sign", "--key", "k.key", "--component", "estimator"], /--component must look like estimator@2\.0\.0/],
      [["sign", "--key", "k.key", "--manifest", "m.json"], /give --manifest FILE and --wasm FILE/],
      [["sign", "--key", "k.key", "--component", "a@1.0.0", "--wasm", "x"], /not both/],
      [["verify", "x.gsui"], /--trust DIR_OR_PUB is required/],
      [["verify", "--trust", "k"], /exactly one image FILE \(got 0\)/],
    ];
    for (const [args, re] of bad) {
      const r = gsu(...args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    expect(existsSync(join(root, "k.key"))).toBe(false);
  });

  it("a missing key or image file exits 3 (an I/O error) with the path", () => {
    const r = gsu("sign", "--key", join(dir, "nope.key"), "--component", "estimator@1.0.0", "--out", join(dir, "x.gsui"));
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/cannot read key .*nope\.key: ENOENT/);
    const v = gsu("verify", "--trust", join(dir, "keys"), join(dir, "nope.gsui"));
    expect(v.status).toBe(3);
    expect(v.stderr).toMatch(/cannot read .*nope\.gsui: ENOENT/);
  });
});
