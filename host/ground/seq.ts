// Telecommand sequence numbers on the ground. A board refuses any telecommand
// whose seq is not above the last one it accepted from that key id
// (host/board/telecommand.ts), so the ground keeps, next to the private key, the
// last seq it used per key id: KEY.seq (e.g. keys/ground-1.key.seq), JSON
// {"ground-1": 17}. A seq is reserved (written, fsynced, renamed into place)
// BEFORE the command is sent: a crash can waste a number, never reuse one.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export class SeqError extends Error {
  constructor(message: string) { super(message); this.name = "SeqError"; }
}

export const MAX_SEQ = 0xffffffff;

/** The sequence file that goes with a private key file. */
export const seqFileFor = (keyFile: string): string => `${keyFile}.seq`;

export class SeqStore {
  constructor(readonly file: string) {}

  /** Last seq used per key id (empty if the file does not exist yet). */
  read(): Record<string, number> {
    let text: string;
    try { text = readFileSync(this.file, "utf8"); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw new SeqError(`cannot read the telecommand sequence file ${this.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    let j: unknown;
    try { j = JSON.parse(text); } catch {
      throw new SeqError(`${this.file} is not JSON; it holds the last telecommand sequence number per key id, e.g. {"ground-1": 17}. Fix or remove it (then pass --seq N above the board's last accepted number)`);
    }
    if (typeof j !== "object" || j === null || Array.isArray(j)) throw new SeqError(`${this.file} must hold a JSON object such as {"ground-1": 17}`);
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(j)) {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > MAX_SEQ) throw new SeqError(`${this.file}: the sequence number for key id ${k} must be an integer 0..${MAX_SEQ}, not ${JSON.stringify(v)}`);
      out[k] = v;
    }
    return out;
  }

  /** The last seq used with this key id (0 if none). */
  last(keyId: string): number { return this.read()[keyId] ?? 0; }

  /**
   * Sequence numbers are kept per key AND target board ("KEYID@BOARD"): each board
   * keeps its own last number per key, and a command signed for one board is
   * refused by the others. A file from before (one number per key id) seeds it.
   */
  static scoped(keyId: string, board: string): string { return `${keyId}@${board}`; }

  /** next() for a key id and a target board; a per-key number from an older file is the floor. */
  nextFor(keyId: string, board: string, at?: number): number {
    const scoped = SeqStore.scoped(keyId, board);
    if (at === undefined) {
      const all = this.read();
      if (all[scoped] === undefined && all[keyId] !== undefined) at = all[keyId] + 1;
    }
    return this.next(scoped, at);
  }

  /**
   * Reserves the next seq for keyId: last + 1, or `at` if given (1..2^32-1; to
   * resync with a board that has accepted higher numbers). Persisted before it
   * is returned; the stored number never goes down, so an `at` below it costs
   * nothing later.
   */
  next(keyId: string, at?: number): number {
    return this.locked(() => {
      const all = this.read();
      const seq = at ?? (all[keyId] ?? 0) + 1;
      if (!Number.isInteger(seq) || seq < 1 || seq > MAX_SEQ) {
        throw new SeqError(seq > MAX_SEQ
          ? `telecommand sequence numbers for key id ${keyId} are exhausted (${MAX_SEQ}); generate a new key with gsu keygen`
          : `sequence number must be an integer 1..${MAX_SEQ}, not ${seq}`);
      }
      all[keyId] = Math.max(seq, all[keyId] ?? 0);
      this.write(all);
      return seq;
    });
  }

  private write(all: Record<string, number>): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    let fd: number;
    try { fd = openSync(tmp, "w", 0o600); } catch (e) {
      throw new SeqError(`cannot write the telecommand sequence file next to the key (${tmp}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try { writeSync(fd, JSON.stringify(all) + "\n"); fsyncSync(fd); } finally { closeSync(fd); }
    renameSync(tmp, this.file);
    try { const d = openSync(dirname(this.file), "r"); try { fsyncSync(d); } finally { closeSync(d); } } catch { /* directory fsync is best effort */ }
  }

  /** Two gsu processes using the same key take numbers one at a time (KEY.seq.lock, O_EXCL). */
  private locked<T>(f: () => T): T {
    const lock = `${this.file}.lock`;
    const deadline = Date.now() + 3000;
    for (;;) {
      try { closeSync(openSync(lock, "wx", 0o600)); break; } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "EEXIST") throw new SeqError(`cannot lock ${lock}: ${code ?? (e as Error).message}`);
        try { if (Date.now() - statSync(lock).mtimeMs > 30_000) { unlinkSync(lock); continue; } } catch { continue; }
        if (Date.now() > deadline) throw new SeqError(`${lock} is held by another gsu command using the same key; wait for it, or remove the file if no gsu is running`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
    try { return f(); } finally { try { unlinkSync(lock); } catch { /* gone */ } }
  }
}
