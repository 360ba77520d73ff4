// The ground server (gsu ground) against a real board daemon (`gsu board`, its own OS
// process) over a PTY serial link: the archive holds what the board sent, two gsu
// commands use the link at once through the server, telecommands and an upload go
// through it, and events that happened while no ground listened reach the archive
// from the board's event log once a ground server runs again, none twice.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PtyPair, socatMissing } from "../serial/socat.ts";
import { loadPrivateKey, writeKeyPair } from "../../host/board/keys.ts";
import { signImage } from "../../host/board/image.ts";
import { loadManifest } from "../../host/component/manifest.ts";
import { manifestPath, wasmPath } from "../../host/component/demo.ts";
import { GroundServer } from "../../host/ground/server.ts";
import { readArchive } from "../../host/ground/archive.ts";
import { SeqStore, seqFileFor } from "../../host/ground/seq.ts";
import { openLink } from "../../host/transport/open.ts";
import { M, frame } from "../../host/board/mgmt.ts";
import { encodeTelecommand } from "../../host/board/telecommand.ts";
import { openGroundLink } from "../../host/ground/relay.ts";
import * as uploadCmd from "../../host/cli/upload.ts";
import * as upgradeCmd from "../../host/cli/upgrade.ts";
import * as faultCmd from "../../host/cli/fault.ts";

const root = join(import.meta.dirname, "../..");
const BOARD = 1;

