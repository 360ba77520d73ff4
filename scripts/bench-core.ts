// Micro-benchmarks of the protocol core (npm run bench:core). Everything is
// measured in one run and printed as figures and ratios; there are no timing
// asserts. The script exits non-zero only when the measurement itself is
// invalid: a refused event, a mismatch between paths, or memory that grows.
//
//   a) per-event decision cost through the batched ABI (stepRaw(256)) versus one
//      stepRaw(1) call per event, on a realistic guarded-operation event mix;
//  a2) the path the runtime takes (Core.submit with event objects, 1-2 events per call,
//      every effect decoded into an object) next to the raw path with the same calls,
//      in one interleaved run, with the ratio per sample;
//   b) checkpoint store / restore copy bandwidth on arena views handed out by
//      real CHECKPOINT / ROLLBACK effects, versus Buffer.copy of the same bytes;
//   c) the core's fixed memory, and proof that 10^6 events with periodic passed
//      ATs neither grow linear memory nor keep growing the protocol bytes held.
//
// Figures also go to bench-results/core.json.
// By default it runs on the compiled JavaScript a board runs (scripts/bench-compiled.ts lays
// it with gsu flash --root); `-- --tsx` runs the development tree through tsx instead.
//
//   npm run bench:core               the measurement (about 10 s of timed runs)
//   npm run bench:core -- --quick    a smoke run for CI: the same event mix and the same
//                                    validity checks, with short timing budgets and 10^5
//                                    events for c); figures go to bench-results/core-quick.json
//                                    (they are not measurements: the real file is left alone)
//
// Every event goes through the host/core facade (Core.submit) and every header through
// its codec (encodeHeader / decodeHeader), as a board does; the bench never lays out
// event words or header bytes itself. The long run of c) repeats the recorded pass with
// its growing words (indexes, bounds) extrapolated from recorded passes 0 and 1, and
// checks that extrapolation against recorded pass 2 before using it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Bench, type Task } from "tinybench";
import { Core, type CoreEffect, type CoreEvent, type Header } from "../host/core/core.ts";
import { EVENT_WORDS, KIND, STATUS } from "../host/core/abi.ts";
import { runReceipts, type LeanRun } from "../host/runtime/recv-path.ts";
import { newSendRun, runSends } from "../host/runtime/send-path.ts";

const t0 = performance.now();
const args = process.argv.slice(2);
for (const a of args) {
  if (a !== "--quick") {
    console.error(`bench-core: unknown argument '${a}'; usage: npm run bench:core [-- --quick] [-- --tsx]`);
    process.exit(2);
  }
}
const QUICK = args.includes("--quick");
const fail = (msg: string): never => {
  console.error(`bench-core: FAILED: ${msg}`);
  process.exit(1);
};

// ---- the event mix --------------------------------------------------------------
// One cluster process (new version), four active processes, one shadow (the old
// version of pid 0). The host fans every message to the cluster out to the shadow,
// and mirrors the cluster's outputs with the shadow's (suppressed, logged) outputs.
const L = 0, A1 = 1, A2 = 2, A3 = 3, A4 = 4, S = 5;
const ROLES = [[L, "low"], [A1, "ha"], [A2, "ha"], [A3, "ha"], [A4, "ha"], [S, "hs"]] as const;
const PAYLOAD = new Uint8Array(24).map((_, i) => 0x41 + i);
const MIX_SNAP = 1024;        // bytes reserved per checkpoint (not written: decision cost only)
const ROUNDS = 160;           // rounds per pass (one pass is one guarded operation's worth)
const BATCH = 256;

/** A header as the receiver decodes it from the frame the sender's header encodes to. */
type Wire = Omit<Header, "kind"> & { kind?: Header["kind"] };
function wire(core: Core, h: Header): Header {
  const { length: _n, ...d } = core.decodeHeader(core.encodeHeader(h));
  return d;
}
/** The RECV event fields a received header supplies (board.ts: receive()). */
function recvFields(h: Wire): { dirty: number; index: number; epoch: number } {
  const { kind: _k, aux: _a, ...f } = h;
  return f;
}

function setup(core: Core): void {
  if (core.global("guarded")) core.submit([{ type: "commit" }]);
  for (const [pid, role] of ROLES) core.setRole(pid, role);
  core.beginGuarded();
}

/**
 * Drives a recording core through the facade (so every piggybacked header comes from
 * a real SEND effect) and captures each event as the 16 words the facade encoded.
 */
class Recorder {
  readonly core = new Core();
  readonly words: number[] = [];
  readonly fx = new Map<string, number>();
  events = 0;
  effects = 0;
  haAts = 0;  // active processes' device messages that needed an AT
  constructor() { setup(this.core); }

