// The multi-process rehearsal: every board is its own OS process, and boards talk
// only over real links. The parent plays the wires:
//   pty        a serial multi-drop bus: one pseudo-terminal per board, bytes from
//              each board are repeated to every other (RS-485 style); COBS framing
//   slcan-pty  a CAN bus of SLCAN (Lawicel) adapters: one pseudo-terminal per board,
//              the parent answers adapter commands and carries frames between them
//   vcan       SocketCAN vcan0 (inside the emulated Linux): no parent in the path
//   socketcan  SocketCAN interfaces on one bus (canIfaces, board i on the i-th, round
//              robin): the emulated Pi's two kvaser_pci controllers can0 and can1
// The verdict is computed exactly as in-process: device sequences against the
// fault-free reference run of the old versions.
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { judgeCrash } from "./property.ts";
import { xorshift } from "./sim-links.ts";
import { compareDevices, runTestbed, type DeviceRecord } from "./testbed.ts";
import { loadSystemByName } from "./systems.ts";
import type { Rules } from "../core/core.ts";
import type { TraceEvent } from "../runtime/board.ts";

export type LinkKind = "pty" | "slcan-pty" | "vcan" | "socketcan";

export interface MultiOptions {
  system: string; seed: number; steps: number; rules: Rules; links: LinkKind;
  fault: { comp: string; step: number } | null; commitAfter?: number; periodMs?: number;
  /**
   * Upgrade while the boards run, after this step's inputs (0 or absent: before the first
   * step). The parent tells every board the plan and the coordinator when; the boards
   * find the quiescent point themselves with the upgrade round (host/runtime/rounds.ts):
   * inputs held on every board, links drained, state transferred, inputs resumed.
   */
  upgradeAt?: number;
  /** Faults injected on every board's link under the link layer (lost, duplicated, reordered frames). */
  linkFaults?: import("../transport/faulty.ts").FaultOptions;
  /** Frames damaged on the wire: on pty the relay flips a real bit (the framing's CRC-32 drops the frame); elsewhere the board drops it as its frame check would. */
  corrupt?: number;
  /** Boards cut off from every other between two steps. */
  partitions?: { board: string; fromStep: number; toStep: number }[];
  /**
   * Boards killed (-9) after a step's inputs and started again downSteps steps later
   * (default 5) with their state directory: the crash verdict (property.ts judgeCrash)
   * judges the run, on a step clock (every record is timed by the step the parent was at).
   */
  crashes?: { board: string; step: number; downSteps?: number; atVote?: boolean }[];
  timeoutMs?: number; candump?: string; progress?: (line: string) => void;
  /** CAN links (slcan-pty, vcan): the CAN mode of every board's link (docs/wire.md, "CAN modes per link"); the emulated SLCAN adapters take CAN FD (Y2). */
  canMode?: "classic" | "compact" | "fd" | "fd+compact";
  /** socketcan: the interfaces (board i on canIfaces[i % length]); vcan is ["vcan0"]. */
  canIfaces?: string[];
}

export interface MultiResult {
  devices: DeviceRecord[]; trace: TraceEvent[]; violations: { kind: string; detail: string }[];
  differences: string[]; verdict: "pass" | "fail"; wallMs: number; linkStats: unknown[]; errors: string[];
  /** Frames the serial relay damaged (pty with corrupt). */
  corrupted: number;
  /** With crashes: the crash verdict's problems (empty: pass). */
  problems?: string[];
}

interface PtyEnd { path: string; write(b: Buffer | string): void; onData(f: (b: Buffer) => void): void; kill(): void }

async function openPty(): Promise<PtyEnd> {
  const mod = await import("node-pty");
  const pty = ((mod as unknown as { default?: typeof mod }).default ?? mod) as typeof mod;
  // The child only holds the slave open; raw mode is set before any board opens it.
  const p = pty.spawn("/bin/sh", ["-c", "stty raw -echo && echo READY && exec sleep 3600"], { cols: 80, rows: 24, encoding: null } as never);
  const listeners: ((b: Buffer) => void)[] = [];
  let ready = false;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("pty: the holder process did not start")), 5000);
    p.onData((d: string | Buffer) => {
      const b = Buffer.isBuffer(d) ? d : Buffer.from(d, "binary");
      if (!ready) {
        if (b.toString("latin1").includes("READY")) { ready = true; clearTimeout(t); resolve(); }
        return;
      }
      for (const f of listeners) f(b);
    });
  });
  return {
    path: (p as unknown as { _pty: string })._pty,
    write: (b) => p.write(b as never),
    onData: (f) => listeners.push(f),
    kill: () => { try { p.kill(); } catch { /* gone */ } },
  };
}

