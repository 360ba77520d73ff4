// Causal validation (docs/protocol.md, "Causal validation" and "Members on several
// boards"). The paper lets a cluster member's passed AT validate every cluster
// message up to the shared int_mSN_G^low at send time. With several members that run
// at different steps (pipelining), that covers messages another member sent which the
// tested output never depended on: a faulty message gets validated and reaches a device.
//
// Here each member j numbers its own messages to G_act (cntInt[j]: its k-th has index
// (j, k)) and a pass validates exactly the cluster messages in the causal past of the
// tested output. Every member keeps a vector over the members: cv[j] = the highest k of
// member j's messages to G_act that happened before the member's current state. It learns
//   - its own sends to G_act (cv[self] = k),
//   - a message from another member: the sender's vector at send time, which the message
//     carries (the sender may be on another board),
// both under-approximations of what the member's output depends on. A message from G_act
// teaches nothing: its index is the sender's local vector, the highest it has received,
// including inputs it holds for later steps, so it over-approximates. A member's messages
// are totally ordered by its own execution, so the causal past restricted to member j is
// the prefix 1..cv[j]: the vector is exactly what a pass validates (P = knownV ⊔ cv).
// Every component has one owner: member j's counters, vector and step buffer live on the
// board that hosts it; other boards learn components only by joins.
//
// Per-member numbering of the shadows: member j's k-th output to G_act is the twin of its
// shadow's k-th (the clustering assumption: sources and ordering of G_act traffic are
// unchanged per component), so a shadow resends above and suppresses up to V[j], its own
// component of the recovery bound; the same for device messages.
import { Proc } from "./proc";

export const MAXM: u32 = 16;     // cluster members one guarded operation supports
const PN: u32 = 8;               // per member: inputs of later steps than its latest output, held apart
const PREC: u32 = (1 + MAXM) * 4;
const PSLOT: u32 = 4 + PN * PREC;

let cvBase: usize = 0;
let cntInt: usize = 0;   // per member slot hosted here: its sends to G_act so far (N_j)
let cntExt: usize = 0;   // per member slot hosted here: its device messages that passed their AT (E_j)
let pend: usize = 0;     // per member slot: count u32, then PN records (step + 1, vector)
export let members: u32 = 0; // the highest slot given

/** Bytes causalInit allocates (init sizes memory with it). */
export function causalBytes(procs: u32): u32 { return procs * MAXM * 4 + 2 * MAXM * 4 + MAXM * PSLOT + 160; }

export function causalInit(procs: u32): void {
  cvBase = heap.alloc(<usize>procs * MAXM * 4);
  memory.fill(cvBase, 0, <usize>procs * MAXM * 4);
  cntInt = heap.alloc(<usize>MAXM * 4);
  cntExt = heap.alloc(<usize>MAXM * 4);
  pend = heap.alloc(<usize>MAXM * PSLOT);
}

// @ts-ignore: decorator
@inline function cvOf(pid: u32): usize { return cvBase + <usize>pid * MAXM * 4; }

/** Clears every vector and counter; the caller then gives each member a slot. */
export function causalReset(procs: u32): void {
  memory.fill(cvBase, 0, <usize>procs * MAXM * 4);
  memory.fill(cntInt, 0, <usize>MAXM * 4);
  memory.fill(cntExt, 0, <usize>MAXM * 4);
  memory.fill(pend, 0, <usize>MAXM * PSLOT);
  members = 0;
}

/**
 * Gives a cluster member its slot s (1-based): the one the host named (setSlot: the
 * member's position in the plan's cluster list, the same on every board), or the lowest
 * free one (beginGuarded chooses it). False when the slot is out of range.
 */
export function assignSlot(p: Proc, pid: u32, s: u32): bool {
  if (s > MAXM) return false;
  p.slot = s;
  if (s > members) members = s;
  p.foldStep = 0;
  p.cv = cvOf(pid);
  return true;
}

/** Per-member numbering of the shadows applies (every rule set but the printed one). */
export function perMember(rulesPaper: bool): bool { return !rulesPaper; }

/** Member slot s (1-based)'s count of its messages to G_act (N_s), on the board that hosts it. */
export function sentOf(slot: u32): u32 { return slot == 0 ? 0 : load<u32>(cntInt + <usize>(slot - 1) * 4); }
/** Member slot s's count of its device messages that passed their AT (E_s). */
export function passedOf(slot: u32): u32 { return slot == 0 ? 0 : load<u32>(cntExt + <usize>(slot - 1) * 4); }

/** A member's device message passed its AT: E_j + 1; returns it. */
export function notePass(p: Proc): u32 {
  const a = cntExt + <usize>(p.slot - 1) * 4;
  const e = load<u32>(a) + 1;
  store<u32>(a, e);
  return e;
}

/** A member sends to G_act: N_j + 1 is the message's index k (cv[self] = k); returns k. */
export function noteActSend(p: Proc): u32 {
  const c = cntInt + <usize>(p.slot - 1) * 4;
  const k = load<u32>(c) + 1;
  store<u32>(c, k);
  store<u32>(p.cv + <usize>(p.slot - 1) * 4, k);
  return k;
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


/** A member received another member's message carrying the sender's vector v, of step step1 - 1. */
export function mergeLink(p: Proc, v: usize, step1: u32): void {
  if (p.slot == 0) return;
  learn(p, v, step1);
}

/** cv[j] of a process (tests and inspection); 0 for a process with no vector. */
export function cvAt(p: Proc, j: u32): u32 {
  if (p.cv == 0 || j >= MAXM) return 0;
  return load<u32>(p.cv + <usize>j * 4);
}
