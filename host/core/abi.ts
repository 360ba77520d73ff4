// Mirror of assembly/constants.ts (test/abi.test.ts checks that the two agree).
// Nothing outside host/core/ should need these numbers.

export const RULES = { paper: 0, safe: 1, folded: 2 } as const;
export type Rules = keyof typeof RULES;

export const ROLE = { free: 0, low: 1, ha: 2, hs: 3, retired: 4 } as const;
export type Role = keyof typeof ROLE;
export const ROLE_NAME: Role[] = ["free", "low", "ha", "hs", "retired"];

export const KIND = { act: 1, low: 2, sdw: 3, device: 4 } as const;
export type Kind = keyof typeof KIND;
export const KIND_NAME: Record<number, Kind> = { 1: "act", 2: "low", 3: "sdw", 4: "device" };

export const EV = {
  SEND: 1, RECV: 2, PASSED_AT: 3, AT_RESULT: 4, COMPENSATED: 5,
  RECOVER_BEGIN: 6, RECOVER_APPLY: 7, COMMIT: 8, ABORT: 9,
} as const;
export const EW = {
  TYPE: 0, PID: 1, KIND: 2, PEER: 3, PORT: 4, PAY_OFF: 5, PAY_LEN: 6, DIRTY: 7, INDEX: 8,
  EPOCH: 9, SNAP: 10, V: 11, VEXT: 12, STEP: 13, VOFF: 14,
} as const;
export const EVENT_WORDS = 16;
export const EFFECT_WORDS = 16;

export const FX = {
  DELIVER: 1, DROP: 2, CHECKPOINT: 3, LOGGED: 4, SEND: 5, COUNTER: 6, SUPPRESSED: 7, AT_REQUIRED: 8,
  DELIVER_DEVICE: 9, BROADCAST_PASSED: 10, RECLAIM: 11, AT_FAILED: 12, BOUND: 13, ROLLBACK: 14,
  REPLAY: 15, RESEND: 16, SUPPRESS_NEXT: 17, RETIRE: 18, ROLE: 19, FREED: 20, REPLAY_DROPPED: 21,
  RECOVERED: 22, VOIDED: 23,
} as const;

export const DROP_REASON: Record<number, string> = {
  1: "stale-contaminated", 2: "to-retired", 3: "stale-notice",
};
export const LOG_NAME: Record<number, "in" | "int" | "ext"> = { 1: "in", 2: "int", 3: "ext" };
export const COUNTER_NAME = ["int_mSN_G^low", "int_mSN_G^high_sdw", "ext_mSN_G^high_sdw", "ext_mSN_G^low"] as const;
export const REASON = { fault: 1, abort: 2 } as const;

