// One board as its own OS process, for the multi-process rehearsal
// (host/sim/multiproc.ts). The parent drives it over the IPC channel; the board
// talks to the other boards only over a real link (a PTY serial bus, SLCAN on a
// PTY, or SocketCAN).
import { Board } from "../runtime/board.ts";
import { commitLogEntry } from "../runtime/rounds.ts";
import { openLink } from "../transport/open.ts";
import { committedSpec, loadSystemByName } from "./systems.ts";
import type { Rules } from "../core/core.ts";
import type { Transport } from "../transport/types.ts";
import { LinkLayer } from "../transport/reliable.ts";
import { FaultyTransport, type FaultOptions } from "../transport/faulty.ts";
import { roleCheck, wireSenders } from "../runtime/roles.ts";
import { CutAndCorrupt, xorshift } from "./sim-links.ts";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Mark, MarkStore } from "../runtime/output-commit.ts";

/**
 * What this board keeps on disk in its state directory, so that the parent can kill it
 * (-9) and start it again (docs/protocol.md "A board that crashes"): its incarnation
 * (rising at every start), its recovery epoch, the outcome of its last round as
 * coordinator, whether it committed, and the last position each device got.
 */
class BoardDisk {
  constructor(readonly dir: string) { mkdirSync(dir, { recursive: true }); }
  private read(name: string): string | null { const f = join(this.dir, name); return existsSync(f) ? readFileSync(f, "utf8") : null; }
  private write(name: string, text: string): void { writeFileSync(join(this.dir, name), text); }
  nextIncarnation(): number {
    const last = Number(this.read("incarnation") ?? 0);
    const n = Math.max(last + 1, 1);
    this.write("incarnation", String(n));
    return n;
  }
  get epoch(): number { return Number(this.read("epoch") ?? 0); }
  set epoch(e: number) { this.write("epoch", String(e)); }
  get outcome(): { epoch: number; V: number[]; Vext: number[] } | undefined { const t = this.read("outcome.json"); return t ? JSON.parse(t) : undefined; }
  set outcome(o: { epoch: number; V: number[]; Vext: number[] } | undefined) { if (o) this.write("outcome.json", JSON.stringify(o)); }
  get committed(): boolean { return this.read("committed") !== null; }
  markCommitted(): void { this.write("committed", "1"); }
  /** The commit this board voted ready for and has not learned the outcome of (rounds.ts inDoubt). */
  get vote(): number | undefined { const t = this.read("vote"); return t === null ? undefined : Number(t); }
  set vote(n: number | undefined) { if (n === undefined) rmSync(join(this.dir, "vote"), { force: true }); else this.write("vote", String(n)); }
  /** As the coordinator: the last commit it opened and whether it decided it (rounds.ts commitLog). */
  get commitLog(): { n: number; decided: boolean } | undefined { const t = this.read("commit.json"); return t ? JSON.parse(t) : undefined; }
  set commitLog(c: { n: number; decided: boolean } | undefined) { if (c) this.write("commit.json", JSON.stringify(c)); }
  marks(): MarkStore {
    const t = this.read("device-marks.json");
    const m = new Map<string, Mark>(t ? Object.entries(JSON.parse(t) as Record<string, Mark>) : []);
    return { load: () => m.entries(), save: (k, mark) => { m.set(k, { step: mark.step, ord: mark.ord }); this.write("device-marks.json", JSON.stringify(Object.fromEntries(m))); } };
  }
}

interface Init {
  type: "init"; system: string; node: number; link: string; rules: Rules; coordinator: number; commitAfter?: number; fault?: { comp: string; step: number } | null; linkFaults?: FaultOptions;
  /** Frames damaged on the wire, dropped by the frame check (where the relay does not flip real bits: SLCAN, vcan). */
  dropCorrupt?: number;
  /** The board's state directory (what it keeps across a kill -9); restarted: this start follows one. */
  stateDir?: string;
  restarted?: boolean;
  /** Tests: this board dies (-9) right after its first commit vote (it restarts in doubt), or, the coordinator, its first commit decision. */
  crashAtVote?: boolean;
}
type Msg = Init | { type: "cut"; on: boolean } | { type: "upgrade" } | { type: "plan"; coordinator: boolean } | { type: "start-round" } | { type: "input"; device: string; payload: string } | { type: "stop" };

const send = (m: unknown) => process.send?.(m);
let board: Board | undefined;
let transport: Transport | undefined;
let layer: LinkLayer | undefined;
let init: Init | undefined;
/** A partition (the parent cuts this board off between two steps): every frame to or from another board is lost. */
let cutOff = false;
let sys: Awaited<ReturnType<typeof loadSystemByName>> | undefined;
const t0 = performance.now();
let faultArmed = false;
/** Arms the injected fault in this board's new version once guarded operation has started here. */
function armFault(): void {
  const f = init?.fault;
  if (!f || faultArmed || !board) return;
  const inst = board.instances().find((i) => i.comp === f.comp && i.gen === "new");
  if (!inst) return;
  faultArmed = true;
  inst.app.injectFault?.(f.step);
}

