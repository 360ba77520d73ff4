/**
 * The board's state directory: two slots (a, b) per component, Mender/RAUC style.
 *
 *   DIR/state.json              which slot is committed / on trial / staged, per component
 *   DIR/slots/<name>/a.gsui     a signed image (host/board/image.ts)
 *   DIR/slots/<name>/b.gsui
 *
 * Every write is: a temp file (".<final>.<pid>.<rand>.tmp") in the same
 * directory, fsync, rename over the final name, fsync the directory. A rename is
 * atomic, so after kill -9 or a power cut each final file is either the old one
 * or the new one, whole. Leftover temp files are removed on open.
 *
 * Life of an upgrade:
 *   stage(image)     verify it (signature, sha256, manifest; no downgrade), write it
 *                    to the component's inactive slot, then record it as staged
 *   activate(names)  one state write: the staged slots become the trial versions
 *                    (the whole cluster at once: never half of a plan)
 *   commit(names)    one state write: trial -> committed
 *   abort(names)     one state write: drop the trial; the committed version runs
 *   boot()           at daemon start: any trial that was not committed is dropped,
 *                    so a restart after a crash or power cut runs the last committed
 *                    versions
 *
 * open() re-verifies every slot image against the trusted keys. A slot file that
 * does not verify is moved aside (<slot>.gsui.rejected) and reported, and state
 * that pointed at it is dropped; the store then says, per component, which
 * version runs and what the other slot holds.
 */
import { createHash, randomBytes, type KeyObject } from "node:crypto";
import {
  closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Manifest } from "../component/manifest.ts";
import type { Mark, MarkStore } from "../runtime/output-commit.ts";
import { canonicalJson, imageKeyId, RejectedError, verifyImage, type VerifiedImage } from "./image.ts";
import { checkDowngrade, checkPlan, type SystemView } from "./policy.ts";

export type Slot = "a" | "b";
export const SLOTS: readonly Slot[] = ["a", "b"];
const other = (s: Slot): Slot => (s === "a" ? "b" : "a");
const STATE_FORMAT = 1;
const NAME = /^[a-z][a-z0-9_-]*$/;

/** A state entry names a slot and the exact image file it expects there. */
export interface SlotRef { slot: Slot; version: string; sha256: string }
export interface ComponentState {
  committed: SlotRef | null;
  trial: SlotRef | null;
  staged: SlotRef | null;
  /** why the slot that is neither committed nor trial holds what it holds */
  note: (SlotRef & { text: string }) | null;
  committedAt?: string;
}
export interface StoreState { format: number; seq: number; components: Record<string, ComponentState> }

export interface SlotInfo {
  version: string;
  sha256: string;
  keyId: string;
  role: "committed" | "trial" | "staged" | "inactive";
  note?: string;
}
export interface ComponentStatus {
  name: string;
  /** the version that runs now (the trial if there is one, else the committed one) */
  active: string | null;
  slot: Slot | null;
  state: "committed" | "trial" | "none";
  committed: { version: string; slot: Slot } | null;
  trial: { version: string; slot: Slot } | null;
  slots: Record<Slot, SlotInfo | null>;
  /** e.g. "estimator: running 1.0.0 (slot a, committed); slot b holds 2.0.0 (staged, not active)" */
  line: string;
}

export class StoreError extends Error {
  constructor(message: string) { super(message); this.name = "StoreError"; }
}

export interface StoreOptions {
  /** Test hook: called at each step of every write ("stage:temp-written", "commit:state:renamed", ...). */
  crashPoint?: (label: string) => void;
  /** Bytes per write(2) call while writing a slot image (default 64 KiB). */
  chunk?: number;
  /** Revoked key ids -> why: their images are refused ("revoked") and moved aside on open, each reported in report.revoked. */
  revokedKeys?: Record<string, string>;
  /**
   * A committed, trial or staged image signed by a key that is neither trusted nor
   * revoked: "drop" moves it aside (the default: the caller reports it), "refuse"
   * throws UntrustedImageError so that removing a key from a profile never silently
   * downgrades a board (the daemon).
   */
  unknownKeys?: "drop" | "refuse";
}

/** A running image is signed by a key the profile neither trusts nor revokes (SlotStore.open with unknownKeys "refuse"). */
export class UntrustedImageError extends StoreError {
  constructor(message: string) { super(message); this.name = "UntrustedImageError"; }
}

