// sensor 1.0.0 — reads the IMU device, forwards gyro rates to the estimator
// and the raw rate magnitude to telemetry.
import { send, INBOX, OUT, NO_STEP, expectStep } from "../../lib/gsu";
export { gsu_inbox } from "../../lib/gsu";

const IN_IMU: u32 = 0;
const OUT_GYRO: u32 = 1;
const OUT_RAW: u32 = 2;

let next: u32 = NO_STEP;

export function gsu_handle(port: u32, len: u32): void {
  if (port != IN_IMU || len != 28) abort("sensor: bad message on port " + port.toString() + " len " + len.toString());
  const k = load<u32>(INBOX);
  next = expectStep(next, k, "sensor.imu");
  const wx = load<f64>(INBOX, 4), wy = load<f64>(INBOX, 12), wz = load<f64>(INBOX, 20);
  // gyro: u32 k + 3 f64 rates (rad/s)
  store<u32>(OUT, k);
  store<f64>(OUT, wx, 4); store<f64>(OUT, wy, 12); store<f64>(OUT, wz, 20);
  send(OUT_GYRO, OUT, 28);
  // raw: u32 k + f64 |w|
  store<u32>(OUT, k);
  store<f64>(OUT, Math.sqrt(wx * wx + wy * wy + wz * wz), 4);
  send(OUT_RAW, OUT, 12);
}
