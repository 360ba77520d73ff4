// gsu board --profile FILE: the board daemon (under systemd on a Pi or BeagleBone).
import { parseCommandArgs, UsageError } from "./args.ts";
import { loadProfile, ProfileError } from "../board/profile.ts";
import { BoardDaemon } from "../board/daemon.ts";
import { PlanError } from "../runtime/system.ts";

export const help = `Usage: gsu board --profile FILE [--system FILE] [--ground N] [--sim-devices HZ]

Runs this board: its components at their last committed versions (the profile's
versions until something is committed), over every link of its profile at once (a
link that will not open is reported as LINK_DOWN and retried with backoff). Serves the
ground: signed uploads (gsu upload), authenticated telecommands (gsu upgrade, commit,
abort, fault, status) and CCSDS telemetry (gsu telemetry).

Options:
  --profile FILE      the board profile (hardware/<board>/profile.json format)
  --system FILE       a multi-board deployment: a system file in examples/system.json's
                      format with 'boards' (name, node, components); this board runs
                      the components of the board whose node is the profile's
  --ground N          the ground's node id on the link (default 100)
  --sim-devices HZ    no hardware devices: feed the IMU with the demo's input at HZ
                      and record device outputs in STATE/devices.jsonl

Exit status: 2 on a bad profile or bad arguments (systemd does not restart then).`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { profile: { type: "string" }, system: { type: "string" }, ground: { type: "string" }, "sim-devices": { type: "string" } });
  if (!values.profile) throw new UsageError("--profile FILE is required (e.g. --profile hardware/raspberry-pi/profile.json)");
  let profile;
  try { profile = loadProfile(values.profile); } catch (e) {
    if (e instanceof ProfileError) throw new UsageError(e.message);
    throw e;
  }
  const ground = values.ground === undefined ? 100 : Number(values.ground);
  if (!Number.isInteger(ground) || ground < 0 || ground > 127) throw new UsageError(`--ground must be a node id in 0..127, not '${values.ground}'`);
  const hz = values["sim-devices"] === undefined ? 0 : Number(values["sim-devices"]);
  if (!(hz >= 0 && hz <= 1000)) throw new UsageError(`--sim-devices must be a rate in 0..1000 Hz, not '${values["sim-devices"]}'`);
  let d!: BoardDaemon;
  let again: () => void = () => {};
  const start = async () => {
    try {
      d = await BoardDaemon.start({ profile, systemFile: values.system, groundNode: ground, simDevicesHz: hz, log: (l) => console.log(`${profile.name}: ${l}`),
        // a commit adopted after a restart: start again from the store, in this process
        onRestart: (why) => { console.log(`${profile.name}: starting again (${why})`); again(); } });
    } catch (e) {
      if (e instanceof PlanError) throw new UsageError(e.message);
      throw e;
    }
    console.log(`${profile.name}: node ${profile.node} up; serving the ground (node ${ground})`);
  };
  await start();
  await new Promise<void>((resolve) => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => resolve());
    again = () => { setImmediate(async () => { await d.stop(); await start(); }); };
  });
  await d.stop();
  return 0;
}
