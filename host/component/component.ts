/**
 * Component ABI and host loader.
 *
 * A component is an AssemblyScript module compiled to its own .wasm with
 * `--runtime stub --exportStart _start`, then post-processed by
 * scripts/build-examples.mjs (binaryen) so that every mutable global is
 * exported as `gsu_g0`, `gsu_g1`, ... with their types listed in a custom
 * section "gsu.globals" (u32 LE count, then one byte per global:
 * 0 = i32, 1 = i64, 2 = f32, 3 = f64).
 *
 * Imports the component may use:
 *   gsu.send(port: u32, ptr: usize, len: u32): void   emit `len` bytes at `ptr` on output port `port`
 *   env.abort(msg: usize, file: usize, line: u32, col: u32): void   standard AS abort
 * Exports:
 *   memory                         linear memory
 *   _start(): void                 top-level init; the host calls it once on a fresh instance
 *   gsu_inbox(): usize             address of the fixed 4096-byte inbox
 *   gsu_handle(port: u32, len: u32): void   a `len`-byte message is in the inbox; may call gsu.send
 *   gsu_fault(fromStep: u32): void optional fault-injection hook (new versions only)
 *   gsu_state_save(): u32          optional: write the app state into the inbox, return its length
 *   gsu_state_load(len: u32): void optional: read an app state of `len` bytes from the inbox
 *   gsu_g<i>: mutable global       every mutable global, for checkpointing
 *
 * Snapshot format (little endian), written by snapshotInto / read by restoreFrom:
 *   offset 0   u32  memory byte length M (a multiple of 65536)
 *   offset 4   u32  global count G (must equal the module's gsu_g* count)
 *   offset 8   G × 8 bytes, global i in the order gsu_g0..gsu_g{G-1}:
 *              i32 → int32 in the first 4 bytes, 4 zero bytes
 *              i64 → int64
 *              f32 → float32 in the first 4 bytes, 4 zero bytes
 *              f64 → float64
 *   offset 8+8G   u32  live length L (L <= M): every byte of memory from L to M is zero
 *   offset 12+8G  L bytes: linear memory [0, L)
 *   total = 12 + 8G + L  (at most snapshotSize() = 12 + 8G + M)
 * Live state only: L is the end of the highest 64-byte block of memory holding a non-zero
 * byte, found at every snapshot by a 100-byte SIMD scanner (LIVE_TOP_WASM below) that
 * imports the component's memory. Whatever the component wrote (heap, data, stack,
 * bytes above its allocator's top after a free) is below L by construction, so the
 * restore (memory [0, L) copied, [L, M) zeroed) is exact without knowing the allocator.
 * A demo component of 64 KiB holds about 8 KiB. Without WebAssembly SIMD, L = M.
 * Note: float globals pass through JS numbers, so a NaN keeps being a NaN
 * but its payload bits may be canonicalised by the engine.
 *
 * Take snapshots and restore only between export calls (never from inside
 * onSend).
 */

import { wholeView } from "../runtime/data-view.ts";
import { copyBytes } from "../runtime/byte-pool.ts";
import type { OutputBuffers } from "../runtime/app.ts";

export const INBOX_SIZE = 4096;
const PAGE = 65536;

/**
 * The live-top scanner: (import "m" "m" (memory 1)) (func (export "top") (param $end i32)
 * (result i32)): walks down from $end in 64-byte blocks (four v128 loads OR-ed,
 * v128.any_true) and returns the end of the highest block holding a non-zero byte, 0 if
 * none. Built with binaryen (SIMD128) and checked against a byte-wise scan in
 * test/component.test.ts.
 */
export const LIVE_TOP_WASM = "AGFzbQEAAAABBgFgAX8BfwIIAQFtAW0CAAEDAgEABwcBA3RvcAAACj0BOwADQCAARQRAQQAPCyAAQUBqIgD9AAQAIAD9AAQQ/VAgAP0ABCAgAP0ABDD9UP1Q/VNFDQALIABBQGsL";
let liveTopModule: WebAssembly.Module | null | undefined;
let liveOnly = true;
/** Benchmarks only (bench:rehearsal's before/after): false makes every snapshot hold all of memory (L = M), as before live-state checkpoints. */
export function setLiveSnapshots(on: boolean): void { liveOnly = on; }
/** A live-top function over `mem`, or null where the engine has no WebAssembly SIMD (then snapshots hold all of memory). */
export function liveTopOf(mem: WebAssembly.Memory): ((end: number) => number) | null {
  if (liveTopModule === undefined) {
    try { liveTopModule = new WebAssembly.Module(Buffer.from(LIVE_TOP_WASM, "base64")); } catch { liveTopModule = null; }
  }
  if (!liveTopModule) return null;
  return (new WebAssembly.Instance(liveTopModule, { m: { m: mem } }).exports as { top: (end: number) => number }).top;
}

