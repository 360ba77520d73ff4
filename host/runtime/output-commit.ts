// Output commit by identity: the last check before a device (docs/protocol.md "A board
// that crashes"). Every message a component sends on a port has a position: its step
// (the ABI's first u32) and its ordinal among that port's messages of that step. A
// device is given a message only if its position is past the last one it got from that
// component port (the mark), so a device never gets a message twice, however the message
// was produced again: a rollback's regeneration, a replay that a crash made inexact, a
// restarted board's fresh components fed old steps. The mark is written before the
// device is given the message (write-ahead, on the host's disk where it has one): a crash
// between the two loses that message, it never duplicates it.

/** A message's position in its sender's output on one port. */
export interface Mark { step: number; ord: number }

/** Where a board keeps its marks across a crash (a file in a daemon's state directory; the testbed's disk). */
export interface MarkStore {
  load(): Iterable<[string, Mark]>;
  save(key: string, mark: Mark): void;
}

/** The position of the next message of `step` on a port whose last message was at `last`. */
export function nextPos(last: Mark | undefined, step: number): Mark {
  return last && last.step === step ? { step, ord: last.ord + 1 } : { step, ord: 0 };
}

const after = (a: Mark, b: Mark): boolean => a.step > b.step || (a.step === b.step && a.ord > b.ord);

/** Shadow device outputs remembered per process for a resend at takeover (the core hands back only the bytes and its log index). */
const SHADOW_CAP = 4096;

export class OutputCommit {
  private marks = new Map<string, Mark>();
  private shadow = new Map<number, Map<number, Mark>>();

  constructor(private readonly store?: MarkStore) {
    if (store) for (const [k, m] of store.load()) this.marks.set(k, m);
  }

  /** The mark's key: a device and the component port that feeds it. */
  static key(device: string, comp: string, port: string): string { return `${device}<-${comp}.${port}`; }

  last(key: string): Mark | undefined { return this.marks.get(key); }

  /** Whether a message at `pos` would be new to the device. */
  isNew(key: string, pos: Mark): boolean {
    const last = this.marks.get(key);
    return !last || after(pos, last);
  }

  /**
   * Admits a message at `pos` for the device: null, and the mark moves to `pos` (on the
   * store first), or the reason it is held back. `earlierOnly`: hold back only an earlier
   * step (the printed rules, which keep their own output commit as the paper has it).
   */
  admit(key: string, pos: Mark, earlierOnly = false): null | { reason: "device-stale-step" | "device-repeat"; last: Mark } {
    const last = this.marks.get(key);
    if (last && pos.step < last.step) return { reason: "device-stale-step", last };
    if (last && !earlierOnly && !after(pos, last)) return { reason: "device-repeat", last };
    this.marks.set(key, pos);
    this.store?.save(key, pos);
    return null;
  }

  /** A shadow's suppressed device output, by its log index, for a resend. */
  rememberShadow(pid: number, index: number, pos: Mark): void {
    let m = this.shadow.get(pid);
    if (!m) this.shadow.set(pid, (m = new Map()));
    m.delete(index);
    m.set(index, pos);
    if (m.size > SHADOW_CAP) m.delete(m.keys().next().value!);
  }
  recallShadow(pid: number, index: number): Mark | undefined { return this.shadow.get(pid)?.get(index); }
  /** A guarded operation ended: the shadows' logs are gone. */
  forgetShadows(): void { this.shadow.clear(); }
}
