// estimator 2.0.0 — same estimate as 1.0.0, but sends attitude.quat@2
// (unit quaternion w, x, y, z; ZYX Euler convention) to the controller.
// Fault hook: gsu_fault(fromStep) makes it write NaN into its state at every
// step >= fromStep (a persistent state fault).
import { send, INBOX, OUT, NO_STEP, expectStep, wrapAngle } from "../../lib/gsu";
export { gsu_inbox } from "../../lib/gsu";

const IN_GYRO: u32 = 0;
const OUT_ATT: u32 = 1;
const DT: f64 = 0.01;

let next: u32 = NO_STEP;
let roll: f64 = 0.0;
let pitch: f64 = 0.0;
let yaw: f64 = 0.0;
let faultFrom: u32 = NO_STEP;

export function gsu_handle(port: u32, len: u32): void {
  if (port != IN_GYRO || len != 28) abort("estimator: bad message on port " + port.toString() + " len " + len.toString());
  const k = load<u32>(INBOX);
  next = expectStep(next, k, "estimator.rates");
  if (k >= faultFrom) roll = NaN; // injected design fault
  roll = wrapAngle(roll + load<f64>(INBOX, 4) * DT);
  pitch = wrapAngle(pitch + load<f64>(INBOX, 12) * DT);
  yaw = wrapAngle(yaw + load<f64>(INBOX, 20) * DT);
  const cr = Math.cos(roll * 0.5), sr = Math.sin(roll * 0.5);
  const cp = Math.cos(pitch * 0.5), sp = Math.sin(pitch * 0.5);
  const cy = Math.cos(yaw * 0.5), sy = Math.sin(yaw * 0.5);
  // attitude.quat@2: u32 k + f64 w, x, y, z
  store<u32>(OUT, k);
  store<f64>(OUT, cr * cp * cy + sr * sp * sy, 4);
  store<f64>(OUT, sr * cp * cy - cr * sp * sy, 12);
  store<f64>(OUT, cr * sp * cy + sr * cp * sy, 20);
  store<f64>(OUT, cr * cp * sy - sr * sp * cy, 28);
  send(OUT_ATT, OUT, 36);
}

export function gsu_fault(fromStep: u32): void {
  faultFrom = fromStep;
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