export type GlobalType = "i32" | "i64" | "f32" | "f64";
const TYPE_BY_CODE: GlobalType[] = ["i32", "i64", "f32", "f64"];

export type SendFn = (port: number, bytes: Uint8Array) => void;

interface Exports {
  memory: WebAssembly.Memory;
  _start: () => void;
  gsu_inbox: () => number;
  gsu_handle: (port: number, len: number) => void;
  gsu_fault?: (fromStep: number) => void;
  gsu_state_save?: () => number;
  gsu_state_load?: (len: number) => void;
  [name: string]: unknown;
}

export class ComponentModule {
  readonly globalTypes: readonly GlobalType[];
  readonly hasFault: boolean;
  readonly hasStateTransfer: boolean;

  private constructor(readonly module: WebAssembly.Module, readonly label: string) {
    const exps = WebAssembly.Module.exports(module);
    const kinds = new Map(exps.map((e) => [e.name, e.kind]));
    const need = (name: string, kind: string, what: string) => {
      if (kinds.get(name) !== kind) {
        throw new Error(`component ${label}: missing ${kind} export "${name}" (${what}); ` +
          `build it with scripts/build-examples.mjs (asc --runtime stub --exportStart _start + global-export pass)`);
      }
    };
    need("memory", "memory", "linear memory");
    need("_start", "function", "top-level init; compile with --exportStart _start");
    need("gsu_inbox", "function", "re-export gsu_inbox from examples/lib/gsu.ts");
    need("gsu_handle", "function", "export function gsu_handle(port: u32, len: u32): void");
    for (const i of WebAssembly.Module.imports(module)) {
      const key = `${i.module}.${i.name}`;
      if (key !== "gsu.send" && key !== "env.abort") {
        throw new Error(`component ${label}: unsupported import "${key}" (${i.kind}); a component may only import gsu.send and env.abort`);
      }
    }
    const secs = WebAssembly.Module.customSections(module, "gsu.globals");
    if (secs.length !== 1) {
      throw new Error(`component ${label}: missing custom section "gsu.globals"; run the binaryen global-export pass (scripts/build-examples.mjs)`);
    }
    const sec = new Uint8Array(secs[0]!);
    const n = sec.length >= 4 ? new DataView(sec.buffer, sec.byteOffset).getUint32(0, true) : -1;
    if (n < 0 || sec.length !== 4 + n) throw new Error(`component ${label}: malformed "gsu.globals" section; rebuild with scripts/build-examples.mjs`);
    const types: GlobalType[] = [];
    for (let i = 0; i < n; i++) {
      const t = TYPE_BY_CODE[sec[4 + i]!];
      if (!t) throw new Error(`component ${label}: "gsu.globals" has unknown type code ${sec[4 + i]} for gsu_g${i}`);
      need(`gsu_g${i}`, "global", "mutable global export from the binaryen pass");
      types.push(t);
    }
    if (kinds.get(`gsu_g${n}`) === "global") throw new Error(`component ${label}: exports more gsu_g* globals than "gsu.globals" lists (${n})`);
    this.globalTypes = types;
    this.hasFault = kinds.get("gsu_fault") === "function";
    this.hasStateTransfer = kinds.get("gsu_state_save") === "function" && kinds.get("gsu_state_load") === "function";
  }

  /** Compile and validate a component binary. `label` names it in errors (e.g. "estimator@2.0.0"). */
  static fromBytes(bytes: Uint8Array, label = "component"): ComponentModule {
    let m: WebAssembly.Module;
    try {
      m = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    } catch (e) {
      throw new Error(`component ${label}: not a valid wasm module (${(e as Error).message})`);
    }
    return new ComponentModule(m, label);
  }
}

