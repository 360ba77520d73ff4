// candump -L log files: one frame per line,
//   (1700000000.123456) can0 123#DEADBEEF
// i.e. "(%010ld.%06ld) %s %s" with the seconds zero-padded to 10 digits, the
// interface name, and the compact frame of can-utils' sprint_canframe (no dots).
// can-utils' canplayer and log2asc, python-can's CanutilsLogReader and
// cantools' logreader all read it.
import { closeSync, openSync, writeSync } from "node:fs";
import { formatCanFrame, parseCanFrame } from "./canutils.ts";
import {
  type CanFrame, DEFAULT_SUBJECT_BASE, encodeTransfer, PRIORITY_NOMINAL, subjectFor,
} from "./cyphal.ts";

export interface LogEntry {
  /** Microseconds since the Unix epoch (or since the start of a rehearsal). */
  timestampUs: number;
  iface: string;
  frame: CanFrame;
}

const IFACE = /^[^\s()#]+$/;

/** One log line, without the newline. */
export function formatLogLine(timestampUs: number, iface: string, frame: CanFrame): string {
  if (!Number.isSafeInteger(timestampUs) || timestampUs < 0) throw new RangeError(`candump log: timestamp ${timestampUs} µs is not a non-negative integer`);
  if (!IFACE.test(iface)) throw new RangeError(`candump log: interface name '${iface}' must be one word`);
  const sec = Math.floor(timestampUs / 1e6);
  const usec = timestampUs % 1e6;
  return `(${String(sec).padStart(10, "0")}.${String(usec).padStart(6, "0")}) ${iface} ${formatCanFrame(frame)}`;
}

const LINE = /^\((\d+)\.(\d{6})\)\s+(\S+)\s+(\S+)(?:\s+[A-Za-z])?\s*$/;

/** Parses one log line; throws with the reason. */
export function parseLogLine(line: string): LogEntry {
  const m = LINE.exec(line);
  if (!m) throw new Error(`candump log: '${line}' is not of the form (SECONDS.MICROS) IFACE FRAME`);
  return { timestampUs: Number(m[1]) * 1e6 + Number(m[2]), iface: m[3], frame: parseCanFrame(m[4]) };
}

/** Parses a whole log; blank lines are skipped, a bad line throws with its number. */
export function readCandumpLog(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    try { out.push(parseLogLine(lines[i])); }
    catch (e) { throw new Error(`line ${i + 1}: ${(e as Error).message}`); }
  }
  return out;
}

/** Writes candump -L lines to a file (created or truncated on construction). */
export class CandumpLogWriter {
  lines = 0;
  private fd: number | undefined;
  constructor(readonly path: string) { this.fd = openSync(path, "w"); }
  write(timestampUs: number, iface: string, frame: CanFrame): void {
    this.writeLine(formatLogLine(timestampUs, iface, frame));
  }
  /** Writes an already formatted line. */
  writeLine(line: string): void {
    if (this.fd === undefined) throw new Error(`candump log ${this.path}: already closed`);
    writeSync(this.fd, line + "\n");
    this.lines++;
  }
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Turns GSU transfers into the CAN frames CanTransport would put on the bus and
 * logs them: what `gsu rehearse --candump FILE` records from the simulated
 * network's tap. Transfer-IDs count per (source, destination subject) like
 * CanTransport's. Frames of one transfer get consecutive microseconds.
 */
export class CandumpRecorder {
  private tids = new Map<number, number>();
  constructor(
    private sink: (line: string) => void,
    private iface = "vcan0",
    private opts: { subjectBase?: number; priority?: number } = {},
  ) {}

  transfer(timestampUs: number, src: number, dst: number, payload: Uint8Array): void {
    const subject = subjectFor(dst, this.opts.subjectBase ?? DEFAULT_SUBJECT_BASE);
    const key = (src << 16) | subject;
    const tid = this.tids.get(key) ?? 0;
    this.tids.set(key, (tid + 1) & 31);
    const frames = encodeTransfer(payload, { subject, source: src, transferId: tid, priority: this.opts.priority ?? PRIORITY_NOMINAL });
    frames.forEach((f, i) => this.sink(formatLogLine(Math.round(timestampUs) + i, this.iface, f)));
  }

  /** Convenience: a recorder writing to a file; close the returned writer at the end. */
  static toFile(path: string, iface = "vcan0", opts: { subjectBase?: number; priority?: number } = {}): { recorder: CandumpRecorder; writer: CandumpLogWriter } {
    const writer = new CandumpLogWriter(path);
    return { recorder: new CandumpRecorder((l) => writer.writeLine(l), iface, opts), writer };
  }
}
