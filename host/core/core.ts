// The typed facade over the WASM protocol core: the only code that knows its ABI.
// Events are batched through the core's linear memory, so one JS->WASM call
// carries many events (see submit()).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as abi from "./abi.ts";
import type { HeaderKind, Kind, Role, Rules } from "./abi.ts";
// Module-local copies of the ABI tables: read on every event, effect and header, where a
// loader that compiles modules to CommonJS (tsx) would otherwise call a getter per read.
const { EFFECT_WORDS, EV, EVENT_WORDS, FX, G, HK, HK_NAME, KIND, KIND_NAME, LOG_NAME, Q,
  RULES, ROLE, ROLE_NAME, STATUS, DROP_REASON, COUNTER_NAME } = abi;
import type { CoreEffect, CoreEvent, Header } from "./types.ts";
export type * from "./types.ts";
export type { Rules, Role, Kind } from "./abi.ts";

export interface CoreConfig {
  rules?: Rules;
  procs?: number;       // process slots on this board
  batch?: number;       // events per JS->WASM call
  stageBytes?: number;  // payload bytes per batch
  effects?: number;     // effect slots per call (raised to what a recovery needs)
  ckptSlots?: number;   // checkpoints per process
  ckptBytes?: number;   // checkpoint arena per process
  logSlots?: number;    // entries per log per process
  logBytes?: number;    // bytes per log per process
  build?: "release" | "debug";
}

export const DEFAULT_CONFIG: Required<CoreConfig> = {
  rules: "safe", procs: 8, batch: 256, stageBytes: 64 * 1024, effects: 1024,
  ckptSlots: 64, ckptBytes: 1024 * 1024, logSlots: 256, logBytes: 64 * 1024, build: "release",
};

/** A refusal by the core or the facade: names the event, the field and what to do. */
export class CoreError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly field: string,
    readonly eventIndex = -1,
    /** Effects of the events before the refused one: they did happen. */
    readonly effects: CoreEffect[] = [],
  ) {
    super(message);
    this.name = "CoreError";
  }
}

interface Exports {
  memory: WebAssembly.Memory;
  init(r: number, procs: number, events: number, stage: number, effects: number,
       ckptRecs: number, ckptBytes: number, logRecs: number, logBytes: number): number;
  eventsPtr(): number; effectsPtr(): number; stagePtr(): number; scratchPtr(): number;
  eventCapacity(): number; effectCapacity(): number; stageCapacity(): number;
  consumed(): number; status(): number; fixedBytes(): number; memoryBytes(): number;
  step(n: number): number;
  setRole(pid: number, role: number): number;
  setTwin(pid: number, twin: number): number;
  setSlot(pid: number, slot: number): number;
  vecBufPtr(): number;
  encodeBoundsHdr(kind: number, ep: number): number;
  decodeBoundsHdr(ptr: number, len: number): number;
  encodeVecVals(): number;
  vecMaskOf(): number;
  decodeVecVals(ptr: number, pos: number, len: number, mask: number): number;
  beginGuarded(): number;
  resumeEpoch(e: number): number;
  ckptSetLen(pid: number, len: number): number;
  query(pid: number, what: number): number;
  global(what: number): number;
  entryIndex(pid: number, which: number, i: number): number;
  entryHigh(pid: number, which: number, i: number): number;
  entryFlags(pid: number, which: number, i: number): number;
  entryPtr(pid: number, which: number, i: number): number;
  entryLen(pid: number, which: number, i: number): number;
  encodeHeader(kind: number, dirty: number, index: number, epoch: number, aux: number): number;
  decodeHeader(ptr: number, len: number): number;
  HDR_OUT: WebAssembly.Global;
  hdrField(which: number): number;
}

const modules = new Map<string, WebAssembly.Module>();
function compiled(build: "release" | "debug"): WebAssembly.Module {
  let m = modules.get(build);
  if (!m) {
    const url = new URL(`../../build/core.${build}.wasm`, import.meta.url);
    let bytes: Buffer;
    try {
      bytes = readFileSync(fileURLToPath(url));
    } catch {
      throw new CoreError(`protocol core not built: ${fileURLToPath(url)} is missing; run 'npm run asbuild'`,
        "E_NOT_BUILT", "build");
    }
    m = new WebAssembly.Module(new Uint8Array(bytes));
    modules.set(build, m);
  }
  return m;
}

// Effect codes as module constants: the decode switch runs once per effect.
const { AT_FAILED: FX_AT_FAILED, AT_REQUIRED: FX_AT_REQUIRED, BOUND: FX_BOUND, BROADCAST_PASSED: FX_BROADCAST_PASSED, CHECKPOINT: FX_CHECKPOINT, COUNTER: FX_COUNTER, DELIVER: FX_DELIVER, DELIVER_DEVICE: FX_DELIVER_DEVICE, DROP: FX_DROP, FREED: FX_FREED, LOGGED: FX_LOGGED, RECLAIM: FX_RECLAIM, RECOVERED: FX_RECOVERED, REPLAY: FX_REPLAY, REPLAY_DROPPED: FX_REPLAY_DROPPED, RESEND: FX_RESEND, RETIRE: FX_RETIRE, ROLE: FX_ROLE, ROLLBACK: FX_ROLLBACK, SEND: FX_SEND, SUPPRESSED: FX_SUPPRESSED, SUPPRESS_NEXT: FX_SUPPRESS_NEXT, VOIDED: FX_VOIDED } = FX;

const U32 = 0xffffffff;
/** A core is one WASM32 instance; keep it well inside its 4 GiB address space. */
export const MAX_CORE_BYTES = 1 << 30;
const isU32 = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= U32;

export interface ProcState {
  pid: number; role: Role; dirty: number; prgt: number; local: number; iVR: number; iVRext: number;
  ckpts: number[]; inLog: number[]; outInt: number[]; outExt: number[]; held: number;
}

export class Core {
  readonly config: Required<CoreConfig>;
  readonly evCap: number;
  readonly fxCap: number;
  readonly stageCap: number;
  private readonly x: Exports;
  private readonly mem: ArrayBuffer;
  /** Raw views for hot paths (bench, runtime): write words at eventsPtr, call step(). */
  readonly events: Uint32Array;
  readonly effectsView: Uint32Array;
  readonly stage: Uint8Array;
  private readonly stage32: Uint32Array | undefined;
  readonly u8: Uint8Array;
  /** The whole memory as words, for vectors at 4-aligned core addresses (the memory never grows). */
  private readonly u32: Uint32Array;
  /** Word index of the decoded header's fields (assembly/index.ts HDR_OUT), and the staging area's address. */
  private readonly hdrOut: number;
  private readonly stagePtr: number;

