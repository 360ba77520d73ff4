// Bad input to the facade (host/core/core.ts) gets a clear CoreError that names the
// field and says what to do, and leaves the core's state exactly as it was.
//
// Tests named "fixed: ..." pin facade/core bugs found while writing this suite
// (reported with a repro): they pass while the bug is there and start failing once
// it is fixed; then turn them into plain `it`.
import { describe, expect, it } from "vitest";
import { Core, CoreError, type CoreConfig, type CoreEffect, type CoreEvent, type Header } from "../host/core/core.ts";
import { G, Q, STATUS } from "../host/core/abi.ts";

const L = 0, A1 = 1, A2 = 2, S = 3, FREE = 4; // pids: cluster, two active, the cluster's shadow, unused
const bytes = (n: number, fill = 0x61) => new Uint8Array(n).fill(fill);
const hint = (code: string) => Object.values(STATUS).find((s) => s.name === code)!.hint;

/** Everything observable about the core's protocol state. */
function fullState(core: Core) {
  const procs = [];
  for (let p = 0; p < core.config.procs; p++) {
    procs.push({
      ...core.state(p),
      q: Object.fromEntries(Object.keys(Q).map((k) => [k, core.q(p, k as keyof typeof Q)])),
      highs: core.checkpointHighs(p),
    });
  }
  const globals = Object.fromEntries(Object.keys(G).map((k) => [k, core.global(k as keyof typeof G)]));
  return { procs, globals, held: core.heldBytes() };
}

interface Expect { code: string; field: string; hint: string | RegExp }

/** Runs fn, expects a CoreError naming the field with a hint, and an unchanged core. */
function refused(core: Core | undefined, fn: () => unknown, want: Expect): CoreError {
  const before = core && fullState(core);
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err, "expected a CoreError").toBeInstanceOf(CoreError);
  const e = err as CoreError;
  expect({ code: e.code, field: e.field }).toEqual({ code: want.code, field: want.field });
  // the message names the field (header fields read "header: kind ...", so the leaf name will do)
  expect(e.message).toContain(want.field.split(".").pop()!);
  if (typeof want.hint === "string") expect(e.message).toContain(want.hint);
  else expect(e.message).toMatch(want.hint);
  if (core) expect(fullState(core)).toEqual(before);
  return e;
}

/** Sends msg from `from` to `to`, receiving with the piggybacked header; returns the header. */
function msg(core: Core, from: number, to: number, toKind: "act" | "low", fromKind: "act" | "low", snapBytes = 256) {
  const fx = core.submit([{ type: "send", pid: from, to: toKind, peer: to, payload: bytes(8) }]);
  const s = fx.find((e) => e.type === "send");
  if (!s || s.type !== "send") throw new Error("no send effect");
  core.submit([{ type: "recv", pid: to, from: fromKind, peer: from, dirty: s.header.dirty, index: s.header.index, payload: bytes(8), snapBytes }]);
  return s.header;
}

/**
 * A guarded operation with some history, so "unchanged" means something: checkpoints,
 * logged inputs, suppressed shadow outputs and a pending AT.
 */
function busyCore(cfg: CoreConfig = {}): Core {
  const core = new Core(cfg);
  core.setRole(L, "low"); core.setRole(A1, "ha"); core.setRole(A2, "ha"); core.setRole(S, "hs");
  core.beginGuarded();
  msg(core, L, A1, "act", "low");                       // A1 checkpoints (index 1)
  msg(core, A1, A2, "act", "act");                      // A2 checkpoints
  core.submit([
    { type: "recv", pid: A1, from: "device", dirty: 0, index: 0, payload: bytes(16) }, // logged at A1
    { type: "send", pid: S, to: "act", peer: A1, payload: bytes(8) },                  // suppressed, logged
    { type: "send", pid: L, to: "device", payload: bytes(8) },                         // AT pending at L
  ]);
  expect(core.heldBytes()).toBeGreaterThan(0);
  return core;
}

