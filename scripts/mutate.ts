// Mutation testing of the protocol core (npm run mutate). No mutation framework
// supports AssemblyScript, so this one is small and specific: it parses
// assembly/*.ts (not assembly/__tests__) with the TypeScript parser, makes one
// mutant per change below, and for each mutant, in a private copy of the repo under
// the OS temp dir (never in the working tree), builds the core (asc, the release
// target the host loads) and runs the fast suites, stopping at the first failure.
//
//   operator swaps   == <-> !=, < <-> <=, > <-> >=, + <-> -, += <-> -=, && <-> ||
//   negated if       if (c)  ->  if (!(c))
//   deleted stmt     an expression statement (call, assignment, store<..>(..), x++) -> {}
//   constant 0 <-> 1 a literal 0 or 1 inside a function body
//
// Outcomes: killed (a suite failed), timeout (a suite hung: killed, counted apart),
// compile (asc refused the mutant: not in the score), survived, equivalent (listed in
// test/mutation-equivalent.json with a reason: not in the score).
//   score = (killed + timeout) / (total - equivalent - compile)
//
// Usage:
//   npm run mutate                          every mutant (long: see --list for the count)
//   npm run mutate -- --smoke               4 mutants, without the property suite, for CI (< 2 min)
//   npm run mutate -- --sample 60 --seed 7  a seeded random sample
//   npm run mutate -- --file assembly/rules.ts
//   npm run mutate -- --only ID[,ID...]     these mutants (ids are printed and stable)
//   npm run mutate -- --list                list the mutants (with the selection flags), run nothing
//   npm run mutate -- --show ID             print one mutant's diff
//   --workers N (1 or 2, default 2)   --json FILE (default test-results/mutation.json)
//   --keep (keep the temp copies)     --cases N (property-suite cases, default 60)
//
// Mutant ids are a hash of file, enclosing function, operator and the mutated source
// text (not the line number), so they and the equivalents file survive unrelated edits.
// Exit status: 0 when the run completed (whatever the score), 1 when the unmutated
// baseline fails (nothing was measured), 2 on bad arguments.
import ts from "typescript";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const EQUIV_FILE = "test/mutation-equivalent.json";