describe.skipIf(!!socatMissing)(`ground server and a board daemon over a PTY${socatMissing ? `: skipped, ${socatMissing}` : ""}`, () => {
  const dir = mkdtempSync(join(tmpdir(), "gsu-groundsrv-"));
  const runDir = join(dir, "run");
  const archiveDir = join(dir, "archive");
  const pair = new PtyPair();
  const spec = () => `serial:${pair.b}@115200`;
  const keys = writeKeyPair("ground", dir);
  const profile = join(dir, "profile.json");
  let board: ChildProcess | null = null;
  let boardOut = "";
  let server: GroundServer | null = null;
  const env = { ...process.env, GSU_RUN_DIR: runDir };

  const startServer = async () => {
    server = await GroundServer.start({ spec: spec(), archiveDir, runDir, pollMs: 400, archive: { maxFileBytes: 64 * 1024, keep: 3 },
      key: { key: loadPrivateKey(keys.keyFile), keyId: "ground", seqs: new SeqStore(seqFileFor(keys.keyFile)), file: keys.keyFile } });
  };
  const records = () => readArchive(archiveDir).records;
  const events = () => records().filter((r) => r.type === "event") as { event: string; text: string; replayed?: boolean; hex: string }[];
  async function until(f: () => boolean, ms: number, what: string): Promise<void> {
    const t0 = Date.now();
    while (!f()) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}; board said:\n${boardOut}\narchive events: ${events().map((e) => e.event).join(", ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  function gsu(args: string[]): Promise<{ code: number; out: string; err: string }> {
    return new Promise((resolve) => {
      const c = spawn(process.execPath, [join(root, "bin/gsu.js"), ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "", err = "";
      c.stdout.on("data", (d) => { out += d; });
      c.stderr.on("data", (d) => { err += d; });
      c.on("close", (code) => resolve({ code: code ?? -1, out, err }));
    });
  }
  const tcArgs = () => ["--link", spec(), "--board", String(BOARD), "--key", keys.keyFile, "--target", "testbed", "--timeout", "8"];

  beforeAll(async () => {
    await pair.up();
    writeFileSync(profile, JSON.stringify({
      name: "testbed", node: BOARD, links: [{ kind: "serial", path: pair.a, baud: 115200 }], stateDir: join(dir, "state"),
      components: ["sensor@1.0.0", "estimator@1.0.0", "controller@1.0.0", "fdir@1.0.0", "telemetry@1.0.0"],
      trustedKeys: { ground: keys.pubFile }, at: { commit: "manual" }, telemetry: { housekeepingHz: 5 },
    }));
    board = spawn(process.execPath, [join(root, "bin/gsu.js"), "board", "--profile", profile, "--sim-devices", "100"], { stdio: ["ignore", "pipe", "pipe"] });
    board.stdout!.on("data", (d) => { boardOut += d; });
    board.stderr!.on("data", (d) => { boardOut += d; });
    await until(() => boardOut.includes("up; serving the ground"), 15_000, "board start");
    await startServer();
  }, 30_000);
  afterAll(async () => {
    await server?.close();
    board?.kill("SIGKILL");
    await pair.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("archives the board's telemetry and events as JSON Lines; BOARD_STARTED (sent before the ground listened) arrives from the board's event log, once", async () => {
    await until(() => events().some((e) => e.event === "BOARD_STARTED"), 10_000, "BOARD_STARTED in the archive");
    await until(() => records().some((r) => r.packet === "PROC_TLM"), 10_000, "PROC_TLM in the archive");
    const r = records();
    expect(r.filter((x) => x.packet === "BOARD_TLM").length).toBeGreaterThan(0);
    expect(r.every((x) => typeof x.type === "string")).toBe(true);
    expect(events().filter((e) => e.event === "BOARD_STARTED")).toHaveLength(1);
    expect(server!.sync.counters.replies).toBeGreaterThan(0);
  }, 20_000);

  it("two gsu commands at once go through the server: gsu telemetry watches while gsu status asks", async () => {
    const tlm = gsu(["telemetry", "--link", spec(), "--duration", "2", "--jsonl", join(dir, "tlm.jsonl")]);
    await new Promise((r) => setTimeout(r, 600));
    const st = await gsu(["status", ...tcArgs(), "--json"]);
    expect(st.code, st.err).toBe(0);
    expect(JSON.parse(st.out).board).toBe("testbed");
    const t = await tlm;
    expect(t.code, t.err + t.out).toBe(0);
    const lines = readFileSync(join(dir, "tlm.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === "tlm").length).toBeGreaterThan(3);
    expect(server!.counters.clients).toBeGreaterThanOrEqual(2);
    // the server archived the status telecommand and its reply
    expect(records().some((x) => x.type === "tc" && x.by === "client")).toBe(true);
    expect(records().some((x) => x.type === "tc-reply" && x.status === "accepted")).toBe(true);
  }, 30_000);

  it("upload, upgrade and fault through the server (the CLI's commands in-process); the rollback and takeover are archived", async () => {
    const io = () => {
      const r = { out: "", err: "" };
      return { r, io: { open: (s: string, n: number) => openGroundLink(s, n, { dir: runDir }), out: (x: string) => { r.out += x; }, err: (x: string) => { r.err += x; }, tty: false, signal: new AbortController().signal } };
    };
    const before = server!.counters.clientFrames;
    for (const n of ["estimator", "controller"]) {
      const img = join(dir, `${n}-2.0.0.gsui`);
      writeFileSync(img, signImage({ manifest: loadManifest(manifestPath(n, "2.0.0")), wasm: readFileSync(wasmPath(n, "2.0.0")), key: loadPrivateKey(keys.keyFile), keyId: "ground" }));
      const c = io();
      const code = await uploadCmd.run([...tcArgs(), "--quiet", img], c.io);
      expect(code, c.r.err + c.r.out).toBe(0);
      expect(c.r.out).toMatch(new RegExp(`${n} 2\\.0\\.0 staged`));
    }
    const u = io();
    expect(await upgradeCmd.run([...tcArgs(), "estimator@2.0.0", "controller@2.0.0"], u.io), u.r.err).toBe(0);
    const f = io();
    expect(await faultCmd.run([...tcArgs(), "estimator@0"], f.io), f.r.err).toBe(0);
    expect(server!.counters.clientFrames).toBeGreaterThan(before + 10);   // chunks and telecommands went through the server
    await until(() => events().some((e) => e.event === "TAKEOVER"), 15_000, "TAKEOVER in the archive");
    expect(events().some((e) => e.event === "ROLLBACK")).toBe(true);
    expect(events().some((e) => e.event === "UPLOAD_ACCEPTED")).toBe(true);
  }, 60_000);

  it("gsu ground refuses to start a second server on a link that has one (exit 3, says which), and bad arguments exit 2", async () => {
    const second = await gsu(["ground", "--link", spec(), "--archive", join(dir, "archive2"), "--port", "0"]);
    expect(second.code).toBe(3);
    expect(second.err).toMatch(/a ground server for serial:.* is already running/);
    const bad = await gsu(["ground", "--link", spec(), "--targets", "1:io"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--targets takes N=NAME pairs/);
  }, 20_000);

  it("events while no ground listens reach the archive from the board's event log when the server is back; none twice", async () => {
    await server!.close();
    server = null;
    // with no server, a raw link that never reads telemetry: the board's events go unheard
    const raw = await openLink(spec(), 100, { log: () => {} });
    const seqs = new SeqStore(seqFileFor(keys.keyFile));
    for (const op of ["status", "abort"] as const) {
      const seq = seqs.nextFor("ground", "testbed");
      raw.send(BOARD, frame(M.TC, encodeTelecommand({ op, seq, timeMs: Date.now(), args: {}, keyId: "ground", board: "testbed" }, loadPrivateKey(keys.keyFile))));
      await new Promise((r) => setTimeout(r, 300));
    }
    await raw.close();
    const before = events().filter((e) => e.event === "TELECOMMAND_ACCEPTED" || e.event === "TELECOMMAND_REFUSED").length;
    await startServer();
    // status accepted, abort refused (no guarded operation: failed, so only status is "accepted")
    await until(() => events().filter((e) => e.event === "TELECOMMAND_ACCEPTED" && e.replayed).length >= 1, 10_000, "the missed TELECOMMAND_ACCEPTED from the board's log");
    await new Promise((r) => setTimeout(r, 1200));
    const all = events();
    expect(all.length).toBeGreaterThan(before);
    // nothing archived twice: every event packet once
    const hexes = all.map((e) => e.hex);
    expect(new Set(hexes).size).toBe(hexes.length);
    expect(server!.sync.counters.lost).toBe(0);
  }, 40_000);
});
