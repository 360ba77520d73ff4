// End to end, two OS processes over a PTY serial link: the ground harness (this
// test) and the board daemon (`gsu board`). Keys, signed upload with progress,
// guarded operation, a fault by telecommand, detection/recovery/takeover seen as
// telemetry, a board restart, and the old version running; plus rejections.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PtyPair, socatMissing } from "../serial/socat.ts";
import { writeKeyPair, loadPrivateKey } from "../../host/board/keys.ts";
import { signImage } from "../../host/board/image.ts";
import { loadManifest } from "../../host/component/manifest.ts";
import { manifestPath, wasmPath } from "../../host/component/demo.ts";
import { openLink } from "../../host/transport/open.ts";
import { M, frame, Reader, isMgmt } from "../../host/board/mgmt.ts";
import { encodeTelecommand, type Opcode } from "../../host/board/telecommand.ts";
import { imageId, UploadSender } from "../../host/board/upload.ts";
import { loadDictionary, decodeTelemetry } from "../../host/telemetry/dictionary.ts";
import { PacketDecoder } from "../../host/telemetry/ccsds.ts";
import type { Transport } from "../../host/transport/types.ts";

const root = join(import.meta.dirname, "../..");
const BOARD = 1, GROUND = 100;

describe.skipIf(!!socatMissing)(`board and ground over a PTY serial link${socatMissing ? `: skipped, ${socatMissing}` : ""}`, () => {
  const dir = mkdtempSync(join(tmpdir(), "gsu-e2e-"));
  const pair = new PtyPair();
  let board: ChildProcess | null = null;
  let boardOut = "";
  let ground: Transport;
  const events: string[] = [];
  const replies = new Map<number, { status: number; text: string }>();
  let upload: UploadSender | null = null;
  let seq = 0;
  const keys = writeKeyPair("ground", dir);
  const other = writeKeyPair("mallory", dir);
  const dict = loadDictionary();
  const decoder = new PacketDecoder();

  const profile = join(dir, "profile.json");
  writeFileSync(profile, JSON.stringify({
    name: "testbed", node: BOARD, links: [{ kind: "serial", path: pair.a, baud: 115200 }], stateDir: join(dir, "state"),
    components: ["sensor@1.0.0", "estimator@1.0.0", "controller@1.0.0", "fdir@1.0.0", "telemetry@1.0.0"],
    trustedKeys: { ground: keys.pubFile }, at: { commit: "manual" }, telemetry: { housekeepingHz: 5 },
  }));

  const image = (name: string, version: string, key = loadPrivateKey(keys.keyFile), keyId = "ground") =>
    signImage({ manifest: loadManifest(manifestPath(name, version)), wasm: readFileSync(wasmPath(name, version)), key, keyId });

  function startBoard(): Promise<void> {
    boardOut = "";
    board = spawn(process.execPath, [join(root, "bin/gsu.js"), "board", "--profile", profile, "--sim-devices", "100"], { stdio: ["ignore", "pipe", "pipe"] });
    board.stdout!.on("data", (d) => { boardOut += d; });
    board.stderr!.on("data", (d) => { boardOut += d; });
    return until(() => boardOut.includes("up; serving the ground"), 15_000, "board start");
  }
  async function until(f: () => boolean, ms: number, what: string): Promise<void> {
    const t0 = Date.now();
    while (!f()) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}; board said:\n${boardOut}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  async function tc(op: Opcode, args: Record<string, unknown> = {}, key = loadPrivateKey(keys.keyFile), keyId = "ground", s = ++seq) {
    replies.delete(s);
    ground.send(BOARD, frame(M.TC, encodeTelecommand({ op, seq: s, timeMs: Date.now(), args, keyId, board: "testbed" }, key)));
    await until(() => replies.has(s), 10_000, `reply to ${op} #${s}`);
    return replies.get(s)!;
  }
  async function send(img: Uint8Array): Promise<{ ok: boolean; text: string }> {
    // the profile's default "uploads": "signed": a signed upload telecommand names the image first
    const auth = await tc("upload", { image: Buffer.from(imageId(img)).toString("hex"), size: img.length });
    expect(auth.status, auth.text).toBe(0);
    upload = new UploadSender(img, 1024, 8, 300);
    for (const f of upload.start(Date.now())) ground.send(BOARD, f);
    const t = setInterval(() => { for (const f of upload!.tick(Date.now())) ground.send(BOARD, f); }, 50);
    try { await until(() => upload!.result !== null, 30_000, "upload result"); } finally { clearInterval(t); }
    return upload.result!;
  }

  beforeAll(async () => {
    await pair.up();
    await startBoard();
    ground = await openLink(`serial:${pair.b}@115200`, GROUND, { log: () => {} });
    ground.onFrame((_src, f) => {
      if (!isMgmt(f)) return;
      const body = f.subarray(2);
      if (f[1] === M.TC_REPLY) {
        const r = new Reader(body, "reply");
        replies.set(r.u32("seq"), { status: r.u8("status"), text: new TextDecoder().decode(r.rest()) });
      } else if (f[1] === M.TM) {
        decoder.reset();
        for (const ev of decoder.push(body)) if (ev.kind === "packet") {
          const d = decodeTelemetry(dict, ev.packet);
          if (d.type === "event") events.push(d.event);
        }
      } else if (upload) {
        for (const out of upload.onFrame(f[1], body, Date.now())) ground.send(BOARD, out);
      }
    });
  }, 30_000);
  afterAll(async () => { board?.kill("SIGKILL"); await ground?.close(); await pair.dispose(); });

  it("status answers; a forged, an unknown-key and a replayed telecommand are refused and counted", async () => {
    const st = await tc("status");
    expect(st.status).toBe(0);
    expect(JSON.parse(st.text).instances.map((i: { comp: string }) => i.comp).sort()).toEqual(["controller", "estimator", "fdir", "sensor", "telemetry"]);
    expect((await tc("commit", {}, loadPrivateKey(other.keyFile), "ground")).text).toMatch(/refused \(forged\): .*signature does not match key 'ground'/);
    expect((await tc("commit", {}, loadPrivateKey(other.keyFile), "mallory")).text).toMatch(/refused \(unknown-key\)/);
    expect((await tc("status", {}, undefined, "ground", 1)).text).toMatch(/refused \(replayed\)/);
  }, 30_000);

  it("uploads are rejected with a reason: tampered, wrong key", async () => {
    const t = image("estimator", "2.0.0");
    t[t.length - 10] ^= 0xff;
    expect((await send(t)).text).toMatch(/upload rejected: .*(tampered|sha256)/i);
    expect((await send(image("estimator", "2.0.0", loadPrivateKey(other.keyFile), "mallory"))).text).toMatch(/upload rejected: .*mallory/);
  }, 60_000);

  it("signed v2 images upload, guarded operation starts, a fault by telecommand is detected and the old versions take over", async () => {
    for (const n of ["estimator", "controller"]) {
      const r = await send(image(n, "2.0.0"));
      expect(r, r.text).toMatchObject({ ok: true });
      expect(r.text).toMatch(new RegExp(`${n} 2\\.0\\.0 staged`));
    }
    const up = await tc("upgrade", { components: { estimator: "2.0.0", controller: "2.0.0" } });
    expect(up, up.text).toMatchObject({ status: 0 });
    const status = JSON.parse((await tc("status")).text);
    expect(status.guarded).toBe(true);
    const f = await tc("fault", { comp: "estimator", step: 0 });
    expect(f.status, f.text).toBe(0);
    await until(() => events.includes("RECOVERED"), 15_000, "recovery telemetry");
    expect(events).toContain("AT_FAILED");
    expect(events).toContain("TAKEOVER");
    expect(events).toContain("UPLOAD_ACCEPTED");
    const after = JSON.parse((await tc("status")).text);
    expect(after.guarded).toBe(false);
    expect(after.instances.filter((i: { comp: string }) => i.comp === "estimator").map((i: { version: string }) => i.version)).toEqual(["1.0.0"]);
  }, 90_000);

  it("after a restart the board runs the last committed (old) version and says so", async () => {
    board!.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    await startBoard();
    expect(boardOut).toMatch(/estimator: running 1\.0\.0/);
    const st = JSON.parse((await tc("status")).text);
    expect(st.instances.find((i: { comp: string }) => i.comp === "estimator").version).toBe("1.0.0");
    expect(st.store.join("\n")).toMatch(/estimator: nothing committed; slot . holds 2\.0\.0 \(recovered: the old version took over\)/);
  }, 60_000);
});
