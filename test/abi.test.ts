// host/core/abi.ts mirrors assembly/constants.ts: check that the two agree, so the
// facade can never drift from the core it drives.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EV, EW, FX, KIND, ROLE, RULES, STATUS, EVENT_WORDS, EFFECT_WORDS } from "../host/core/abi.ts";

const src = readFileSync(join(import.meta.dirname, "../assembly/constants.ts"), "utf8");
const core = new Map<string, number>();
for (const m of src.matchAll(/export const (\w+): [iu]32 = (-?\d+);/g)) core.set(m[1], Number(m[2]));

describe("abi.ts mirrors assembly/constants.ts", () => {
  it("parsed the core's constants", () => expect(core.size).toBeGreaterThan(80));
  for (const [prefix, table] of [["EV_", EV], ["EW_", EW], ["FX_", FX]] as const) {
    it(`${prefix}*`, () => {
      for (const [k, v] of Object.entries(table)) expect([`${prefix}${k}`, core.get(`${prefix}${k}`)]).toEqual([`${prefix}${k}`, v]);
      const inCore = [...core.keys()].filter((k) => k.startsWith(prefix));
      expect(inCore.length).toBe(Object.keys(table).length);
    });
  }
  it("KIND_*, ROLE_*, RULES_*", () => {
    for (const [k, v] of Object.entries(KIND)) expect(core.get(`KIND_${k.toUpperCase()}`)).toBe(v);
    for (const [k, v] of Object.entries(ROLE)) expect(core.get(`ROLE_${k.toUpperCase()}`)).toBe(v);
    for (const [k, v] of Object.entries(RULES)) expect(core.get(`RULES_${k.toUpperCase()}`)).toBe(v);
  });
  it("every status code the core can return has a message naming a field", () => {
    const codes = [...core.entries()].filter(([k]) => k.startsWith("E_"));
    for (const [name, code] of codes) {
      expect(STATUS[code], name).toBeDefined();
      expect(STATUS[code].name).toBe(name);
      expect(STATUS[code].field.length).toBeGreaterThan(0);
    }
  });
  it("record sizes", () => {
    expect(core.get("EVENT_WORDS")).toBe(EVENT_WORDS);
    expect(core.get("EFFECT_WORDS")).toBe(EFFECT_WORDS);
  });
});
