// A tiny host for scenario scripts (etcd-io/raft datadriven style): it drives the
// real core through the facade, keeps each process's application state (the list
// of message labels it has consumed) and stores/restores it through the core's
// checkpoint arena, so a rollback shows exactly what the process got back.
import { Core, CoreError, type CoreConfig, type CoreEffect, type CoreEvent, type Rules } from "../host/core/core.ts";
import type { Kind, Role } from "../host/core/abi.ts";

const enc = new TextEncoder();
class ScriptError extends Error {}
const dec = new TextDecoder();

interface Proc { name: string; pid: number; app: string[]; twin?: number }

export class ScenarioHost {
  core!: Core;
  procs: Proc[] = [];
  byName = new Map<string, Proc>();
  devices: string[] = [];          // every message a device received, in order
  epoch = 0;
  private msgNo = 0;
  private pendingExt = new Map<number, string>();
  private cfg: CoreConfig = {};

  constructor() { this.reset({}); }

  reset(cfg: CoreConfig): void {
    this.cfg = cfg;
    this.core = new Core(cfg);
    this.procs = [];
    this.byName.clear();
    this.devices = [];
    this.epoch = 0;
    this.msgNo = 0;
    this.pendingExt.clear();
  }

  /** Lines a multi-step command already produced, shown even when a later step is refused. */
  private done: string[] = [];

  proc(name: string): Proc {
    const p = this.byName.get(name);
    if (!p) throw new ScriptError(`unknown process '${name}' (declare it with 'proc ${name} ROLE')`);
    return p;
  }
  name(pid: number): string { return this.procs[pid]?.name ?? `#${pid}`; }
  kindOf(p: Proc): Kind {
    const r = this.core.role(p.pid);
    return r === "low" ? "low" : r === "hs" ? "sdw" : "act";
  }
  snapshotOf(p: Proc): Uint8Array { return enc.encode(JSON.stringify(p.app)); }

  /** Runs events; carries out checkpoint/rollback/replay effects; returns the effects. */
  run(events: CoreEvent[], labels: (string | undefined)[] = []): CoreEffect[] {
    const fx = this.core.submit(events);
    for (const e of fx) this.carryOut(e, events, labels);
    return fx;
  }

  private carryOut(e: CoreEffect, events: CoreEvent[], labels: (string | undefined)[]): void {
    switch (e.type) {
      case "checkpoint": {
        const snap = this.snapshotOf(this.procs[e.pid]);
        if (snap.length > e.snapshot.length) throw new Error(`snapshot of ${this.name(e.pid)} outgrew its reservation`);
        e.snapshot.set(snap);
        this.core.setCheckpointLength(e.pid, snap.length);
        break;
      }
      case "deliver": {
        const label = labels[e.event];
        if (label !== undefined) this.procs[e.pid].app.push(label);
        break;
      }
      case "rollback":
        this.procs[e.pid].app = JSON.parse(dec.decode(e.snapshot));
        break;
      case "replay":
        this.procs[e.pid].app.push(dec.decode(e.payload));
        break;
      case "deliver-device": {
        const label = labels[e.event] ?? this.pendingExt.get(e.pid) ?? "?";
        this.pendingExt.delete(e.pid);
        this.devices.push(`${this.name(e.pid)}:${label}`);
        break;
      }
      case "at-failed":
        this.pendingExt.delete(e.pid);
        break;
      case "resend":
        if (e.log === "ext") this.devices.push(`${this.name(e.pid)}:${dec.decode(e.payload)}`);
        else this.procs[e.peer]?.app.push(dec.decode(e.payload));
        break;
      case "recovered":
        this.epoch = e.epoch;
        break;
    }
  }

  nextLabel(): string { return `m${++this.msgNo}`; }

