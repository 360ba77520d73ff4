// Causal validation (docs/protocol.md, "Causal validation"). The paper lets a
// cluster member's passed AT validate every cluster message up to the shared
// int_mSN_G^low at send time. With several members that run at different steps
// (pipelining), that covers messages another member sent which the tested output
// never depended on: a faulty message gets validated and reaches a device.
//
// Here a pass validates only cluster messages in the causal past of the tested
// output. Every cluster member keeps a vector over the members: cv[j] = the
// highest int_mSN_G^low index sent by member j (to G_act) that happened before
// the member's current state. It learns
//   - its own sends to G_act (cv[self] = the new index),
//   - a message from another member: the sender's vector at send time (kept here,
//     in a ring of link snapshots; the header carries the snapshot's number),
// Each is an under-approximation of what the member's output depends on, so a pass
// validates at most that. A message from G_act teaches nothing: its index is the
// sender's local int_mSN_G^low, the highest index it has received, including inputs
// it holds for later steps, so it over-approximates. The indexes stay one sequence (the shadows'
// renumbering, checkpoints and V keep their scalar form): a pass validates the
// longest prefix 1..v of that sequence whose every index is in the causal past,
// or already validated (<= knownV). Prefixes of validated sets are validated, and
// the union of prefixes is a prefix, so V stays "everything <= V is validated".
// The cluster is co-located (point 4), so all of this is local memory: nothing
// new travels on a link.
import { Proc } from "./proc";

export const MAXM: u32 = 16;     // cluster members one guarded operation supports
const HN: u32 = 1024;            // send records kept (indexes above knownV that a pass can still validate)
const LN: u32 = 256;             // link snapshots kept (cluster-internal messages in flight)
const HREC: u32 = 4;               // a send record: the sending member's slot
const LREC: u32 = MAXM * 4;
const PN: u32 = 8;               // per member: inputs of later steps than its latest output, held apart
const PREC: u32 = (1 + MAXM) * 4;
const PSLOT: u32 = 4 + PN * PREC;

let cvBase: usize = 0;
let atCntBase: usize = 0;
let cntInt: usize = 0;   // per member: its sends to G_act so far
let cntExt: usize = 0;   // per member: its device messages that passed their AT so far
let knownCnt: usize = 0; // per member: its sends with index <= knownV (what V_j is at recovery)
let knownExt: usize = 0; // per member: its passed device messages at the latest pass
let hist: usize = 0;
let link: usize = 0;
let pend: usize = 0;     // per member slot: count u32, then PN records (step + 1, vector)
let tmp: usize = 0;      // one vector of scratch
let linkSeq: u32 = 0;
export let members: u32 = 0;

/** Bytes causalInit allocates (init sizes memory with it). */
export function causalBytes(procs: u32): u32 { return 2 * procs * MAXM * 4 + HN * HREC + LN * LREC + 5 * MAXM * 4 + MAXM * PSLOT + 160; }

export function causalInit(procs: u32): void {
  cvBase = heap.alloc(<usize>procs * MAXM * 4);
  memory.fill(cvBase, 0, <usize>procs * MAXM * 4);
  atCntBase = heap.alloc(<usize>procs * MAXM * 4);
  hist = heap.alloc(<usize>HN * HREC);
  link = heap.alloc(<usize>LN * LREC);
  cntInt = heap.alloc(<usize>MAXM * 4);
  cntExt = heap.alloc(<usize>MAXM * 4);
  knownCnt = heap.alloc(<usize>MAXM * 4);
  knownExt = heap.alloc(<usize>MAXM * 4);
  pend = heap.alloc(<usize>MAXM * PSLOT);
  tmp = heap.alloc(<usize>MAXM * 4);
}

// @ts-ignore: decorator
@inline function cvOf(pid: u32): usize { return cvBase + <usize>pid * MAXM * 4; }

/** Clears every vector; the caller then gives each member a slot. */
export function causalReset(procs: u32): void {
  memory.fill(cvBase, 0, <usize>procs * MAXM * 4);
  memory.fill(atCntBase, 0, <usize>procs * MAXM * 4);
  memory.fill(cntInt, 0, <usize>MAXM * 4);
  memory.fill(cntExt, 0, <usize>MAXM * 4);
  memory.fill(knownCnt, 0, <usize>MAXM * 4);
  memory.fill(knownExt, 0, <usize>MAXM * 4);
  memory.fill(pend, 0, <usize>MAXM * PSLOT);
  linkSeq = 0;
  members = 0;
  mapLost = 0;
}

