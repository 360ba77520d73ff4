// estimator 1.0.0 — integrates gyro rates into Euler angles (roll, pitch, yaw)
// and sends attitude.euler@1 to the controller.
import { send, INBOX, OUT, NO_STEP, expectStep, wrapAngle } from "../../lib/gsu";
export { gsu_inbox } from "../../lib/gsu";

const IN_GYRO: u32 = 0;
const OUT_ATT: u32 = 1;
const DT: f64 = 0.01;

let next: u32 = NO_STEP;
let roll: f64 = 0.0;
let pitch: f64 = 0.0;
let yaw: f64 = 0.0;

export function gsu_handle(port: u32, len: u32): void {
  if (port != IN_GYRO || len != 28) abort("estimator: bad message on port " + port.toString() + " len " + len.toString());
  const k = load<u32>(INBOX);
  next = expectStep(next, k, "estimator.rates");
  roll = wrapAngle(roll + load<f64>(INBOX, 4) * DT);
  pitch = wrapAngle(pitch + load<f64>(INBOX, 12) * DT);
  yaw = wrapAngle(yaw + load<f64>(INBOX, 20) * DT);
  // attitude.euler@1: u32 k + f64 roll, pitch, yaw (rad)
  store<u32>(OUT, k);
  store<f64>(OUT, roll, 4); store<f64>(OUT, pitch, 12); store<f64>(OUT, yaw, 20);
  send(OUT_ATT, OUT, 28);
}

// Optional state transfer (same layout in 1.0.0 and 2.0.0): u32 next, f64 roll, pitch, yaw.
export function gsu_state_save(): u32 {
  store<u32>(INBOX, next);
  store<f64>(INBOX, roll, 4); store<f64>(INBOX, pitch, 12); store<f64>(INBOX, yaw, 20);
  return 28;
}
export function gsu_state_load(len: u32): void {
  if (len != 28) abort("estimator: state blob must be 28 bytes");
  next = load<u32>(INBOX);
  roll = load<f64>(INBOX, 4); pitch = load<f64>(INBOX, 12); yaw = load<f64>(INBOX, 20);
}