describe("facade: events naming an unknown, unused or retired process", () => {
  it("pid beyond procs is E_UNKNOWN_PID on 'pid'", () => {
    const core = busyCore();
    const e = refused(core, () => core.submit([{ type: "send", pid: 8, to: "act" }]),
      { code: "E_UNKNOWN_PID", field: "pid", hint: hint("E_UNKNOWN_PID") });
    expect(e.eventIndex).toBe(0);
    expect(e.effects).toEqual([]);
    refused(core, () => core.submit([{ type: "recv", pid: 1000, from: "act", dirty: 0, index: 0 }]),
      { code: "E_UNKNOWN_PID", field: "pid", hint: hint("E_UNKNOWN_PID") });
    refused(core, () => core.submit([{ type: "passed-at", pid: 0xffffffff, v: 1 }]),
      { code: "E_UNKNOWN_PID", field: "pid", hint: hint("E_UNKNOWN_PID") });
  });
  it("an unused pid (no role) is E_UNKNOWN_PID on 'pid'", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "recv", pid: FREE, from: "act", dirty: 1, index: 5, snapBytes: 64 }]),
      { code: "E_UNKNOWN_PID", field: "pid", hint: hint("E_UNKNOWN_PID") });
    refused(core, () => core.submit([{ type: "send", pid: FREE, to: "device" }]),
      { code: "E_UNKNOWN_PID", field: "pid", hint: hint("E_UNKNOWN_PID") });
  });
  it("a negative or fractional pid is refused by the facade on 'pid'", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "send", pid: -1, to: "act" }]),
      { code: "E_BAD_FIELD", field: "pid", hint: "must be an integer in 0..2^32-1" });
    refused(core, () => core.submit([{ type: "at-result", pid: 1.5, passed: true }]),
      { code: "E_BAD_FIELD", field: "pid", hint: "must be an integer in 0..2^32-1" });
    refused(core, () => core.setRole(-1, "ha"), { code: "E_UNKNOWN_PID", field: "pid", hint: "out of range" });
    refused(core, () => core.setCheckpointLength(99, 0), { code: "E_UNKNOWN_PID", field: "pid", hint: "out of range" });
  });
  it("a retired pid is E_RETIRED on 'pid'", () => {
    const core = busyCore();
    core.submit([{ type: "at-result", pid: L, passed: true }, { type: "commit" }]);
    expect(core.role(S)).toBe("retired");
    core.beginGuarded();
    msg(core, A1, A2, "act", "act");
    for (const ev of [
      { type: "send", pid: S, to: "act" },
      { type: "recv", pid: S, from: "act", dirty: 0, index: 0 },
      { type: "passed-at", pid: S, v: 0 },
    ] as CoreEvent[]) {
      refused(core, () => core.submit([ev]), { code: "E_RETIRED", field: "pid", hint: hint("E_RETIRED") });
    }
  });
});