/** A slot for a cluster member (1-based in p.slot); false when MAXM are taken. */
export function assignSlot(p: Proc, pid: u32): bool {
  if (members >= MAXM) return false;
  p.slot = ++members;
  p.foldStep = 0;
  p.cv = cvOf(pid);
  p.atCnt = atCntBase + <usize>pid * MAXM * 4;
  return true;
}

// ---- per-member numbering of the shadows' outputs -------------------------------
// The paper numbers the cluster's and the shadows' outputs to G_act with one
// shared counter each and assumes both count the same sequence. With several
// G_act-facing members that run at different paces, the new and the old versions
// interleave their members' outputs differently, and a shadow that rolls back
// resets the shared counter under the others (the "inexact" renumbering). Here
// each member j's k-th output to G_act is the twin of its shadow's k-th (the
// clustering assumption: sources and ordering of G_act traffic are unchanged):
// V becomes V_j = member j's sends with index <= V, which the pass that fixed V
// recorded (knownCnt), and each shadow resends above and suppresses up to its own
// V_j. The same for device messages.

/** Per-member numbering applies: a cluster of several members (with one, it is the shared numbering). */
export function perMember(rulesPaper: bool): bool { return !rulesPaper && members > 1; }

/** Member slot s (1-based)'s count of sends to G_act with index <= V, as recorded at the pass. */
export function knownIntOf(slot: u32): u32 { return slot == 0 ? 0 : load<u32>(knownCnt + <usize>(slot - 1) * 4); }
/** Member slot s's device messages that passed their AT. */
export function knownExtOf(slot: u32): u32 { return slot == 0 ? 0 : load<u32>(knownExt + <usize>(slot - 1) * 4); }

/** At at-required: p.atCnt = every member's count of sends with index <= bound. */
export function countsAt(p: Proc, bound: u32, knownV: u32, lowCounter: u32): void {
  if (bound <= knownV) { memory.copy(p.atCnt, knownCnt, <usize>MAXM * 4); return; }
  // bound > knownV: prefixBound only returns bounds whose records (bound, lowCounter] are kept.
  memory.copy(p.atCnt, cntInt, <usize>MAXM * 4);
  for (let i = bound + 1; i <= lowCounter; i++) {
    const m = load<u32>(hist + <usize>(i % HN) * HREC);
    const a = p.atCnt + <usize>m * 4;
    store<u32>(a, load<u32>(a) - 1);
  }
}

/** Set when a bound arrived that this core cannot map to its members (recovery reports it inexact). */
export let mapLost: u32 = 0;

/**
 * A "passed AT"(v, vext) from elsewhere raises the known bounds: record the members'
 * counts at v (from the send records) and at vext. Only this core's cluster makes
 * such bounds, so they map; one that does not (older than the records, or above what
 * the cluster sent) is noted in mapLost.
 */
export function learnBound(v: u32, vext: u32, knownV: u32, knownVext: u32, lowCounter: u32, lowExt: u32): void {
  if (v > knownV) {
    if (v > lowCounter || lowCounter - v >= HN) mapLost = 1;
    else {
      memory.copy(knownCnt, cntInt, <usize>MAXM * 4);
      for (let i = v + 1; i <= lowCounter; i++) {
        const a = knownCnt + <usize>load<u32>(hist + <usize>(i % HN) * HREC) * 4;
        store<u32>(a, load<u32>(a) - 1);
      }
    }
  }
  if (vext > knownVext) {
    if (vext == lowExt) memory.copy(knownExt, cntExt, <usize>MAXM * 4);
    else mapLost = 1;
  }
}

/** A member's device message passed its AT with bound p.atBound; knownV is the bound before. */
export function notePass(p: Proc, knownVBefore: u32): void {
  const a = cntExt + <usize>(p.slot - 1) * 4;
  store<u32>(a, load<u32>(a) + 1);
  memory.copy(knownExt, cntExt, <usize>MAXM * 4);
  if (p.atBound >= knownVBefore) memory.copy(knownCnt, p.atCnt, <usize>MAXM * 4);
}

/** A member sent index idx to G_act. */
export function noteActSend(p: Proc, idx: u32): void {
  store<u32>(p.cv + <usize>(p.slot - 1) * 4, idx);
  const c = cntInt + <usize>(p.slot - 1) * 4;
  store<u32>(c, load<u32>(c) + 1);
  store<u32>(hist + <usize>(idx % HN) * HREC, p.slot - 1);
}

