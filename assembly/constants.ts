// Every numeric code the core exchanges with its host. The TypeScript facade
// (host/core/abi.ts) mirrors this file; keep the two in step.

// ---- rule sets -------------------------------------------------------------
export const RULES_PAPER: u32 = 0; // Figures 2-4 as printed
export const RULES_SAFE: u32 = 1;  // with the fixes recorded in docs/protocol.md
// The notes' second candidate for gap 1: the printed checkpoint rule, prefix
// reclamation by each checkpoint's highest folded index, and the gap-2 logging.
export const RULES_FOLDED: u32 = 2;

// ---- roles -----------------------------------------------------------------
export const ROLE_FREE: u32 = 0;
export const ROLE_LOW: u32 = 1;     // P^low: new version, member of the cluster G^low
export const ROLE_HA: u32 = 2;      // P^ha: active, trusted, unchanged
export const ROLE_HS: u32 = 3;      // P^hs: old version running as a shadow
export const ROLE_RETIRED: u32 = 4; // removed by commit (shadow) or recovery (new version)

// ---- peer kinds (who a message goes to / comes from) -----------------------
export const KIND_ACT: u32 = 1;    // a process in G_act^high
export const KIND_LOW: u32 = 2;    // a cluster component (new version; the host fans it out to the shadow too)
export const KIND_SDW: u32 = 3;    // a shadow (old version), shadow-internal traffic only
export const KIND_DEVICE: u32 = 4; // an external device (actuator, downlink)

// ---- events (host -> core), 16 x u32 each ---------------------------------
export const EV_SEND: u32 = 1;
export const EV_RECV: u32 = 2;
export const EV_PASSED_AT: u32 = 3;
export const EV_AT_RESULT: u32 = 4;
export const EV_COMPENSATED: u32 = 5;
export const EV_RECOVER_BEGIN: u32 = 6;
export const EV_RECOVER_APPLY: u32 = 7;
export const EV_COMMIT: u32 = 8;
export const EV_ABORT: u32 = 9;

// event word offsets
export const EW_TYPE: u32 = 0;
export const EW_PID: u32 = 1;
export const EW_KIND: u32 = 2;
export const EW_PEER: u32 = 3;
export const EW_PORT: u32 = 4;
export const EW_PAY_OFF: u32 = 5;
export const EW_PAY_LEN: u32 = 6;
export const EW_DIRTY: u32 = 7;
export const EW_INDEX: u32 = 8;
export const EW_EPOCH: u32 = 9;
export const EW_SNAP: u32 = 10;
export const EW_V: u32 = 11;      // passed-AT int bound, recovery V, AT verdict (1 = passed)
export const EW_VEXT: u32 = 12;   // passed-AT ext bound, recovery Vext
export const EW_STEP: u32 = 13;   // send/recv: the message's application step + 1; 0 = unknown
// recv, passed-at, recover-apply: 1 + the staging-area offset of the index vector (recv) or
// of the two bound vectors V, Vext (64 bytes each); 0 = scalar: EW_INDEX / EW_V, EW_VEXT
// are component 1 and every other component is 0 (docs/protocol.md point 4).
export const EW_VOFF: u32 = 14;
export const EVENT_WORDS: u32 = 16;

