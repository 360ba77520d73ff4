// Scenario scripts with golden output. Rewrite them with: GSU_REWRITE=1 npx vitest run test/scenarios.test.ts
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runScript } from "./scenario-host.ts";

const dir = join(import.meta.dirname, "scenarios");
const rewrite = process.env.GSU_REWRITE === "1";

describe("scenario scripts", () => {
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".txt")).sort()) {
    it(f, () => {
      const path = join(dir, f);
      const text = readFileSync(path, "utf8");
      const { actual, mismatches } = runScript(text);
      if (rewrite) { writeFileSync(path, actual); return; }
      for (const m of mismatches) {
        expect(`${f}:${m.line}: ${m.command}\n${m.actual}`).toBe(`${f}:${m.line}: ${m.command}\n${m.expected}`);
      }
      expect(mismatches.length).toBe(0);
    });
  }
});
