// The step-join component shared by the synthetic systems (fake-system.ts,
// mesh-system.ts, gen-system.ts): deterministic per-port joins (step k is computed
// once step k is held on every input port), exact JSON snapshots, a NaN state fault
// in new versions; with `shared`, the fault is cluster-wide and time-based.
//
// Ground truth for the simulator's oracle (App.erroneous, simulation only): every
// value carries an explicit taint bit, "derived from the injected fault", by data
// flow: the accumulator's bit (`ta`) and one bit per buffered input (`tp`, set from
// handle()'s flag, which the board takes from the frame that carried the input).
// When a step reads a tainted operand, compute runs a second time with exactly the
// tainted operands replaced by NaN: a result is tainted iff NaN reaches it (arithmetic
// propagates NaN; a comparison that swallows it does not make a value erroneous). The
// fault itself taints the accumulator, and every output of a tainted accumulator (the
// persistent fault writes NaN into each output, below). Taint is per message: an
// output is erroneous if any of its values is. No reference to indexes, dirty bits or
// ATs. The synthetic computes never produce NaN by themselves, so a NaN with no taint
// bit behind it means the taint was lost on the way (or a compute made one, which the
// probe could not tell from the fault's): it is recorded in `untracked`, which the
// testbed reports as a violation, and tainted from there on.
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

const hasKey = (o: object): boolean => { for (const _k in o) return true; return false; };

// Re-keys a per-step, per-port map (a port without a counterpart in the other version is dropped:
// nothing will read it).
function rekey<T>(m: Record<string, Record<string, T>>, key: Map<string, string>): Record<string, Record<string, T>> {
  const out: Record<string, Record<string, T>> = {};
  for (const [step, byPort] of Object.entries(m ?? {})) {
    for (const [p, v] of Object.entries(byPort)) { const k = key.get(p); if (k !== undefined) (out[step] ??= {})[k] = v; }
  }
  return out;
}

/** Simulation only: NaNs that appeared with no taint behind them (runTestbed empties it and reports them). */
export const untracked: string[] = [];
const untrack = (what: string): void => { if (untracked.length < 20) untracked.push(what); };

export type Compute = (acc: number, inputs: number[][], step: number) => { acc: number; out: Record<number, number[]> };

// With `shared`, the fault is cluster-wide and time-based: once any member computes
// a step >= the fault step, every member's state is NaN from then on, so every
// later cluster message is wrong (the notes' persistent-fault model).
export interface SharedFault { step: number; on: boolean }
/**
 * adopt: state transfer into this version from the previous one converts an input the
 * previous version had buffered (in its interface) into this version's interface, by
 * port name (an upgrade on running boards can catch a later step's input in the buffer).
 */
