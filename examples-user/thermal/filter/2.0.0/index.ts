// filter 2.0.0: the same moving average, and it now also computes the
// per-step change of the estimate (the regulator's derivative term moved
// here). Sends temp.trend@2: u32 k, f64 delta_c, f64 temp_c (20 B), on
// another port number than 1.0.0.
// Fault hook: gsu_fault(fromStep) writes NaN into the estimate at every step
// >= fromStep (a persistent state fault).
import { send, INBOX, OUT, NO_STEP, expectStep } from "../../lib/gsu";
export { gsu_inbox } from "../../lib/gsu";

const IN_RAW: u32 = 0;
const OUT_TREND: u32 = 2;
const ALPHA: f64 = 0.25;

let next: u32 = NO_STEP;
let have: bool = false;
let ema: f64 = 0.0;
let faultFrom: u32 = NO_STEP;

export function gsu_handle(port: u32, len: u32): void {
  if (port != IN_RAW || len != 12) abort("filter: bad message on port " + port.toString() + " len " + len.toString());
  const k = load<u32>(INBOX);
  next = expectStep(next, k, "filter.raw");
  const x = load<f64>(INBOX, 4);
  if (k >= faultFrom) ema = NaN; // injected design fault
  const prev = ema;
  ema = have ? ema + ALPHA * (x - ema) : x;
  const delta = have ? ema - prev : 0.0;
  have = true;
  store<u32>(OUT, k); store<f64>(OUT, delta, 4); store<f64>(OUT, ema, 12);
  send(OUT_TREND, OUT, 20);
}

export function gsu_fault(fromStep: u32): void {
  faultFrom = fromStep;
}

export function gsu_state_save(): u32 {
  store<u32>(INBOX, next); store<u32>(INBOX, have ? 1 : 0, 4); store<f64>(INBOX, ema, 8);
  return 16;
}
export function gsu_state_load(len: u32): void {
  if (len != 16) abort("filter: state blob must be 16 bytes");
  next = load<u32>(INBOX); have = load<u32>(INBOX, 4) != 0; ema = load<f64>(INBOX, 8);
}
