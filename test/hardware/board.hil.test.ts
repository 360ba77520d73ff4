// Hardware in the loop: flashes a real board and checks it.
//   GSU_TEST_BOARD=pi@gsu-pi.local [GSU_TEST_PROFILE=raspberry-pi|beaglebone|PATH] npx vitest run test/hardware
// The board must accept ssh keys (BatchMode) and give the user sudo without a
// password. Without GSU_TEST_BOARD the suite shows as skipped, with the reason.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { planDeploy, resolveProfileArg } from "../../host/board/deploy.ts";
import { loadProfile } from "../../host/board/profile.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const board = process.env.GSU_TEST_BOARD;
const profileArg = process.env.GSU_TEST_PROFILE ?? "raspberry-pi";
const REASON = board ? "" : " (SKIPPED: set GSU_TEST_BOARD=user@host to flash and check a real board)";

function ssh(cmd: string, timeoutMs = 120_000) {
  const r = spawnSync("ssh", ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15", board!, cmd], { encoding: "utf8", timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

describe.skipIf(!board)(`hardware in the loop: ${board ?? "GSU_TEST_BOARD"} with profile ${profileArg}${REASON}`, () => {
  const plan = board ? planDeploy({ profile: profileArg }) : undefined;
  const can = loadProfile(resolveProfileArg(profileArg).path).links.find((l) => l.kind === "socketcan");

  it("gsu flash deploys to it and exits 0", () => {
    const r = spawnSync(process.execPath, [join(root, "bin", "gsu.js"), "flash", board!, "--profile", profileArg], {
      cwd: root, encoding: "utf8", timeout: 30 * 60_000, env: { ...process.env, NO_COLOR: "1" },
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    if (/REBOOT NEEDED/.test(r.stdout)) {
      console.warn("gsu flash asked for a reboot (the boot configuration changed): reboot the board and run this suite again for the CAN checks");
    }
  }, 30 * 60_000);

  it("has Node.js 20+, the installed profile, and the unit enabled", () => {
    const node = ssh("node -p process.versions.node");
    expect(Number(node.stdout.split(".")[0])).toBeGreaterThanOrEqual(20);
    expect(ssh("cat /etc/gsu/profile.json").stdout).toBe(readFileSync(plan!.profilePath, "utf8"));
    expect(ssh("systemctl is-enabled gsu-board.service").stdout.trim()).toBe("enabled");
    expect(ssh("test -d /opt/gsu/node_modules/tsx && test -f /opt/gsu/build/core.release.wasm && echo ok").stdout.trim()).toBe("ok");
  });

  it.skipIf(!can)(`brings the CAN interface up at the profile's bit rate${can ? "" : " (SKIPPED: the profile has no socketcan link)"}`, () => {
    if (can?.kind !== "socketcan") return;
    const r = ssh(`ip -details link show ${can.iface}`);
    expect(r.status, `${can.iface} missing (reboot needed after the first flash?): ${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`bitrate ${can.bitrate} `);
    expect(r.stdout).toMatch(/<[^>]*\bUP\b[^>]*>/);
  });

  it("setup.sh run again changes nothing (idempotent)", () => {
    const args = plan!.setupArgs.map((a) => (a.startsWith("etc/") ? `/${a}` : a)).join(" ");
    const r = ssh(`sudo -n bash /opt/gsu/hardware/${plan!.board}/setup.sh ${args}`, 600_000);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("nothing to change");
  }, 600_000);

  it("the service is active, and systemd restarts it after kill -9", () => {
    expect(ssh("systemctl is-active gsu-board.service").stdout.trim()).toBe("active");
    const before = ssh("systemctl show -p MainPID --value gsu-board.service").stdout.trim();
    expect(ssh("sudo -n systemctl kill -s KILL gsu-board.service").status).toBe(0);
    const after = ssh("sleep 5; systemctl is-active gsu-board.service; systemctl show -p MainPID --value gsu-board.service").stdout.trim().split("\n");
    expect(after[0]).toBe("active");
    expect(after[1]).not.toBe(before);
  }, 60_000);
});
