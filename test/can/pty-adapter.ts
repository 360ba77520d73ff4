// A fake SLCAN adapter on the master side of a real pseudo-terminal (node-pty):
// the code under test opens the slave (/dev/pts/N) with serialport as if it
// were a USB-CAN adapter. The adapter answers commands with '\r' or BEL and
// can inject frames and garbage.
import type { IPty } from "node-pty";
import { afterEach } from "vitest";
import { parseLine, encodeFrame } from "../../host/transport/can/slcan.ts";
import type { CanFrame } from "../../host/transport/can/cyphal.ts";

export interface AdapterBehaviour {
  /** Reply to a command line (without '\r'); default: '\r' for everything, 'z'/'Z' + '\r' for t/T. */
  reply?: (cmd: string) => string | null;
}

export class PtyAdapter {
  readonly commands: string[] = [];
  readonly frames: CanFrame[] = [];
  open = false;
  bitrateCmd: string | undefined;
  private buf = "";
  private frameCbs: ((f: CanFrame) => void)[] = [];

  private constructor(private pty: IPty, readonly path: string, private behaviour: AdapterBehaviour) {
    pty.onData((s) => this.onData(s));
  }

  static async create(behaviour: AdapterBehaviour = {}): Promise<PtyAdapter> {
    const { default: pty } = await import("node-pty");
    // The child only holds the slave open; 'stty raw -echo' makes the line raw before anyone opens it.
    const p = pty.spawn("/bin/sh", ["-c", "stty raw -echo && echo READY && exec sleep 600"], { cols: 80, rows: 24 });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("pty: child did not start")), 5000);
      const d = p.onData((s) => { if (s.includes("READY")) { clearTimeout(t); d.dispose(); resolve(); } });
    });
    const path = (p as unknown as { _pty: string })._pty;
    return new PtyAdapter(p, path, behaviour);
  }

  private onData(s: string): void {
    this.buf += s;
    let i: number;
    while ((i = this.buf.indexOf("\r")) >= 0) {
      const cmd = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      this.commands.push(cmd);
      const custom = this.behaviour.reply?.(cmd);
      if (custom !== undefined && custom !== null) { this.pty.write(custom); continue; }
      if (cmd === "O") { this.open = true; this.pty.write("\r"); }
      else if (cmd === "C") { this.open = false; this.pty.write("\r"); }
      else if (/^S[0-8]$/.test(cmd)) { this.bitrateCmd = cmd; this.pty.write("\r"); }
      else if (/^[tTrR]/.test(cmd)) {
        const ev = parseLine(cmd);
        if (ev.type !== "frame" || !this.open) { this.pty.write("\x07"); continue; }
        this.frames.push(ev.frame);
        for (const cb of this.frameCbs) cb(ev.frame);
        this.pty.write(cmd[0] === "t" || cmd[0] === "r" ? "z\r" : "Z\r");
      } else this.pty.write("\x07");
    }
  }

  /** Frames the host transmitted. */
  onFrame(cb: (f: CanFrame) => void): void { this.frameCbs.push(cb); }
  /** The adapter "receives" a frame from the bus and passes it to the host. */
  inject(f: CanFrame): void { this.pty.write(encodeFrame(f)); }
  raw(s: string): void { this.pty.write(s); }
  kill(): void { try { this.pty.kill(); } catch { /* already gone */ } }
}

/** For a test file: a factory of adapters that are killed after each test. */
export function useAdapters(): (b?: AdapterBehaviour) => Promise<PtyAdapter> {
  const adapters: PtyAdapter[] = [];
  afterEach(() => { while (adapters.length) adapters.pop()!.kill(); });
  return async (b?: AdapterBehaviour) => {
    const a = await PtyAdapter.create(b);
    adapters.push(a);
    return a;
  };
}

/** Polls cond every 5 ms; throws "timed out" after ms. */
export async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) { if (Date.now() > end) throw new Error("timed out"); await new Promise((r) => setTimeout(r, 5)); }
}