// ---- arguments ------------------------------------------------------------------
interface Opts {
  smoke: boolean; sample: number; seed: number; files: string[]; only: string[]; list: boolean; show: string;
  workers: number; json: string; keep: boolean; cases: number;
}
function usage(msg: string): never {
  console.error(`mutate: ${msg}\nusage: npm run mutate -- [--smoke | --sample N [--seed S]] [--file assembly/X.ts]... [--only ID,...] [--list] [--show ID] [--workers 1|2] [--json FILE] [--keep] [--cases N]`);
  process.exit(2);
}
function parseArgs(argv: string[]): Opts {
  const o: Opts = { smoke: false, sample: 0, seed: 1, files: [], only: [], list: false, show: "", workers: 2, json: "test-results/mutation.json", keep: false, cases: 60 };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) usage(`${flag} needs an integer >= ${min}, got ${v ?? "nothing"}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    switch (a) {
      case "--smoke": o.smoke = true; break;
      case "--sample": o.sample = num(a, val(), 1); break;
      case "--seed": o.seed = num(a, val(), 0); break;
      case "--file": o.files.push(val().replace(/^\.\//, "")); break;
      case "--only": o.only.push(...val().split(",").filter(Boolean)); break;
      case "--list": o.list = true; break;
      case "--show": o.show = val(); break;
      case "--workers": o.workers = num(a, val(), 1); if (o.workers > 2) usage("--workers: at most 2 (the machine has 2 cores)"); break;
      case "--json": o.json = val(); break;
      case "--keep": o.keep = true; break;
      case "--cases": o.cases = num(a, val(), 1); break;
      case "--help": case "-h": console.log(readFileSync(fileURLToPath(import.meta.url), "utf8").split("\nimport ")[0]); process.exit(0);
      default: usage(`unknown argument ${a}`);
    }
  }
  return o;
}

// ---- mutants ----------------------------------------------------------------------
type Op = "swap" | "negate-if" | "delete" | "const";
export interface Mutant {
  id: string; file: string; line: number; fn: string; op: Op;
  /** what changes, as source text: for swaps the binary expression, for deletes the statement */
  original: string; mutated: string;
  start: number; end: number; replacement: string;
  /** the span of `original` in the file */
  ctxStart: number; ctxEnd: number;
}

const SWAPS: Partial<Record<ts.SyntaxKind, string>> = {
  [ts.SyntaxKind.EqualsEqualsToken]: "!=", [ts.SyntaxKind.ExclamationEqualsToken]: "==",
  [ts.SyntaxKind.EqualsEqualsEqualsToken]: "!==", [ts.SyntaxKind.ExclamationEqualsEqualsToken]: "===",
  [ts.SyntaxKind.LessThanToken]: "<=", [ts.SyntaxKind.LessThanEqualsToken]: "<",
  [ts.SyntaxKind.GreaterThanToken]: ">=", [ts.SyntaxKind.GreaterThanEqualsToken]: ">",
  [ts.SyntaxKind.PlusToken]: "-", [ts.SyntaxKind.MinusToken]: "+",
  [ts.SyntaxKind.PlusEqualsToken]: "-=", [ts.SyntaxKind.MinusEqualsToken]: "+=",
  [ts.SyntaxKind.AmpersandAmpersandToken]: "||", [ts.SyntaxKind.BarBarToken]: "&&",
};

const norm = (s: string) => s.replace(/\s+/g, " ").trim();

function fnName(node: ts.Node): string {
  const parts: string[] = [];
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if ((ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isClassDeclaration(n) || ts.isGetAccessor(n) || ts.isSetAccessor(n)) && n.name) {
      parts.unshift(n.name.getText());
    } else if (ts.isConstructorDeclaration(n)) parts.unshift("constructor");
  }
  return parts.join(".") || "<top>";
}
const inFunctionBody = (node: ts.Node): boolean => {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) if (ts.isFunctionLike(n)) return true;
  return false;
};

/** Every mutant of one source file (path relative to the repo root, text as read). */
export function mutantsOf(file: string, text: string): Mutant[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Omit<Mutant, "id">[] = [];
  const add = (node: ts.Node, op: Op, start: number, end: number, replacement: string, whole: ts.Node) => {
    const ws = whole.getStart(sf), we = whole.getEnd();
    const original = norm(text.slice(ws, we));
    const mutated = norm(text.slice(ws, start) + replacement + text.slice(end, we));
    out.push({ file, line: sf.getLineAndCharacterOfPosition(start).line + 1, fn: fnName(node), op, original, mutated, start, end, replacement, ctxStart: ws, ctxEnd: we });
  };
  const visit = (node: ts.Node) => {
    if (ts.isBinaryExpression(node)) {
      const to = SWAPS[node.operatorToken.kind];
      if (to !== undefined) add(node, "swap", node.operatorToken.getStart(sf), node.operatorToken.getEnd(), to, node);
    } else if (ts.isIfStatement(node)) {
      const c = node.expression;
      add(node, "negate-if", c.getStart(sf), c.getEnd(), `!(${c.getText(sf)})`, c);
    } else if (ts.isExpressionStatement(node) && inFunctionBody(node)) {
      add(node, "delete", node.getStart(sf), node.getEnd(), "{}", node);
    } else if (ts.isNumericLiteral(node) && (node.text === "0" || node.text === "1") && inFunctionBody(node)) {
      // the enclosing statement (or expression) is the description's context
      let ctx: ts.Node = node;
      while (ctx.parent && !ts.isStatement(ctx.parent) && !ts.isBlock(ctx.parent) && !ts.isSourceFile(ctx.parent)) ctx = ctx.parent;
      add(node, "const", node.getStart(sf), node.getEnd(), node.text === "0" ? "1" : "0", ctx);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  // Stable ids: file + function + operator + texts, with an occurrence number for
  // identical mutants (same text twice in one function).
  const seen = new Map<string, number>();
  return out.map((m) => {
    let key = `${m.file}|${m.fn}|${m.op}|${m.original}|${m.mutated}`;
    const k = (seen.get(key) ?? 0) + 1;
    seen.set(key, k);
    if (k > 1) key += `|#${k}`;
    return { id: createHash("sha1").update(key).digest("hex").slice(0, 8), ...m };
  });
}

export function apply(text: string, m: Mutant): string {
  return text.slice(0, m.start) + m.replacement + text.slice(m.end);
}