  format(e: CoreEffect): string {
    const n = (pid: number) => this.name(pid);
    switch (e.type) {
      case "deliver": return `deliver ${n(e.pid)}`;
      case "drop": return `drop ${n(e.pid)} ${e.reason}`;
      case "checkpoint": return `checkpoint ${n(e.pid)} index=${e.index}${e.vec ? ` vec=[${e.vec}]` : ""}`;
      case "logged": return `logged ${n(e.pid)} ${e.log} index=${e.index}`;
      case "send": return `piggyback ${n(e.pid)} dirty=${e.header.dirty} index=${e.header.index} epoch=${e.header.epoch}${e.header.vec ? ` vec=[${e.header.vec}]` : ""}`;
      case "counter": return `counter ${e.counter}=${e.value}`;
      case "suppressed": return `suppressed ${n(e.pid)} ${e.log} index=${e.index}`;
      case "at-required": return `at-required ${n(e.pid)}`;
      case "deliver-device": return `deliver-device ${n(e.pid)}`;
      case "broadcast-passed": return `broadcast-passed ${n(e.pid)} v=${e.v} vext=${e.vext}${e.P ? ` P=[${e.P}] Q=[${e.Q}]` : ""}`;
      case "reclaim": return `reclaim ${n(e.pid)} ckpts=${e.checkpoints} logs=${e.logEntries} bytes=${e.bytes} dirty=${e.dirty}`;
      case "at-failed": return `at-failed ${n(e.pid)}`;
      case "bound": return `bound v=${e.v} vext=${e.vext}${e.P ? ` P=[${e.P}] Q=[${e.Q}]` : ""}`;
      case "rollback": return `rollback ${n(e.pid)} to=${e.index} distance=${e.distance} app=${dec.decode(e.snapshot)}`;
      case "replay": return `replay ${n(e.pid)} ${dec.decode(e.payload)} from=${n(e.peer)} dirty=${e.dirty} index=${e.index}`;
      case "replay-dropped": return `replay-dropped ${n(e.pid)} from=${n(e.peer)} dirty=${e.dirty} index=${e.index}`;
      case "resend": return `resend ${n(e.pid)} ${e.log} ${dec.decode(e.payload)} index=${e.index}${e.log === "int" ? ` to=${n(e.peer)}` : ""}`;
      case "suppress-next": return `suppress-next int=${e.int} ext=${e.ext}`;
      case "retire": return `retire ${n(e.pid)}`;
      case "role": return `role ${n(e.pid)} ${e.role}`;
      case "freed": return `freed ${n(e.pid)} bytes=${e.bytes}`;
      case "recovered": return `recovered V=${e.V} Vext=${e.Vext} epoch=${e.epoch} reason=${e.reason}${e.inexact ? " INEXACT" : ""}`;
      case "voided": return `voided ${n(e.pid)} int=${e.int} ext=${e.ext}`;
    }
  }

  stateLine(p: Proc): string {
    const s = this.core.state(p.pid);
    const list = (a: number[]) => `[${a.join(",")}]`;
    let line = `${p.name} ${s.role} dirty=${s.dirty} prgt=${s.prgt} local=${s.local}`;
    if (s.role === "hs") line += ` iVR=${s.iVR} iVRext=${s.iVRext}`;
    line += ` ckpts=${list(s.ckpts)}`;
    if (this.core.rules === "paper" && s.ckpts.length) line += ` highs=${list(this.core.checkpointHighs(p.pid))}`;
    line += ` in=${list(s.inLog)}`;
    if (s.outInt.length || s.outExt.length || s.role === "hs") line += ` int=${list(s.outInt)} ext=${list(s.outExt)}`;
    line += ` held=${s.held} app=[${p.app.join(",")}]`;
    return line;
  }

