// The telemetry dictionary: ids pinned (a changed id breaks every ground tool and
// recording), validation, and encode/decode round trips by id.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import {
  apidFor, decodeTelemetry, Dictionary, DictionaryError, DEFAULT_DICTIONARY, loadDictionary, splitApid, TelemetryEncoder,
  validateDictionary, DecodeError, type EventRecord, type TlmRecord,
} from "../../host/telemetry/dictionary.ts";
import { PacketDecoder } from "../../host/telemetry/ccsds.ts";

// Pinned when the dictionary was introduced. Never edit an entry here: add new
// channels and events with new ids, and add them below.
const CHANNEL_IDS: Record<string, number> = {PROC_ROLE: 1, PROC_GEN: 2, PROC_DIRTY: 3, PROC_MSN_LOCAL: 4, PROC_PRGT: 5, PROC_IVR: 6, PROC_IVR_EXT: 7, PROC_CKPTS: 8, PROC_CKPT_BYTES: 9, PROC_LOG_ENTRIES: 10, PROC_LOG_BYTES: 11, PROC_HELD_BYTES: 12, PROC_PEAK_BYTES: 13, PROC_CKPTS_TAKEN: 14, PROC_LOGGED: 15, PROC_AT_PASSED: 16, PROC_AT_FAILED: 17, PROC_ROLLBACKS: 18, PROC_LAST_ROLLBACK: 19, PROC_TAKEOVERS: 20, PROC_REPLAYED: 21, PROC_RESENT: 22, PROC_DELIVERED: 23, BOARD_GUARDED: 100, BOARD_RECOVERING: 101, BOARD_EPOCH: 102, BOARD_INT_MSN_LOW: 103, BOARD_EXT_MSN_LOW: 104, BOARD_INT_MSN_SDW: 105, BOARD_EXT_MSN_SDW: 106, BOARD_KNOWN_V: 107, BOARD_KNOWN_VEXT: 108, BOARD_HELD_BYTES: 109, BOARD_PEAK_HELD: 110, BOARD_RECOVERIES: 111, BOARD_TAKEOVERS: 112, BOARD_COMMITS: 113, BOARD_AT_PASSED: 114, BOARD_AT_FAILED: 115, BOARD_CHECKPOINTS: 116, BOARD_LOGGED: 117, BOARD_DIRTY_RECEIPTS: 118, BOARD_MAX_ROLLBACK: 119, BOARD_EVENTS_THROTTLED: 120, BOARD_UPTIME: 121, BOARD_ROUND_RESENDS: 122, BOARD_ROUND_TIMEOUTS: 123, BOARD_ROUND_CATCH_UPS: 124, BOARD_DROP_MALFORMED_HEADER: 140, BOARD_DROP_UNKNOWN_FRAME: 141, BOARD_DROP_SHORT_FRAME: 142, BOARD_DROP_UNKNOWN_WIRE: 143, BOARD_DROP_NOT_HOSTED: 144, BOARD_DROP_TO_RETIRED: 145, BOARD_DROP_COMPONENT_TRAP: 146, BOARD_DROP_STALE_CONTAMINATED: 147, BOARD_DROP_STALE_NOTICE: 148, BOARD_DROP_OTHER: 159, LINK_FRAMES_OUT: 200, LINK_FRAMES_IN: 201, LINK_BYTES_OUT: 202, LINK_BYTES_IN: 203, LINK_DROPPED: 204, LINK_RETRANSMITS: 205, LINK_SESSION_RESETS: 206, LINK_IN_FLIGHT: 207, LINK_PEERS_OPEN: 208, LINK_DROP_COBS: 210, LINK_DROP_OVERSIZE: 211, LINK_DROP_SHORT: 212, LINK_DROP_CRC: 213, LINK_DROP_NOT_FOR_US: 214, LINK_DROP_BAD_SRC: 215, LINK_DROP_OWN_SRC: 216, LINK_DROP_UNKNOWN_NODE: 217, LINK_DROP_BAD_CTL: 218, LINK_DROP_ORPHAN_FRAME: 219, LINK_DROP_SEQUENCE: 220, LINK_DROP_TRUNCATED_TRANSFER: 221, LINK_DROP_TRANSFER_CRC: 222, LINK_DROP_TRANSFER_OVERSIZE: 223, LINK_DROP_EVICTED: 224, LINK_DROP_QUEUE_FULL: 225, LINK_DROP_LINK_DOWN: 226, LINK_DROP_SEND_FAILED: 227, LINK_DROP_NOT_CYPHAL: 228, LINK_DROP_ANONYMOUS: 229, LINK_DROP_OWN_NODE_ID: 230, LINK_DROP_MISSING_START: 231, LINK_DROP_BAD_TOGGLE: 232, LINK_DROP_WRONG_TRANSFER_ID: 233, LINK_DROP_DUPLICATE: 234, LINK_DROP_BAD_FRAME_LENGTH: 235, LINK_DROP_OVERSIZED: 236, LINK_DROP_TIMEOUT: 237, LINK_DROP_INTERRUPTED: 238, LINK_DROP_DISCONNECT: 239, LINK_DROP_AUTH_UNKNOWN_NODE: 240, LINK_DROP_AUTH_MISSING: 241, LINK_DROP_UNLAYERED: 242, LINK_DROP_AUTH_NO_KEY: 243, LINK_DROP_NO_SESSION: 244, LINK_DROP_STALE_INCARNATION: 245, LINK_DROP_LAYER_MALFORMED: 246, LINK_DROP_OUT_OF_WINDOW: 247, LINK_DROP_AUTH_MAC: 248, LINK_DROP_DUPLICATE_FRAME: 249, LINK_DROP_BAD_ORDER: 250, LINK_DROP_BAD_ACK: 251, LINK_DROP_ROLE: 252, LINK_DROP_BACKLOG_FULL: 253, LINK_DROP_LAYER_FAULT: 254, LINK_DROP_OTHER: 299};
const EVENT_IDS: Record<string, number> = {BOARD_STARTED: 256, UPGRADE_STARTED: 257, AT_PASSED: 258, AT_FAILED: 259, RECOVERY_REQUESTED: 260, RECOVERY_BEGIN: 261, ROLLBACK: 262, RETIRED: 263, TAKEOVER: 264, RECOVERED: 265, COMMITTED: 266, FRAME_DROPPED: 267, MEMORY_FULL: 268, COMPONENT_TRAP: 269, UPLOAD_ACCEPTED: 270, UPLOAD_REJECTED: 271, TELECOMMAND_REFUSED: 272, TELECOMMAND_ACCEPTED: 273, BOARD_FATAL: 274, HANDLER_FAULT: 275, REPLAY_STATE_CORRUPT: 276, KEY_REVOKED: 280, REPLAY_STATE_RESYNCED: 281, SECURITY_NOTICE: 282, EVENT_LOG_CORRUPT: 283, LINK_DOWN: 284, LINK_UP: 285, STARTUP_MISMATCH: 290, PEER_RESTARTED: 291, UPGRADE_ABORTED: 292, COMMIT_ADOPTED: 293};
const PACKET_CODES: Record<string, number> = {PROC_TLM: 1, BOARD_TLM: 2, LINK_TLM: 3, EVENT: 8};
const ENUMS = {"Role":{"free":0,"low":1,"ha":2,"hs":3,"retired":4},"Gen":{"base":0,"new":1,"old":2}};
const SEVERITY = {BOARD_STARTED: "ACTIVITY_HI", UPGRADE_STARTED: "ACTIVITY_HI", AT_PASSED: "DIAGNOSTIC", AT_FAILED: "WARNING_HI", RECOVERY_REQUESTED: "WARNING_HI", RECOVERY_BEGIN: "ACTIVITY_HI", ROLLBACK: "WARNING_HI", RETIRED: "ACTIVITY_HI", TAKEOVER: "WARNING_HI", RECOVERED: "ACTIVITY_HI", COMMITTED: "ACTIVITY_HI", FRAME_DROPPED: "WARNING_LO", MEMORY_FULL: "WARNING_HI", COMPONENT_TRAP: "WARNING_HI", UPLOAD_ACCEPTED: "ACTIVITY_HI", UPLOAD_REJECTED: "WARNING_HI", TELECOMMAND_REFUSED: "WARNING_HI", TELECOMMAND_ACCEPTED: "ACTIVITY_LO", BOARD_FATAL: "FATAL", HANDLER_FAULT: "WARNING_HI", REPLAY_STATE_CORRUPT: "WARNING_HI", KEY_REVOKED: "WARNING_HI", REPLAY_STATE_RESYNCED: "WARNING_HI", SECURITY_NOTICE: "WARNING_LO", EVENT_LOG_CORRUPT: "WARNING_HI", LINK_DOWN: "WARNING_HI", LINK_UP: "ACTIVITY_HI", STARTUP_MISMATCH: "WARNING_HI", PEER_RESTARTED: "WARNING_HI", UPGRADE_ABORTED: "WARNING_HI", COMMIT_ADOPTED: "ACTIVITY_HI"};

