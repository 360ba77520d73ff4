// The board daemon (`gsu board --profile FILE`): runs the hosted components from
// the state directory's last committed versions, over the profile's link, and
// serves the ground: signed uploads, authenticated telecommands, telemetry.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Board, type Instance, type TraceEvent } from "../runtime/board.ts";
import type { ComponentVersion } from "../runtime/app.ts";
import { commitLogEntry } from "../runtime/rounds.ts";
import { isDevice, type SystemSpec } from "../runtime/system.ts";
import { wireSystem } from "../component/wiring.ts";
import { ComponentInstance, ComponentModule } from "../component/component.ts";
import type { Manifest } from "../component/manifest.ts";
import { imuMessage, loadComponentVersion, loadSystem } from "../component/demo.ts";
import { readSystemFile } from "../sim/demo-system.ts";
import { PlanError } from "../runtime/system.ts";
import { openLink } from "../transport/open.ts";
import type { Transport } from "../transport/types.ts";
import { loadProfileKeys, type BoardProfile } from "./profile.ts";
import { readIfPresent, SlotStore, UntrustedImageError } from "./store.ts";
import { checkDowngrade } from "./policy.ts";
import { TelecommandGuard, type Telecommand } from "./telecommand.ts";
import { UploadReceiver } from "./upload.ts";
import { frame, isMgmt, M, MgmtError, Writer } from "./mgmt.ts";
import { BoardTelemetry } from "../telemetry/sampler.ts";
import { clip, dirBytes, RateLimitedLog } from "./harden.ts";
import { loadLinkKey } from "../transport/auth.ts";
import type { LinkLayer, LinkLayerEvent } from "../transport/reliable.ts";
import { boardLinkLayer, coordinatorOf } from "./linklayer.ts";
import { StatusGate, statusReply } from "./status-query.ts";
import { EventLog } from "./events.ts";
import { MultiLink, linkSpecOf } from "./multilink.ts";

export interface DaemonOptions {
  profile: BoardProfile;
  groundNode?: number;            // where telemetry and replies go (default 100)
  simDevicesHz?: number;          // drive the IMU with the demo's input at this rate (no hardware)
  log?: (line: string) => void;
  transport?: Transport;          // tests: an already open link
  /** A system file (examples/system.json's format with boards) for a multi-board deployment. */
  systemFile?: string;
  /** Bytes of the on-board event log (STATE/events, default 256 KiB). */
  eventLogBytes?: number;
  /**
   * The daemon must start again from its store (a commit it voted for in doubt was made:
   * it now runs the committed versions): the host stops it and starts a new one. Without
   * it the process exits with status 75 (EX_TEMPFAIL) for its supervisor (systemd) to restart.
   */
  onRestart?: (why: string) => void;
}

const enc = new TextEncoder();
/** Longest reply text (characters): a status fits; nothing approaches the link's transfer limit. */
const MAX_REPLY = 16 * 1024;
/** How long a signed upload telecommand authorises its image's transfer. */
const UPLOAD_GRANT_MS = 10 * 60_000;

function fromImage(manifest: Manifest, wasm: Uint8Array): ComponentVersion & { manifest: Manifest } {
  const mod = ComponentModule.fromBytes(wasm, `${manifest.name}@${manifest.version}`);
  return {
    name: manifest.name, version: manifest.version, ports: manifest.ports, manifest,
    create(onSend, buffers) { const c = new ComponentInstance(mod, onSend, buffers); c.start(); return c; },
  };
}

export class BoardDaemon {
  readonly board: Board;
  readonly store: SlotStore;
  private guard: TelecommandGuard;
  private uploads: UploadReceiver;
  private tlm: BoardTelemetry;
  private timers: NodeJS.Timeout[] = [];
  private ground: number;
  private step = 0;
  private onTrial: string[] = [];
  private trial = new Map<string, ComponentVersion & { manifest: Manifest }>();
  private spec: SystemSpec;
  private log: (l: string) => void;
  /** Refusal and fault lines: at most 5 per category per 10 s (a flood of bad frames cannot flood the log). */
  private refusalLog: RateLimitedLog;
  /** Exceptions thrown by frame handlers, contained (counted, reported, the board keeps running). */
  readonly handlerFaults: Record<string, number> = {};
  /** Images the ground authorised with a signed upload telecommand: hex id -> { size, until (ms) }. */
  private grants = new Map<string, { size: number; until: number; used?: boolean }>();
  /** The link layer between boards (reliable, ordered, authenticated with a link key), when the profile runs it. */
  readonly layer: LinkLayer | null = null;
  /** Read-only status queries (profile "status"): who may read status without the signing key. */
  private statusGate: StatusGate;
  /** The telecommand being executed arrived while the replay state was corrupt (a resync). */
  private resyncing = false;
  /** Every event sent to the ground, kept in a bounded ring in STATE/events and sent again on request (EV_Q). */
  readonly events: EventLog;

