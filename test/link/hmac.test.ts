// The link layer's HMAC-SHA256 in plain JavaScript (host/transport/hmac.ts) and its MAC
// computed into the frame (auth.ts LinkAuthenticator), against node:crypto's HMAC: the
// reference the wire format names (docs/wire.md), computed by an implementation outside GSU.
import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Hmac256 } from "../../host/transport/hmac.ts";
import { LinkAuthenticator, linkMac, MAC_BYTES } from "../../host/transport/auth.ts";

describe("HMAC-SHA256 computed into a buffer", () => {
  it("equals node:crypto's for keys and messages of every length around the block boundaries", () => {
    let cases = 0;
    for (const keyLen of [1, 16, 32, 63, 64, 65, 100, 200]) {
      const key = randomBytes(keyLen);
      const h = new Hmac256(key);
      for (let len = 0; len <= 300; len += len < 140 ? 1 : 17) {
        const msg = randomBytes(len);
        const want = createHmac("sha256", key).update(msg).digest();
        const out = new Uint8Array(40);
        // fed in two parts, a byte and a u32 in between, to cross the block buffer's edges
        const cut = len >> 1;
        h.begin().update(msg, 0, cut).update(msg, cut, len).finish(out, 4, 32);
        expect(Buffer.from(out.subarray(4, 36)).equals(want), `key ${keyLen} B, message ${len} B`).toBe(true);
        expect(h.begin().update(msg).matches(want, 0, 32)).toBe(true);
        const bad = Buffer.from(want); bad[len % 32] ^= 1 << (len % 8);
        expect(h.begin().update(msg).matches(bad, 0, 32)).toBe(false);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(1000);
  });

  it("the link MAC equals linkMac (node:crypto) for every freshness layout, and refuses any altered byte", () => {
    const key = randomBytes(32);
    const auth = new LinkAuthenticator(key);
    for (let n = 0; n <= 4; n++) {
      for (const len of [0, 3, 21, 47, 53, 64, 119, 200]) {
        const counters = Array.from({ length: n }, (_, i) => (i * 0x9e3779b1 + len) >>> 0);
        const frame = new Uint8Array(len + MAC_BYTES);
        frame.set(randomBytes(len));
        const fresh = { src: 3, dst: 250, incSrc: 0xfedcba98, incDst: 7 + len, counters };
        auth.sign(fresh.src, fresh.dst, fresh.incSrc, fresh.incDst, [...counters, 99, 99], n, frame, len);
        expect(Buffer.from(frame.subarray(len)).equals(linkMac(key, fresh, frame.subarray(0, len))), `${n} counters, ${len} B`).toBe(true);
        expect(auth.verify(fresh.src, fresh.dst, fresh.incSrc, fresh.incDst, counters, n, frame)).toBe(true);
        for (let i = 0; i < frame.length; i += 5) {
          frame[i] ^= 0x10;
          expect(auth.verify(fresh.src, fresh.dst, fresh.incSrc, fresh.incDst, counters, n, frame)).toBe(false);
          frame[i] ^= 0x10;
        }
        if (n) expect(auth.verify(fresh.src, fresh.dst, fresh.incSrc, fresh.incDst, counters.map((c, i) => (i === n - 1 ? c + 256 : c)), n, frame)).toBe(false);
        expect(auth.verify(fresh.src, fresh.dst ^ 1, fresh.incSrc, fresh.incDst, counters, n, frame)).toBe(false);
      }
    }
  });
});