export class ComponentInstance {
  /** Each output handed to onSend is a fresh copy out of linear memory (App.outputsOwned). */
  readonly outputsOwned = true;
  private ex!: Exports;
  private mem!: WebAssembly.Memory;
  private globals: WebAssembly.Global[] = [];
  private u8!: Uint8Array; // view of mem.buffer, refreshed after growth
  private inbox = 0;
  private started = false;
  private readonly imports: WebAssembly.Imports;
  private spare: WebAssembly.Instance | null = null;
  /** The live-top scanner over this instance's memory (null: no SIMD, whole memory). */
  private liveTop: ((end: number) => number) | null = null;
  /** counters: restores done in place vs into a fresh instance */
  inPlaceRestores = 0;
  freshRestores = 0;

  /** buffers: where each output's copy comes from (the board's pool, App.OutputBuffers); absent, a new array each. */
  constructor(readonly mod: ComponentModule, private readonly onSend: SendFn, private readonly buffers?: OutputBuffers) {
    this.imports = {
      gsu: { send: (port: number, ptr: number, len: number) => this.send(port, ptr, len) },
      env: { abort: (msg: number, file: number, line: number, col: number) => this.abort(msg, file, line, col) },
    };
    this.instantiate();
  }

  get label(): string {
    return this.mod.label;
  }

  private instantiate(): void {
    this.adopt(new WebAssembly.Instance(this.mod.module, this.imports));
  }

  private adopt(inst: WebAssembly.Instance): void {
    this.ex = inst.exports as unknown as Exports;
    this.mem = this.ex.memory;
    this.liveTop = liveTopOf(this.mem);
    this.u8 = new Uint8Array(this.mem.buffer);
    this.globals = this.mod.globalTypes.map((_, i) => this.ex[`gsu_g${i}`] as WebAssembly.Global);
    this.inbox = this.ex.gsu_inbox() >>> 0;
    this.started = false;
  }

  // The memory's first `live` bytes as a view made once per length (live tops are 64-byte
  // blocks: at most memory / 64 of them), dropped when the memory grows: no view per snapshot.
  private liveViews: Uint8Array[] = [];
  private liveOf: Uint8Array | null = null;
  private liveView(u8: Uint8Array, live: number): Uint8Array {
    if (this.liveOf !== u8) { this.liveOf = u8; this.liveViews = []; }
    return this.liveViews[live] ?? (this.liveViews[live] = u8.subarray(0, live));
  }

  private view(): Uint8Array {
    // memory.grow detaches the old buffer (its views read length 0); Memory.buffer is a
    // getter into the engine, too slow to call for every message and snapshot
    if (this.u8.byteLength === 0) this.u8 = new Uint8Array(this.mem.buffer);
    return this.u8;
  }

  private send(port: number, ptr: number, len: number): void {
    const u8 = this.view();
    ptr >>>= 0; len >>>= 0;
    if (ptr + len > u8.length) throw new Error(`component ${this.label}: gsu.send(${port}, ${ptr}, ${len}) is outside memory (${u8.length} bytes)`);
    const out = this.buffers ? this.buffers.take(len) : new Uint8Array(len);
    copyBytes(out, 0, u8, ptr, len);
    this.onSend(port >>> 0, out);
  }

  private readString(ptr: number): string {
    if (!ptr) return "";
    const u8 = this.view();
    if (ptr < 4 || ptr > u8.length) return `<bad string @${ptr}>`;
    const bytes = new DataView(u8.buffer).getUint32(ptr - 4, true); // AS rtSize, UTF-16 bytes
    if (ptr + bytes > u8.length) return `<bad string @${ptr}>`;
    return Buffer.from(u8.buffer, ptr, bytes & ~1).toString("utf16le");
  }

  private abort(msg: number, file: number, line: number, col: number): never {
    throw new Error(`component ${this.label} aborted: ${this.readString(msg)} (${this.readString(file)}:${line}:${col})`);
  }

  /** Run the top-level init. Call once on a fresh instance (not after restoreFrom). */
  start(): void {
    if (this.started) throw new Error(`component ${this.label}: start() called twice; _start must run once on a fresh instance`);
    this.started = true;
    this.ex._start();
  }

