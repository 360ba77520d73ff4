// The byte layout of an application frame that the link layer and the board both read
// without the core (docs/wire.md, "The route" and "A passed-AT bound riding"): where the
// route starts, and the passed-AT bound an application frame may carry. Pure functions on
// bytes; every value is validated again by the core when the frame is handled.

/** Route flag bit 3: a passedAt header rides in this application frame (docs/wire.md). */
export const FLAG_BOUND = 8;
/** Route flag bit 2: the header's index is a vector's mask and its components follow the route (docs/wire.md "Vectors"). */
export const FLAG_VEC = 4;
const KIND_APP = 0, KIND_PASSED = 1;

/** The offset just past the varint at `i`, or -1 when it runs past the end or past 5 bytes. */
function skipVarint(f: Uint8Array, i: number): number {
  for (let k = 0; k < 5 && i + k < f.length; k++) if (!(f[i + k] & 0x80)) return i + k + 1;
  return -1;
}

/** 128^k: integer products (a power `**` makes a heap number per call in unoptimized code). */
const SHIFT = [1, 128, 16384, 2097152, 268435456];
/** The varint at `i` (at most 32 bits), or -1 when it is truncated. */
function varintAt(f: Uint8Array, i: number): number {
  let v = 0;
  for (let k = 0; k < 5 && i + k < f.length; k++) {
    v += (f[i + k] & 0x7f) * SHIFT[k];
    if (!(f[i + k] & 0x80)) return v;
  }
  return -1;
}

function popcount16(m: number): number {
  let n = 0;
  for (let b = 0; b < 16; b++) if (m & (1 << b)) n++;
  return n;
}

/** Skips `count` varints from `i`; -1 when truncated. */
function skipVarints(f: Uint8Array, i: number, count: number): number {
  for (let k = 0; k < count && i >= 0; k++) i = skipVarint(f, i);
  return i;
}

/** Skips the varint index of an app header; returns the offset of the route, or -1. */
export function routeAt(f: Uint8Array): number {
  return f.length > 0 ? skipVarint(f, 1) : -1;
}

/** True for an application frame whose route says a passed-AT bound rides in it. */
export function carriesBound(f: Uint8Array): boolean {
  if (f.length === 0 || f[0] >> 5 !== KIND_APP) return false;
  const r = routeAt(f);
  return r > 0 && r + 1 < f.length && (f[r + 1] & FLAG_BOUND) !== 0;
}

/**
 * Where an application frame's payload starts (after the route and, in the vector form,
 * the vector's components), or -1 when the frame ends first.
 */
export function payloadAt(f: Uint8Array): number {
  const r = routeAt(f);
  if (r < 0 || r + 2 > f.length) return -1;
  if (!(f[r + 1] & FLAG_VEC)) return r + 2;
  const mask = varintAt(f, 1);
  return mask < 0 ? -1 : skipVarints(f, r + 2, popcount16(mask));
}

/** The length of the passedAt header at `i` (scalar or vector form), or -1 when it is not one or is truncated. */
export function boundLength(f: Uint8Array, i: number): number {
  if (i >= f.length || f[i] >> 5 !== KIND_PASSED) return -1;
  let j = i + 1;
  if (f[i] & 0x10) {
    // the vector form: the mask and components of P, then of Q
    for (let b = 0; b < 2 && j >= 0; b++) {
      const mask = varintAt(f, j);
      if (mask < 0) return -1;
      j = skipVarints(f, skipVarint(f, j), popcount16(mask));
    }
  } else {
    j = skipVarints(f, j, 2);
  }
  return j < 0 ? -1 : j - i;
}

/**
 * An application frame carrying a passed-AT bound, split into the two frames it stands
 * for, in the order they were sent: the passedAt frame (a view into `f`) and the
 * application frame without it (a new frame, FLAG_BOUND cleared). A string names what is
 * wrong when the frame does not split.
 */
export function splitBound(f: Uint8Array): { bound: Uint8Array; app: Uint8Array } | string {
  const p = payloadAt(f);
  if (p < 0) return "application frame carrying a bound ends inside its route or vector";
  const n = boundLength(f, p);
  if (n < 0) return p < f.length && f[p] >> 5 !== KIND_PASSED
    ? `application frame carries a kind-${f[p] >> 5} header where only a passedAt (kind 1) may ride`
    : "application frame carrying a bound ends inside the bound";
  const app = new Uint8Array(f.length - n);
  writeUnbound(f, p, n, app);
  return { bound: f.subarray(p, p + n), app };
}

/**
 * The application frame without the bound of length n at p (payloadAt, boundLength) written
 * into `app` from offset 0, FLAG_BOUND cleared: splitBound's second frame, into a buffer of
 * the caller's (at least f.length - n bytes).
 */
export function writeUnbound(f: Uint8Array, p: number, n: number, app: Uint8Array): void {
  for (let i = 0; i < p; i++) app[i] = f[i];
  for (let i = p + n; i < f.length; i++) app[i - n] = f[i];
  app[routeAt(f) + 1] &= ~FLAG_BOUND;
}

/** `app` (an application frame without a bound) with `bound` (a passedAt frame) riding in it. */
export function withBound(app: Uint8Array, bound: Uint8Array): Uint8Array {
  const p = payloadAt(app);
  if (p < 0 || boundLength(bound, 0) !== bound.length) throw new Error("withBound: not an application frame and a passedAt frame (bug)");
  const out = new Uint8Array(app.length + bound.length);
  out.set(app.subarray(0, p), 0);
  out.set(bound, p);
  out.set(app.subarray(p), p + bound.length);
  out[routeAt(app) + 1] |= FLAG_BOUND;
  return out;
}