const dict = loadDictionary();
const json = () => JSON.parse(readFileSync(DEFAULT_DICTIONARY, "utf8"));
const decode = (bytes: Uint8Array) => {
  const evs = new PacketDecoder().frame(bytes);
  expect(evs.map((e) => e.kind)).toEqual(["packet"]);
  return decodeTelemetry(dict, (evs[0] as { packet: Parameters<typeof decodeTelemetry>[1] }).packet);
};

describe("dictionary ids are stable", () => {
  it("every pinned channel keeps its id", () => {
    for (const [name, id] of Object.entries(CHANNEL_IDS)) expect({ name, id: dict.channelByName.get(name)?.id }).toEqual({ name, id });
  });
  it("every pinned event keeps its id and severity", () => {
    for (const [name, id] of Object.entries(EVENT_IDS)) expect({ name, id: dict.eventByName.get(name)?.id }).toEqual({ name, id });
    for (const [name, sev] of Object.entries(SEVERITY)) expect({ name, sev: dict.eventByName.get(name)?.severity }).toEqual({ name, sev });
  });
  it("packet codes and enum values are pinned", () => {
    for (const [name, code] of Object.entries(PACKET_CODES)) expect(dict.packetByName.get(name)?.code).toBe(code);
    for (const [name, values] of Object.entries(ENUMS)) expect(dict.enums.get(name)?.values).toEqual(values);
  });
  it("every channel and event in the file is pinned (pin new ones above)", () => {
    expect([...dict.channelByName.keys()].filter((n) => !(n in CHANNEL_IDS))).toEqual([]);
    expect([...dict.eventByName.keys()].filter((n) => !(n in EVENT_IDS))).toEqual([]);
  });
  it("has the F Prime severities and covers every event the issue lists", () => {
    expect(json().severities).toEqual(["DIAGNOSTIC", "ACTIVITY_LO", "ACTIVITY_HI", "WARNING_LO", "WARNING_HI", "FATAL"]);
    for (const t of ["rollback", "takeover", "recovered", "commit", "at-failed", "memory-full", "component-trap", "upload-accepted", "upload-rejected", "telecommand-refused"]) {
      expect(dict.eventByTrace.has(t), t).toBe(true);
    }
  });
});