  constructor(cfg: CoreConfig = {}) {
    this.config = { ...DEFAULT_CONFIG, ...cfg };
    const c = this.config;
    if (!Object.hasOwn(RULES, c.rules)) throw new CoreError(`core config: rules must be "paper", "safe" or "folded", not ${JSON.stringify(c.rules)}`, "E_BAD_CONFIG", "rules");
    for (const k of ["procs", "batch", "stageBytes", "effects", "ckptSlots", "ckptBytes", "logSlots", "logBytes"] as const) {
      if (!Number.isInteger(c[k]) || c[k] <= 0 || c[k] > 1 << 30) {
        throw new CoreError(`core config: ${k} must be a positive integer, not ${c[k]}`, "E_BAD_CONFIG", k);
      }
    }
    if (c.procs > 1024) throw new CoreError(`core config: procs must be at most 1024, not ${c.procs}`, "E_BAD_CONFIG", "procs");
    const total = c.procs * (c.ckptBytes + 3 * c.logBytes + 48 * (c.ckptSlots + 3 * c.logSlots)) + c.stageBytes + 64 * (c.batch + c.effects);
    if (total > MAX_CORE_BYTES) {
      throw new CoreError(`core config: the arenas need ${total} bytes, more than the ${MAX_CORE_BYTES} a core may take; lower procs, ckptBytes or logBytes`, "E_BAD_CONFIG", "ckptBytes");
    }
    let abortMsg = "";
    const inst = new WebAssembly.Instance(compiled(c.build), {
      env: {
        abort: (msg: number, file: number, line: number, col: number) => {
          abortMsg = `core invariant broken at ${this.readAsString(file)}:${line}:${col}: ${this.readAsString(msg)}`;
          throw new Error(abortMsg);
        },
      },
    });
    this.x = inst.exports as unknown as Exports;
    const st = this.x.init(RULES[c.rules], c.procs, c.batch, c.stageBytes, c.effects,
      c.ckptSlots, c.ckptBytes, c.logSlots, c.logBytes);
    if (st !== 0) throw new CoreError(`core init refused the configuration (status ${st})`, "E_BAD_CONFIG", "config");
    this.mem = this.x.memory.buffer;
    this.evCap = this.x.eventCapacity();
    this.fxCap = this.x.effectCapacity();
    this.stageCap = this.x.stageCapacity();
    this.events = new Uint32Array(this.mem, this.x.eventsPtr(), this.evCap * EVENT_WORDS);
    this.effectsView = new Uint32Array(this.mem, this.x.effectsPtr(), this.fxCap * EFFECT_WORDS);
    this.stage = new Uint8Array(this.mem, this.x.stagePtr(), this.stageCap);
    this.stage32 = (this.x.stagePtr() & 3) === 0 ? new Uint32Array(this.mem, this.x.stagePtr(), this.stageCap >> 2) : undefined;
    this.u8 = new Uint8Array(this.mem);
    this.u32 = new Uint32Array(this.mem);
    if ((this.x.vecBufPtr() & 3) !== 0) throw new Error("core: the vector buffer is not 4-aligned (bug)");
    this.hdrOut = (this.x.vecBufPtr() + (this.x.HDR_OUT.value >>> 0)) >> 2;
    this.stagePtr = this.x.stagePtr();
  }

  private readAsString(ptr: number): string {
    if (!ptr) return "";
    const len = new Uint32Array(this.x.memory.buffer, ptr - 4, 1)[0] >>> 1;
    return String.fromCharCode(...new Uint16Array(this.x.memory.buffer, ptr, len));
  }

  // ---- configuration ---------------------------------------------------------
  setRole(pid: number, role: Role): void {
    this.checkPid(pid, "setRole");
    if (!Object.hasOwn(ROLE, role) || role === "retired") {
      throw new CoreError(`setRole: role must be low, ha, hs or free, not ${JSON.stringify(role)}`, "E_BAD_ROLE", "role");
    }
    this.check(this.x.setRole(pid, ROLE[role]), `setRole(${pid}, ${role})`);
  }
  /** Names shadow pid's new version (required when the cluster has several members). */
  setTwin(pid: number, twin: number): void {
    this.checkPid(pid, "setTwin");
    this.checkPid(twin, "setTwin");
    this.check(this.x.setTwin(pid, twin), `setTwin(${pid}, ${twin}): pid must be a shadow (hs) and twin a cluster member (low)`);
  }
  /** A restarted board resumes (or moves on to) the system's recovery epoch: outside guarded operation, never backwards. */
  resumeEpoch(e: number): void {
    this.check(this.x.resumeEpoch(e >>> 0), `resumeEpoch(${e}): only outside guarded operation and recovery, and never to an earlier epoch`);
  }
  /** Names member pid's slot (1..16): its position in the plan's cluster list, the same on every board. */
  setSlot(pid: number, slot: number): void {
    this.checkPid(pid, "setSlot");
    this.check(this.x.setSlot(pid, slot), `setSlot(${pid}, ${slot}): pid must be a cluster member (low) and slot in 1..16`);
  }
  beginGuarded(): void {
    const st = this.x.beginGuarded();
    if (st === -21) {
      throw new CoreError("beginGuarded(): the cluster has more than 16 members, or several members and a shadow whose new version was not named with setTwin(shadow, member)", "E_BAD_CONFIG", "roles");
    }
    this.check(st, "beginGuarded()");
  }
  /** Shrinks pid's newest checkpoint to the snapshot's real length. */
  setCheckpointLength(pid: number, len: number): void {
    this.checkPid(pid, "setCheckpointLength");
    const st = this.x.ckptSetLen(pid, len);
    if (st !== 0) this.check(st, `setCheckpointLength(${pid}, ${len})`); // the message only when refused: no string per checkpoint
  }

