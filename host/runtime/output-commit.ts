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

/**
 * Where a board keeps its marks across a crash (a file in a daemon's state directory; the
 * testbed's disk). save() must copy what it keeps: the board changes its marks in place.
 */
export interface MarkStore {
  load(): Iterable<[string, Mark]>;
  save(key: string, mark: Mark): void;
}

const after = (step: number, ord: number, b: Mark): boolean => step > b.step || (step === b.step && ord > b.ord);

/** Shadow device outputs remembered per process for a resend at takeover (the core hands back only the bytes and its log index). */
const SHADOW_CAP = 4096;

/**
 * One shadow's remembered positions, by log index: a ring of SHADOW_CAP slots (slot = index
 * mod SHADOW_CAP; a newer index takes an older one's slot), so remembering allocates nothing.
 * A slot counts only if written in the ring's current generation (`gen`): forgetting them
 * all is one increment, not a pass over the ring, on a recovery's critical path.
 */
interface ShadowRing { gen: number; slotGen: Uint32Array; index: Float64Array; step: Uint32Array; ord: Uint32Array }

const emptyRing = (r: ShadowRing): void => { if (++r.gen > 0xffffffff) { r.gen = 1; r.slotGen.fill(0); } };

export class OutputCommit {
  private marks = new Map<string, Mark>();
  private shadow = new Map<number, ShadowRing>();

  constructor(private readonly store?: MarkStore) {
    if (store) for (const [k, m] of store.load()) this.marks.set(k, { step: m.step, ord: m.ord });
  }

  /** The mark's key: a device and the component port that feeds it. */
  static key(device: string, comp: string, port: string): string { return `${device}<-${comp}.${port}`; }

  last(key: string): Mark | undefined { return this.marks.get(key); }

  /** Whether a message at position (step, ord) would be new to the device. */
  isNew(key: string, step: number, ord: number): boolean {
    const last = this.marks.get(key);
    return !last || after(step, ord, last);
  }

  /**
   * Admits a message at position (step, ord) for the device: null, and the mark moves there
   * (on the store first; in place, no object per message), or the reason it is held back.
   * `earlierOnly`: hold back only an earlier step (the printed rules, which keep their own
   * output commit as the paper has it).
   */
  admit(key: string, step: number, ord: number, earlierOnly = false): null | { reason: "device-stale-step" | "device-repeat"; last: Mark } {
    let last = this.marks.get(key);
    if (last && step < last.step) return { reason: "device-stale-step", last: { ...last } };
    if (last && !earlierOnly && !after(step, ord, last)) return { reason: "device-repeat", last: { ...last } };
    if (!last) this.marks.set(key, (last = { step, ord }));
    else { last.step = step; last.ord = ord; }
    this.store?.save(key, last);
    return null;
  }

  /** A shadow's suppressed device output, by its log index, for a resend. */
  rememberShadow(pid: number, index: number, step: number, ord: number): void {
    let r = this.shadow.get(pid);
    if (!r) this.shadow.set(pid, (r = { gen: 1, slotGen: new Uint32Array(SHADOW_CAP), index: new Float64Array(SHADOW_CAP), step: new Uint32Array(SHADOW_CAP), ord: new Uint32Array(SHADOW_CAP) }));
    const k = index % SHADOW_CAP;
    r.slotGen[k] = r.gen; r.index[k] = index; r.step[k] = step; r.ord[k] = ord;
  }
  recallShadow(pid: number, index: number): Mark | undefined {
    const r = this.shadow.get(pid), k = index % SHADOW_CAP;
    return r && r.slotGen[k] === r.gen && r.index[k] === index ? { step: r.step[k], ord: r.ord[k] } : undefined;
  }
  /** A guarded operation ended: the shadows' logs are gone. */
  forgetShadows(): void { this.shadow.forEach(emptyRing); } // the rings stay: one guarded operation after another makes no new ones
}
