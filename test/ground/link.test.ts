// GroundLink: management frames to and from one board, replies matched by seq,
// telemetry (TM frames) to a GroundStation, everything else ignored and counted.
import { describe, expect, it } from "vitest";
import { M, Writer, frame } from "../../host/board/mgmt.ts";
import { GroundLink } from "../../host/ground/link.ts";
import { GroundStation } from "../../host/telemetry/ground.ts";
import { TelemetryEncoder, loadDictionary } from "../../host/telemetry/dictionary.ts";
import { memPair } from "./fake-board.ts";

const reply = (seq: number, status: number, text: string) => frame(M.TC_REPLY, new Writer().u32(seq).u8(status).bytes(new TextEncoder().encode(text)).done());
const tick = () => new Promise((r) => setTimeout(r, 5));

describe("GroundLink", () => {
  it("matches replies by seq, in any order; late and duplicate replies are counted, not delivered", async () => {
    const { ground, board } = memPair(100, 1);
    const link = new GroundLink(ground, { board: 1, spec: "mem" });
    const sent: Uint8Array[] = [];
    board.onFrame((src, f) => { expect(src).toBe(100); sent.push(f); });
    const a = link.request(new Uint8Array([1]), 7), b = link.request(new Uint8Array([2]), 8);
    await tick();
    expect(sent.map((f) => [f[0], f[1], f[2]])).toEqual([[0xff, M.TC, 1], [0xff, M.TC, 2]]);
    board.send(100, reply(8, 1, "no"));
    board.send(100, reply(7, 0, "yes"));
    board.send(100, reply(7, 0, "again"));
    expect(await a).toEqual({ seq: 7, status: "accepted", code: 0, text: "yes" });
    expect(await b).toEqual({ seq: 8, status: "refused", code: 1, text: "no" });
    await tick();
    expect(link.counters.unexpectedReplies).toBe(1);
    await link.close();
  });

  it("ignores protocol frames and management frames from other nodes, but takes telemetry from every board", async () => {
    const { ground, board } = memPair(100, 1);
    const station = new GroundStation({ keepHex: false });
    const link = new GroundLink(ground, { board: 1, spec: "mem", station });
    const got: number[] = [];
    link.on(M.ACK, (_b, src) => got.push(src));
    const other = new TelemetryEncoder(loadDictionary(), 2), mine = new TelemetryEncoder(loadDictionary(), 1);
    const p = link.waitReply(1, 200);
    board.send(100, new Uint8Array([0x08, 1, 2, 3]));                       // a GSU protocol frame
    // a second board (node 2) on the same bus: its reply and upload frames are not board 1's
    board.sendAs(2, 100, reply(1, 0, "not from board 1"));
    board.sendAs(2, 100, frame(M.ACK, new Uint8Array(12)));
    board.sendAs(2, 100, frame(M.TM, other.event(1000, "TAKEOVER", { comp: "estimator" })));
    board.send(100, frame(M.TM, Buffer.concat([mine.event(2000, "COMMITTED"), mine.board(2000, {})])));
    board.send(100, frame(M.ACK, new Uint8Array(12)));
    await expect(p).rejects.toThrow(/no reply from board 1 on mem within 0\.2 s/);
    expect(link.counters).toMatchObject({ protocolFrames: 1, otherNodes: 2, tmFrames: 2 });
    expect(got).toEqual([1]);
    expect(station.events.map((e) => [e.node, e.event])).toEqual([[2, "TAKEOVER"], [1, "COMMITTED"]]);
    expect(station.boards.get(1)!.packets).toBe(2);
    await link.close();
  });

  it("close() fails pending waits instead of leaving them hanging", async () => {
    const { ground } = memPair(100, 1);
    const link = new GroundLink(ground, { board: 1, spec: "mem" });
    const p = link.waitReply(3, 10_000);
    await link.close();
    await expect(p).rejects.toThrow(/link closed while waiting for the reply to telecommand #3/);
  });
});
