// The board daemon's side of the link layer (host/transport/reliable.ts): its
// incarnation (persisted, rising at every start), the layer set up from the
// profile and the system (peers, key, what is authenticated, the role table, the
// start-up hello), and the Transport the board runtime sees. docs/wire.md, "The
// link layer: reliable, ordered, authenticated".
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { LinkLayer, type LinkLayerEvent } from "../transport/reliable.ts";
import { loadLinkKey } from "../transport/auth.ts";
import type { Transport } from "../transport/types.ts";
import { PlanError, type SystemSpec } from "../runtime/system.ts";
import { roleCheck, wireSenders } from "../runtime/roles.ts";
import { checkHello, encodeHello, helloInfo } from "../runtime/startup.ts";
import type { BoardProfile } from "./profile.ts";

export const INCARNATION_FILE = "incarnation";

/**
 * This start's incarnation: above the last one persisted in STATE/incarnation and
 * at least the clock's seconds since 1970 (so a board whose state was wiped still
 * rises, if its clock is set), written durably before any frame is sent.
 */
export function nextIncarnation(stateDir: string, nowS = Math.floor(Date.now() / 1000)): number {
  const file = join(stateDir, INCARNATION_FILE);
  let last = 0;
  try {
    const t = readFileSync(file, "utf8").trim();
    if (/^\d{1,10}$/.test(t)) last = Number(t);
  } catch { /* first start */ }
  let inc = Math.max(last + 1, nowS);
  if (inc > 0xffffffff) inc = last + 1 <= 0xffffffff ? last + 1 : 1;
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, "w", 0o644);
  try { writeSync(fd, `${inc}\n`); fsyncSync(fd); } finally { closeSync(fd); }
  renameSync(tmp, file);
  const d = openSync(stateDir, "r");
  try { fsyncSync(d); } finally { closeSync(d); }
  return inc;
}

/** The board that runs recovery and commit rounds: the system file's first board (this board when it is alone). */
export function coordinatorOf(spec: SystemSpec): number { return spec.boards[0].node; }

export interface BoardLinkOptions {
  profile: BoardProfile;
  spec: SystemSpec;
  link: Transport;
  coordinator: number;
  onEvent: (e: LinkLayerEvent) => void;
  /** The versions of a commit this board voted for before it restarted, outcome unknown: peers running them are accepted too. */
  inDoubt?: Record<string, string>;
}

/** The link layer for a daemon, or null when the profile runs none (no key, linkReliable false). */
export function boardLinkLayer(o: BoardLinkOptions): LinkLayer | null {
  const p = o.profile;
  if (!p.linkKey && !p.linkReliable) return null;
  let key: Buffer | undefined;
  // a missing or bad key is a configuration error (exit 2: systemd does not restart)
  if (p.linkKey) { try { key = loadLinkKey(p.linkKey); } catch (e) { throw new PlanError(`${p.source}: linkKey: ${(e as Error).message}`); } }
  const spec = o.spec;
  return new LinkLayer(o.link, {
    peers: spec.boards.map((b) => b.node),
    // a state directory that already holds an incarnation: this run is not the board's first
    restarted: existsSync(join(p.stateDir, INCARNATION_FILE)),
    incarnation: nextIncarnation(p.stateDir),
    key,
    auth: p.linkAuth,
    hello: () => encodeHello(helloInfo(spec, p.node)),
    checkHello: (src, body) => {
      const why = checkHello(spec, p.node, src, body);
      if (!why || !o.inDoubt) return why;
      // a peer that committed the vote this board is in doubt about: it runs those versions
      const voted = { ...spec, components: Object.fromEntries(Object.entries(spec.components).map(([n, c]) => [n, o.inDoubt![n] ? { ...c, version: o.inDoubt![n] } : c])) };
      return checkHello(voted, p.node, src, body) === null ? null : why;
    },
    admit: roleCheck({ self: p.node, coordinator: o.coordinator, senderOfWire: wireSenders(spec) }),
    onEvent: o.onEvent,
  });
}