  // ---- commands ------------------------------------------------------------------
  exec(line: string): string {
    const [cmd, ...rest] = line.trim().split(/\s+/);
    const pos = rest.filter((a) => !a.includes("="));
    const kv = Object.fromEntries(rest.filter((a) => a.includes("=")).map((a) => a.split("=", 2) as [string, string]));
    const num = (k: string, d?: number) => {
      if (kv[k] === undefined) { if (d === undefined) throw new Error(`${cmd}: missing ${k}=`); return d; }
      const v = Number(kv[k]);
      if (!Number.isInteger(v)) throw new Error(`${cmd}: ${k} must be an integer`);
      return v;
    };
    const fmt = (fx: CoreEffect[]) => fx.map((e) => this.format(e)).join("\n");
    this.done = [];
    try {
      switch (cmd) {
        case "init": {
          const cfg: CoreConfig = { rules: (kv.rules ?? "safe") as Rules };
          for (const k of ["procs", "ckptSlots", "ckptBytes", "logSlots", "logBytes", "effects", "stageBytes", "batch"] as const) {
            if (kv[k] !== undefined) cfg[k] = num(k);
          }
          this.reset(cfg);
          return `ok rules=${this.core.rules}`;
        }
        case "proc": {
          const [name, role] = pos;
          const pid = this.procs.length;
          this.core.setRole(pid, role as Role);
          const p: Proc = { name, pid, app: [] };
          this.procs.push(p);
          this.byName.set(name, p);
          if (kv.twin) { const t = this.proc(kv.twin); t.twin = pid; p.twin = t.pid; this.core.setTwin(pid, t.pid); }
          return `${name} pid=${pid} ${role}${kv.twin ? ` shadow-of=${kv.twin}` : ""}`;
        }
        case "guard":
          this.core.beginGuarded();
          return "guarded";
        case "send": {
          // send FROM TO|device [label=]
          const from = this.proc(pos[0]);
          const toDev = pos[1] === "device";
          const to = toDev ? undefined : this.proc(pos[1]);
          const label = kv.label ?? this.nextLabel();
          return fmt(this.run([{ type: "send", pid: from.pid, to: toDev ? "device" : this.kindOf(to!), peer: to?.pid ?? 0, payload: enc.encode(label) }], [label]));
        }
        case "recv": {
          // recv TO FROM|device dirty= index= [epoch=] [label=]
          const to = this.proc(pos[0]);
          const fromDev = pos[1] === "device";
          const from = fromDev ? undefined : this.proc(pos[1]);
          const label = kv.label ?? this.nextLabel();
          return fmt(this.run([{
            type: "recv", pid: to.pid, from: fromDev ? "device" : this.kindOf(from!), peer: from?.pid ?? 0,
            dirty: num("dirty"), index: num("index"), epoch: num("epoch", this.epoch),
            snapBytes: num("snap", 4096), payload: enc.encode(label),
          }], [label]));
        }
        case "msg": {
          // msg FROM TO: send, then receive with the piggybacked header at TO (and TO's shadow)
          const from = this.proc(pos[0]);
          const to = this.proc(pos[1]);
          const label = kv.label ?? this.nextLabel();
          const payload = enc.encode(label);
          const step = kv.step === undefined ? undefined : num("step"); // the message's application step
          const sent = this.run([{ type: "send", pid: from.pid, to: this.kindOf(to), peer: to.pid, payload, step }], [label]);
          const out = this.done;
          out.push(`${label} ${from.name}->${to.name}`, ...sent.map((e) => this.format(e)));
          const hdr = sent.find((e) => e.type === "send");
          if (hdr && hdr.type === "send") {
            const dests = [to];
            if (to.twin !== undefined && this.core.role(to.pid) === "low" && this.core.role(from.pid) !== "low") dests.push(this.procs[to.twin]);
            const fromKind = this.kindOf(from);
            for (const d of dests) {
              const fx = this.run([{ type: "recv", pid: d.pid, from: fromKind, peer: from.pid, dirty: hdr.header.dirty, index: hdr.header.index, epoch: hdr.header.epoch, snapBytes: 4096, payload, step, vec: hdr.header.vec }], [label]);
              out.push(...fx.map((e) => this.format(e)));
            }
          }
          return out.join("\n");
        }
        case "ext": {
          // ext P [pass|fail] [label=]: P sends to a device; the AT verdict follows if given
          const p = this.proc(pos[0]);
          const label = kv.label ?? `${pos[0].toLowerCase()}-out${this.devices.length + 1}`;
          const fx = this.run([{ type: "send", pid: p.pid, to: "device", payload: enc.encode(label), step: kv.step === undefined ? undefined : num("step") }], [label]);
          const out = this.done;
          out.push(...fx.map((e) => this.format(e)));
          if (fx.some((e) => e.type === "at-required")) {
            this.pendingExt.set(p.pid, label);
            if (pos[1] === "pass" || pos[1] === "fail") {
              out.push(...this.run([{ type: "at-result", pid: p.pid, passed: pos[1] === "pass" }]).map((e) => this.format(e)));
            }
          }
          return out.join("\n");
        }
        case "verdict": {
          const p = this.proc(pos[0]);
          return fmt(this.run([{ type: "at-result", pid: p.pid, passed: pos[1] === "pass" }]));
        }
        case "notify": {
          const targets = pos.length ? pos.map((n) => this.proc(n)) :
            this.procs.filter((p) => ["ha", "hs"].includes(this.core.role(p.pid)) && p.name !== kv.from);
          // v, vext: scalar bounds (member slot 1); P=a,b,... Q=...: vectors over the member slots
          const vecOf = (k: string) => (kv[k] === undefined ? undefined : kv[k].split(",").map(Number));
          const P = vecOf("P"), Q = vecOf("Q");
          const evs: CoreEvent[] = targets.map((p) => ({ type: "passed-at", pid: p.pid, v: P ? P[0] : num("v"), vext: Q ? Q[0] : num("vext", 0), epoch: num("epoch", this.epoch), P, Q }));
          return fmt(this.run(evs));
        }
        case "recover":
        case "abort": {
          const begin = this.run([{ type: "recover-begin" }]);
          this.done.push(...begin.map((e) => this.format(e)));
          const b = begin.find((e) => e.type === "bound");
          const V = num("V", b && b.type === "bound" ? b.v : 0);
          const Vext = num("Vext", b && b.type === "bound" ? b.vext : 0);
          const vecs = kv.V === undefined && b && b.type === "bound" && (b.P || b.Q) ? { Vvec: b.P, Vextvec: b.Q } : {};
          const apply = this.run([{ type: cmd === "abort" ? "abort" : "recover-apply", V, Vext, epoch: this.epoch + 1, ...vecs }]);
          return [...this.done, fmt(apply)].join("\n");
        }
        case "commit":
          return fmt(this.run([{ type: "commit" }])) || "committed";
        case "state": {
          const ps = pos.length ? pos.map((n) => this.proc(n)) : this.procs;
          return ps.map((p) => this.stateLine(p)).join("\n");
        }
        case "counters": {
          const g = (k: Parameters<Core["global"]>[0]) => this.core.global(k);
          return `guarded=${g("guarded")} epoch=${g("epoch")} int_mSN_G^low=${g("low")} ext_mSN_G^low=${g("lowExt")} int_mSN_G^high_sdw=${g("sdw")} ext_mSN_G^high_sdw=${g("sdwExt")} knownV=${g("knownV")} knownVext=${g("knownVext")} suppress=${g("suppressInt")}/${g("suppressExt")}`;
        }
        case "devices":
          return this.devices.length ? this.devices.join("\n") : "(none)";
        case "memory":
          return `held=${this.core.heldBytes()} fixed=${this.core.fixedBytes()}`;
        case "header": {
          const h = this.core.encodeHeader({ kind: (kv.kind ?? "app") as never, dirty: num("dirty", 0), index: num("index", 0), epoch: num("epoch", 0), aux: num("aux", 0) });
          return Buffer.from(h).toString("hex");
        }
        case "decode": {
          const h = this.core.decodeHeader(Buffer.from(pos[0] ?? "", "hex"));
          return `kind=${h.kind} dirty=${h.dirty} index=${h.index} epoch=${h.epoch} aux=${h.aux} length=${h.length}`;
        }
        default:
          throw new Error(`unknown scenario command '${cmd}'`);
      }
    } catch (err) {
      const before = [...this.done, ...(err instanceof CoreError ? err.effects.map((e) => this.format(e)) : [])];
      if (err instanceof CoreError) return [...before, `error ${err.code} field=${err.field}: ${err.message}`].join("\n");
      if (err instanceof ScriptError) return [...before, `script error: ${err.message}`].join("\n");
      throw err;
    }
  }
}

