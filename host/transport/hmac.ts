// HMAC-SHA256 computed into a buffer, with no allocation per message: the link layer's MAC
// (auth.ts, docs/wire.md "Authentication") for every frame a board sends or receives.
// node:crypto's createHmac makes an object, a digest Buffer and internal state per call;
// this keeps the key's inner and outer states (SHA-256 after the key block XOR ipad/opad,
// FIPS 198-1) and the working arrays, made once per key, and runs the compression function
// (FIPS 180-4) in plain JavaScript. test/hmac.test.ts checks it against node:crypto.

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

/** SHA-256 in a state made once: init, update (any number of times), finish into a buffer. */
class Sha256 {
  readonly h = new Int32Array(8);
  private readonly w = new Int32Array(64);
  private readonly block = new Uint8Array(64);
  private fill = 0;   // bytes in block
  private total = 0;  // bytes hashed so far (a frame is far below 2^53)

  /** Starts from `state` (8 words), with `done` bytes already hashed into it (a multiple of 64). */
  init(state: Int32Array, done: number): void { this.h.set(state); this.fill = 0; this.total = done; }

  update(b: Uint8Array, from = 0, to = b.length): void {
    const block = this.block;
    this.total += to - from;
    let i = from;
    if (this.fill) {
      while (i < to && this.fill < 64) block[this.fill++] = b[i++];
      if (this.fill < 64) return;
      this.compress(block, 0);
      this.fill = 0;
    }
    for (; i + 64 <= to; i += 64) this.compress(b, i);
    while (i < to) block[this.fill++] = b[i++];
  }

  /** One byte (the freshness fields). */
  byte(v: number): void {
    this.total++;
    this.block[this.fill++] = v;
    if (this.fill === 64) { this.compress(this.block, 0); this.fill = 0; }
  }
  /** A u32, little-endian. */
  u32le(v: number): void { this.byte(v & 0xff); this.byte((v >>> 8) & 0xff); this.byte((v >>> 16) & 0xff); this.byte((v >>> 24) & 0xff); }

  /** Pads and writes the 32-byte digest at out[at..]. */
  finish(out: Uint8Array, at: number): void {
    const bits = this.total * 8;
    const block = this.block;
    block[this.fill++] = 0x80;
    if (this.fill > 56) { while (this.fill < 64) block[this.fill++] = 0; this.compress(block, 0); this.fill = 0; }
    while (this.fill < 56) block[this.fill++] = 0;
    const hi = Math.floor(bits / 0x100000000), lo = bits >>> 0;
    block[56] = hi >>> 24; block[57] = (hi >>> 16) & 0xff; block[58] = (hi >>> 8) & 0xff; block[59] = hi & 0xff;
    block[60] = lo >>> 24; block[61] = (lo >>> 16) & 0xff; block[62] = (lo >>> 8) & 0xff; block[63] = lo & 0xff;
    this.compress(block, 0);
    this.fill = 0;
    const h = this.h;
    for (let k = 0; k < 8; k++) {
      const v = h[k];
      out[at + 4 * k] = v >>> 24; out[at + 4 * k + 1] = (v >>> 16) & 0xff; out[at + 4 * k + 2] = (v >>> 8) & 0xff; out[at + 4 * k + 3] = v & 0xff;
    }
  }

  private compress(b: Uint8Array, at: number): void {
    const w = this.w, h = this.h;
    for (let t = 0; t < 16; t++) {
      const j = at + 4 * t;
      w[t] = (b[j] << 24) | (b[j + 1] << 16) | (b[j + 2] << 8) | b[j + 3];
    }
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15], y = w[t - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    let a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[t] + w[t]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & bb) ^ (a & c) ^ (bb & c);
      const t2 = (S0 + maj) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
    }
    h[0] = (h[0] + a) | 0; h[1] = (h[1] + bb) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + hh) | 0;
  }
}

/**
 * HMAC-SHA256 under one key: begin(), feed the message (update, byte, u32le), then
 * finish(out, at, n) writes the first n bytes of the MAC, or matches(frame, at, n) compares
 * them in constant time. One message at a time; nothing is allocated after construction.
 */
export class Hmac256 {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);
  private readonly sha = new Sha256();
  private readonly digest = new Uint8Array(32);

  constructor(key: Uint8Array) {
    const k = new Uint8Array(64);
    if (key.length > 64) { this.sha.init(IV, 0); this.sha.update(key); this.sha.finish(k, 0); } else k.set(key);
    const pad = new Uint8Array(64);
    for (let i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
    this.sha.init(IV, 0); this.sha.update(pad); this.inner.set(this.sha.h);
    for (let i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
    this.sha.init(IV, 0); this.sha.update(pad); this.outer.set(this.sha.h);
  }

  begin(): this { this.sha.init(this.inner, 64); return this; }
  update(b: Uint8Array, from = 0, to = b.length): this { this.sha.update(b, from, to); return this; }
  byte(v: number): this { this.sha.byte(v); return this; }
  u32le(v: number): this { this.sha.u32le(v); return this; }

  private done(): Uint8Array {
    const d = this.digest;
    this.sha.finish(d, 0);
    this.sha.init(this.outer, 64);
    this.sha.update(d);
    this.sha.finish(d, 0);
    return d;
  }

  /** Writes the MAC's first n bytes (n ≤ 32) at out[at..]. */
  finish(out: Uint8Array, at: number, n: number): void {
    const d = this.done();
    for (let i = 0; i < n; i++) out[at + i] = d[i];
  }

  /** Whether frame[at..at+n] holds the MAC's first n bytes; compares every byte (constant time). */
  matches(frame: Uint8Array, at: number, n: number): boolean {
    const d = this.done();
    let diff = 0;
    for (let i = 0; i < n; i++) diff |= frame[at + i] ^ d[i];
    return diff === 0;
  }
}