/**
 * A serial bus: whatever one board writes, every other board reads. Like a bus
 * arbiter, it forwards whole COBS frames (up to each 0x00 delimiter), so two boards
 * writing at once do not interleave inside a frame.
 */
function serialBus(ends: PtyEnd[], corrupt = 0, seed = 1): { corrupted: number } {
  const rnd = xorshift(seed * 31337);
  const counts = { corrupted: 0 };
  ends.forEach((e, i) => {
    let pending: Buffer[] = [];
    e.onData((b) => {
      let start = 0;
      for (let k = b.indexOf(0); k >= 0; k = b.indexOf(0, start)) {
        pending.push(b.subarray(start, k + 1));
        const frame = Buffer.concat(pending);
        pending = [];
        start = k + 1;
        ends.forEach((o, j) => {
          if (j === i) return;
          if (corrupt > 0 && frame.length > 1 && rnd() < corrupt) {
            // a damaged copy: one bit flipped somewhere before the delimiter
            const bad = Buffer.from(frame);
            const at = Math.floor(rnd() * (bad.length - 1));
            bad[at] ^= 1 << Math.floor(rnd() * 8);
            counts.corrupted++;
            o.write(bad);
          } else o.write(frame);
        });
      }
      if (start < b.length) pending.push(Buffer.from(b.subarray(start)));
    });
  });
  return counts;
}

/** SLCAN adapters on a shared CAN bus (with the CAN FD extension: Y2/Y5, d/D/b/B frames, as a CANable 2.0). */
async function slcanBus(ends: PtyEnd[], record?: (tUs: number, frame: import("../transport/can/cyphal.ts").CanFrame) => void): Promise<void> {
  const { parseLine, encodeFrame } = await import("../transport/can/slcan.ts");
  const open = ends.map(() => false);
  const t0 = performance.now();
  ends.forEach((e, i) => {
    let buf = "";
    e.onData((b) => {
      buf += b.toString("latin1");
      let k: number;
      while ((k = buf.search(/[\r\n]/)) >= 0) {
        const cmd = buf.slice(0, k);
        buf = buf.slice(k + 1);
        if (cmd === "") continue;
        if (cmd === "O") { open[i] = true; e.write("\r"); continue; }
        if (cmd === "C") { open[i] = false; e.write("\r"); continue; }
        if (/^S[0-8]$/.test(cmd) || /^Y[25]$/.test(cmd) || cmd === "L") { e.write("\r"); continue; }
        const ev = parseLine(cmd);
        if (ev.type !== "frame" || !open[i]) { e.write("\x07"); continue; }
        e.write(cmd[0] === "t" || cmd[0] === "r" ? "z\r" : "Z\r");
        record?.(Math.round((performance.now() - t0) * 1000), ev.frame);
        const line = encodeFrame(ev.frame);
        ends.forEach((o, j) => { if (j !== i && open[j]) o.write(line); });
      }
    });
  });
}

