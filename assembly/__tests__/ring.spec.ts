import { Ring, alen, R_LEN, R_OFF, R_SEQ, REC_BYTES } from "../ring";

// Offset of record i's payload relative to the ring's byte area.
function offOf(r: Ring, i: u32): u32 { return load<u32>(r.at(i), R_OFF) - <u32>r.byteBase; }
function lenOf(r: Ring, i: u32): u32 { return load<u32>(r.at(i), R_LEN); }
function seqOf(r: Ring, i: u32): u32 { return load<u32>(r.at(i), R_SEQ); }
function offRel(r: Ring, rec: usize): u32 { return load<u32>(rec, R_OFF) - <u32>r.byteBase; }

describe("alen", () => {
  it("rounds up to 8 with a minimum of 8", () => {
    expect(alen(0)).toBe(8);
    expect(alen(1)).toBe(8);
    expect(alen(7)).toBe(8);
    expect(alen(8)).toBe(8);
    expect(alen(9)).toBe(16);
    expect(alen(17)).toBe(24);
    expect(alen(64)).toBe(64);
  });
});

describe("Ring.create", () => {
  it("starts empty and truncates the byte capacity to a multiple of 8", () => {
    const r = Ring.create(3, 30);
    expect(r.recCap).toBe(3);
    expect(r.byteCap).toBe(24);
    expect(r.count).toBe(0);
    expect(r.used).toBe(0);
    expect(r.head).toBe(0);
    expect(r.peak).toBe(0);
    expect(r.nextSeq).toBe(0);
  });
  it("gives two rings disjoint record and byte areas", () => {
    const a = Ring.create(2, 64);
    const b = Ring.create(2, 64);
    const aEnd = a.byteBase + 64, bEnd = b.byteBase + 64;
    expect(aEnd <= b.byteBase || bEnd <= a.byteBase).toBe(true);
    const arEnd = a.recBase + 2 * REC_BYTES, brEnd = b.recBase + 2 * REC_BYTES;
    expect(arEnd <= b.recBase || brEnd <= a.recBase).toBe(true);
    expect(arEnd <= a.byteBase || a.byteBase + 64 <= a.recBase).toBe(true);
  });
});

describe("Ring.push", () => {
  it("places payloads back to back at 8-byte aligned offsets", () => {
    const r = Ring.create(4, 64);
    const a = r.push(3), b = r.push(5), c = r.push(9);
    expect(a).not.toBe(0);
    expect(offRel(r, a)).toBe(0);
    expect(offRel(r, b)).toBe(8);
    expect(offRel(r, c)).toBe(16);
    expect(load<u32>(c, R_LEN)).toBe(9);
    expect(r.used).toBe(32);
    expect(r.count).toBe(3);
    expect(seqOf(r, 0)).toBe(0);
    expect(seqOf(r, 2)).toBe(2);
    expect(r.nextSeq).toBe(3);
  });
  it("charges 8 bytes for an empty payload", () => {
    const r = Ring.create(4, 64);
    expect(r.push(0)).not.toBe(0);
    expect(r.used).toBe(8);
    expect(offRel(r, r.push(0))).toBe(8);
  });
  it("zeroes the header it hands out", () => {
    const r = Ring.create(1, 16);
    const a = r.push(4);
    store<u32>(a, 77, 0);
    store<u32>(a, 99, 44);
    r.popFront();
    const b = r.push(4);
    expect(b).toBe(a);
    expect(load<u32>(b, 0)).toBe(0);
    expect(load<u32>(b, 44)).toBe(0);
    expect(load<u32>(b, R_SEQ)).toBe(1);
  });
  it("refuses when every record slot is used, even with bytes free", () => {
    const r = Ring.create(2, 64);
    expect(r.push(1)).not.toBe(0);
    expect(r.push(1)).not.toBe(0);
    expect(r.fit(1)).toBe(-1);
    expect(r.push(1)).toBe(0);
    expect(r.count).toBe(2);
    expect(r.used).toBe(16);
    expect(r.nextSeq).toBe(2);
  });
  it("refuses when the bytes are used, even with slots free", () => {
    const r = Ring.create(8, 32);
    expect(r.push(16)).not.toBe(0);
    expect(r.push(16)).not.toBe(0);
    expect(r.used).toBe(32);
    expect(r.push(0)).toBe(0);
    expect(r.count).toBe(2);
    expect(r.used).toBe(32);
  });
  it("refuses a payload larger than the whole byte area", () => {
    const r = Ring.create(8, 32);
    expect(r.fit(33)).toBe(-1);
    expect(r.push(33)).toBe(0);
    expect(r.fit(32)).toBe(0);
    const z = Ring.create(4, 7); // byteCap 0
    expect(z.byteCap).toBe(0);
    expect(z.push(0)).toBe(0);
  });
  it("tracks the peak of used bytes", () => {
    const r = Ring.create(4, 64);
    r.push(16); r.push(8);
    expect(r.peak).toBe(24);
    r.popFront();
    r.push(8);
    expect(r.used).toBe(16);
    expect(r.peak).toBe(24);
    r.push(24); r.push(8);
    expect(r.peak).toBe(48);
  });
});