describe("facade: malformed event fields", () => {
  it("a bad kind string is refused on 'to' / 'from'", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "send", pid: A1, to: "cluster" as never }]),
      { code: "E_BAD_FIELD", field: "to", hint: "must be one of act, low, sdw, device" });
    refused(core, () => core.submit([{ type: "recv", pid: A1, from: 2 as never, dirty: 0, index: 0 }]),
      { code: "E_BAD_FIELD", field: "from", hint: "must be one of act, low, sdw, device" });
  });
  it("fixed: a kind string naming an Object.prototype member ('toString') is not caught as a bad field", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "send", pid: A1, to: "toString" as never }]),
      { code: "E_BAD_FIELD", field: "to", hint: "must be one of act, low, sdw, device" });
  });
  it("a bad event type is refused on 'type'", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "sned", pid: A1 } as never]),
      { code: "E_BAD_FIELD", field: "type", hint: "use send, recv, passed-at" });
  });
  it("dirty = 2 (or true) is refused on 'dirty'", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "recv", pid: A1, from: "act", dirty: 2, index: 7, snapBytes: 64 }]),
      { code: "E_BAD_FIELD", field: "dirty", hint: "must be 0 or 1" });
    refused(core, () => core.submit([{ type: "recv", pid: A1, from: "act", dirty: true as never, index: 7 }]),
      { code: "E_BAD_FIELD", field: "dirty", hint: "must be 0 or 1" });
  });
  it("a negative or fractional index is refused on 'index'", () => {
    const core = busyCore();
    for (const index of [-1, 2.5, Number.NaN, 2 ** 32, undefined]) {
      refused(core, () => core.submit([{ type: "recv", pid: A1, from: "act", dirty: 1, index: index as number, snapBytes: 64 }]),
        { code: "E_BAD_FIELD", field: "index", hint: "must be an integer in 0..2^32-1" });
    }
  });
  it("other numeric fields: peer, port, snapBytes, v, V, epoch; passed; payload type", () => {
    const core = busyCore();
    const u32 = "must be an integer in 0..2^32-1";
    refused(core, () => core.submit([{ type: "send", pid: A1, to: "act", peer: -2 }]), { code: "E_BAD_FIELD", field: "peer", hint: u32 });
    refused(core, () => core.submit([{ type: "send", pid: A1, to: "act", port: 0.5 }]), { code: "E_BAD_FIELD", field: "port", hint: u32 });
    refused(core, () => core.submit([{ type: "recv", pid: A1, from: "act", dirty: 1, index: 9, snapBytes: -4 }]), { code: "E_BAD_FIELD", field: "snapBytes", hint: u32 });
    refused(core, () => core.submit([{ type: "passed-at", pid: A1, v: -1 }]), { code: "E_BAD_FIELD", field: "v", hint: u32 });
    refused(core, () => core.submit([{ type: "recv", pid: A1, from: "act", dirty: 0, index: 0, epoch: -1 }]), { code: "E_BAD_FIELD", field: "epoch", hint: u32 });
    refused(core, () => core.submit([{ type: "at-result", pid: L, passed: 1 as never }]), { code: "E_BAD_FIELD", field: "passed", hint: "must be true or false" });
    refused(core, () => core.submit([{ type: "send", pid: A1, to: "act", payload: [1, 2] as never }]), { code: "E_BAD_FIELD", field: "payload", hint: "must be a Uint8Array" });
    refused(core, () => core.submit([{ type: "send", pid: A1, to: "act", payload: bytes(64 * 1024 + 1) }]), { code: "E_PAYLOAD_RANGE", field: "payload", hint: "raise stageBytes" });
  });
});

describe("facade: messages a role cannot send or receive", () => {
  it("shadow -> cluster is E_ROLE_SEND", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "send", pid: S, to: "low", peer: L }]),
      { code: "E_ROLE_SEND", field: "to", hint: hint("E_ROLE_SEND") });
  });
  it("cluster -> shadow and active -> shadow are E_ROLE_SEND", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "send", pid: L, to: "sdw", peer: S }]),
      { code: "E_ROLE_SEND", field: "to", hint: hint("E_ROLE_SEND") });
    refused(core, () => core.submit([{ type: "send", pid: A1, to: "sdw", peer: S }]),
      { code: "E_ROLE_SEND", field: "to", hint: hint("E_ROLE_SEND") });
  });
  it("the cluster receiving from a shadow is E_ROLE_RECV", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "recv", pid: L, from: "sdw", peer: S, dirty: 1, index: 1 }]),
      { code: "E_ROLE_RECV", field: "from", hint: hint("E_ROLE_RECV") });
  });
  it("an active process receiving from a shadow during guarded operation is E_ROLE_RECV", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "recv", pid: A2, from: "sdw", peer: S, dirty: 0, index: 1, snapBytes: 64 }]),
      { code: "E_ROLE_RECV", field: "from", hint: hint("E_ROLE_RECV") });
    refused(core, () => core.submit([{ type: "recv", pid: A2, from: "sdw", peer: S, dirty: 1, index: 9, snapBytes: 64 }]),
      { code: "E_ROLE_RECV", field: "from", hint: hint("E_ROLE_RECV") });
  });
  it("a 'passed AT' addressed to the cluster is E_ROLE_RECV", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "passed-at", pid: L, v: 1 }]),
      { code: "E_ROLE_RECV", field: "pid", hint: hint("E_ROLE_RECV") });
  });
  it("fixed: role refusals name the ABI word 'kind', not the event's field 'to' / 'from'", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "send", pid: S, to: "low", peer: L }]),
      { code: "E_ROLE_SEND", field: "to", hint: hint("E_ROLE_SEND") });
  });
});