  private constructor(private o: DaemonOptions, private link: Transport, store: SlotStore, spec: SystemSpec) {
    const p = o.profile;
    this.log = o.log ?? ((l) => console.log(l));
    this.refusalLog = new RateLimitedLog((l) => this.log(l));
    this.ground = o.groundNode ?? 100;
    this.store = store;
    this.spec = spec;
    this.events = new EventLog(p.stateDir, { maxBytes: o.eventLogBytes });
    const keys = loadProfileKeys(p);
    this.guard = new TelecommandGuard(keys, p.stateDir, { board: p.name, windowMs: (p.telecommandWindowSeconds ?? 600) * 1000, revoked: p.revokedKeys });
    try { this.statusGate = new StatusGate(p.status ?? "signed", p.name, (p.telecommandWindowSeconds || 600) * 1000); } catch (e) { throw new PlanError(`${p.source}: status: ${(e as Error).message}`); }
    this.guard.onStorageFull = () => {
      const freed = this.uploads.reclaim();
      this.refusalLog.line("storage", `storage full: replay state could not be written; ${freed} bytes of partial uploads reclaimed`);
    };
    const room = (need: number): string | null => {
      const used = dirBytes(p.stateDir);
      if (used + need <= p.stateQuotaBytes) return null;
      return `the state directory's quota would be exceeded: ${need} more bytes needed, ${used} of ${p.stateQuotaBytes} used (profile stateQuotaMB); nothing was written`;
    };
    this.uploads = new UploadReceiver(join(p.stateDir, "incoming"), 16 * 1024 * 1024, (bytes) => {
      try {
        // A signed older image may be staged; activating it needs an authenticated
        // upgrade telecommand with allowDowngrade (checked in execute()).
        const r = this.store.stage(bytes, { allowDowngrade: true });
        // one authorisation, one staging: the same image cannot be re-staged later by a peer
        // (say an older one the ground authorised once, over the newer image staged since)
        const g = this.grants.get(r.sha256);
        if (g) g.used = true;
        const text = `upload accepted: ${r.name} ${r.version} staged in slot ${r.slot}`;
        this.emitEvent({ type: "upload-accepted", comp: r.name, version: r.version, bytes: bytes.length, sha256: r.sha256 });
        this.refusalLog.line("upload-accepted", text); // with "uploads": "open" a peer may repeat them
        return { ok: true, text };
      } catch (e) {
        const text = `upload rejected: ${clip((e as Error).message)}`;
        this.emitEvent({ type: "upload-rejected", comp: "", version: "", reason: clip((e as Error).message, 96) });
        this.refusalLog.line("upload-rejected", text);
        return { ok: false, text };
      }
    }, 2, room, (id, size) => {
      if ((p.uploads ?? "signed") === "open") return null;
      const g = this.grants.get(id);
      if (g && g.until >= Date.now() && g.size === size && !g.used) return null;
      if (g?.used) return `image ${id.slice(0, 16)} was already uploaded and staged under its authorisation; each signed upload telecommand admits one transfer (send another to upload it again)`;
      return `image ${id.slice(0, 16)} (${size} bytes) is not authorised on this board: the ground sends a signed upload telecommand for it first (gsu upload --key KEY --target ${p.name}); profile "uploads": "signed"`;
    });
    // Frames between boards go through the link layer (docs/wire.md, "The link layer"):
    // reliable and ordered, accepted only from the system's boards in their roles,
    // authenticated with the link key. Without it, protocol frames are accepted only
    // from the system's boards (a spoofable check).
    const boards = new Set(spec.boards.map((b) => b.node));
    const coordinator = coordinatorOf(spec);
    // a vote this board sent before it restarted, outcome unknown: its peers may run the versions it voted for
    const vote = store.vote();
    this.layer = boardLinkLayer({ profile: p, spec, link, coordinator, inDoubt: vote?.versions, onEvent: (e) => this.contain("link", p.node, () => this.onLayerEvent(e)) });
    const layer = this.layer;
    const under: Transport = layer ?? link;
    const inbound = (src: number, f: Uint8Array, h: (src: number, f: Uint8Array) => void): void => {
      if (!layer && f.length && f[0] >> 5 !== 0 && !boards.has(src)) return this.refuseControl("auth-unknown-node", `control frame (kind ${f[0] >> 5}) from node ${src}, which is not a board of this system`);
      h(src, f);
    };
    // management frames are the daemon's; protocol frames go to the board runtime
    const split: Transport = {
      node: link.node,
      send: (d, f) => under.send(d, f),
      // a protocol frame is contained without a closure per frame (the per-message path: issue 12)
      onFrame: (h) => under.onFrame((src, f) => {
        if (isMgmt(f)) return this.contain("mgmt", src, () => this.onMgmt(src, f));
        try { inbound(src, f, h); } catch (e) { this.contained("protocol", src, e); }
      }),
      stats: () => under.stats(),
      close: () => under.close(),
    };
    const commit = p.at.commit === "manual" ? undefined : { afterPassed: p.at.commit.afterPassed, quietUs: p.at.commit.quietSeconds * 1e6 };
    this.board = new Board({
      name: p.name, node: p.node, transport: split, spec, coordinator, rules: "safe", commit,
      // a daemon may be starting again after a crash or a reboot while the others run guarded
      // operation: it answers their recovery round (docs/protocol.md "A board that crashes")
      epoch: store.recoveryEpoch(), restarted: true, inDoubt: vote?.n,
      // what it must not forget across a crash: the last recovery outcome it sent as coordinator, and what each device got
      outcome: store.recoveryOutcome(), commitLog: store.commitLog(), deviceMarks: store.deviceMarks(),
      hooks: {
        now: () => Date.now() * 1000,
        // the coordinator rounds' resends and timeouts (host/runtime/rounds.ts), contained like every handler
        timer: (us, fn) => { setTimeout(() => this.contain("rounds", p.node, fn), Math.max(1, Math.round(us / 1000))).unref(); },
        device: (device, payload, from) => this.deviceOut(device, payload, from),
        event: (e) => this.onEvent(e),
      },
    });
    // several links: LINK_TLM 0 is all of them together, then one per profile link
    const multi = link instanceof MultiLink && p.links.length > 1 ? link : null;
    const names = p.links.map((l) => ("iface" in l ? l.iface : l.path));
    this.tlm = new BoardTelemetry(p.node, multi ? { linkNames: ["all links", ...names], transports: multi.slotStats() } : { linkNames: names }).attach(this.board);
  }

