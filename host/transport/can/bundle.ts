// What a Cyphal/CAN transfer carries on a CAN FD link or on a compact classic link:
// one or more GSU frames (coalesced: the frames a node sends to one destination in one
// turn of the event loop), each with its length, so that CAN FD's padding can be told
// apart from the frames; on a compact link, each frame as a delta against a frame the
// receiver already holds. docs/wire.md, "Bundles and compact transfers", gives every byte.
//
//   plain bundle (FD):  FE | (varint n >= 1, n bytes)+ | 00* (padding)
//   compact (FD or classic):  FD (a stream's first two transfers: forget every slot), else
//                             F0+s (s = transfer count mod 13: F0..FC) | record+ | 00* (padding)
//     record tag: bit 7 D (delta), bits 6..4 g (slot generation mod 8), bits 3..0 slot 1..15
//       D = 0 raw:    tag | varint n >= 1 | n bytes                 -> slot, generation g
//                     (tag 70, slot 0 generation 7: a raw frame no slot keeps)
//       tag 80:       delta against the previous record's frame in this transfer; no slot keeps it
//       D = 1 delta:  tag | mask, ceil(m/8) bytes | changed bytes    -> slot, generation g
//         m = length of the frame the slot holds, which must have generation g - 1 (mod 8);
//         mask bit i (byte i >> 3, bit i & 7, LSB first) set: byte i differs, its new value follows.
//
// A plain GSU frame never starts with F0..FE (kind 7, not the link layer's E0..EF, not a
// management frame's FF), so a transfer of another mode is recognised and refused.
// Loss: a sender updates a slot at most once per transfer, so fewer than 7 lost transfers
// (counted from the Cyphal transfer-ID mod 32 and s mod 13) change a slot's generation
// fewer than 8 times, and the generation check sees it: a delta against a slot a lost
// transfer changed is refused (`compact-ref`), the others still decode. After 7 or more
// lost transfers the receiver forgets every slot. A sender refreshes each slot with a raw
// record at least every `keyEvery` records and after `refreshUs` unused (so a link layer's
// retransmission later than that travels raw; an earlier one may be refused, compact-ref, and
// is sent again), so a loss costs at most that many frames per slot after it, never a wrong one.

export const BUNDLE_PLAIN = 0xfe;
export const COMPACT_BASE = 0xf0;
export const COMPACT_MOD = 13;
/** Marker of a compact stream's first transfers: the receiver forgets every slot. */
export const COMPACT_RESET = 0xfd;
/** How many first transfers carry COMPACT_RESET (one may be lost). */
export const RESET_TRANSFERS = 2;
/** A gap of this many lost transfers or more: the receiver forgets every slot. */
export const MAX_GAP = 7;
const UNSTORED = 0x70;
const PREV = 0x80;
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

function pushDelta(out: number[], ref: Uint8Array, f: Uint8Array): void {
  const mask = new Array(Math.ceil(f.length / 8)).fill(0);
  const vals: number[] = [];
  for (let j = 0; j < f.length; j++) if (ref[j] !== f[j]) { mask[j >> 3] |= 1 << (j & 7); vals.push(f[j]); }
  out.push(...mask, ...vals);
}

/** Applies a delta record's mask and bytes at `off` (just after the tag) to a copy of `ref`; undefined if it runs past the end or sets mask bits beyond the frame. */
function applyDelta(p: Uint8Array, off: number, ref: Uint8Array): { frame: Uint8Array; next: number } | undefined {
  const m = ref.length, ml = Math.ceil(m / 8);
  if (off + ml > p.length) return undefined;
  if (m % 8 && p[off + ml - 1] >> (m % 8)) return undefined;
  const f = ref.slice();
  let at = off + ml;
  for (let j = 0; j < m; j++) {
    if (p[off + (j >> 3)] & (1 << (j & 7))) {
      if (at >= p.length) return undefined;
      f[j] = p[at++];
    }
  }
  return { frame: f, next: at };
}

function padding(p: Uint8Array, off: number, frames: Uint8Array[]): { frames: Uint8Array[] } | BundleError {
  for (let i = off; i < p.length; i++) if (p[i] !== 0) return { reason: "bundle-malformed", detail: `non-zero byte ${i} after the padding began at ${off}` };
  return frames.length ? { frames } : { reason: "bundle-malformed", detail: "no frame in the transfer" };
}

// ------------------------------------------------------------------ compact transfers

