// regulator 1.0.0: joins, per step, the filtered temperature (temp.filtered@1)
// and the setpoint device, computes the derivative itself, and commands the
// heater and the fan (two devices in one step) and sends a status to the logger.
import { INBOX } from "../../lib/gsu";
import { joinPut, joinReady, joinA, joinB, joinPop, joinNext, joinSave, joinLoad } from "../../lib/join";
import { control, saveIntegrator, loadIntegrator } from "../../lib/law";
export { gsu_inbox } from "../../lib/gsu";

const IN_TEMP: u32 = 0;     // u32 k, f64 temp_c
const IN_SETPOINT: u32 = 1; // u32 k, i32 setpoint_mc
const OUT_HEATER: u32 = 2;
const OUT_FAN: u32 = 3;
const OUT_STATUS: u32 = 4;

let have: bool = false;
let prev: f64 = 0.0;

export function gsu_handle(port: u32, len: u32): void {
  if (port == IN_TEMP && len == 12) joinPut(0, INBOX, len, "regulator.temp");
  else if (port == IN_SETPOINT && len == 8) joinPut(1, INBOX, len, "regulator.setpoint");
  else abort("regulator: bad message on port " + port.toString() + " len " + len.toString());
  while (joinReady()) {
    const temp = load<f64>(joinA());
    const sp = load<i32>(joinB());
    const delta = have ? temp - prev : 0.0;
    prev = temp; have = true;
    const k = joinNext;
    joinPop();
    control(k, temp, sp, delta, OUT_HEATER, OUT_FAN, OUT_STATUS);
  }
}

// State transfer (same layout in 1.0.0 and 2.0.0): join state (20 B), u32 have, f64 prev, f64 integrator.
export function gsu_state_save(): u32 {
  joinSave(INBOX);
  store<u32>(INBOX, have ? 1 : 0, 20); store<f64>(INBOX, prev, 24); store<f64>(INBOX, saveIntegrator(), 32);
  return 40;
}
export function gsu_state_load(len: u32): void {
  if (len != 40) abort("regulator: state blob must be 40 bytes");
  joinLoad(INBOX);
  have = load<u32>(INBOX, 20) != 0; prev = load<f64>(INBOX, 24); loadIntegrator(load<f64>(INBOX, 32));
}
