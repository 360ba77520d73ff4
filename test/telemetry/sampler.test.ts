// The board-side sampler on real Boards: the demo system on the simulated testbed
// (demoSystem + SimNetwork + Board, as host/sim/testbed.ts builds it), sampled
// mid-run, decoded on the ground.
import { describe, expect, it } from "vitest";
import { simTelemetry } from "../../host/telemetry/simlink.ts";
import { ringUsage, BoardTelemetry } from "../../host/telemetry/sampler.ts";
import { GroundStation, type GroundRecord } from "../../host/telemetry/ground.ts";
import { emptyStats, type Transport } from "../../host/transport/types.ts";
import type { EventRecord, TlmRecord } from "../../host/telemetry/dictionary.ts";

const ground = (packets: { bytes: Uint8Array }[]) => {
  const recs: GroundRecord[] = [];
  const g = new GroundStation({ onRecord: (r) => recs.push(r) });
  for (const p of packets) g.pushFrame(p.bytes);
  return { g, recs };
};

describe("BoardTelemetry on the demo testbed (fault in the new estimator at step 120)", () => {
  const mid: { t: number; procs: ReturnType<BoardTelemetry["procSamples"]>[]; held: number[]; guarded: boolean[] }[] = [];
  const run = simTelemetry({
    seed: 3,
    onSample(t, boards, tel) {
      mid.push({ t, procs: tel.map((x) => x.procSamples()), held: boards.map((b) => b.core.heldBytes()), guarded: boards.map((b) => b.guarded) });
      // bytes per ring add up to the core's own total, per process
      for (const b of boards) for (let pid = 0; pid < b.core.config.procs!; pid++) {
        const sum = ([0, 1, 2, 3] as const).reduce<number>((s, w) => s + ringUsage(b.core, pid, w).bytes, 0);
        expect(sum).toBe(b.core.q(pid, "held"));
      }
    },
  });
  const { g, recs } = ground(run.packets);

  it("samples roles during guarded operation: new versions low, old versions hs, the rest ha", () => {
    const during = mid.find((m) => m.t === 600_000)!;
    expect(during.guarded).toEqual([true, true, true]);
    const gnc = during.procs[1].map((p) => `${p.comp}/${p.values.PROC_GEN}/${p.values.PROC_ROLE}`).sort();
    expect(gnc).toEqual(["controller/new/low", "controller/old/hs", "estimator/new/low", "estimator/old/hs"]);
    expect(during.procs[0].map((p) => p.values.PROC_ROLE)).toEqual(["ha"]);
  });
  it("process memory adds up to the board's, and checkpoint + log bytes to the process's", () => {
    for (const m of mid) m.procs.forEach((ps, i) => {
      expect(ps.reduce((s, p) => s + (p.values.PROC_HELD_BYTES as number), 0)).toBe(m.held[i]);
      for (const p of ps) expect((p.values.PROC_CKPT_BYTES as number) + (p.values.PROC_LOG_BYTES as number)).toBe(p.values.PROC_HELD_BYTES);
    });
    expect(Math.max(...mid.flatMap((m) => m.held))).toBeGreaterThan(0);
  });
  it("the ground decodes every packet: no rejections, no sequence gaps", () => {
    expect(g.rejects).toEqual({});
    expect([...g.boards.values()].map((b) => b.lost)).toEqual([0, 0, 0]);
    expect(g.packets).toBe(run.packets.length);
  });
  it("reports the failed AT, the recovery, rollbacks and both takeovers as events", () => {
    const evs = recs.filter((r): r is EventRecord => r.type === "event").map((e) => `${e.node}:${e.event}`);
    for (const want of ["2:AT_FAILED", "2:RECOVERY_REQUESTED", "2:TAKEOVER", "3:ROLLBACK", "1:RECOVERED", "2:RECOVERED", "3:RECOVERED"]) expect(evs).toContain(want);
    expect(evs.filter((e) => e === "2:TAKEOVER").length).toBe(2);
    expect(evs.some((e) => e.endsWith("AT_PASSED"))).toBe(false); // DIAGNOSTIC is filtered out by default
  });
  it("counts recoveries and takeovers, per board and per process, after the recovery", () => {
    const gnc = g.boards.get(2)!;
    expect(gnc.values).toMatchObject({ BOARD_RECOVERIES: 1, BOARD_TAKEOVERS: 2, BOARD_COMMITS: 0, BOARD_AT_FAILED: 1, BOARD_GUARDED: false, BOARD_EPOCH: 1 });
    const old = [...gnc.procs.values()].filter((p) => p.values.PROC_GEN === "old");
    expect(old.map((p) => [p.comp, p.values.PROC_TAKEOVERS, p.values.PROC_ROLE]).sort()).toEqual([["controller", 1, "ha"], ["estimator", 1, "ha"]]);
    expect([...gnc.procs.values()].filter((p) => p.values.PROC_GEN === "new").map((p) => p.values.PROC_ROLE)).toEqual(["retired", "retired"]);
  });
  it("link counters equal the transport's own", () => {
    run.boards.forEach((b) => {
      const s = b.opts.transport.stats();
      expect(g.boards.get(b.node)!.links.get(0)!.values).toMatchObject({ LINK_FRAMES_OUT: s.framesOut, LINK_FRAMES_IN: s.framesIn, LINK_BYTES_OUT: s.bytesOut, LINK_BYTES_IN: s.bytesIn });
    });
  });
  it("runtime drops appear by reason (stale frames after the recovery)", () => {
    const comms = run.boards[2];
    for (const [reason, n] of Object.entries(comms.stats.dropped)) {
      expect(g.boards.get(3)!.values[`BOARD_DROP_${reason.toUpperCase().replace(/-/g, "_")}`]).toBe(n);
    }
  });
});

