// The issue's end-to-end flow as a user types it: every ground step is a `gsu`
// command (its own OS process) talking to the board daemon over a PTY serial
// link: keygen, sign, upload with a progress trace, upgrade, fault injection by
// telecommand, detection/recovery/takeover seen as events, restart, old version.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PtyPair, socatMissing } from "../serial/socat.ts";

const root = join(import.meta.dirname, "../..");
const gsu = (...args: string[]) => spawnSync(process.execPath, [join(root, "bin/gsu.js"), ...args], { encoding: "utf8", timeout: 60_000 });

describe.skipIf(!!socatMissing)(`ground commands against the board daemon over a PTY${socatMissing ? `: skipped, ${socatMissing}` : ""}`, () => {
  const dir = mkdtempSync(join(tmpdir(), "gsu-e2e-cli-"));
  const pair = new PtyPair();
  let board: ChildProcess | null = null;
  let out = "";
  const link = () => ["--link", `serial:${pair.b}@115200`, "--board", "1", "--timeout", "10"];
  const key = () => ["--key", join(dir, "ground.key")];
  const tkey = () => [...key(), "--target", "testbed"];
  const profile = join(dir, "profile.json");

  async function startBoard(): Promise<void> {
    out = "";
    board = spawn(process.execPath, [join(root, "bin/gsu.js"), "board", "--profile", profile, "--sim-devices", "100"], { stdio: ["ignore", "pipe", "pipe"] });
    board.stdout!.on("data", (d) => { out += d; });
    board.stderr!.on("data", (d) => { out += d; });
    const t0 = Date.now();
    while (!out.includes("serving the ground")) {
      if (Date.now() - t0 > 15_000) throw new Error(`board did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  beforeAll(async () => {
    expect(gsu("keygen", "--name", "ground", "--out", dir).status).toBe(0);
    writeFileSync(profile, JSON.stringify({
      name: "testbed", node: 1, links: [{ kind: "serial", path: pair.a, baud: 115200 }], stateDir: join(dir, "state"),
      components: ["sensor@1.0.0", "estimator@1.0.0", "controller@1.0.0", "fdir@1.0.0", "telemetry@1.0.0"],
      trustedKeys: { ground: join(dir, "ground.pub") }, at: { commit: "manual" },
    }));
    await pair.up();
    await startBoard();
  }, 30_000);
  afterAll(async () => { board?.kill("SIGKILL"); await pair.dispose(); });

  it("sign and upload v2 (progress shown), a tampered image refused with the reason", () => {
    for (const c of ["estimator", "controller"]) {
      const s = gsu("sign", ...key(), "--component", `${c}@2.0.0`, "--out", join(dir, `${c}.gsui`));
      expect(s.status, s.stderr).toBe(0);
    }
    const bad = readFileSync(join(dir, "estimator.gsui"));
    bad[bad.length - 20] ^= 0x55;
    writeFileSync(join(dir, "bad.gsui"), bad);
    const r = gsu("upload", ...link(), ...tkey(), join(dir, "bad.gsui"));
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/rejected/i);
    for (const c of ["estimator", "controller"]) {
      const u = gsu("upload", ...link(), ...tkey(), join(dir, `${c}.gsui`));
      expect(u.status, u.stdout + u.stderr).toBe(0);
      expect(u.stdout).toMatch(/100%/);
      expect(u.stdout + u.stderr).toMatch(new RegExp(`${c} 2\\.0\\.0 staged`));
    }
  }, 60_000);

  it("upgrade, then a fault by telecommand: the failed AT, rollback and takeover arrive as events", () => {
    const up = gsu("upgrade", ...link(), ...tkey(), "estimator@2.0.0", "controller@2.0.0");
    expect(up.status, up.stdout + up.stderr).toBe(0);
    const f = gsu("fault", ...link(), ...tkey(), "--watch", "3", "estimator@0");
    expect(f.status, f.stdout + f.stderr).toBe(0);
    expect(f.stdout).toMatch(/AT_FAILED/);
    expect(f.stdout).toMatch(/TAKEOVER/);
    expect(f.stdout).toMatch(/RECOVERED/);
  }, 60_000);

  it("a replayed sequence number is refused; after a kill -9 the board runs the old version and says so", async () => {
    const r = gsu("status", ...link(), ...tkey(), "--seq", "1");
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/replayed/);
    board!.kill("SIGKILL");
    await new Promise((res) => setTimeout(res, 200));
    await startBoard();
    expect(out).toMatch(/estimator: running 1\.0\.0/);
    const s = gsu("status", ...link(), ...tkey(), "--json");
    expect(s.status, s.stdout + s.stderr).toBe(0);
    const st = JSON.parse(s.stdout);
    expect(st.instances.find((i: { comp: string }) => i.comp === "estimator").version).toBe("1.0.0");
    expect(st.store.join("\n")).toMatch(/estimator: nothing committed; slot . holds 2\.0\.0 \(recovered/);
  }, 60_000);

  it("commit v2; a downgrade to v1 is refused without --allow-downgrade and accepted with it", () => {
    for (const comp of ["estimator", "controller"]) { // the recovery un-staged them: upload again
      const u = gsu("upload", ...link(), ...tkey(), join(dir, `${comp}.gsui`));
      expect(u.status, u.stdout + u.stderr).toBe(0);
    }
    const up = gsu("upgrade", ...link(), ...tkey(), "estimator@2.0.0", "controller@2.0.0");
    expect(up.status, up.stdout + up.stderr).toBe(0);
    const c = gsu("commit", ...link(), ...tkey());
    expect(c.status, c.stdout + c.stderr).toBe(0);
    for (const comp of ["estimator", "controller"]) {
      expect(gsu("sign", ...key(), "--component", `${comp}@1.0.0`, "--out", join(dir, `${comp}-1.gsui`)).status).toBe(0);
      const u = gsu("upload", ...link(), ...tkey(), join(dir, `${comp}-1.gsui`));
      expect(u.status, u.stdout + u.stderr).toBe(0);
    }
    const no = gsu("upgrade", ...link(), ...tkey(), "estimator@1.0.0", "controller@1.0.0");
    expect(no.status).toBe(1);
    expect(no.stdout + no.stderr).toMatch(/1\.0\.0 is older than the running 2\.0\.0; refusing a downgrade without --allow-downgrade/);
    const st = JSON.parse(gsu("status", ...link(), ...tkey(), "--json").stdout);
    expect(st.guarded).toBe(false);
    expect(st.instances.find((i: { comp: string }) => i.comp === "estimator").version).toBe("2.0.0");
    const yes = gsu("upgrade", ...link(), ...tkey(), "--allow-downgrade", "estimator@1.0.0", "controller@1.0.0");
    expect(yes.status, yes.stdout + yes.stderr).toBe(0);
  }, 90_000);
});
