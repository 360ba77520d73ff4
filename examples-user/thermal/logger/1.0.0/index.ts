// logger 1.0.0: joins, per step, housekeeping from the sensor (sensor.hk@1)
// and the regulator's status (thermal.status@1) into one downlink frame.
import { send, INBOX, OUT } from "../../lib/gsu";
import { joinPut, joinReady, joinA, joinB, joinPop, joinNext } from "../../lib/join";
export { gsu_inbox } from "../../lib/gsu";

const IN_HK: u32 = 0;     // u32 k, f64 temp_c, f32 bus_v (16 B)
const IN_STATUS: u32 = 1; // u32 k, i32 power_mw, u16 rpm, u16 mode, f64 error_c (20 B)
const OUT_DOWNLINK: u32 = 2;

export function gsu_handle(port: u32, len: u32): void {
  if (port == IN_HK && len == 16) joinPut(0, INBOX, len, "logger.hk");
  else if (port == IN_STATUS && len == 20) joinPut(1, INBOX, len, "logger.status");
  else abort("logger: bad message on port " + port.toString() + " len " + len.toString());
  while (joinReady()) {
    const a = joinA(), b = joinB();
    // downlink.thermal@1: u32 k, f64 temp_c, f32 bus_v, i32 power_mw, u16 rpm, u16 mode, f64 error_c (32 B)
    store<u32>(OUT, joinNext);
    store<f64>(OUT, load<f64>(a), 4);
    store<f32>(OUT, load<f32>(a, 8), 12);
    store<i32>(OUT, load<i32>(b), 16);
    store<u16>(OUT, load<u16>(b, 4), 20);
    store<u16>(OUT, load<u16>(b, 6), 22);
    store<f64>(OUT, load<f64>(b, 8), 24);
    joinPop();
    send(OUT_DOWNLINK, OUT, 32);
  }
}
