// sensor 1.0.0: reads the thermistor device (u32 k, f64 temp_c, f32 bus_v)
// and forwards the temperature to the filter and housekeeping to the logger.
import { send, INBOX, OUT, NO_STEP, expectStep } from "../../lib/gsu";
export { gsu_inbox } from "../../lib/gsu";

const IN_THERMISTOR: u32 = 0;
const OUT_TEMP: u32 = 1; // temp.raw@1: u32 k, f64 temp_c (12 B)
const OUT_HK: u32 = 2;   // sensor.hk@1: u32 k, f64 temp_c, f32 bus_v (16 B)

let next: u32 = NO_STEP;

export function gsu_handle(port: u32, len: u32): void {
  if (port != IN_THERMISTOR || len != 16) abort("sensor: bad message on port " + port.toString() + " len " + len.toString());
  const k = load<u32>(INBOX);
  next = expectStep(next, k, "sensor.thermistor");
  const t = load<f64>(INBOX, 4);
  store<u32>(OUT, k); store<f64>(OUT, t, 4);
  send(OUT_TEMP, OUT, 12);
  store<f32>(OUT, load<f32>(INBOX, 12), 12);
  send(OUT_HK, OUT, 16);
}