export function joinComponent(name: string, version: string, ports: PortSpec[], compute: Compute, faultable: boolean, shared?: { f: SharedFault }, adopt?: (port: string, values: number[]) => number[]): ComponentVersion {
  const ins = ports.filter((p) => p.dir === "in").map((p) => p.port);
  const nameOf = new Map(ports.filter((p) => p.dir === "in").map((p) => [String(p.port), p.name]));
  const numOf = new Map(ports.filter((p) => p.dir === "in").map((p) => [p.name, String(p.port)]));
  return {
    name, version, ports,
    create(onSend): App {
      let st = {
        acc: 0, next: 1, fault: -1, pending: {} as Record<string, Record<string, number[]>>,
        seen: {} as Record<string, number>, // per port: the latest step it delivered (a port delivers its steps in order)
        ta: false, tp: {} as Record<string, Record<string, 1>>, // taint: accumulator, buffered inputs (simulation only)
      };
      if (shared) shared.f = { step: -1, on: false }; // a new run: every member resets it before injectFault
      return {
        handle(port, bytes, erroneous) {
          const m = read(bytes);
          (st.pending[m.step] ??= {})[port] = m.values;
          st.seen[port] = Math.max(st.seen[port] ?? 0, m.step);
          if (erroneous) (st.tp[m.step] ??= {})[port] = 1;
          else if (st.tp[m.step]) { delete st.tp[m.step][port]; if (!Object.keys(st.tp[m.step]).length) delete st.tp[m.step]; }
          while (true) {
            const k = st.next;
            if (!(st.pending[k] && ins.every((p) => st.pending[k][p]))) {
              // a port that delivered a later step without this one lost it (its board
              // crashed and restarted: docs/protocol.md "A board that crashes"): skip it
              if (!ins.some((p) => (st.seen[p] ?? 0) > k && !st.pending[k]?.[p])) break;
              delete st.pending[k];
              delete st.tp[k];
              st.next++;
              continue;
            }
            const inputs = ins.map((p) => st.pending[k][p]);
            const tin = ins.map((p) => st.tp[k]?.[p] === 1);
            delete st.pending[k];
            delete st.tp[k];
            let { acc, out } = compute(st.acc, inputs, k);
            // taint by data flow: the probe replaces exactly the tainted operands by NaN
            let ta = false;
            const tout = new Set<string>();
            if (st.ta || tin.includes(true)) {
              const probe = compute(st.ta ? NaN : st.acc, inputs.map((v, i) => (tin[i] ? v.map(() => NaN) : v)), k);
              ta = Number.isNaN(probe.acc);
              for (const [p, vals] of Object.entries(probe.out)) if (vals.some(Number.isNaN)) tout.add(p);
            }
            if (st.fault >= 0 && k >= st.fault) { acc = NaN; ta = true; } // persistent state fault
            if (shared && (shared.f.on || (shared.f.step >= 0 && k >= shared.f.step))) { shared.f.on = true; acc = NaN; ta = true; }
            if (Number.isNaN(acc) && !ta) { untrack(`${name}@${version}: NaN state at step ${k}`); ta = true; }
            st.acc = acc;
            st.ta = ta;
            for (const [p, vals] of Object.entries(out)) {
              const o = vals.map((v) => v + (Number.isNaN(acc) ? NaN : 0));
              let bad = ta || tout.has(p);
              if (!bad && o.some(Number.isNaN)) { untrack(`${name}@${version}: NaN output on port ${p} at step ${k}`); bad = true; }
              onSend(Number(p), msg(k, o), bad);
            }
            st.next++;
          }
        },
        erroneous: () => st.ta || hasKey(st.tp),
        snapshotSize: () => enc.encode(JSON.stringify(st)).length,
        snapshotInto(dst) { const b = enc.encode(JSON.stringify(st)); dst.set(b); return b.length; },
        restoreFrom(src) { st = JSON.parse(dec.decode(src), (_k, v) => v === null ? NaN : v); },
        // state transfer to a new version: the application state (and its taint), not the fault hook
        // Buffered inputs are keyed by port name across versions: a new version may number
        // its ports differently (a changed interface), and an upgrade on running boards can
        // transfer state while inputs of later steps wait in the buffer.
        saveState: () => enc.encode(JSON.stringify({ acc: st.acc, next: st.next, pending: rekey(st.pending, nameOf), ta: st.ta, tp: rekey(st.tp, nameOf), seen: rekey({ s: st.seen }, nameOf).s ?? {} })),
        loadState(b) {
          const x = JSON.parse(dec.decode(b), (_k, v) => v === null ? NaN : v);
          const pending = adopt
            ? Object.fromEntries(Object.entries(x.pending as Record<string, Record<string, number[]>>).map(([k, byPort]) => [k, Object.fromEntries(Object.entries(byPort).map(([n, v]) => [n, adopt(n, v)]))]))
            : x.pending;
          st = { ...st, acc: x.acc, next: x.next, pending: rekey(pending, numOf), ta: x.ta, tp: rekey(x.tp, numOf), seen: (rekey({ s: x.seen ?? {} }, numOf).s ?? {}) as Record<string, number> };
        },
        injectFault: faultable ? (step) => { if (shared) shared.f.step = step; else st.fault = step; } : undefined,
      };
    },
  };
}