describe("facade: memory limits", () => {
  it("a snapshot larger than ckptBytes is E_SNAPSHOT_TOO_BIG", () => {
    const core = busyCore({ ckptBytes: 4096 });
    refused(core, () => core.submit([{ type: "recv", pid: A2, from: "low", peer: L, dirty: 1, index: 50, snapBytes: 4097 }]),
      { code: "E_SNAPSHOT_TOO_BIG", field: "snapshot", hint: hint("E_SNAPSHOT_TOO_BIG") });
    // exactly ckptBytes fits (A2 holds a 256-byte checkpoint already, so the arena is full instead)
    refused(core, () => core.submit([{ type: "recv", pid: A2, from: "low", peer: L, dirty: 1, index: 50, snapBytes: 4096 }]),
      { code: "E_CKPT_FULL", field: "snapshot", hint: hint("E_CKPT_FULL") });
  });
  it("a full checkpoint arena (slots) is E_CKPT_FULL", () => {
    const core = busyCore({ ckptSlots: 2 });
    msg(core, L, A1, "act", "low");                   // A1's second checkpoint
    expect(core.state(A1).ckpts.length).toBe(2);
    const h = core.submit([{ type: "send", pid: L, to: "act", peer: A1 }]).find((e) => e.type === "send")!;
    const header = (h as Extract<CoreEffect, { type: "send" }>).header;
    refused(core, () => core.submit([{ type: "recv", pid: A1, from: "low", peer: L, dirty: 1, index: header.index, snapBytes: 8 }]),
      { code: "E_CKPT_FULL", field: "snapshot", hint: hint("E_CKPT_FULL") });
  });
  it("a full checkpoint arena (bytes) is E_CKPT_FULL", () => {
    const core = busyCore({ ckptBytes: 1024 });
    refused(core, () => core.submit([{ type: "recv", pid: A1, from: "low", peer: L, dirty: 1, index: 40, snapBytes: 1024 - 256 + 8 }]),
      { code: "E_CKPT_FULL", field: "snapshot", hint: hint("E_CKPT_FULL") });
  });
  it("a full receiver log is E_LOG_FULL", () => {
    const core = busyCore({ logSlots: 2 });
    core.submit([{ type: "recv", pid: A1, from: "device", dirty: 0, index: 0, payload: bytes(4) }]); // 2nd entry
    expect(core.state(A1).inLog.length).toBe(2);
    refused(core, () => core.submit([{ type: "recv", pid: A1, from: "device", dirty: 0, index: 0, payload: bytes(4) }]),
      { code: "E_LOG_FULL", field: "payload", hint: hint("E_LOG_FULL") });
    refused(core, () => core.submit([{ type: "recv", pid: A1, from: "act", peer: A2, dirty: 1, index: 1, payload: bytes(4) }]),
      { code: "E_LOG_FULL", field: "payload", hint: hint("E_LOG_FULL") });
  });
  it("a full log (bytes) is E_LOG_FULL", () => {
    const core = busyCore({ logBytes: 64 });
    refused(core, () => core.submit([{ type: "recv", pid: A1, from: "device", dirty: 0, index: 0, payload: bytes(49) }]),
      { code: "E_LOG_FULL", field: "payload", hint: hint("E_LOG_FULL") });
  });
  it("a shadow's full output log is E_LOG_FULL", () => {
    const core = busyCore({ logSlots: 1 });
    refused(core, () => core.submit([{ type: "send", pid: S, to: "act", peer: A2, payload: bytes(8) }]),
      { code: "E_LOG_FULL", field: "payload", hint: hint("E_LOG_FULL") });
    core.submit([{ type: "send", pid: S, to: "device", payload: bytes(8) }]);
    refused(core, () => core.submit([{ type: "send", pid: S, to: "device", payload: bytes(8) }]),
      { code: "E_LOG_FULL", field: "payload", hint: hint("E_LOG_FULL") });
  });
});

