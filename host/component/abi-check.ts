/**
 * Does a compiled component match its manifest and the component ABI
 * (host/component/component.ts)? `gsu sign` asks before it signs, so that a wasm
 * built for another component, an ABI-breaking build, or a manifest that
 * declares ports the code cannot serve is refused with the mismatch named, not
 * found on a board at activation.
 *
 * Reads the module's binary sections itself (type, import, function, global,
 * export, start) because WebAssembly.Module.exports/imports give names and kinds
 * but no function signatures or global types.
 */
import type { Manifest } from "./manifest.ts";
import { readStamp, stampMismatch } from "./build.ts";

type Val = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";
const VAL: Record<number, Val> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref" };
interface FuncType { params: Val[]; results: Val[] }
const sig = (t: FuncType) => `(${t.params.join(", ")}) -> (${t.results.join(", ")})`;

/** The ABI's functions: name -> signature (exports; imports below). */
const EXPORTS: Record<string, { type: FuncType; required: boolean; what: string }> = {
  _start: { type: { params: [], results: [] }, required: true, what: "top-level init (asc --exportStart _start)" },
  gsu_inbox: { type: { params: [], results: ["i32"] }, required: true, what: "address of the 4096-byte inbox" },
  gsu_handle: { type: { params: ["i32", "i32"], results: [] }, required: true, what: "gsu_handle(port: u32, len: u32): void" },
  gsu_fault: { type: { params: ["i32"], results: [] }, required: false, what: "gsu_fault(fromStep: u32): void" },
  gsu_state_save: { type: { params: [], results: ["i32"] }, required: false, what: "gsu_state_save(): u32" },
  gsu_state_load: { type: { params: ["i32"], results: [] }, required: false, what: "gsu_state_load(len: u32): void" },
};
const IMPORTS: Record<string, FuncType> = {
  "gsu.send": { params: ["i32", "i32", "i32"], results: [] },
  "env.abort": { params: ["i32", "i32", "i32", "i32"], results: [] },
};
const GLOBAL_CODE = ["i32", "i64", "f32", "f64"] as const;

interface Parsed {
  types: FuncType[];
  /** function index -> type index (imports first) */
  funcs: number[];
  imports: { key: string; kind: number; type?: number }[];
  globals: { type: Val; mutable: boolean }[];
  exports: Map<string, { kind: number; index: number }>;
  start: boolean;
  memoryImported: boolean;
}

class Bin {
  o = 0;
  constructor(private b: Uint8Array) {}
  u8(): number { if (this.o >= this.b.length) throw new Error("truncated section"); return this.b[this.o++]; }
  u32(): number { let r = 0, s = 0, x; do { x = this.u8(); r |= (x & 0x7f) << s; s += 7; } while (x & 0x80 && s < 35); return r >>> 0; }
  skipLeb(): void { while (this.u8() & 0x80) { /* next */ } }
  name(): string { const n = this.u32(); const s = new TextDecoder().decode(this.b.subarray(this.o, this.o + n)); this.o += n; return s; }
  val(): Val { const c = this.u8(); const v = VAL[c]; if (!v) throw new Error(`unknown value type 0x${c.toString(16)}`); return v; }
  limits(): void { const f = this.u8(); this.u32(); if (f & 1) this.u32(); }
  /** A constant expression up to its `end`. */
  constExpr(): void {
    for (;;) {
      const op = this.u8();
      if (op === 0x0b) return;
      if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd2) this.skipLeb();
      else if (op === 0x43) this.o += 4;
      else if (op === 0x44) this.o += 8;
      else if (op === 0xd0) this.u8();
      else if (op === 0xfd) { this.u32(); this.o += 16; }
      // extended-const arithmetic (i32/i64 add, sub, mul) has no immediates
    }
  }
}

function parse(wasm: Uint8Array): Parsed {
  const p: Parsed = { types: [], funcs: [], imports: [], globals: [], exports: new Map(), start: false, memoryImported: false };
  const r = new Bin(wasm);
  r.o = 8;
  while (r.o < wasm.length) {
    const id = r.u8();
    const size = r.u32();
    const end = r.o + size;
    const s = new Bin(wasm.subarray(0, end));
    s.o = r.o;
    if (id === 1) {
      for (let n = s.u32(); n > 0; n--) {
        if (s.u8() !== 0x60) throw new Error("type section: not a function type");
        const params = Array.from({ length: s.u32() }, () => s.val());
        const results = Array.from({ length: s.u32() }, () => s.val());
        p.types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = s.u32(); n > 0; n--) {
        const key = `${s.name()}.${s.name()}`;
        const kind = s.u8();
        if (kind === 0) { const t = s.u32(); p.imports.push({ key, kind, type: t }); p.funcs.push(t); }
        else if (kind === 1) { s.val(); s.limits(); p.imports.push({ key, kind }); }
        else if (kind === 2) { s.limits(); p.imports.push({ key, kind }); p.memoryImported = true; }
        else if (kind === 3) { const type = s.val(); const mutable = s.u8() === 1; p.globals.push({ type, mutable }); p.imports.push({ key, kind }); }
        else { s.u32(); p.imports.push({ key, kind }); }
      }
    } else if (id === 3) {
      for (let n = s.u32(); n > 0; n--) p.funcs.push(s.u32());
    } else if (id === 6) {
      for (let n = s.u32(); n > 0; n--) { const type = s.val(); const mutable = s.u8() === 1; s.constExpr(); p.globals.push({ type, mutable }); }
    } else if (id === 7) {
      for (let n = s.u32(); n > 0; n--) { const name = s.name(); const kind = s.u8(); p.exports.set(name, { kind, index: s.u32() }); }
    } else if (id === 8) {
      p.start = true;
    }
    r.o = end;
  }
  return p;
}

