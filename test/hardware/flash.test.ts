// gsu flash: --root lays out the board's files (asserted as a tree); the ssh
// path runs its steps in order (against fake ssh/rsync/scp on PATH); the
// deployed tree is self-contained for `npm ci --omit=dev`.
import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import {
  chmodSync, existsSync, rmSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync,
} from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { canNetworkFile, DeployError, planDeploy } from "../../host/board/deploy.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const built = existsSync(join(root, "build", "core.release.wasm")) && existsSync(join(root, "build", "examples"));
const BUILD_REASON = built ? "" : " (SKIPPED: build/ missing; run npm run asbuild)";

function gsu(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(root, "bin", "gsu.js"), ...args], {
    cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

const made: string[] = [];
const tmp = (name: string) => { const d = mkdtempSync(join(tmpdir(), `gsu-${name}-`)); made.push(d); return d; };
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

describe.skipIf(!built)(`gsu flash --root: the board's file tree${BUILD_REASON}`, () => {
  const dir = tmp("root");
  let first: ReturnType<typeof gsu>;

  it("lays out the Raspberry Pi files, printing each step", () => {
    first = gsu(["flash", "--root", dir, "--profile", "raspberry-pi"]);
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^\[1\/3\] check the build and the profile$/m);
    expect(first.stdout).toMatch(/^\[2\/3\] lay the files into /m);
    expect(first.stdout).toMatch(/^\[3\/3\] left for the board/m);
    expect(first.stdout).toContain("npm ci --omit=dev");
    expect(first.stdout).toContain("sudo systemctl enable --now gsu-board.service");
    // The shipped profile names keys/ground.pub, which is not in the repository.
    expect(first.stderr).toContain("warning: trustedKeys.ground");
  });

  it("has the system files in place, with the right content", () => {
    const files = tree(dir);
    const etc = files.filter((f) => !f.startsWith("opt/"));
    expect(etc).toEqual([
      "etc/gsu/profile.json",
      "etc/systemd/network/80-can.network",
      "etc/systemd/system/gsu-board.service",
      "etc/systemd/system/multi-user.target.wants/gsu-board.service",
    ]);
    expect(readFileSync(join(dir, "etc/gsu/profile.json"), "utf8")).toBe(readFileSync(join(root, "hardware/raspberry-pi/profile.json"), "utf8"));
    expect(readFileSync(join(dir, "etc/systemd/system/gsu-board.service"), "utf8")).toBe(readFileSync(join(root, "hardware/common/gsu-board.service"), "utf8"));
    const wants = join(dir, "etc/systemd/system/multi-user.target.wants/gsu-board.service");
    expect(lstatSync(wants).isSymbolicLink()).toBe(true);
    expect(readlinkSync(wants)).toBe("/etc/systemd/system/gsu-board.service");
    const net = readFileSync(join(dir, "etc/systemd/network/80-can.network"), "utf8");
    expect(net).toMatch(/^\[Match\]\nName=can0$/m);
    expect(net).toMatch(/^\[CAN\]\nBitRate=500K$/m);
  });

  it("has the runtime under opt/gsu: bin, host, build, examples' manifests, package files, this board's hardware", () => {
    const opt = tree(join(dir, "opt/gsu"));
    for (const f of [
      "bin/gsu.js", "host/cli/main.js", "host/cli/flash.js", "host/board/profile.js", "host/core/core.js",
      "build/core.release.wasm", "build/examples/estimator-1.0.0.wasm", "build/examples/controller-2.0.0.wasm",
      "examples/system.json", "examples/estimator/1.0.0/manifest.json", "examples/controller/2.0.0/manifest.json",
      "package.json", "package-lock.json", "scripts/ensure-built.mjs",
      "hardware/README.md", "hardware/common/gsu-board.service", "hardware/common/setup-lib.sh",
      "hardware/raspberry-pi/setup.sh", "hardware/raspberry-pi/profile.json", "hardware/raspberry-pi/80-can.network", "hardware/raspberry-pi/README.md",
    ]) expect(opt, f).toContain(f);
    // Every host/ source file compiled to JavaScript (the board runs plain node), and no TypeScript,
    // test, script (but package.json's prepare hook), AssemblyScript source, other board, or node_modules.
    const hostFiles = tree(join(root, "host")).map((f) => `host/${f.replace(/\.ts$/, ".js")}`).sort();
    expect(opt.filter((f) => f.startsWith("host/")).sort()).toEqual(hostFiles);
    expect(opt.some((f) => f.endsWith(".ts"))).toBe(false);
    for (const f of opt) {
      expect(f).not.toMatch(/^(test|assembly|node_modules)\//);
      if (f.startsWith("scripts/")) expect(f).toBe("scripts/ensure-built.mjs");
      expect(f).not.toMatch(/^hardware\/beaglebone\//);
      expect(f).not.toMatch(/^examples\/.*\.ts$/);
      expect(f).not.toMatch(/^build\/.*\.(wat|map)$/);
    }
    const mode = (f: string) => statSync(join(dir, "opt/gsu", f)).mode & 0o777;
    expect(mode("bin/gsu.js")).toBe(0o755);
    expect(mode("hardware/raspberry-pi/setup.sh")).toBe(0o755);
    expect(mode("package.json")).toBe(0o644);
  });

  it("is idempotent, and removes files a fresh flash would not leave (keeping node_modules)", () => {
    const again = gsu(["flash", "--root", dir, "--profile", "raspberry-pi"]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("0 written or updated, 0 stale removed");
    writeFileSync(join(dir, "opt/gsu/host/stale.ts"), "");
    mkdirSync(join(dir, "opt/gsu/node_modules/x"), { recursive: true });
    writeFileSync(join(dir, "opt/gsu/node_modules/x/index.js"), "");
    const third = gsu(["flash", "--root", dir, "--profile", "raspberry-pi"]);
    expect(third.stdout).toContain("1 stale removed: opt/gsu/host/stale.ts");
    expect(existsSync(join(dir, "opt/gsu/host/stale.ts"))).toBe(false);
    expect(existsSync(join(dir, "opt/gsu/node_modules/x/index.js"))).toBe(true);
  });

  it("lays out the BeagleBone files: its hardware directory, its UART, can0", () => {
    const bb = tmp("root-bb");
    const r = gsu(["flash", "--root", bb, "--profile", "beaglebone"]);
    expect(r.status).toBe(0);
    const opt = tree(join(bb, "opt/gsu"));
    expect(opt).toContain("hardware/beaglebone/setup.sh");
    expect(opt.some((f) => f.startsWith("hardware/raspberry-pi/"))).toBe(false);
    expect(readFileSync(join(bb, "etc/gsu/profile.json"), "utf8")).toBe(readFileSync(join(root, "hardware/beaglebone/profile.json"), "utf8"));
    expect(r.stdout).toContain("/opt/gsu/hardware/beaglebone/setup.sh --network /etc/systemd/network/80-can.network");
    expect(r.stdout).not.toContain("--no-uart"); // /dev/ttyS4 is an on-board UART
  });

  it("--dry-run prints the plan and writes nothing", () => {
    const d = join(tmp("dry"), "root");
    const r = gsu(["flash", "--root", d, "--profile", "raspberry-pi", "--dry-run"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("would lay the files into");
    expect(r.stdout).toContain("etc/systemd/network/80-can.network");
    expect(existsSync(d)).toBe(false);
  });
});

describe.skipIf(!built)(`gsu flash: profiles from a path, keys, what setup.sh is told${BUILD_REASON}`, () => {
  const profile = (dir: string, p: Record<string, unknown>) => {
    const f = join(dir, "profile.json");
    writeFileSync(f, JSON.stringify({ name: "t", node: 9, stateDir: "/var/lib/gsu", links: [{ kind: "socketcan", iface: "can1", bitrate: 250000 }], ...p }));
    return f;
  };

  it("installs trusted keys named beside the profile and generates the .network file from its CAN link", () => {
    const src = tmp("prof");
    mkdirSync(join(src, "keys"));
    writeFileSync(join(src, "keys", "ground.pub"), generateKeyPairSync("ed25519").publicKey.export({ format: "pem", type: "spki" }) as string);
    const f = profile(src, { board: "raspberry-pi", trustedKeys: { ground: "keys/ground.pub" } });
    const out = tmp("root-keys");
    const r = gsu(["flash", "--root", out, "--profile", f]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(readFileSync(join(out, "etc/gsu/keys/ground.pub"), "utf8")).toBe(readFileSync(join(src, "keys/ground.pub"), "utf8"));
    expect(readFileSync(join(out, "etc/systemd/network/80-can.network"), "utf8")).toBe(canNetworkFile("can1", 250000));
    expect(r.stdout).toContain("--no-uart"); // no serial link on the Pi's UART
  });

  it("provisions the deployment's link key and the status key named beside the profile: 0640 in etc/gsu, chowned root:gsu on the board, never under /opt/gsu", () => {
    const src = tmp("prof-link");
    mkdirSync(join(src, "keys"));
    expect(gsu(["keygen", "--link-key", "deploy", "--out", join(src, "keys")]).status).toBe(0);
    expect(gsu(["keygen", "--status-key", "watch", "--out", join(src, "keys")]).status).toBe(0);
    const f = profile(src, { board: "raspberry-pi", linkKey: "keys/deploy.link", status: "key:keys/watch.status" });
    const out = tmp("root-link");
    const r = gsu(["flash", "--root", out, "--profile", f]);
    expect(r.status, r.stderr).toBe(0);
    for (const k of ["deploy.link", "watch.status"]) {
      const dest = join(out, "etc/gsu/keys", k);
      expect(readFileSync(dest, "utf8")).toBe(readFileSync(join(src, "keys", k), "utf8"));
      expect(statSync(dest).mode & 0o777).toBe(0o640);
      expect(r.stdout).toContain(`sudo chown root:gsu /etc/gsu/keys/${k} && sudo chmod 0640 /etc/gsu/keys/${k}`);
    }
    expect(tree(join(out, "opt")).filter((x) => /\.(link|status)$/.test(x))).toEqual([]);
    // the ssh path installs them with the same ownership
    const plan = planDeploy({ profile: f });
    expect(plan.secrets).toEqual(["etc/gsu/keys/deploy.link", "etc/gsu/keys/watch.status"]);
    // a link key the profile names but that does not exist: refused before anything is laid out
    const g = profile(tmp("prof-nolink"), { board: "raspberry-pi", linkKey: "keys/none.link" });
    const missing = gsu(["flash", "--root", tmp("root-nolink"), "--profile", g]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("linkKey: ");
    expect(missing.stderr).toContain("gsu keygen --link-key NAME");
  });

  it("refuses a private key named as a trusted key", () => {
    const src = tmp("prof-priv");
    writeFileSync(join(src, "ground.pub"), generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }) as string);
    const r = gsu(["flash", "--root", tmp("root-priv"), "--profile", profile(src, { board: "raspberry-pi", trustedKeys: { ground: "ground.pub" } })]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("trustedKeys.ground");
    expect(r.stderr).toContain("private key");
  });

  it("a profile without a socketcan link gets no .network file, and setup.sh is told --network none", () => {
    const src = tmp("prof-serial");
    const f = profile(src, { board: "beaglebone", links: [{ kind: "serial", path: "/dev/ttyUSB0", baud: 115200 }] });
    const plan = planDeploy({ profile: f });
    expect(plan.files.some((x) => x.dest.startsWith("etc/") && x.dest.endsWith(".network"))).toBe(false);
    expect(plan.setupArgs).toEqual(["--network", "none", "--unit", "etc/systemd/system/gsu-board.service", "--no-uart"]);
  });

  it("refuses, with exit 2 and the field named: a bad profile, a stateDir the unit cannot write, two CAN interfaces, no board", () => {
    const src = tmp("prof-bad");
    const cases: [Record<string, unknown>, string][] = [
      [{ board: "raspberry-pi", links: [{ kind: "socketcan", iface: "can0", bitrate: "fast" }] }, "links[0].bitrate must be an integer in 10000..1000000 (bit/s), not \"fast\""],
      [{ board: "raspberry-pi", stateDir: "/home/pi/gsu" }, "stateDir must be /var/lib/gsu"],
      [{ board: "raspberry-pi", links: [{ kind: "socketcan", iface: "can0", bitrate: 500000 }, { kind: "socketcan", iface: "can1", bitrate: 500000 }] }, "one SocketCAN interface"],
      [{}, "which board is this for?"],
      [{ board: "raspberry-pi", components: ["nosuch@1.0.0"] }, "components[0] \"nosuch@1.0.0\": examples/nosuch/1.0.0/manifest.json does not exist"],
    ];
    for (const [p, msg] of cases) {
      const r = gsu(["flash", "--root", tmp("root-bad"), "--profile", profile(src, p)]);
      expect(r.status, msg).toBe(2);
      expect(r.stderr).toContain(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const conflict = gsu(["flash", "--root", tmp("root-bad"), "--profile", "raspberry-pi", "--board", "beaglebone"]);
    expect(conflict.status).toBe(2);
    expect(conflict.stderr).toContain("given as both 'beaglebone' and 'raspberry-pi'");
  });

  it("refuses bad invocations with exit 2", () => {
    const cases: [string[], string][] = [
      [["flash", "--root", "/tmp/x"], "--profile"],
      [["flash", "--profile", "raspberry-pi"], "USER@HOST"],
      [["flash", "pi@host", "--root", "/tmp/x", "--profile", "raspberry-pi"], "not both"],
      [["flash", "pi@host", "other@host", "--profile", "raspberry-pi"], "one USER@HOST"],
      [["flash", "pi@host;reboot", "--profile", "raspberry-pi"], "is not USER@HOST"],
      [["flash", "--root", "/tmp/x", "--profile", "nosuch-board"], "no such file"],
      [["flash", "--root", "/tmp/x", "--profile", "raspberry-pi", "--board", "arduino"], "--board must be one of"],
      [["flash", "--bogus"], "--bogus"],
    ];
    for (const [args, msg] of cases) {
      const r = gsu(args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toContain(msg);
    }
  });
});

describe("gsu flash without a build", () => {
  it("says to run npm run asbuild first", () => {
    // A copy of the project's layout with no build/.
    const fake = tmp("nobuild");
    for (const d of ["bin", "host", "hardware", "examples", "package.json", "package-lock.json"]) symlinkSync(join(root, d), join(fake, d));
    let err: unknown;
    try { planDeploy({ profile: "raspberry-pi", root: fake }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(DeployError);
    expect((err as DeployError).kind).toBe("build");
    expect((err as Error).message).toContain("build/core.release.wasm is missing: run 'npm run asbuild' first");
  });
});

describe.skipIf(!built)(`gsu flash USER@HOST: the steps over ssh (fake ssh, rsync and scp on PATH)${BUILD_REASON}`, () => {
  function fakeBin(rsyncStatus: number): { bin: string; log: string } {
    const bin = tmp("fakebin");
    const log = join(bin, "calls.log");
    for (const [name, status] of [["ssh", 0], ["rsync", rsyncStatus], ["scp", 0]] as const) {
      const f = join(bin, name);
      // One line per call: the program, then its arguments separated by ' | '.
      writeFileSync(f, `#!/bin/sh\n{ printf '%s' "${name}"; for a in "$@"; do printf ' | %s' "$a"; done; echo; } >> "${log}"\nexit ${status}\n`);
      chmodSync(f, 0o755);
    }
    return { bin, log };
  }
  const calls = (log: string) => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);

  it("copies with rsync, runs setup.sh, installs, runs npm ci --omit=dev, enables the unit, in that order", () => {
    const { bin, log } = fakeBin(0);
    const r = gsu(["flash", "pi@gsu-pi.local", "--profile", "raspberry-pi"], { PATH: `${bin}:${process.env.PATH}` });
    expect(r.stderr).not.toContain("failed");
    expect(r.status).toBe(0);
    const c = calls(log);
    expect(c).toHaveLength(6);
    expect(c[0]).toMatch(/^ssh \| .*pi@gsu-pi\.local \| mkdir -p \.cache\/gsu-flash/);
    expect(c[1]).toMatch(/^rsync \| -rlptz \| --delete .* \| pi@gsu-pi\.local:\.cache\/gsu-flash\/$/);
    expect(c[2]).toContain("sudo bash .cache/gsu-flash/opt/gsu/hardware/raspberry-pi/setup.sh --network .cache/gsu-flash/etc/systemd/network/80-can.network --unit .cache/gsu-flash/etc/systemd/system/gsu-board.service");
    expect(c[3]).toContain("/opt/gsu/");
    expect(c[3]).toContain(".cache/gsu-flash/etc/gsu/ /etc/gsu/");
    expect(c[4]).toContain("cd /opt/gsu && sudo npm ci --omit=dev");
    expect(c[5]).toContain("sudo systemctl enable gsu-board.service && sudo systemctl restart gsu-board.service");
    for (let i = 1; i <= 8; i++) expect(r.stdout).toMatch(new RegExp(`^\\[${i}/8\\] `, "m"));
    expect(r.stdout).toContain("$ ssh");
  });

  it("falls back to scp when rsync fails (not installed on the board)", () => {
    const { bin, log } = fakeBin(12);
    const r = gsu(["flash", "pi@gsu-pi.local", "--profile", "raspberry-pi"], { PATH: `${bin}:${process.env.PATH}` });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("copying with scp");
    const c = calls(log);
    expect(c[1]).toMatch(/^rsync/);
    expect(c[2]).toMatch(/^ssh .*rm -rf \.cache\/gsu-flash && mkdir -p \.cache\/gsu-flash/);
    expect(c[3]).toMatch(/^scp \| -rpq .*\/opt \| .*\/etc \| pi@gsu-pi\.local:\.cache\/gsu-flash\/$/);
    expect(c.slice(4).join("\n")).toContain("npm ci --omit=dev");
  });

  it("stops at the first failing step with exit 1", () => {
    const { bin, log } = fakeBin(0);
    writeFileSync(join(bin, "ssh"), `#!/bin/sh\necho "ssh $*" >> "${log}"\nexit 255\n`);
    const r = gsu(["flash", "pi@gsu-pi.local", "--profile", "raspberry-pi"], { PATH: `${bin}:${process.env.PATH}` });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("step 3 failed: ssh exited with status 255");
    expect(calls(log)).toHaveLength(1);
  });

  it("--dry-run prints every command and runs none", () => {
    const { bin, log } = fakeBin(0);
    const r = gsu(["flash", "pi@gsu-pi.local", "--profile", "raspberry-pi", "--dry-run"], { PATH: `${bin}:${process.env.PATH}` });
    expect(r.status).toBe(0);
    expect(calls(log)).toEqual([]);
    for (const s of ["$ ssh", "$ rsync", "setup.sh", "npm ci --omit=dev", "systemctl enable gsu-board.service", "dry run: nothing was run."]) expect(r.stdout).toContain(s);
  });

  it("a board without network or systemd: --setup-dry-run, --deps-from DIR, --no-start (the emulated Pi's flash)", () => {
    const { bin, log } = fakeBin(0);
    const r = gsu(["flash", "pi@gsu-pi.local", "--profile", "raspberry-pi", "--setup-dry-run", "--deps-from", "/opt/gsu-board/node_modules", "--no-start"], { PATH: `${bin}:${process.env.PATH}` });
    expect(r.status, r.stderr).toBe(0);
    const c = calls(log);
    expect(c).toHaveLength(5);
    expect(c[2]).toMatch(/setup\.sh --network \S+ --unit \S+ --dry-run/);
    expect(c[4]).toContain("test -d /opt/gsu-board/node_modules && sudo ln -sfn /opt/gsu-board/node_modules /opt/gsu/node_modules");
    expect(c.join("\n")).not.toMatch(/npm ci|systemctl/);
    expect(r.stdout).toContain("left for the board (--no-start): sudo systemctl enable --now gsu-board.service");
    expect(gsu(["flash", "--root", tmp("x"), "--profile", "raspberry-pi", "--no-start"]).status).toBe(2);
    expect(gsu(["flash", "pi@gsu-pi.local", "--profile", "raspberry-pi", "--deps-from", "node_modules"]).status).toBe(2);
  });
});

describe.skipIf(!built)(`the deployed tree is a working runtime after npm ci --omit=dev${BUILD_REASON}`, () => {
  const dir = tmp("runtime");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
  const runtimeDeps = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})]);
  const devDeps = new Set(Object.keys(pkg.devDependencies ?? {}));
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

  it("every import in bin/ and host/ is a file in the tree, a Node builtin, or a runtime (not dev) dependency (lazy import() of dev ones allowed)", () => {
    const r = gsu(["flash", "--root", dir, "--profile", "raspberry-pi"]);
    expect(r.status).toBe(0);
    const opt = join(dir, "opt/gsu");
    const problems: string[] = [];
    let checked = 0;
    const spec = /(?:^|[^.\w$])(?:import|export)\s+(?!type\s)(?:[\w*{}\s,$]*?\sfrom\s*)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;
    for (const f of tree(opt).filter((x) => /^(bin|host)\/.*\.(ts|js|mjs)$/.test(x))) {
      const text = readFileSync(join(opt, f), "utf8").replace(/^\s*\/\/.*$/gm, "");
      for (const m of text.matchAll(spec)) {
        const s = (m[1] ?? m[2])!;
        if (/[$\s]/.test(s)) continue; // inside a template string, not an import
        checked++;
        if (s.startsWith(".")) {
          const target = resolve(dirname(join(opt, f)), s);
          // A dynamic import() of a development script (scripts/, e.g. the component
          // compiler behind gsu build-component) is a lazy load like a dev dependency's:
          // on a board it fails with its own message.
          const lazyDevScript = m[2] !== undefined && relative(opt, target).startsWith(`scripts${sep}`) && existsSync(join(root, relative(opt, target)));
          // bin/gsu.js imports host/cli/main.js when it is laid (a board) and falls back to
          // the TypeScript source only in the development tree
          const devFallback = m[2] !== undefined && f === "bin/gsu.js" && target.endsWith(".ts") && existsSync(target.replace(/\.ts$/, ".js"));
          if (!existsSync(target) && !lazyDevScript && !devFallback) problems.push(`${f}: ${s} is not in the deployed tree`);
        } else if (!builtins.has(s)) {
          const name = s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]!;
          // A dynamic import() of a dev dependency is a lazy load for simulation and
          // tests (e.g. node-pty); it fails only if the board ever calls it.
          const lazyDev = m[2] !== undefined && devDeps.has(name);
          if (!runtimeDeps.has(name) && !lazyDev) problems.push(`${f}: '${name}' is not in package.json dependencies (npm ci --omit=dev leaves it out)`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(100); // the scan does see the imports
  });

  it("runs as compiled JavaScript with plain node: no tsx in its node_modules, gsu rehearse passes", () => {
    if (!existsSync(join(dir, "opt/gsu/package.json"))) expect(gsu(["flash", "--root", dir, "--profile", "raspberry-pi"]).status).toBe(0);
    const opt = join(dir, "opt/gsu");
    // the development tree's packages, tsx (and esbuild, which it brings) left out
    const nm = join(opt, "node_modules");
    mkdirSync(nm, { recursive: true });
    for (const e of readdirSync(join(root, "node_modules"))) {
      if (e === "tsx" || e === "esbuild" || e === "@esbuild" || e === ".bin" || existsSync(join(nm, e))) continue;
      symlinkSync(join(root, "node_modules", e), join(nm, e));
    }
    const r = spawnSync(process.execPath, ["bin/gsu.js", "rehearse", "--steps", "40", "--html", "-"], { cwd: opt, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Verdict: PASS");
  }, 120_000);

  const npmCi = process.env.GSU_TEST_NPM_CI === "1";
  it.skipIf(!npmCi)(`npm ci --omit=dev in it, then gsu rehearse runs${npmCi ? "" : " (SKIPPED: set GSU_TEST_NPM_CI=1; needs the npm registry or cache, ~1 min)"}`, () => {
    if (!existsSync(join(dir, "opt/gsu/package.json"))) gsu(["flash", "--root", dir, "--profile", "raspberry-pi"]);
    const opt = join(dir, "opt/gsu");
    // The system npm, as on the board (not one from node_modules/.bin, which vitest puts on PATH).
    const PATH = (process.env.PATH ?? "").split(":").filter((p) => !p.includes("node_modules")).join(":");
    const ci = spawnSync("npm", ["ci", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: opt, encoding: "utf8", env: { ...process.env, PATH } });
    expect(ci.status, ci.stderr).toBe(0);
    expect(existsSync(join(opt, "node_modules/tsx"))).toBe(true);
    expect(existsSync(join(opt, "node_modules/vitest"))).toBe(false);
    const r = spawnSync(process.execPath, ["bin/gsu.js", "rehearse", "--steps", "30", "--html", "-"], { cwd: opt, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Verdict: PASS");
  }, 600_000);
});