interface Slot { frame: Uint8Array; gen: number; deltas: number; used: number; at: number }
/** A slot unused for this long (µs) is refreshed with a raw record: a retransmission after a loss decodes. */
export const DEFAULT_REFRESH_US = 300_000;

/** Sender side of one compact stream (one destination subject). */
export class CompactEncoder {
  private slots: (Slot | undefined)[] = new Array(SLOTS + 1).fill(undefined);
  private count = 0;
  private tick = 0;
  private now = 0;
  constructor(private readonly keyEvery = DEFAULT_KEY_EVERY, private readonly refreshUs = DEFAULT_REFRESH_US) {
    if (!Number.isInteger(keyEvery) || keyEvery < 1) throw new RangeError(`compact: keyEvery ${keyEvery} must be a positive integer`);
  }

  /** Forgets every slot (the receiver cannot hold them any more): the next records are raw. */
  reset(): void { this.slots.fill(undefined); }

  private usedNow = new Set<number>();

  private prev: Uint8Array | undefined;

  /** `nowUs`: the sender's clock; a slot idle for refreshUs gets a raw record (the default, 0, never idles). */
  encode(frames: readonly Uint8Array[], nowUs = 0): Uint8Array {
    this.now = nowUs;
    this.prev = undefined;
    // a reset transfer makes the receiver forget every slot: the sender forgets them too (raw records only)
    if (this.count < RESET_TRANSFERS) this.reset();
    const out: number[] = [this.count < RESET_TRANSFERS ? COMPACT_RESET : COMPACT_BASE + (this.count % COMPACT_MOD)];
    this.count++;
    this.usedNow.clear();
    for (const f of frames) this.record(out, f);
    return Uint8Array.from(out);
  }

  private record(out: number[], f: Uint8Array): void {
    if (f.length === 0) throw new RangeError("compact: an empty GSU frame cannot be sent");
    this.tick++;
    const prev = this.prev;
    this.prev = f;
    let best = -1, bestCost = 1 + varintLen(f.length) + f.length;
    if (prev && prev.length === f.length) {
      let changed = 0;
      for (let j = 0; j < f.length; j++) if (prev[j] !== f[j]) changed++;
      const cost = 1 + Math.ceil(f.length / 8) + changed;
      if (cost < bestCost) { best = 0; bestCost = cost; }
    }
    for (let i = 1; i <= SLOTS; i++) {
      const s = this.slots[i];
      if (!s || this.usedNow.has(i) || s.frame.length !== f.length || s.deltas + 1 >= this.keyEvery || this.now - s.at > this.refreshUs) continue;
      let changed = 0;
      for (let j = 0; j < f.length; j++) if (s.frame[j] !== f[j]) changed++;
      const cost = 1 + Math.ceil(f.length / 8) + changed;
      if (cost < bestCost) { best = i; bestCost = cost; }
    }
    if (best === 0) { // against the previous frame of this transfer: nothing kept
      out.push(PREV);
      pushDelta(out, prev!, f);
      return;
    }
    if (best > 0) {
      const s = this.slots[best]!;
      s.gen = (s.gen + 1) % GEN_MOD;
      out.push(0x80 | (s.gen << 4) | best);
      pushDelta(out, s.frame, f);
      s.frame = f.slice(); s.deltas++; s.used = this.tick; s.at = this.now;
      this.usedNow.add(best);
      return;
    }
    // raw: into a slot due for a refresh with this length, else a free one, else the least
    // recently used; none of them one this transfer already changed (else: a raw frame no slot keeps)
    let k = -1;
    for (let i = 1; i <= SLOTS; i++) { const s = this.slots[i]; if (s && !this.usedNow.has(i) && s.frame.length === f.length && (s.deltas + 1 >= this.keyEvery || this.now - s.at > this.refreshUs)) { k = i; break; } }
    if (k < 0) for (let i = 1; i <= SLOTS; i++) if (!this.slots[i] && !this.usedNow.has(i)) { k = i; break; }
    if (k < 0) for (let i = 1; i <= SLOTS; i++) if (!this.usedNow.has(i) && (k < 0 || this.slots[i]!.used < this.slots[k]!.used)) k = i;
    if (k < 0) {
      out.push(UNSTORED);
      putVarint(out, f.length);
      for (const x of f) out.push(x);
      return;
    }
    this.usedNow.add(k);
    const gen = this.slots[k] ? (this.slots[k]!.gen + 1) % GEN_MOD : 0;
    out.push((gen << 4) | k);
    putVarint(out, f.length);
    for (const x of f) out.push(x);
    this.slots[k] = { frame: f.slice(), gen, deltas: 0, used: this.tick, at: this.now };
  }
}