  /** The events as the board submits them: one call per message, 1 or 2 events (a fan-out to a cluster member and its shadow). */
  readonly calls: CoreEvent[][] = [];
  private join = false;
  run(ev: CoreEvent): CoreEffect[] {
    if (this.join && this.calls.length) this.calls[this.calls.length - 1]!.push(ev); else this.calls.push([ev]);
    this.join = false;
    const out = this.core.submit([ev]); // throws a CoreError on any refusal
    for (let i = 0; i < EVENT_WORDS; i++) this.words.push(this.core.events[i]!);
    this.events++;
    this.effects += out.length;
    for (const e of out) this.fx.set(e.type, (this.fx.get(e.type) ?? 0) + 1);
    return out;
  }
  /** The header a SEND effect piggybacks, as the receiving board sees it: through the codec. */
  header(out: CoreEffect[]): Wire {
    const s = out.find((e) => e.type === "send");
    if (!s || s.type !== "send") throw new Error("expected a SEND effect");
    return wire(this.core, s.header);
  }
  recv(pid: number, from: "act" | "low" | "device", h: Wire, peer: number): void {
    this.run({ ...recvFields(h), type: "recv", pid, from, peer, payload: PAYLOAD, snapBytes: MIX_SNAP });
  }
  // an active process sends to the cluster component; the host fans it out to its shadow
  haToLow(a: number): void {
    const h = this.header(this.run({ type: "send", pid: a, to: "low", peer: L, payload: PAYLOAD }));
    this.recv(L, "act", h, a);
    this.join = true; // the board submits both targets of one message in one call
    this.recv(S, "act", h, a);
  }
  // the cluster sends to an active process; the shadow makes the same (suppressed) output
  lowToHa(a: number): void {
    const h = this.header(this.run({ type: "send", pid: L, to: "act", peer: a, payload: PAYLOAD }));
    this.recv(a, "low", h, L);
    this.run({ type: "send", pid: S, to: "act", peer: a, payload: PAYLOAD });
  }
  haToHa(a: number, b: number): void {
    const h = this.header(this.run({ type: "send", pid: a, to: "act", peer: b, payload: PAYLOAD }));
    this.recv(b, "act", h, a);
  }
  // a device message carries no GSU header: dirty 0, index 0
  deviceToHa(a: number): void { this.recv(a, "device", { dirty: 0, index: 0, epoch: 0 }, 0); }
  // "passed AT" goes out as a passedAt frame (board.ts does the same) to every other process
  broadcast(out: CoreEffect[], except: number): void {
    const b = out.find((e) => e.type === "broadcast-passed");
    if (!b || b.type !== "broadcast-passed") throw new Error("expected BROADCAST_PASSED");
    const h = wire(this.core, { kind: "passedAt", dirty: 0, index: b.v, epoch: b.epoch, aux: b.vext });
    for (const p of [A1, A2, A3, A4, S]) {
      if (p !== except) this.run({ type: "passed-at", pid: p, v: h.index, vext: h.aux ?? 0, epoch: h.epoch });
    }
  }
  // the cluster's device output: AT, pass delivers it and sends "passed AT" to everyone
  // (every rule set); the shadow's twin is logged
  lowToDevice(): void {
    const o = this.run({ type: "send", pid: L, to: "device", payload: PAYLOAD });
    if (!o.some((e) => e.type === "at-required")) throw new Error("expected AT_REQUIRED for the cluster's device message");
    this.run({ type: "send", pid: S, to: "device", payload: PAYLOAD });
    const r = this.run({ type: "at-result", pid: L, passed: true });
    if (!r.some((e) => e.type === "deliver-device")) throw new Error("expected DELIVER_DEVICE after the cluster's passed AT");
    this.broadcast(r, L);
  }
  // an active process's device output: an AT if it is dirty. Its pass delivers the message.
  // Under the safe and folded rules it validates nothing and broadcasts nothing (only the
  // cluster's own ATs do: docs/protocol.md, gap 4); under the printed rules it broadcasts
  // "passed AT". Either way, the other outcome is an error.
  haToDevice(a: number): void {
    const o = this.run({ type: "send", pid: a, to: "device", payload: PAYLOAD });
    if (!o.some((e) => e.type === "at-required")) return;
    this.haAts++;
    const r = this.run({ type: "at-result", pid: a, passed: true });
    if (!r.some((e) => e.type === "deliver-device")) throw new Error("expected DELIVER_DEVICE after an active process's passed AT");
    const broadcasts = r.some((e) => e.type === "broadcast-passed");
    if (this.core.rules === "paper") {
      if (!broadcasts) throw new Error("expected BROADCAST_PASSED after an active process's passed AT (printed rules)");
      this.broadcast(r, a);
    } else if (broadcasts) {
      throw new Error(`unexpected BROADCAST_PASSED after an active process's passed AT (rules ${this.core.rules}: only the cluster's ATs validate)`);
    }
  }