/** The mutated line(s), as a two-line diff. */
function diffOf(text: string, m: Mutant): string {
  const ls = text.lastIndexOf("\n", m.start - 1) + 1;
  let le = text.indexOf("\n", m.end);
  if (le < 0) le = text.length;
  const before = text.slice(ls, le);
  const after = before.slice(0, m.start - ls) + m.replacement + before.slice(m.end - ls);
  const clip = (s: string) => norm(s).slice(0, 160);
  return `- ${clip(before)}\n+ ${clip(after)}`;
}

const OP_LABEL: Record<Op, string> = { swap: "swap", "negate-if": "negate-if", delete: "delete", const: "const" };
/** One line saying what changed, with a little context around the change. */
function describe(m: Mutant, text: string): string {
  if (m.op === "delete") return `delete \`${clip(m.original, 80)}\``;
  if (m.op === "negate-if") return `if (${clip(m.original, 70)}) -> if (!(...))`;
  const cutL = m.start - 40 > m.ctxStart, cutR = m.end + 40 < m.ctxEnd;
  let before = text.slice(Math.max(m.ctxStart, m.start - 40), m.start);
  let after = text.slice(m.end, Math.min(m.ctxEnd, m.end + 40));
  if (cutL) before = "..." + before.replace(/^\S*\s/, "");
  if (cutR) after = after.replace(/\s\S*$/, "") + "...";
  return norm(`${before}[${text.slice(m.start, m.end)} -> ${m.replacement}]${after}`);
}
const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n - 3) + "..." : s);

// ---- equivalents ---------------------------------------------------------------------
interface Equivalent { file: string; fn?: string; op: Op; original: string; mutated?: string; id?: string; reason: string }
function loadEquivalents(): Equivalent[] {
  const p = join(root, EQUIV_FILE);
  if (!existsSync(p)) return [];
  const doc = JSON.parse(readFileSync(p, "utf8")) as { mutants?: Equivalent[] };
  const list = doc.mutants ?? [];
  for (const [i, e] of list.entries()) {
    if (!e.file || !e.op || !e.original || !e.reason) throw new Error(`${EQUIV_FILE}: mutants[${i}] needs file, op, original and reason`);
  }
  return list;
}
const matches = (e: Equivalent, m: Mutant) =>
  e.file === m.file && e.op === m.op && norm(e.original) === m.original &&
  (e.fn === undefined || e.fn === m.fn) && (e.mutated === undefined || norm(e.mutated) === m.mutated) &&
  (e.id === undefined || e.id === m.id); // id: one of several identical texts in one function

// ---- the work copies -------------------------------------------------------------------
const SKIP_TOP = new Set([".git", "node_modules", "build", "coverage", "test-results", "bench-results", ".cache"]);
function makeBase(dir: string) {
  mkdirSync(dir, { recursive: true });
  for (const e of readdirSync(root)) {
    if (SKIP_TOP.has(e) || e.startsWith("tmp-") || e.endsWith(".log") || e.endsWith(".html")) continue;
    cpSync(join(root, e), join(dir, e), { recursive: true });
  }
  // the demo components are prebuilt and do not depend on assembly/
  if (existsSync(join(root, "build", "examples"))) cpSync(join(root, "build", "examples"), join(dir, "build", "examples"), { recursive: true });
  mkdirSync(join(dir, "build"), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  // a private vite cache, so two workers never share one
  writeFileSync(join(dir, "vitest.mutate.config.ts"),
    `import { mergeConfig } from "vitest/config";\nimport base from "./vitest.config.ts";\nexport default mergeConfig(base, { cacheDir: ".vite-mutate" });\n`);
}

// ---- running commands ------------------------------------------------------------------
interface RunResult { code: number; timedOut: boolean; ms: number; output: string }
const children = new Set<number>();
function run(cmd: string, args: string[], cwd: string, env: Record<string, string>, timeoutMs: number): Promise<RunResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env, NO_COLOR: "1", FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    const take = (d: Buffer) => { output += d; if (output.length > 200_000) output = output.slice(-100_000); };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    let timedOut = false;
    const pid = child.pid!;
    children.add(pid);
    const timer = setTimeout(() => { timedOut = true; killGroup(pid); }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      children.delete(pid);
      resolve({ code: code ?? 1, timedOut, ms: performance.now() - t0, output });
    });
  });
}
function killGroup(pid: number) {
  try { process.kill(-pid, "SIGKILL"); } catch { /* already gone */ }
}

