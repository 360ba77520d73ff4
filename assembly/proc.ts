// Per-process protocol state. One record per hosted process, all allocated at init.
import { Ring } from "./ring";
import { ROLE_FREE } from "./constants";
import { VB } from "./vec";

@unmanaged
export class Proc {
  role: u32 = ROLE_FREE;
  dirty: u32 = 0;        // dirty bit: state potentially contaminated
  prgt: u32 = 0;         // prgt bit: "propagating" (Figure 3)
  lv: usize = 0;         // local copy of int_mSN_G^low: a vector over the members (vec.ts)
  iVR: u32 = 0;          // shadows: highest int_mSN_G^low validated by a passed AT
  iVRext: u32 = 0;       // shadows: the same for the cluster's device messages
  pendingAt: u32 = 0;    // an external message waits for its AT verdict
  atv: usize = 0;        // the bound (vector) of the state that produced it (what a pass validates)
  fromShadow: u32 = 0;   // an old version that took over (suppression applies)
  delivered: u32 = 0;    // messages handed to the application (rollback distance)
  extOut: u32 = 0;       // device messages this process has delivered (output commit)
  suppressDev: u32 = 0;  // after a rollback: regenerated device messages already delivered
  slot: u32 = 0;         // cluster member slot (1-based) during guarded operation, 0 otherwise;
                         // a shadow has its twin's slot
  cv: usize = 0;         // its causal vector (causal.ts), MAXM u32
  foldStep: u32 = 0;     // a member: step + 1 of its latest output (inputs of steps <= it are folded into cv)
  twin: u32 = 0;         // a shadow: its new version's pid + 1 (setTwin), 0 when not given
  wantSlot: u32 = 0;     // a member: the slot the host named (setSlot), 0 = the next free one
  sInt: u32 = 0;         // a shadow: its own suppressed outputs to G_act (per-member numbering)
  sExt: u32 = 0;         // a shadow: its own suppressed device outputs
  supInt: u32 = 0;       // after takeover: this process's G_act outputs still to suppress
  supExt: u32 = 0;       // after takeover: its device outputs still to suppress
  // statistics, for telemetry and the rehearsal report
  ckptsTaken: u32 = 0;
  logged: u32 = 0;
  atPassed: u32 = 0;
  atFailed: u32 = 0;
  rollbacks: u32 = 0;
  lastRollback: u32 = 0;
  replayed: u32 = 0;
  resent: u32 = 0;
  ckpts: Ring = changetype<Ring>(0);
  inLog: Ring = changetype<Ring>(0);  // receiver-side log
  outInt: Ring = changetype<Ring>(0); // shadow: suppressed messages to G_act
  outExt: Ring = changetype<Ring>(0); // shadow: suppressed messages to devices

  static create(ckptRecs: u32, ckptBytes: u32, logRecs: u32, logBytes: u32): Proc {
    const p = changetype<Proc>(heap.alloc(offsetof<Proc>()));
    memory.fill(changetype<usize>(p), 0, offsetof<Proc>());
    p.lv = heap.alloc(VB);
    p.atv = heap.alloc(VB);
    memory.fill(p.lv, 0, VB);
    memory.fill(p.atv, 0, VB);
    // a checkpoint keeps its index c and (folded) c2; a receiver-log entry its message's index
    p.ckpts = Ring.create(ckptRecs, ckptBytes, 2);
    p.inLog = Ring.create(logRecs, logBytes, 1);
    p.outInt = Ring.create(logRecs, logBytes);
    p.outExt = Ring.create(logRecs, logBytes);
    return p;
  }

  // Bytes of protocol memory this process holds now.
  @inline held(): u32 {
    return this.ckpts.used + this.inLog.used + this.outInt.used + this.outExt.used;
  }

  // Frees every checkpoint and log entry; returns the bytes released.
  freeAll(): u32 {
    return this.ckpts.clear() + this.inLog.clear() + this.outInt.clear() + this.outExt.clear();
  }

  resetCounters(): void {
    this.dirty = 0; this.prgt = 0; this.iVR = 0; this.iVRext = 0;
    memory.fill(this.lv, 0, VB);
    this.pendingAt = 0; this.sInt = 0; this.sExt = 0;
  }
}