  /** Deliver one message on input port `port`. Sends happen synchronously via onSend. */
  handle(port: number, bytes: Uint8Array): void {
    if (bytes.length > INBOX_SIZE) throw new Error(`component ${this.label}: message of ${bytes.length} bytes on port ${port} exceeds the ${INBOX_SIZE}-byte inbox`);
    this.view().set(bytes, this.inbox);
    this.ex.gsu_handle(port, bytes.length);
  }

  /** Arm the fault-injection hook: from step `step` on, the component corrupts its state. */
  injectFault(step: number): void {
    const f = this.ex.gsu_fault;
    if (typeof f !== "function") throw new Error(`component ${this.label}: has no gsu_fault export; only versions with a fault hook (new versions) can take an injected fault`);
    f(step >>> 0);
  }

  /** Optional app-level state transfer (for starting a new version from an old one's state). */
  saveState(): Uint8Array {
    const f = this.ex.gsu_state_save;
    if (typeof f !== "function") throw new Error(`component ${this.label}: has no gsu_state_save export`);
    const n = f() >>> 0;
    if (n > INBOX_SIZE) throw new Error(`component ${this.label}: gsu_state_save returned ${n} > ${INBOX_SIZE}`);
    return this.view().slice(this.inbox, this.inbox + n);
  }
  loadState(state: Uint8Array): void {
    const f = this.ex.gsu_state_load;
    if (typeof f !== "function") throw new Error(`component ${this.label}: has no gsu_state_load export`);
    if (state.length > INBOX_SIZE) throw new Error(`component ${this.label}: state of ${state.length} bytes exceeds the inbox`);
    this.view().set(state, this.inbox);
    f(state.length);
  }

  get memoryBytes(): number {
    return this.mem.buffer.byteLength;
  }

  /** The largest snapshot of the current memory (a snapshot holds only the live part: see liveBytes). */
  snapshotSize(): number {
    return 12 + 8 * this.globals.length + this.view().length;
  }

  /** Bytes of memory a snapshot holds now: up to the highest non-zero 64-byte block. */
  liveBytes(): number {
    const n = this.view().length;
    return this.liveTop ? this.liveTop(n) >>> 0 : n;
  }

  /** The whole state, for tests: every byte of memory, then the globals as a snapshot stores them. */
  fullState(): Uint8Array {
    const u8 = this.view();
    const out = new Uint8Array(u8.length + 8 * this.globals.length);
    out.set(u8);
    const dv = new DataView(out.buffer);
    this.globals.forEach((g, i) => {
      const v = g.value, o = u8.length + 8 * i;
      switch (this.mod.globalTypes[i]) {
        case "i32": dv.setInt32(o, v as number, true); break;
        case "i64": dv.setBigInt64(o, v as bigint, true); break;
        case "f32": dv.setFloat32(o, v as number, true); break;
        default: dv.setFloat64(o, v as number, true); break;
      }
    });
    return out;
  }

  /** Write a snapshot into `dst` (at offset 0); returns the bytes written. Allocates nothing once warm. */
  snapshotInto(dst: Uint8Array): number { return this.snapshotAt(dst, 0, dst.length); }

  /** snapshotInto at offset `at` of `dst`, which has room for `cap` bytes there (App.snapshotAt). */
  snapshotAt(dst: Uint8Array, at: number, cap: number): number {
    const size = this.snapshotSize();
    if (cap < size) throw new Error(`component ${this.label}: snapshot buffer of ${cap} bytes is too small; snapshotSize() is ${size}`);
    const dv = wholeView(dst.buffer); // written at b + offset: no DataView per snapshot
    const b = dst.byteOffset + at;
    const u8 = this.view();
    const types = this.mod.globalTypes;
    const g = this.globals;
    dv.setUint32(b, u8.length, true);
    dv.setUint32(b + 4, g.length, true);
    let off = 8;
    for (let i = 0; i < g.length; i++, off += 8) {
      const v = g[i]!.value;
      switch (types[i]) {
        case "i32": dv.setInt32(b + off, v as number, true); dv.setInt32(b + off + 4, 0, true); break;
        case "i64": dv.setBigInt64(b + off, v as bigint, true); break;
        case "f32": dv.setFloat32(b + off, v as number, true); dv.setInt32(b + off + 4, 0, true); break;
        default: dv.setFloat64(b + off, v as number, true); break;
      }
    }
    const live = this.liveTop && liveOnly ? this.liveTop(u8.length) >>> 0 : u8.length;
    dv.setUint32(b + off, live, true);
    dst.set(live === u8.length ? u8 : this.liveView(u8, live), at + off + 4);
    return off + 4 + live;
  }