/** An image dropped on open because its key is revoked. */
export interface RevokedImage { component: string; version: string; slot: Slot; role: "committed" | "trial" | "staged" | "inactive"; keyId: string; why: string }

export interface OpenReport {
  /** temp files of interrupted writes, removed */
  cleaned: string[];
  /** slot files that did not verify, moved aside, with the reason */
  rejected: string[];
  /** state entries dropped because their slot no longer held the image they named */
  repaired: string[];
  /** images moved aside because their signing key is revoked (profile revokedKeys) */
  revoked: RevokedImage[];
}

/** A file's text, or null when it does not exist (any other error is thrown). */
export function readIfPresent(file: string): string | null {
  try { return readFileSync(file, "utf8"); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

const emptyComponent = (): ComponentState => ({ committed: null, trial: null, staged: null, note: null });
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const isTemp = (f: string) => f.startsWith(".") && f.endsWith(".tmp");
/** The version an image's header names, unverified (for reports only). */
function imageVersion(bytes: Uint8Array): string {
  try {
    const hlen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(6, true);
    const v = (JSON.parse(new TextDecoder().decode(bytes.subarray(10, 10 + hlen))) as { manifest?: { version?: unknown } }).manifest?.version;
    return typeof v === "string" ? v.slice(0, 40) : "?";
  } catch { return "?"; }
}

export class SlotStore {
  readonly dir: string;
  readonly report: OpenReport = { cleaned: [], rejected: [], repaired: [], revoked: [] };
  private state: StoreState = { format: STATE_FORMAT, seq: 0, components: {} };
  /** verified slot contents, by component */
  private slots = new Map<string, Record<Slot, VerifiedImage & { fileSha: string } | null>>();
  private readonly trusted: Record<string, KeyObject | string>;
  private readonly hook: (label: string) => void;
  private readonly chunk: number;
  private readonly revoked: Record<string, string>;
  private readonly unknownKeys: "drop" | "refuse";

  private constructor(dir: string, trusted: Record<string, KeyObject | string>, opts: StoreOptions) {
    this.dir = dir;
    this.trusted = trusted;
    this.revoked = opts.revokedKeys ?? {};
    this.unknownKeys = opts.unknownKeys ?? "drop";
    this.hook = opts.crashPoint ?? (() => {});
    this.chunk = Math.max(1, opts.chunk ?? 64 * 1024);
  }

  /** Opens (creating if needed) a state directory, recovering from any interrupted write. */
  static open(dir: string, trustedKeys: Record<string, KeyObject | string>, opts: StoreOptions = {}): SlotStore {
    const s = new SlotStore(dir, trustedKeys, opts);
    s.recover();
    return s;
  }

  private get slotsDir() { return join(this.dir, "slots"); }
  private get stateFile() { return join(this.dir, "state.json"); }
  private slotFile(name: string, slot: Slot) { return join(this.slotsDir, name, `${slot}.gsui`); }

  private recover(): void {
    mkdirSync(this.slotsDir, { recursive: true });
    // 1. temp files of writes that never reached their rename
    const clean = (d: string) => {
      let removed = false;
      for (const f of readdirSync(d)) {
        if (!isTemp(f)) continue;
        rmSync(join(d, f), { force: true });
        this.report.cleaned.push(join(d, f));
        removed = true;
      }
      if (removed) fsyncDir(d);
    };
    clean(this.dir);
    const names = readdirSync(this.slotsDir).filter((n) => NAME.test(n) && statSync(join(this.slotsDir, n)).isDirectory()).sort();
    for (const n of names) clean(join(this.slotsDir, n));
    // 2. the state file: written only by rename, so whole, or absent before the first write
    this.state = this.readState();
    // 3. every slot image, verified as if it had just been uploaded
    for (const n of names) {
      const rec: Record<Slot, (VerifiedImage & { fileSha: string }) | null> = { a: null, b: null };
      for (const slot of SLOTS) {
        const file = this.slotFile(n, slot);
        let bytes: Buffer;
        try { bytes = readFileSync(file); } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
          throw e;
        }
        const v = verifyImage(bytes, this.trusted);
        let why: string | null = v.ok ? null : `${v.kind}: ${v.reason}`;
        if (v.ok && v.manifest.name !== n) why = `holds ${v.manifest.name}@${v.manifest.version}, not a ${n} image`;
        if (!v.ok && v.kind === "unknown-key") {
          // a key the profile no longer trusts: revoked on purpose (reported), or removed
          // (refused: that would silently downgrade the board to the profile's versions)
          const keyId = imageKeyId(bytes) ?? "?";
          const fileSha = sha256(bytes);
          const c = this.state.components[n];
          const role = (["committed", "trial", "staged"] as const).find((k) => c?.[k]?.slot === slot && c[k]!.sha256 === fileSha) ?? "inactive";
          const version = imageVersion(bytes);
          if (Object.hasOwn(this.revoked, keyId)) {
            this.report.revoked.push({ component: n, version, slot, role, keyId, why: this.revoked[keyId] });
            why = `revoked: signed by key ${keyId}, which the profile revokes (${this.revoked[keyId]})`;
          } else if (this.unknownKeys === "refuse" && role !== "inactive") {
            throw new UntrustedImageError(`${n} ${version} (${role}, slot ${slot}) is signed by key '${keyId}', which the profile neither trusts nor revokes. ` +
              `Refusing to start rather than silently run another version. To revoke the key, add "revokedKeys": {"${keyId}": "why"} to the profile ` +
              `(the board then runs ${n}'s previous version and reports it); if it was removed by mistake, put it back in trustedKeys`);
          }
        }
        if (why !== null || !v.ok) {
          renameSync(file, `${file}.rejected`);
          fsyncDir(dirname(file));
          this.report.rejected.push(`${file}: ${why}`);
          continue;
        }
        rec[slot] = { ...v, fileSha: sha256(bytes) };
      }
      this.slots.set(n, rec);
    }
    // 4. state that names an image its slot no longer holds is dropped
    let changed = false;
    for (const [n, c] of Object.entries(this.state.components)) {
      for (const k of ["committed", "trial", "staged", "note"] as const) {
        const ref = c[k];
        if (!ref) continue;
        const have = this.slots.get(n)?.[ref.slot];
        if (have && have.fileSha === ref.sha256) continue;
        c[k] = null;
        changed = true;
        if (k !== "note") this.report.repaired.push(`${n}: ${k} ${ref.version} in slot ${ref.slot} is gone (${have ? `the slot holds ${have.manifest.version}` : "the slot is empty"}); dropped`);
      }
    }
    if (changed) this.writeState("recover");
  }

  private readState(): StoreState {
    const text = readIfPresent(this.stateFile);
    if (text === null) return { format: STATE_FORMAT, seq: 0, components: {} };
    let j: { format?: unknown; seq?: unknown; components?: unknown; check?: unknown };
    try { j = JSON.parse(text); } catch (e) {
      throw new StoreError(`${this.stateFile} is not valid JSON (${(e as Error).message}); it is only ever replaced by an atomic rename, so the disk or another program damaged it`);
    }
    const body = { format: j.format, seq: j.seq, components: j.components };
    let ok = false;
    try { ok = j.check === sha256(Buffer.from(canonicalJson(body))); } catch { ok = false; }
    if (!ok || j.format !== STATE_FORMAT) throw new StoreError(`${this.stateFile} fails its checksum or has an unknown format; refusing to guess which versions to run`);
    return body as StoreState;
  }

  /** Atomic, durable replacement of one file: temp, fsync, rename, fsync dir. */
  private writeAtomic(path: string, data: Uint8Array, label: string): void {
    const dir = dirname(path);
    const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    const fd = openSync(tmp, "wx", 0o644);
    try {
      for (let off = 0; off < data.length; off += this.chunk) {
        writeSync(fd, data, off, Math.min(this.chunk, data.length - off));
        if (off === 0 && data.length > this.chunk) this.hook(`${label}:temp-partial`);
      }
      this.hook(`${label}:temp-written`);
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      try { unlinkSync(tmp); } catch { /* already gone */ }
      throw e;
    }
    closeSync(fd);
    this.hook(`${label}:temp-synced`);
    renameSync(tmp, path);
    this.hook(`${label}:renamed`);
    fsyncDir(dir);
    this.hook(`${label}:dir-synced`);
  }

  private writeState(op: string): void {
    const next = { format: STATE_FORMAT, seq: this.state.seq + 1, components: this.state.components };
    const check = sha256(Buffer.from(canonicalJson(next)));
    const text = JSON.stringify({ ...next, check }, null, 2) + "\n";
    this.writeAtomic(this.stateFile, Buffer.from(text), `${op}:state`);
    this.state.seq = next.seq;
  }

  private comp(name: string): ComponentState {
    return (this.state.components[name] ??= emptyComponent());
  }

  /** Runs fn on a copy of the state; the in-memory state changes only if the state write succeeded. */
  private mutate(op: string, fn: () => void): void {
    const before = structuredClone(this.state);
    try {
      fn();
      this.writeState(op);
    } catch (e) {
      this.state = before;
      throw e;
    }
  }

  /**
   * Verifies an uploaded image and writes it to its component's inactive slot.
   * Refusals (RejectedError) leave the store exactly as it was.
   */
  stage(bytes: Uint8Array, { allowDowngrade = false } = {}): SlotRef & { name: string } {
    const v = verifyImage(bytes, this.trusted);
    if (!v.ok && v.kind === "unknown-key") {
      const keyId = imageKeyId(bytes);
      if (keyId !== undefined && Object.hasOwn(this.revoked, keyId)) throw new RejectedError("revoked", `the image is signed by key ${keyId}, which this board's profile revokes (${this.revoked[keyId]})`);
    }
    if (!v.ok) throw new RejectedError(v.kind, v.reason);
    const name = v.manifest.name;
    const c = this.state.components[name] ?? emptyComponent();
    if (c.trial) throw new RejectedError("busy", `${name} ${c.trial.version} is on trial in slot ${c.trial.slot}; commit or abort it before staging another image`);
    const d = checkDowngrade(name, c.committed?.version, v.manifest.version, allowDowngrade);
    if (d) throw new RejectedError(d.kind, d.reason);
    const slot: Slot = c.committed ? other(c.committed.slot) : "a";
    const fileSha = sha256(bytes);
    const compDir = join(this.slotsDir, name);
    if (!this.slots.has(name)) {
      mkdirSync(compDir, { recursive: true });
      fsyncDir(this.slotsDir);
      this.slots.set(name, { a: null, b: null });
    }
    // From here the inactive slot changes; neither committed nor trial refers to it.
    const rec = this.slots.get(name)!;
    const prev = rec[slot];
    if (prev?.fileSha !== fileSha) {
      rec[slot] = null;
      try {
        this.writeAtomic(this.slotFile(name, slot), bytes, "stage");
      } catch (e) {
        rec[slot] = prev; // the rename did not happen: the old file is still there
        throw e;
      }
      rec[slot] = { ...v, fileSha };
    }
    const ref: SlotRef = { slot, version: v.manifest.version, sha256: fileSha };
    this.mutate("stage", () => {
      const cc = this.comp(name);
      cc.staged = ref;
      if (cc.note?.slot === slot) cc.note = null;
    });
    return { name, ...ref };
  }

  /**
   * Starts the trial of the staged images of `names`, all in one state write.
   * With a system view, refuses a plan whose interface changes leak outside
   * these components (the running manifests of this store's components override
   * those in the view).
   */
  activate(names: string[], { system }: { system?: SystemView } = {}): void {
    if (names.length === 0) throw new StoreError("activate: no components named");
    const plan: Manifest[] = [];
    for (const n of names) {
      const c = this.state.components[n];
      if (c?.trial) throw new RejectedError("busy", `${n} ${c.trial.version} is already on trial in slot ${c.trial.slot}`);
      if (!c?.staged) throw new RejectedError("not-staged", `${n}: no staged image to activate; upload and stage one first`);
      plan.push(this.slots.get(n)![c.staged.slot]!.manifest);
    }
    if (system) {
      const current = { ...system.current };
      for (const [n, c] of Object.entries(this.state.components)) {
        if (c.committed) current[n] = this.slots.get(n)![c.committed.slot]!.manifest;
      }
      const r = checkPlan({ ...system, current }, plan, { allowDowngrade: true });
      if (!r.ok) throw new RejectedError(r.kind, r.reason);
    }
    this.mutate("activate", () => {
      for (const n of names) {
        const c = this.comp(n);
        c.trial = c.staged;
        c.staged = null;
        if (c.note?.slot === c.trial!.slot) c.note = null;
      }
    });
  }

  /** Commits the trials of `names` (default: every trial), in one state write. */
  commit(names?: string[]): string[] {
    const list = this.pick(names, "commit");
    if (list.length === 0) return [];
    this.mutate("commit", () => {
      const at = new Date().toISOString();
      for (const n of list) {
        const c = this.comp(n);
        const old = c.committed;
        c.committed = c.trial;
        c.trial = null;
        c.committedAt = at;
        c.note = old && old.slot !== c.committed!.slot ? { ...old, text: "previous committed version" } : null;
      }
    });
    return list;
  }

  /** Drops the trials of `names` (default: every trial); the committed versions run again. */
  abort(names?: string[], why = "aborted, not committed"): string[] {
    const list = this.pick(names, "abort");
    if (list.length === 0) return [];
    this.mutate("abort", () => {
      for (const n of list) {
        const c = this.comp(n);
        c.note = { ...c.trial!, text: why };
        c.trial = null;
      }
    });
    return list;
  }

  /**
   * What a daemon calls when it starts: every trial that was not committed
   * before the restart is dropped, so the last committed versions run.
   * Returns the running versions and the trials dropped.
   */
  boot(): { running: Record<string, string>; dropped: string[] } {
    const trials = Object.entries(this.state.components).filter(([, c]) => c.trial).map(([n]) => n);
    const dropped = trials.map((n) => `${n} ${this.state.components[n].trial!.version}`);
    this.abort(trials, "trial abandoned at restart, not committed");
    return { running: this.committedVersions(), dropped };
  }

  private pick(names: string[] | undefined, op: string): string[] {
    if (names === undefined) return Object.keys(this.state.components).filter((n) => this.state.components[n].trial).sort();
    for (const n of names) {
      if (!this.state.components[n]?.trial) throw new StoreError(`${op}: ${n} has no version on trial`);
    }
    return names;
  }

  /** The last committed version of every component. */
  /**
   * Versions of components hosted on other boards, as committed by a guarded operation
   * this board took part in (the upgrade round names them): a board that hosts none of
   * an upgraded component still checks its peers' versions at start-up (hello), so it
   * must remember what they committed. remote-versions.json, written atomically.
   */
  remoteVersions(): Record<string, string> {
    const file = join(this.dir, "remote-versions.json");
    const text = readIfPresent(file);
    if (text === null) return {};
    let j: unknown;
    try { j = JSON.parse(text); } catch (e) {
      throw new StoreError(`${file} is not valid JSON (${(e as Error).message}); it is only ever replaced by an atomic rename: restore it, or delete it and give this board the system file's versions (it then refuses peers that committed newer ones, naming them)`);
    }
    if (!j || typeof j !== "object" || Array.isArray(j) || !Object.values(j).every((v) => typeof v === "string")) {
      throw new StoreError(`${file} must map component names to versions`);
    }
    return j as Record<string, string>;
  }

  /**
   * The recovery epoch this board had reached (epoch, one number; 0 when absent): a
   * restarted board resumes it, or its frames would be taken for ones sent before the
   * system's last recovery and dropped, and it would drop the others' as forged.
   */
  recoveryEpoch(): number {
    const file = join(this.dir, "epoch");
    const text = readIfPresent(file);
    if (text === null) return 0;
    const n = Number(text.trim());
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new StoreError(`${file} holds '${text.trim().slice(0, 20)}', not a recovery epoch; it is only ever replaced by an atomic rename: restore it, or write the epoch the other boards report in their status`);
    return n;
  }

  recordRecoveryEpoch(e: number): void {
    this.writeAtomic(join(this.dir, "epoch"), Buffer.from(`${e}\n`), "epoch");
  }

  /**
   * The outcome of the last recovery round this board ran as coordinator
   * (recovery-outcome.json, written atomically when it applies): restarted, it sends it
   * again to a board that missed it (docs/protocol.md "A board that crashes").
   */
  recoveryOutcome(): { epoch: number; V: number[]; Vext: number[] } | undefined {
    const file = join(this.dir, "recovery-outcome.json");
    const text = readIfPresent(file);
    if (text === null) return undefined;
    let j: { epoch?: unknown; V?: unknown; Vext?: unknown };
    try { j = JSON.parse(text); } catch (e) { throw new StoreError(`${file} is not valid JSON (${(e as Error).message}); it is only ever replaced by an atomic rename: restore it, or delete it (a board that missed the last recovery's outcome then waits until it is restarted)`); }
    const vec = (v: unknown) => Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0);
    if (!Number.isInteger(j.epoch) || !vec(j.V) || !vec(j.Vext)) throw new StoreError(`${file} must hold {"epoch": N, "V": [..], "Vext": [..]}`);
    return j as { epoch: number; V: number[]; Vext: number[] };
  }

  recordRecoveryOutcome(o: { epoch: number; V: number[]; Vext: number[] }): void {
    this.writeAtomic(join(this.dir, "recovery-outcome.json"), Buffer.from(JSON.stringify(o)), "outcome");
  }

  /**
   * The last position each device got from each component port (output-commit.ts), in
   * device-marks.log: one line "KEY STEP ORD" appended and synced (fdatasync) before the
   * device is given the message. Read at start (the last line of a key wins; a torn last
   * line is skipped: that message was never given) and compacted by an atomic rewrite.
   */
  deviceMarks(): MarkStore {
    const file = join(this.dir, "device-marks.log");
    const marks = new Map<string, Mark>();
    for (const line of (readIfPresent(file) ?? "").split("\n")) {
      const m = /^(\S+) (\d+) (\d+)$/.exec(line);
      if (m) marks.set(m[1], { step: Number(m[2]), ord: Number(m[3]) });
    }
    this.writeAtomic(file, Buffer.from([...marks].map(([k, m]) => `${k} ${m.step} ${m.ord}\n`).join("")), "marks");
    let fd = -1;
    return {
      load: () => marks.entries(),
      save: (key, m) => {
        if (fd < 0) fd = openSync(file, "a");
        writeSync(fd, `${key} ${m.step} ${m.ord}\n`);
        fdatasyncSync(fd);
      },
    };
  }

  /** Records the committed versions of components other boards host (see remoteVersions). */
  /**
   * The commit vote this board sent and has not learned the outcome of (vote.json, written
   * atomically before the vote leaves; docs/protocol.md "A board that crashes"): the
   * commit's number and the versions it would make the system's, every upgraded component's.
   */
  vote(): { n: number; versions: Record<string, string> } | undefined {
    const file = join(this.dir, "vote.json");
    const text = readIfPresent(file);
    if (text === null) return undefined;
    let j: { n?: unknown; versions?: unknown };
    try { j = JSON.parse(text); } catch (e) { throw new StoreError(`${file} is not valid JSON (${(e as Error).message}); it is only ever replaced by an atomic rename: restore it, or delete it (the board then runs its committed versions and refuses peers that committed its vote, naming them)`); }
    if (!Number.isInteger(j.n) || !j.versions || typeof j.versions !== "object" || !Object.values(j.versions).every((v) => typeof v === "string")) throw new StoreError(`${file} must hold {"n": N, "versions": {"name": "version", ...}}`);
    return j as { n: number; versions: Record<string, string> };
  }

  recordVote(v: { n: number; versions: Record<string, string> }): void {
    this.writeAtomic(join(this.dir, "vote.json"), Buffer.from(JSON.stringify(v)), "vote");
  }

  clearVote(): void {
    rmSync(join(this.dir, "vote.json"), { force: true });
  }

  /**
   * As the coordinator: the last commit it opened and whether it decided it (commit.json,
   * written atomically before the PREPARE or the COMMIT leaves; rounds.ts commitLog). After a
   * restart a board in doubt about that commit hears COMMIT, and a new commit takes a new number.
   */
  commitLog(): { n: number; decided: boolean } | undefined {
    const file = join(this.dir, "commit.json");
    const text = readIfPresent(file);
    if (text === null) return undefined;
    let j: { n?: unknown; decided?: unknown };
    try { j = JSON.parse(text); } catch (e) { throw new StoreError(`${file} is not valid JSON (${(e as Error).message}); it is only ever replaced by an atomic rename: restore it, or delete it (a board in doubt about this coordinator's last commit is then told it was called off)`); }
    if (!Number.isInteger(j.n) || typeof j.decided !== "boolean") throw new StoreError(`${file} must hold {"n": N, "decided": true|false}`);
    return j as { n: number; decided: boolean };
  }

  recordCommitLog(c: { n: number; decided: boolean }): void {
    this.writeAtomic(join(this.dir, "commit.json"), Buffer.from(JSON.stringify(c)), "commit log");
  }

  /**
   * A vote in doubt was committed by the others: each of `versions` that this store holds
   * as the trial dropped at the restart (the slot's note) becomes the committed version, in
   * one state write. Returns those it committed.
   */
  adoptDropped(versions: Record<string, string>): string[] {
    const list = Object.entries(versions).filter(([n, v]) => this.state.components[n]?.note?.version === v).map(([n]) => n);
    if (!list.length) return [];
    this.mutate("commit", () => {
      const at = new Date().toISOString();
      for (const n of list) {
        const c = this.comp(n);
        const { text: _t, ...ref } = c.note!;
        const old = c.committed;
        c.committed = ref;
        c.committedAt = at;
        c.note = old && old.slot !== ref.slot ? { ...old, text: "previous committed version" } : null;
      }
    });
    return list;
  }

  recordRemoteVersions(versions: Record<string, string>): void {
    const all = { ...this.remoteVersions(), ...versions };
    this.writeAtomic(join(this.dir, "remote-versions.json"), Buffer.from(JSON.stringify(all, null, 1)), "remote");
  }

  committedVersions(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [n, c] of Object.entries(this.state.components)) if (c.committed) out[n] = c.committed.version;
    return out;
  }

  /** The image that runs now for `name` (trial, else committed), read back from disk and verified again. */
  activeImage(name: string, which: "active" | "committed" = "active"): VerifiedImage {
    const c = this.state.components[name];
    const ref = which === "active" ? (c?.trial ?? c?.committed) : c?.committed;
    if (!ref) throw new StoreError(`${name}: no ${which} version`);
    const bytes = readFileSync(this.slotFile(name, ref.slot));
    if (sha256(bytes) !== ref.sha256) throw new StoreError(`${name}: slot ${ref.slot} no longer holds ${ref.version}`);
    const v = verifyImage(bytes, this.trusted);
    if (!v.ok) throw new RejectedError(v.kind, v.reason);
    return v;
  }

  /** A copy of the persisted state (what state.json says). */
  snapshot(): StoreState { return structuredClone(this.state); }

  status(): ComponentStatus[] {
    const names = new Set([...Object.keys(this.state.components), ...this.slots.keys()]);
    return [...names].sort().map((n) => this.statusOf(n));
  }

  statusOf(name: string): ComponentStatus {
    const c = this.state.components[name] ?? emptyComponent();
    const rec = this.slots.get(name) ?? { a: null, b: null };
    const slots = { a: null, b: null } as Record<Slot, SlotInfo | null>;
    for (const s of SLOTS) {
      const v = rec[s];
      if (!v) continue;
      const is = (r: SlotRef | null) => r !== null && r.slot === s && r.sha256 === v.fileSha;
      const info: SlotInfo = {
        version: v.manifest.version, sha256: v.fileSha, keyId: v.keyId,
        role: is(c.trial) ? "trial" : is(c.committed) ? "committed" : is(c.staged) ? "staged" : "inactive",
      };
      if (info.role === "inactive" && is(c.note)) info.note = c.note!.text;
      slots[s] = info;
    }
    const run = c.trial ?? c.committed;
    const st: ComponentStatus = {
      name,
      active: run?.version ?? null,
      slot: run?.slot ?? null,
      state: c.trial ? "trial" : c.committed ? "committed" : "none",
      committed: c.committed ? { version: c.committed.version, slot: c.committed.slot } : null,
      trial: c.trial ? { version: c.trial.version, slot: c.trial.slot } : null,
      slots,
      line: "",
    };
    const head = run
      ? `${name}: running ${run.version} (slot ${run.slot}, ${c.trial ? "trial, not committed" : "committed"})`
      : `${name}: nothing committed`;
    const rest: string[] = [];
    for (const s of SLOTS) {
      if (run && s === run.slot) continue;
      const i = slots[s];
      if (!i) { if (run) rest.push(`slot ${s} empty`); continue; }
      const what = i.role === "committed" ? "last committed" : i.role === "staged" ? "staged, not active" : i.note ?? "inactive";
      rest.push(`slot ${s} holds ${i.version} (${what})`);
    }
    st.line = [head, ...rest].join("; ");
    return st;
  }

  /** One human line per component. */
  describe(): string[] { return this.status().map((s) => s.line); }
}