interface Suite { name: string; args: string[]; env: Record<string, string> }
function suites(o: Opts): Suite[] {
  const asp = join("node_modules", "@as-pect", "cli", "bin", "asp.js");
  const vitest = join("node_modules", "vitest", "vitest.mjs");
  const vargs = ["run", "--config", "vitest.mutate.config.ts", "--bail=1", "--reporter=dot", "--maxWorkers=1", "--no-file-parallelism"];
  const fast = ["test/abi.test.ts", "test/facade.test.ts", "test/scenarios.test.ts"];
  if (existsSync(join(root, "test", "mutation-kills.test.ts"))) fast.push("test/mutation-kills.test.ts");
  const all: Suite[] = [
    { name: "vitest:core", args: [vitest, ...vargs, ...fast], env: {} },
    { name: "as-pect", args: [asp, "--config", "as-pect.config.js", "--no-logo"], env: {} },
    { name: "vitest:property", args: [vitest, ...vargs, "test/property.test.ts"],
      env: { GSU_PROPERTY_CASES: String(o.cases), GSU_PROPERTY_DEMO_CASES: String(Math.round(o.cases * 1.5)) } },
  ];
  // --smoke checks the machinery, not the score: the property suite would double its time
  return o.smoke ? all.slice(0, 2) : all;
}
const BUILD_ARGS = [join("node_modules", "assemblyscript", "bin", "asc.js"), "assembly/index.ts", "--config", "asconfig.json", "--target", "release"];

/** The first failing test's name, for the report. */
function firstFailure(suite: string, output: string): string {
  const lines = output.split("\n");
  if (suite === "as-pect") {
    const i = lines.findIndex((l) => /\[Fail\]|✖/.test(l));
    if (i >= 0) return norm(lines[i]).slice(0, 120);
    const e = lines.find((l) => /ERROR|error TS|RuntimeError|unreachable/i.test(l));
    return e ? norm(e).slice(0, 120) : "";
  }
  const f = lines.find((l) => /^\s*FAIL\s/.test(l));
  if (f) return norm(f).replace(/^FAIL /, "").slice(0, 140);
  const e = lines.find((l) => /Error/.test(l));
  return e ? norm(e).slice(0, 120) : "";
}

type Status = "killed" | "timeout" | "compile" | "survived" | "equivalent";
interface Outcome { m: Mutant; status: Status; by: string; detail: string; ms: number; equivalentReason?: string }

async function runMutant(dir: string, m: Mutant, original: string, ss: Suite[], limits: Map<string, number>): Promise<Outcome> {
  const t0 = performance.now();
  const path = join(dir, m.file);
  writeFileSync(path, apply(original, m));
  try {
    const b = await run(process.execPath, BUILD_ARGS, dir, {}, limits.get("build")!);
    if (b.timedOut) return { m, status: "timeout", by: "build", detail: "", ms: performance.now() - t0 };
    if (b.code !== 0) {
      const err = b.output.split("\n").find((l) => /ERROR/.test(l)) ?? "";
      return { m, status: "compile", by: "asc", detail: norm(err).slice(0, 120), ms: performance.now() - t0 };
    }
    for (const s of ss) {
      const r = await run(process.execPath, s.args, dir, s.env, limits.get(s.name)!);
      if (r.timedOut) return { m, status: "timeout", by: s.name, detail: "", ms: performance.now() - t0 };
      if (r.code !== 0) return { m, status: "killed", by: s.name, detail: firstFailure(s.name, r.output), ms: performance.now() - t0 };
    }
    return { m, status: "survived", by: "", detail: "", ms: performance.now() - t0 };
  } finally {
    writeFileSync(path, original);
  }
}

// ---- sampling --------------------------------------------------------------------------
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function sample<T>(xs: T[], n: number, seed: number): T[] {
  const a = xs.slice(), r = rng(seed);
  for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; }
  return a.slice(0, n);
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

