// filter 1.0.0: exponential moving average of the bay temperature.
// Sends temp.filtered@1: u32 k, f64 temp_c (12 B).
import { send, INBOX, OUT, NO_STEP, expectStep } from "../../lib/gsu";
export { gsu_inbox } from "../../lib/gsu";

const IN_RAW: u32 = 0;
const OUT_TEMP: u32 = 1;
const ALPHA: f64 = 0.25;

let next: u32 = NO_STEP;
let have: bool = false;
let ema: f64 = 0.0;

export function gsu_handle(port: u32, len: u32): void {
  if (port != IN_RAW || len != 12) abort("filter: bad message on port " + port.toString() + " len " + len.toString());
  const k = load<u32>(INBOX);
  next = expectStep(next, k, "filter.raw");
  const x = load<f64>(INBOX, 4);
  ema = have ? ema + ALPHA * (x - ema) : x;
  have = true;
  store<u32>(OUT, k); store<f64>(OUT, ema, 4);
  send(OUT_TEMP, OUT, 12);
}

// State transfer (same layout in 1.0.0 and 2.0.0): u32 next, u32 have, f64 ema.
export function gsu_state_save(): u32 {
  store<u32>(INBOX, next); store<u32>(INBOX, have ? 1 : 0, 4); store<f64>(INBOX, ema, 8);
  return 16;
}
export function gsu_state_load(len: u32): void {
  if (len != 16) abort("filter: state blob must be 16 bytes");
  next = load<u32>(INBOX); have = load<u32>(INBOX, 4) != 0; ema = load<f64>(INBOX, 8);
}
