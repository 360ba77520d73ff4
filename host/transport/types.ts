// The one transport interface every link implements: the simulated network,
// SocketCAN, SLCAN and serial. Nothing above it knows which one it has.
// Frames are whole transfers (one protocol message); a transport that fragments
// (CAN) reassembles before calling onFrame.

export const BROADCAST = 0xff;

export interface Transport {
  /** This board's node id on the link. */
  readonly node: number;
  /** Queues one transfer to node `dst` (or BROADCAST). Per-destination FIFO. */
  send(dst: number, frame: Uint8Array): void;
  /** Registers the receiver of whole transfers. */
  onFrame(handler: (src: number, frame: Uint8Array) => void): void;
  /** Counters for telemetry: frames and bytes each way, and drops by reason. */
  stats(): TransportStats;
  close(): Promise<void>;
}

export interface TransportStats {
  framesOut: number;
  framesIn: number;
  bytesOut: number;
  bytesIn: number;
  dropped: Record<string, number>;
}

export function emptyStats(): TransportStats {
  return { framesOut: 0, framesIn: 0, bytesOut: 0, bytesIn: 0, dropped: {} };
}
