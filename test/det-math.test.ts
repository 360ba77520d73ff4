// The simulated devices' sine and cosine (host/component/det-math.ts): close to
// Math's, and bits fixed by the argument alone, so a device simulated on an ARM
// board equals a reference computed on the x86 host.
import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { detCos, detSin } from "../host/component/det-math.ts";
import { imuMessage } from "../host/component/demo.ts";

function ulps(a: number, b: number): number {
  const f = new Float64Array([a, b]);
  const u = new BigInt64Array(f.buffer);
  return Number(u[0] > u[1] ? u[0] - u[1] : u[1] - u[0]);
}

describe("detSin/detCos", () => {
  it("are within 1 ulp of Math.sin/Math.cos on the arguments the generators use (|x| < 5000)", () => {
    let worst = 0;
    for (let i = -200000; i <= 200000; i++) {
      const x = i * 0.0249;
      // near a zero of the function, ulps of the result are tiny; compare there in absolute terms
      const s = Math.sin(x), c = Math.cos(x);
      if (Math.abs(s) > 1e-3) worst = Math.max(worst, ulps(detSin(x), s)); else expect(Math.abs(detSin(x) - s)).toBeLessThan(1e-18);
      if (Math.abs(c) > 1e-3) worst = Math.max(worst, ulps(detCos(x), c)); else expect(Math.abs(detCos(x) - c)).toBeLessThan(1e-18);
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(detSin(0)).toBe(0);
    expect(detCos(0)).toBe(1);
    expect(detSin(Math.PI / 2)).toBe(1);
    expect(Number.isNaN(detSin(Infinity)) && Number.isNaN(detCos(NaN))).toBe(true);
  });

  it("the demo IMU's first 2000 samples hash to the value pinned here (computed on x86-64; an ARM run of this test checks the same bits)", () => {
    const h = createHash("sha256");
    for (let k = 0; k < 2000; k++) h.update(imuMessage(k));
    expect(h.digest("hex")).toBe(PINNED);
  });
});
const PINNED = "23a2dafb9de64a309ca9dfe26c4c2a9b8db5b1176dd1a6fe8ab5c7ac805ffca4";