  // ---- the batched event path --------------------------------------------------
  /** Runs events in order, batched; returns every effect, in order. */
  submit(events: readonly CoreEvent[]): CoreEffect[] {
    const out: CoreEffect[] = [];
    let base = 0;
    while (base < events.length) {
      let n = 0, stageOff = 0;
      let refused: CoreError | null = null;
      while (base + n < events.length && n < this.evCap) {
        let used: number;
        try {
          used = this.encodeEvent(events[base + n], base + n, n, stageOff, out);
        } catch (e) {
          if (!(e instanceof CoreError)) throw e;
          refused = e; // run the events before it first: they happen
          break;
        }
        if (used < 0) break; // staging area full: run what we have
        stageOff += used;
        n++;
      }
      if (refused && n === 0) throw new CoreError(refused.message, refused.code, refused.field, refused.eventIndex, out);
      if (n === 0) {
        throw new CoreError(`event ${base} (${events[base].type}): payload of ${payloadLen(events[base])} bytes exceeds the staging area of ${this.stageCap}; raise stageBytes`,
          "E_PAYLOAD_RANGE", "payload", base, out);
      }
      const nfx = this.x.step(n);
      this.decodeEffects(nfx, base, out);
      const done = this.x.consumed();
      const st = this.x.status();
      if (st < 0) throw this.refusal(st, events[base + done], base + done, out);
      if (done === 0) throw new Error("core made no progress: effect buffer too small for one event (bug)");
      base += done;
      if (refused && base === refused.eventIndex) throw new CoreError(refused.message, refused.code, refused.field, refused.eventIndex, out);
    }
    return out;
  }

  /** Raw hot path: events already written at this.events; returns the effect count. */
  stepRaw(n: number): number {
    return this.x.step(n);
  }
  consumed(): number { return this.x.consumed(); }
  status(): number { return this.x.status(); }

  // ---- the lean per-message path (issue 12) --------------------------------------
  // The board writes a receipt's event words straight into the events view and reads the
  // effects in place by index: no event or effect objects, no allocation. Validation is
  // the link boundary's (frame.ts decodes u32 fields; the board picks the kind); submit()
  // keeps its checks for everything else. Sequence: putRecv(slot 0..n-1), runLean(n),
  // then fxType(i) / fxWord(i, k) for i < the returned count, consumed() and status().
  /** Zeroes event slot `slot` of the events view; returns its first word's index. */
  private clearSlot(slot: number): number {
    const o = slot * EVENT_WORDS, w = this.events;
    for (let k = 0; k < EVENT_WORDS; k++) w[o + k] = 0; // a loop: fill() on a range is a builtin call per event
    return o;
  }
  /** Writes a recv event at `slot`; returns the stage bytes it used from stageOff, or -1 when the staging area is full. */
  putRecv(slot: number, stageOff: number, pid: number, kind: number, peer: number, dirty: number, index: number,
    epoch: number, snapBytes: number, payload: Uint8Array, step: number, vec: readonly number[] | undefined): number {
    const w = this.events, o = this.clearSlot(slot);
    w[o] = EV.RECV; w[o + 1] = pid; w[o + 2] = kind; w[o + 3] = peer;
    w[o + 7] = dirty; w[o + 8] = index; w[o + 9] = epoch & 15; w[o + 10] = snapBytes;
    if (step >= 0) w[o + 13] = (step + 1) >>> 0;
    const pl = payload.length;
    if (stageOff + pl > this.stageCap) return -1;
    this.stage.set(payload, stageOff);
    w[o + 5] = stageOff; w[o + 6] = pl;
    if (vec !== undefined && wide(vec)) {
      const at = (stageOff + pl + 3) & ~3;
      if (at + VB > this.stageCap) return -1;
      const v = this.stage32 ?? new Uint32Array(this.mem, this.x.stagePtr() + at, VM);
      const b = this.stage32 ? at >> 2 : 0;
      for (let j = 0; j < VM; j++) v[b + j] = j < vec.length ? vec[j] >>> 0 : 0;
      w[o + 14] = at + 1;
      return at + VB - stageOff;
    }
    return pl;
  }
  /** Writes a send event at `slot` (port 0); returns the stage bytes it used from stageOff, or -1 when the staging area is full. */
  putSend(slot: number, stageOff: number, pid: number, kind: number, peer: number, payload: Uint8Array, step: number): number {
    const pl = payload.length;
    if (stageOff + pl > this.stageCap) return -1;
    const w = this.events, o = this.clearSlot(slot);
    w[o] = EV.SEND; w[o + 1] = pid; w[o + 2] = kind; w[o + 3] = peer;
    if (step >= 0) w[o + 13] = (step + 1) >>> 0;
    this.stage.set(payload, stageOff);
    w[o + 5] = stageOff; w[o + 6] = pl;
    return pl;
  }
  /**
   * Stages bound vectors P and Q (from a decoded frame or the core's own effect: at most 16
   * u32 components each) at the start of the staging area, for putPassedAt's events, which
   * may all share them; returns the word to give those events (0 when neither is wide).
   */
  stageSharedBounds(P: readonly number[] | undefined, Q: readonly number[] | undefined, v: number, vext: number): number {
    if (!wide(P as number[]) && !wide(Q as number[])) return 0;
    const w = this.u32, b = this.stagePtr >> 2;
    if ((this.stagePtr & 3) !== 0 || 2 * VB > this.stageCap) throw new Error("core: the staging area cannot hold bound vectors (bug)");
    for (let j = 0; j < VM; j++) {
      w[b + j] = P ? (j < P.length ? P[j] >>> 0 : 0) : j === 0 ? v : 0;
      w[b + VM + j] = Q ? (j < Q.length ? Q[j] >>> 0 : 0) : j === 0 ? vext : 0;
    }
    return 1; // the vectors at stage offset 0 (the word is offset + 1)
  }
  /** Writes a passed-at event at `slot`: scalar bounds (v, vext), or the vectors stageSharedBounds staged (vword). */
  putPassedAt(slot: number, pid: number, v: number, vext: number, epoch: number, vword = 0): void {
    const w = this.events, o = this.clearSlot(slot);
    w[o] = EV.PASSED_AT; w[o + 1] = pid; w[o + 11] = v; w[o + 12] = vext; w[o + 9] = epoch & 15; w[o + 14] = vword;
  }
  /** Writes an at-result event (an AT verdict) at `slot`; it uses no stage bytes. */
  putAtResult(slot: number, pid: number, passed: boolean): void {
    const w = this.events, o = this.clearSlot(slot);
    w[o] = EV.AT_RESULT; w[o + 1] = pid; w[o + 11] = passed ? 1 : 0;
  }
  /** Runs the first n events of the events view; returns the effect count (read them with fxType/fxWord). */
  runLean(n: number): number { return this.x.step(n); }
  /** The type word (abi.ts FX) of effect i of the last run. */
  fxType(i: number): number { return this.effectsView[i * EFFECT_WORDS]; }
  /** Word k (1..8) of effect i of the last run. */
  fxWord(i: number, k: number): number { return this.effectsView[i * EFFECT_WORDS + k]; }
  /** The vector at word k of effect i (a SEND's index vector: 6; a BROADCAST_PASSED's P and Q: 5, 6), or undefined when only its first component may be nonzero. */
  fxVec(i: number, k = 6): number[] | undefined { return this.readVec(this.effectsView[i * EFFECT_WORDS + k]); }
  /**
   * An application frame's header, encoded into the core's scratch area: returns its length.
   * The fields come from the core's own SEND effect (nothing to validate); copy the bytes out
   * with copyScratch before the next core call.
   */
  appHeader(dirty: number, index: number, epoch: number): number {
    return this.x.encodeHeader(HK.app, dirty, index, epoch & 15, 0);
  }
  /** Copies the first n bytes of the scratch area (appHeader's header) to dst at `at`. */
  copyScratch(dst: Uint8Array, at: number, n: number): void {
    this.copyOut(dst, at, this.x.scratchPtr(), n);
  }
  // A header, its vector or its bounds: a few bytes, copied by a loop rather than through a
  // new view per call (subarray) on the per-message path.
  /** Copies n bytes of core memory at `addr` to dst at `at`. */
  private copyOut(dst: Uint8Array, at: number, addr: number, n: number): void {
    const u8 = this.u8;
    for (let i = 0; i < n; i++) dst[at + i] = u8[addr + i];
  }
  /** Copies the first n bytes of `bytes` to the start of the staging area. */
  private stageIn(bytes: Uint8Array, n: number): void {
    const stage = this.stage;
    for (let i = 0; i < n; i++) stage[i] = bytes[i];
  }
  /**
   * fxVec into a caller's array (all VECTOR_MAX components): true when the vector has a
   * nonzero component after the first (what fxVec returns as an array), else false and
   * `out` untouched. No array per call.
   */
  fxVecInto(i: number, k: number, out: number[]): boolean {
    const addr = this.effectsView[i * EFFECT_WORDS + k];
    if (!addr) return false;
    let wideV = false;
    for (let j = 1; j < VM; j++) if (this.vecAt(addr, j) !== 0) { wideV = true; break; }
    if (!wideV) return false;
    for (let j = 0; j < VM; j++) out[j] = this.vecAt(addr, j);
    return true;
  }
  /**
   * A BROADCAST_PASSED effect i's bound vectors P (word 5) and Q (word 6) into the caller's
   * arrays, by boundVec's rule (a vector the core gave, or the scalar alone, v or vext, when
   * only the other one is in the vector form): true when either is, else false and the
   * arrays untouched (the scalar form). No array per call.
   */
  fxBoundsInto(i: number, v: number, vext: number, P: number[], Q: number[]): boolean {
    const wp = this.fxVecInto(i, 5, P), wq = this.fxVecInto(i, 6, Q);
    if (wp && !wq) { Q.fill(0); Q[0] = vext; }
    if (wq && !wp) { P.fill(0); P[0] = v; }
    return wp || wq;
  }
  /**
   * A passedAt header encoded into dst at `at` (encodeHeader's bytes, no header object):
   * the scalar form, or the vector form when P or Q is given (a missing one is its scalar
   * as a one-component vector; components past an array's length are 0). Returns its
   * length. The fields are the core's own (an AT verdict's effect): nothing to validate.
   */
  encodePassedAtInto(dst: Uint8Array, at: number, v: number, vext: number, epoch: number, P?: readonly number[], Q?: readonly number[]): number {
    if (P || Q) {
      const w = this.u32, b = this.x.vecBufPtr() >> 2, q = b + (VB >> 2);
      for (let j = 0; j < VM; j++) {
        w[b + j] = P ? (j < P.length ? P[j] >>> 0 : 0) : j === 0 ? v : 0;
        w[q + j] = Q ? (j < Q.length ? Q[j] >>> 0 : 0) : j === 0 ? vext : 0;
      }
      const m = this.x.encodeBoundsHdr(HK.passedAt, epoch & 15);
      this.copyOut(dst, at, this.x.vecBufPtr() + 128, m);
      return m;
    }
    const n = this.x.encodeHeader(HK.passedAt, 0, v, epoch & 15, vext);
    this.copyOut(dst, at, this.x.scratchPtr(), n);
    return n;
  }
  /** Where a CHECKPOINT effect i's area lies in the core's memory (memoryView()): its offset and length, words 3 and 4. */
  fxCheckpointAt(i: number): number { return this.effectsView[i * EFFECT_WORDS + 3]; }
  fxCheckpointLength(i: number): number { return this.effectsView[i * EFFECT_WORDS + 4]; }
  /** A view of all of the core's memory (for fxCheckpointAt's offsets), the same object until the memory grows. */
  memoryView(): Uint8Array { return this.u8; }

