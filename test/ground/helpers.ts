// Shared by the ground tests: keys on disk, a fake board on an in-memory link,
// and running a ground command in-process with captured output.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPublicKey, writeKeyPair } from "../../host/board/keys.ts";
import type { GroundIO } from "../../host/ground/cli.ts";
import { FakeBoard, memPair, type FakeBoardOptions } from "./fake-board.ts";

const made: string[] = [];
export const tmp = (what: string): string => {
  const d = mkdtempSync(join(tmpdir(), `gsu-ground-${what}-`));
  made.push(d);
  return d;
};
export const cleanup = (): void => { for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true }); };

/** DIR/NAME.key and DIR/NAME.pub, as gsu keygen writes them. */
export function keyFiles(dir: string, name: string): { key: string; pub: string } {
  const r = writeKeyPair(name, dir);
  return { key: r.keyFile, pub: r.pubFile };
}
export const trust = (...pubs: { name: string; pub: string }[]) => Object.fromEntries(pubs.map((p) => [p.name, loadPublicKey(p.pub)]));

export interface Run { status: number; out: string; err: string; opened: { spec: string; node: number }[] }

/**
 * Runs a ground command module in-process against a fresh FakeBoard (node
 * `boardNode`) on an in-memory link; the board's state (seqs, partial uploads)
 * lives in o.stateDir, so a second run sees what the first left.
 */
export async function runAgainst(
  mod: { run(argv: string[], io: GroundIO): Promise<number> },
  argv: string[],
  o: FakeBoardOptions & { boardNode?: number; groundNode?: number; tty?: boolean; noBoard?: boolean },
): Promise<Run & { board: FakeBoard }> {
  const { ground, board: bt } = memPair(o.groundNode ?? 100, o.boardNode ?? 1);
  const board = new FakeBoard(bt, o);
  if (o.noBoard) board.quiet = true;
  const r: Run = { status: -1, out: "", err: "", opened: [] };
  try {
    r.status = await mod.run(argv, {
      open: async (spec, node) => { r.opened.push({ spec, node }); return ground; },
      out: (s) => { r.out += s; },
      err: (s) => { r.err += s; },
      tty: o.tty ?? false,
      columns: 100,
      signal: new AbortController().signal,
    });
  } finally {
    board.close();
  }
  return { ...r, board };
}
