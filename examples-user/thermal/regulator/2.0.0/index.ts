// regulator 2.0.0: takes the filter 2.0.0's temp.trend@2 (the derivative now
// comes precomputed from the filter), other port numbers, the same law.
// Fault hook: gsu_fault(fromStep) writes NaN into the integrator at every
// step >= fromStep (a persistent state fault).
import { INBOX, NO_STEP } from "../../lib/gsu";
import { joinPut, joinReady, joinA, joinB, joinPop, joinNext, joinSave, joinLoad } from "../../lib/join";
import { control, saveIntegrator, loadIntegrator, corruptIntegrator } from "../../lib/law";
export { gsu_inbox } from "../../lib/gsu";

const IN_SETPOINT: u32 = 0; // u32 k, i32 setpoint_mc
const IN_TEMP: u32 = 1;     // u32 k, f64 delta_c, f64 temp_c
const OUT_HEATER: u32 = 2;
const OUT_FAN: u32 = 3;
const OUT_STATUS: u32 = 4;

let prev: f64 = 0.0; // kept only for the state layout shared with 1.0.0
let faultFrom: u32 = NO_STEP;

export function gsu_handle(port: u32, len: u32): void {
  if (port == IN_TEMP && len == 20) joinPut(0, INBOX, len, "regulator.temp");
  else if (port == IN_SETPOINT && len == 8) joinPut(1, INBOX, len, "regulator.setpoint");
  else abort("regulator: bad message on port " + port.toString() + " len " + len.toString());
  while (joinReady()) {
    const delta = load<f64>(joinA());
    const temp = load<f64>(joinA(), 8);
    const sp = load<i32>(joinB());
    const k = joinNext;
    joinPop();
    if (k >= faultFrom) corruptIntegrator(); // injected design fault
    prev = temp;
    control(k, temp, sp, delta, OUT_HEATER, OUT_FAN, OUT_STATUS);
  }
}

export function gsu_fault(fromStep: u32): void {
  faultFrom = fromStep;
}

export function gsu_state_save(): u32 {
  joinSave(INBOX);
  store<u32>(INBOX, 1, 20); store<f64>(INBOX, prev, 24); store<f64>(INBOX, saveIntegrator(), 32);
  return 40;
}
export function gsu_state_load(len: u32): void {
  if (len != 40) abort("regulator: state blob must be 40 bytes");
  joinLoad(INBOX);
  prev = load<f64>(INBOX, 24); loadIntegrator(load<f64>(INBOX, 32));
}