  /** The first n effects of the last run as objects (for the rare paths: refusals). */
  leanEffects(n: number): CoreEffect[] {
    const out: CoreEffect[] = [];
    this.decodeEffects(n, 0, out);
    return out;
  }
  /** The CoreError submit() would throw for a refusal of `ev` (event index gi) after a lean run. */
  leanRefusal(st: number, ev: CoreEvent, gi: number, nfx: number): CoreError {
    return this.refusal(st, ev, gi, this.leanEffects(nfx));
  }
  static readonly FX = FX;
  static readonly KIND = KIND;

  private encodeEvent(ev: CoreEvent, gi: number, slot: number, stageOff: number, out: CoreEffect[]): number {
    // Hot path: no closures, no allocation besides what the caller handed in.
    // Word offsets are abi.ts EW (TYPE 0, PID 1, KIND 2, PEER 3, PORT 4, PAY_OFF 5,
    // PAY_LEN 6, DIRTY 7, INDEX 8, EPOCH 9, SNAP 10, V 11, VEXT 12, STEP 13: step + 1, 0 when
    // unknown); test/abi.test.ts checks them.
    const w = this.events, o = this.clearSlot(slot);
    let p: unknown;
    switch (ev.type) {
      case "send":
        w[o] = EV.SEND;
        w[o + 1] = u32(ev, gi, out, "pid", ev.pid);
        w[o + 2] = kindOf(ev, gi, out, "to", ev.to);
        w[o + 3] = u32(ev, gi, out, "peer", ev.peer ?? 0);
        w[o + 4] = u32(ev, gi, out, "port", ev.port ?? 0);
        if (ev.step !== undefined) w[o + 13] = (u32(ev, gi, out, "step", ev.step) + 1) >>> 0;
        p = ev.payload;
        break;
      case "recv":
        w[o] = EV.RECV;
        w[o + 1] = u32(ev, gi, out, "pid", ev.pid);
        w[o + 2] = kindOf(ev, gi, out, "from", ev.from);
        w[o + 3] = u32(ev, gi, out, "peer", ev.peer ?? 0);
        w[o + 4] = u32(ev, gi, out, "port", ev.port ?? 0);
        if (ev.dirty !== 0 && ev.dirty !== 1) bad(ev, gi, out, "dirty", `must be 0 or 1, not ${JSON.stringify(ev.dirty)}`);
        w[o + 7] = ev.dirty;
        w[o + 8] = u32(ev, gi, out, "index", ev.index);
        w[o + 9] = u32(ev, gi, out, "epoch", ev.epoch ?? 0) & 15;
        w[o + 10] = u32(ev, gi, out, "snapBytes", ev.snapBytes ?? 0);
        if (ev.step !== undefined) w[o + 13] = (u32(ev, gi, out, "step", ev.step) + 1) >>> 0;
        p = ev.payload;
        if (wide(ev.vec)) {
          const pl = ev.payload instanceof Uint8Array ? ev.payload.length : 0;
          const at = (stageOff + pl + 3) & ~3;
          if (at + VB > this.stageCap) return -1;
          this.putVec(at, ev.vec!, ev, gi, out, "vec");
          w[o + 14] = at + 1;
          const used = this.stagePayload(p, ev, gi, out, o, stageOff);
          return used < 0 ? used : at + VB - stageOff;
        }
        break;
      case "passed-at":
        w[o] = EV.PASSED_AT;
        w[o + 1] = u32(ev, gi, out, "pid", ev.pid);
        w[o + 11] = u32(ev, gi, out, "v", ev.v);
        w[o + 12] = u32(ev, gi, out, "vext", ev.vext ?? 0);
        w[o + 9] = u32(ev, gi, out, "epoch", ev.epoch ?? 0) & 15;
        return this.stageBounds(ev.P, ev.Q, ev, gi, out, o, stageOff, "P");
      case "at-result":
        w[o] = EV.AT_RESULT;
        w[o + 1] = u32(ev, gi, out, "pid", ev.pid);
        if (typeof ev.passed !== "boolean") bad(ev, gi, out, "passed", `must be true or false, not ${JSON.stringify(ev.passed)}`);
        w[o + 11] = ev.passed ? 1 : 0;
        return 0;
      case "compensated":
        w[o] = EV.COMPENSATED;
        w[o + 1] = u32(ev, gi, out, "pid", ev.pid);
        return 0;
      case "recover-begin":
        w[o] = EV.RECOVER_BEGIN;
        return 0;
      case "recover-apply":
      case "abort":
        w[o] = ev.type === "abort" ? EV.ABORT : EV.RECOVER_APPLY;
        w[o + 11] = u32(ev, gi, out, "V", ev.V);
        w[o + 12] = u32(ev, gi, out, "Vext", ev.Vext);
        w[o + 9] = u32(ev, gi, out, "epoch", ev.epoch);
        return this.stageBounds(ev.Vvec, ev.Vextvec, ev, gi, out, o, stageOff, "Vvec");
      case "commit":
        w[o] = EV.COMMIT;
        return 0;
      default:
        bad(ev, gi, out, "type", `is not an event type (${JSON.stringify((ev as { type: unknown }).type)}); use send, recv, passed-at, at-result, compensated, recover-begin, recover-apply, abort or commit`);
    }
    return this.stagePayload(p, ev, gi, out, o, stageOff);
  }