  static async start(o: DaemonOptions): Promise<BoardDaemon> {
    const p = o.profile;
    const log = o.log ?? ((l: string) => console.log(l));
    mkdirSync(p.stateDir, { recursive: true });
    if (p.linkKey) { try { loadLinkKey(p.linkKey); } catch (e) { throw new PlanError(`${p.source}: linkKey: ${(e as Error).message}`); } }
    let store: SlotStore;
    try {
      store = SlotStore.open(join(p.stateDir, "store"), loadProfileKeys(p), { revokedKeys: p.revokedKeys, unknownKeys: "refuse" });
    } catch (e) {
      // a key removed from the profile: never a silent downgrade (exit 2, systemd does not restart)
      if (e instanceof UntrustedImageError) throw new PlanError(`${p.source}: ${e.message}`);
      throw e;
    }
    for (const r of store.report.rejected) log(`state: ${clip(r, 400)}`);
    const boot = store.boot();
    for (const d of boot.dropped) log(`restart: ${d} was on trial and is dropped; running the last committed version`);
    const spec = BoardDaemon.system(p, store, o.systemFile);
    const here = spec.boards.find((b) => b.node === p.node)!.components;
    for (const n of here) log(`${n}: running ${spec.components[n].version}${boot.running[n] ? " (committed)" : " (built in)"}`);
    // every link of the profile at once; one that will not open is retried (LINK_DOWN), not fatal
    let d: BoardDaemon | undefined;
    const early: Parameters<BoardDaemon["emitEvent"]>[0][] = [];
    const link = o.transport ?? await MultiLink.open({ node: p.node, specs: p.links.map(linkSpecOf), open: (s, n) => openLink(s, n, { log }), log,
      onLinkEvent: (e) => { if (d) d.contain("link", p.node, () => d!.emitEvent(e)); else early.push(e); } });
    d = new BoardDaemon(o, link, store, spec);
    d.emitEvent({ type: "board-start", versions: Object.entries(spec.components).map(([n, v]) => `${n}@${v.version}`).join(",") });
    for (const e of early) d.emitEvent(e);
    const ec = d.events.corrupt;
    if (ec) {
      log(`EVENT LOG DAMAGED: ${ec.file}: ${ec.lines} lines skipped (${ec.why}); the log goes on`);
      d.emitEvent({ type: "event-log-corrupt", file: clip(ec.file, 96), lines: ec.lines });
    }
    for (const r of store.report.revoked) {
      const now = spec.components[r.component]?.version ?? "nothing";
      log(`KEY REVOKED: ${r.component} ${r.version} (${r.role}, slot ${r.slot}) is signed by revoked key ${r.keyId} (${clip(r.why, 80)}); it is no longer run${r.role === "committed" ? `; running ${now}` : ""}`);
      d.emitEvent({ type: "key-revoked", keyId: r.keyId, comp: r.component, version: r.version, why: clip(r.why, 60) });
    }
    if (p.uploads === "open") {
      log(`uploads are open (profile "uploads": "open"): any peer on the link may upload and stage a signed image`);
      d.emitEvent({ type: "security-notice", what: "uploads-open", detail: "any peer on the link may stage a signed image (profile uploads: open)" });
    }
    const bad = d.guard.corrupt;
    if (bad) {
      // fail closed: no telecommand is accepted until an operator repairs the file
      log(`REPLAY STATE CORRUPT: ${bad.file} ${bad.why}; every telecommand but a signed resync is refused until it is repaired. To recover, ${bad.recover}`);
      d.emitEvent({ type: "replay-state-corrupt", file: bad.file, why: bad.why, recover: `gsu resync, challenge ${bad.challenge}` });
    }
    d.timers.push(setInterval(() => d.contain("telemetry", p.node, () => d.sendTelemetry()), Math.round(1000 / Math.max(0.1, p.telemetry.housekeepingHz))));
    const feedsImu = spec.wires.some((w) => isDevice(w.from) && w.from.device === "imu" && !isDevice(w.to) && spec.boards.find((b) => b.node === p.node)!.components.includes(w.to.comp));
    if (o.simDevicesHz && feedsImu) {
      // the simulated IMU keeps counting while the board is down, as a real device does: a
      // restarted daemon goes on from the steps that passed since the first start (its clock
      // in the state directory), never from 1 again (the other boards' components have seen those)
      const t0file = join(p.stateDir, "sim-devices-t0");
      const t0 = Number(readIfPresent(t0file) ?? NaN);
      if (Number.isFinite(t0)) d.step = Math.max(0, Math.floor((Date.now() - t0) * o.simDevicesHz / 1000));
      else writeFileSync(t0file, `${Date.now()}\n`);
    }
    if (o.simDevicesHz && feedsImu) d.timers.push(setInterval(() => d.contain("devices", p.node, () => {
      // start-up synchronisation: the components run once every board of the system is in step
      if (d.layer && !d.layer.ready()) return;
      d.board.deviceInput("imu", imuMessage(++d.step));
    }), Math.round(1000 / o.simDevicesHz)));
    return d;
  }

