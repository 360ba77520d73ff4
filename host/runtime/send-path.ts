// The lean per-message send path (issue 12), the counterpart of recv-path.ts: the sends a
// component's outputs make go straight into the core's events view (Core.putSend), one run
// per stretch that ends at a device send (its AT verdict must come before the next run:
// docs/protocol.md "Several device messages in one step"), and the run's effects are
// copied out of the core's buffer into reused arrays: no event or effect objects. They are
// copied, not read in place, because carrying one out may call the core again (an AT
// verdict, a local passed AT, an encoded header). Rare outcomes (a refusal, a full store,
// a payload larger than the staging area) are the board's, through Core.submit's objects.
import { Core, VECTOR_MAX } from "../core/core.ts";
import { FX, KIND } from "../core/abi.ts";
import { stepOf } from "./board-types.ts";

/** The pending sends of one flush (index k) and what the last run did; one per board, reused. */
export interface SendRun {
  /** the sends: process, kind of receiver (abi KIND), wire, payload */
  pid: number[]; kind: number[]; wire: number[]; payload: Uint8Array[];
  /** events written by the last run (0: the first send's payload exceeds the staging area; nothing ran) */
  put: number;
  /** effects of the last run, copied out: type (abi FX), its event (send k = start + ev), words 3..5, a SEND's vector */
  nfx: number; type: number[]; ev: number[]; w3: number[]; w4: number[]; w5: number[]; vec: (number[] | undefined)[];
  /** the arrays vec[i] points into, one per effect slot, reused (VECTOR_MAX components; wide() reads them as fxVec's) */
  vecBuf: number[][];
  /** events the core consumed, and its status (< 0: send start + done was refused) */
  done: number; st: number;
}

export function newSendRun(): SendRun {
  return { pid: [], kind: [], wire: [], payload: [], put: 0, nfx: 0, type: [], ev: [], w3: [], w4: [], w5: [], vec: [], vecBuf: [], done: 0, st: 0 };
}

/**
 * Writes the sends start.. (up to n, at most the core's batch, through the first device
 * send) and runs them; the effects land in `r`. A send's step is its payload's first u32,
 * as the board's messages carry it (`steps` false: none given, as bench:core's mix).
 */
export function runSends(core: Core, r: SendRun, start: number, n: number, steps = true): SendRun {
  let stageOff = 0, put = 0;
  while (start + put < n && put < core.evCap) {
    const k = start + put;
    const p = r.payload[k];
    const step = steps ? stepOf(p) ?? -1 : -1;
    const used = core.putSend(put, stageOff, r.pid[k], r.kind[k], r.wire[k], p, step);
    if (used < 0) break;
    stageOff += used;
    put++;
    if (r.kind[k] === KIND.device) break;
  }
  r.put = put;
  if (put === 0) { r.nfx = 0; r.done = 0; r.st = 0; return r; }
  const nfx = core.runLean(put);
  for (let i = 0; i < nfx; i++) {
    const t = core.fxType(i);
    r.type[i] = t; r.ev[i] = core.fxWord(i, 2); r.w3[i] = core.fxWord(i, 3); r.w4[i] = core.fxWord(i, 4); r.w5[i] = core.fxWord(i, 5);
    const vb = t === FX.SEND ? r.vecBuf[i] ?? (r.vecBuf[i] = new Array<number>(VECTOR_MAX).fill(0)) : undefined;
    r.vec[i] = vb && core.fxVecInto(i, 6, vb) ? vb : undefined;
  }
  r.nfx = nfx;
  r.done = core.consumed();
  r.st = core.status();
  return r;
}
