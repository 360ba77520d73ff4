// What a board is given and what it hands its host (host/runtime/board.ts): its options,
// the host's hooks (clock, timers, devices, trace, the simulation's oracles), the
// component instances it runs, and its trace events.
import type { CoreConfig, Rules } from "../core/core.ts";
import type { App, ComponentVersion } from "./app.ts";
import type { RoundOptions } from "./rounds.ts";
import type { SystemSpec } from "./system.ts";
import type { Mark, MarkStore } from "./output-commit.ts";
import type { Transport } from "../transport/types.ts";

export const FLAG_NEW = 2;

export type Gen = "base" | "new" | "old";
export interface Instance {
  pid: number;
  comp: string;
  version: ComponentVersion;
  gen: Gen;
  app: App;
  live: boolean;
  /** The wires leaving each output port, by port number (the board's cache). */
  outWires?: number[][];
  /**
   * Oracle instrumentation (simulation only), for apps without App.erroneous: the
   * message-level data-flow fallback. Set when the instance receives an erroneous
   * message, or (holding the injected fault) when one of its outputs differs from its
   * fault-free twin's; from then on its outputs are erroneous. An over-approximation:
   * a component may ignore the value it received, or overwrite the corrupted state.
   */
  erroneous: boolean;
  /**
   * Simulation only, fallback oracle: a fault-free copy of the instance that holds the
   * injected fault, fed the same inputs in lockstep; where their outputs differ, the
   * fault has taken effect (the exact source; the data flow after it is message-level).
   */
  twin?: { app: App; out: { port: number; bytes: Uint8Array }[] };
  /** Last step number delivered per input port (no-loss/no-duplicate oracle). */
  steps: Map<number, number>;
  /** Position of the last message sent on each output port (output commit by identity, output-commit.ts); checkpointed. */
  outPos: Map<number, Mark>;
  /** Rollbacks so far: an output held across a recovery is void if its sender rolled back since. */
  rolledBack?: number;
}

/**
 * The application step of a message: the GSU component ABI puts it in the first u32
 * (little endian). The core uses it for causal validation (docs/protocol.md); a message
 * shorter than 4 bytes has no step (undefined: consumed on delivery).
 */
export function stepOf(b: Uint8Array): number | undefined {
  return b.length >= 4 ? (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0 : undefined;
}

export interface TraceEvent { t: number; board: string; type: string; [k: string]: unknown }

export interface BoardHooks {
  now(): number;
  /**
   * Runs fn after us µs (the coordinator rounds' resends and timeouts). Absent (the
   * explorer, which schedules every delivery itself): nothing is resent.
   */
  timer?(us: number, fn: () => void): void;
  /**
   * A device received a message. `payload` is valid during the call only (the board reuses
   * its buffer, byte-pool.ts): copy what you keep.
   */
  device(device: string, payload: Uint8Array, from: Instance): void;
  event?(e: TraceEvent): void;
  /**
   * Whether every passed AT is an event ("passed-at", to `event`; default true: the board
   * daemon's event stream, the rehearsal report). false: passed ATs are only counted
   * (stats.atPassed), and a device message's path makes no event object.
   */
  passedAtEvents?: boolean;
  /** Also trace every message, checkpoint and device output (space-time diagram). */
  detail?: boolean;
  /** Identifies frames across boards for the detailed trace (simulation only). */
  frameTag?: { get(frame: Uint8Array): string | undefined; set(frame: Uint8Array, id: string): void };
  /**
   * Simulation oracles. Ground truth is data flow from the injected fault, independent
   * of the protocol: a frame is erroneous iff its payload derives from faulty state.
   */
  oracle?: {
    isErroneous(frame: Uint8Array): boolean;
    setErroneous(frame: Uint8Array, erroneous: boolean): void;
    violation(kind: string, detail: string): void;
    /** Some instance's state is erroneous (the injected fault has taken effect). */
    faultActive?(): void;
  };
}

/** Commit after N passed ATs and T µs of guarded operation with no failure. */
export interface CommitPolicy { afterPassed: number; quietUs?: number }

export interface BoardOptions {
  name: string;
  node: number;
  transport: Transport;
  spec: SystemSpec;
  coordinator: number;            // node that runs recovery and commit rounds
  rules: Rules;
  core?: CoreConfig;
  hooks: BoardHooks;
  commit?: CommitPolicy;
  /**
   * Benchmark baselines only: protocol false routes messages with no core, no
   * checkpoints, no logs and no ATs; shadows false runs guarded operation without
   * executing the old versions. Neither protects anything.
   */
  protocol?: boolean;
  shadows?: boolean;
  /**
   * A passed AT's bound rides on the next application frame to each peer within the batch
   * of sends that made it, instead of a passedAt frame of its own to that peer (docs/wire.md,
   * "A passed-AT bound riding"). Default: where a broadcast costs a frame per peer
   * (`!transport.broadcastsOnce`). false keeps the frame of its own everywhere (the schedules
   * pinned before riding existed).
   */
  ridePassedAt?: boolean;
  /** Resend period and timeouts of the coordinator rounds (host/runtime/rounds.ts). */
  rounds?: Partial<RoundOptions>;
  /** The recovery epoch to resume (a restarted board: the epoch it had reached, persisted by its host). */
  epoch?: number;
  /** A restarted coordinator: the outcome of the last recovery round it ran (Rounds.lastOutcome, persisted by its host). */
  outcome?: { epoch: number; V: number[]; Vext: number[] };
  /** A restarted board: the commit it had voted ready for without learning the outcome (rounds.ts inDoubt). */
  inDoubt?: number;
  /** A restarted coordinator: the last commit it opened and whether it decided it (rounds.ts commitLog, persisted by its host). */
  commitLog?: { n: number; decided: boolean };
  /**
   * This board restarted (a crash, a reboot) and may find the others in guarded
   * operation: until it is guarded itself it answers their recovery round with nothing
   * to recover and moves to the round's epoch (docs/protocol.md "A board that crashes").
   */
  restarted?: boolean;
  /** Error compensation hook (docs/protocol.md point 5); null means: recover. */
  compensate?: (inst: Instance, device: string, payload: Uint8Array) => Uint8Array | null;
  /**
   * Where the last position given to each device survives a crash (output-commit.ts):
   * without it a restarted board can give a device a message its previous run gave.
   */
  deviceMarks?: MarkStore;
}