describe("BoardTelemetry details", () => {
  it("reports a commit as COMMITTED and BOARD_COMMITS", () => {
    const run = simTelemetry({ fault: null, commitAfter: 20, steps: 60 });
    const { g, recs } = ground(run.packets);
    expect(recs.filter((r) => r.type === "event" && r.event === "COMMITTED").length).toBe(3);
    for (const b of g.boards.values()) expect(b.values.BOARD_COMMITS).toBe(1);
  });
  it("maps link drop reasons to channels, unknown ones to LINK_DROP_OTHER, and sends zero counters not at all", () => {
    const run = simTelemetry({ steps: 5, fault: null, sampleUs: 1e9 });
    const fake: Transport = { node: 9, send() {}, onFrame() {}, close: async () => {}, stats: () => ({ ...emptyStats(), dropped: { crc: 2, "cosmic-ray": 3, "queue-full": 0 } }) };
    const t = new BoardTelemetry(run.boards[0].node, { transports: [fake], linkNames: ["sim", "uart0"] }).attach(run.boards[0]);
    expect(t.linkSamples(fake)).toEqual({ LINK_FRAMES_OUT: 0, LINK_FRAMES_IN: 0, LINK_BYTES_OUT: 0, LINK_BYTES_IN: 0, LINK_DROPPED: 5, LINK_DROP_CRC: 2, LINK_DROP_OTHER: 3 });
    const { g } = ground(t.sample(1).map((bytes) => ({ bytes })));
    expect(g.boards.get(1)!.links.get(1)).toMatchObject({ name: "uart0", values: { LINK_DROP_CRC: 2, LINK_DROP_OTHER: 3 } });
  });
  it("throttles events per dictionary throttle and counts the rest", () => {
    const t = new BoardTelemetry(4, { now: () => 0 });
    const sent = Array.from({ length: 12 }, (_, i) => t.event({ t: 1000 + i, board: "b", type: "drop", reason: "crc", detail: "" })).filter(Boolean).length;
    expect(sent).toBe(5);
    expect(t.throttled).toBe(7);
    expect(t.event({ t: 1_000_001, board: "b", type: "drop", reason: "crc", detail: "" })).not.toBeNull(); // next second
    expect(t.event({ t: 0, board: "b", type: "send" })).toBeNull();                                        // detail events are not telemetry
  });
  it("sends DIAGNOSTIC events when asked", () => {
    const t = new BoardTelemetry(4, { minSeverity: "DIAGNOSTIC" });
    const p = t.event({ t: 5, board: "b", type: "passed-at", comp: "controller", gen: "new", v: 3, vext: 1 })!;
    const { recs } = ground([{ bytes: p }]);
    expect(recs[0]).toMatchObject({ event: "AT_PASSED", severity: "DIAGNOSTIC", args: { v: 3, vext: 1 } });
  });
  it("after the first round sends only changed channels, and each packet whole once every refreshEvery rounds", () => {
    const run = simTelemetry({ steps: 5, fault: null, sampleUs: 1e9 });
    const t = new BoardTelemetry(2, { refreshEvery: 3, now: () => 0 }).attach(run.boards[1]);
    const sizes = (ps: Uint8Array[]) => ground(ps.map((bytes) => ({ bytes }))).recs.map((r) => Object.keys((r as TlmRecord).values).length);
    const first = sizes(t.sample(0));
    expect(first[0]).toBeGreaterThan(20);                      // round 0: everything
    const quiet = [sizes(t.sample(0)), sizes(t.sample(0)), sizes(t.sample(0))];
    // nothing changes on a stopped board: only the heartbeat BOARD_TLM and, staggered, one whole packet a round
    for (const r of quiet) expect(r.filter((n) => n > 0).length).toBeLessThanOrEqual(2);
    expect(quiet.flat().filter((n) => n > 0).length).toBeGreaterThanOrEqual(first.length - 1);
  });
  it("a sample round is BOARD_TLM, LINK_TLM, then one PROC_TLM per process", () => {
    const run = simTelemetry({ steps: 5, fault: null, sampleUs: 1e9 });
    const { recs } = ground(run.tel[1].sample(7).map((bytes) => ({ bytes })));
    expect(recs.map((r) => (r as TlmRecord).packet)).toEqual(["BOARD_TLM", "LINK_TLM", "PROC_TLM", "PROC_TLM", "PROC_TLM", "PROC_TLM"]);
  });
});
