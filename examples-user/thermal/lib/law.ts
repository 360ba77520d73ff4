// The regulator's control law, shared by regulator 1.0.0 and 2.0.0 so that
// both versions compute exactly the same commands from the same inputs.
// PI on the temperature error plus a derivative term on the filtered
// temperature; a positive demand drives the heater, a negative one the fan.
import { send, OUT, toI32, toU16 } from "./gsu";

const DT: f64 = 0.1;        // s per step
const KP: f64 = 4.0;        // W per degree C
const KI: f64 = 0.5;        // W per degree C second
const KD: f64 = 2.0;        // W per degree C/s
const IMAX: f64 = 20.0;     // anti-windup bound on the integral (degree C second)
const PMAX: f64 = 25.0;     // heater saturation, W
const FAN_GAIN: f64 = 150.0; // rpm per W of cooling demand
const RPM_MAX: f64 = 3600.0;

let integ: f64 = 0.0;

export function saveIntegrator(): f64 { return integ; }
export function loadIntegrator(v: f64): void { integ = v; }
/** The regulator 2.0.0 fault hook's effect: the integrator goes NaN. */
export function corruptIntegrator(): void { integ = NaN; }

/**
 * One control step k: temperature (degree C), setpoint (milli-degree C), change
 * of the filtered temperature since the previous step (degree C). Sends, in
 * one step, the heater command, the fan command (two devices) and the status.
 * A non-finite demand yields the sentinels 0x7FFFFFFF / 0xFFFF and mode 3,
 * which the devices' ATs reject.
 */
export function control(k: u32, temp: f64, spMc: i32, delta: f64, outHeater: u32, outFan: u32, outStatus: u32): void {
  const err = <f64>spMc / 1000.0 - temp;
  integ = Math.max(-IMAX, Math.min(IMAX, integ + err * DT));
  const u = KP * err + KI * integ - KD * delta / DT;
  let heaterW: f64 = 0.0, fanRpm: f64 = 0.0;
  let mode: u16 = 0;
  if (!isFinite(u)) { heaterW = NaN; fanRpm = NaN; mode = 3; }
  else {
    if (u > 0.0) heaterW = Math.min(u, PMAX);
    if (u < 0.0) fanRpm = Math.min(-u * FAN_GAIN, RPM_MAX);
    mode = u > 0.5 ? 1 : u < -0.5 ? 2 : 0;
  }
  const power = toI32(heaterW * 1000.0);
  const rpm = toU16(fanRpm);
  // heater.cmd@1: u32 k, i32 power_mw (8 B)
  store<u32>(OUT, k); store<i32>(OUT, power, 4);
  send(outHeater, OUT, 8);
  // fan.cmd@1: u32 k, u16 rpm, u16 mode (8 B)
  store<u16>(OUT, rpm, 4); store<u16>(OUT, mode, 6);
  send(outFan, OUT, 8);
  // thermal.status@1: u32 k, i32 power_mw, u16 rpm, u16 mode, f64 error_c (20 B)
  store<i32>(OUT, power, 4); store<u16>(OUT, rpm, 8); store<u16>(OUT, mode, 10); store<f64>(OUT, err, 12);
  send(outStatus, OUT, 20);
}