describe("dictionary validation", () => {
  const bad = (mut: (j: ReturnType<typeof json>) => void, field: RegExp) => {
    const j = json();
    mut(j);
    let err: unknown;
    try { validateDictionary(j); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(DictionaryError);
    expect((err as DictionaryError).field).toMatch(field);
  };
  it("accepts the shipped file", () => expect(() => validateDictionary(json())).not.toThrow());
  it("refuses a repeated channel id, naming the field", () => bad((j) => { j.channels.board[1].id = j.channels.process[0].id; }, /^channels\.board\[1\]\.id$/));
  it("refuses a repeated event id", () => bad((j) => { j.events[2].id = j.events[0].id; }, /^events\[2\]\.id$/));
  it("refuses an unknown severity", () => bad((j) => { j.events[0].severity = "SEVERE"; }, /^events\[0\]\.severity$/));
  it("refuses an unknown type", () => bad((j) => { j.channels.process[0].type = "U24"; }, /^channels\.process\[0\]\.type$/));
  it("refuses variable-size channels", () => bad((j) => { j.channels.link[0].type = "STRING"; }, /^channels\.link\[0\]\.type$/));
  it("refuses a repeated enum value", () => bad((j) => { j.enums[0].values.low = 0; }, /^enums\[0\]\.values\.low$/));
  it("refuses packet code 15 (node 127 code 15 is the idle APID 0x7FF)", () => bad((j) => { j.packets[0].code = 15; }, /^packets\[0\]\.code$/));
  it("loadDictionary names an unreadable file", () => expect(() => loadDictionary("/nonexistent/dict.json")).toThrow(/cannot read dictionary/));
});

describe("encode and decode by dictionary id", () => {
  const enc = new TelemetryEncoder(dict, 2);
  it("APID = node * 16 + packet code", () => {
    expect(apidFor(2, 8)).toBe(0x28);
    expect(splitApid(0x7f3)).toEqual({ node: 127, code: 3 });
    expect(dict.knowsApid(0x7ff)).toBe(false);
    expect(dict.knowsApid(apidFor(5, 1))).toBe(true);
    expect(dict.knowsApid(apidFor(5, 9))).toBe(false);
  });
  it("round-trips a process sample set with enums, booleans and counters", () => {
    const values = { PROC_ROLE: "low", PROC_GEN: "new", PROC_DIRTY: true, PROC_MSN_LOCAL: 236, PROC_CKPT_BYTES: 65616, PROC_HELD_BYTES: 4_000_000_000 };
    const r = decode(enc.proc(1_250_000, 3, "estimator", values)) as TlmRecord;
    expect(r).toMatchObject({ type: "tlm", packet: "PROC_TLM", node: 2, apid: 0x21, seq: 0, t_us: 1_250_000, pid: 3, comp: "estimator", values });
    expect(r.error).toBeUndefined();
  });
  it("each channel is 2 octets of id plus its value, big endian", () => {
    const p = enc.board(0, { BOARD_EPOCH: 0x01020304 });
    expect(Buffer.from(p.subarray(12)).toString("hex")).toBe("0066" + "01020304");
  });
  it("round-trips a link sample set and counts sequence numbers per APID", () => {
    const e = new TelemetryEncoder(dict, 7);
    e.link(0, 0, "can0", { LINK_FRAMES_OUT: 1 });
    const r = decode(e.link(5, 1, "ttyAMA0", { LINK_FRAMES_OUT: 10, LINK_DROP_CRC: 2 })) as TlmRecord;
    expect(r).toMatchObject({ packet: "LINK_TLM", node: 7, seq: 1, link: 1, linkName: "ttyAMA0", values: { LINK_FRAMES_OUT: 10, LINK_DROP_CRC: 2 } });
  });
  it("round-trips events with their severity and formatted text", () => {
    const r = decode(enc.event(9_000_000, "ROLLBACK", { comp: "telemetry", gen: "base", to: 237, distance: 3 })) as EventRecord;
    expect(r).toMatchObject({ type: "event", event: "ROLLBACK", id: 0x106, severity: "WARNING_HI", args: { comp: "telemetry", gen: "base", to: 237, distance: 3 } });
    expect(r.text).toBe("rollback telemetry(base) to checkpoint 237, distance 3 messages");
    const u = decode(enc.event(0, "UPLOAD_REJECTED", { comp: "estimator", version: "2.0.0", reason: "signature does not verify" })) as EventRecord;
    expect(u.text).toBe("upload rejected: estimator@2.0.0: signature does not verify");
  });
  it("clips strings to their maxLength without splitting a UTF-8 character", () => {
    const r = decode(enc.event(0, "TAKEOVER", { comp: "é".repeat(40) })) as EventRecord;
    expect(r.args.comp).toBe("é".repeat(16));
  });
  it("refuses unknown channel names, wrong scopes and bad enum values when encoding", () => {
    expect(() => enc.board(0, { NO_SUCH: 1 })).toThrow(DictionaryError);
    expect(() => enc.board(0, { PROC_ROLE: "low" })).toThrow(/process channel/);
    expect(() => enc.proc(0, 0, "x", { PROC_ROLE: "boss" })).toThrow(/not a Role/);
    expect(() => enc.event(0, "NO_SUCH_EVENT")).toThrow(DictionaryError);
  });
  it("an unknown channel id ends the packet with an error and keeps the values before it", () => {
    const old = validateDictionary(json());
    old.channels.board = old.channels.board.filter((c) => c.name !== "BOARD_COMMITS");
    const older = new Dictionary(old);
    const p = enc.board(0, { BOARD_EPOCH: 1, BOARD_COMMITS: 2, BOARD_RECOVERIES: 3 });
    const r = decodeTelemetry(older, (new PacketDecoder().frame(p)[0] as { packet: Parameters<typeof decodeTelemetry>[1] }).packet) as TlmRecord;
    expect(r.values).toEqual({ BOARD_EPOCH: 1 });
    expect(r.error).toMatch(/unknown board channel id 113/);
  });
  it("an unknown event id or a truncated data field is a DecodeError", () => {
    const p = enc.event(0, "TAKEOVER", { comp: "x" });
    const q = Uint8Array.from(p); q[12] = 0x7f; q[13] = 0x00;
    expect(() => decode(q)).toThrow(DecodeError);
    // cut the string short but keep the CCSDS length consistent
    const cut = Uint8Array.from(p.subarray(0, p.length - 1)); cut[5] -= 1;
    expect(() => decode(cut)).toThrow(/truncated/);
  });
});
