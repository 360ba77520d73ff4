// Shared by the link layer tests: boards on the simulated network (virtual clock),
// each behind an optional fault injector and the link layer, with a record of what
// every board received from every other, in order.
import { SimNetwork } from "../../host/sim/network.ts";
import { VirtualClock } from "../../host/sim/clock.ts";
import { Rng } from "../../host/sim/rng.ts";
import { LinkLayer, type LayerClock, type LinkLayerEvent, type LinkLayerOptions } from "../../host/transport/reliable.ts";
import { FaultyTransport, type FaultOptions } from "../../host/transport/faulty.ts";
import type { Transport } from "../../host/transport/types.ts";

export function virtualClock(c: VirtualClock): LayerClock {
  return { now: () => c.now, after: (us, fn) => { let live = true; c.after(us, () => { if (live) fn(); }); return () => { live = false; }; } };
}

export interface SimBoard {
  node: number;
  link: Transport;          // what the layer runs over (faulty or not)
  layer: LinkLayer;
  got: Map<number, string[]>;   // src -> frames received, hex, in order
  events: LinkLayerEvent[];
}

export class SimLinks {
  readonly clock = new VirtualClock();
  readonly net: SimNetwork;
  readonly vclock: LayerClock;
  readonly boards = new Map<number, SimBoard>();
  constructor(readonly nodes: number[], seed = 1, latency = { min: 50, max: 500 }) {
    this.net = new SimNetwork(this.clock, new Rng(seed), { minLatency: latency.min, maxLatency: latency.max });
    this.vclock = virtualClock(this.clock);
    for (const n of nodes) this.net.attach(n);
  }
  private ports = new Map<number, Transport>();

  /** Starts (or restarts, with a new incarnation) the layer on `node`. */
  start(node: number, opts: Partial<LinkLayerOptions> & { incarnation: number }, faults?: FaultOptions): SimBoard {
    const old = this.boards.get(node);
    old?.layer.stop();
    let port = this.ports.get(node);
    if (!port) {
      port = (this.net as unknown as { ports: Map<number, Transport> }).ports.get(node)!;
      if (faults) port = new FaultyTransport(port, { ...faults, clock: this.vclock });
      this.ports.set(node, port);
    }
    const b: SimBoard = { node, link: port, layer: undefined as unknown as LinkLayer, got: new Map(), events: [] };
    b.layer = new LinkLayer(port, {
      peers: this.nodes, clock: this.vclock, rtoUs: 20_000, helloUs: 30_000, ackDelayUs: 1_000,
      onEvent: (e) => b.events.push(e), ...opts,
    });
    b.layer.onFrame((src, f) => { const l = b.got.get(src) ?? b.got.set(src, []).get(src)!; l.push(Buffer.from(f).toString("hex")); });
    this.boards.set(node, b);
    return b;
  }

  run(us = Infinity): void { this.clock.run(this.clock.now + us); }
  /** Runs until the agenda is empty (every frame acknowledged, every timer done), for at most 120 s of virtual time. */
  settle(): void { this.clock.run(this.clock.now + 120e6); }
}

/** A GSU-looking frame: app (kind 0) or passedAt (kind 1), numbered so order and identity can be checked. */
export function frameOf(kind: number, from: number, to: number, n: number, size = 20): Uint8Array {
  const f = new Uint8Array(size);
  f[0] = kind << 5;
  f[1] = from; f[2] = to;
  new DataView(f.buffer).setUint32(3, n, true);
  for (let i = 7; i < size; i++) f[i] = (n * 31 + i) & 0xff;
  return f;
}
export const hex = (f: Uint8Array) => Buffer.from(f).toString("hex");