/** Receiver side of one compact stream (one source node and subject). */
export class CompactDecoder {
  private slots: ({ frame: Uint8Array; gen: number } | undefined)[] = new Array(SLOTS + 1).fill(undefined);
  private lastCount = -1;
  private lastTid = -1;

  /** Forgets every slot (a transfer was lost). */
  reset(): void { this.slots.fill(undefined); }

  /** Decodes one transfer; `transferId` is its Cyphal transfer-ID (mod 32), used to see lost transfers. */
  decode(p: Uint8Array, transferId: number): { frames: Uint8Array[]; lost: number; error?: BundleError } {
    const frames: Uint8Array[] = [];
    if (p.length === 0 || p[0] < COMPACT_BASE || (p[0] >= COMPACT_BASE + COMPACT_MOD && p[0] !== COMPACT_RESET)) {
      return { frames, lost: 0, error: { reason: "mode-mismatch", detail: p.length && p[0] === BUNDLE_PLAIN ? "a plain bundle (the sender's link is not compact)" : "a plain GSU transfer (the sender's link is not compact)" } };
    }
    const tid = transferId & 31;
    if (p[0] === COMPACT_RESET) { this.reset(); this.lastCount = -1; }
    else {
      const count = p[0] - COMPACT_BASE;
      if (this.lastTid < 0) this.reset(); // the stream's start was not seen: hold nothing from before
      else {
        // lost transfers d: the smallest d >= 0 with count = last + 1 + d (mod 13) and tid = lastTid + 1 + d (mod 32)
        // (after a reset transfer only the transfer-ID says it)
        let d = -1;
        for (let x = 0; x < MAX_GAP; x++) {
          if (((this.lastTid + 1 + x) & 31) === tid && (this.lastCount < 0 || (this.lastCount + 1 + x) % COMPACT_MOD === count)) { d = x; break; }
        }
        if (d < 0) this.reset();
      }
      this.lastCount = count;
    }
    this.lastTid = tid;
    let lost = 0;
    let off = 1;
    let prev: Uint8Array | undefined;
    while (off < p.length) {
      const tag = p[off];
      if (tag === PREV) {
        const r = prev && applyDelta(p, off + 1, prev);
        if (!r) return { frames, lost, error: { reason: "bundle-malformed", detail: `delta record at byte ${off} against the previous frame of the transfer: ${prev ? "runs past the transfer" : "there is none"}` } };
        frames.push(r.frame); prev = r.frame; off = r.next;
        continue;
      }
      if (tag === 0) {
        const r = padding(p, off, frames);
        return "frames" in r ? { frames, lost } : { frames, lost, error: r };
      }
      const slot = tag & 0x0f, gen = (tag >> 4) & 7;
      if (tag === UNSTORED) {
        const v = getVarint(p, off + 1);
        if (!v || v[0] === 0 || v[1] + v[0] > p.length) return { frames, lost, error: { reason: "bundle-malformed", detail: `raw record at byte ${off}: bad length` } };
        prev = p.slice(v[1], v[1] + v[0]);
        frames.push(prev);
        off = v[1] + v[0];
        continue;
      }
      if (slot === 0) return { frames, lost, error: { reason: "bundle-malformed", detail: `record tag 0x${tag.toString(16)} names slot 0` } };
      if (!(tag & 0x80)) {
        const v = getVarint(p, off + 1);
        if (!v || v[0] === 0 || v[1] + v[0] > p.length) return { frames, lost, error: { reason: "bundle-malformed", detail: `raw record at byte ${off}: bad length` } };
        const f = p.slice(v[1], v[1] + v[0]);
        this.slots[slot] = { frame: f, gen };
        prev = f.slice();
        frames.push(prev);
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
      const r = applyDelta(p, off + 1, s.frame);
      if (!r) return { frames, lost, error: { reason: "bundle-malformed", detail: `delta record at byte ${off}: runs past the transfer or sets mask bits beyond the frame's ${s.frame.length} bytes` } };
      this.slots[slot] = { frame: r.frame, gen };
      prev = r.frame.slice();
      frames.push(prev);
      off = r.next;
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