  /** The system this board runs: its components at their last committed versions, wired as in examples/system.json. */
  static system(p: BoardProfile, store: SlotStore, systemFile?: string): SystemSpec {
    const committed = store.committedVersions();
    const components: Record<string, ComponentVersion & { manifest: Manifest }> = {};
    const file = systemFile ? readSystemFile(systemFile) : null;
    const mine = new Set(p.components.map((c) => c.name));
    if (file?.boards && !file.boards.some((b) => b.node === p.node)) {
      throw new PlanError(`${systemFile}: no board with node ${p.node} (this profile's node); add it to 'boards'`);
    }
    const hosted = file?.boards ? new Set(file.boards.find((b) => b.node === p.node)!.components) : mine;
    // other boards' components: their manifests wire the system (their code runs elsewhere)
    // (at the versions a guarded operation committed, if this board took part in one: remoteVersions)
    const remote = store.remoteVersions();
    for (const [name, version] of Object.entries(file?.initial ?? {})) if (!hosted.has(name)) components[name] = remoteComponent(name, version, remote[name]);
    for (const name of hosted) {
      const ref = p.components.find((c) => c.name === name) ?? { name, version: file?.initial[name] ?? "" };
      if (!ref.version) throw new PlanError(`component '${name}' has no version: list it in the profile's components`);
      components[name] = committed[name] ? (() => { const v = store.activeImage(name, "committed"); return fromImage(v.manifest, v.wasm); })()
        : loadComponentVersion(name, ref.version);
    }
    const boards = file?.boards ?? [{ name: p.name, node: p.node, components: [...hosted] }];
    // wire ids number device wires in component order: every board must use the system file's order
    // (not hosted-first), or their wire ids differ (the start-up hello's system hash catches it)
    const order = [...Object.keys(file?.initial ?? {}), ...Object.keys(components)].filter((n, i, a) => components[n] && a.indexOf(n) === i);
    const spec = wireSystem(Object.fromEntries(order.map((n) => [n, components[n]])), file ? file.links : loadSystem().links, boards, { onlyPresent: !file });
    return spec;
  }