  pass(): void {
    for (let r = 0; r < ROUNDS; r++) {
      this.deviceToHa(A4);
      this.haToLow(A1);
      this.lowToHa(A1);
      this.haToHa(A1, A2);
      this.haToHa(A2, A3);
      this.deviceToHa(A3);
      this.lowToHa(A2);
      this.haToHa(A3, A4);
      this.haToLow(A4);
      this.haToHa(A4, A1);
      this.deviceToHa(A2);
      if (r % 4 === 3) this.haToDevice(A3);
      if (r % 2 === 1) this.lowToDevice();
    }
    // end on a clean cut: every process has seen the last index and it is validated
    this.lowToHa(A1); this.haToHa(A1, A2); this.haToHa(A2, A3); this.haToHa(A3, A4); this.haToLow(A4);
    this.lowToDevice();
  }
}

const rec = (() => {
  try {
    const r = new Recorder();
    r.pass();
    return r;
  } catch (e) {
    return fail(`recording the mix through the facade: ${(e as Error).message}`);
  }
})();
const N = rec.events;                               // events per pass
/**
 * An event as the board builds it: one object literal per type with the board's fields in
 * its order (board.ts receive() and the send paths), so the facade sees the board's object
 * shapes. (The recorder's events come from spreads and varied literals; objects made that
 * way can be in V8's slow dictionary mode, which would charge the facade for the bench's
 * own objects.)
 */
function shaped(ev: CoreEvent): CoreEvent {
  switch (ev.type) {
    case "recv": return { type: "recv", pid: ev.pid, from: ev.from, peer: ev.peer, dirty: ev.dirty, index: ev.index, epoch: ev.epoch, snapBytes: ev.snapBytes, payload: ev.payload, step: ev.step };
    case "send": return { type: "send", pid: ev.pid, to: ev.to, peer: ev.peer, payload: ev.payload, step: ev.step };
    case "passed-at": return { type: "passed-at", pid: ev.pid, v: ev.v, vext: ev.vext, epoch: ev.epoch };
    case "at-result": return { type: "at-result", pid: ev.pid, passed: ev.passed };
    default: return { ...ev };
  }
}
const calls0: CoreEvent[][] = rec.calls.map((c) => c.map(shaped));    // pass 0 as the board submits it
const pass0 = Uint32Array.from(rec.words);
const fxPerPass = rec.effects;
const fxMix = Object.fromEntries(rec.fx);
const haAtsPerPass = rec.haAts;
const C = rec.core.global("low");
if (rec.core.heldBytes() !== 0) fail(`the mix pass does not end clean (held ${rec.core.heldBytes()} bytes)`);
if (!fxMix["deliver-device"]) fail("the mix delivers nothing to a device");
if (haAtsPerPass === 0) fail("no active process's device message needed an AT: the mix no longer exercises them");
const recorded: Uint32Array[] = [pass0];
for (let j = 1; j <= 2; j++) {
  try { rec.pass(); } catch (e) { fail(`recording pass ${j} of the mix: ${(e as Error).message}`); }
  if (rec.events !== (j + 1) * N) fail(`pass ${j} recorded ${rec.events - j * N} events, pass 0 ${N}`);
  if (rec.effects !== (j + 1) * fxPerPass) fail(`pass ${j} produced ${rec.effects - j * fxPerPass} effects, pass 0 ${fxPerPass}`);
  recorded.push(Uint32Array.from(rec.words.slice(j * N * EVENT_WORDS)));
}
rec.run({ type: "commit" });
calls0.push([{ type: "commit" }]);
const commitWords = Uint32Array.from(rec.words.slice(-EVENT_WORDS));

// Pass j of one long guarded operation is pass 0 with its growing words (the indexes and
// bounds every pass advances by the same amount) advanced j times. The growth per word
// is learnt from recorded passes 0 and 1, without assuming where in the event a field
// sits, and checked against recorded pass 2 word for word.
const growth = new Int32Array(pass0.length);
for (let i = 0; i < growth.length; i++) growth[i] = (recorded[1]![i]! - pass0[i]!) | 0;
function shift(src: Uint32Array, dst: Uint32Array, j: number): void {
  for (let i = 0; i < src.length; i++) dst[i] = (src[i]! + j * growth[i]!) >>> 0;
}
{
  const chk = new Uint32Array(pass0.length);
  shift(pass0, chk, 2);
  for (let i = 0; i < chk.length; i++) {
    if (chk[i] !== recorded[2]![i]) {
      fail(`recorded pass 2 is not pass 0 advanced twice by pass 1's growth: event ${Math.floor(i / EVENT_WORDS)} word ${i % EVENT_WORDS} ` +
        `(${pass0[i]}, ${recorded[1]![i]}, ${recorded[2]![i]})`);
    }
  }
}

// ---- raw stepping with a loud status check --------------------------------------------
function refused(core: Core, n: number, where: string): never {
  const st = core.status();
  const s = STATUS[st];
  return fail(`${where}: core refused event ${core.consumed()} of ${n}: status ${st} ${s ? `${s.name} (field ${s.field}): ${s.hint}` : ""}` +
    (st === 0 ? " (effect buffer full: consumed short of n)" : ""));
}