const KIND_NAME = ["function", "table", "memory", "global", "tag"];

/**
 * Every way `wasm` does not fit `manifest` and the component ABI, one line each
 * (empty when it fits). `label` names the wasm (its file) in the lines.
 */
export function abiMismatches(wasm: Uint8Array, manifest: Pick<Manifest, "name" | "version" | "ports">, label = "the wasm"): string[] {
  const out: string[] = [];
  let mod: WebAssembly.Module;
  try { mod = new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>); } catch (e) { return [`${label} is not a valid WebAssembly module (${(e as Error).message})`]; }
  let p: Parsed;
  try { p = parse(wasm); } catch (e) { return [`${label}: cannot read its sections (${(e as Error).message})`]; }
  const fnType = (i: number) => p.types[p.funcs[i]];

  // exports the ABI requires, with their signatures
  const mem = p.exports.get("memory");
  if (!mem || mem.kind !== 2) out.push(`${label} does not export its linear memory as "memory"`);
  else if (p.memoryImported) out.push(`${label} imports its memory; a component defines and exports its own`);
  for (const [name, want] of Object.entries(EXPORTS)) {
    const e = p.exports.get(name);
    if (!e) { if (want.required) out.push(`${label} does not export ${name} (${want.what})`); continue; }
    if (e.kind !== 0) { out.push(`${label} exports ${name} as a ${KIND_NAME[e.kind] ?? "?"}, not a function (${want.what})`); continue; }
    const t = fnType(e.index);
    if (!t || sig(t) !== sig(want.type)) out.push(`${label} exports ${name} with signature ${t ? sig(t) : "?"}; the ABI says ${sig(want.type)} (${want.what})`);
  }
  if (p.exports.has("gsu_state_save") !== p.exports.has("gsu_state_load")) {
    out.push(`${label} exports only one of gsu_state_save and gsu_state_load; state transfer needs both or neither`);
  }
  if (p.start) out.push(`${label} has a wasm start section; the ABI runs init through the exported _start (asc --exportStart _start)`);

  // imports: only the ABI's, with their signatures
  for (const i of p.imports) {
    const want = IMPORTS[i.key];
    if (!want || i.kind !== 0) { out.push(`${label} imports ${i.key} (${KIND_NAME[i.kind] ?? "?"}); a component may import only gsu.send and env.abort`); continue; }
    const t = p.types[i.type!];
    if (!t || sig(t) !== sig(want)) out.push(`${label} imports ${i.key} with signature ${t ? sig(t) : "?"}; the ABI says ${sig(want)}`);
  }

  // checkpointing: every mutable global exported as gsu_g<i>, typed as "gsu.globals" says
  const secs = WebAssembly.Module.customSections(mod, "gsu.globals");
  if (secs.length !== 1) out.push(`${label} has no "gsu.globals" section: its mutable globals are not exported for checkpointing (build it with gsu build-component or scripts/build-examples.mjs)`);
  else {
    const sec = new Uint8Array(secs[0]);
    const n = sec.length >= 4 ? new DataView(sec.buffer, sec.byteOffset).getUint32(0, true) : -1;
    if (n < 0 || sec.length !== 4 + n) out.push(`${label}: malformed "gsu.globals" section`);
    else {
      for (let i = 0; i < n; i++) {
        const e = p.exports.get(`gsu_g${i}`);
        const want = GLOBAL_CODE[sec[4 + i]];
        const g = e?.kind === 3 ? p.globals[e.index] : undefined;
        if (!g) out.push(`${label}: "gsu.globals" lists ${n} globals but gsu_g${i} is not an exported global`);
        else if (g.type !== want || !g.mutable) out.push(`${label}: gsu_g${i} is ${g.mutable ? "a mutable" : "an immutable"} ${g.type}; "gsu.globals" says mutable ${want ?? "?"}`);
      }
      if (p.exports.has(`gsu_g${n}`)) out.push(`${label} exports more gsu_g* globals than "gsu.globals" lists (${n})`);
      const mutable = p.globals.filter((g) => g.mutable).length;
      if (mutable > n) out.push(`${label} has ${mutable} mutable globals but exports ${n} for checkpointing: a rollback would not restore the others`);
    }
  }

  // the manifest: a component with output ports sends through gsu.send; one without none
  const outs = manifest.ports.filter((x) => x.dir === "out");
  const sends = p.imports.some((i) => i.key === "gsu.send");
  if (outs.length && !sends) out.push(`the manifest ${manifest.name}@${manifest.version} declares output port(s) ${outs.map((x) => `${x.port} "${x.name}" (${x.iface})`).join(", ")}, but ${label} does not import gsu.send: it can send nothing. Is it the wasm of another component?`);
  if (!outs.length && sends) out.push(`${label} imports gsu.send (it sends), but the manifest ${manifest.name}@${manifest.version} declares no output port. Is it the wasm of another component?`);
  if (!manifest.ports.some((x) => x.dir === "in")) out.push(`the manifest ${manifest.name}@${manifest.version} declares no input port; gsu_handle would never be called`);

  // built by gsu build-component: the stamp names what it was built from
  try {
    const stamp = readStamp(mod);
    const diff = stamp && stampMismatch(stamp, { ...manifest, file: "" });
    if (diff) out.push(`${label} was not built from this manifest: ${diff}`);
  } catch (e) { out.push(`${label}: ${(e as Error).message}`); }
  return out;
}