// ---- main ------------------------------------------------------------------------------
async function main() {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => { if (e.code === "EPIPE") process.exit(0); throw e; });
  const o = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const srcFiles = readdirSync(join(root, "assembly")).filter((f) => f.endsWith(".ts")).sort().map((f) => `assembly/${f}`);
  for (const f of o.files) if (!srcFiles.includes(f)) usage(`--file ${f}: not a source file of assembly/ (one of ${srcFiles.join(", ")})`);
  const files = o.files.length ? o.files : srcFiles;

  // Snapshot the sources now: others may edit the working tree while this runs.
  const tmp = mkdtempSync(join(tmpdir(), "gsu-mutate-"));
  const cleanup = () => { for (const pid of children) killGroup(pid); if (!o.keep) rmSync(tmp, { recursive: true, force: true }); };
  process.on("SIGINT", () => { cleanup(); process.exit(130); });
  process.on("SIGTERM", () => { cleanup(); process.exit(143); });
  const base = join(tmp, "base");
  makeBase(base);
  const texts = new Map(files.map((f) => [f, readFileSync(join(base, f), "utf8")]));
  const all = files.flatMap((f) => mutantsOf(f, texts.get(f)!));
  const equivalents = loadEquivalents();

  if (o.show) {
    const m = all.find((x) => x.id === o.show);
    if (!m) usage(`--show ${o.show}: no such mutant`);
    console.log(`${m.id} ${m.file}:${m.line} ${m.fn} ${OP_LABEL[m.op]}\n${diffOf(texts.get(m.file)!, m)}`);
    cleanup();
    return;
  }

  let chosen = all;
  if (o.only.length) {
    const unknown = o.only.filter((id) => !all.some((m) => m.id === id));
    if (unknown.length) usage(`--only: no such mutant: ${unknown.join(", ")}`);
    chosen = all.filter((m) => o.only.includes(m.id));
  } else if (o.smoke) chosen = sample(all, 4, o.seed);
  else if (o.sample) chosen = sample(all, o.sample, o.seed);
  chosen = chosen.slice().sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.start - b.start);

  const byOp = (ms: Mutant[]) => Object.entries(ms.reduce<Record<string, number>>((acc, m) => { acc[m.op] = (acc[m.op] ?? 0) + 1; return acc; }, {})).map(([k, v]) => `${k} ${v}`).join(", ");
  console.log(`mutate: ${all.length} mutants in ${files.length} file(s) (${byOp(all)}); running ${chosen.length}`);
  const equivOf = (m: Mutant) => equivalents.find((e) => matches(e, m));
  const unmatched = equivalents.filter((e) => files.includes(e.file) && !all.some((m) => matches(e, m)));
  for (const e of unmatched) console.log(`mutate: note: ${EQUIV_FILE} entry matches no mutant now (stale?): ${e.file} ${e.op} \`${e.original}\``);

  if (o.list) {
    for (const m of chosen) console.log(`${m.id}  ${m.file}:${m.line}  ${m.fn}  ${OP_LABEL[m.op]}  ${describe(m, texts.get(m.file)!)}${equivOf(m) ? "  [equivalent]" : ""}`);
    cleanup();
    return;
  }

  // Baseline: the unmutated core must build and pass every suite; its times set the timeouts.
  const ss = suites(o);
  const limits = new Map<string, number>();
  {
    const b = await run(process.execPath, BUILD_ARGS, base, {}, 300_000);
    if (b.code !== 0) { console.error(`mutate: the unmutated core does not build:\n${b.output.slice(-3000)}`); cleanup(); process.exit(1); }
    limits.set("build", Math.max(90_000, 10 * b.ms));
    const times = [`build ${secs(b.ms)}`];
    for (const s of ss) {
      const r = await run(process.execPath, s.args, base, s.env, 600_000);
      if (r.code !== 0) {
        console.error(`mutate: baseline: ${s.name} fails without any mutant; fix that first:\n${r.output.slice(-3000)}`);
        cleanup();
        process.exit(1);
      }
      limits.set(s.name, Math.max(60_000, 5 * r.ms));
      times.push(`${s.name} ${secs(r.ms)}`);
    }
    console.log(`mutate: baseline passes (${times.join(", ")}); timeouts ${[...limits].map(([k, v]) => `${k} ${secs(v)}`).join(", ")}`);
  }

  // Workers: private copies of the baseline.
  const workers = Math.min(o.workers, Math.max(1, chosen.length));
  const dirs: string[] = [];
  for (let w = 0; w < workers; w++) {
    const d = join(tmp, `w${w}`);
    cpSync(base, d, { recursive: true, verbatimSymlinks: true });
    dirs.push(d);
  }

  const outcomes: Outcome[] = [];
  // The results file is rewritten after every mutant ("complete": false until the end), so
  // a long run that is stopped still leaves what it measured.
  const writeJson = (complete: boolean) => {
    if (!o.json) return;
    const p = resolve(root, o.json); // an absolute --json stays absolute
    mkdirSync(dirname(p), { recursive: true });
    const count = (s: Status) => outcomes.filter((x) => x.status === s).length;
    const killed = count("killed"), timeout = count("timeout"), compile = count("compile"), equivalent = count("equivalent");
    const denom = outcomes.length - equivalent - compile;
    writeFileSync(p, JSON.stringify({
      date: new Date().toISOString(), args: process.argv.slice(2), total: all.length, chosen: chosen.length, ran: outcomes.length, complete,
      killed, timeout, survived: count("survived"), compile, equivalent, score: denom ? (killed + timeout) / denom : 1,
      outcomes: outcomes.map((x) => ({ id: x.m.id, file: x.m.file, line: x.m.line, fn: x.m.fn, op: x.m.op, original: x.m.original, mutated: x.m.mutated, status: x.status, by: x.by, detail: x.detail, ms: Math.round(x.ms), reason: x.equivalentReason })),
    }, null, 2) + "\n");
    return relative(root, p);
  };
  let next = 0, done = 0;
  const width = String(chosen.length).length;
  const worker = async (dir: string) => {
    while (next < chosen.length) {
      const m = chosen[next++];
      const eq = equivOf(m);
      const out: Outcome = eq
        ? { m, status: "equivalent", by: "", detail: "", ms: 0, equivalentReason: eq.reason }
        : await runMutant(dir, m, texts.get(m.file)!, ss, limits);
      outcomes.push(out);
      writeJson(false);
      done++;
      const what = out.status === "killed" ? `killed by ${out.by}` : out.status === "timeout" ? `timeout in ${out.by}` : out.status === "compile" ? "compile error" : out.status;
      console.log(`[${String(done).padStart(width)}/${chosen.length}] ${m.id} ${m.file}:${m.line} ${OP_LABEL[m.op].padEnd(9)} ${what.padEnd(26)} ${secs(out.ms).padStart(6)}  ${describe(m, texts.get(m.file)!)}`);
    }
  };
  await Promise.all(dirs.map(worker));

  // ---- report ----
  const count = (s: Status) => outcomes.filter((x) => x.status === s).length;
  const killed = count("killed"), timeout = count("timeout"), compile = count("compile"), survived = count("survived"), equivalent = count("equivalent");
  const denom = outcomes.length - equivalent - compile;
  const score = denom ? (killed + timeout) / denom : 1;
  const ran = outcomes.filter((x) => x.status !== "equivalent");
  const mean = ran.length ? ran.reduce((s, x) => s + x.ms, 0) / ran.length : 0;
  const survivors = outcomes.filter((x) => x.status === "survived").sort((a, b) => a.m.file.localeCompare(b.m.file) || a.m.line - b.m.line);
  console.log(`\nmutate: ${outcomes.length} mutants: ${killed} killed, ${timeout} timeout, ${survived} survived, ${compile} compile errors (not scored), ${equivalent} equivalent (not scored)`);
  const byFile = new Map<string, { k: number; n: number }>();
  for (const x of outcomes) {
    if (x.status === "equivalent" || x.status === "compile") continue;
    const f = byFile.get(x.m.file) ?? { k: 0, n: 0 };
    f.n++; if (x.status !== "survived") f.k++;
    byFile.set(x.m.file, f);
  }
  console.log(`mutate: per file: ${[...byFile].map(([f, v]) => `${f.replace("assembly/", "")} ${v.k}/${v.n}`).join(", ")}`);
  if (survivors.length) {
    console.log(`\nsurvivors:`);
    for (const x of survivors) console.log(`  ${x.m.id} ${x.m.file}:${x.m.line} (${x.m.fn}, ${OP_LABEL[x.m.op]})\n${diffOf(texts.get(x.m.file)!, x.m).replace(/^/gm, "      ")}`);
  }
  const timeouts = outcomes.filter((x) => x.status === "timeout");
  if (timeouts.length) console.log(`\nkilled by timeout: ${timeouts.map((x) => `${x.m.id} ${x.m.file}:${x.m.line}`).join(", ")}`);
  const wall = performance.now() - t0;
  console.log(`\nmutate: mean ${secs(mean)} per mutant (one worker), wall ${secs(wall)} with ${workers} worker(s); a full run of ${all.length} mutants would take about ${Math.round((all.length * mean) / workers / 60000)} min`);
  console.log(`mutation score: ${(killed + timeout)}/${denom} = ${(score * 100).toFixed(1)}%`);

  const written = writeJson(true);
  if (written) console.log(`mutate: results in ${written}`);
  cleanup();
}

// importable (mutantsOf) without running
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