/** A core hosting the mix, its stage holding the payload the words point at. */
function mixCore(): Core {
  const core = new Core();
  core.stage.set(PAYLOAD, 0);
  setup(core);
  return core;
}

// ---- a) decision cost ------------------------------------------------------------------
const passA = new Uint32Array((N + 1) * EVENT_WORDS);   // one guarded operation, then commit
passA.set(pass0);
passA.set(commitWords, N * EVENT_WORDS);
const NA = N + 1;
const batches: { words: Uint32Array; n: number }[] = [];
for (let i = 0; i < NA; i += BATCH) {
  const n = Math.min(BATCH, NA - i);
  batches.push({ words: passA.subarray(i * EVENT_WORDS, (i + n) * EVENT_WORDS), n });
}
const singles: Uint32Array[] = [];
for (let i = 0; i < NA; i++) singles.push(passA.subarray(i * EVENT_WORDS, (i + 1) * EVENT_WORDS));

const coreB = mixCore(), coreU = mixCore();
let sink = 0;
function runBatched(core: Core): number {
  const ev = core.events;
  let fx = 0;
  for (let b = 0; b < batches.length; b++) {
    const { words, n } = batches[b]!;
    ev.set(words);
    fx += core.stepRaw(n);
    if (core.status() !== 0 || core.consumed() !== n) refused(core, n, `batched pass, batch ${b}`);
  }
  return fx;
}
function runSingle(core: Core): number {
  const ev = core.events;
  let fx = 0;
  for (let i = 0; i < singles.length; i++) {
    ev.set(singles[i]!);
    fx += core.stepRaw(1);
    if (core.status() !== 0 || core.consumed() !== 1) refused(core, 1, `one-by-one pass, event ${i}`);
  }
  return fx;
}
// Each pass ends with a commit; every timed pass starts from fresh roles and counters.
// (async: false also stops tinybench from calling the task once, untimed, to sniff it.)
const reset = (core: Core) => ({ beforeEach: () => { setup(core); }, async: false });

// both paths must do the same thing as the recording did
{
  const fxB = runBatched(coreB), fxU = runSingle(coreU);
  if (fxB !== fxU) fail(`batched and one-by-one paths disagree: ${fxB} vs ${fxU} effects per pass`);
  if (fxB <= fxPerPass) fail(`batched pass produced ${fxB} effects, the recording ${fxPerPass} plus a commit`);
}

// --quick: short budgets (the default 64 / 16 iteration minimums would dominate, so lower them too)
const budget = (time: number, warmupTime: number) =>
  QUICK ? { time: 30, warmupTime: 5, iterations: 8, warmupIterations: 2 } : { time, warmupTime };
const benchA = new Bench({ name: "decision", ...budget(2000, 300), throws: true });
benchA.add("batched", () => { sink += runBatched(coreB); }, reset(coreB));
benchA.add("one-by-one", () => { sink += runSingle(coreU); }, reset(coreU));
await benchA.run();

function p50(task: Task | undefined): number {
  const r = task?.result;
  if (!r || r.state !== "completed") fail(`task ${task?.name} did not complete (${r?.state})`);
  return (r as { latency: { p50: number } }).latency.p50; // ms
}
const nsBatched = (p50(benchA.getTask("batched")) * 1e6) / NA;
const nsSingle = (p50(benchA.getTask("one-by-one")) * 1e6) / NA;