export async function runMultiProcess(o: MultiOptions): Promise<MultiResult> {
  const wall0 = performance.now();
  const sys = await loadSystemByName(o.system);
  const boards = sys.spec.boards;
  const coordinator = boards.find((b) => b.components.some((c) => sys.plan.upgrades.some((u) => u.name === c)))?.node ?? boards[0].node;
  const reference = runTestbed(sys, { seed: o.seed, steps: o.steps, reference: true }).devices;
  const expected = new Map<string, number>();
  for (const d of reference) expected.set(d.device, (expected.get(d.device) ?? 0) + 1);

  const ends: PtyEnd[] = [];
  let links: string[];
  let busFaults = { corrupted: 0 };
  let candump: import("../transport/can/candump-log.ts").CandumpLogWriter | undefined;
  const mode = !o.canMode || o.canMode === "classic" ? "" : o.canMode === "compact" ? "+compact" : o.canMode === "fd" ? "+fd" : "+fd+compact";
  if (mode && o.links === "pty") throw new Error(`CAN mode '${o.canMode}' needs CAN links (slcan-pty or vcan), not pty`);
  if (o.links === "vcan" || o.links === "socketcan") {
    const ifaces = o.links === "vcan" ? ["vcan0"] : o.canIfaces ?? [];
    if (!ifaces.length) throw new Error("socketcan links need the interfaces (canIfaces)");
    links = boards.map((_b, i) => `${ifaces[i % ifaces.length]}${mode}`);
  }
  else {
    for (const _ of boards) ends.push(await openPty());
    if (o.links === "pty") {
      busFaults = serialBus(ends, o.corrupt ?? 0, o.seed);
      links = ends.map((e) => `serial:${e.path}@115200`);
    } else {
      if (o.candump) candump = new (await import("../transport/can/candump-log.ts")).CandumpLogWriter(o.candump);
      await slcanBus(ends, candump ? (t, f) => candump!.write(1_700_000_000_000_000 + t, "slcan0", f) : undefined);
      links = ends.map((e) => `slcan:${e.path}@500000${mode.replace("+fd", "+fd=2M")}`);
    }
  }

  const devices: DeviceRecord[] = [];
  const trace: TraceEvent[] = [];
  const violations: { kind: string; detail: string }[] = [];
  const errors: string[] = [];
  const linkStats: unknown[] = [];
  const children: ChildProcess[] = [];
  // The compiled tree gsu flash lays (host/**/*.js, no tsx on a board) forks the compiled
  // board process with plain node; the development tree through tsx.
  const compiled = import.meta.url.endsWith(".js");
  const entry = fileURLToPath(new URL(compiled ? "./board-proc.js" : "./board-proc.ts", import.meta.url));
  const waiters = new Map<ChildProcess, { type: string; resolve: () => void }[]>();
  const waitFor = (c: ChildProcess, type: string) => new Promise<void>((resolve) => waiters.get(c)!.push({ type, resolve }));
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => { done = r; });
  // a board that voted ready, crashed, and has not settled the commit's outcome since (one that
  // adopts it starts again and acknowledges the coordinator's commit: commit-after-restart)
  const RESOLVED = new Set(["commit-vote-void", "commit-after-restart", "commit"]);
  const inDoubt = (board: string) => {
    const t = trace.filter((e) => e.board === board).map((e) => e.type);
    const after = t.slice(t.lastIndexOf("commit-voted") + 1);
    return t.includes("commit-voted") && after.includes("crash") && !after.some((x) => RESOLVED.has(x));
  };
  const lastStep = (x: DeviceRecord) => Buffer.from(x.payload.slice(0, 8), "hex").readUInt32LE(0) >= o.steps;
  const check = () => {
    // with a crash the devices miss some steps by design: done when each has the last step from each feeder
    if (o.crashes?.length) {
      for (const r of reference) if (r.payload.length >= 8 && !devices.some((x) => x.device === r.device && x.comp === r.comp && x.payload.length >= 8 && lastStep(x))) return;
      // nor while a board is down, or back but in doubt about a commit vote (it has not heard the outcome yet)
      if (down.size || boards.some((b) => inDoubt(b.name))) return;
      return done();
    }
    for (const [d, n] of expected) if (devices.filter((x) => x.device === d).length < n) return;
    done();
  };

  // With crashes every record is timed on a step clock (P µs a step, the parent's current
  // step; after a kill never before it) for the crash verdict; each board has a state directory.
  const P = 10_000;
  let stepNow = 0, floorT = 0;
  const stepT = () => Math.max(stepNow * P, floorT);
  const crashes = o.crashes ?? [];
  const stateRoot = crashes.length ? mkdtempSync(join(tmpdir(), "gsu-multiproc-")) : undefined;
  const down = new Set<number>();
  /** Boards started again after a crash at their vote (or a commit adopted while down): the inputs wait for them after afterStep. */
  const restarting: { afterStep: number; back: Promise<void> }[] = [];
  const crashWindows: { board: string; fromStep: number; toStep: number; t?: number }[] = [];
  const spawnBoard = (bi: number): ChildProcess => {
    const b = boards[bi];
    const c = fork(entry, [], { execArgv: compiled ? [] : ["--import", import.meta.resolve("tsx")], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    children[bi] = c;
    waiters.set(c, []);
    {
      c.on("message", (m: { type: string; [k: string]: unknown }) => {
        if (m.type === "device") {
          devices.push({ t: crashes.length ? stepT() : Math.round((performance.now() - wall0) * 1000), device: m.device as string, payload: m.payload as string, comp: m.comp as string, gen: m.gen as string });
          check();
        } else if (m.type === "event") {
          trace.push(crashes.length ? { ...(m.e as TraceEvent), t: stepT() } : m.e as TraceEvent);
          if (RESOLVED.has((m.e as TraceEvent).type)) check();
        }
        else if (m.type === "violation") violations.push({ kind: m.kind as string, detail: m.detail as string });
        else if (m.type === "error") { errors.push(`${b.name}: ${m.error}`); done(); }
        else if (m.type === "log") o.progress?.(`${b.name}: ${m.line}`);
        // a board that dies right after its vote (crashAtVote), and one that adopted a commit
        // made while it was down and must start again on the committed versions (rounds.ts inDoubt)
        else if (m.type === "crashing" || m.type === "restart-me") {
          const x = crashes.find((y) => y.board === b.name);
          const downSteps = m.type === "crashing" ? x?.downSteps ?? 5 : 0;
          if (m.type === "restart-me") c.kill("SIGKILL");
          wentDown(bi, stepT(), stepNow, stepNow + Math.max(1, downSteps));
          o.progress?.(`${b.name} ${m.type === "crashing" ? "killed (-9) right after its commit vote" : "starts again on the commit it adopted"} at step ${stepNow}`);
          // the inputs go on for the crash's steps, then wait for the process to be back: how
          // long a process takes to start (1-2 s, far more on a loaded machine) must not
          // decide how many steps the run loses (as in process, where it is downSteps)
          const back = (async () => {
            await new Promise((r) => setTimeout(r, Math.max(1, downSteps) * (o.periodMs ?? 4)));
            await startAgain(bi);
          })();
          restarting.push({ afterStep: stepNow + Math.max(1, downSteps), back });
        }
        else if (m.type === "stats") linkStats.push({ board: b.name, link: m.link, stats: m.stats, layer: m.layer });
        const ws = waiters.get(c)!;
        const i = ws.findIndex((w) => w.type === m.type);
        if (i >= 0) ws.splice(i, 1)[0].resolve();
      });
      c.on("exit", (code) => {
        if (code) { errors.push(`${b.name}: board process exited with status ${code}`); done(); }
        // nothing more will come from it: release whatever waits for it
        for (const w of waiters.get(c)!.splice(0)) w.resolve();
      });
    }
    return c;
  };
  const initBoard = (i: number, restarted: boolean) => {
    const c = children[i];
    const r = waitFor(c, "ready");
    c.send({ type: "init", system: o.system, node: boards[i].node, link: links[i], rules: o.rules, coordinator, commitAfter: o.commitAfter, fault: restarted ? null : o.fault, linkFaults: o.linkFaults, dropCorrupt: o.links === "pty" ? 0 : o.corrupt,
      stateDir: stateRoot ? join(stateRoot, boards[i].name) : undefined, restarted, crashAtVote: crashes.some((x) => x.atVote && x.board === boards[i].name) });
    return r;
  };

  /** Board bi's process is gone at step clock t (during step `step`): what it misses from the next step to `toStep` is the crash's. */
  const wentDown = (bi: number, t: number, step: number, toStep: number) => {
    down.add(bi);
    floorT = t + 1;
    crashWindows.push({ board: boards[bi].name, fromStep: step + 1, toStep, t });
    trace.push({ type: "crash", t, board: boards[bi].name } as TraceEvent);
  };
  /** Started again with its state directory (a new incarnation); the caller waits for it. */
  const startAgain = async (bi: number) => {
    spawnBoard(bi);
    await waitFor(children[bi], "alive");
    await initBoard(bi, true);
    down.delete(bi);
    trace.push({ type: "restart", t: stepT(), board: boards[bi].name } as TraceEvent);
    check();
  };

  try {
    for (let bi = 0; bi < boards.length; bi++) spawnBoard(bi);
    await Promise.all(children.map((c) => waitFor(c, "alive")));
    await Promise.all(children.map((_c, i) => initBoard(i, false)));
    o.progress?.(`${boards.length} board processes up on ${o.links} links`);
    const upgradeAt = o.upgradeAt ?? 0;
    if (!upgradeAt) await Promise.all(children.map((c) => { const r = waitFor(c, "upgraded"); c.send({ type: "upgrade" }); return r; }));
    const period = o.periodMs ?? 4;
    const feeds = sys.inputs.map((input) => ({
      input,
      bi: boards.findIndex((b) => sys.spec.wires.some((w) => "device" in w.from && w.from.device === input.device && !("device" in w.to) && b.components.includes(w.to.comp))),
    }));
    for (let k = 1; k <= o.steps; k++) {
      stepNow = k;
      for (const r of restarting.splice(0)) { if (k > r.afterStep) await r.back; else restarting.push(r); }
      for (const x of crashes) {
        const bi = boards.findIndex((b) => b.name === x.board);
        if (x.atVote) continue; // the board itself dies after its vote; the handler above restarts it
        if (k === x.step + (x.downSteps ?? 5) && down.has(bi)) {
          await startAgain(bi);
          o.progress?.(`${x.board} restarted after step ${k}`);
        }
      }
      for (const p of o.partitions ?? []) {
        const bi = boards.findIndex((b) => b.name === p.board);
        const heal = Math.min(p.toStep, o.steps);
        if (bi >= 0 && !down.has(bi) && (k === p.fromStep || k === heal)) children[bi].send({ type: "cut", on: k === p.fromStep && k !== heal });
      }
      // an input to a board that is down is lost (its process is not there to read it)
      for (const { input, bi } of feeds) if (!down.has(bi)) children[bi].send({ type: "input", device: input.device, payload: Buffer.from(input.gen(k)).toString("hex") });
      if (k % 25 === 0) o.progress?.(`step ${k}/${o.steps}`);
      for (const x of crashes) {
        const bi = boards.findIndex((b) => b.name === x.board);
        if (x.atVote) continue;
        if (k === x.step && !down.has(bi)) {
          await new Promise((r) => setTimeout(r, period)); // this step's inputs reach it
          children[bi].kill("SIGKILL");
          wentDown(bi, x.step * P + P / 2, x.step, x.step + (x.downSteps ?? 5));
          o.progress?.(`${x.board} killed (-9) after step ${k}`);
        }
      }
      if (k === upgradeAt) {
        // the boards that host upgraded components get the plan first, then the coordinator starts the round; the
        // inputs keep coming, and the boards hold them until the round resumes them
        // (boards that host none of the upgraded components get no plan: the coordinator's
        // START names the cluster, as for board daemons that were sent no upgrade)
        const hosting = children.filter((_c, i) => sys.plan.upgrades.some((u) => boards[i].components.includes(u.name)));
        await Promise.all(hosting.map((c) => { const r = waitFor(c, "planned"); c.send({ type: "plan", coordinator: boards[children.indexOf(c)].node === coordinator }); return r; }));
        const ci = boards.findIndex((b) => b.node === coordinator);
        children[ci].send({ type: "start-round" });
        o.progress?.(`upgrade round started after step ${k} (the boards find the quiescent point)`);
      }
      await new Promise((r) => setTimeout(r, period));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => { timer = setTimeout(() => { errors.push(`timed out ${Math.round((o.timeoutMs ?? 30_000) / 1000)} s after the last input (gsu rehearse --timeout): devices got ${devices.length} of ${[...expected.values()].reduce((a, b) => a + b, 0)} messages`); r(); }, o.timeoutMs ?? 30_000); });
    await Promise.race([finished, timeout]);
    clearTimeout(timer);
    // let late duplicates, if any, arrive before judging
    await new Promise((r) => setTimeout(r, 300));
    await Promise.all(children.map((c, i) => { if (down.has(i)) return; const r = Promise.race([waitFor(c, "stats"), new Promise<void>((x) => setTimeout(x, 2000).unref())]); c.send({ type: "stop" }); return r; }));
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill();
    for (const e of ends) e.kill();
    candump?.close();
    if (stateRoot) rmSync(stateRoot, { recursive: true, force: true });
  }
  if (crashes.length) {
    // as in process (testbed.ts): until every peer has seen the restart, what it sent to the board's previous run is lost
    for (const w of crashWindows) {
      const node = boards.find((b) => b.name === w.board)!.node;
      for (const e of trace) if (e.type === "peer-restarted" && e.node === node && e.t > w.fromStep * P) w.toStep = Math.max(w.toStep, Math.floor(e.t / P) + 1);
    }
    // the crash verdict: exact before the kill, no duplicate, only the crash's steps lost, devices served again
    const problems = judgeCrash(sys, { system: o.system, steps: o.steps, fault: o.fault }, {
      options: { crashes, periodUs: P }, devices, trace, violations, crashWindows,
    } as unknown as Parameters<typeof judgeCrash>[2]);
    const errs = errors.filter((e) => !e.startsWith("timed out"));
    return {
      devices, trace, violations, differences: [], errors: errs, linkStats, wallMs: performance.now() - wall0, corrupted: busFaults.corrupted, problems,
      verdict: problems.length === 0 && errs.length === 0 ? "pass" : "fail",
    };
  }
  const differences = compareDevices(devices, reference);
  return {
    devices, trace, violations, differences, errors, linkStats, wallMs: performance.now() - wall0, corrupted: busFaults.corrupted,
    verdict: differences.length === 0 && violations.length === 0 && errors.length === 0 ? "pass" : "fail",
  };
}