process.on("message", async (m: Msg) => {
  try {
    if (m.type === "init") {
      init = m;
      sys = await loadSystemByName(m.system);
      const disk = m.stateDir ? new BoardDisk(m.stateDir) : undefined;
      // a restart after a commit runs the committed (new) versions
      const spec = m.restarted && disk?.committed ? committedSpec(sys) : sys.spec;
      const peers = sys.spec.boards.map((b) => b.node).filter((n) => n !== m.node);
      const raw = await openLink(m.link, m.node, { peers, log: (l) => send({ type: "log", line: l }) });
      // The link layer (docs/wire.md): reliable, ordered delivery with retransmission, and
      // the role table. A bus under load loses frames (vcan in a busy QEMU guest does).
      // Injected link faults (tests): frames lost, duplicated, reordered under the layer.
      const faulty = m.linkFaults ? new FaultyTransport(raw, { ...m.linkFaults, seed: (m.linkFaults.seed ?? 1) * 1000 + m.node }) : raw;
      const rnd = xorshift((m.linkFaults?.seed ?? 1) * 7919 + m.node);
      const under = new CutAndCorrupt(faulty, () => cutOff, () => (m.dropCorrupt ?? 0) > 0 && rnd() < m.dropCorrupt!);
      layer = new LinkLayer(under, {
        peers: sys.spec.boards.map((b) => b.node), incarnation: disk ? disk.nextIncarnation() : Math.max(1, Math.floor(Date.now() / 1000)), restarted: !!m.restarted,
        admit: roleCheck({ self: m.node, coordinator: m.coordinator, senderOfWire: wireSenders(sys.spec) }),
        onEvent: (e) => { send({ type: "log", line: `link layer: ${JSON.stringify(e)}` }); if (e.type === "peer-restarted") board?.peerRestarted(e.node); },
      });
      transport = layer;
      const me = sys.spec.boards.find((b) => b.node === m.node)!;
      board = new Board({
        name: me.name, node: m.node, transport, spec, coordinator: m.coordinator, rules: m.rules,
        restarted: !!m.restarted, inDoubt: m.restarted && !disk?.committed ? disk?.vote : undefined, epoch: m.restarted ? disk?.epoch : undefined, outcome: m.restarted ? disk?.outcome : undefined, commitLog: m.restarted ? disk?.commitLog : undefined, deviceMarks: disk?.marks(),
        commit: m.commitAfter ? { afterPassed: m.commitAfter } : undefined,
        hooks: {
          now: () => Math.round((performance.now() - t0) * 1000),
          timer: (us, fn) => { setTimeout(fn, Math.max(1, Math.round(us / 1000))).unref(); },
          device: (device, payload, from) => send({ type: "device", device, payload: Buffer.from(payload).toString("hex"), comp: from.comp, gen: from.gen }),
          event: (e) => {
            if (disk && e.type === "recovered") { disk.epoch = board!.epoch; if (board!.rounds.lastOutcome?.epoch === board!.epoch) disk.outcome = board!.rounds.lastOutcome; }
            if (disk && e.type === "commit") disk.markCommitted();
            // the vote on disk before it leaves; a commit made while this board was down after
            // voting: committed on disk, and the parent starts the board again on the new versions
            if (disk && e.type === "commit-voted") disk.vote = e.n as number;
            const log = commitLogEntry(e);
            if (disk && log) disk.commitLog = log;
            if (disk && (e.type === "commit" || e.type === "commit-after-restart" || e.type === "commit-vote-void")) disk.vote = undefined;
            if (disk && e.type === "commit-adopt") { disk.markCommitted(); disk.vote = undefined; }
            send({ type: "event", e });
            if (e.type === "commit-adopt") setImmediate(() => { layer?.stop(); send({ type: "restart-me" }); });
            if ((e.type === "commit-voted" || e.type === "commit-decided") && init?.crashAtVote && !init.restarted) setImmediate(() => { layer?.stop(); send({ type: "crashing" }); setTimeout(() => process.kill(process.pid, "SIGKILL"), 20); });
            if (e.type === "upgrade") armFault();
          },
          // real links carry no ground truth: only the per-port step oracle runs here
          oracle: { isErroneous: () => false, setErroneous: () => {}, violation: (kind, detail) => send({ type: "violation", kind, detail }) },
        },
      });
      send({ type: "ready" });
    } else if (m.type === "cut") {
      cutOff = m.on;
      send({ type: "log", line: m.on ? "cut off from every other board (partition)" : "partition healed" });
    } else if (m.type === "upgrade") {
      board!.startUpgrade(sys!.plan);
      send({ type: "upgraded" });
    } else if (m.type === "plan") {
      // the upgrade round: every board holds the plan; the coordinator starts it on "start-round"
      if (!m.coordinator) board!.upgradeWhenQuiet(sys!.plan);
      send({ type: "planned" });
    } else if (m.type === "start-round") {
      if (!board!.upgradeWhenQuiet(sys!.plan)) send({ type: "error", error: "the coordinator could not start the upgrade round (guarded operation already runs)" });
    } else if (m.type === "input") {
      board!.deviceInput(m.device, Buffer.from(m.payload, "hex"));
    } else if (m.type === "stop") {
      send({ type: "stats", stats: board?.stats, link: transport?.stats(), layer: layer?.layerStats() });
      await transport?.close();
      process.exit(0);
    }
  } catch (e) {
    send({ type: "error", error: (e as Error).stack ?? String(e) });
  }
});
send({ type: "alive" });
