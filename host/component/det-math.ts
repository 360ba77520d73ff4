// Sine and cosine that give the same bits on every platform, for the simulated
// devices' inputs. ECMAScript leaves Math.sin and Math.cos "implementation-
// approximated": Node on arm64 and on x86-64 differ in the last bit for some
// arguments (measured: k = 40, 59, 70 of the demo IMU). A board's devices
// simulated on an emulated Pi and the fault-free reference computed on the host
// must be the same bits, so the generators use these instead. Only +, -, * and
// Math.round, each exactly rounded in IEEE 754 double, so the result is a pure
// function of the argument. Accuracy about 1 ulp for |x| < 2^19 * pi/2 (fdlibm's
// kernels, k_sin.c and k_cos.c, after a Cody-Waite reduction by pi/2); beyond
// that the reduction loses bits but stays deterministic.

const INV_PIO2 = 6.36619772367581382433e-01;
const PIO2_1 = 1.57079632673412561417e+00; // first 33 bits of pi/2: n * PIO2_1 is exact for |n| < 2^20
const PIO2_1T = 6.07710050650619224932e-11; // pi/2 - PIO2_1

const S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03, S3 = -1.98412698298579493134e-04,
  S4 = 2.75573137070700676789e-06, S5 = -2.50507602534068634195e-08, S6 = 1.58969099521155010221e-10;
const C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03, C3 = 2.48015872894767294178e-05,
  C4 = -2.75573143513906633035e-07, C5 = 2.08757232129817482790e-09, C6 = -1.13596475577881948265e-11;

/** sin on [-pi/4, pi/4] */
function kSin(x: number): number {
  const z = x * x;
  return x + x * z * (S1 + z * (S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)))));
}
/** cos on [-pi/4, pi/4] */
function kCos(x: number): number {
  const z = x * x;
  return 1 - 0.5 * z + z * z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
}
/** x = n * pi/2 + r, |r| <= about pi/4; returns the quadrant n mod 4 and r */
function reduce(x: number): [number, number] {
  const n = Math.round(x * INV_PIO2);
  return [((n % 4) + 4) % 4, x - n * PIO2_1 - n * PIO2_1T];
}

/** sin(x), the same bits on every platform */
export function detSin(x: number): number {
  if (!Number.isFinite(x)) return NaN;
  const [q, r] = reduce(x);
  return q === 0 ? kSin(r) : q === 1 ? kCos(r) : q === 2 ? -kSin(r) : -kCos(r);
}

/** cos(x), the same bits on every platform */
export function detCos(x: number): number {
  if (!Number.isFinite(x)) return NaN;
  const [q, r] = reduce(x);
  return q === 0 ? kCos(r) : q === 1 ? -kSin(r) : q === 2 ? -kCos(r) : kSin(r);
}
