// A small system of TypeScript components with the demo's shape, for fast
// runtime tests and property runs: deterministic per-port step joins, exact
// JSON snapshots, a NaN state fault in new versions.
import type { PortSpec } from "../runtime/app.ts";
import type { SystemSpec, UpgradePlan } from "../runtime/system.ts";
import type { TestbedSystem } from "./testbed.ts";
import { joinComponent, msg, read } from "./join.ts";
import { detSin } from "../component/det-math.ts";

const p = (name: string, port: number, dir: "in" | "out", iface: string): PortSpec => ({ name, port, dir, iface });

export function fakeSystem(opts: { placement?: "3boards" | "2boards" } = {}): TestbedSystem {
  const sensor = joinComponent("sensor", "1.0.0", [p("imu", 0, "in", "imu@1"), p("rates", 1, "out", "rates@1"), p("raw", 2, "out", "raw@1")],
    (acc, [imu]) => ({ acc, out: { 1: imu, 2: [imu[0]] } }), false);
  const estV1 = joinComponent("estimator", "1.0.0", [p("rates", 0, "in", "rates@1"), p("attitude", 1, "out", "euler@1")],
    (acc, [r]) => { const a = acc + r[0]; return { acc: a, out: { 1: [a, a / 2] } }; }, false);
  const estV2 = joinComponent("estimator", "2.0.0", [p("rates", 0, "in", "rates@1"), p("attitude", 3, "out", "quat@2")],
    (acc, [r]) => { const a = acc + r[0]; return { acc: a, out: { 3: [a / 2, a, 7] } }; }, true);
  const ctlV1 = joinComponent("controller", "1.0.0", [p("attitude", 0, "in", "euler@1"), p("wheel", 1, "out", "wheel@1"), p("status", 2, "out", "status@1")],
    (acc, [e]) => ({ acc: acc + 1, out: { 1: [Math.round(-e[0] * 1000)], 2: [e[0] + e[1]] } }), false);
  const ctlV2 = joinComponent("controller", "2.0.0", [p("attitude", 5, "in", "quat@2"), p("wheel", 1, "out", "wheel@1"), p("status", 2, "out", "status@1")],
    (acc, [q]) => ({ acc: acc + 1, out: { 1: [Math.round(-q[1] * 1000)], 2: [q[1] + q[0]] } }), true,
    undefined, (port, v) => (port === "attitude" ? [v[1], v[0], 7] : v)); // state transfer: a buffered euler [a, a/2] as quat [a/2, a, 7]
  const fdir = joinComponent("fdir", "1.0.0", [p("status", 0, "in", "status@1"), p("health", 1, "out", "health@1")],
    (acc, [s]) => ({ acc: acc + s[0], out: { 1: [s[0] > 1e6 ? 1 : 0, acc] } }), false);
  const tele = joinComponent("telemetry", "1.0.0", [p("raw", 0, "in", "raw@1"), p("status", 1, "in", "status@1"), p("health", 2, "in", "health@1"), p("downlink", 3, "out", "frame@1")],
    (acc, [r, s, h]) => ({ acc: acc + 1, out: { 3: [r[0], s[0], h[0], h[1]] } }), false);
  const finite = (b: Uint8Array) => read(b).values.every((v) => Number.isFinite(v) && Math.abs(v) < 1e12);
  const boards = opts.placement === "2boards"
    ? [{ name: "obc", node: 1, components: ["sensor", "estimator", "controller"] }, { name: "comms", node: 2, components: ["fdir", "telemetry"] }]
    : [{ name: "io", node: 1, components: ["sensor"] }, { name: "gnc", node: 2, components: ["estimator", "controller"] }, { name: "comms", node: 3, components: ["fdir", "telemetry"] }];
  const spec: SystemSpec = {
    components: { sensor, estimator: estV1, controller: ctlV1, fdir, telemetry: tele },
    wires: [
      { from: { device: "imu" }, to: { comp: "sensor", port: "imu" } },
      { from: { comp: "sensor", port: "rates" }, to: { comp: "estimator", port: "rates" } },
      { from: { comp: "sensor", port: "raw" }, to: { comp: "telemetry", port: "raw" } },
      { from: { comp: "estimator", port: "attitude" }, to: { comp: "controller", port: "attitude" } },
      { from: { comp: "controller", port: "wheel" }, to: { device: "wheel" } },
      { from: { comp: "controller", port: "status" }, to: { comp: "fdir", port: "status" } },
      { from: { comp: "controller", port: "status" }, to: { comp: "telemetry", port: "status" } },
      { from: { comp: "fdir", port: "health" }, to: { comp: "telemetry", port: "health" } },
      { from: { comp: "telemetry", port: "downlink" }, to: { device: "downlink" } },
    ],
    boards,
    ats: { wheel: finite, downlink: finite },
  };
  const plan: UpgradePlan = { upgrades: [estV2, ctlV2] };
  return { spec, plan, inputs: [{ device: "imu", gen: (k) => msg(k, [detSin(k / 7) * 0.01]) }] };
}