  /**
   * Instantiate a fresh instance now, off the critical path, so that the next
   * restoreFrom that needs one does not pay for instantiation (~0.1 ms).
   */
  prepareSpare(): void {
    if (!this.spare) this.spare = new WebAssembly.Instance(this.mod.module, this.imports);
  }

  /**
   * Restore a snapshot. Exact and transparent: every byte of linear memory
   * and every mutable global is overwritten; nothing else in a stub-runtime
   * AS module is mutable (tables are never written).
   * - If the current memory is larger than the snapshot's (it grew since),
   *   the state goes into a FRESH instance of the already-compiled module,
   *   because memory cannot shrink and memory.size is observable (the stub
   *   allocator grows by it). The spare from prepareSpare() is used if any.
   * - Otherwise (same size, or smaller: grown to fit) it is restored in
   *   place, which is just as exact and avoids instantiation.
   * `opts.fresh` forces the fresh-instance path. _start is never called.
   * Validates the whole header before touching anything: on error the
   * instance is unchanged.
   */
  restoreFrom(src: Uint8Array, opts?: { fresh?: boolean }): void {
    const where = `component ${this.label}: restoreFrom`;
    if (src.length < 8) throw new Error(`${where}: truncated snapshot (${src.length} bytes; the header alone is 8)`);
    const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
    const memLen = dv.getUint32(0, true);
    const count = dv.getUint32(4, true);
    const types = this.mod.globalTypes;
    if (count !== types.length) {
      throw new Error(`${where}: snapshot has ${count} globals but ${this.label} exports ${types.length}; the snapshot is from another module or build, or is garbage`);
    }
    if (memLen === 0 || memLen % PAGE !== 0) throw new Error(`${where}: snapshot memory length ${memLen} is not a positive multiple of 64 KiB; the snapshot is garbage`);
    if (src.length < 12 + 8 * count) throw new Error(`${where}: truncated snapshot (${src.length} bytes; the header with ${count} globals is ${12 + 8 * count}); pass src.subarray(0, n) with n from snapshotInto`);
    const live = dv.getUint32(8 + 8 * count, true);
    if (live > memLen) throw new Error(`${where}: snapshot live length ${live} exceeds its memory length ${memLen}; the snapshot is garbage`);
    const need = 12 + 8 * count + live;
    if (src.length !== need) {
      throw new Error(`${where}: snapshot is ${src.length} bytes but its header says ${need} (${src.length < need ? "truncated" : "trailing bytes"}); pass src.subarray(0, n) with n from snapshotInto`);
    }
    if (opts?.fresh || this.mem.buffer.byteLength > memLen) {
      const inst = this.spare ?? new WebAssembly.Instance(this.mod.module, this.imports);
      this.spare = null;
      const initial = (inst.exports.memory as WebAssembly.Memory).buffer.byteLength;
      if (memLen < initial) throw new Error(`${where}: snapshot memory (${memLen} bytes) is smaller than the module's initial memory (${initial}); the snapshot is from another module`);
      this.adopt(inst);
      this.freshRestores++;
    } else {
      this.inPlaceRestores++;
    }
    const cur = this.mem.buffer.byteLength;
    if (memLen > cur) {
      try {
        this.mem.grow((memLen - cur) / PAGE);
      } catch (e) {
        throw new Error(`${where}: cannot grow memory to ${memLen} bytes (${(e as Error).message})`);
      }
    }
    let off = 8;
    const g = this.globals;
    for (let i = 0; i < count; i++, off += 8) {
      switch (types[i]) {
        case "i32": g[i]!.value = dv.getInt32(off, true); break;
        case "i64": g[i]!.value = dv.getBigInt64(off, true); break;
        case "f32": g[i]!.value = dv.getFloat32(off, true); break;
        default: g[i]!.value = dv.getFloat64(off, true); break;
      }
    }
    const u8 = this.view();
    u8.set(src.subarray(off + 4, off + 4 + live));
    u8.fill(0, live, memLen); // zero at the snapshot: whatever was written there since goes
    this.started = true;
  }
}
