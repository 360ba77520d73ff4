// gsu candump: print the frames on a CAN bus the way can-utils' candump does.
import { parseCommandArgs, UsageError } from "./args.ts";
import { type CanBus, ifaceLabel, openCanBus, parseCanIface, wallUs } from "../transport/can/bus.ts";
import { CandumpFormatter } from "../transport/can/canutils.ts";
import { formatLogLine } from "../transport/can/candump-log.ts";
import { CanFilterError, parseCandumpArg, passes, type FilterSet } from "../transport/can/filter.ts";

export const help = `Usage: gsu candump IFACE[,FILTER...] [-L] [-n COUNT]

Prints every frame on the bus in can-utils' candump format:
    can0  123   [4]  DE AD BE EF
    can0  1ABCDE01   [2]  11 22
    can0  123   [0]  remote request
(once an extended frame has been seen, standard IDs are indented, as candump does).

IFACE    a SocketCAN interface (can0, vcan0) or an SLCAN adapter,
         slcan:/dev/ttyACM0@500000 (bitrate 10000..1000000, default 500000),
         optionally followed by can-utils filters: IFACE,FILTER,FILTER...
           <can_id>:<can_mask>  pass when received_can_id & mask == can_id & mask
           <can_id>~<can_mask>  pass when they differ
           j                    a frame must pass every filter (default: any)
           #<error_mask>        error frames (GSU's buses report none)
         hex; an 8-digit can_id is extended (29-bit). As in candump, the flags count:
         123:7FF also passes extended and RTR frames ending in 123; 123:C00007FF only
         the standard data frame 0x123; 12345678:DFFFFFFF only that extended id.
         e.g. gsu candump can0,123:7FF,400:700   gsu candump vcan0,0~0 (nothing)

Options:
  -L               log format, as candump -L: (1700000000.123456) can0 123#DEADBEEF
                   (canplayer and python-can's CanutilsLogReader read it)
  -n COUNT         stop after COUNT frames

Runs until interrupted (Ctrl-C) unless -n is given.`;

export interface CandumpOptions {
  log?: boolean;
  count?: number;
  out?: (line: string) => void;
  signal?: AbortSignal;
  /** candump filters (IFACE,123:7FF,...): frames that do not pass are not printed. */
  filter?: FilterSet;
}

/** Prints frames from `bus` until `count` frames or `signal` aborts; resolves with the number printed. */
export function candump(bus: CanBus, label: string, o: CandumpOptions = {}): Promise<number> {
  const out = o.out ?? ((l: string) => process.stdout.write(l + "\n"));
  const fmt = new CandumpFormatter(label.length);
  let n = 0;
  return new Promise((resolve) => {
    let done = false;
    const finish = () => { if (!done) { done = true; resolve(n); } };
    if (o.signal?.aborted) return finish();
    o.signal?.addEventListener("abort", finish, { once: true });
    bus.onFrame((f, t) => {
      if (done) return;
      if (o.filter && !passes(o.filter, f)) return;
      out(o.log ? formatLogLine(t ?? wallUs(), label, f) : fmt.format(label, f));
      if (++n === o.count) finish();
    });
  });
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { L: { type: "boolean", short: "L" }, n: { type: "string", short: "n" } }, { allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError("candump needs exactly one interface, e.g. gsu candump can0 or gsu candump slcan:/dev/ttyACM0@500000");
  let spec, filter: FilterSet;
  try { filter = parseCandumpArg(positionals[0]); } catch (e) { if (e instanceof CanFilterError) throw new UsageError(e.message); throw e; }
  try { spec = parseCanIface(filter.iface); } catch (e) { throw new UsageError((e as Error).message); }
  let count: number | undefined;
  if (values.n !== undefined) {
    if (!/^[1-9]\d*$/.test(values.n)) throw new UsageError(`-n must be a positive integer, not '${values.n}'`);
    count = Number(values.n);
  }
  const bus = await openCanBus(spec);
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let err: Error | undefined;
  bus.onError?.((e) => { err = e; ac.abort(); });
  try {
    await candump(bus, ifaceLabel(spec), { log: values.L, count, signal: ac.signal, filter });
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await bus.close();
  }
  if (err) throw err;
  return 0;
}
