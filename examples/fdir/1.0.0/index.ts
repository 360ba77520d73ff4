// fdir 1.0.0 — watches the controller's wheel command and sends a health word.
// flags bit0: a torque is the non-finite sentinel 0x7FFFFFFF
//       bit1: a torque is at or beyond 90% of saturation (|t| >= 180000 µN·m)
import { send, INBOX, OUT, NO_STEP, SENTINEL, expectStep } from "../../lib/gsu";
export { gsu_inbox } from "../../lib/gsu";

const IN_CMD: u32 = 0;
const OUT_HEALTH: u32 = 1;
const NEAR_SAT: i32 = 180000;

let next: u32 = NO_STEP;

function flagsOf(t: i32): u32 {
  if (t == SENTINEL) return 1;
  if (t >= NEAR_SAT || t <= -NEAR_SAT) return 2;
  return 0;
}

export function gsu_handle(port: u32, len: u32): void {
  if (port != IN_CMD || len != 16) abort("fdir: bad message on port " + port.toString() + " len " + len.toString());
  const k = load<u32>(INBOX);
  next = expectStep(next, k, "fdir.cmd");
  const f = flagsOf(load<i32>(INBOX, 4)) | flagsOf(load<i32>(INBOX, 8)) | flagsOf(load<i32>(INBOX, 12));
  // health@1: u32 k + u32 flags
  store<u32>(OUT, k);
  store<u32>(OUT, f, 4);
  send(OUT_HEALTH, OUT, 8);
}
