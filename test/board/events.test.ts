// The board's event log (host/board/events.ts) and the ground's half of it
// (host/ground/eventsync.ts): bounded on disk, survives a restart, a damaged file is
// reported and not fatal, and a ground that was away gets every event it missed, once.
import { afterEach, describe, expect, it } from "vitest";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventLog, decodeEventReply, encodeEventQuery, eventLogFiles } from "../../host/board/events.ts";
import { EventSync, type ReplayedEvent } from "../../host/ground/eventsync.ts";
import { M } from "../../host/board/mgmt.ts";
import { BoardTelemetry } from "../../host/telemetry/sampler.ts";
import { loadDictionary } from "../../host/telemetry/dictionary.ts";
import type { TraceEvent } from "../../host/runtime/board.ts";

const dirs: string[] = [];
const tmp = () => { const d = mkdtempSync(join(tmpdir(), "gsu-evlog-")); dirs.push(d); return d; };
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

const dict = loadDictionary();
const tlm = new BoardTelemetry(1, { dict });
let step = 0;
/** A real ROLLBACK event packet, a different one each call. */
const rollback = (): Uint8Array => tlm.event({ t: 1_700_000_000_000_000 + ++step * 1000, board: "b", type: "rollback", comp: "estimator", gen: "new", to: step, distance: 3 } as unknown as TraceEvent)!;

