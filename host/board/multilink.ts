// A board on every link of its profile at once (CAN and serial, say), so the ground
// can reach it over any of them. One Transport to the daemon:
//   - receives from every link that is up;
//   - sends a frame to node N over the link N was last heard on; a node not heard
//     yet gets protocol frames over the first link that is up (never two copies of
//     a protocol frame), and management frames (telemetry, replies) over every link
//     that is up, so a ground listening on any of them hears the board;
//   - a link that cannot be opened (no can0 yet, a USB adapter unplugged) is not a
//     reason to stop: the board runs, reports LINK_DOWN with the error, and retries
//     with backoff (1 s, 2 s, 4 s ... 60 s); LINK_UP when it opens.
import { isMgmt } from "./mgmt.ts";
import { emptyStats, mergeHints, type LayerHints, type Transport, type TransportStats } from "../transport/types.ts";
import { layerHintsOfSpec } from "../transport/open.ts";
import type { ProfileLink } from "./profile.ts";

export function linkSpecOf(l: ProfileLink): string {
  const modes = (m: { fd?: boolean; compact?: boolean; dataBitrate?: number }) => `${m.fd ? (m.dataBitrate ? `+fd=${m.dataBitrate}` : "+fd") : ""}${m.compact ? "+compact" : ""}`;
  if (l.kind === "socketcan") return l.iface + modes(l);
  if (l.kind === "slcan") return `slcan:${l.path}@${l.bitrate}${modes(l)}`;
  return `serial:${l.path}@${l.baud}`;
}

export interface MultiLinkOptions {
  node: number;
  specs: string[];
  open: (spec: string, node: number) => Promise<Transport>;
  log?: (line: string) => void;
  /** LINK_DOWN / LINK_UP: the daemon turns these into events. */
  onLinkEvent?: (e: { type: "link-down"; link: string; error: string; retryS: number } | { type: "link-up"; link: string }) => void;
  /** First retry delay and its cap, ms (default 1000, 60000). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

interface Slot { spec: string; t: Transport | null; retry: NodeJS.Timeout | null; delay: number; failures: number; lastError: string }

export class MultiLink implements Transport {
  readonly node: number;
  private slots: Slot[];
  private handler: ((src: number, f: Uint8Array) => void) | null = null;
  /** Node id -> index of the link it was last heard on. */
  private route = new Map<number, number>();
  private closed = false;
  private dead = emptyStats();
  /** The strictest of its links' (known from the specs, so the same before a link is up). */
  readonly layerHints: LayerHints | undefined;
  private layered = false;
  attachLayer(): void { this.layered = true; for (const s of this.slots) s.t?.attachLayer?.(); }
  /** A broadcast goes out on one link: once when every link is a bus (CAN) and no layer runs above. */
  get broadcastsOnce(): boolean { return !this.layered && this.o.specs.every((s) => !s.startsWith("serial:")); }

  private constructor(private o: MultiLinkOptions) {
    this.node = o.node;
    this.layerHints = mergeHints(o.specs.map(layerHintsOfSpec));
    this.slots = o.specs.map((spec) => ({ spec, t: null, retry: null, delay: o.backoffMs ?? 1000, failures: 0, lastError: "" }));
  }

  /** Tries every link once (in parallel); those that fail retry in the background. Never throws for a link that will not open. */
  static async open(o: MultiLinkOptions): Promise<MultiLink> {
    const m = new MultiLink(o);
    await Promise.all(m.slots.map((_, i) => m.tryOpen(i)));
    return m;
  }

  /** Links up now, by spec. */
  get up(): string[] { return this.slots.filter((s) => s.t).map((s) => s.spec); }
  /** Every link and its state, for status. */
  links(): { spec: string; up: boolean; failures: number; lastError: string }[] {
    return this.slots.map((s) => ({ spec: s.spec, up: !!s.t, failures: s.failures, lastError: s.lastError }));
  }
  /** One stats view per profile link, in profile order (zeros while it is down): LINK_TLM per link. */
  slotStats(): Transport[] {
    return this.slots.map((s) => ({ node: this.node, send: () => {}, onFrame: () => {}, close: async () => {}, stats: () => s.t?.stats() ?? emptyStats() }));
  }
  /** The transports of the links that are up (telemetry reports each). */
  transports(): Transport[] { return this.slots.flatMap((s) => (s.t ? [s.t] : [])); }

  private async tryOpen(i: number): Promise<void> {
    const s = this.slots[i];
    if (this.closed) return;
    s.retry = null;
    try {
      const t = await this.o.open(s.spec, this.node);
      if (this.closed) { await t.close(); return; }
      s.t = t;
      if (this.layered) t.attachLayer?.();
      s.delay = this.o.backoffMs ?? 1000;
      t.onFrame((src, f) => {
        this.route.set(src, i);
        this.handler?.(src, f);
      });
      if (s.failures) this.o.log?.(`link ${s.spec} up after ${s.failures} failed attempt(s)`);
      this.o.onLinkEvent?.({ type: "link-up", link: s.spec });
    } catch (e) {
      s.failures++;
      s.lastError = (e instanceof Error ? e.message : String(e)).replace(/\s*Retrying \(backoff[^)]*\) until it appears\.$/, "");
      const retryS = Math.max(1, Math.round(s.delay / 1000));
      // the first failure and then every tenth: a missing interface must not flood the log
      if (s.failures === 1 || s.failures % 10 === 0) this.o.log?.(`link ${s.spec} cannot be opened (${s.lastError}); retrying every ${retryS} s or more, the board runs on its other links`);
      this.o.onLinkEvent?.({ type: "link-down", link: s.spec, error: s.lastError, retryS });
      s.retry = setTimeout(() => { void this.tryOpen(i); }, s.delay);
      s.retry.unref?.();
      s.delay = Math.min(s.delay * 2, this.o.maxBackoffMs ?? 60_000);
    }
  }

  send(dst: number, f: Uint8Array): void {
    const r = this.route.get(dst);
    if (r !== undefined && this.slots[r].t) { this.slots[r].t!.send(dst, f); return; }
    const up = this.slots.filter((s) => s.t);
    if (!up.length) { this.dead.dropped["link-down"] = (this.dead.dropped["link-down"] ?? 0) + 1; return; }
    if (isMgmt(f)) for (const s of up) s.t!.send(dst, f);
    else up[0].t!.send(dst, f);
  }

  onFrame(h: (src: number, f: Uint8Array) => void): void { this.handler = h; }

  stats(): TransportStats {
    const out = emptyStats();
    for (const t of [...this.transports()]) {
      const s = t.stats();
      out.framesIn += s.framesIn; out.framesOut += s.framesOut; out.bytesIn += s.bytesIn; out.bytesOut += s.bytesOut;
      for (const [k, v] of Object.entries(s.dropped)) out.dropped[k] = (out.dropped[k] ?? 0) + v;
    }
    for (const [k, v] of Object.entries(this.dead.dropped)) out.dropped[k] = (out.dropped[k] ?? 0) + v;
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots) if (s.retry) clearTimeout(s.retry);
    await Promise.all(this.slots.map(async (s) => { if (s.t) { const t = s.t; s.t = null; await t.close(); } }));
  }
}
