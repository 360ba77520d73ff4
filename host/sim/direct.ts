// The components of a testbed system wired directly: the baseline the unprotected runtime is
// measured against (npm run bench:rehearsal, issue 12's "unprotected path at most 2x the same
// components wired directly"). The same component versions the testbed's boards run
// (sys.spec.components, one instance each, created as a board creates them), the same device
// inputs (sys.inputs, steps 1..N), and the system's wires: every output is handed straight to
// its consumers' handle() in wire order, or recorded for its device. No boards, no network,
// no clock, no frames, no core. The device outputs must equal an unprotected testbed run's
// (compareDevices), or the baseline does not do the same application work.
import type { App } from "../runtime/app.ts";
import { isDevice } from "../runtime/system.ts";
import type { DeviceRecord, TestbedSystem } from "./testbed.ts";

export interface DirectRun {
  devices: DeviceRecord[];
  /** handle() calls: device inputs plus component-to-component messages */
  handled: number;
  /** the run itself (feeding the inputs), set-up (instances, routes) excluded */
  runMs: number;
  runCpuMs: number;
}

type Target = { app: App; busy: { n: number }; port: number } | { device: string };

export function runDirect(sys: TestbedSystem, steps: number, periodUs = 10_000): DirectRun {
  const { spec } = sys;
  const devices: DeviceRecord[] = [];
  let handled = 0, t = 0;
  const portNo = (comp: string, name: string) => {
    const p = spec.components[comp]?.ports.find((x) => x.name === name);
    if (!p) throw new Error(`direct wiring: ${comp}.${name} is not a port of the system's components`);
    return p.port;
  };
  // routes[comp][outPort] = the consumers of that output, in wire order
  const routes = new Map<string, Target[][]>();
  const apps = new Map<string, { app: App; busy: { n: number } }>();
  // a message to an instance that is inside its own handle() (a cycle) waits for it to return
  const waiting: { app: App; busy: { n: number }; port: number; bytes: Uint8Array }[] = [];
  const deliver = (to: { app: App; busy: { n: number }; port: number }, bytes: Uint8Array) => {
    if (to.busy.n) { waiting.push({ ...to, bytes }); return; }
    to.busy.n = 1; handled++;
    try { to.app.handle(to.port, bytes); } finally { to.busy.n = 0; }
  };
  for (const [name, version] of Object.entries(spec.components)) {
    const out: Target[][] = [];
    routes.set(name, out);
    const app = version.create((port, bytes) => {
      const ts = out[port];
      if (!ts) throw new Error(`direct wiring: ${name} sent on port ${port}, which no wire leaves`);
      for (const to of ts) {
        if ("device" in to) devices.push({ t, device: to.device, payload: Buffer.from(bytes).toString("hex"), comp: name, gen: "old" });
        else deliver(to, bytes);
      }
    });
    apps.set(name, { app, busy: { n: 0 } });
  }
  const target = (e: { comp: string; port: string } | { device: string }): Target =>
    isDevice(e) ? e : { ...apps.get(e.comp)!, port: portNo(e.comp, e.port) };
  const inputs = sys.inputs.map((input) => ({ gen: input.gen, to: [] as Target[] }));
  for (const w of spec.wires) {
    if (isDevice(w.from)) { inputs[sys.inputs.findIndex((i) => i.device === (w.from as { device: string }).device)]?.to.push(target(w.to)); continue; }
    const out = routes.get(w.from.comp)!, p = portNo(w.from.comp, w.from.port);
    (out[p] ??= []).push(target(w.to));
  }

  const run0 = performance.now(), cpu0 = process.cpuUsage();
  for (let k = 1; k <= steps; k++) {
    t = k * periodUs;
    for (const input of inputs) {
      const bytes = input.gen(k);
      for (const to of input.to) if (!("device" in to)) deliver(to, bytes);
      while (waiting.length) { const w = waiting.shift()!; deliver(w, w.bytes); }
    }
  }
  const runMs = performance.now() - run0;
  const cpu = process.cpuUsage(cpu0);
  return { devices, handled, runMs, runCpuMs: (cpu.user + cpu.system) / 1000 };
}
