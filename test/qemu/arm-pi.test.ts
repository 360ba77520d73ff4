// The emulated Raspberry Pi (aarch64, QEMU TCG; scripts/qemu/arm.sh): ONE boot serves
// every check, each reported as a test here:
//   rehearse  `gsu rehearse --steps 200` PASSes on the board;
//   can       300 frames can0 -> can1 over two kvaser_pci (SJA1000) controllers at
//             500 kbit/s, then test/can/socketcan.test.ts on can0 (+ its FD half on vcan0);
//   can-boards the multi-board rehearsal with its boards as OS processes on those two
//             controllers (io and comms on can0, gnc on can1): fault, takeover, PASS;
//   flash     this host's gsu flash over real ssh (dropbear in the guest, a forwarded
//             localhost port): runtime, profile, key and unit arrive;
//   serial    the board daemon, started from what was flashed as its unit says, on the
//             emulated UART, driven from this host's gsu:
//             status, signed uploads, upgrade, a fault, rollback and takeover seen as
//             events, upload + upgrade again, commit (scripts/qemu/arm-host.sh);
//   can-daemons two `gsu board --system` daemons in the guest, gnc on can0 and io on can1
//             (link layer + key over the emulated CAN bus, 500 kbit/s), each reached from
//             this host's gsu over its own UART (ttyS0, ttyS1): uploads, upgrade round,
//             fault with AT_FAILED/TAKEOVER/RECOVERED events and devices equal to a
//             fault-free run, upgrade again, commit on both (scripts/qemu/arm-host-can.sh).
// Set up with `bash scripts/qemu/arm-setup.sh arm64` (.ci/run does; ~120 MB once, cached).
// Where that set-up or QEMU is missing, the suite shows as skipped with the reason; in
// CI (CI set) it fails instead, never skipping silently.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const checks = ["rehearse", "can", "can-boards", "flash", "serial", "can-daemons"];
const ready = process.env.GSU_IN_QEMU ? { status: 77, stderr: "already inside an emulated machine" }
  : spawnSync("bash", [join(root, "scripts/qemu/arm-run.sh"), "--arch", "arm64", "--check"], { encoding: "utf8" });
const why = ready.status === 0 ? "" : (ready.stderr || `arm-run.sh --check exited ${ready.status}`).replace(/^arm-run: SKIP: /, "").trim();
const inCi = !!process.env.CI;
const title = `the emulated Raspberry Pi (aarch64): one boot, checks ${checks.join(", ")}`;

describe.skipIf(!!why && !inCi)(`${title}${why ? ` [skipped: ${why}]` : ""}`, () => {
  let out = "";
  let code: number | null = null;
  const lines = new Map<string, string>();
  beforeAll(async () => {
    if (why) return; // in CI: each test fails with the reason
    code = await new Promise<number>((res) => {
      const p = spawn("bash", [join(root, "scripts/qemu/arm.sh"), "--no-setup"], {
        cwd: root, stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, GSU_ARM_CHECKS_ARM64: checks.join(" "), GSU_QEMU_TIMEOUT: process.env.GSU_QEMU_TIMEOUT ?? "840" },
      });
      p.stdout.on("data", (d) => { out += d; });
      p.stderr.on("data", (d) => { out += d; });
      p.on("close", (c) => res(c ?? 1));
    });
    for (const m of out.matchAll(/^ARM-CHECK (\S+) (PASS|FAIL|SKIP) (.*)$/gm)) lines.set(m[1], `${m[2]} ${m[3]}`);
  }, 900_000);

  for (const c of checks) {
    it(c, () => {
      if (why) throw new Error(`the emulated Pi cannot run here, and CI must not skip it: ${why}`);
      const l = lines.get(c);
      // The whole account on failure: the board's and the host's lines for this check.
      expect(l, `no ARM-CHECK line for ${c} (arm.sh exit ${code}):\n${out.slice(-6000)}`).toBeDefined();
      expect(l!.startsWith("PASS"), `${c}: ${l}\n${out.slice(-6000)}`).toBe(true);
      console.log(`emulated Pi: ${c} ${l}`);
    });
  }
  it("the lane as a whole (arm.sh exit status 0)", () => {
    if (why) throw new Error(`the emulated Pi cannot run here: ${why}`);
    expect(code, out.slice(-3000)).toBe(0);
  });
});
