// What the runtime needs from an application component instance. The WASM
// component loader (host/component/) provides it; tests may use TypeScript fakes.
export interface App {
  /**
   * Hands one message to the component; it may call its onSend synchronously.
   * `erroneous` is simulation only (see erroneous()): the input derives from the fault.
   */
  handle(port: number, bytes: Uint8Array, erroneous?: boolean): void;
  snapshotSize(): number;
  /** Writes an exact snapshot into dst; returns its length. */
  snapshotInto(dst: Uint8Array): number;
  /**
   * snapshotInto at offset `at` of `dst` (the core's whole memory: no view per checkpoint),
   * with room for `cap` bytes. Optional; the board uses snapshotInto on a view without it.
   */
  snapshotAt?(dst: Uint8Array, at: number, cap: number): number;
  /** Restores exactly the state a snapshot captured. */
  restoreFrom(src: Uint8Array): void;
  /** Fault-injection hook: a persistent state fault from `step` on (new versions). */
  injectFault?(step: number): void;
  /**
   * Simulation only: the testbed's ground-truth oracle calls it; the protocol and every
   * board outside the simulator ignore it. True when the current state, buffered inputs
   * included, holds a value derived from the injected fault (by data flow, with no
   * reference to indexes, dirty bits or ATs). A component that implements it takes
   * handle()'s `erroneous` flag and passes onSend's `erroneous` flag for every output,
   * and keeps its taint in its snapshots. Without it the simulator falls back to
   * message-level data flow, an over-approximation (host/runtime/board.ts).
   */
  erroneous?(): boolean;
  /**
   * True when every `bytes` the app hands onSend is a fresh copy that the app never touches
   * again (the WASM component loader copies each output out of linear memory): the board
   * keeps it as it is. Absent or false: the board copies each output.
   */
  readonly outputsOwned?: boolean;
  /** Optional state transfer, to start a new version from a running old one's state. */
  saveState?(): Uint8Array;
  loadState?(state: Uint8Array): void;
}

/**
 * Where an app may take the buffer for an output it hands onSend (byte-pool.ts): a buffer of
 * exactly `len` bytes that the board gives back once the message is sent, so the per-message
 * path allocates nothing. An app that takes its outputs from it declares outputsOwned.
 */
export interface OutputBuffers { take(len: number): Uint8Array }

/** onSend's `erroneous` is simulation only (see App.erroneous): the output derives from the fault. */
export type AppFactory = (onSend: (port: number, bytes: Uint8Array, erroneous?: boolean) => void, buffers?: OutputBuffers) => App;

export interface PortSpec { name: string; port: number; dir: "in" | "out"; iface: string }

export interface ComponentVersion {
  name: string;
  version: string;
  ports: PortSpec[];
  create: AppFactory;
}