describe("facade: ATs, recovery and epochs out of order", () => {
  it("at-result with nothing pending is E_NO_PENDING_AT", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "at-result", pid: A2, passed: true }]),
      { code: "E_NO_PENDING_AT", field: "pid", hint: hint("E_NO_PENDING_AT") });
    refused(core, () => core.submit([{ type: "at-result", pid: S, passed: false }]),
      { code: "E_NO_PENDING_AT", field: "pid", hint: hint("E_NO_PENDING_AT") });
  });
  it("a second device send while an AT is pending is E_AT_PENDING", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "send", pid: L, to: "device" }]),
      { code: "E_AT_PENDING", field: "pid", hint: hint("E_AT_PENDING") });
  });
  it("recover-apply without recover-begin is E_NOT_RECOVERING", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "recover-apply", V: 5, Vext: 0, epoch: 1 }]),
      { code: "E_NOT_RECOVERING", field: "type", hint: hint("E_NOT_RECOVERING") });
    refused(core, () => core.submit([{ type: "abort", V: 5, Vext: 0, epoch: 1 }]),
      { code: "E_NOT_RECOVERING", field: "type", hint: hint("E_NOT_RECOVERING") });
  });
  it("recover-apply with V below this core's bound is E_BAD_BOUND", () => {
    const core = busyCore();
    core.submit([{ type: "at-result", pid: L, passed: true }]);
    const fx = core.submit([{ type: "recover-begin" }]);
    expect(fx).toContainEqual({ type: "bound", v: 1, vext: 1 });
    refused(core, () => core.submit([{ type: "recover-apply", V: 0, Vext: 1, epoch: 1 }]),
      { code: "E_BAD_BOUND", field: "V", hint: hint("E_BAD_BOUND") });
    refused(core, () => core.submit([{ type: "recover-apply", V: 1, Vext: 0, epoch: 1 }]),
      { code: "E_BAD_BOUND", field: "V", hint: hint("E_BAD_BOUND") });
    // while recovering, ordinary events wait
    refused(core, () => core.submit([{ type: "send", pid: A1, to: "act" }]),
      { code: "E_RECOVERING", field: "type", hint: hint("E_RECOVERING") });
    refused(core, () => core.submit([{ type: "recover-begin" }]),
      { code: "E_RECOVERING", field: "type", hint: hint("E_RECOVERING") });
  });
  it("recover-apply with the wrong epoch is E_BAD_EPOCH", () => {
    const core = busyCore();
    core.submit([{ type: "recover-begin" }]);
    for (const epoch of [0, 2, 17]) {
      refused(core, () => core.submit([{ type: "recover-apply", V: 0, Vext: 0, epoch }]),
        { code: "E_BAD_EPOCH", field: "epoch", hint: hint("E_BAD_EPOCH") });
    }
  });
  it("a message from an epoch ahead of the receiver's is E_BAD_EPOCH", () => {
    const core = busyCore();
    refused(core, () => core.submit([{ type: "recv", pid: A2, from: "act", peer: A1, dirty: 1, index: 1, epoch: 3 }]),
      { code: "E_BAD_EPOCH", field: "epoch", hint: hint("E_BAD_EPOCH") });
    // epochs are mod 16 on the wire: 4 is ahead of 0 (9 would read as 7 epochs behind: a stale notice)
    refused(core, () => core.submit([{ type: "passed-at", pid: A2, v: 1, epoch: 4 }]),
      { code: "E_BAD_EPOCH", field: "epoch", hint: hint("E_BAD_EPOCH") });
  });
  it("commit or recover-begin outside guarded operation is E_NOT_GUARDED", () => {
    const core = new Core();
    core.setRole(A1, "ha");
    refused(core, () => core.submit([{ type: "commit" }]), { code: "E_NOT_GUARDED", field: "type", hint: hint("E_NOT_GUARDED") });
    refused(core, () => core.submit([{ type: "recover-begin" }]), { code: "E_NOT_GUARDED", field: "type", hint: hint("E_NOT_GUARDED") });
  });
  it("setRole during guarded operation is E_GUARDED; a bad role is E_BAD_ROLE", () => {
    const core = busyCore();
    refused(core, () => core.setRole(FREE, "ha"), { code: "E_GUARDED", field: "role", hint: hint("E_GUARDED") });
    refused(core, () => core.beginGuarded(), { code: "E_GUARDED", field: "role", hint: hint("E_GUARDED") });
    refused(core, () => core.setRole(FREE, "retired"), { code: "E_BAD_ROLE", field: "role", hint: "must be low, ha, hs or free" });
    refused(core, () => core.setRole(FREE, "boss" as never), { code: "E_BAD_ROLE", field: "role", hint: "must be low, ha, hs or free" });
  });
  it("fixed: setRole(pid, 'constructor') is accepted and frees the process", () => {
    const core = new Core();
    core.setRole(A1, "ha");
    refused(core, () => core.setRole(A1, "constructor" as never), { code: "E_BAD_ROLE", field: "role", hint: "must be low, ha, hs or free" });
  });
});

