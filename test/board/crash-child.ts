// Child process for the kill -9 tests (store-crash.test.ts). Run as
//   node --import tsx test/board/crash-child.ts STATE_DIR FIXTURE_DIR [LABEL#N]
// Opens the store as a board daemon would (boot drops an uncommitted trial),
// installs estimator and controller 1.0.0 if nothing is committed, prints
// "ready", then upgrades/downgrades the pair 1.0.0 <-> 2.0.0 in a loop:
// stage both, activate both, commit (every fifth round: abort).
// With LABEL#N it SIGKILLs itself at the Nth time the store reaches LABEL
// (host/board/store.ts crash points) after "ready", and runs one round only.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadTrustedKeys } from "../../host/board/keys.ts";
import { examplesView } from "../../host/board/policy.ts";
import { SlotStore } from "../../host/board/store.ts";

const [dir, fx, crashAt] = process.argv.slice(2);
const [label, nth] = crashAt ? [crashAt.split("#")[0], Number(crashAt.split("#")[1] ?? 1)] : [null, 0];
let armed = false;
let seen = 0;
const crashPoint = (l: string) => {
  if (armed && l === label && ++seen === nth) process.kill(process.pid, "SIGKILL");
};
const trusted = loadTrustedKeys([join(fx, "ground-1.pub")]);
const img = (n: string, v: string) => readFileSync(join(fx, `${n}-${v}.gsui`));
const pair = ["estimator", "controller"];
const system = examplesView();

const s = SlotStore.open(dir, trusted, { crashPoint, chunk: 1024 });
s.boot();
if (!s.committedVersions().estimator) {
  for (const n of pair) s.stage(img(n, "1.0.0"), { allowDowngrade: true });
  s.activate(pair, { system });
  s.commit();
}
process.stdout.write("ready\n");
armed = true;
for (let round = 0; ; round++) {
  const next = s.committedVersions().estimator === "1.0.0" ? "2.0.0" : "1.0.0";
  for (const n of pair) s.stage(img(n, next), { allowDowngrade: true });
  s.activate(pair, { system });
  if (round % 5 === 4) s.abort(); else s.commit();
  if (label) break;
}
process.stdout.write("done\n");
