// The ground server's archive: every decoded packet, event and rejection it sees on
// its link, as JSON Lines on disk (the format of `gsu telemetry --jsonl`, so `gsu
// report`, `gsu telemetry --from-jsonl` and `gsu export pcap` read it), bounded and
// rotated in the manner of Yamcs's and F Prime GDS's logs:
//   DIR/archive.jsonl        the file being written
//   DIR/archive.1.jsonl ...  older files, .1 the newest; at most `keep` of them
// A file is rotated when it reaches `maxFileBytes`, so the archive never holds more
// than (keep + 1) * maxFileBytes. Each line is written whole with one write(2); a
// crash loses at most the line being written, never an earlier one.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

export interface ArchiveOptions {
  /** Bytes per file before it is rotated (default 8 MiB). */
  maxFileBytes?: number;
  /** Rotated files kept (default 8). */
  keep?: number;
}

export class ArchiveError extends Error {
  constructor(message: string) { super(message); this.name = "ArchiveError"; }
}

export class Archive {
  readonly maxFileBytes: number;
  readonly keep: number;
  private fd: number;
  private size: number;
  /** Lines written by this process; lines lost to write errors. */
  readonly counters = { lines: 0, rotations: 0, writeErrors: 0 };
  lastError: string | null = null;

  constructor(readonly dir: string, o: ArchiveOptions = {}) {
    this.maxFileBytes = o.maxFileBytes ?? 8 * 1024 * 1024;
    this.keep = o.keep ?? 8;
    if (!(this.maxFileBytes >= 256)) throw new ArchiveError(`archive: maxFileBytes must be at least 256, not ${this.maxFileBytes}`);
    if (!Number.isInteger(this.keep) || this.keep < 0) throw new ArchiveError(`archive: keep must be an integer >= 0, not ${this.keep}`);
    try { mkdirSync(dir, { recursive: true }); } catch (e) {
      throw new ArchiveError(`cannot create the archive directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try { this.fd = openSync(this.current, "a", 0o644); } catch (e) {
      throw new ArchiveError(`cannot open ${this.current} for appending: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    this.size = fstatSync(this.fd).size;
  }

  get current(): string { return join(this.dir, "archive.jsonl"); }
  rotated(i: number): string { return join(this.dir, `archive.${i}.jsonl`); }

  /** Appends one record as a line. A write error is counted and kept in lastError, never thrown (the link keeps being served). */
  write(rec: unknown): void {
    const line = Buffer.from(JSON.stringify(rec) + "\n");
    if (this.size > 0 && this.size + line.length > this.maxFileBytes) this.rotate();
    try {
      writeSync(this.fd, line);
      this.size += line.length;
      this.counters.lines++;
    } catch (e) {
      this.counters.writeErrors++;
      this.lastError = `${this.current}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    }
  }

  private rotate(): void {
    try {
      closeSync(this.fd);
      rmSync(this.rotated(this.keep), { force: true });
      for (let i = this.keep - 1; i >= 1; i--) if (existsSync(this.rotated(i))) renameSync(this.rotated(i), this.rotated(i + 1));
      if (this.keep > 0) renameSync(this.current, this.rotated(1)); else rmSync(this.current, { force: true });
      this.counters.rotations++;
    } catch (e) {
      this.counters.writeErrors++;
      this.lastError = `rotating ${this.current}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    }
    this.fd = openSync(this.current, "a", 0o644);
    this.size = fstatSync(this.fd).size;
  }

  /** Every file, oldest first (for readers: export, report). */
  files(): string[] {
    const out: string[] = [];
    for (let i = this.keep; i >= 1; i--) if (existsSync(this.rotated(i))) out.push(this.rotated(i));
    out.push(this.current);
    return out;
  }

  /** Every record, oldest first; a line that is not JSON (a torn last line) is skipped and counted. */
  read(): { records: Record<string, unknown>[]; bad: number } {
    const records: Record<string, unknown>[] = [];
    let bad = 0;
    for (const f of this.files()) {
      let text: string;
      try { text = readFileSync(f, "utf8"); } catch { continue; }
      for (const l of text.split("\n")) {
        if (!l.trim()) continue;
        try { records.push(JSON.parse(l)); } catch { bad++; }
      }
    }
    return { records, bad };
  }

  close(): void { try { closeSync(this.fd); } catch { /* already closed */ } }
}

/** Every record of the archive in `dir`, oldest first, without opening it for writing (readers: tests, export, report). */
export function readArchive(dir: string): { records: Record<string, unknown>[]; bad: number; files: string[] } {
  let names: string[] = [];
  try { names = readdirSync(dir).filter((n) => /^archive(\.\d+)?\.jsonl$/.test(n)); } catch { /* no archive */ }
  const order = (n: string) => { const m = /^archive\.(\d+)\.jsonl$/.exec(n); return m ? -Number(m[1]) : 0; };
  const files = names.sort((a, b) => order(a) - order(b)).map((n) => join(dir, n));
  const records: Record<string, unknown>[] = [];
  let bad = 0;
  for (const f of files) {
    let text: string;
    try { text = readFileSync(f, "utf8"); } catch { continue; }
    for (const l of text.split("\n")) {
      if (!l.trim()) continue;
      try { records.push(JSON.parse(l)); } catch { bad++; }
    }
  }
  return { records, bad, files };
}