describe("facade: header codec", () => {
  const core = new Core();
  const decode = (b: number[]) => () => core.decodeHeader(Uint8Array.from(b));
  const cases: [string, number[], string, string][] = [
    ["empty", [], "E_HDR_EMPTY", "header"],
    // kind 6 is now assigned ('control'); 7 is the one unassigned kind
    ["kind 7", [7 << 5, 0x01], "E_HDR_KIND", "header.kind"],
    ["kind 7 with the dirty bit", [(7 << 5) | 0x10, 0x01], "E_HDR_KIND", "header.kind"],
    ["truncated index", [0x00, 0x80], "E_HDR_TRUNCATED", "header.index"],
    ["no index at all", [0x00], "E_HDR_TRUNCATED", "header.index"],
    ["overflowing index", [0x00, 0xff, 0xff, 0xff, 0xff, 0x1f], "E_HDR_OVERFLOW", "header.index"],
    ["non-canonical index", [0x00, 0x81, 0x00], "E_HDR_NONCANONICAL", "header.index"],
    // the dirty bit on passedAt, bound, apply selects the vector form (docs/wire.md "Vectors");
    // masks 1 and 1 (both bounds fit the scalar form) are not canonical
    ["vector form whose bounds fit the scalar form", [(1 << 5) | 0x10, 0x01, 0x01, 0x01, 0x01], "E_HDR_NONCANONICAL", "header.vector"],
    ["dirty on counter", [(5 << 5) | 0x10, 0x01, 0x00], "E_HDR_DIRTY", "header.dirty"],
    ["dirty on begin", [(2 << 5) | 0x10, 0x01], "E_HDR_DIRTY", "header.dirty"],
  ];
  for (const [name, b, code, field] of cases) {
    it(`decodeHeader: ${name} is ${code} on '${field}'`, () => {
      refused(core, decode(b), { code, field, hint: hint(code) });
    });
  }
  it("fixed: a bad aux varint (ext bound) is reported on 'header.index', not 'header.aux'", () => {
    refused(core, decode([1 << 5, 0x01, 0x80]), { code: "E_HDR_TRUNCATED", field: "header.aux", hint: hint("E_HDR_TRUNCATED") });
  });
  it("decodeHeader round-trips what encodeHeader wrote", () => {
    const h: Header = { kind: "passedAt", dirty: 0, index: 300, epoch: 5, aux: 2 ** 31 - 1 };
    expect(core.decodeHeader(core.encodeHeader(h))).toEqual({ ...h, length: 1 + 2 + 5 });
  });
  it("indexes and bounds >= 2^31 decode as unsigned (regression: wasm i32 returns read as signed)", () => {
    const h: Header = { kind: "passedAt", dirty: 0, index: 2 ** 31, epoch: 0, aux: 2 ** 32 - 1 };
    expect(core.decodeHeader(core.encodeHeader(h))).toEqual({ ...h, length: 1 + 5 + 5 });
  });

  const bad: [string, Header, string, string][] = [
    ["unknown kind", { kind: "hello" as never, dirty: 0, index: 0, epoch: 0 }, "header.kind", "must be one of app, passedAt"],
    ["negative index", { kind: "app", dirty: 0, index: -1, epoch: 0 }, "header.index", "must be an integer in 0..2^32-1"],
    ["fractional index", { kind: "app", dirty: 0, index: 0.5, epoch: 0 }, "header.index", "must be an integer in 0..2^32-1"],
    ["aux beyond u32", { kind: "bound", dirty: 0, index: 0, epoch: 0, aux: 2 ** 32 }, "header.aux", "must be an integer in 0..2^32-1"],
    ["dirty = 2", { kind: "app", dirty: 2, index: 1, epoch: 0 }, "header.dirty", "must be 0 or 1"],
    ["dirty on a non-app header", { kind: "apply", dirty: 1, index: 1, epoch: 0 }, "header.dirty", "only app messages carry the dirty bit"],
    ["negative epoch", { kind: "app", dirty: 0, index: 1, epoch: -1 }, "header.epoch", "must be a non-negative integer"],
    ["fractional epoch", { kind: "app", dirty: 0, index: 1, epoch: 1.5 }, "header.epoch", "must be a non-negative integer"],
  ];
  for (const [name, h, field, hintText] of bad) {
    it(`encodeHeader: ${name} is refused on '${field}'`, () => {
      refused(core, () => core.encodeHeader(h), { code: "E_BAD_FIELD", field, hint: hintText });
    });
  }
  it("fixed: encodeHeader with the index missing encodes index 0 instead of refusing", () => {
    refused(core, () => core.encodeHeader({ kind: "app", dirty: 0, epoch: 0 } as never),
      { code: "E_BAD_FIELD", field: "header.index", hint: "must be an integer in 0..2^32-1" });
  });
});

