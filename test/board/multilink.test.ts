// A board on every link of its profile (host/board/multilink.ts): it answers the ground on
// whichever link the ground used, a protocol frame is never sent twice, and a link that
// will not open is an event and a retry with backoff (not a restart loop). Plus the real
// daemon with a link that does not exist: it starts, and LINK_DOWN is in its event log.
import { afterEach, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MultiLink } from "../../host/board/multilink.ts";
import { memPair, type MemTransport } from "../ground/fake-board.ts";
import { BoardDaemon } from "../../host/board/daemon.ts";
import { loadProfile } from "../../host/board/profile.ts";
import { PacketDecoder } from "../../host/telemetry/ccsds.ts";
import { decodeTelemetry, loadDictionary } from "../../host/telemetry/dictionary.ts";
import { writeKeyPair } from "../../host/board/keys.ts";

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe("a board on every link at once", () => {
  it("replies on the link the ground used; telemetry before that on every link; protocol frames once", async () => {
    const can = memPair(100, 1), serial = memPair(100, 1);
    const ends: Record<string, MemTransport> = { can0: can.board, "serial:/dev/ttyAMA0@115200": serial.board };
    const m = await MultiLink.open({ node: 1, specs: Object.keys(ends), open: async (s) => ends[s] });
    const got = { can: [] as number[], serial: [] as number[] };
    can.ground.onFrame((_s, f) => got.can.push(f[1]));
    serial.ground.onFrame((_s, f) => got.serial.push(f[1]));
    const heard: number[] = [];
    m.onFrame((src) => heard.push(src));
    m.send(100, Uint8Array.of(0xff, 9));            // telemetry, ground not heard yet: both links
    m.send(100, Uint8Array.of(0x08, 1));            // a protocol frame: the first link only
    await tick();
    expect(got).toEqual({ can: [9, 1], serial: [9] });
    serial.ground.send(1, Uint8Array.of(0xff, 10)); // the ground speaks on serial
    await tick();
    expect(heard).toEqual([100]);
    m.send(100, Uint8Array.of(0xff, 2));            // the reply goes back on serial only
    await tick();
    expect(got).toEqual({ can: [9, 1], serial: [9, 2] });
    await m.close();
  });

  it("a link that will not open: LINK_DOWN with the error, retries with doubling delay, LINK_UP when it appears; the others serve meanwhile", async () => {
    const up = memPair(100, 1);
    let tries = 0;
    const ev: string[] = [];
    const m = await MultiLink.open({
      node: 1, specs: ["can0", "serial:/dev/ttyAMA0@115200"], backoffMs: 20, maxBackoffMs: 80,
      open: async (s) => {
        if (s === "can0") { if (++tries < 4) throw new Error("no CAN interface 'can0'"); return memPair(100, 1).board; }
        return up.board;
      },
      onLinkEvent: (e) => ev.push(e.type === "link-down" ? `down ${e.link} ${e.retryS}s: ${e.error}` : `up ${e.link}`),
    });
    expect(m.up).toEqual(["serial:/dev/ttyAMA0@115200"]);
    expect([...ev].sort()).toEqual(["down can0 1s: no CAN interface 'can0'", "up serial:/dev/ttyAMA0@115200"]);
    const t0 = Date.now();
    while (!m.up.includes("can0")) { if (Date.now() - t0 > 2000) throw new Error(`can0 never came up: ${ev.join("; ")}`); await tick(10); }
    expect(tries).toBe(4);
    expect(ev.filter((e) => e.startsWith("down can0"))).toHaveLength(3);
    expect(ev.at(-1)).toBe("up can0");
    expect(m.links().find((l) => l.spec === "can0")).toMatchObject({ up: true, failures: 3 });
    await m.close();
  });

  it("the daemon whose two links (serial, SLCAN) do not exist and whose event log is damaged starts anyway; LINK_DOWN for each and EVENT_LOG_CORRUPT are in its event log; LINK_TLM per link", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gsu-multilink-"));
    dirs.push(dir);
    const keys = writeKeyPair("ground", dir);
    const file = join(dir, "profile.json");
    writeFileSync(file, JSON.stringify({
      name: "lonely", node: 1, links: [{ kind: "serial", path: join(dir, "no-such-tty"), baud: 115200 }, { kind: "slcan", path: join(dir, "no-such-adapter"), bitrate: 500000 }], stateDir: join(dir, "state"),
      components: ["sensor@1.0.0", "estimator@1.0.0", "controller@1.0.0", "fdir@1.0.0", "telemetry@1.0.0"], trustedKeys: { ground: keys.pubFile },
    }));
    // and an event log damaged by a power cut: reported, not fatal
    mkdirSync(join(dir, "state", "events"), { recursive: true });
    writeFileSync(join(dir, "state", "events", "seg-1.jsonl"), '{"seq":1,"p":"0828c0000009","c":1}\n{"seq":2,"p');
    const lines: string[] = [];
    const d = await BoardDaemon.start({ profile: loadProfile(file), log: (l) => lines.push(l) });
    try {
      const dict = loadDictionary();
      const names = d.events.since(1, 1 << 20).map((e) => {
        const ev = new PacketDecoder().frame(e.packet).find((x) => x.kind === "packet")!;
        return decodeTelemetry(dict, (ev as { packet: Parameters<typeof decodeTelemetry>[1] }).packet) as { event?: string; text?: string };
      });
      expect(names.map((n) => n.event)).toEqual(expect.arrayContaining(["BOARD_STARTED", "LINK_DOWN", "EVENT_LOG_CORRUPT"]));
      const downs = names.filter((n) => n.event === "LINK_DOWN").map((n) => n.text);
      expect(downs).toHaveLength(2);
      expect(downs.find((t) => /no-such-tty/.test(t!))).toMatch(/no-such-tty.*cannot open.*retrying in 1 s/);
      expect(downs.find((t) => /no-such-adapter/.test(t!))).toMatch(/slcan.*no-such-adapter.*retrying in 1 s/);
      // telemetry with two links down: LINK_TLM 0 all links, 1 and 2 each (zeros), no fault
      const pkts = (d as unknown as { tlm: { sample(t: number): Uint8Array[] } }).tlm.sample(Date.now() * 1000);
      const linkNames = pkts.flatMap((p) => new PacketDecoder().frame(p)).filter((x) => x.kind === "packet")
        .map((x) => decodeTelemetry(dict, (x as { packet: Parameters<typeof decodeTelemetry>[1] }).packet) as { packet?: string; linkName?: string })
        .filter((r) => r.packet === "LINK_TLM").map((r) => r.linkName);
      expect(linkNames).toEqual(["all links", join(dir, "no-such-tty"), join(dir, "no-such-adapter")].map((n) => n.slice(0, 32)));
      expect(d.handlerFaults).toEqual({});
      expect(lines.join("\n")).toMatch(/EVENT LOG DAMAGED: .*seg-1\.jsonl: 2 lines skipped/);
      expect(lines.join("\n")).toMatch(/link serial:.*no-such-tty.* cannot be opened .*retrying every 1 s or more/);
    } finally {
      await d.stop();
    }
  });
});