/** A member sends to another member: returns the snapshot number for the header. */
export function noteLinkSend(p: Proc): u32 {
  const seq = ++linkSeq;
  memory.copy(link + <usize>(seq % LN) * LREC, p.cv, <usize>MAXM * 4);
  return seq;
}

function mergeFrom(p: Proc, v: usize): void {
  for (let j: u32 = 0; j < MAXM; j++) {
    const x = load<u32>(v + <usize>j * 4);
    if (x > load<u32>(p.cv + <usize>j * 4)) store<u32>(p.cv + <usize>j * 4, x);
  }
}

function maxInto(dst: usize, src: usize): void {
  for (let j: u32 = 0; j < MAXM; j++) {
    const x = load<u32>(src + <usize>j * 4);
    if (x > load<u32>(dst + <usize>j * 4)) store<u32>(dst + <usize>j * 4, x);
  }
}

// Steps. A message belongs to an application step (the component ABI puts it in the
// message's first u32; the host passes step + 1, 0 when unknown). A component that
// joins its inputs computes step k from the step-k inputs and its state from earlier
// steps, so its output of step k depends on inputs of steps <= k only, even when it
// already holds (buffers) an input of step k+1. A member therefore keeps what an input
// of a later step than its latest output taught it apart (pend), and folds it into cv
// when it outputs that step. Unknown steps fold at once (consumed on delivery).
function learn(p: Proc, v: usize, step1: u32): void {
  if (step1 == 0 || step1 <= p.foldStep) { mergeFrom(p, v); return; }
  const base = pend + <usize>(p.slot - 1) * PSLOT;
  const n = load<u32>(base);
  for (let i: u32 = 0; i < n; i++) {
    const r = base + 4 + <usize>i * PREC;
    if (load<u32>(r) == step1) { maxInto(r + 4, v); return; }
  }
  if (n < PN) {
    const r = base + 4 + <usize>n * PREC;
    store<u32>(r, step1);
    memory.copy(r + 4, v, <usize>MAXM * 4);
    store<u32>(base, n + 1);
    return;
  }
  // Full: join it to the record of the latest step, at the later of the two steps: it is
  // folded later than it could be (validates less, never more).
  let hi: u32 = 0;
  for (let i: u32 = 1; i < n; i++) if (load<u32>(base + 4 + <usize>i * PREC) > load<u32>(base + 4 + <usize>hi * PREC)) hi = i;
  const r = base + 4 + <usize>hi * PREC;
  if (step1 > load<u32>(r)) store<u32>(r, step1);
  maxInto(r + 4, v);
}

/** A member outputs a message of step step1 - 1: fold in what its inputs of steps <= it taught. */
export function stepOut(p: Proc, step1: u32): void {
  if (step1 == 0 || p.slot == 0) return; // unknown step: fold nothing more (validates less)
  if (step1 > p.foldStep) p.foldStep = step1;
  const base = pend + <usize>(p.slot - 1) * PSLOT;
  let n = load<u32>(base);
  let i: u32 = 0;
  while (i < n) {
    const r = base + 4 + <usize>i * PREC;
    if (load<u32>(r) <= step1) {
      mergeFrom(p, r + 4);
      n--;
      if (i < n) memory.copy(r, base + 4 + <usize>n * PREC, <usize>PREC);
    } else i++;
  }
  store<u32>(base, n);
}

/** A member received another member's message carrying snapshot `seq`, of step step1 - 1. */
export function mergeLink(p: Proc, seq: u32, step1: u32): void {
  // Older than the ring: its vector is gone, learn nothing (under-approximation).
  if (seq == 0 || seq > linkSeq || linkSeq - seq >= LN) return;
  learn(p, link + <usize>(seq % LN) * LREC, step1);
}

/** The longest prefix 1..v of the cluster's G_act sends that p's state causally depends on, or already validated. */
export function prefixBound(p: Proc, knownV: u32, lowCounter: u32): u32 {
  let v = knownV;
  for (let i = knownV + 1; i <= lowCounter; i++) {
    if (lowCounter - i >= HN) break; // its record is gone: stop (validate less, never more)
    const rec = hist + <usize>(i % HN) * HREC;
    const m = load<u32>(rec);
    if (i > load<u32>(p.cv + <usize>m * 4)) break;
    v = i;
  }
  return v;
}

/** cv[j] of a process (tests and inspection); 0 for a process with no vector. */
export function cvAt(p: Proc, j: u32): u32 {
  if (p.cv == 0 || j >= MAXM) return 0;
  return load<u32>(p.cv + <usize>j * 4);
}