describe("facade: Core constructor with a bad configuration", () => {
  const cases: [string, CoreConfig, string, string][] = [
    ['rules "x"', { rules: "x" as never }, "rules", 'rules must be "paper"'],
    ["procs 0", { procs: 0 }, "procs", "procs must be a positive integer"],
    ["procs 1025", { procs: 1025 }, "procs", "procs must be at most 1024"],
    ["procs 2.5", { procs: 2.5 }, "procs", "procs must be a positive integer"],
    ["ckptBytes -1", { ckptBytes: -1 }, "ckptBytes", "ckptBytes must be a positive integer"],
    ["logSlots NaN", { logSlots: Number.NaN }, "logSlots", "logSlots must be a positive integer"],
    ["batch 2^31", { batch: 2 ** 31 }, "batch", "batch must be a positive integer"],
  ];
  for (const [name, cfg, field, hintText] of cases) {
    it(`${name} is E_BAD_CONFIG on '${field}'`, () => {
      refused(undefined, () => new Core(cfg), { code: "E_BAD_CONFIG", field, hint: hintText });
    });
  }
  it('fixed: rules "toString" (an Object.prototype member) is accepted as the paper rules', () => {
    refused(undefined, () => new Core({ rules: "toString" as never }), { code: "E_BAD_CONFIG", field: "rules", hint: 'rules must be "paper"' });
  });
  it("fixed: a configuration too large for 4 GiB of linear memory crashes with a raw error instead of E_BAD_CONFIG", () => {
    refused(undefined, () => new Core({ procs: 8, ckptBytes: 2 ** 30 }), { code: "E_BAD_CONFIG", field: "ckptBytes", hint: "ckptBytes" });
  });
});

