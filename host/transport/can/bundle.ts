// What a Cyphal/CAN transfer carries on a CAN FD link or on a compact classic link:
// one or more GSU frames (coalesced: the frames a node sends to one destination in one
// turn of the event loop), each with its length, so that CAN FD's padding can be told
// apart from the frames; on a compact link, each frame as a delta against a frame the
// receiver already holds. docs/wire.md, "Bundles and compact transfers", gives every byte.
//
//   plain bundle (FD):  FE | (varint n >= 1, n bytes)+ | 00* (padding)
//   compact (FD or classic):  F0+s (s = transfer count mod 14: F0..FD) | record+ | 00* (padding)
//     record tag: bit 7 D (delta), bits 6..4 g (slot generation mod 8), bits 3..0 slot 1..15
//       D = 0 raw:    tag | varint n >= 1 | n bytes                 -> slot, generation g
//       D = 1 delta:  tag | mask, ceil(m/8) bytes | changed bytes    -> slot, generation g
//         m = length of the frame the slot holds, which must have generation g - 1 (mod 8);
//         mask bit i (byte i >> 3, bit i & 7, LSB first) set: byte i differs, its new value follows.
//
// A plain GSU frame never starts with F0..FE (kind 7, not the link layer's E0..EF, not a
// management frame's FF), so a transfer of another mode is recognised and refused.
// Loss: a receiver drops every slot when a transfer is missing (the Cyphal transfer-ID
// or the compact count s skips), and a sender refreshes each slot with a raw record at
// least every `keyEvery` records, so a lost transfer costs at most that many frames per
// slot after it (counted, `compact-ref`), never a wrong one.

export const BUNDLE_PLAIN = 0xfe;
export const COMPACT_BASE = 0xf0;
export const COMPACT_MOD = 14;
export const SLOTS = 15;
export const GEN_MOD = 8;
export const DEFAULT_KEY_EVERY = 16;

export function varintLen(n: number): number {
  let l = 1;
  while (n >= 0x80) { n = Math.floor(n / 128); l++; }
  return l;
}
function putVarint(out: number[], n: number): void {
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
}
/** Reads a canonical LEB128 varint (at most 4 bytes here: lengths < 2^28); returns [value, next offset] or undefined. */
function getVarint(b: Uint8Array, off: number): [number, number] | undefined {
  let v = 0, shift = 0;
  for (let i = 0; i < 4; i++) {
    if (off + i >= b.length) return undefined;
    const x = b[off + i];
    v += (x & 0x7f) * 2 ** shift;
    if (!(x & 0x80)) {
      if (i > 0 && x === 0) return undefined; // not the shortest form
      return [v, off + i + 1];
    }
    shift += 7;
  }
  return undefined;
}

export type BundleError = { reason: "bundle-malformed" | "mode-mismatch" | "compact-ref"; detail: string };

/** Is this transfer payload in the plain-bundle or compact form (first byte F0..FE)? A GSU frame never starts so. */
export function isBundled(p: Uint8Array): boolean {
  return p.length > 0 && p[0] >= COMPACT_BASE && p[0] <= 0xfe;
}

// ------------------------------------------------------------------ plain bundles

export function encodePlain(frames: readonly Uint8Array[]): Uint8Array {
  const out: number[] = [BUNDLE_PLAIN];
  for (const f of frames) {
    if (f.length === 0) throw new RangeError("bundle: an empty GSU frame cannot be sent");
    putVarint(out, f.length);
    for (const x of f) out.push(x);
  }
  return Uint8Array.from(out);
}

/** Parses records from `off` up to the end or to the zero padding (which must be all zero). */
function parsePlain(p: Uint8Array, off: number): { frames: Uint8Array[] } | BundleError {
  const frames: Uint8Array[] = [];
  while (off < p.length) {
    if (p[off] === 0) return padding(p, off, frames);
    const v = getVarint(p, off);
    if (!v) return { reason: "bundle-malformed", detail: `bad length at byte ${off}` };
    const [n, at] = v;
    if (at + n > p.length) return { reason: "bundle-malformed", detail: `record of ${n} bytes at byte ${off} runs past the transfer's ${p.length}` };
    frames.push(p.slice(at, at + n));
    off = at + n;
  }
  return frames.length ? { frames } : { reason: "bundle-malformed", detail: "no frame in the transfer" };
}