describe("Ring wraparound", () => {
  it("wraps payloads to offset 0 and reuses record slots modulo recCap", () => {
    const r = Ring.create(4, 32);
    r.push(8); r.push(8); r.push(8); r.push(8);
    expect(r.fit(8)).toBe(-1);
    expect(r.popFront()).toBe(8);
    expect(r.head).toBe(1);
    expect(r.used).toBe(24);
    const e = r.push(8);
    expect(offRel(r, e)).toBe(0);
    expect(e).toBe(r.recBase); // slot (1 + 3) % 4 == 0
    expect(r.at(3)).toBe(r.recBase);
    expect(offOf(r, 0)).toBe(8);       // oldest is the second record pushed
    expect(seqOf(r, 0)).toBe(1);
    expect(seqOf(r, 3)).toBe(4);
    // wrapped and full: live bytes are [8, 32) and [0, 8)
    expect(r.fit(8)).toBe(-1);
    r.popFront();
    expect(r.head).toBe(2);
    expect(r.fit(8)).toBe(8);
    expect(r.fit(16)).toBe(-1);
    expect(offRel(r, r.push(8))).toBe(8);
    expect(r.used).toBe(32);
  });
  it("cannot use the tail gap left by a wrap until the oldest record leaves", () => {
    const r = Ring.create(4, 32);
    r.push(16); // [0,16)
    r.push(8);  // [16,24)
    r.popFront();
    const w = r.push(16); // does not fit in [24,32): wraps to 0
    expect(offRel(r, w)).toBe(0);
    expect(r.used).toBe(24);
    // [24,32) is free but lies behind the live bytes: no room
    expect(r.fit(8)).toBe(-1);
    expect(r.push(8)).toBe(0);
    expect(r.used).toBe(24);
    expect(r.popFront()).toBe(8);
    // unwrapped again: live bytes [0,16)
    expect(r.fit(16)).toBe(16);
  });
  it("keeps live payloads disjoint, aligned and in bounds over many cycles", () => {
    const r = Ring.create(5, 72);
    let seed: u32 = 12345;
    let pushed: u32 = 0;
    let ok = true;
    for (let step = 0; step < 2000; step++) {
      seed = seed * 1103515245 + 12345;
      const op = (seed >> 16) % 3;
      const n = (seed >> 8) % 30;
      if (op < 2) { if (r.push(n) != 0) pushed++; }
      else if (op == 2 && r.count > 0) { if ((seed & 1) == 0) r.popFront(); else r.popBack(); }
      // invariants
      let sum: u32 = 0;
      for (let i: u32 = 0; i < r.count; i++) {
        const o = offOf(r, i), l = alen(lenOf(r, i));
        sum += l;
        if ((o & 7) != 0 || o + l > r.byteCap) ok = false;
        for (let j: u32 = i + 1; j < r.count; j++) {
          const o2 = offOf(r, j), l2 = alen(lenOf(r, j));
          if (!(o + l <= o2 || o2 + l2 <= o)) ok = false;
          if (seqOf(r, j) <= seqOf(r, i)) ok = false;
        }
      }
      if (sum != r.used) ok = false;
      if (!ok) break;
    }
    expect(ok).toBe(true);
    expect(pushed).toBeGreaterThan(200);
    expect(r.nextSeq).toBe(pushed);
  });
});

describe("Ring.popFront / popBack / clear", () => {
  it("popFront returns the aligned size of the oldest and resets head when empty", () => {
    const r = Ring.create(3, 64);
    r.push(3); r.push(12);
    expect(r.popFront()).toBe(8);
    expect(r.used).toBe(16);
    expect(r.head).toBe(1);
    expect(lenOf(r, 0)).toBe(12);
    expect(r.popFront()).toBe(16);
    expect(r.count).toBe(0);
    expect(r.used).toBe(0);
    expect(r.head).toBe(0);
    expect(r.fit(8)).toBe(0);
  });
  it("popBack removes the newest, frees its bytes for the next push, keeps seq monotonic", () => {
    const r = Ring.create(4, 64);
    r.push(3); r.push(12); r.push(20);
    expect(r.used).toBe(48);
    expect(r.popBack()).toBe(24);
    expect(r.count).toBe(2);
    expect(r.used).toBe(24);
    expect(lenOf(r, 1)).toBe(12);
    const n = r.push(1);
    expect(offRel(r, n)).toBe(24);
    expect(load<u32>(n, R_SEQ)).toBe(3);
  });
  it("popBack to empty resets head", () => {
    const r = Ring.create(3, 64);
    r.push(8); r.push(8);
    r.popFront();
    expect(r.head).toBe(1);
    expect(r.popBack()).toBe(8);
    expect(r.count).toBe(0);
    expect(r.head).toBe(0);
    expect(r.used).toBe(0);
  });
  it("clear returns the bytes held and keeps nextSeq and peak", () => {
    const r = Ring.create(4, 64);
    r.push(1); r.push(9); r.push(0);
    expect(r.clear()).toBe(32);
    expect(r.count).toBe(0);
    expect(r.used).toBe(0);
    expect(r.head).toBe(0);
    expect(r.nextSeq).toBe(3);
    expect(r.peak).toBe(32);
    expect(r.clear()).toBe(0);
    expect(offRel(r, r.push(4))).toBe(0);
  });
});