describe("facade: a batch whose event 3 of 5 is bad", () => {
  const good: CoreEvent[] = [
    { type: "send", pid: L, to: "act", peer: A2, payload: bytes(8) },
    { type: "recv", pid: A2, from: "low", peer: L, dirty: 1, index: 2, payload: bytes(8), snapBytes: 128 },
    { type: "recv", pid: A1, from: "device", dirty: 0, index: 0, payload: bytes(8) },
  ];
  const after: CoreEvent = { type: "send", pid: A2, to: "act", peer: A1 };

  function checkPrefix(cfg: CoreConfig, badEvent: CoreEvent, want: Expect) {
    const twin = busyCore(cfg);
    const twinFx = twin.submit(good);
    expect(twinFx.some((e) => e.type === "checkpoint")).toBe(true);
    const core = busyCore(cfg);
    let err: unknown;
    try { core.submit([...good, badEvent, after]); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CoreError);
    const e = err as CoreError;
    expect({ code: e.code, field: e.field, eventIndex: e.eventIndex }).toEqual({ code: want.code, field: want.field, eventIndex: 3 });
    expect(e.message).toContain("event 3");
    expect(e.message).toContain(want.field);
    expect(e.message).toMatch(want.hint);
    expect(e.effects).toEqual(twinFx);
    expect(fullState(core)).toEqual(fullState(twin));
  }

  it("refused by the core (at-result with nothing pending): effects and state of events 0-2", () => {
    checkPrefix({}, { type: "at-result", pid: A2, passed: true },
      { code: "E_NO_PENDING_AT", field: "pid", hint: hint("E_NO_PENDING_AT") });
  });
  it("refused by the core, batches of 2 (event 3 in the second batch)", () => {
    checkPrefix({ batch: 2 }, { type: "send", pid: S, to: "low" },
      { code: "E_ROLE_SEND", field: "to", hint: hint("E_ROLE_SEND") });
  });
  it("refused by the core, batches of 1", () => {
    checkPrefix({ batch: 1 }, { type: "recv", pid: 9, from: "act", dirty: 0, index: 0 },
      { code: "E_UNKNOWN_PID", field: "pid", hint: hint("E_UNKNOWN_PID") });
  });
  it("fixed: refused by the facade in a later batch (batches of 2): event 2 never ran, yet eventIndex is 3", () => {
    checkPrefix({ batch: 2 }, { type: "recv", pid: A1, from: "act", dirty: 2, index: 5 },
      { code: "E_BAD_FIELD", field: "dirty", hint: /must be 0 or 1/ });
  });
  it("fixed: refused by the facade in the same batch: events 0-2 never ran and .effects is empty", () => {
    checkPrefix({}, { type: "recv", pid: A1, from: "act", dirty: 2, index: 5 },
      { code: "E_BAD_FIELD", field: "dirty", hint: /must be 0 or 1/ });
  });
});

// Members on several boards (docs/wire.md "Vectors"): the facade's vector forms.
describe("facade: vector forms", () => {
  const core = new Core();
  it("passedAt with vector bounds round-trips, and scalar bounds keep today's bytes", () => {
    const b = core.encodeHeader({ kind: "passedAt", dirty: 0, index: 2, epoch: 1, aux: 0, P: [2, 7], Q: [0, 1] });
    expect([...b]).toEqual([0x31, 0x03, 0x02, 0x07, 0x02, 0x01]);
    const h = core.decodeHeader(b);
    expect(h).toMatchObject({ kind: "passedAt", index: 2, aux: 0, epoch: 1, P: [2, 7], Q: [0, 1], length: 6 });
    expect([...core.encodeHeader({ kind: "passedAt", dirty: 0, index: 7, epoch: 1, aux: 2, P: [7], Q: [2] })]).toEqual([0x21, 0x07, 0x02]);
  });
  it("an app frame's vector: mask and components", () => {
    const { mask, bytes } = core.encodeVecValues([3, 5]);
    expect(mask).toBe(3);
    expect([...bytes]).toEqual([3, 5]);
    const frame = new Uint8Array([0x10, 0x03, 0x04, 0x04, 0x03, 0x05, 0xee]);
    expect(core.decodeVecValues(frame, 4, 3)).toEqual({ vec: [3, 5], used: 2 });
    expect(() => core.decodeVecValues(new Uint8Array([0x10, 0x03, 0x04, 0x04, 0x03, 0x00]), 4, 3)).toThrow(/header.vector/);
  });
});