// ---- a2) the runtime's path: Core.submit with event objects, effects decoded --------------
// The board (host/runtime/board.ts) calls submit() once per message with 1 or 2 event
// objects and gets every effect back as an object. Timed in one interleaved run next to
// the raw path with the same grouping (stepRaw(1 or 2) on the same events pre-encoded):
// sample i times one pass of each, the order alternating, and the ratio is taken per sample.
// Timed in CPU time of the process (process.cpuUsage): on a loaded machine wall time
// charges preemption to the longer pass (the submit path) far more often than to the
// shorter one, which biases the ratio.
const callSizes = calls0.map((c) => c.length);
if (callSizes.reduce((a, b) => a + b, 0) !== NA) fail(`the recorded calls hold ${callSizes.reduce((a, b) => a + b, 0)} events, the pass ${NA}`);
const groups: Uint32Array[] = [];
{
  let at = 0;
  for (const n of callSizes) { groups.push(passA.subarray(at * EVENT_WORDS, (at + n) * EVENT_WORDS)); at += n; }
}
const coreS = mixCore(), coreR = mixCore();
function runSubmit(core: Core): number {
  let fx = 0;
  for (let i = 0; i < calls0.length; i++) fx += core.submit(calls0[i]!).length;
  return fx;
}
function runGrouped(core: Core): number {
  const ev = core.events;
  let fx = 0;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!, n = callSizes[i]!;
    ev.set(g);
    fx += core.stepRaw(n);
    if (core.status() !== 0 || core.consumed() !== n) refused(core, n, `grouped raw pass, call ${i}`);
  }
  return fx;
}
// The board's path since issue 12: a received message's recv events go through
// recv-path.ts runReceipts, a component's sends through send-path.ts runSends, passed-AT
// notifications and AT verdicts through Core.putPassedAt / putAtResult: event words into
// the events view, effects read in place (runSends copies them into reused arrays), no
// objects. Calls of any other shape go through submit(), as on the board.
const coreL = mixCore();
type LeanKind = "recv" | "send" | "passed" | "at" | null;
const leanKind: LeanKind[] = calls0.map((c) => {
  const e0 = c[0]!;
  if (c.length <= 2 && c.every((e) => e.type === "recv" && e.payload instanceof Uint8Array &&
    e.from === (c[0] as typeof e).from && e.peer === (c[0] as typeof e).peer && e.dirty === (c[0] as typeof e).dirty &&
    e.index === (c[0] as typeof e).index && (e.epoch ?? 0) === ((c[0] as typeof e).epoch ?? 0) && e.payload === (c[0] as typeof e).payload && !e.vec)) return "recv";
  // (the mix's sends give no step: runSends is told so; the board's give the payload's first u32)
  if (c.every((e) => e.type === "send" && e.payload instanceof Uint8Array && !e.port && e.step === undefined)) return "send";
  if (c.every((e) => e.type === "passed-at" && !e.P && !e.Q)) return "passed";
  if (c.length === 1 && e0.type === "at-result") return "at";
  return null;
});
const leanPids = calls0.map((c) => c.map((e) => (e as { pid: number }).pid));
const leanSnap = calls0.map((c) => c.map((e) => (e as { snapBytes?: number }).snapBytes ?? 0));
const leanOut: LeanRun = { put: 0, nfx: 0, done: 0, st: 0 };
const sendRun = newSendRun();
const leanShare = leanKind.filter(Boolean).length;
function runLeanPath(core: Core): number {
  let fx = 0;
  for (let i = 0; i < calls0.length; i++) {
    const c = calls0[i]!;
    const k = leanKind[i];
    if (k === "recv") {
      const e = c[0] as Extract<CoreEvent, { type: "recv" }>;
      const r = runReceipts(core, leanOut, leanPids[i]!, leanSnap[i]!, c.length, e.from, e.peer ?? 0, e.dirty, e.index, e.epoch ?? 0, undefined, e.payload as Uint8Array);
      if (r.put !== c.length || r.st !== 0 || r.done !== c.length) refused(core, c.length, `lean pass, call ${i}`);
      for (let j = 0; j < r.nfx; j++) sink += core.fxType(j) + core.fxWord(j, 1); // the board reads each effect's type and pid
      fx += r.nfx;
    } else if (k === "send") {
      // the board fills these per flush (board.ts flush)
      for (let j = 0; j < c.length; j++) {
        const e = c[j] as Extract<CoreEvent, { type: "send" }>;
        sendRun.pid[j] = e.pid; sendRun.kind[j] = KIND[e.to]; sendRun.wire[j] = e.peer ?? 0; sendRun.payload[j] = e.payload as Uint8Array;
      }
      for (let start = 0; start < c.length;) {
        const r = runSends(core, sendRun, start, c.length, false);
        if (r.put === 0 || r.st !== 0 || r.done === 0) refused(core, c.length, `lean pass, call ${i}`);
        for (let j = 0; j < r.nfx; j++) sink += r.type[j] + r.ev[j];
        fx += r.nfx;
        start += r.done;
      }
    } else if (k === "passed") {
      for (let j = 0; j < c.length; j++) {
        const e = c[j] as Extract<CoreEvent, { type: "passed-at" }>;
        core.putPassedAt(j, e.pid, e.v, e.vext ?? 0, e.epoch ?? 0);
      }
      const n = core.runLean(c.length);
      if (core.status() !== 0 || core.consumed() !== c.length) refused(core, c.length, `lean pass, call ${i}`);
      fx += n;
    } else if (k === "at") {
      const e = c[0] as Extract<CoreEvent, { type: "at-result" }>;
      core.putAtResult(0, e.pid, e.passed);
      const n = core.runLean(1);
      if (core.status() !== 0 || core.consumed() !== 1) refused(core, 1, `lean pass, call ${i}`);
      for (let j = 0; j < n; j++) sink += core.fxType(j) + core.fxWord(j, 1);
      fx += n;
    } else fx += core.submit(c).length;
  }
  return fx;
}
{
  const a = runSubmit(coreS), b = runGrouped(coreR), l = runLeanPath(coreL);
  if (a !== b) fail(`submit() and the raw path disagree: ${a} vs ${b} effects per pass`);
  if (a !== l) fail(`submit() and the lean path disagree: ${a} vs ${l} effects per pass`);
}
const SAMPLES = QUICK ? 5 : 201;
const nsSubmit: number[] = [], nsGrouped: number[] = [], nsLean: number[] = [], pairRatio: number[] = [], leanRatio: number[] = [];
const ORDERS = [[0, 1, 2], [2, 1, 0], [1, 2, 0], [0, 2, 1], [2, 0, 1], [1, 0, 2]];
for (let i = 0; i < SAMPLES + (QUICK ? 1 : 20); i++) {   // the first samples warm up
  const t: [number, number, number] = [0, 0, 0];
  for (const which of ORDERS[i % ORDERS.length]!) {
    const core = which === 2 ? coreL : which ? coreR : coreS;
    setup(core);
    const c0 = process.cpuUsage();
    sink += which === 2 ? runLeanPath(core) : which ? runGrouped(core) : runSubmit(core);
    const c = process.cpuUsage(c0);
    t[which] = (c.user + c.system) / 1000;
  }
  if (i < (QUICK ? 1 : 20)) continue;
  nsSubmit.push((t[0] * 1e6) / NA);
  nsGrouped.push((t[1] * 1e6) / NA);
  nsLean.push((t[2] * 1e6) / NA);
  pairRatio.push(t[0] / t[1]);
  leanRatio.push(t[2] / t[1]);
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const mn = (a: number[]) => Math.min(...a), mx = (a: number[]) => Math.max(...a);
const submitPath = {
  calls: calls0.length, eventsPerCall: NA / calls0.length, samples: SAMPLES,
  nsPerEventSubmit: { min: mn(nsSubmit), median: med(nsSubmit), max: mx(nsSubmit) },
  nsPerEventRaw: { min: mn(nsGrouped), median: med(nsGrouped), max: mx(nsGrouped) },
  ratio: { min: mn(pairRatio), median: med(pairRatio), max: mx(pairRatio) },
  leanCalls: leanShare,
  nsPerEventLean: { min: mn(nsLean), median: med(nsLean), max: mx(nsLean) },
  leanRatio: { min: mn(leanRatio), median: med(leanRatio), max: mx(leanRatio) },
};

// ---- b) checkpoint store / restore bandwidth -----------------------------------------------
const SIZES = [4 << 10, 64 << 10, 1 << 20];
const coreC = new Core();          // default config: 1 MiB checkpoint arena per process
coreC.setRole(L, "low");
SIZES.forEach((_, i) => coreC.setRole(1 + i, "ha"));
coreC.beginGuarded();
const storeViews: Uint8Array[] = [];
SIZES.forEach((size, i) => {
  const sent = coreC.submit([{ type: "send", pid: L, to: "act", peer: 1 + i }]);
  const h = sent.find((e) => e.type === "send");
  if (!h || h.type !== "send") return fail("no SEND effect");
  const fx = coreC.submit([{ ...recvFields(wire(coreC, h.header)), type: "recv", pid: 1 + i, from: "low", peer: L, snapBytes: size }]);
  const ck = fx.find((e) => e.type === "checkpoint");
  if (!ck || ck.type !== "checkpoint") return fail(`no CHECKPOINT effect for a ${size}-byte snapshot`);
  if (ck.snapshot.length !== size) fail(`checkpoint view is ${ck.snapshot.length} bytes, asked for ${size}`);
  storeViews.push(ck.snapshot);
});
const srcs = SIZES.map((s) => { const b = Buffer.alloc(s); for (let i = 0; i < s; i++) b[i] = (i * 131 + 7) & 0xff; return b; });
const dsts = SIZES.map((s) => Buffer.alloc(s));
SIZES.forEach((_, i) => storeViews[i]!.set(srcs[i]!));    // what the host stores before delivering
coreC.submit([{ type: "recover-begin" }]);
const rb = coreC.submit([{ type: "recover-apply", V: 0, Vext: 0, epoch: 1 }]);
const restoreViews: Uint8Array[] = SIZES.map((size, i) => {
  const r = rb.find((e) => e.type === "rollback" && e.pid === 1 + i);
  if (!r || r.type !== "rollback") return fail(`no ROLLBACK effect for pid ${1 + i}`);
  if (r.snapshot.length !== size) fail(`rollback view is ${r.snapshot.length} bytes, expected ${size}`);
  if (Buffer.compare(Buffer.from(r.snapshot.buffer, r.snapshot.byteOffset, size), srcs[i]!) !== 0) {
    fail(`rollback view of pid ${1 + i} does not hold the stored snapshot`);
  }
  return r.snapshot;
});

const benchB = new Bench({ name: "snapshots", ...budget(400, 80), throws: true });
const REP_BYTES = 1 << 20;   // copy ~1 MiB per sample, so timer overhead stays out of small sizes
const reps = SIZES.map((s) => Math.max(1, REP_BYTES / s));
SIZES.forEach((size, i) => {
  const src = srcs[i]!, dst = dsts[i]!, sv = storeViews[i]!, rv = restoreViews[i]!, n = reps[i]!;
  benchB.add(`store ${size}`, () => { for (let k = 0; k < n; k++) sv.set(src); });
  benchB.add(`restore ${size}`, () => { for (let k = 0; k < n; k++) dst.set(rv); });
  benchB.add(`Buffer.copy ${size}`, () => { for (let k = 0; k < n; k++) src.copy(dst); });
});
await benchB.run();
const gbps = (bytes: number, ms: number) => bytes / (ms * 1e6);
const snap = SIZES.map((size, i) => {
  const n = reps[i]!;
  const st = p50(benchB.getTask(`store ${size}`)) / n;
  const rs = p50(benchB.getTask(`restore ${size}`)) / n;
  const cp = p50(benchB.getTask(`Buffer.copy ${size}`)) / n;
  const storeGBs = gbps(size, st), restoreGBs = gbps(size, rs), copyGBs = gbps(size, cp);
  const bothGBs = gbps(2 * size, st + rs);
  return { size, storeGBs, restoreGBs, storeRestoreGBs: bothGBs, bufferCopyGBs: copyGBs, ratio: bothGBs / copyGBs };
});

// ---- c) fixed memory over 10^6 events (10^5 with --quick) --------------------------------------------------------
const TOTAL = QUICK ? 100_000 : 1_000_000;
const coreM = mixCore();
const fixedBytes = coreM.fixedBytes();
const mem0 = coreM.memoryBytes();
let memMin = mem0, memMax = mem0, heldMin = Infinity, heldMax = -Infinity, heldMaxEarly = -Infinity;
let fxTotal = 0, done = 0, peakSum = 0;
const scratch = new Uint32Array(pass0.length);
const tM = performance.now();
for (let j = 0; done < TOTAL; j++) {
  shift(pass0, scratch, j);
  let passFx = 0;
  for (let i = 0; i < N && done < TOTAL; i += BATCH) {
    const n = Math.min(BATCH, N - i, TOTAL - done);
    coreM.events.set(scratch.subarray(i * EVENT_WORDS, (i + n) * EVENT_WORDS));
    const k = coreM.stepRaw(n);
    if (coreM.status() !== 0 || coreM.consumed() !== n) refused(coreM, n, `${TOTAL}-event run, pass ${j}, event ${i}`);
    passFx += k;
    done += n;
    const mem = coreM.memoryBytes(), held = coreM.heldBytes();
    if (mem < memMin) memMin = mem;
    if (mem > memMax) memMax = mem;
    if (held < heldMin) heldMin = held;
    if (held > heldMax) heldMax = held;
    if (done <= TOTAL / 10 && held > heldMaxEarly) heldMaxEarly = held;
  }
  fxTotal += passFx;
  if (done % N === 0 && passFx !== fxPerPass) fail(`pass ${j} produced ${passFx} effects, pass 0 of the recording ${fxPerPass}`);
}
const msM = performance.now() - tM;
const heldFinal = coreM.heldBytes();
for (let p = 0; p < coreM.config.procs; p++) peakSum += coreM.q(p, "peak");
const memOk = memMin === mem0 && memMax === mem0;
const heldOk = heldFinal <= heldMaxEarly;

// ---- report -------------------------------------------------------------------------------
const KiB = (b: number) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(b % (1 << 20) ? 2 : 0)} MiB` : `${(b / 1024).toFixed(b % 1024 ? 1 : 0)} KiB`);
const perEvent = (k: string) => ((fxMix[k] ?? 0) / N).toFixed(3);
console.log(`\nGSU core bench (node ${process.version}, release build, rules ${coreB.rules}, default config)${QUICK ? "  --quick: smoke run, timings are not measurements" : ""}`);
console.log(`\na) decision cost: 1 low + 4 ha + 1 hs, ${NA} events per pass (${ROUNDS} rounds + commit), batches of ${BATCH}`);
console.log(`   mix per event: checkpoint ${perEvent("checkpoint")}, logged ${perEvent("logged")}, suppressed ${perEvent("suppressed")}, ` +
  `at-required ${perEvent("at-required")}, reclaim ${perEvent("reclaim")}, send ${perEvent("send")}, deliver ${perEvent("deliver")}`);
console.log(`   device messages per pass: ${fxMix["deliver-device"] ?? 0} delivered after a passed AT (${haAtsPerPass} of them an active process's), ` +
  `${fxMix["broadcast-passed"] ?? 0} "passed AT" broadcasts`);
