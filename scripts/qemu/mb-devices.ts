// The can-daemons check's device check (scripts/qemu/arm-host-can.sh), as
// test/e2e/multiboard-upgrade.test.ts makes it: what each board's devices received
// (STATE/devices.jsonl) equals, in order, a fault-free run of the old versions.
//   node --import tsx scripts/qemu/mb-devices.ts STATE DEVICE AT_LEAST [STATE DEVICE AT_LEAST]...
import { isDeepStrictEqual } from "node:util";
import { deviceLines } from "../../test/e2e/daemons.ts";
import { runTestbed } from "../../host/sim/testbed.ts";
import { demoSystem } from "../../host/sim/demo-system.ts";

const a = process.argv.slice(2);
let bad = 0;
for (let i = 0; i + 2 < a.length; i += 3) {
  const [state, device, atLeast] = [a[i], a[i + 1], Number(a[i + 2])];
  const got = deviceLines(state).filter((d) => d.device === device).map((d) => d.payload);
  const ref = runTestbed(demoSystem(), { seed: 0, steps: got.length + 10, reference: true }).devices
    .filter((d) => d.device === device).slice(0, got.length).map((d) => d.payload);
  const first = got.findIndex((g, j) => !isDeepStrictEqual(g, ref[j]));
  const ok = got.length >= atLeast && got.length === ref.length && first < 0;
  if (!ok) bad++;
  console.log(`${device} (${state}): ${got.length} outputs (at least ${atLeast}) ${ok ? "equal to a fault-free run of the old versions, in order" : `DIFFER: ${got.length < atLeast ? "too few" : first >= 0 ? `first at #${first}: got ${JSON.stringify(got[first])}, wanted ${JSON.stringify(ref[first])}` : `reference has ${ref.length}`}`}`);
}
process.exit(bad ? 1 : 0);
