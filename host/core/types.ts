// Events the host feeds the core, and effects the core returns.
import type { HeaderKind, Kind, Role } from "./abi.ts";

export interface Header {
  kind: HeaderKind;
  dirty: number;   // 0 or 1
  index: number;   // int_mSN_G^low (or the bound, for passedAt/bound/apply)
  epoch: number;   // recovery epoch (mod 16 on the wire)
  aux?: number;    // ext bound, for passedAt/bound/apply; which counter, for counter
  // Members on several boards (docs/protocol.md point 4, docs/wire.md "Vectors"): indexes
  // are vectors over the cluster's member slots. Given only when a component other than
  // the first is nonzero (index, aux are then their first components):
  vec?: number[];  // app: the message's index vector
  P?: number[];    // passedAt, bound, apply: the int bound
  Q?: number[];    // passedAt, bound, apply: the ext bound
}

export type CoreEvent =
  // step: the application step the message belongs to (the GSU component ABI puts it in a
  // message's first u32); a cluster member's output of step k depends only on inputs of
  // step <= k (docs/protocol.md, "Causal validation"). Omitted: unknown, the message counts
  // as consumed on delivery.
  | { type: "send"; pid: number; to: Kind; peer?: number; port?: number; payload?: Uint8Array; step?: number }
  | { type: "recv"; pid: number; from: Kind; peer?: number; port?: number; dirty: number; index: number; epoch?: number; payload?: Uint8Array; snapBytes?: number; step?: number; vec?: number[] }
  | { type: "passed-at"; pid: number; v: number; vext?: number; epoch?: number; P?: number[]; Q?: number[] }
  | { type: "at-result"; pid: number; passed: boolean }
  | { type: "compensated"; pid: number }
  | { type: "recover-begin" }
  | { type: "recover-apply"; V: number; Vext: number; epoch: number; Vvec?: number[]; Vextvec?: number[] }
  | { type: "abort"; V: number; Vext: number; epoch: number; Vvec?: number[]; Vextvec?: number[] }
  | { type: "commit" };

export type CoreEffect =
  | { type: "deliver"; pid: number; event: number }
  | { type: "drop"; pid: number; event: number; reason: string }
  | { type: "checkpoint"; pid: number; index: number; snapshot: Uint8Array; vec?: number[] }
  | { type: "logged"; pid: number; log: "in" | "int" | "ext"; index: number; bytes: number }
  | { type: "send"; pid: number; event: number; header: Header }
  | { type: "counter"; counter: string; value: number }
  | { type: "suppressed"; pid: number; event: number; log: "in" | "int" | "ext"; index: number }
  | { type: "at-required"; pid: number; event: number }
  | { type: "deliver-device"; pid: number; event: number }
  | { type: "broadcast-passed"; pid: number; v: number; vext: number; epoch: number; P?: number[]; Q?: number[] }
  | { type: "reclaim"; pid: number; checkpoints: number; logEntries: number; bytes: number; dirty: number }
  | { type: "at-failed"; pid: number; event: number }
  | { type: "bound"; v: number; vext: number; P?: number[]; Q?: number[] }
  | { type: "rollback"; pid: number; index: number; snapshot: Uint8Array; distance: number }
  | { type: "replay"; pid: number; from: Kind; peer: number; port: number; payload: Uint8Array; dirty: number; index: number }
  | { type: "resend"; pid: number; log: "int" | "ext"; peer: number; port: number; payload: Uint8Array; index: number }
  | { type: "suppress-next"; int: number; ext: number }
  | { type: "retire"; pid: number }
  | { type: "role"; pid: number; role: Role }
  | { type: "freed"; pid: number; bytes: number }
  | { type: "replay-dropped"; pid: number; from: Kind; peer: number; port: number; dirty: number; index: number }
  | { type: "recovered"; V: number; Vext: number; epoch: number; reason: "fault" | "abort"; inexact: boolean }
  | { type: "voided"; pid: number; int: number; ext: number };