console.log(`   effects per event            ${(fxPerPass / N).toFixed(2)}`);
console.log(`   batched   stepRaw(${BATCH})      ${nsBatched.toFixed(1).padStart(7)} ns/event (median)   goal <= 50 ns: ${(nsBatched / 50).toFixed(2)} x goal`);
console.log(`   one-by-one stepRaw(1)        ${nsSingle.toFixed(1).padStart(7)} ns/event (median)`);
console.log(`   one-by-one / batched         ${(nsSingle / nsBatched).toFixed(2).padStart(7)} x`);
console.log(`\na2) the runtime's ABI path: Core.submit with event objects, ${submitPath.calls} calls of 1-2 events (${submitPath.eventsPerCall.toFixed(2)} per call), effects decoded into objects;`);
console.log(`    next to the raw path with the same calls (stepRaw(1 or 2) on pre-encoded words); ${SAMPLES} interleaved samples of one pass each, CPU time, min / median / max`);
const f3 = (o: { min: number; median: number; max: number }, d = 1) => `${o.min.toFixed(d)} / ${o.median.toFixed(d)} / ${o.max.toFixed(d)}`;
console.log(`   submit (objects)             ${f3(submitPath.nsPerEventSubmit)} ns/event`);
console.log(`   raw, same calls              ${f3(submitPath.nsPerEventRaw)} ns/event`);
console.log(`   submit / raw, per sample     ${f3(submitPath.ratio, 2)} x`);
console.log(`   lean (the board's path now: ${submitPath.leanCalls} of ${submitPath.calls} calls as event words: receipts (recv-path.ts), sends (send-path.ts), passed ATs, AT verdicts; the rest submit)`);
console.log(`                                ${f3(submitPath.nsPerEventLean)} ns/event`);
console.log(`   lean / raw, per sample       ${f3(submitPath.leanRatio, 2)} x`);
console.log(`\nb) checkpoint copies on arena views from real CHECKPOINT/ROLLBACK effects (GB/s, median)`);
console.log(`   size       store  restore  store+restore  Buffer.copy  ratio (goal >= 0.9)`);
for (const s of snap) {
  console.log(`   ${KiB(s.size).padEnd(8)} ${s.storeGBs.toFixed(2).padStart(7)} ${s.restoreGBs.toFixed(2).padStart(8)} ${s.storeRestoreGBs.toFixed(2).padStart(14)} ${s.bufferCopyGBs.toFixed(2).padStart(12)} ${s.ratio.toFixed(2).padStart(7)}`);
}
console.log(`\nc) memory, default config (${coreM.config.procs} procs, ${coreM.config.ckptSlots} x ${KiB(coreM.config.ckptBytes)} checkpoints, ${coreM.config.logSlots} x ${KiB(coreM.config.logBytes)} per log)`);
console.log(`   fixedBytes ${fixedBytes} (${KiB(fixedBytes)}), memoryBytes ${mem0} (${KiB(mem0)})`);
console.log(`   ${done} events in ${Math.ceil(done / N)} passes (${(msM / 1000).toFixed(2)} s, ${(fxTotal / done).toFixed(2)} effects/event, ${C} cluster messages and ${fxMix.reclaim ?? 0} reclaims per pass)`);
console.log(`   memoryBytes min/max  ${memMin} / ${memMax}   ${memOk ? "constant" : "CHANGED"}`);
console.log(`   heldBytes   min/max  ${heldMin} / ${heldMax}; max in first 10% ${heldMaxEarly}; final ${heldFinal}   ${heldOk ? "bounded" : "GROWING"}`);
console.log(`   peak held (sum of per-process peaks) ${peakSum} bytes`);

