// The link layer shared by every byte-stream transport (serial, PTY, any Duplex):
// wire decoder, addressing, and reassembly of multi-frame transfers. Pure: bytes
// in, transfers and drop reasons out; the transports only move bytes.
import { BROADCAST } from "../types.ts";
import { WireDecoder, type WireDropReason } from "./decoder.ts";
import { CTL_EOT, CTL_INDEX, CTL_SOT, DEFAULT_MAX_FRAGMENT, TRANSFER_CRC, checkTransferCrc, encodeWireFrame, segment } from "./envelope.ts";

export type LinkDropReason =
  | WireDropReason
  | "not-for-us"         // dst is another node (normal on a multi-drop bus)
  | "bad-src"            // src is the broadcast id
  | "own-src"            // our own id as source (echo on a multi-drop bus, or an id clash)
  | "unknown-node"       // src not among the configured peers
  | "bad-ctl"            // SOT frame whose index is not 0
  | "orphan-frame"       // middle or last frame with no transfer in progress
  | "sequence"           // frame index out of order (lost, duplicated or reordered frame)
  | "truncated-transfer" // a transfer left incomplete (new SOT, or a frame lost on the wire)
  | "transfer-crc"       // multi-frame transfer CRC-32 mismatch (frames spliced from different transfers)
  | "transfer-oversize"  // reassembled transfer would exceed maxTransfer
  | "evicted";           // too many transfers in progress at once; oldest dropped

export interface LinkOptions {
  node: number;
  /** Known peer ids; frames from others are dropped as unknown-node. Omit to accept any. */
  peers?: readonly number[];
  maxFragment?: number;   // payload bytes per wire frame (default 1024)
  maxTransfer?: number;   // largest reassembled transfer (default 256 KiB)
  maxPending?: number;    // transfers in reassembly at once (default 4)
}

interface Pending { chunks: Uint8Array[]; size: number; next: number }

export class FrameLink {
  readonly decoder: WireDecoder;
  readonly dropped: Record<string, number> = {};
  transfersIn = 0;
  readonly maxFragment: number;
  readonly maxTransfer: number;
  private readonly maxPending: number;
  private readonly peers: Set<number> | null;
  private pending = new Map<number, Pending>();

  constructor(readonly opts: LinkOptions) {
    if (!Number.isInteger(opts.node) || opts.node < 0 || opts.node >= BROADCAST) throw new RangeError(`node id must be 0..254, not ${opts.node}`);
    this.maxFragment = opts.maxFragment ?? DEFAULT_MAX_FRAGMENT;
    this.maxTransfer = opts.maxTransfer ?? 256 * 1024;
    this.maxPending = opts.maxPending ?? 4;
    this.peers = opts.peers ? new Set(opts.peers) : null;
    this.decoder = new WireDecoder({ maxFragment: this.maxFragment });
  }

  /** Wire bytes for one transfer (one or more delimited frames, concatenated). */
  encode(dst: number, transfer: Uint8Array): Uint8Array {
    if (!Number.isInteger(dst) || dst < 0 || dst > BROADCAST) throw new RangeError(`dst must be 0..255, not ${dst}`);
    if (transfer.length > this.maxTransfer) throw new RangeError(`transfer of ${transfer.length} bytes exceeds maxTransfer ${this.maxTransfer}`);
    const parts = segment(dst, this.opts.node, transfer, this.maxFragment).map(encodeWireFrame);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** Bytes held in reassembly buffers (bounded by maxPending * maxTransfer). */
  get reassemblyBytes(): number { let n = 0; for (const p of this.pending.values()) n += p.size; return n; }

  /** Feeds received bytes; calls `deliver` for each complete transfer addressed to us. */
  push(chunk: Uint8Array, deliver: (src: number, transfer: Uint8Array) => void): void {
    this.decoder.push(chunk, (ev) => {
      if (ev.type === "drop") {
        this.drop(ev.reason);
        // the lost frame may have been part of a transfer in progress
        for (const src of [...this.pending.keys()]) this.abandon(src);
        return;
      }
      const { dst, src, ctl, payload } = ev.frame;
      if (dst !== this.opts.node && dst !== BROADCAST) return this.drop("not-for-us");
      if (src === BROADCAST) return this.drop("bad-src");
      if (src === this.opts.node) return this.drop("own-src");
      if (this.peers && !this.peers.has(src)) return this.drop("unknown-node");
      const index = ctl & CTL_INDEX;
      let p = this.pending.get(src);
      if (ctl & CTL_SOT) {
        if (index !== 0) return this.drop("bad-ctl");
        if (p) this.abandon(src);
        if (ctl & CTL_EOT) { this.transfersIn++; return deliver(src, payload); }
        if (this.pending.size >= this.maxPending) this.abandon(this.pending.keys().next().value!, "evicted");
        p = { chunks: [], size: 0, next: 0 };
        this.pending.set(src, p);
      } else if (!p) {
        return this.drop("orphan-frame");
      } else if (index !== (p.next & CTL_INDEX)) {
        this.abandon(src, "sequence");
        return;
      }
      if (p.size + payload.length > this.maxTransfer + TRANSFER_CRC) { this.abandon(src, "transfer-oversize"); return; }
      p.chunks.push(payload);
      p.size += payload.length;
      p.next++;
      if (ctl & CTL_EOT) {
        this.pending.delete(src);
        const whole = checkTransferCrc(p.chunks.length === 1 ? p.chunks[0] : new Uint8Array(Buffer.concat(p.chunks)));
        if (!whole) return this.drop("transfer-crc");
        this.transfersIn++;
        deliver(src, whole);
      }
    });
  }

  /** Forgets partial frames and transfers (link closed); counts what was lost. */
  reset(reason: LinkDropReason | "disconnect" = "disconnect"): void {
    if (this.decoder.reset()) this.drop(reason);
    for (const src of [...this.pending.keys()]) this.abandon(src);
  }

  private abandon(src: number, reason: LinkDropReason = "truncated-transfer"): void {
    if (this.pending.delete(src)) this.drop(reason);
  }

  private drop(reason: string): void { this.dropped[reason] = (this.dropped[reason] ?? 0) + 1; }
}
