// A telemetry source with no hardware: the demo system on the simulated testbed
// (as host/sim/testbed.ts builds it), each Board with a BoardTelemetry, sampled on
// the virtual clock. `gsu telemetry --link sim` plays its packets; tests use it to
// sample real Boards mid-run.
import { Board, type TraceEvent } from "../runtime/board.ts";
import { VirtualClock } from "../sim/clock.ts";
import { Rng } from "../sim/rng.ts";
import { SimNetwork } from "../sim/network.ts";
import { demoSystem } from "../sim/demo-system.ts";
import type { TestbedSystem } from "../sim/testbed.ts";
import { BoardTelemetry } from "./sampler.ts";
import type { Dictionary, Severity } from "./dictionary.ts";

export interface SimTelemetryOptions {
  seed?: number;
  steps?: number;
  /** Fault in a new version, e.g. { comp: "estimator", step: 120 }; null for none. */
  fault?: { comp: string; step: number } | null;
  commitAfter?: number;
  /** Virtual microseconds between channel samples (default 50 ms: 40 rounds in the 2 s demo run). */
  sampleUs?: number;
  minSeverity?: Severity;
  dict?: Dictionary;
  system?: TestbedSystem;
  /** Called at every sample instant with the boards (tests inspect them mid-run). */
  onSample?: (t: number, boards: Board[], tel: BoardTelemetry[]) => void;
}

export interface SimPacket { t_us: number; node: number; bytes: Uint8Array; kind: "channels" | "event" }

export function simTelemetry(o: SimTelemetryOptions = {}): { packets: SimPacket[]; boards: Board[]; tel: BoardTelemetry[]; trace: TraceEvent[]; endUs: number } {
  const sys = o.system ?? demoSystem();
  const clock = new VirtualClock();
  const net = new SimNetwork(clock, new Rng(o.seed ?? 1), { minLatency: 50, maxLatency: 2000 });
  const coordinator = sys.spec.boards.find((b) => b.components.some((c) => sys.plan.upgrades.some((u) => u.name === c)))?.node ?? sys.spec.boards[0].node;
  const packets: SimPacket[] = [];
  const trace: TraceEvent[] = [];
  const tel = sys.spec.boards.map((b) => new BoardTelemetry(b.node, { now: () => clock.now, dict: o.dict, minSeverity: o.minSeverity }));
  const boards = sys.spec.boards.map((b, i) => new Board({
    name: b.name, node: b.node, transport: net.attach(b.node), spec: sys.spec, coordinator, rules: "safe",
    commit: o.commitAfter ? { afterPassed: o.commitAfter } : undefined,
    hooks: {
      now: () => clock.now,
      device() { /* devices are not telemetry */ },
      event(e) {
        trace.push(e);
        const p = tel[i].event(e);
        if (p) packets.push({ t_us: clock.now, node: b.node, bytes: p, kind: "event" });
      },
    },
  }));
  boards.forEach((b, i) => tel[i].attach(b));
  const steps = o.steps ?? 200, period = 10_000;
  for (const b of boards) b.startUpgrade(sys.plan);
  const fault = o.fault === undefined ? { comp: "estimator", step: 120 } : o.fault;
  if (fault) {
    const inst = boards.flatMap((b) => b.instances()).find((i) => i.comp === fault.comp && i.gen === "new");
    if (!inst?.app.injectFault) throw new Error(`cannot inject a fault into ${fault.comp}: not a new version with a fault hook`);
    inst.app.injectFault(fault.step);
  }
  for (const input of sys.inputs) {
    const board = boards.find((b) => sys.spec.wires.some((w) => "device" in w.from && w.from.device === input.device && !("device" in w.to) && b.hosts(w.to.comp)))!;
    for (let k = 1; k <= steps; k++) clock.at(k * period, () => board.deviceInput(input.device, input.gen(k)));
  }
  const end = (steps + 5) * period;
  const every = o.sampleUs ?? 50_000;
  const sample = () => {
    o.onSample?.(clock.now, boards, tel);
    tel.forEach((t, i) => { for (const p of t.sample()) packets.push({ t_us: clock.now, node: boards[i].node, bytes: p, kind: "channels" }); });
  };
  for (let t = 0; t <= end; t += every) clock.at(t, sample);
  clock.run();
  return { packets, boards, tel, trace, endUs: clock.now };
}
