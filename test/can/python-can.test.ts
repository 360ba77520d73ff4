// python-can (Debian's python3-can, for /usr/bin/python3) as an independent peer:
// its CanutilsLogReader reads our candump -L logs, our reader reads its
// CanutilsLogWriter output, and its slcan interface drives our SLCAN codec
// (the PTY adapter of these tests is built from slcan.ts's parseLine/encodeFrame).
import { afterEach, describe, expect, it } from "vitest";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CandumpRecorder, readCandumpLog } from "../../host/transport/can/candump-log.ts";
import { CyphalDecoder, encodeTransfer } from "../../host/transport/can/cyphal.ts";
import { PtyAdapter } from "./pty-adapter.ts";

const PY = "/usr/bin/python3";
function pythonCan(): string | undefined {
  try { return execFileSync(PY, ["-c", "import can; print(can.__version__)"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(); }
  catch { return undefined; }
}
const version = pythonCan();
const py = (code: string, args: string[] = []) => execFileSync(PY, ["-c", code, ...args], { encoding: "utf8" });

const adapters: PtyAdapter[] = [];
afterEach(() => { while (adapters.length) adapters.pop()!.kill(); });

describe.skipIf(!version)(`python-can ${version ?? "(not installed: apt-get install python3-can)"} as an independent peer`, () => {
  it("CanutilsLogReader reads our candump -L log frame for frame", () => {
    const dir = mkdtempSync(join(tmpdir(), "gsu-pycan-"));
    const file = join(dir, "bus.log");
    const { recorder, writer } = CandumpRecorder.toFile(file, "vcan0");
    recorder.transfer(1_700_000_000_000_000, 1, 2, Uint8Array.of(1, 2, 3));
    recorder.transfer(1_700_000_000_500_000, 3, 0xff, Uint8Array.from({ length: 30 }, (_, i) => i));
    writer.close();
    const ours = readCandumpLog(readFileSync(file, "utf8"));
    const theirs = JSON.parse(py(`
import can, json, sys
out = []
for m in can.CanutilsLogReader(sys.argv[1]):
    out.append({"t": round(m.timestamp * 1e6), "ch": m.channel, "id": m.arbitration_id, "ext": m.is_extended_id,
                "rtr": m.is_remote_frame, "dlc": m.dlc, "data": m.data.hex()})
print(json.dumps(out))`, [file]));
    expect(theirs).toEqual(ours.map((e) => ({
      t: e.timestampUs, ch: e.iface, id: e.frame.id, ext: e.frame.ext, rtr: e.frame.rtr, dlc: e.frame.data.length,
      data: Buffer.from(e.frame.data).toString("hex"),
    })));
  });

  it("our reader reads python-can's CanutilsLogWriter output, and Cyphal frames it wrote reassemble", () => {
    const dir = mkdtempSync(join(tmpdir(), "gsu-pycan-"));
    const file = join(dir, "py.log");
    const frames = encodeTransfer(Uint8Array.from({ length: 20 }, (_, i) => 100 + i), { subject: 4097, source: 9, transferId: 4 });
    py(`
import can, json, sys
frames = json.loads(sys.argv[2])
w = can.CanutilsLogWriter(sys.argv[1], channel="can0")
t = 1700000000.25
for f in frames:
    w.on_message_received(can.Message(timestamp=t, arbitration_id=f["id"], is_extended_id=True, data=bytes(f["data"])))
    t += 0.001
w.on_message_received(can.Message(timestamp=t, arbitration_id=0x123, is_extended_id=False, is_remote_frame=True, dlc=0))
w.stop()`, [file, JSON.stringify(frames.map((f) => ({ id: f.id, data: [...f.data] })))]);
    const entries = readCandumpLog(readFileSync(file, "utf8"));
    expect(entries.length).toBe(frames.length + 1);
    expect(entries.at(-1)!.frame).toMatchObject({ id: 0x123, ext: false, rtr: true });
    const d = new CyphalDecoder();
    const res = entries.slice(0, -1).map((e) => d.push(e.frame, e.timestampUs));
    const last = res.at(-1)!;
    expect(last.kind === "transfer" && [...last.transfer.payload]).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
  });

  it("python-can's slcan interface talks to our SLCAN codec over a real PTY", async () => {
    const a = await PtyAdapter.create();
    adapters.push(a);
    const script = `
import can, sys, json
bus = can.interface.Bus(interface="slcan", channel=sys.argv[1], bitrate=500000)
bus.send(can.Message(arbitration_id=0x123, is_extended_id=False, data=[0xde, 0xad]))
bus.send(can.Message(arbitration_id=0x1abcde01, is_extended_id=True, data=[0x11, 0x22, 0x33]))
bus.send(can.Message(arbitration_id=0x7ff, is_extended_id=False, is_remote_frame=True, dlc=2))
print("SENT", flush=True)
got = []
while len(got) < 2:
    m = bus.recv(timeout=5)
    if m is None: break
    got.append({"id": m.arbitration_id, "ext": m.is_extended_id, "rtr": m.is_remote_frame, "dlc": m.dlc, "data": m.data.hex()})
bus.shutdown()
print(json.dumps(got), flush=True)`;
    const child = spawn(PY, ["-c", script, a.path], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const end = Date.now() + 10_000;
    while (!out.includes("SENT") && Date.now() < end && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
    expect(out, err).toContain("SENT");
    a.inject({ id: 0x42, ext: false, rtr: false, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) });
    a.inject({ id: 0x10700105, ext: true, rtr: false, data: Uint8Array.of(0xe0) });
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    expect(code, err).toBe(0);
    // what python-can sent, as our codec parsed it at the adapter
    expect(a.commands.filter((c) => /^[tTrR]/.test(c))).toEqual(["t1232DEAD", "T1ABCDE013112233", "r7FF2"]);
    expect(a.frames[2]).toMatchObject({ id: 0x7ff, rtr: true, dlc: 2 });
    expect(a.commands).toContain("O");
    // what our codec sent, as python-can parsed it
    expect(JSON.parse(out.split("\n")[1])).toEqual([
      { id: 0x42, ext: false, rtr: false, dlc: 8, data: "0102030405060708" },
      { id: 0x10700105, ext: true, rtr: false, dlc: 1, data: "e0" },
    ]);
  });
});