const result = {
  when: new Date().toISOString(), node: process.version, tree: process.env.GSU_BENCH_TREE ?? "tsx", rules: coreB.rules, quick: QUICK,
  decision: {
    eventsPerPass: NA, batch: BATCH, nsPerEventBatched: nsBatched, nsPerEventOneByOne: nsSingle,
    ratioOneByOneToBatched: nsSingle / nsBatched, goalNsPerEvent: 50, effectsPerEvent: fxPerPass / N,
    mixPerPass: fxMix, activeAtsPerPass: haAtsPerPass,
  },
  submitPath,
  snapshots: snap.map((s) => ({ ...s, goalRatio: 0.9 })),
  memory: {
    config: coreM.config, fixedBytes, memoryBytes: mem0, events: done, memoryMin: memMin, memoryMax: memMax,
    heldMin, heldMax, heldMaxFirst10pct: heldMaxEarly, heldFinal, peakHeldSum: peakSum, memoryConstant: memOk, heldBounded: heldOk,
  },
  seconds: (performance.now() - t0) / 1000,
};
const outName = QUICK ? "core-quick.json" : "core.json";
// GSU_BENCH_RESULTS: the repo's bench-results/ when scripts/bench-compiled.ts runs this from a temp tree
const resultsDir = process.env.GSU_BENCH_RESULTS ?? fileURLToPath(new URL("../bench-results/", import.meta.url));
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, outName), `${JSON.stringify(result, null, 2)}\n`);
console.log(`\nwrote bench-results/${outName} in ${result.seconds.toFixed(1)} s${QUICK ? " (--quick: a smoke run, not a measurement)" : ""}`);
if (!memOk) fail(`memoryBytes changed over the run: ${memMin}..${memMax}, started at ${mem0}`);
if (!heldOk) fail(`heldBytes kept growing: final ${heldFinal} > ${heldMaxEarly}, the maximum over the first 10% of the run`);