  private stagePayload(p: unknown, ev: CoreEvent, gi: number, out: CoreEffect[], o: number, stageOff: number): number {
    if (p === undefined) return 0;
    if (!(p instanceof Uint8Array)) bad(ev, gi, out, "payload", "must be a Uint8Array");
    const b = p as Uint8Array;
    if (stageOff + b.length > this.stageCap) return -1;
    this.stage.set(b, stageOff);
    this.events[o + 5] = stageOff;
    this.events[o + 6] = b.length;
    return b.length;
  }

  /** Two bound vectors for passed-at / recover-apply / abort, when either is wide. */
  private stageBounds(P: number[] | undefined, Q: number[] | undefined, ev: CoreEvent, gi: number, out: CoreEffect[], o: number, stageOff: number, field: string): number {
    if (!wide(P) && !wide(Q)) return 0;
    const at = (stageOff + 3) & ~3;
    if (at + 2 * VB > this.stageCap) return -1;
    // component 1 comes from the scalar words when a vector is not given
    this.putVec(at, P ?? [this.events[o + 11]], ev, gi, out, field);
    this.putVec(at + VB, Q ?? [this.events[o + 12]], ev, gi, out, field);
    this.events[o + 14] = at + 1;
    return at + 2 * VB - stageOff;
  }

  private putVec(at: number, v: number[], ev: CoreEvent, gi: number, out: CoreEffect[], field: string): void {
    if (!Array.isArray(v) || v.length > VM) bad(ev, gi, out, field, `must be an array of at most ${VM} components`);
    const a = this.x.stagePtr() + at;
    if ((a & 3) === 0) {
      const w = this.u32, b = a >> 2;
      for (let j = 0; j < VM; j++) w[b + j] = j < v.length ? u32(ev, gi, out, field, v[j]) : 0;
      return;
    }
    const dv = new DataView(this.mem, a, VB);
    for (let j = 0; j < VM; j++) dv.setUint32(j * 4, j < v.length ? u32(ev, gi, out, field, v[j]) : 0, true);
  }

  /** Component j of the vector at core address addr (any alignment). */
  private vecAt(addr: number, j: number): number {
    const a = addr + 4 * j;
    if ((a & 3) === 0) return this.u32[a >> 2];
    const m = this.u8;
    return (m[a] | (m[a + 1] << 8) | (m[a + 2] << 16) | (m[a + 3] << 24)) >>> 0;
  }

  /** The vector at a core address, or undefined when only its first component may be nonzero. */
  private readVec(addr: number): number[] | undefined {
    if (!addr) return undefined;
    let last = 0;
    for (let j = 1; j < VM; j++) if (this.vecAt(addr, j) !== 0) last = j;
    if (last === 0) return undefined;
    const r = new Array<number>(last + 1);
    for (let j = 0; j <= last; j++) r[j] = this.vecAt(addr, j);
    return r;
  }