// ---- effects (core -> host), 16 x u32 each --------------------------------
export const FX_DELIVER: u32 = 1;          // pid, evIndex
export const FX_DROP: u32 = 2;             // pid, evIndex, reason
export const FX_CHECKPOINT: u32 = 3;       // pid, index, ptr, len, vec: write the snapshot here before delivering (index = vec's component 1)
export const FX_LOGGED: u32 = 4;           // pid, log, index, len
export const FX_SEND: u32 = 5;             // pid, evIndex, dirty, index, epoch, vec: send with this piggyback (index = vec's component 1)
export const FX_COUNTER: u32 = 6;          // which (0 low, 1 sdw int, 2 sdw ext, 3 low ext), value: increment and broadcast
export const FX_SUPPRESSED: u32 = 7;       // pid, evIndex, log, index
export const FX_AT_REQUIRED: u32 = 8;      // pid, evIndex
export const FX_DELIVER_DEVICE: u32 = 9;   // pid, evIndex
export const FX_BROADCAST_PASSED: u32 = 10;// pid, v, vext, epoch, P, Q (vectors; v, vext their components 1)
export const FX_RECLAIM: u32 = 11;         // pid, ckptsFreed, logsFreed, bytesFreed, dirtyAfter
export const FX_AT_FAILED: u32 = 12;       // pid, evIndex: try compensation, else start recovery
export const FX_BOUND: u32 = 13;           // v, vext, P, Q: this core's validated bounds (vectors; v, vext their components 1)
export const FX_ROLLBACK: u32 = 14;        // pid, index, ptr, len, distance
export const FX_REPLAY: u32 = 15;          // pid, kind, peer, port, ptr, len, dirty, index
export const FX_RESEND: u32 = 16;          // pid, log, peer, port, ptr, len, index
export const FX_SUPPRESS_NEXT: u32 = 17;   // nInt, nExt
export const FX_RETIRE: u32 = 18;          // pid
export const FX_ROLE: u32 = 19;            // pid, role
export const FX_FREED: u32 = 20;           // pid, bytes
export const FX_REPLAY_DROPPED: u32 = 21;  // pid, kind, peer, port, dirty, index
export const FX_RECOVERED: u32 = 22;       // V, Vext, epoch, reason, inexact
export const FX_VOIDED: u32 = 23;          // pid, log, count: shadow outputs voided by its rollback
export const EFFECT_WORDS: u32 = 16;

// drop reasons
export const DROP_STALE_CONTAMINATED: u32 = 1; // in flight across a recovery, index > V: its sender re-sends
export const DROP_TO_RETIRED: u32 = 2;         // addressed to a retired process
export const DROP_STALE_NOTICE: u32 = 3;       // passed-AT from before a recovery: V already covers it

// logs
export const LOG_IN: u32 = 1;   // receiver-side log (inputs, replayed)
export const LOG_INT: u32 = 2;  // shadow's suppressed outputs to G_act (resent)
export const LOG_EXT: u32 = 3;  // shadow's suppressed outputs to devices (resent)

// recovery reasons
export const REASON_FAULT: u32 = 1;
export const REASON_ABORT: u32 = 2;

// ---- status codes (negative: the event was refused and changed nothing) ----
export const OK: i32 = 0;
export const E_UNKNOWN_EVENT: i32 = -1;
export const E_UNKNOWN_PID: i32 = -2;
export const E_RETIRED: i32 = -3;
export const E_BAD_KIND: i32 = -4;
export const E_ROLE_SEND: i32 = -5;     // this role cannot send to that kind of peer
export const E_ROLE_RECV: i32 = -6;     // this role cannot receive from that kind of peer
export const E_PAYLOAD_RANGE: i32 = -7;
export const E_BAD_DIRTY: i32 = -8;
export const E_CKPT_FULL: i32 = -9;     // checkpoint arena or checkpoint slots full
export const E_LOG_FULL: i32 = -10;     // a message log is full
export const E_SNAPSHOT_TOO_BIG: i32 = -11;
export const E_AT_PENDING: i32 = -12;
export const E_NO_PENDING_AT: i32 = -13;
export const E_RECOVERING: i32 = -14;
export const E_NOT_RECOVERING: i32 = -15;
export const E_BAD_BOUND: i32 = -16;
export const E_BAD_EPOCH: i32 = -17;
export const E_NOT_GUARDED: i32 = -18;
export const E_BAD_VERDICT: i32 = -19;
export const E_BAD_ROLE: i32 = -20;
export const E_BAD_CONFIG: i32 = -21;
export const E_GUARDED: i32 = -22;
export const E_HDR_EMPTY: i32 = -30;
export const E_HDR_KIND: i32 = -31;
export const E_HDR_TRUNCATED: i32 = -32;
export const E_HDR_OVERFLOW: i32 = -33;
export const E_HDR_NONCANONICAL: i32 = -34;
export const E_HDR_DIRTY: i32 = -35;