describe("on-board event log", () => {
  it("is bounded: 2,000 events into a 8 KiB ring keep at most 8 KiB on disk, the newest, in two segments", () => {
    const d = tmp();
    const log = new EventLog(d, { maxBytes: 8192, sync: false });
    for (let i = 0; i < 2000; i++) log.append(rollback());
    const segs = eventLogFiles(d).filter((f) => f.name.startsWith("seg-"));
    expect(segs.length).toBeLessThanOrEqual(2);
    expect(segs.reduce((s, f) => s + f.bytes, 0)).toBeLessThanOrEqual(8192);
    expect(log.lastSeq).toBe(2000);
    expect(log.firstSeq).toBeGreaterThan(1900 - 100);   // only the newest survive
    expect(log.size).toBe(log.lastSeq - log.firstSeq + 1);
    log.close();
  });

  it("survives a restart: same ring id, same events, numbering goes on", () => {
    const d = tmp();
    const a = new EventLog(d);
    const pkts = Array.from({ length: 20 }, rollback);
    for (const p of pkts) a.append(p);
    a.close();
    const b = new EventLog(d);
    expect(b.ringId).toBe(a.ringId);
    expect(b.corrupt).toBeNull();
    expect(b.lastSeq).toBe(20);
    expect(b.since(1, 1 << 20).map((e) => Buffer.from(e.packet).toString("hex"))).toEqual(pkts.map((p) => Buffer.from(p).toString("hex")));
    expect(b.append(rollback())).toBe(21);
    b.close();
  });

  it("a damaged file (torn line, flipped bit, junk) is reported, the rest kept, the log goes on", () => {
    const d = tmp();
    const a = new EventLog(d);
    for (let i = 0; i < 10; i++) a.append(rollback());
    a.close();
    const seg = join(d, "events", readdirSync(join(d, "events")).find((n) => n.startsWith("seg-"))!);
    const lines = readFileSync(seg, "utf8").split("\n");
    lines[3] = lines[3].replace(/"p":"(..)/, (_m, h) => `"p":"${h === "00" ? "01" : "00"}`);   // a flipped byte: CRC fails
    writeFileSync(seg, lines.join("\n"));
    appendFileSync(seg, '{"seq":11,"p":"08');                                                   // a torn last line
    const b = new EventLog(d);
    expect(b.corrupt).toMatchObject({ lines: 2 });
    expect(b.corrupt!.file).toContain("seg-");
    expect(b.size).toBe(9);
    expect(b.lastSeq).toBe(10);
    expect(b.append(rollback())).toBe(11);
    b.close();
    // the ring id file garbled: a new ring (the ground then asks from the oldest held)
    writeFileSync(join(d, "events", "ring-id"), "zz\n");
    const c = new EventLog(d);
    expect(c.ringId).not.toBe(b.ringId);
    c.close();
  });

  it("a ground that was away gets every event it missed, in order, none twice; overwritten ones are reported as a gap", () => {
    const d = tmp();
    const log = new EventLog(d, { sync: false });
    const got: ReplayedEvent[] = [];
    const gaps: number[] = [];
    const sync = new EventSync({
      dict, pollMs: 0,
      send: (node, type, body) => { expect(type).toBe(M.EV_Q); const f = log.answer(body); sync.onReply(node, f.subarray(2)); },
      onReplayed: (e) => got.push(e),
      onGap: (_n, missing) => gaps.push(missing),
    });
    // 5 events while the ground listens (seen live), then 300 while it is away
    for (let i = 0; i < 5; i++) { const p = log.append(rollback()); void p; }
    for (const e of log.since(1, 1 << 20)) sync.seenLive(Buffer.from(e.packet).toString("hex"));
    sync.heard(1);
    expect(got).toHaveLength(0);                                   // all 5 seen live: nothing twice
    const missed: string[] = [];
    for (let i = 0; i < 300; i++) { const p = rollback(); log.append(p); missed.push(Buffer.from(p).toString("hex")); }
    sync.query(1);
    expect(got.map((e) => e.hex)).toEqual(missed);                 // every one, in order (several replies)
    expect(got.every((e) => e.event === "ROLLBACK" && e.replayed)).toBe(true);
    expect(got.map((e) => e.boardSeq)).toEqual(Array.from({ length: 300 }, (_, i) => 6 + i));
    expect(sync.counters.replies).toBeGreaterThan(3);
    expect(gaps).toEqual([]);
    // away again while a 4 KiB ring overwrites: the ground is told how many are gone
    const small = new EventLog(tmp(), { maxBytes: 4096, sync: false });
    const s2got: ReplayedEvent[] = [];
    const s2gaps: number[] = [];
    const s2 = new EventSync({ dict, pollMs: 0, send: (n, _t, b) => s2.onReply(n, small.answer(b).subarray(2)), onReplayed: (e) => s2got.push(e), onGap: (_n, m) => s2gaps.push(m) });
    for (let i = 0; i < 3; i++) small.append(rollback());
    s2.heard(2);
    expect(s2got).toHaveLength(3);
    for (let i = 0; i < 400; i++) small.append(rollback());
    s2.query(2);
    expect(s2gaps).toHaveLength(1);
    expect(s2gaps[0] + s2got.length).toBe(403);                    // lost + received = all
    sync.close(); s2.close(); log.close(); small.close();
  });

  it("answers at most 10 queries a second (a burst of 10), counting the refusals", () => {
    const log = new EventLog(tmp(), { sync: false });
    const t = 1_000_000;
    const first = Array.from({ length: 12 }, () => log.allow(t));
    expect(first.filter(Boolean)).toHaveLength(10);
    expect(log.counters.refused).toBe(2);
    expect(log.allow(t + 100)).toBe(true);                        // 100 ms later: one more
    expect(log.allow(t + 100)).toBe(false);
    log.close();
  });

  it("EV_Q/EV_R round trip; a query for another ring starts from the oldest held; malformed queries throw for the daemon to contain", () => {
    const log = new EventLog(tmp(), { sync: false });
    for (let i = 0; i < 4; i++) log.append(rollback());
    const r = decodeEventReply(log.answer(encodeEventQuery({ ringId: log.ringId, from: 3, maxBytes: 0 })).subarray(2));
    expect(r.events.map((e) => e.seq)).toEqual([3, 4]);
    expect(r).toMatchObject({ ringId: log.ringId, first: 1, last: 4 });
    const other = decodeEventReply(log.answer(encodeEventQuery({ ringId: 12345, from: 3, maxBytes: 0 })).subarray(2));
    expect(other.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(() => log.answer(new Uint8Array([1, 2, 3]))).toThrow(/event log query: truncated/);
    log.close();
  });
});
