// Runtime frames on a link (docs/wire.md): the core's header, then for
// application messages a 2-byte route (wire id, flags) and the payload.
import type { Core } from "../core/core.ts";
import type { Header } from "../core/types.ts";
import { wide } from "../core/core.ts";
import { carriesBound, FLAG_BOUND, FLAG_VEC, splitBound } from "./route.ts";
import { copyBytes } from "./byte-pool.ts";
export { FLAG_BOUND, FLAG_VEC } from "./route.ts";

export const FLAG_OLD = 1; // sent by an old version (shadow-internal traffic)

export const CTRL_COMMIT = 1;

export interface AppFrame { header: Header; wire: number; flags: number; payload: Uint8Array }

export function encodeApp(core: Core, header: Header, wire: number, flags: number, payload: Uint8Array): Uint8Array {
  if (header.vec && wide(header.vec)) {
    // vector form: the mask in the header's index, the components after the route
    const { mask, bytes } = core.encodeVecValues(header.vec);
    const h = core.encodeHeader({ kind: "app", dirty: header.dirty, index: mask, epoch: header.epoch, aux: 0 });
    const out = new Uint8Array(h.length + 2 + bytes.length + payload.length);
    out.set(h, 0);
    out[h.length] = wire;
    out[h.length + 1] = flags | FLAG_VEC;
    out.set(bytes, h.length + 2);
    out.set(payload, h.length + 2 + bytes.length);
    return out;
  }
  const h = core.encodeHeader(header);
  const out = new Uint8Array(h.length + 2 + payload.length);
  out.set(h, 0);
  out[h.length] = wire;
  out[h.length + 1] = flags;
  out.set(payload, h.length + 2);
  return out;
}

/**
 * encodeApp for the lean send path: the header's fields come from the core's SEND effect,
 * so nothing is validated and no header object is made. `vec` in the vector form only when wide.
 */
export function encodeAppFields(core: Core, dirty: number, index: number, epoch: number, vec: number[] | undefined,
  wire: number, flags: number, payload: Uint8Array): Uint8Array {
  const buf = new Uint8Array(APP_FRAME_MAX_OVERHEAD + payload.length);
  return buf.slice(0, encodeAppInto(core, buf, dirty, index, epoch, vec, wire, flags, payload, null));
}

/**
 * encodeAppFields into `dst` from offset 0 (no frame allocated): returns the frame's length.
 * `bound`, a passedAt frame, rides in it (docs/wire.md "A passed-AT bound riding": FLAG_BOUND,
 * the bound between the route, or a vector's components, and the payload). `dst` must have
 * room: APP_FRAME_MAX_OVERHEAD + the bound's and the payload's lengths.
 */
export const APP_FRAME_MAX_OVERHEAD = 128;
export function encodeAppInto(core: Core, dst: Uint8Array, dirty: number, index: number, epoch: number, vec: number[] | undefined,
  wire: number, flags: number, payload: Uint8Array, bound: Uint8Array | null): number {
  const f = bound ? flags | FLAG_BOUND : flags;
  let at: number;
  if (vec && wide(vec)) {
    const m = core.stageVecValues(vec);
    const n = core.appHeader(dirty, core.vecMask(), epoch);
    core.copyScratch(dst, 0, n);
    dst[n] = wire;
    dst[n + 1] = f | FLAG_VEC;
    core.copyVecValues(dst, n + 2, m);
    at = n + 2 + m;
  } else {
    const n = core.appHeader(dirty, index, epoch);
    core.copyScratch(dst, 0, n);
    dst[n] = wire;
    dst[n + 1] = f;
    at = n + 2;
  }
  if (bound) { copyBytes(dst, at, bound, 0, bound.length); at += bound.length; }
  copyBytes(dst, at, payload, 0, payload.length);
  return at + payload.length;
}

export class FrameError extends Error {
  constructor(message: string) { super(message); this.name = "FrameError"; }
}

/**
 * Splits a frame into header and body; throws FrameError (a remote fault) if malformed. An
 * application frame with a passed-AT bound riding in it (route.ts) gives the application
 * frame's header and body, and the passedAt frame as `bound`.
 */
export function decodeFrame(core: Core, frame: Uint8Array): { header: Header; body: Uint8Array; bound?: Uint8Array } {
  if (carriesBound(frame)) {
    const s = splitBound(frame);
    if (typeof s === "string") throw new FrameError(s);
    try {
      core.decodeHeader(s.bound);
    } catch (e) {
      throw new FrameError((e as Error).message);
    }
    return { ...decodeFrame(core, s.app), bound: s.bound };
  }
  let h;
  try {
    h = core.decodeHeader(frame);
  } catch (e) {
    throw new FrameError((e as Error).message);
  }
  const body = frame.subarray(h.length);
  if (h.kind === "app" && body.length >= 2 && (body[1] & FLAG_VEC)) {
    // the vector form: read the components, hand on the route and the payload
    let r;
    try {
      r = core.decodeVecValues(frame, h.length + 2, h.index);
    } catch (e) {
      throw new FrameError((e as Error).message);
    }
    const rest = new Uint8Array(body.length - r.used);
    rest[0] = body[0];
    rest[1] = body[1] & ~FLAG_VEC;
    rest.set(body.subarray(2 + r.used), 2);
    return { header: { ...h, index: r.vec[0], vec: r.vec }, body: rest };
  }
  return { header: h, body };
}
