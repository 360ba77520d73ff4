// The files that go into the board's OS: gsu-board.service (systemd-analyze
// verify where it exists), 80-can.network, and the idempotent setup.sh scripts
// (bash -n, shellcheck where it exists, dry runs, the config-block editor).
// Checks that need a tool show as skipped, with the reason, when it is missing.
import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canNetworkFile, systemdBitRate } from "../../host/board/deploy.ts";
import { loadProfile } from "../../host/board/profile.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const hw = join(root, "hardware");
const UNIT = join(hw, "common", "gsu-board.service");
const BOARDS = ["raspberry-pi", "beaglebone"] as const;
const made: string[] = [];
const tmp = (name: string) => { const d = mkdtempSync(join(tmpdir(), `gsu-${name}-`)); made.push(d); return d; };
afterAll(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

function which(cmd: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
// SYSTEMD_LOG_TARGET=console: systemd-analyze's warnings on stderr, never to a journal.
const sh = (cmd: string, args: string[], opts: { cwd?: string } = {}) =>
  spawnSync(cmd, args, { encoding: "utf8", cwd: opts.cwd ?? root, env: { ...process.env, SYSTEMD_LOG_TARGET: "console" } });

const systemdAnalyze = which("systemd-analyze");
const shellcheck = which("shellcheck");
const SA_REASON = systemdAnalyze ? "" : " (SKIPPED: systemd-analyze not found; apt-get install systemd)";
const SC_REASON = shellcheck ? "" : " (SKIPPED: shellcheck not found; apt-get install shellcheck)";

/** The unit's settings, [section] -> key -> values. */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let sec = "";
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t || t.startsWith("#") || t.startsWith(";")) continue;
    const m = /^\[(.+)\]$/.exec(t);
    if (m) { sec = m[1]!; out[sec] ??= {}; continue; }
    const eq = t.indexOf("=");
    const k = t.slice(0, eq), v = t.slice(eq + 1);
    ((out[sec] ??= {})[k] ??= []).push(v);
  }
  return out;
}

describe("gsu-board.service: what it says", () => {
  const u = parseUnit(readFileSync(UNIT, "utf8"));
  const s = u.Service!;

  it("runs the board runtime with the installed profile, as the dedicated user, from /opt/gsu", () => {
    expect(s.ExecStart).toEqual(["/usr/bin/node /opt/gsu/bin/gsu.js board --profile /etc/gsu/profile.json"]);
    expect(s.User).toEqual(["gsu"]);
    expect(s.Group).toEqual(["gsu"]);
    expect(s.SupplementaryGroups).toEqual(["dialout"]);
    expect(s.WorkingDirectory).toEqual(["/opt/gsu"]);
    expect(s.StateDirectory).toEqual(["gsu"]);
  });

  it("restarts after any crash, forever, but not on a bad profile (exit 2); starts at boot", () => {
    expect(s.Restart).toEqual(["always"]);
    expect(Number(s.RestartSec![0])).toBeGreaterThan(0);
    expect(s.RestartPreventExitStatus).toEqual(["2"]);
    expect(u.Unit!.StartLimitIntervalSec).toEqual(["0"]);
    expect(u.Install!.WantedBy).toEqual(["multi-user.target"]);
  });

  it("is hardened, and still allows CAN sockets", () => {
    const families = s.RestrictAddressFamilies![0]!.split(/\s+/);
    expect(families).toContain("AF_CAN");
    expect(families).not.toContain("AF_PACKET");
    expect(s.NoNewPrivileges).toEqual(["yes"]);
    expect(s.ProtectSystem).toEqual(["strict"]);
    expect(s.ProtectHome).toEqual(["yes"]);
    expect(s.PrivateTmp).toEqual(["yes"]);
    expect(s.CapabilityBoundingSet).toEqual([""]);
    expect(s.SystemCallFilter).toEqual(["@system-service"]);
    expect(s.MemoryDenyWriteExecute).toBeUndefined(); // V8/WebAssembly need W+X pages
    expect(s.PrivateDevices).toBeUndefined(); // serial links need /dev/tty*
  });
});

describe.skipIf(!systemdAnalyze)(`systemd-analyze on gsu-board.service${SA_REASON}`, () => {
  // verify fails when ExecStart's program is missing; where node is not at
  // /usr/bin/node (CI runners with setup-node), check a copy that points at this node.
  const dir = tmp("unit");
  const copy = join(dir, "gsu-board.service");
  const nodeHere = existsSync("/usr/bin/node");
  writeFileSync(copy, nodeHere ? readFileSync(UNIT, "utf8") : readFileSync(UNIT, "utf8").replace("/usr/bin/node", process.execPath));

  it(`systemd-analyze verify accepts it, with no warnings${nodeHere ? "" : " (ExecStart pointed at this node: /usr/bin/node is missing here)"}`, () => {
    const r = sh(systemdAnalyze!, ["verify", copy]);
    expect(r.status, r.stderr).toBe(0);
    // verify exits 0 on lines it ignores; any message about our file is a mistake in it.
    expect(r.stderr.split("\n").filter((l) => l.includes("gsu-board.service"))).toEqual([]);
  });

  it("the check is not vacuous: a broken copy draws warnings", () => {
    const bad = join(dir, "gsu-broken.service");
    writeFileSync(bad, readFileSync(copy, "utf8").replace(/^Restart=always$/m, "Restart=sometimes").replace(/^(RestrictAddressFamilies=.*)AF_CAN/m, "$1AF_NOPE"));
    const r = sh(systemdAnalyze!, ["verify", bad]);
    expect(r.stderr).toContain("restart specifier");
    expect(r.stderr).toContain("AF_NOPE");
  });

  const offline = sh(systemdAnalyze!, ["security", "--help"]).stdout.includes("--offline");
  it.skipIf(!offline)(`systemd-analyze security --offline rates its exposure at most 3.0 ("OK")${offline ? "" : " (SKIPPED: this systemd-analyze has no --offline; systemd >= 252)"}`, () => {
    const r = sh(systemdAnalyze!, ["security", "--offline=true", "--no-pager", copy]);
    const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(r.stdout + r.stderr);
    expect(m, r.stdout + r.stderr).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(3.0);
  });
});

