// Drives an UploadSender (host/board/upload.ts) over a GroundLink with real
// timers: asks the board what it holds (QUERY/HAVE), streams chunks within the
// window, retransmits after silence, and returns the board's verdict (RESULT).
// Interrupted uploads resume by running this again: the board keeps its partial
// file and answers HAVE with the bytes it holds.
import { M } from "../board/mgmt.ts";
import { UploadSender } from "../board/upload.ts";
import { DEFAULT_TIMEOUT_MS, fmtSeconds, NoReplyError, type GroundLink } from "./link.ts";

export interface UploadProgress {
  size: number;
  /** Contiguous bytes the board has acknowledged. */
  acked: number;
  /** Bytes the board already held when this run started. */
  resumedFrom: number;
  elapsedMs: number;
  /** Bytes per second acknowledged in this run. */
  rate: number;
  /** Estimated ms left, or null before there is a rate. */
  etaMs: number | null;
}

export interface UploadOptions {
  chunk?: number;
  window?: number;
  /** Silence after which unacknowledged chunks are sent again (default 1000 ms). */
  retransmitMs?: number;
  /** How long to wait for the board's first answer, and for any progress after it (default 5 s). */
  timeoutMs?: number;
  /** Called once the board has said how much it already holds. */
  onStart?: (p: UploadProgress) => void;
  /** Called whenever the board acknowledges more bytes. */
  onProgress?: (p: UploadProgress) => void;
  signal?: AbortSignal;
}

export interface UploadOutcome { ok: boolean; text: string; progress: UploadProgress; retransmitted: number }

export class UploadStalledError extends Error {
  constructor(message: string, readonly progress: UploadProgress) { super(message); this.name = "UploadStalledError"; }
}

export function uploadImage(link: GroundLink, image: Uint8Array, o: UploadOptions = {}): Promise<UploadOutcome> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retransmitMs = o.retransmitMs ?? Math.max(100, Math.min(1000, timeoutMs / 4));
  const sender = new UploadSender(image, o.chunk ?? 1024, o.window ?? 8, retransmitMs);
  const t0 = performance.now();
  let started = false;
  let lastChange = t0;
  let lastAcked = -1;
  let querySent = t0;

  const progress = (): UploadProgress => {
    const elapsedMs = performance.now() - t0;
    const acked = sender.ackedBytes;
    const resumedFrom = sender.stats.resumedFrom;
    const rate = elapsedMs > 0 ? ((acked - resumedFrom) * 1000) / elapsedMs : 0;
    const etaMs = rate > 0 ? ((image.length - acked) * 1000) / rate : null;
    return { size: image.length, acked, resumedFrom, elapsedMs, rate, etaMs };
  };

  return new Promise<UploadOutcome>((resolve, reject) => {
    const offs: (() => void)[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: Error | null, out?: UploadOutcome) => {
      if (timer) clearInterval(timer);
      for (const off of offs) off();
      o.signal?.removeEventListener("abort", onAbort);
      if (err) reject(err); else resolve(out!);
    };
    const send = (frames: Uint8Array[]) => { for (const f of frames) link.sendFrame(f); };
    const check = () => {
      if (sender.result) {
        return finish(null, { ok: sender.result.ok, text: sender.result.text, progress: progress(), retransmitted: sender.stats.retransmitted });
      }
      const acked = sender.ackedBytes;
      if (acked !== lastAcked) {
        lastAcked = acked;
        lastChange = performance.now();
        if (started) o.onProgress?.(progress());
      }
    };
    const onReply = (type: number) => (body: Uint8Array) => {
      const now = performance.now();
      let frames: Uint8Array[];
      try { frames = sender.onFrame(type, body, now); } catch { return; } // malformed reply: ignore, retransmission covers it
      if (type === M.HAVE && !started && !sender.result) {
        started = true;
        lastChange = now;
        lastAcked = sender.ackedBytes;
        o.onStart?.(progress());
      }
      send(frames);
      check();
    };
    for (const t of [M.HAVE, M.ACK, M.RESULT]) offs.push(link.on(t, onReply(t)));
    const onAbort = () => finish(new UploadStalledError(`upload interrupted at ${describe(progress())}; the board keeps what it has: run the same command again to resume`, progress()));
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener("abort", onAbort);

    timer = setInterval(() => {
      const now = performance.now();
      if (!started && !sender.result) {
        if (now - t0 >= timeoutMs) return finish(new NoReplyError(link.noReply(timeoutMs, "answer to the upload query")));
        if (now - querySent >= retransmitMs) { querySent = now; send(sender.start(now)); }  // the query or its answer was lost
        return;
      }
      send(sender.tick(now));
      check();
      if (now - lastChange >= timeoutMs) {
        const p = progress();
        const msg = p.acked >= p.size
          ? `board ${link.board} on ${link.spec} received all ${p.size} bytes but gave no verdict within ${fmtSeconds(timeoutMs)}; run the same command again to ask for it`
          : `upload stalled at ${describe(p)}: board ${link.board} on ${link.spec} acknowledged nothing for ${fmtSeconds(timeoutMs)}. The board keeps what it has: run the same command again to resume`;
        finish(new UploadStalledError(msg, p));
      }
    }, Math.max(5, Math.min(50, retransmitMs / 4)));
    send(sender.start(performance.now()));
  });
}

export const describe = (p: Pick<UploadProgress, "acked" | "size">): string =>
  `${p.acked} of ${p.size} bytes (${p.size ? Math.floor((p.acked * 100) / p.size) : 100}%)`;
