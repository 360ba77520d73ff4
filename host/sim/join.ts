// The step-join component shared by the synthetic systems (fake-system.ts,
// mesh-system.ts): deterministic per-port joins (step k is computed once step k
// is held on every input port), exact JSON snapshots, a NaN state fault in new
// versions; with `shared`, the fault is cluster-wide and time-based.
import type { App, ComponentVersion, PortSpec } from "../runtime/app.ts";

const enc = new TextEncoder(), dec = new TextDecoder();

export function msg(step: number, values: number[]): Uint8Array {
  const b = new Uint8Array(4 + 8 * values.length);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, step, true);
  values.forEach((v, i) => dv.setFloat64(4 + 8 * i, v, true));
  return b;
}
export function read(b: Uint8Array): { step: number; values: number[] } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const values: number[] = [];
  for (let o = 4; o + 8 <= b.length; o += 8) values.push(dv.getFloat64(o, true));
  return { step: dv.getUint32(0, true), values };
}

export type Compute = (acc: number, inputs: number[][], step: number) => { acc: number; out: Record<number, number[]> };

// With `shared`, the fault is cluster-wide and time-based: once any member computes
// a step >= the fault step, every member's state is NaN from then on, so every
// later cluster message is wrong (the notes' persistent-fault model).
export interface SharedFault { step: number; on: boolean }
export function joinComponent(name: string, version: string, ports: PortSpec[], compute: Compute, faultable: boolean, shared?: { f: SharedFault }): ComponentVersion {
  const ins = ports.filter((p) => p.dir === "in").map((p) => p.port);
  return {
    name, version, ports,
    create(onSend): App {
      let st = { acc: 0, next: 1, fault: -1, pending: {} as Record<string, Record<string, number[]>> };
      if (shared) shared.f = { step: -1, on: false }; // a new run: every member resets it before injectFault
      return {
        handle(port, bytes) {
          const m = read(bytes);
          (st.pending[m.step] ??= {})[port] = m.values;
          while (st.pending[st.next] && ins.every((p) => st.pending[st.next][p])) {
            const k = st.next;
            const inputs = ins.map((p) => st.pending[k][p]);
            delete st.pending[k];
            let { acc, out } = compute(st.acc, inputs, k);
            if (st.fault >= 0 && k >= st.fault) acc = NaN; // persistent state fault
            if (shared && (shared.f.on || (shared.f.step >= 0 && k >= shared.f.step))) { shared.f.on = true; acc = NaN; }
            st.acc = acc;
            for (const [p, vals] of Object.entries(out)) onSend(Number(p), msg(k, vals.map((v) => v + (Number.isNaN(acc) ? NaN : 0))));
            st.next++;
          }
        },
        snapshotSize: () => enc.encode(JSON.stringify(st)).length,
        snapshotInto(dst) { const b = enc.encode(JSON.stringify(st)); dst.set(b); return b.length; },
        restoreFrom(src) { st = JSON.parse(dec.decode(src), (_k, v) => v === null ? NaN : v); },
        // state transfer to a new version: the application state, not the fault hook
        saveState: () => enc.encode(JSON.stringify({ acc: st.acc, next: st.next, pending: st.pending })),
        loadState(b) { const x = JSON.parse(dec.decode(b), (_k, v) => v === null ? NaN : v); st = { ...st, acc: x.acc, next: x.next, pending: x.pending }; },
        injectFault: faultable ? (step) => { if (shared) shared.f.step = step; else st.fault = step; } : undefined,
      };
    },
  };
}
