// The one transport interface every link implements: the simulated network,
// SocketCAN, SLCAN and serial. Nothing above it knows which one it has.
// Frames are whole transfers (one protocol message); a transport that fragments
// (CAN) reassembles before calling onFrame.

export const BROADCAST = 0xff;

export interface Transport {
  /** This board's node id on the link. */
  readonly node: number;
  /**
   * Queues one transfer to node `dst` (or BROADCAST). Per-destination FIFO. `frame` is valid
   * during the call only: a board builds its frames in a buffer it reuses (byte-pool.ts
   * FrameBuf), so a transport copies what it keeps past the call (a queue, a retransmission
   * window, a delayed delivery) and may read the rest in place.
   */
  send(dst: number, frame: Uint8Array): void;
  /**
   * Registers the receiver of whole transfers. The frame handed to it is valid during the
   * call only (the link layer delivers from buffers it reuses): a receiver copies what it
   * keeps past the call (a board: Board.own).
   */
  onFrame(handler: (src: number, frame: Uint8Array) => void): void;
  /** Counters for telemetry: frames and bytes each way, and drops by reason. */
  stats(): TransportStats;
  close(): Promise<void>;
  /**
   * What the link asks of a link layer above it (docs/wire.md, "On CAN: the layer's header
   * in the CAN identifier"): a classic Cyphal/CAN link carries a data frame's sequence number
   * as its transfer-ID (5 bits), so the layer keeps at most 16 frames in flight per stream
   * and sends acknowledgements alone. Wrappers pass it through.
   */
  readonly layerHints?: LayerHints;
  /**
   * One BROADCAST transfer reaches every node (a bus: CAN without a link layer above it).
   * A board then sends a passed-AT bound as one broadcast; where a broadcast costs a frame
   * per peer (serial, the link layer, the simulated network) the bound rides on the next
   * application frame to each peer instead (docs/wire.md, "A passed-AT bound riding").
   */
  readonly broadcastsOnce?: boolean;
  /** A link layer (reliable.ts) now runs above this link: the link may carry its header in its own fields (CAN). Wrappers pass it through. */
  attachLayer?(): void;
}

export interface LayerHints {
  /** Frames in flight per peer and stream at most (the link's sequence numbers are short). */
  maxWindow: number;
  /** Acknowledgements travel in frames of their own, never in a data frame. */
  loneAcks: boolean;
}

/** A classic Cyphal/CAN link's (host/transport/can/transport.ts): the transfer-ID is the sequence number. */
export const CAN_CLASSIC_HINTS: LayerHints = { maxWindow: 16, loneAcks: true };

/** Hints of several links under one layer: the strictest of each. */
export function mergeHints(hs: (LayerHints | undefined)[]): LayerHints | undefined {
  const some = hs.filter((h): h is LayerHints => !!h);
  if (!some.length) return undefined;
  return { maxWindow: Math.min(...some.map((h) => h.maxWindow)), loneAcks: some.some((h) => h.loneAcks) };
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