function padding(p: Uint8Array, off: number, frames: Uint8Array[]): { frames: Uint8Array[] } | BundleError {
  for (let i = off; i < p.length; i++) if (p[i] !== 0) return { reason: "bundle-malformed", detail: `non-zero byte ${i} after the padding began at ${off}` };
  return frames.length ? { frames } : { reason: "bundle-malformed", detail: "no frame in the transfer" };
}

// ------------------------------------------------------------------ compact transfers

interface Slot { frame: Uint8Array; gen: number; deltas: number; used: number }

/** Sender side of one compact stream (one destination subject). */
export class CompactEncoder {
  private slots: (Slot | undefined)[] = new Array(SLOTS + 1).fill(undefined);
  private count = 0;
  private tick = 0;
  constructor(private readonly keyEvery = DEFAULT_KEY_EVERY) {
    if (!Number.isInteger(keyEvery) || keyEvery < 1) throw new RangeError(`compact: keyEvery ${keyEvery} must be a positive integer`);
  }

  /** Forgets every slot (the receiver cannot hold them any more): the next records are raw. */
  reset(): void { this.slots.fill(undefined); }

  encode(frames: readonly Uint8Array[]): Uint8Array {
    const out: number[] = [COMPACT_BASE + (this.count % COMPACT_MOD)];
    this.count++;
    for (const f of frames) this.record(out, f);
    return Uint8Array.from(out);
  }

  private record(out: number[], f: Uint8Array): void {
    if (f.length === 0) throw new RangeError("compact: an empty GSU frame cannot be sent");
    this.tick++;
    let best = -1, bestCost = 1 + varintLen(f.length) + f.length;
    for (let i = 1; i <= SLOTS; i++) {
      const s = this.slots[i];
      if (!s || s.frame.length !== f.length || s.deltas + 1 >= this.keyEvery) continue;
      let changed = 0;
      for (let j = 0; j < f.length; j++) if (s.frame[j] !== f[j]) changed++;
      const cost = 1 + Math.ceil(f.length / 8) + changed;
      if (cost < bestCost) { best = i; bestCost = cost; }
    }
    if (best > 0) {
      const s = this.slots[best]!;
      s.gen = (s.gen + 1) % GEN_MOD;
      out.push(0x80 | (s.gen << 4) | best);
      const mask = new Array(Math.ceil(f.length / 8)).fill(0);
      const vals: number[] = [];
      for (let j = 0; j < f.length; j++) if (s.frame[j] !== f[j]) { mask[j >> 3] |= 1 << (j & 7); vals.push(f[j]); }
      out.push(...mask, ...vals);
      s.frame = f.slice(); s.deltas++; s.used = this.tick;
      return;
    }
    // raw: into a slot due for a refresh with this length, else a free one, else the least recently used
    let k = -1;
    for (let i = 1; i <= SLOTS; i++) { const s = this.slots[i]; if (s && s.frame.length === f.length && s.deltas + 1 >= this.keyEvery) { k = i; break; } }
    if (k < 0) for (let i = 1; i <= SLOTS; i++) if (!this.slots[i]) { k = i; break; }
    if (k < 0) { k = 1; for (let i = 2; i <= SLOTS; i++) if (this.slots[i]!.used < this.slots[k]!.used) k = i; }
    const gen = this.slots[k] ? (this.slots[k]!.gen + 1) % GEN_MOD : 0;
    out.push((gen << 4) | k);
    putVarint(out, f.length);
    for (const x of f) out.push(x);
    this.slots[k] = { frame: f.slice(), gen, deltas: 0, used: this.tick };
  }
}

/** Receiver side of one compact stream (one source node and subject). */
export class CompactDecoder {
  private slots: ({ frame: Uint8Array; gen: number } | undefined)[] = new Array(SLOTS + 1).fill(undefined);
  private lastCount = -1;
  private lastTid = -1;

  /** Forgets every slot (a transfer was lost). */
  reset(): void { this.slots.fill(undefined); }

