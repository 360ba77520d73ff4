// CAN FD and compact links end to end: SLCAN FD adapters over real pseudo-terminals (a
// classic adapter refuses FD clearly), and the demo rehearsal with every board its own OS
// process over emulated SLCAN adapters in each CAN mode: devices equal to the reference.
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openCanBus, type SlcanBus } from "../../host/transport/can/bus.ts";
import { CanTransport } from "../../host/transport/can/transport.ts";
import { parseLine } from "../../host/transport/can/slcan.ts";
import type { CanFrame } from "../../host/transport/can/cyphal.ts";
import { runMultiProcess } from "../../host/sim/multiproc.ts";
import { spawnSync } from "node:child_process";
import { useAdapters, until } from "./pty-adapter.ts";

const adapter = useAdapters();

describe("SLCAN adapters and CAN FD", () => {
  it("a classic adapter (BEL to Y2) is refused for +fd, naming the device and what to do", async () => {
    const a = await adapter();
    await expect(openCanBus(`slcan:${a.path}@500000+fd`)).rejects.toThrow(new RegExp(`slcan ${a.path}: the adapter does not take a CAN FD data bitrate \\('Y2'.*classic SLCAN only.*drop '\\+fd'`));
  });
  it("an FD adapter: S6, Y5, O; Cyphal/CAN FD transfers leave as B lines with hex DLCs, FD lines coming in are FD frames", async () => {
    const got: CanFrame[] = [];
    const a = await adapter({
      reply: (c) => {
        if (/^Y[25]$/.test(c)) return "\r";
        if (/^[dDbB]/.test(c)) { const ev = parseLine(c); if (ev.type === "frame") got.push(ev.frame); return "Z\r"; }
        return null;
      },
    });
    const bus = await openCanBus(`slcan:${a.path}@500000+fd=5M`) as SlcanBus;
    expect(a.commands).toEqual(["C", "S6", "Y5", "O"]);
    expect(bus.fd).toBe(true);
    const t = new CanTransport(bus, 1, { fd: true });
    const rx: { src: number; f: number[] }[] = [];
    t.onFrame((src, f) => rx.push({ src, f: [...f] }));
    const big = Uint8Array.from({ length: 100 }, (_, i) => i + 1);
    t.send(2, big);
    await until(() => got.length === 2);
    expect(got.map((f) => [f.fd, f.brs, f.data.length])).toEqual([[true, true, 64], [true, true, 48]]); // FE, length 100 (1 byte), 100 bytes, CRC: 104 = 63 + 41 -> frames of 64 and 48 (6 bytes of padding)
    expect(a.commands.filter((c) => c[0] === "B").every((c) => c.startsWith("B10700201"))).toBe(true);
    // the adapter hands the host an FD transfer from node 2 (a one-frame bundle)
    a.raw("B10700102" + "9" + "FE03050607" + "000000000000" + "E0" + "\r"); // DLC 9 = 12 bytes: bundle, padding, tail
    await until(() => rx.length === 1);
    expect(rx).toEqual([{ src: 2, f: [5, 6, 7] }]);
    await t.close();
  });
});

describe("gsu rehearse --can-mode", () => {
  it("is refused without CAN links between board processes, and for an unknown mode", () => {
    const gsu = (...a: string[]) => spawnSync(process.execPath, [join(import.meta.dirname, "../../bin/gsu.js"), "rehearse", "--html", "-", ...a], { encoding: "utf8", timeout: 60_000 });
    const r1 = gsu("--can-mode", "fd");
    expect(r1.status).toBe(2);
    expect(r1.stderr).toMatch(/--can-mode needs CAN links between board processes: --links slcan-pty, vcan or socketcan:IF,\.\.\., not sim/);
    const r2 = gsu("--links", "slcan-pty", "--can-mode", "fast");
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/--can-mode must be classic, compact, fd or fd\+compact, not 'fast'/);
  });
});

describe("the demo rehearsal over CAN in every mode (board processes, emulated SLCAN adapters)", () => {
  const dir = mkdtempSync(join(tmpdir(), "gsu-canmode-"));
  for (const canMode of ["fd", "compact"] as const) { // fd+compact: the mock-bus and SocketCAN suites
    it(`--can-mode ${canMode}: the fault recovered, every device message equal to the reference run's`, async () => {
      const log = join(dir, `${canMode}.log`);
      const r = await runMultiProcess({ system: "demo", seed: 3, steps: 60, rules: "safe", links: "slcan-pty", fault: { comp: "estimator", step: 40 }, canMode, candump: log });
      expect(r.errors).toEqual([]);
      expect(r.differences).toEqual([]);
      expect(r.violations).toEqual([]);
      expect(r.verdict).toBe("pass");
      const types = r.trace.map((e) => e.type);
      expect(types).toContain("at-failed");
      expect(types).toContain("takeover");
      const lines = readFileSync(log, "utf8").trim().split("\n");
      expect(lines.length).toBeGreaterThan(100);
      const fdLines = lines.filter((l) => l.includes("##")).length;
      if (canMode.startsWith("fd")) expect(fdLines).toBe(lines.length);
      else expect(fdLines).toBe(0);
      // every transfer is in the mode's form: the first frame's first byte (SOT frames) is FE (bundle) or F0..FD (compact)
      const first = lines.map((l) => l.split(/#+/)[1]).filter((d) => { const b = canMode.startsWith("fd") ? d.slice(1) : d; return parseInt(b.slice(-2), 16) & 0x80; })
        .map((d) => parseInt((canMode.startsWith("fd") ? d.slice(1) : d).slice(0, 2), 16));
      expect(first.length).toBeGreaterThan(50);
      if (canMode === "fd") expect(first.every((b) => b === 0xfe)).toBe(true);
      else expect(first.every((b) => b >= 0xf0 && b <= 0xfd)).toBe(true);
    }, 120_000);
  }
});
