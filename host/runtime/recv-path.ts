// The lean per-message receive path (issue 12): a received application message's recv
// events go straight into the core's events view (Core.putRecv), one run, and the board
// reads the effects in place (Core.fxType / fxWord) - no event or effect objects, no
// closures, no arrays per message. The frame's fields were validated where the frame was
// decoded (frame.ts, the link boundary). Rare outcomes (a refusal, a full store, a
// payload too large for the staging area) fall back to Core.submit's objects.
import { Core } from "../core/core.ts";
import { KIND, type Kind } from "../core/abi.ts";
import { stepOf } from "./board-types.ts";

/** What one lean run did; one object per board, reused for every message. */
export interface LeanRun {
  /** events written (< the targets' count: the staging area was full; nothing ran) */
  put: number;
  /** effects written by the run, read in place */
  nfx: number;
  /** events the core consumed, and its status (< 0: event `done` was refused) */
  done: number;
  st: number;
}

/** Writes one recv event per target and runs them. `snap[i]` is target i's snapshot size. */
export function runReceipts(core: Core, out: LeanRun, pids: readonly number[], snap: readonly number[], n: number,
  from: Kind, peer: number, dirty: number, index: number, epoch: number, vec: readonly number[] | undefined,
  payload: Uint8Array): LeanRun {
  const kind = KIND[from];
  const step = stepOf(payload) ?? -1;
  let stageOff = 0, put = 0;
  if (n <= core.evCap) {
    for (; put < n; put++) {
      const used = core.putRecv(put, stageOff, pids[put], kind, peer, dirty, index, epoch, snap[put], payload, step, vec);
      if (used < 0) break;
      stageOff += used;
    }
  }
  out.put = put;
  if (put < n) { out.nfx = 0; out.done = 0; out.st = 0; return out; }
  out.nfx = core.runLean(n);
  out.done = core.consumed();
  out.st = core.status();
  return out;
}