  /** Decodes one transfer; `transferId` is its Cyphal transfer-ID (mod 32), used to see a lost transfer. */
  decode(p: Uint8Array, transferId: number): { frames: Uint8Array[]; lost: number; error?: BundleError } {
    const frames: Uint8Array[] = [];
    if (p.length === 0 || p[0] < COMPACT_BASE || p[0] >= COMPACT_BASE + COMPACT_MOD) {
      return { frames, lost: 0, error: { reason: "mode-mismatch", detail: p.length && p[0] === BUNDLE_PLAIN ? "a plain bundle (the sender's link is not compact)" : "a plain GSU transfer (the sender's link is not compact)" } };
    }
    const count = p[0] - COMPACT_BASE;
    const gap = this.lastCount >= 0 && (count !== (this.lastCount + 1) % COMPACT_MOD || transferId !== ((this.lastTid + 1) & 31));
    this.lastCount = count; this.lastTid = transferId & 31;
    if (gap) this.reset();
    let lost = 0;
    let off = 1;
    while (off < p.length) {
      const tag = p[off];
      if (tag === 0) {
        const r = padding(p, off, frames);
        return "frames" in r ? { frames, lost } : { frames, lost, error: r };
      }
      const slot = tag & 0x0f, gen = (tag >> 4) & 7;
      if (slot === 0) return { frames, lost, error: { reason: "bundle-malformed", detail: `record tag 0x${tag.toString(16)} names slot 0` } };
      if (!(tag & 0x80)) {
        const v = getVarint(p, off + 1);
        if (!v || v[0] === 0 || v[1] + v[0] > p.length) return { frames, lost, error: { reason: "bundle-malformed", detail: `raw record at byte ${off}: bad length` } };
        const f = p.slice(v[1], v[1] + v[0]);
        this.slots[slot] = { frame: f, gen };
        frames.push(f.slice());
        off = v[1] + v[0];
        continue;
      }
      const s = this.slots[slot];
      if (!s) {
        // the reference is gone (a lost transfer): this record cannot be decoded, and the
        // rest of the transfer cannot be parsed (its length is the reference's).
        return { frames, lost: lost + 1, error: { reason: "compact-ref", detail: `delta against slot ${slot}, which this receiver does not hold (a transfer was lost; the sender refreshes it within ${DEFAULT_KEY_EVERY} frames)` } };
      }
      if (s.gen !== (gen + GEN_MOD - 1) % GEN_MOD) {
        this.slots[slot] = undefined;
        return { frames, lost: lost + 1, error: { reason: "compact-ref", detail: `delta against slot ${slot} generation ${(gen + GEN_MOD - 1) % GEN_MOD}, this receiver holds generation ${s.gen} (a transfer was lost)` } };
      }
      const m = s.frame.length, ml = Math.ceil(m / 8);
      if (off + 1 + ml > p.length) return { frames, lost, error: { reason: "bundle-malformed", detail: `delta record at byte ${off}: mask runs past the transfer` } };
      const f = s.frame.slice();
      let at = off + 1 + ml;
      for (let j = 0; j < m; j++) {
        if (p[off + 1 + (j >> 3)] & (1 << (j & 7))) {
          if (at >= p.length) return { frames, lost, error: { reason: "bundle-malformed", detail: `delta record at byte ${off}: changed bytes run past the transfer` } };
          f[j] = p[at++];
        }
      }
      if (m % 8 && p[off + ml] >> (m % 8)) return { frames, lost, error: { reason: "bundle-malformed", detail: `delta record at byte ${off}: mask bits beyond the frame's ${m} bytes` } };
      this.slots[slot] = { frame: f, gen };
      frames.push(f.slice());
      off = at;
    }
    return frames.length ? { frames, lost } : { frames, lost, error: { reason: "bundle-malformed", detail: "no record in the transfer" } };
  }
}

/** Decodes a plain bundle (FD link without compaction). */
export function decodePlain(p: Uint8Array): { frames: Uint8Array[] } | BundleError {
  if (p.length === 0 || p[0] !== BUNDLE_PLAIN) {
    return { reason: "mode-mismatch", detail: isBundled(p) ? "a compact transfer (the sender's link is compact, this one is not)" : "a plain GSU transfer (the sender's link is classic CAN, not CAN FD)" };
  }
  return parsePlain(p, 1);
}