  /**
   * Runs a frame handler so that nothing a peer sends can stop the daemon: an
   * exception is counted (stats.dropped["handler-fault"], handlerFaults), reported
   * as a HANDLER_FAULT event and a rate-limited log line, and the board keeps running.
   */
  contain(where: string, src: number, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.contained(where, src, e);
    }
  }

  /** A handler's fault, contained: counted, reported, the frame dropped. */
  private contained(where: string, src: number, e: unknown): void {
    const msg = clip(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    this.handlerFaults[where] = (this.handlerFaults[where] ?? 0) + 1;
    this.board.stats.dropped["handler-fault"] = (this.board.stats.dropped["handler-fault"] ?? 0) + 1;
    try {
      this.refusalLog.line("handler-fault", `handler fault (${where} frame from node ${src}), frame dropped, board keeps running: ${msg}`);
      this.emitEvent({ type: "handler-fault", where: `${where}<-${src}`, error: clip(msg, 96) });
    } catch { /* reporting must not throw either */ }
  }

  private onLayerEvent(e: LinkLayerEvent): void {
    switch (e.type) {
      case "refused": return this.refuseControl(e.reason, e.detail);
      case "session-open": return this.log(`link: session with node ${e.node} open (its incarnation ${e.incarnation})${this.layer?.ready() ? "; every board of the system is in step" : ""}`);
      case "mismatch":
        this.log(`START-UP MISMATCH: ${clip(e.detail, 300)}; this board does not run with node ${e.node}`);
        return this.emitEvent({ type: "startup-mismatch", node: e.node, detail: clip(e.detail, 160) });
      case "peer-refuses": return this.refusalLog.line("peer-refuses", `node ${e.node} refuses to run with this board (start-up mismatch; its own events name it)`);
      case "peer-restarted":
        this.log(`link: node ${e.node} restarted (incarnation ${e.from} -> ${e.incarnation}); ${e.lost} frames sent to its previous run were not acknowledged${this.board.guarded ? "; guarded operation ends by recovery" : ""}`);
        this.board.peerRestarted(e.node);
        return this.emitEvent({ type: "peer-restarted", node: e.node, incarnation: e.incarnation, lost: e.lost });
      case "backlog-full": return this.refusalLog.line("backlog-full", `link: frames to node ${e.node} dropped: its backlog is full`);
    }
  }

  private refuseControl(reason: string, detail: string): void {
    this.board.stats.dropped[reason] = (this.board.stats.dropped[reason] ?? 0) + 1;
    this.refusalLog.line(reason, `refused ${clip(detail)}`);
    this.emitEvent({ type: "drop", reason, detail: clip(detail, 64) });
  }

  // ---- ground traffic --------------------------------------------------------------
  private toGround(type: number, body: Uint8Array): void { this.link.send(this.ground, frame(type, body)); }

  private onMgmt(src: number, f: Uint8Array): void {
    const type = f[1], body = f.subarray(2);
    if (type === M.TC) return this.onTelecommand(src, body);
    if (type === M.STATUS_Q) return this.onStatusQuery(src, body);
    if (type === M.EV_Q) {
      if (!this.events.allow(Date.now())) { this.board.stats.dropped["event-query-rate"] = (this.board.stats.dropped["event-query-rate"] ?? 0) + 1; return; }
      let r: Uint8Array;
      // a malformed query is a peer's input, counted like any other, not a handler fault
      try { r = this.events.answer(body); } catch (e) {
        if (!(e instanceof MgmtError)) throw e;
        this.board.stats.dropped["mgmt-malformed"] = (this.board.stats.dropped["mgmt-malformed"] ?? 0) + 1;
        return;
      }
      this.link.send(src, r);
      return;
    }
    if (type >= M.QUERY && type <= M.DONE) {
      for (const r of this.uploads.onFrame(type, body)) this.link.send(src, r);
      return;
    }
    this.board.stats.dropped["mgmt-unknown"] = (this.board.stats.dropped["mgmt-unknown"] ?? 0) + 1;
  }

  // Replies go to whoever sent the command; telemetry goes to the ground node.
  private reply(to: number, seq: number, status: 0 | 1 | 2, text: string): void {
    if (text.length > MAX_REPLY) text = clip(text, MAX_REPLY);
    this.link.send(to, frame(M.TC_REPLY, new Writer().u32(seq).u8(status).bytes(enc.encode(text)).done()));
  }

  /** A read-only status query: answered, refused or dropped as the profile's "status" says (rate-limited). */
  private onStatusQuery(src: number, body: Uint8Array): void {
    const c = this.statusGate.check(body);
    if (!c) { this.board.stats.dropped["status-query"] = (this.board.stats.dropped["status-query"] ?? 0) + 1; return; }
    if (!c.ok) {
      this.refusalLog.line("status-refused", `status query from node ${src} refused: ${c.why}`);
      this.link.send(src, statusReply(c.nonce, false, c.why));
      return;
    }
    let text = this.statusJson();
    if (text.length > MAX_REPLY) text = clip(text, MAX_REPLY);
    this.link.send(src, statusReply(c.nonce, true, text));
  }

  private statusJson(): string {
    const bad = this.guard.corrupt;
    return JSON.stringify({ board: this.o.profile.name, node: this.o.profile.node, guarded: this.board.guarded, epoch: this.board.epoch,
      // what the board is holding or waiting for now (held inputs, an open round and whom it waits on)
      waitingFor: this.board.unfinished(),
      instances: this.board.instances().map((i) => ({ comp: i.comp, version: i.version.version, gen: i.gen, role: this.board.core.role(i.pid) })),
      store: this.store.status().map((s) => s.line), stats: this.board.stats, rounds: this.board.rounds.counts, link: this.link.stats(),
          ...(this.layer ? { layer: this.layer.layerStats(), waiting: this.layer.waiting() } : {}),
      ...(this.link instanceof MultiLink ? { links: this.link.links() } : {}),
      eventLog: { first: this.events.firstSeq, last: this.events.lastSeq, bytes: this.events.bytes },
      telecommands: bad ? { accepted: false, replayState: `${bad.file} ${bad.why}`, resyncChallenge: bad.challenge } : { accepted: true } });
  }

  private onTelecommand(src: number, body: Uint8Array): void {
    this.resyncing = !!this.guard.corrupt;
    const c = this.guard.check(body);
    if (!c.ok) {
      const detail = clip(c.detail, 400);
      this.refusalLog.line("telecommand-refused", `telecommand refused (${c.reason}): ${detail}`);
      this.emitEvent({ type: "telecommand-refused", command: `#${c.seq}`, reason: `${c.reason}: ${detail}` });
      this.reply(src, c.seq, 1, `refused (${c.reason}): ${detail}`);
      const bad = this.guard.corrupt;
      if (c.reason === "replay-state-corrupt" && bad) this.emitEvent({ type: "replay-state-corrupt", file: bad.file, why: bad.why, recover: "write the ground's KEY.seq into it, restart" });
      return;
    }
    try {
      const text = this.execute(c.tc);
      this.emitEvent({ type: "telecommand-accepted", command: c.tc.op });
      this.reply(src, c.tc.seq, 0, text);
    } catch (e) {
      const msg = clip((e as Error).message);
      this.refusalLog.line("telecommand-failed", `telecommand ${c.tc.op} #${c.tc.seq} failed: ${msg}`);
      this.reply(src, c.tc.seq, 2, msg);
    }
  }

  private execute(tc: Telecommand): string {
    const a = tc.args;
    switch (tc.op) {
      case "status":
        return this.statusJson();
      case "resync": {
        if (!this.resyncing) throw new Error("the replay state is sound; nothing to resync");
        const floor = new Date(this.guard.floorMs).toISOString();
        this.log(`replay state resynced by key ${tc.keyId} at #${tc.seq}; telecommands signed before ${floor} are refused`);
        this.emitEvent({ type: "replay-state-resynced", keyId: tc.keyId, seq: tc.seq });
        return `replay state resynced: key ${tc.keyId} at #${tc.seq}; telecommands signed before ${floor} (by any key) are refused`;
      }
      case "upgrade": {
        if (this.board.guarded) throw new Error("a guarded operation is already running; commit or abort it first");
        const comps = a.components as Record<string, string> | undefined;
        if (!comps || typeof comps !== "object" || !Object.keys(comps).length) throw new Error("upgrade needs components: {name: version, ...}");
        const names = Object.keys(comps).sort();
        for (const n of names) {
          const st = this.store.statusOf(n);
          const staged = Object.values(st.slots).find((s) => s?.role === "staged");
          if (!staged || staged.version !== comps[n]) throw new Error(`${n} ${comps[n]} is not uploaded (staged: ${staged?.version ?? "nothing"}); upload it first`);
        }
        for (const n of names) {
          const running = this.spec.components[n]?.version;
          const refusal = checkDowngrade(n, running, comps[n], a.allowDowngrade === true);
          if (refusal) throw new Error(refusal.reason);
        }
        const links = loadSystem().links.filter((l) => this.spec.components[l.from.split(".")[0]] && this.spec.components[l.to.split(".")[0]]);
        const current = Object.fromEntries(Object.entries(this.spec.components).map(([n, v]) => [n, (v as unknown as { manifest: Manifest }).manifest]));
        this.store.activate(names, { system: { current, links } });
        const upgrades = names.map((n) => { const v = this.store.activeImage(n, "active"); return fromImage(v.manifest, v.wasm); });
        this.trial = new Map(upgrades.map((u) => [u.name, u]));
        const coord = this.board.opts.coordinator;
        let multi = false;
        try {
          if (this.spec.boards.length > 1) {
            // Several boards: guarded operation starts on every board at one quiescent point
            // (the upgrade round, docs/protocol.md "Rounds that survive loss"). Each board that
            // hosts an upgraded component gets this telecommand; the coordinator's starts the
            // round, and boards hosting none of the cluster need nothing.
            multi = true;
            if (!this.board.upgradeWhenQuiet({ upgrades })) throw new Error("an upgrade round cannot start now: guarded operation already runs");
          } else this.board.startUpgrade({ upgrades });
        } catch (e) {
          this.store.abort(names, `refused at start: ${(e as Error).message}`);
          throw e;
        }
        this.onTrial = names;
        const what = names.map((n) => `${n} ${comps[n]}`).join(", ");
        if (!multi) return `guarded operation started: ${what} on trial; old versions run as shadows`;
        return this.board.node === coord
          ? `upgrade round started: ${what}; guarded operation starts on every board at a quiescent point (UPGRADE events; boards hosting upgraded components need their own upgrade telecommand)`
          : `plan stored: ${what}; guarded operation starts when the coordinator (node ${coord}) runs the upgrade round (send it its upgrade telecommand)`;
      }
      case "commit":
        if (!this.board.guarded) throw new Error("no guarded operation is running");
        if (this.board.node !== this.board.opts.coordinator) throw new Error(`commit goes to the coordinator (node ${this.board.opts.coordinator}), which runs the two-phase commit with every board`);
        if (!this.board.commitNow()) throw new Error("the commit cannot start now (a round is open, or this board is not ready: see its events)");
        return this.board.guarded ? "commit vote started: the trial commits when every board is ready (COMMIT event)" : "committed";
      case "abort":
        if (!this.board.abortNow()) throw new Error("no guarded operation is running");
        return "abort started: the old versions take over";
      case "upload": {
        const id = String(a.image ?? ""), size = Number(a.size);
        if (!/^[0-9a-f]{64}$/.test(id) || !Number.isInteger(size) || size < 1) throw new Error("upload needs image (the image's sha256, 64 hex digits) and size (bytes)");
        for (const [k, g] of this.grants) if (g.until < Date.now()) this.grants.delete(k);
        if (this.grants.size >= 8) this.grants.delete(this.grants.keys().next().value!);
        this.grants.set(id, { size, until: Date.now() + UPLOAD_GRANT_MS });
        return `upload of image ${id.slice(0, 16)} (${size} bytes) authorised for ${UPLOAD_GRANT_MS / 1000} s`;
      }
      case "fault": {
        const comp = String(a.comp ?? ""), step = Number(a.step ?? 0);
        const inst = this.board.instances().find((i) => i.comp === comp && i.gen === "new");
        if (!inst) throw new Error(`no new version of '${comp}' is running; start an upgrade first`);
        inst.app.injectFault?.(step);
        return `fault injected into ${comp} from step ${step}`;
      }
    }
  }

  // ---- events, devices, telemetry -----------------------------------------------------
  private onEvent(e: TraceEvent): void {
    // the two-phase commit's vote, on disk before it leaves (docs/protocol.md "A board that crashes")
    const log = commitLogEntry(e);
    if (log) this.store.recordCommitLog(log);
    if (e.type === "commit-voted") this.store.recordVote({ n: e.n as number, versions: Object.fromEntries(this.board.upgradedVersions()) });
    if (e.type === "commit" || e.type === "commit-after-restart" || e.type === "commit-vote-void") this.store.clearVote();
    if (e.type === "commit-adopt") this.adoptCommit(e.n as number);
    if (process.env.GSU_TEST_KILL_AFTER_EVENT === e.type) {
      // tests: a crash right after this point. What this turn sends goes out (the event comes
      // before the frame that follows it; the serial port's write is queued); from the next
      // turn nothing more is received or sent; killed 200 ms later.
      setImmediate(() => { this.layer?.stop(); setTimeout(() => process.kill(process.pid, "SIGKILL"), 200); });
    }
    if (e.type === "commit" && this.onTrial.length) {
      this.store.commit(this.onTrial);
      // the new versions are the running ones now (the board runtime shares this spec)
      for (const [n, v] of this.trial) this.spec.components[n] = v;
      this.log(`commit: ${this.onTrial.join(", ")} committed`);
      this.onTrial = [];
    }
    if (e.type === "commit") {
      // upgraded components other boards host: their new versions are the system's now,
      // remembered so that this board's start-up check accepts those boards after a restart
      const remote = Object.fromEntries([...this.board.upgradedVersions()].filter(([n]) => !this.board.hosts(n)));
      if (Object.keys(remote).length) {
        for (const [n, v] of Object.entries(remote)) if (this.spec.components[n]) this.spec.components[n] = { ...this.spec.components[n], version: v };
        this.store.recordRemoteVersions(remote);
        this.log(`commit: other boards' ${Object.entries(remote).map(([n, v]) => `${n}@${v}`).join(", ")} recorded as the system's versions`);
      }
    }
    if (e.type === "recovered") this.store.recordRecoveryEpoch(this.board.epoch);
    if (e.type === "recovered" && this.board.rounds.lastOutcome?.epoch === this.board.epoch) this.store.recordRecoveryOutcome(this.board.rounds.lastOutcome);
    if (e.type === "recovered" && this.onTrial.length) {
      this.store.abort(this.onTrial, "recovered: the old version took over");
      this.log(`recovery: ${this.onTrial.join(", ")} aborted; the old versions run`);
      this.onTrial = [];
    }
    if (["at-failed", "rollback", "takeover", "recovered", "commit", "retire", "memory-full", "component-trap", "upgrade"].includes(e.type)) {
      this.log(`event ${e.type}${e.comp ? ` ${e.comp}` : ""}${e.gen ? `(${e.gen})` : ""}`);
    }
    this.emitEvent(e);
  }

  /**
   * This board voted for commit n, restarted before the outcome reached it, and now hears
   * the coordinator commit: the versions it voted for become its committed ones (its own
   * dropped trials, and the others' versions it checks peers against), and it starts again
   * from its store to run them; it acknowledges the coordinator's next resend.
   */
  private adoptCommit(n: number): void {
    const v = this.store.vote();
    if (!v || v.n !== n) return;
    const mine = this.store.adoptDropped(Object.fromEntries(Object.entries(v.versions).filter(([c]) => this.board.hosts(c))));
    const remote = Object.fromEntries(Object.entries(v.versions).filter(([c]) => !this.board.hosts(c)));
    if (Object.keys(remote).length) this.store.recordRemoteVersions(remote);
    this.store.clearVote();
    const what = Object.entries(v.versions).map(([c, ver]) => `${c}@${ver}`).join(", ");
    this.log(`commit ${n} was made while this board was down after voting for it: ${what} committed${mine.length ? ` (${mine.join(", ")} from the slots dropped at restart)` : ""}; starting again on them`);
    this.emitEvent({ type: "commit-adopted", n, versions: what });
    if (this.o.onRestart) this.o.onRestart(`commit ${n} adopted`);
    else setImmediate(() => process.exit(75));
  }

  private emitEvent(e: Omit<TraceEvent, "t" | "board"> & { t?: number; board?: string }): void {
    const pkt = this.tlm.event({ t: Date.now() * 1000, board: this.o.profile.name, ...e } as TraceEvent);
    if (pkt) { this.events.append(pkt); this.toGround(M.TM, pkt); }
  }

  private deviceOut(device: string, payload: Uint8Array, from: Instance): void {
    try {
      appendFileSync(join(this.o.profile.stateDir, "devices.jsonl"),
        JSON.stringify({ t: Date.now(), device, payload: Buffer.from(payload).toString("hex"), comp: from.comp, version: from.version.version, gen: from.gen }) + "\n");
    } catch (e) {
      // a full disk loses the record of a device output, never the board
      this.board.stats.dropped["device-record"] = (this.board.stats.dropped["device-record"] ?? 0) + 1;
      this.refusalLog.line("storage", `devices.jsonl: ${clip((e as NodeJS.ErrnoException).code ?? (e as Error).message)}; device output not recorded`);
    }
  }

  private sendTelemetry(): void {
    const pkts = this.tlm.sample(Date.now() * 1000);
    if (pkts.length) this.toGround(M.TM, Buffer.concat(pkts));
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.uploads.close();
    this.events.close();
    this.layer?.stop();
    await this.link.close();
  }
}

/** The first link's spec (the board serves every link of its profile: host/board/multilink.ts). */
/**
 * A component another board hosts, for wiring: at its system-file version, or at the
 * version a guarded operation committed. Without that version's manifest here, the
 * initial one stands in under the new version's name: its ports at this board's
 * boundary are unchanged (a changed interface would have put this board's component in
 * the cluster, and this board would hold its new image).
 */
function remoteComponent(name: string, initial: string, committed?: string): ReturnType<typeof loadComponentVersion> {
  if (!committed || committed === initial) return loadComponentVersion(name, initial);
  try { return loadComponentVersion(name, committed); } catch {
    const v = loadComponentVersion(name, initial);
    return { ...v, version: committed };
  }
}

export function linkSpec(p: BoardProfile): string { return linkSpecOf(p.links[0]); }

