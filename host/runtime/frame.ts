// Runtime frames on a link (docs/wire.md): the core's header, then for
// application messages a 2-byte route (wire id, flags) and the payload.
import type { Core } from "../core/core.ts";
import type { Header } from "../core/types.ts";

export const FLAG_OLD = 1; // sent by an old version (shadow-internal traffic)

export const CTRL_COMMIT = 1;

export interface AppFrame { header: Header; wire: number; flags: number; payload: Uint8Array }

export function encodeApp(core: Core, header: Header, wire: number, flags: number, payload: Uint8Array): Uint8Array {
  const h = core.encodeHeader(header);
  const out = new Uint8Array(h.length + 2 + payload.length);
  out.set(h, 0);
  out[h.length] = wire;
  out[h.length + 1] = flags;
  out.set(payload, h.length + 2);
  return out;
}

export class FrameError extends Error {
  constructor(message: string) { super(message); this.name = "FrameError"; }
}

/** Splits a frame into header and body; throws FrameError (a remote fault) if malformed. */
export function decodeFrame(core: Core, frame: Uint8Array): { header: Header; body: Uint8Array } {
  let h;
  try {
    h = core.decodeHeader(frame);
  } catch (e) {
    throw new FrameError((e as Error).message);
  }
  return { header: h, body: frame.subarray(h.length) };
}