  private refusal(st: number, ev: CoreEvent, gi: number, out: CoreEffect[]): CoreError {
    const s = STATUS[st] ?? { name: `status ${st}`, field: "?", hint: "unknown status (bug)" };
    // the core says 'kind'; the event's field is 'to' (send) or 'from' (recv)
    const field = s.field === "kind" ? (ev.type === "send" ? "to" : ev.type === "recv" ? "from" : "pid") : s.field;
    const who = "pid" in ev ? ` for process ${ev.pid}` : "";
    const role = "pid" in ev && isU32(ev.pid) && ev.pid < this.config.procs ? ` (role ${this.role(ev.pid)})` : "";
    return new CoreError(`event ${gi} (${ev.type})${who}${role} refused: ${s.name} on field '${field}': ${s.hint}. Nothing was changed.`,
      s.name, field, gi, out);
  }

  private check(st: number, what: string): void {
    if (st === 0) return;
    const s = STATUS[st] ?? { name: `status ${st}`, field: "?", hint: "unknown status (bug)" };
    throw new CoreError(`${what} refused: ${s.name} on field '${s.field}': ${s.hint}`, s.name, s.field);
  }

  private checkPid(pid: number, what: string): void {
    if (!Number.isInteger(pid) || pid < 0 || pid >= this.config.procs) {
      throw new CoreError(`${what}: pid ${pid} is out of range; this core hosts pids 0..${this.config.procs - 1}`, "E_UNKNOWN_PID", "pid");
    }
  }

  private decodeEffects(n: number, base: number, out: CoreEffect[]): void {
    const f = this.effectsView;
    for (let i = 0; i < n; i++) {
      const o = i * EFFECT_WORDS;
      const a = f[o + 1], b = f[o + 2], c = f[o + 3], d = f[o + 4], e = f[o + 5], g = f[o + 6], h = f[o + 7], k = f[o + 8];
      switch (f[o]) {
        case FX_DELIVER: out.push({ type: "deliver", pid: a, event: base + b }); break;
        case FX_DROP: out.push({ type: "drop", pid: a, event: base + b, reason: DROP_REASON[c] ?? String(c) }); break;
        case FX_CHECKPOINT: {
          const vec = this.readVec(e);
          out.push(vec ? { type: "checkpoint", pid: a, index: b, snapshot: new Uint8Array(this.mem, c, d), vec } : { type: "checkpoint", pid: a, index: b, snapshot: new Uint8Array(this.mem, c, d) });
          break;
        }
        case FX_LOGGED: out.push({ type: "logged", pid: a, log: LOG_NAME[b], index: c, bytes: d }); break;
        case FX_SEND: {
          const header: Header = { kind: "app", dirty: c, index: d, epoch: e, aux: 0 };
          const vec = this.readVec(g);
          if (vec) header.vec = vec;
          out.push({ type: "send", pid: a, event: base + b, header });
          break;
        }
        case FX_COUNTER: out.push({ type: "counter", counter: COUNTER_NAME[a], value: b }); break;
        case FX_SUPPRESSED: out.push({ type: "suppressed", pid: a, event: base + b, log: LOG_NAME[c], index: d }); break;
        case FX_AT_REQUIRED: out.push({ type: "at-required", pid: a, event: base + b }); break;
        case FX_DELIVER_DEVICE: out.push({ type: "deliver-device", pid: a, event: base + b }); break;
        case FX_BROADCAST_PASSED: {
          const P = this.readVec(e), Q = this.readVec(g);
          out.push(P || Q ? { type: "broadcast-passed", pid: a, v: b, vext: c, epoch: d, P: boundVec(P, b, Q), Q: boundVec(Q, c, P) } : { type: "broadcast-passed", pid: a, v: b, vext: c, epoch: d });
          break;
        }
        case FX_RECLAIM: out.push({ type: "reclaim", pid: a, checkpoints: b, logEntries: c, bytes: d, dirty: e }); break;
        case FX_AT_FAILED: out.push({ type: "at-failed", pid: a, event: base + b }); break;
        case FX_BOUND: {
          const P = this.readVec(c), Q = this.readVec(d);
          out.push(P || Q ? { type: "bound", v: a, vext: b, P: boundVec(P, a, Q), Q: boundVec(Q, b, P) } : { type: "bound", v: a, vext: b });
          break;
        }
        case FX_ROLLBACK: out.push({ type: "rollback", pid: a, index: b, snapshot: new Uint8Array(this.mem, c, d), distance: e }); break;
        case FX_REPLAY: out.push({ type: "replay", pid: a, from: KIND_NAME[b], peer: c, port: d, payload: this.u8.slice(e, e + g), dirty: h, index: k }); break;
        case FX_RESEND: out.push({ type: "resend", pid: a, log: LOG_NAME[b] as "int" | "ext", peer: c, port: d, payload: this.u8.slice(e, e + g), index: h }); break;
        case FX_SUPPRESS_NEXT: out.push({ type: "suppress-next", int: a, ext: b }); break;
        case FX_RETIRE: out.push({ type: "retire", pid: a }); break;
        case FX_ROLE: out.push({ type: "role", pid: a, role: ROLE_NAME[b] }); break;
        case FX_FREED: out.push({ type: "freed", pid: a, bytes: b }); break;
        case FX_REPLAY_DROPPED: out.push({ type: "replay-dropped", pid: a, from: KIND_NAME[b], peer: c, port: d, dirty: e, index: g }); break;
        case FX_RECOVERED: out.push({ type: "recovered", V: a, Vext: b, epoch: c, reason: d === 2 ? "abort" : "fault", inexact: e === 1 }); break;
        case FX_VOIDED: out.push({ type: "voided", pid: a, int: b, ext: c }); break;
        default: throw new Error(`core wrote unknown effect type ${f[o]} (bug)`);
      }
    }
  }

  // ---- inspection ----------------------------------------------------------------
  role(pid: number): Role { return ROLE_NAME[this.x.query(pid, Q.role)]; }
  // u32 results come back from WASM as signed i32: >>> 0 restores them.
  q(pid: number, what: keyof typeof Q): number { return this.x.query(pid, Q[what]) >>> 0; }
  global(what: keyof typeof G): number { return this.x.global(G[what]) >>> 0; }
  get rules(): Rules { return (["paper", "safe", "folded"] as const)[this.global("rules")]; }

