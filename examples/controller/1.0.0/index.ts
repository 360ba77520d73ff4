// controller 1.0.0 — consumes attitude.euler@1, computes a PD wheel torque
// command (target attitude 0), quantised to micro-N·m, and sends it to the
// wheel device, to fdir and to telemetry.
import { send, INBOX, OUT, NO_STEP, expectStep, wrapAngle, quantise } from "../../lib/gsu";
export { gsu_inbox } from "../../lib/gsu";

const IN_ATT: u32 = 0;
const OUT_WHEEL: u32 = 1;
const OUT_FDIR: u32 = 2;
const OUT_TLM: u32 = 3;
const DT: f64 = 0.01;
const KP: f64 = 0.05;   // N·m / rad
const KD: f64 = 0.02;   // N·m / (rad/s)
const TMAX: f64 = 0.2;  // N·m saturation

let next: u32 = NO_STEP;
let havePrev: bool = false;
let prevRoll: f64 = 0.0;
let prevPitch: f64 = 0.0;
let prevYaw: f64 = 0.0;

function law(a: f64, prev: f64): f64 {
  const d = havePrev ? wrapAngle(a - prev) / DT : 0.0;
  const t = -(KP * a + KD * d);
  return Math.max(-TMAX, Math.min(TMAX, t)); // NaN stays NaN
}

export function gsu_handle(port: u32, len: u32): void {
  if (port != IN_ATT || len != 28) abort("controller: bad message on port " + port.toString() + " len " + len.toString());
  const k = load<u32>(INBOX);
  next = expectStep(next, k, "controller.attitude");
  const roll = load<f64>(INBOX, 4), pitch = load<f64>(INBOX, 12), yaw = load<f64>(INBOX, 20);
  const tx = quantise(law(roll, prevRoll));
  const ty = quantise(law(pitch, prevPitch));
  const tz = quantise(law(yaw, prevYaw));
  prevRoll = roll; prevPitch = pitch; prevYaw = yaw; havePrev = true;
  // wheel.cmd@1: u32 k + i32 tx, ty, tz (micro-N·m; 0x7FFFFFFF = non-finite)
  store<u32>(OUT, k);
  store<i32>(OUT, tx, 4); store<i32>(OUT, ty, 8); store<i32>(OUT, tz, 12);
  send(OUT_WHEEL, OUT, 16);
  send(OUT_FDIR, OUT, 16);
  send(OUT_TLM, OUT, 16);
}

// Optional state transfer (same layout in 1.0.0 and 2.0.0):
// u32 next, u32 havePrev, f64 prevRoll, prevPitch, prevYaw.
export function gsu_state_save(): u32 {
  store<u32>(INBOX, next); store<u32>(INBOX, havePrev ? 1 : 0, 4);
  store<f64>(INBOX, prevRoll, 8); store<f64>(INBOX, prevPitch, 16); store<f64>(INBOX, prevYaw, 24);
  return 32;
}
export function gsu_state_load(len: u32): void {
  if (len != 32) abort("controller: state blob must be 32 bytes");
  next = load<u32>(INBOX); havePrev = load<u32>(INBOX, 4) != 0;
  prevRoll = load<f64>(INBOX, 8); prevPitch = load<f64>(INBOX, 16); prevYaw = load<f64>(INBOX, 24);
}
