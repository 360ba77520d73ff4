// The ground commands as a user runs them (bin/gsu.js, stdout a pipe) over a real
// PTY serial link (socat), with the fake board on the other end in this process:
// gsu upload (progress lines, a signed image), gsu upgrade, a refusal, and
// gsu telemetry --link on a real link.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PtyPair, socatMissing } from "../serial/socat.ts";
import { SerialTransport } from "../../host/transport/serial.ts";
import { M, frame } from "../../host/board/mgmt.ts";
import { verifyImage } from "../../host/board/image.ts";
import { ensureExamplesBuilt } from "../examples-build.ts";
import { ground1, image } from "../board/fixtures.ts";
import { FakeBoard } from "./fake-board.ts";
import { cleanup, tmp } from "./helpers.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
/** Runs gsu asynchronously: the fake board answers from this process meanwhile. */
function gsu(args: string[], timeoutMs = 30_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(root, "bin/gsu.js"), ...args], { cwd: root, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "", stderr = "";
    p.stdout.on("data", (d) => { stdout += d; });
    p.stderr.on("data", (d) => { stderr += d; });
    const t = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("close", (status) => { clearTimeout(t); resolve({ status, stdout, stderr }); });
  });
}

describe.skipIf(!!socatMissing)(`ground commands over a PTY serial link${socatMissing ? `: skipped, ${socatMissing}` : ""}`, () => {
  const pair = new PtyPair();
  let t: SerialTransport;
  let board: FakeBoard;
  let dir: string;
  let link: string;
  const trusted = { "ground-1": ground1.pub };

  beforeAll(async () => {
    await ensureExamplesBuilt();
    await pair.up();
    dir = tmp("pty");
    writeFileSync(join(dir, "ground-1.key"), ground1.priv.export({ format: "pem", type: "pkcs8" }));
    t = await SerialTransport.open({ path: pair.a, baudRate: 115200, node: 1, log: () => {} });
    board = new FakeBoard(t, {
      trusted, stateDir: tmp("board"),
      accept: (img) => {
        const v = verifyImage(img, trusted);
        return v.ok ? { ok: true, text: `upload accepted: ${v.manifest.name} ${v.manifest.version} staged in slot b` } : { ok: false, text: `upload rejected: ${v.kind}: ${v.reason}` };
      },
      onTc: (tc, b) => {
        if (tc.op === "upgrade") b.event(100, "UPGRADE_STARTED", { cluster: Object.keys(tc.args.components as object).join(",") });
        return { status: 0, text: `${tc.op} done` };
      },
    });
    link = `serial:${pair.b}@115200`;
  }, 120_000);
  afterAll(async () => { board?.close(); await t?.close(); await pair.dispose(); cleanup(); });

  it("gsu upload: a signed image with a progress trace, accepted; a tampered copy rejected with the reason", async () => {
    const img = image("estimator", "2.0.0");
    const file = join(dir, "estimator-2.0.0.gsui");
    writeFileSync(file, img);
    const r = await gsu(["upload", "--link", link, file]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^uploading estimator-2\.0\.0\.gsui \(estimator@2\.0\.0\), [\d.]+ KiB, id [0-9a-f]{16}, to board 1 on serial:.*@115200$/m);
    expect(r.stdout).toMatch(/^estimator@2\.0\.0: 0 B \/ [\d.]+ KiB \(0%\), 0 B\/s, -- left$/m);
    expect(r.stdout).toMatch(/^estimator@2\.0\.0: [\d.]+ KiB \/ [\d.]+ KiB \([1-9]\d%\), [\d.]+ (B|KiB|MiB)\/s, (<1|\d+) s left$/m);
    expect(r.stdout).toMatch(/^estimator@2\.0\.0: ([\d.]+ KiB) \/ \1 \(100%\), [\d.]+ (B|KiB|MiB)\/s, done$/m);
    expect(r.stdout).toMatch(/^board 1 accepted estimator-2\.0\.0\.gsui: upload accepted: estimator 2\.0\.0 staged in slot b$/m);
    const bad = img.slice();
    bad[bad.length - 10] ^= 0xff;
    writeFileSync(join(dir, "bad.gsui"), bad);
    const b = await gsu(["upload", "--link", link, "--quiet", join(dir, "bad.gsui")]);
    expect(b.status).toBe(1);
    expect(b.stderr).toMatch(/^gsu upload: board 1 rejected bad\.gsui: upload rejected: tampered: wasm of estimator@2\.0\.0 does not match its signed sha256/);
  }, 60_000);

  it("gsu upgrade: accepted, with the board's event; a replayed --seq is refused (exit 1) with the board's reason", async () => {
    const key = join(dir, "ground-1.key");
    const r = await gsu(["upgrade", "--link", link, "--key", key, "--target", "testbed", "estimator@2.0.0"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^event .* board 1 ACTIVITY_HI UPGRADE_STARTED: guarded operation starts, cluster estimator$/m);
    expect(r.stdout).toMatch(/^board 1 accepted upgrade #1 \(estimator@2\.0\.0\): upgrade done$/m);
    const replay = await gsu(["commit", "--link", link, "--key", key, "--target", "testbed", "--seq", "1"]);
    expect(replay.status).toBe(1);
    expect(replay.stderr).toMatch(/^gsu commit: board 1 refused commit #1: telecommand commit #1 from 'ground-1' is not newer than #1: replayed or reordered/);
  }, 60_000);

  it("no board on that node id: exit 3 after --timeout with what to check", async () => {
    const r = await gsu(["status", "--link", link, "--board", "9", "--key", join(dir, "ground-1.key"), "--target", "testbed", "--timeout", "0.5"]);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(`gsu status: no reply from board 9 on ${link} within 0.5 s: is \`gsu board\` running with that link and node id?\n`);
  }, 30_000);

  it("gsu telemetry --link on a real link: decodes the TM frames, ignores protocol frames, records JSON Lines", async () => {
    const jsonl = join(dir, "tlm.jsonl");
    const p = gsu(["telemetry", "--link", link, "--duration", "2", "--jsonl", jsonl]);
    const timer = setInterval(() => {
      t.send(100, new Uint8Array([0x08, 0, 1, 2]));  // a protocol frame the ground must ignore
      t.send(100, frame(M.TM, Buffer.concat([board.tm.event(1_000, "TAKEOVER", { comp: "estimator" }), board.tm.board(1_000, {})])));
    }, 200);
    const r = await p;
    clearInterval(timer);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/node 1\s+WARNING_HI\s+TAKEOVER\s+takeover: old estimator is active/);
    expect(r.stdout.trim().split("\n").at(-1)).toMatch(/^\d+ packets from 1 boards?, .*rejected: none/);
    const recs = readFileSync(jsonl, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(recs.filter((x) => x.type === "event").every((x) => x.event === "TAKEOVER" && x.node === 1)).toBe(true);
    expect(recs.some((x) => x.type === "tlm" && x.packet === "BOARD_TLM")).toBe(true);
  }, 30_000);
});
