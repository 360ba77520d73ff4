// What the runtime needs from an application component instance. The WASM
// component loader (host/component/) provides it; tests may use TypeScript fakes.
export interface App {
  /** Hands one message to the component; it may call its onSend synchronously. */
  handle(port: number, bytes: Uint8Array): void;
  snapshotSize(): number;
  /** Writes an exact snapshot into dst; returns its length. */
  snapshotInto(dst: Uint8Array): number;
  /** Restores exactly the state a snapshot captured. */
  restoreFrom(src: Uint8Array): void;
  /** Fault-injection hook: a persistent state fault from `step` on (new versions). */
  injectFault?(step: number): void;
  /** Optional state transfer, to start a new version from a running old one's state. */
  saveState?(): Uint8Array;
  loadState?(state: Uint8Array): void;
}

export type AppFactory = (onSend: (port: number, bytes: Uint8Array) => void) => App;

export interface PortSpec { name: string; port: number; dir: "in" | "out"; iface: string }

export interface ComponentVersion {
  name: string;
  version: string;
  ports: PortSpec[];
  create: AppFactory;
}