  entries(pid: number, which: 0 | 1 | 2 | 3): number[] {
    const n = this.x.query(pid, [Q.ckpts, Q.inLog, Q.outInt, Q.outExt][which]);
    const r: number[] = [];
    for (let i = 0; i < n; i++) r.push(this.x.entryIndex(pid, which, i) >>> 0);
    return r;
  }
  /** Highest index folded into each checkpoint's interval. */
  checkpointHighs(pid: number): number[] {
    const n = this.x.query(pid, Q.ckpts);
    const r: number[] = [];
    for (let i = 0; i < n; i++) r.push(this.x.entryHigh(pid, 0, i) >>> 0);
    return r;
  }
  state(pid: number): ProcState {
    return {
      pid, role: this.role(pid), dirty: this.q(pid, "dirty"), prgt: this.q(pid, "prgt"),
      local: this.q(pid, "local"), iVR: this.q(pid, "iVR"), iVRext: this.q(pid, "iVRext"),
      ckpts: this.entries(pid, 0), inLog: this.entries(pid, 1), outInt: this.entries(pid, 2),
      outExt: this.entries(pid, 3), held: this.q(pid, "held"),
    };
  }
  /** Protocol bytes held now, over all processes. */
  heldBytes(): number {
    let s = 0;
    for (let p = 0; p < this.config.procs; p++) s += this.x.query(p, Q.held);
    return s;
  }
  fixedBytes(): number { return this.x.fixedBytes() >>> 0; }
  memoryBytes(): number { return this.x.memoryBytes() >>> 0; }

  // ---- header codec -------------------------------------------------------------
  encodeHeader(h: Header): Uint8Array {
    if (!Object.hasOwn(HK, h.kind)) throw new CoreError(`header: kind must be one of ${HK_NAME.join(", ")}, not ${JSON.stringify(h.kind)}`, "E_BAD_FIELD", "header.kind");
    for (const f of ["index", "aux"] as const) {
      if (!isU32(f === "aux" ? h.aux ?? 0 : h.index)) throw new CoreError(`header: ${f} must be an integer in 0..2^32-1, not ${JSON.stringify(h[f])}`, "E_BAD_FIELD", `header.${f}`);
    }
    if (h.dirty !== 0 && h.dirty !== 1) throw new CoreError(`header: dirty must be 0 or 1, not ${JSON.stringify(h.dirty)}`, "E_BAD_FIELD", "header.dirty");
    if (h.dirty === 1 && h.kind !== "app") throw new CoreError(`header: only app messages carry the dirty bit`, "E_BAD_FIELD", "header.dirty");
    if (!isU32(h.epoch)) throw new CoreError(`header: epoch must be a non-negative integer, not ${JSON.stringify(h.epoch)}`, "E_BAD_FIELD", "header.epoch");
    if ((h.kind === "passedAt" || h.kind === "bound" || h.kind === "apply") && (wide(h.P) || wide(h.Q))) {
      this.writeVecBuf(0, h.P ?? [h.index]);
      this.writeVecBuf(VB, h.Q ?? [h.aux ?? 0]);
      const m = this.x.encodeBoundsHdr(HK[h.kind], h.epoch & 15);
      const q = this.x.vecBufPtr() + 128;
      return this.u8.slice(q, q + m);
    }
    const n = this.x.encodeHeader(HK[h.kind as HeaderKind], h.dirty, h.index, h.epoch & 15, h.aux ?? 0);
    const p = this.x.scratchPtr();
    return this.u8.slice(p, p + n);
  }
  /** Parses a header from the front of a frame; `length` is how many bytes it took. */
  decodeHeader(bytes: Uint8Array): Header & { length: number } {
    const k0 = bytes.length > 0 ? bytes[0] >> 5 : -1;
    if ((k0 === 1 || k0 === 3 || k0 === 4) && (bytes[0] & 0x10) !== 0) return this.decodeBounds(bytes);
    this.decodeHeaderFields(bytes);
    // the fields as the core stored them (assembly/index.ts HDR_OUT), in hdrField's order
    const w = this.u32, o = this.hdrOut;
    return { kind: HK_NAME[w[o]], dirty: w[o + 1], index: w[o + 2], epoch: w[o + 3], aux: w[o + 4], length: w[o + 5] };
  }