describe("80-can.network", () => {
  for (const board of BOARDS) {
    it(`hardware/${board}/80-can.network is what gsu flash generates from the shipped profile`, () => {
      const p = loadProfile(join(hw, board, "profile.json"));
      const can = p.links.find((l) => l.kind === "socketcan");
      expect(can?.kind).toBe("socketcan");
      if (can?.kind !== "socketcan") return;
      expect(readFileSync(join(hw, board, "80-can.network"), "utf8")).toBe(canNetworkFile(can.iface, can.bitrate));
    });
  }

  it("writes bit rates in systemd's base-1000 units", () => {
    expect([1_000_000, 500_000, 125_000, 83_333, 10_000].map(systemdBitRate)).toEqual(["1M", "500K", "125K", "83333", "10K"]);
  });
});

describe("setup.sh", () => {
  const scripts = [...BOARDS.map((b) => join(hw, b, "setup.sh")), join(hw, "common", "setup-lib.sh")];

  for (const f of scripts) {
    it(`bash -n ${f.slice(root.length)}`, () => {
      const r = sh("bash", ["-n", f]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    });
  }

  for (const b of BOARDS) {
    it.skipIf(!shellcheck)(`shellcheck -x hardware/${b}/setup.sh (with hardware/common/setup-lib.sh)${SC_REASON}`, () => {
      const r = sh(shellcheck!, ["-x", join(hw, b, "setup.sh")]);
      expect(r.stdout + r.stderr).toBe("");
      expect(r.status).toBe(0);
    });

    it(`hardware/${b}/setup.sh --help, and exit 2 on an unknown option`, () => {
      const help = sh("bash", [join(hw, b, "setup.sh"), "--help"]);
      expect(help.status).toBe(0);
      expect(help.stdout).toContain("Idempotent");
      expect(help.stdout).toContain("--dry-run");
      const bad = sh("bash", [join(hw, b, "setup.sh"), "--frobnicate"]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain("unknown option --frobnicate");
    });

    it(`hardware/${b}/setup.sh --dry-run walks every step without root and changes nothing`, () => {
      const r = sh("bash", [join(hw, b, "setup.sh"), "--dry-run", "--no-packages"]);
      expect(r.status, r.stderr).toBe(0);
      for (const step of ["checking the operating system", "packages", "system user 'gsu'", "boot configuration", "CAN interface", "systemd unit gsu-board.service"]) {
        expect(r.stdout).toContain(`==> ${step}`);
      }
      expect(r.stdout).toContain("can0 at 500000 bit/s");
      expect(r.stdout).toMatch(/done( \(dry run\))?:/);
    });
  }

  it("the Raspberry Pi setup writes the MCP2515 overlay and UART lines into config.txt once, however often it runs", () => {
    // ensure_block is what edits config.txt (and uEnv.txt); run it as setup.sh does, on a copy.
    const dir = tmp("boot");
    const cfg = join(dir, "config.txt");
    const original = "# stock config\ndtparam=audio=on\n[cm4]\notg_mode=1\n[all]\n";
    writeFileSync(cfg, original);
    const lines = "[all]\ndtparam=spi=on\ndtoverlay=mcp2515-can0,oscillator=16000000,interrupt=25\nenable_uart=1\ndtoverlay=disable-bt";
    const run = (content: string) => sh("bash", ["-c",
      `set -euo pipefail; HERE=${JSON.stringify(join(hw, "raspberry-pi"))}; . "$HERE/../common/setup-lib.sh"; ` +
      `ensure_block "$1" "gsu (test)" "$2"; echo "reboot=$REBOOT_NEEDED"`, "bash", cfg, content]);

    const first = run(lines);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain("reboot=1");
    const once = readFileSync(cfg, "utf8");
    expect(once.startsWith(original)).toBe(true);
    expect(once).toContain("# >>> gsu (test) >>>\n[all]\ndtparam=spi=on\ndtoverlay=mcp2515-can0,oscillator=16000000,interrupt=25\n");
    expect(readFileSync(`${cfg}.gsu-backup`, "utf8")).toBe(original);

    const second = run(lines);
    expect(second.stdout).toContain("already has the gsu lines");
    expect(second.stdout).toContain("reboot=0");
    expect(readFileSync(cfg, "utf8")).toBe(once);

    // A changed setting (another crystal) replaces the block instead of adding a second one.
    run(lines.replace("16000000", "8000000"));
    const changed = readFileSync(cfg, "utf8");
    expect(changed.match(/# >>> gsu \(test\) >>>/g)).toHaveLength(1);
    expect(changed).toContain("oscillator=8000000");
    expect(changed).not.toContain("oscillator=16000000");
  });

  it("reads the bit rate out of a .network file as systemd does (500K -> 500000)", () => {
    const r = sh("bash", ["-c", `HERE=${JSON.stringify(join(hw, "raspberry-pi"))}; . "$HERE/../common/setup-lib.sh"; for v in 500K 1M 125k 83333; do bitrate_of $v; done`]);
    expect(r.stdout.trim().split("\n")).toEqual(["500000", "1000000", "125000", "83333"]);
  });
});
