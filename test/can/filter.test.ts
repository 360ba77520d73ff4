// candump's receive filters with can-utils' semantics (candump.c's parsing and the kernel's
// CAN_RAW filter, af_can.c): a table of filters and frames, and gsu candump printing only
// what passes.
import { describe, expect, it } from "vitest";
import { CanFilterError, parseCandumpArg, passes } from "../../host/transport/can/filter.ts";
import { MockCanNetwork } from "../../host/transport/can/bus.ts";
import { candump } from "../../host/cli/candump.ts";

type F = { id: number; ext: boolean; rtr: boolean };
const sff = (id: number, rtr = false): F => ({ id, ext: false, rtr });
const eff = (id: number, rtr = false): F => ({ id, ext: true, rtr });
const show = (f: F) => `${f.ext ? f.id.toString(16).padStart(8, "0") : f.id.toString(16).padStart(3, "0")}${f.rtr ? "R" : ""}`;

// [argument, frame, passes?] — from candump's help and the kernel's matching rules
const TABLE: [string, F, boolean][] = [
  ["can0,123:7FF", sff(0x123), true],
  ["can0,123:7FF", sff(0x124), false],
  ["can0,123:7FF", sff(0x123, true), true],            // "including EFF and RTR frames"
  ["can0,123:7FF", eff(0x123), true],
  ["can0,123:7FF", eff(0x1abcd123), true],             // only the low 11 bits are compared
  ["can0,123:C00007FF", sff(0x123), true],             // "only SFF and non-RTR frames"
  ["can0,123:C00007FF", sff(0x123, true), false],
  ["can0,123:C00007FF", eff(0x123), false],
  ["can0,12345678:DFFFFFFF", eff(0x12345678), true],   // "only for extended CAN ID 12345678"
  ["can0,12345678:DFFFFFFF", eff(0x12345678, true), false],   // D = EFF|RTR flags in the mask: an RTR frame differs
  ["can0,12345678:DFFFFFFF", eff(0x12345679), false],
  ["can0,12345678:DFFFFFFF", sff(0x678), false],
  ["can0,12345678:1FFFFFFF", sff(0x678), true],        // no EFF flag in the mask: the kernel keeps 11 bits
  ["can0,12345678:1FFFFFFF", eff(0x00000678), true],
  ["can0,00000123:DFFFFFFF", sff(0x123), false],       // 8 digits: extended
  ["can0,00000123:DFFFFFFF", eff(0x123), true],
  ["can0,400:700", sff(0x4ab), true],
  ["can0,400:700", sff(0x5ab), false],
  ["can0,400~7F0", sff(0x405), false],                 // inverse
  ["can0,400~7F0", sff(0x415), true],
  ["can0,0~0", sff(0x123), false],                     // no data frames at all
  ["can0,0~0", eff(0x1fffffff), false],
  ["can0,0:0", eff(0x1fffffff), true],
  ["can0,123:7FF,456:7FF", sff(0x456), true],          // any of them
  ["can0,123:7FF,456:7FF", sff(0x457), false],
  ["can0,100:700,10:F0,j", sff(0x110), true],          // joined: all of them
  ["can0,100:700,10:F0,j", sff(0x120), false],
  ["can0,100:700,10:F0", sff(0x120), true],
  ["can0", eff(0x1abcdef0), true],                     // no filter: everything
  ["can0,#FFFFFFFF", sff(0x7ff), true],                // an error mask alone leaves data frames unfiltered
];

describe("candump filters (can-utils semantics)", () => {
  it.each(TABLE.map(([a, f, want]) => [a, show(f), want, f] as const))("%s on %s passes: %s", (arg, _s, want, f) => {
    expect(passes(parseCandumpArg(arg), f)).toBe(want);
  });

  it("parses the interface, join and error mask; an SLCAN spec keeps its path", () => {
    expect(parseCandumpArg("slcan:/dev/ttyACM0@500000,123:7FF,j,#000000FF")).toEqual({
      iface: "slcan:/dev/ttyACM0@500000", join: true, errorMask: 0xff, filters: [{ id: 0x123, mask: 0x7ff, invert: false }],
    });
    expect(parseCandumpArg("can0,12345678:DFFFFFFF").filters[0]).toEqual({ id: 0x92345678, mask: 0xdfffffff, invert: false });
  });

  it("a bad filter is refused with what to write", () => {
    for (const bad of ["can0,123", "can0,xyz:7FF", "can0,123:7FF:1", "can0,123456789:7FF", ",123:7FF"]) {
      expect(() => parseCandumpArg(bad), bad).toThrow(CanFilterError);
    }
    expect(() => parseCandumpArg("can0,123")).toThrow(/<can_id>:<can_mask>/);
  });

  it("gsu candump prints only the frames that pass", async () => {
    const net = new MockCanNetwork();
    const tx = net.attach("tx"), rx = net.attach("rx");
    const lines: string[] = [];
    const ac = new AbortController();
    const done = candump(rx, "can0", { out: (l) => lines.push(l), signal: ac.signal, filter: parseCandumpArg("can0,123:C00007FF,400:700") });
    for (const f of [sff(0x123), sff(0x124), eff(0x123), sff(0x4aa), sff(0x123, true)]) tx.send({ ...f, data: f.rtr ? new Uint8Array() : Uint8Array.of(1, 2) });
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    expect(await done).toBe(2);
    expect(lines.map((l) => l.trim().split(/\s+/)[1])).toEqual(["123", "4AA"]);
  });
});