  /**
   * decodeHeader without the object, for a header other than the vector form of passedAt,
   * bound and apply: returns the header's length; its fields stay in the core (hdrWord)
   * until the next core call. Throws CoreError if the header is malformed.
   */
  decodeHeaderFields(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, 16, this.stageCap);
    this.stageIn(bytes, n);
    const st = this.x.decodeHeader(this.stagePtr, n);
    if (st !== 0) {
      const s = STATUS[st] ?? { name: `status ${st}`, field: "header", hint: "" };
      const field = s.field === "header.index" && this.x.hdrField(6) === 1 ? "header.aux" : s.field;
      throw new CoreError(`malformed header (${bytes.length} bytes): ${s.name} on field '${field}': ${s.hint}`, s.name, field);
    }
    return this.u32[this.hdrOut + 5];
  }
  /** Field k of the header decodeHeaderFields decoded: 0 kind (abi HK), 1 dirty, 2 index, 3 epoch, 4 aux, 5 length. */
  hdrWord(k: number): number { return this.u32[this.hdrOut + k]; }

  // The vector form of passedAt, bound, apply (docs/wire.md "Vectors"): the dirty bit set.
  private decodeBounds(bytes: Uint8Array): Header & { length: number } {
    const length = this.decodeBoundsFields(bytes);
    const P = this.readVecFull(this.x.vecBufPtr()), Q = this.readVecFull(this.x.vecBufPtr() + VB);
    return { kind: HK_NAME[this.x.hdrField(0) >>> 0], dirty: 0, index: P[0], epoch: this.x.hdrField(3) >>> 0, aux: Q[0], length, P, Q };
  }
  /**
   * decodeHeaderFields for the vector form of passedAt, bound and apply (the first byte's
   * 0x10 bit set): returns the header's length; read its kind and epoch with boundsWord and
   * its vectors with readDecodedBounds before the next core call. Throws CoreError if malformed.
   */
  decodeBoundsFields(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, 200, this.stageCap);
    this.stageIn(bytes, n);
    const st = this.x.decodeBoundsHdr(this.x.stagePtr(), n);
    if (st !== 0) {
      const s = STATUS[st] ?? { name: `status ${st}`, field: "header", hint: "" };
      const field = this.x.hdrField(6) === 1 ? "header.aux" : "header.vector";
      throw new CoreError(`malformed header (${bytes.length} bytes): ${s.name} on field '${field}': ${s.hint}`, s.name, field);
    }
    return this.x.hdrField(5) >>> 0;
  }
  /** Field k of the header decodeBoundsFields decoded: 0 kind (abi HK), 3 epoch, 5 length. */
  boundsWord(k: number): number { return this.x.hdrField(k) >>> 0; }
  /** The vectors decodeBoundsFields decoded, into P and Q (arrays the caller reuses): all VECTOR_MAX components each. */
  readDecodedBounds(P: number[], Q: number[]): void {
    const w = this.u32, b = this.x.vecBufPtr() >> 2, q = b + (VB >> 2);
    for (let j = 0; j < VM; j++) { P[j] = w[b + j]; Q[j] = w[q + j]; }
  }

  /** The vector at a 4-aligned core address, up to its last nonzero component (at least one). */
  private readVecFull(addr: number): number[] {
    const w = this.u32, b = addr >> 2;
    let last = 0;
    for (let j = 1; j < VM; j++) if (w[b + j] !== 0) last = j;
    const r = new Array<number>(last + 1);
    for (let j = 0; j <= last; j++) r[j] = w[b + j];
    return r;
  }
  private writeVecBuf(off: number, v: number[]): void {
    const w = this.u32, b = (this.x.vecBufPtr() + off) >> 2;
    for (let j = 0; j < VM; j++) {
      const x = j < v.length ? v[j] : 0;
      if (!isU32(x)) throw new CoreError(`header: vector component ${j} must be an integer in 0..2^32-1, not ${JSON.stringify(x)}`, "E_BAD_FIELD", "header.vector");
      w[b + j] = x;
    }
  }

  /** An app frame's vector form: the mask (the header's index) and the components (after the route). */
  encodeVecValues(v: number[]): { mask: number; bytes: Uint8Array } {
    const m = this.stageVecValues(v);
    const q = this.x.vecBufPtr() + 128;
    return { mask: this.vecMask(), bytes: this.u8.slice(q, q + m) };
  }
  /**
   * encodeVecValues without objects: encodes v's components into the core and returns their
   * byte count; read the mask with vecMask and copy the bytes out with copyVecValues before
   * the next call that encodes a vector.
   */
  stageVecValues(v: number[]): number {
    this.writeVecBuf(0, v);
    return this.x.encodeVecVals();
  }
  vecMask(): number { return this.x.vecMaskOf() >>> 0; }
  copyVecValues(dst: Uint8Array, at: number, m: number): void {
    this.copyOut(dst, at, this.x.vecBufPtr() + 128, m);
  }
  /** Reads the components for `mask` at bytes[pos..]; throws a CoreError naming header.vector. */
  decodeVecValues(bytes: Uint8Array, pos: number, mask: number): { vec: number[]; used: number } {
    const used = this.decodeVecValuesFields(bytes, pos, mask);
    return { vec: this.decodedVec(), used };
  }
  /** decodeVecValues without the result object: returns the bytes the components took; decodedVec() reads them. */
  decodeVecValuesFields(bytes: Uint8Array, pos: number, mask: number): number {
    const n = Math.min(bytes.length, pos + 16 * 5, this.stageCap);
    this.stageIn(bytes, n);
    const st = this.x.decodeVecVals(this.x.stagePtr(), pos, n, mask >>> 0);
    if (st < 0) {
      const s = STATUS[st] ?? { name: `status ${st}`, field: "header", hint: "" };
      throw new CoreError(`malformed vector (${bytes.length} bytes): ${s.name} on field 'header.vector': ${s.hint}`, s.name, "header.vector");
    }
    return st;
  }
  /** The vector decodeVecValuesFields decoded, up to its last nonzero component. */
  decodedVec(): number[] { return this.readVecFull(this.x.vecBufPtr()); }
  /** decodedVec into a caller's array (all VECTOR_MAX components; wide() reads it the same): no array per frame. */
  decodedVecInto(out: number[]): number[] {
    const w = this.u32, b = this.x.vecBufPtr() >> 2;
    for (let j = 0; j < VM; j++) out[j] = w[b + j];
    return out;
  }
}

/** Components of a vector (MAXM in the core) and its bytes. */
const VM = 16, VB = 64;
/** Components of an index vector the core holds (and of readDecodedBounds' arrays). */
export const VECTOR_MAX = VM;
/** A vector up to its last nonzero component (at least one), as the core's decoders give it. */
export function trimVec(v: readonly number[]): number[] {
  let last = 0;
  for (let j = 1; j < v.length; j++) if (v[j] !== 0) last = j;
  return v.slice(0, last + 1);
}
/**
 * One of a pair of bound vectors as an effect hands it on: the vector the core gave, or,
 * when only the other one came in the vector form, the scalar as a one-component vector;
 * undefined when neither did (the scalar form).
 */
export function boundVec(vec: number[] | undefined, scalar: number, other: number[] | undefined): number[] | undefined {
  return vec ?? (other ? [scalar] : undefined);
}
/** A vector with a nonzero component beyond the first (the scalar words cannot carry it). */
export function wide(v: readonly number[] | undefined): boolean {
  if (!v) return false;
  for (let j = 1; j < v.length; j++) if (v[j] !== 0) return true;
  return false;
}

function bad(ev: CoreEvent, gi: number, out: CoreEffect[], field: string, what: string): never {
  throw new CoreError(`event ${gi} (${ev.type}): ${field} ${what}`, "E_BAD_FIELD", field, gi, out);
}
function u32(ev: CoreEvent, gi: number, out: CoreEffect[], field: string, v: unknown): number {
  if (!isU32(v)) bad(ev, gi, out, field, `must be an integer in 0..2^32-1, not ${JSON.stringify(v)}`);
  return v as number;
}
function kindOf(ev: CoreEvent, gi: number, out: CoreEffect[], field: string, v: unknown): number {
  if (typeof v !== "string" || !Object.hasOwn(KIND, v)) bad(ev, gi, out, field, `must be one of act, low, sdw, device, not ${JSON.stringify(v)}`);
  return KIND[v as Kind];
}

function payloadLen(ev: CoreEvent): number {
  return "payload" in ev && ev.payload instanceof Uint8Array ? ev.payload.length : 0;
}
