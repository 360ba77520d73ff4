// Reads a vitest JSON report (--reporter=json --outputFile.json=FILE) and prints
//   VITEST passed=P failed=F skipped=S total=T
// then, for every failed test or file, its name and the first lines of its error,
// and the names of the skipped tests. Exit 0 when nothing failed, at least one test
// passed and (with --no-skip) none was skipped; 1 otherwise; 2 when the report is
// missing or unreadable (vitest crashed before writing it).
// Used by scripts/qemu/arm-guest.sh (busybox sh has no JSON parser, and vitest's
// text summary "Tests  1 failed | 1 passed" is easy to misread with a regex).
//   node scripts/qemu/vitest-summary.cjs FILE [--no-skip] [--lines N]
"use strict";
const fs = require("fs");
const args = process.argv.slice(2);
const file = args[0];
const noSkip = args.includes("--no-skip");
const li = args.indexOf("--lines");
const maxLines = li >= 0 ? Number(args[li + 1]) : 12;
let r;
try {
  r = JSON.parse(fs.readFileSync(file, "utf8"));
} catch (e) {
  console.log(`VITEST no report: ${file}: ${e.message.split("\n")[0]} (vitest failed before writing it: see its output)`);
  process.exit(2);
}
const tests = (r.testResults ?? []).flatMap((f) => (f.assertionResults ?? []).map((a) => ({ file: f.name, ...a })));
const count = (s) => tests.filter((t) => s.includes(t.status)).length;
const passed = count(["passed"]), failed = count(["failed"]), skipped = count(["skipped", "pending", "todo", "disabled"]);
const badFiles = (r.testResults ?? []).filter((f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed"));
console.log(`VITEST passed=${passed} failed=${failed} skipped=${skipped} total=${tests.length}${badFiles.length ? ` failed-files=${badFiles.length}` : ""}`);
const clip = (s) => String(s).replace(/\x1b\[[0-9;]*m/g, "").split("\n").filter((l) => l.trim() && !/^\s*at .*(node_modules|node:internal|<anonymous>)/.test(l)).slice(0, maxLines).map((l) => `    ${l}`).join("\n");
for (const t of tests.filter((x) => x.status === "failed")) {
  console.log(`  FAILED: ${t.fullName ?? t.title}`);
  for (const m of t.failureMessages ?? []) console.log(clip(m));
}
for (const f of badFiles) console.log(`  FAILED FILE: ${f.name}\n${clip(f.message || "(no message)")}`);
for (const t of tests.filter((x) => ["skipped", "pending", "todo", "disabled"].includes(x.status))) console.log(`  skipped: ${t.fullName ?? t.title}`);
process.exit(failed === 0 && badFiles.length === 0 && passed > 0 && !(noSkip && skipped > 0) ? 0 : 1);
