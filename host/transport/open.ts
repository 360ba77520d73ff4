// One place that turns a link spec into a Transport:
//   serial:/dev/ttyUSB0@115200     COBS-framed serial (multi-drop capable)
//   slcan:/dev/ttyACM0@500000      CAN through a USB-CAN (Lawicel/SLCAN) adapter
//   can0, vcan0                    SocketCAN
//   ...+fd[=2M] ...+compact        CAN FD / compact transfers (host/transport/can/bundle.ts)
import { CAN_CLASSIC_HINTS, type LayerHints, type Transport } from "./types.ts";

/** What a link layer above the link `spec` must respect (Transport.layerHints), known from the spec alone. */
export function layerHintsOfSpec(spec: string): LayerHints | undefined {
  if (spec.startsWith("serial:") || /\+(fd|compact)\b/.test(spec)) return undefined;
  return CAN_CLASSIC_HINTS;
}

export class LinkSpecError extends Error {
  constructor(message: string) { super(message); this.name = "LinkSpecError"; }
}

export async function openLink(spec: string, node: number, opts: { peers?: number[]; log?: (l: string) => void } = {}): Promise<Transport> {
  if (spec.startsWith("serial:")) {
    const m = /^serial:(.+)@(\d+)$/.exec(spec);
    if (!m) throw new LinkSpecError(`link '${spec}': write serial:PATH@BAUD, e.g. serial:/dev/ttyUSB0@115200`);
    const { SerialTransport } = await import("./serial.ts");
    return SerialTransport.open({ path: m[1], baudRate: Number(m[2]), node, peers: opts.peers, log: opts.log });
  }
  const { openCanBus, parseCanIface } = await import("./can/bus.ts");
  const { CanTransport } = await import("./can/transport.ts");
  let parsed;
  try { parsed = parseCanIface(spec); } catch (e) { throw new LinkSpecError(`link '${spec}': ${(e as Error).message}`); }
  const bus = await openCanBus(parsed);
  return new CanTransport(bus, node, { knownNodes: opts.peers, fd: parsed.fd, compact: parsed.compact, log: opts.log });
}