// ---- the datadriven file format ------------------------------------------------------
// A block is one command line, a line '----', then the expected output up to a blank line.
export interface Block { command: string; expected: string; line: number }

export function parseScript(text: string): { blocks: Block[]; lines: string[] } {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.trim() === "" || l.startsWith("#")) continue;
    if (lines[i + 1] !== "----") throw new Error(`line ${i + 1}: command '${l}' must be followed by a line '----'`);
    let j = i + 2;
    const out: string[] = [];
    while (j < lines.length && lines[j] !== "") out.push(lines[j++]);
    blocks.push({ command: l, expected: out.join("\n"), line: i + 1 });
    i = j;
  }
  return { blocks, lines };
}

/** Runs a script; returns the actual text (the rewrite) and the mismatches. */
export function runScript(text: string): { actual: string; mismatches: { line: number; command: string; expected: string; actual: string }[] } {
  const host = new ScenarioHost();
  const { blocks } = parseScript(text);
  const lines = text.split("\n");
  const outLines: string[] = [];
  const mismatches: { line: number; command: string; expected: string; actual: string }[] = [];
  let cursor = 0;
  for (const b of blocks) {
    while (cursor < b.line - 1) outLines.push(lines[cursor++]);
    const actual = host.exec(b.command);
    if (actual !== b.expected) mismatches.push({ line: b.line, command: b.command, expected: b.expected, actual });
    outLines.push(b.command, "----", ...(actual === "" ? [] : actual.split("\n")));
    cursor = b.line + 1 + (b.expected === "" ? 0 : b.expected.split("\n").length);
  }
  while (cursor < lines.length) outLines.push(lines[cursor++]);
  return { actual: outLines.join("\n"), mismatches };
}
