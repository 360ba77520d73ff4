// The in-place header codec the board's per-message paths use (issue 12) against the core's
// object codec, which the rest of the runtime and the fuzzers use: on random headers,
// application frames (scalar and vector form) and passedAt notifications (scalar and
// vector form), both give the same bytes and the same fields. The object codec is the
// reference: it validates every field and builds every vector.
import { describe, expect, it } from "vitest";
import { Core, trimVec, VECTOR_MAX, wide } from "../host/core/core.ts";
import { HK } from "../host/core/abi.ts";
import { decodeFrame, encodeApp, encodeAppFields, FLAG_VEC } from "../host/runtime/frame.ts";
import { Rng } from "../host/sim/rng.ts";

const core = new Core({ procs: 2 });
const rng = new Rng(2026);
const u32 = () => (rng.int(0, 3) === 0 ? rng.int(0, 300) : rng.int(0, 0x7fffffff) * 2 + rng.int(0, 1)) >>> 0;
/** A vector of 2..VECTOR_MAX components, some zero, at least one beyond the first nonzero (wide). */
function vector(): number[] {
  const n = rng.int(2, VECTOR_MAX);
  const v = Array.from({ length: n }, () => (rng.int(0, 2) === 0 ? 0 : u32()));
  if (!wide(v)) v[n - 1] = 1 + rng.int(0, 1000);
  return v;
}
const payload = () => Uint8Array.from({ length: rng.int(0, 40) }, () => rng.int(0, 255));

describe("the in-place codec agrees with the object codec", () => {
  it("application frames, scalar and vector form: the same bytes, the same fields, the route and payload at their offsets", () => {
    for (let i = 0; i < 2000; i++) {
      const vec = i % 2 ? vector() : undefined;
      const dirty = rng.int(0, 1), index = vec ? vec[0] : u32(), epoch = rng.int(0, 15), wire = rng.int(0, 255), flags = rng.int(0, 3);
      const p = payload();
      const lean = encodeAppFields(core, dirty, index, epoch, vec, wire, flags, p);
      const ref = encodeApp(core, { kind: "app", dirty, index, epoch, aux: 0, vec }, wire, flags, p);
      expect([...lean]).toEqual([...ref]);
      // decoding: decodeFrame (objects) against decodeHeaderFields / decodeVecValuesFields
      const d = decodeFrame(core, lean);
      const n = core.decodeHeaderFields(lean);
      expect([core.hdrWord(0), core.hdrWord(1), core.hdrWord(3), core.hdrWord(5)]).toEqual([HK.app, dirty, epoch, n]);
      expect(lean[n]).toBe(wire);
      const isVec = (lean[n + 1] & FLAG_VEC) !== 0;
      expect(isVec).toBe(vec !== undefined);
      let pOff = n + 2, got: number[] | undefined;
      if (isVec) {
        pOff += core.decodeVecValuesFields(lean, n + 2, core.hdrWord(2));
        got = core.decodedVec();
        expect(got).toEqual(trimVec(vec!));
        expect(got).toEqual(d.header.vec);
      } else {
        expect(core.hdrWord(2)).toBe(index);
        expect(d.header.index).toBe(index);
      }
      expect([...lean.subarray(pOff)]).toEqual([...p]);
      expect([...d.body.subarray(2)]).toEqual([...p]);
    }
  });

  it("passedAt, scalar and vector form: decodeHeaderFields / decodeBoundsFields with readDecodedBounds give decodeHeader's fields", () => {
    const P = new Array<number>(VECTOR_MAX).fill(0), Q = new Array<number>(VECTOR_MAX).fill(0);
    for (let i = 0; i < 2000; i++) {
      const bounds = i % 2 === 1;
      const Pv = bounds ? vector() : undefined, Qv = bounds ? (rng.int(0, 1) ? vector() : [u32()]) : undefined;
      const v = Pv ? Pv[0] : u32(), vext = Qv ? Qv[0] : u32(), epoch = rng.int(0, 15);
      const frame = core.encodeHeader({ kind: "passedAt", dirty: 0, index: v, epoch, aux: vext, P: Pv, Q: Qv });
      const h = core.decodeHeader(frame);
      expect((frame[0] & 0x10) !== 0).toBe(bounds);
      if (bounds) {
        const n = core.decodeBoundsFields(frame);
        expect([core.boundsWord(0), core.boundsWord(3), n]).toEqual([HK.passedAt, epoch, h.length]);
        core.readDecodedBounds(P, Q);
        expect(trimVec(P)).toEqual(h.P);
        expect(trimVec(Q)).toEqual(h.Q);
        expect(trimVec(P)).toEqual(trimVec(Pv!));
        expect([P[0], Q[0]]).toEqual([h.index, h.aux]);
      } else {
        const n = core.decodeHeaderFields(frame);
        expect([core.hdrWord(0), core.hdrWord(2), core.hdrWord(3), core.hdrWord(4), n]).toEqual([HK.passedAt, h.index, h.epoch, h.aux, h.length]);
        expect([h.index, h.aux]).toEqual([v, vext]);
      }
    }
  });

  it("malformed headers: the in-place decoders refuse what decodeHeader refuses, with the same message", () => {
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = Uint8Array.from({ length: rng.int(0, 12) }, () => rng.int(0, 255));
      let ref: string | null = null;
      try { core.decodeHeader(bytes); } catch (e) { ref = (e as Error).message; }
      const boundsForm = bytes.length > 0 && [1, 3, 4].includes(bytes[0] >> 5) && (bytes[0] & 0x10) !== 0;
      let lean: string | null = null;
      try { if (boundsForm) core.decodeBoundsFields(bytes); else core.decodeHeaderFields(bytes); } catch (e) { lean = (e as Error).message; }
      expect(lean).toBe(ref);
      if (ref) refused++;
    }
    expect(refused).toBeGreaterThan(100); // the random bytes do reach the refusals
  });
});
