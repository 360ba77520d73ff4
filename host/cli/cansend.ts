// gsu cansend: send one CAN frame, with can-utils' cansend syntax.
import { parseCommandArgs, UsageError } from "./args.ts";
import { type CanBus, openCanBus, parseCanIface } from "../transport/can/bus.ts";
import { type CanFrame } from "../transport/can/cyphal.ts";
import { parseCanFrame } from "../transport/can/canutils.ts";

export const help = `Usage: gsu cansend IFACE FRAME

Sends one classic CAN frame, as can-utils' cansend does.

IFACE    a SocketCAN interface (can0, vcan0) or an SLCAN adapter,
         slcan:/dev/ttyACM0@500000
FRAME    <can_id>#{data}          data frame, 0..8 bytes
         <can_id>#R{len}          remote transmission request, optional DLC 0..8
         <can_id> is 3 hex digits (standard, 11-bit) or 8 (extended, 29-bit);
         {data} is hex byte pairs, optionally separated by '.'

Examples:
  gsu cansend can0 123#DEADBEEF
  gsu cansend can0 1ABCDE01#11.22
  gsu cansend slcan:/dev/ttyACM0@500000 123#R`;

/** Parses FRAME and sends it on `bus`; returns the frame sent. */
export function cansend(bus: CanBus, frameText: string): CanFrame {
  const f = parseCanFrame(frameText);
  bus.send(f);
  return f;
}

export async function run(argv: string[]): Promise<number> {
  const { positionals } = parseCommandArgs(argv, {}, { allowPositionals: true });
  if (positionals.length !== 2) throw new UsageError("cansend needs an interface and a frame, e.g. gsu cansend can0 123#DEADBEEF");
  let spec, frame: CanFrame;
  try {
    spec = parseCanIface(positionals[0]);
    frame = parseCanFrame(positionals[1]);
  } catch (e) { throw new UsageError((e as Error).message); }
  const bus = await openCanBus(spec);
  try { bus.send(frame); } finally { await bus.close(); }
  return 0;
}
