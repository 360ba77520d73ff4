// The core's global state: configuration, the process table, the shared
// counters, and the event/effect buffers shared with the host.
import { Proc } from "./proc";
import { causalInit } from "./causal";
import { EFFECT_WORDS, EVENT_WORDS, ROLE_FREE, ROLE_RETIRED } from "./constants";
import { VB, vCopy, vecFxInit, vecFxReset, vecScratchInit, vJoin, vZero } from "./vec";

export let rules: u32 = 1;
export let maxProcs: u32 = 0;
export let procTable: usize = 0;      // maxProcs pointers to Proc

export let evBuf: usize = 0;
export let evCap: u32 = 0;
export let fxBuf: usize = 0;
export let fxCap: u32 = 0;
export let fxCount: u32 = 0;
export let stage: usize = 0;          // payload staging area the host writes into
export let stageCap: u32 = 0;
export let scratch: usize = 0;        // codec output
export let heapEnd: usize = 0;

// guarded operation
export let guarded: u32 = 0;
export let recovering: u32 = 0;
export let epoch: u32 = 0;
export let lastV: usize = 0;          // V of the last recovery (a vector), classifies messages in flight across it
export let lastVext: usize = 0;
// The cluster's counters are per member (causal.ts cntInt, cntExt: docs/protocol.md point 4);
// these totals are for telemetry only.
export let lowCounter: u32 = 0;       // messages this core's members sent to G_act
export let lowExt: u32 = 0;           // this core's members' device messages that passed their AT
export let sdwCounter: u32 = 0;       // int_mSN_G^high_sdw
export let sdwExt: u32 = 0;           // the shadows' suppressed device messages
export let suppressInt: u32 = 0;      // after takeover: G_act outputs still to suppress
export let suppressExt: u32 = 0;
export let knownV: usize = 0;         // join of the int bounds of every passed AT this core has seen (a vector)
export let knownVext: usize = 0;
export let outSeq: u32 = 0;           // orders shadow outputs across both logs and all shadows

export function setRules(r: u32): void { rules = r; }
export function setGuarded(g: u32): void { guarded = g; }
export function setRecovering(r: u32): void { recovering = r; }
export function setEpoch(e: u32): void { epoch = e; }
export function setLast(v: usize, ve: usize): void { vCopy(lastV, v); vCopy(lastVext, ve); }
export function bumpLow(): u32 { return ++lowCounter; }
export function bumpLowExt(): u32 { return ++lowExt; }
export function bumpSdw(): u32 { return ++sdwCounter; }
export function bumpSdwExt(): u32 { return ++sdwExt; }
export function setSdw(i: u32, e: u32): void { sdwCounter = i; sdwExt = e; }
export function setSuppress(i: u32, e: u32): void { suppressInt = i; suppressExt = e; }
export function takeSuppressInt(): bool { if (suppressInt == 0) return false; suppressInt--; return true; }
export function takeSuppressExt(): bool { if (suppressExt == 0) return false; suppressExt--; return true; }
export function noteKnown(v: usize, ve: usize): void { vJoin(knownV, v); vJoin(knownVext, ve); }
export function nextOutSeq(): u32 { return outSeq++; }
export function resetCounters(): void {
  lowCounter = 0; lowExt = 0; sdwCounter = 0; sdwExt = 0; vZero(knownV); vZero(knownVext);
}

export function init(r: u32, procs: u32, events: u32, stageBytes: u32, effects: u32,
                     ckptRecs: u32, ckptBytes: u32, logRecs: u32, logBytes: u32): void {
  rules = r;
  maxProcs = procs;
  procTable = heap.alloc(<usize>procs * sizeof<usize>());
  for (let i: u32 = 0; i < procs; i++) {
    store<usize>(procTable + <usize>i * sizeof<usize>(),
      changetype<usize>(Proc.create(ckptRecs, ckptBytes, logRecs, logBytes)));
  }
  evCap = events;
  evBuf = heap.alloc(<usize>events * EVENT_WORDS * 4);
  fxCap = effects;
  fxBuf = heap.alloc(<usize>effects * EFFECT_WORDS * 4);
  stageCap = stageBytes;
  stage = heap.alloc(<usize>stageBytes);
  scratch = heap.alloc(64);
  knownV = heap.alloc(VB); knownVext = heap.alloc(VB); lastV = heap.alloc(VB); lastVext = heap.alloc(VB);
  vZero(knownV); vZero(knownVext); vZero(lastV); vZero(lastVext);
  vecFxInit(4 * events + 8);
  vecScratchInit();
  causalInit(procs);
  heapEnd = heap.alloc(8);
}

// @ts-ignore: decorator
@inline export function procAt(pid: u32): Proc {
  return changetype<Proc>(load<usize>(procTable + <usize>pid * sizeof<usize>()));
}

// The process for pid, or null when pid is out of range or unused.
export function lookup(pid: u32): Proc | null {
  if (pid >= maxProcs) return null;
  const p = procAt(pid);
  return p.role == ROLE_FREE ? null : p;
}

export function isLive(p: Proc): bool { return p.role != ROLE_FREE && p.role != ROLE_RETIRED; }

// ---- effects ---------------------------------------------------------------
export function fxRoom(): u32 { return fxCap - fxCount; }
export function beginBatch(): void { fxCount = 0; vecFxReset(); }

export function emit(type: u32, a: u32 = 0, b: u32 = 0, c: u32 = 0, d: u32 = 0,
                     e: u32 = 0, f: u32 = 0, g: u32 = 0, h: u32 = 0): void {
  // The step loop reserves room before each event, so this cannot overflow.
  assert(fxCount < fxCap, "effect buffer overflow: room check missed");
  const at = fxBuf + <usize>fxCount * EFFECT_WORDS * 4;
  store<u32>(at, type, 0);
  store<u32>(at, a, 4); store<u32>(at, b, 8); store<u32>(at, c, 12); store<u32>(at, d, 16);
  store<u32>(at, e, 20); store<u32>(at, f, 24); store<u32>(at, g, 28); store<u32>(at, h, 32);
  fxCount++;
}