// Refusals: what went wrong, which field, and what to do.
export const STATUS: Record<number, { name: string; field: string; hint: string }> = {
  [-1]: { name: "E_UNKNOWN_EVENT", field: "type", hint: "use one of the EV codes" },
  [-2]: { name: "E_UNKNOWN_PID", field: "pid", hint: "it is not a hosted process; give it a role with setRole() first" },
  [-3]: { name: "E_RETIRED", field: "pid", hint: "the process was retired by a commit or a recovery; stop routing to it" },
  [-4]: { name: "E_BAD_KIND", field: "kind", hint: "use act, low, sdw or device" },
  [-5]: { name: "E_ROLE_SEND", field: "kind", hint: "this role cannot send to that kind of peer (a shadow never sends to the cluster; the cluster never sends to shadows; an active process addresses a cluster component as 'low' and the host fans it out to the shadow)" },
  [-6]: { name: "E_ROLE_RECV", field: "kind", hint: "this role cannot receive from that kind of peer (shadow outputs are suppressed; the cluster never talks to shadows)" },
  [-7]: { name: "E_PAYLOAD_RANGE", field: "payload", hint: "the payload does not fit the staging area; raise stageBytes or split the message" },
  [-8]: { name: "E_BAD_DIRTY", field: "dirty", hint: "the dirty bit is 0 or 1" },
  [-9]: { name: "E_CKPT_FULL", field: "snapshot", hint: "the checkpoint store is full: keep the message queued and end guarded operation early (docs/protocol.md, 'When memory runs out')" },
  [-10]: { name: "E_LOG_FULL", field: "payload", hint: "a message log is full: keep the message queued and end guarded operation early (docs/protocol.md, 'When memory runs out')" },
  [-11]: { name: "E_SNAPSHOT_TOO_BIG", field: "snapshot", hint: "the snapshot is larger than the whole checkpoint arena of one process; raise ckptBytes" },
  [-12]: { name: "E_AT_PENDING", field: "pid", hint: "this process already waits for an AT verdict; report it with an at-result event first" },
  [-13]: { name: "E_NO_PENDING_AT", field: "pid", hint: "no external message of this process waits for an AT verdict" },
  [-14]: { name: "E_RECOVERING", field: "type", hint: "a recovery round is open: queue the event and resubmit it after the recover-apply event" },
  [-15]: { name: "E_NOT_RECOVERING", field: "type", hint: "submit a recover-begin event first" },
  [-16]: { name: "E_BAD_BOUND", field: "V", hint: "V must be at least every bound this core reported in its BOUND effect" },
  [-17]: { name: "E_BAD_EPOCH", field: "epoch", hint: "a recover-apply event's epoch must be the current epoch + 1; a message's epoch must not be ahead of the receiver's" },
  [-18]: { name: "E_NOT_GUARDED", field: "type", hint: "no guarded operation is running; call beginGuarded() first" },
  [-19]: { name: "E_BAD_VERDICT", field: "passed", hint: "an AT verdict is true or false" },
  [-20]: { name: "E_BAD_ROLE", field: "role", hint: "use low, ha, hs or free" },
  [-21]: { name: "E_BAD_CONFIG", field: "config", hint: "check the init parameters" },
  [-22]: { name: "E_GUARDED", field: "role", hint: "roles change only between guarded operations: commit or abort first" },
  [-30]: { name: "E_HDR_EMPTY", field: "header", hint: "the frame has no header byte" },
  [-31]: { name: "E_HDR_KIND", field: "header.kind", hint: "kind 7 is unassigned; the sender speaks another protocol version" },
  [-32]: { name: "E_HDR_TRUNCATED", field: "header.index", hint: "the frame ends inside a varint; it was cut short" },
  [-33]: { name: "E_HDR_OVERFLOW", field: "header.index", hint: "a varint exceeds 32 bits" },
  [-34]: { name: "E_HDR_NONCANONICAL", field: "header.index", hint: "a varint is not in its shortest form" },
  [-35]: { name: "E_HDR_DIRTY", field: "header.dirty", hint: "only application messages carry the dirty bit" },
};

export const HK = { app: 0, passedAt: 1, begin: 2, bound: 3, apply: 4, counter: 5, control: 6 } as const;
export type HeaderKind = keyof typeof HK;
export const HK_NAME: HeaderKind[] = ["app", "passedAt", "begin", "bound", "apply", "counter", "control"];

export const Q = {
  role: 0, dirty: 1, prgt: 2, local: 3, iVR: 4, iVRext: 5, ckpts: 6, inLog: 7, outInt: 8, outExt: 9,
  held: 10, peak: 11, ckptsTaken: 12, logged: 13, atPassed: 14, atFailed: 15, rollbacks: 16,
  lastRollback: 17, replayed: 18, resent: 19, pendingAt: 20, fromShadow: 21, delivered: 22,
  extOut: 23, suppressDev: 24,
} as const;
export const G = {
  guarded: 0, recovering: 1, epoch: 2, low: 3, lowExt: 4, sdw: 5, sdwExt: 6, suppressInt: 7,
  suppressExt: 8, knownV: 9, knownVext: 10, lastV: 11, lastVext: 12, rules: 13, procs: 14,
} as const;
