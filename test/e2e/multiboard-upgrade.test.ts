// Several board daemons upgraded by telecommand, end to end, as a user does it: two
// `gsu board --system` processes (gnc: estimator, controller; io: sensor, fdir,
// telemetry) joined by a PTY serial link with the link layer and a deployment key,
// each also on a PTY of its own to the ground; every ground step is a `gsu` command.
// Upload v2 to gnc, `gsu upgrade` there: the upgrade round starts guarded operation on
// both boards at a quiescent point; a fault by telecommand is detected, both boards
// recover and the old versions take over; what the devices received on both boards
// equals a fault-free run of the old versions (nothing erroneous, lost or duplicated).
// Then upgrade again and `gsu commit`: the two-phase commit commits on both boards, and
// a restarted gnc runs v2.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PtyPair, socatMissing } from "../serial/socat.ts";
import { writeLinkKey } from "../../host/board/keys.ts";
import { runTestbed } from "../../host/sim/testbed.ts";
import { demoSystem } from "../../host/sim/demo-system.ts";
import { deviceLines, gsu, root, startDaemon, waitFor, type Daemon } from "./daemons.ts";

const BOARDS = { gnc: { node: 2, comps: ["estimator@1.0.0", "controller@1.0.0"] }, io: { node: 1, comps: ["sensor@1.0.0", "fdir@1.0.0", "telemetry@1.0.0"] } } as const;
type Name = keyof typeof BOARDS;

describe.skipIf(!!socatMissing)(`gsu upgrade on two board daemons${socatMissing ? `: skipped, ${socatMissing}` : ""}`, () => {
  const dir = mkdtempSync(join(tmpdir(), "gsu-mbu-"));
  const bus = new PtyPair(), toGnc = new PtyPair(), toIo = new PtyPair();
  const daemons: Partial<Record<Name, Daemon>> = {};
  const state = (b: Name) => join(dir, `state-${b}`);
  const ground = (b: Name) => ["--link", `serial:${(b === "gnc" ? toGnc : toIo).b}@115200`, "--board", String(BOARDS[b].node), "--timeout", "10", "--key", join(dir, "ground.key"), "--target", b];
  const all = () => Object.values(daemons).map((d) => `--- ${d!.name}\n${d!.out()}`).join("\n");
  const start = async (b: Name, env?: Record<string, string>) => {
    daemons[b] = await startDaemon(b, ["--profile", join(dir, `${b}.json`), "--system", join(dir, "system.json"), ...(b === "io" ? ["--sim-devices", "100"] : [])], 15_000, env);
  };
  const status = async (b: Name) => {
    const s = await gsu("status", ...ground(b), "--json");
    expect(s.status, s.stdout + s.stderr).toBe(0);
    return JSON.parse(s.stdout);
  };
  const expectExact = (b: Name, device: string, atLeast: number) => {
    const got = deviceLines(state(b)).filter((d) => d.device === device).map((d) => d.payload);
    expect(got.length, `${device} on ${b}`).toBeGreaterThanOrEqual(atLeast);
    const ref = runTestbed(demoSystem(), { seed: 0, steps: got.length + 10, reference: true }).devices;
    expect(got, `${device} on ${b}: equal to a fault-free run of the old versions, in order`).toEqual(ref.filter((d) => d.device === device).slice(0, got.length).map((d) => d.payload));
    return got.length;
  };

  beforeAll(async () => {
    expect((await gsu("keygen", "--name", "ground", "--out", dir)).status).toBe(0);
    const key = writeLinkKey("deploy", dir);
    await Promise.all([bus.up(), toGnc.up(), toIo.up()]);
    const sys = JSON.parse(readFileSync(join(root, "examples/system.json"), "utf8"));
    // gnc first: the system file's first board coordinates the rounds, and it hosts the cluster
    sys.boards = [{ name: "gnc", node: 2, components: ["estimator", "controller"] }, { name: "io", node: 1, components: ["sensor", "fdir", "telemetry"] }];
    writeFileSync(join(dir, "system.json"), JSON.stringify(sys));
    for (const b of ["gnc", "io"] as Name[]) {
      writeFileSync(join(dir, `${b}.json`), JSON.stringify({
        name: b, node: BOARDS[b].node, stateDir: state(b), components: BOARDS[b].comps, linkKey: key,
        links: [{ kind: "serial", path: b === "gnc" ? bus.b : bus.a, baud: 115200 }, { kind: "serial", path: (b === "gnc" ? toGnc : toIo).a, baud: 115200 }],
        trustedKeys: { ground: join(dir, "ground.pub") }, at: { commit: "manual" },
      }));
    }
    await start("gnc");
    // io crashes right after it votes ready in the first commit vote (the last test): it restarts in doubt
    await start("io", { GSU_TEST_KILL_AFTER_EVENT: "commit-voted" });
    await waitFor(() => /session with node 1 open/.test(daemons.gnc!.out()) && /session with node 2 open/.test(daemons.io!.out()), 15_000, "the boards' session", all);
    for (const c of ["estimator", "controller"]) {
      const s = await gsu("sign", "--key", join(dir, "ground.key"), "--component", `${c}@2.0.0`, "--out", join(dir, `${c}.gsui`));
      expect(s.status, s.stderr).toBe(0);
    }
  }, 60_000);
  afterAll(async () => {
    for (const d of Object.values(daemons)) d!.proc.kill("SIGKILL");
    await Promise.all([bus.dispose(), toGnc.dispose(), toIo.dispose()]);
  });

  const uploadAndUpgrade = async () => {
    for (const c of ["estimator", "controller"]) {
      const u = await gsu("upload", ...ground("gnc"), "--quiet", join(dir, `${c}.gsui`));
      expect(u.status, u.stdout + u.stderr).toBe(0);
    }
    const up = await gsu("upgrade", ...ground("gnc"), "estimator@2.0.0", "controller@2.0.0");
    expect(up.status, up.stdout + up.stderr).toBe(0);
    expect(up.stdout + up.stderr).toMatch(/upgrade round started/);
    // guarded operation runs on both boards once the round is through
    for (const b of ["gnc", "io"] as Name[]) {
      const t0 = Date.now();
      while (!(await status(b)).guarded) {
        if (Date.now() - t0 > 15_000) throw new Error(`${b} never entered guarded operation; waiting for: gnc ${JSON.stringify((await status("gnc")).waitingFor)}, io ${JSON.stringify((await status("io")).waitingFor)}\n${all()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };

  it("upload and upgrade on the coordinator: the round starts guarded operation on both boards; a fault by telecommand is recovered on both, exactly", async () => {
    await waitFor(() => deviceLines(state("gnc")).length > 30, 20_000, "the loop to run", all);
    await uploadAndUpgrade();
    const io = await status("io");
    expect(io.instances.map((i: { comp: string }) => i.comp).sort()).toEqual(["fdir", "sensor", "telemetry"]);
    const before = deviceLines(state("gnc")).length;
    const f = await gsu("fault", ...ground("gnc"), "--watch", "4", "estimator@0");
    expect(f.status, f.stdout + f.stderr).toBe(0);
    expect(f.stdout).toMatch(/AT_FAILED/);
    expect(f.stdout).toMatch(/TAKEOVER/);
    expect(f.stdout).toMatch(/RECOVERED/);
    await waitFor(() => /event recovered/.test(daemons.io!.out()), 15_000, "io to recover", all);
    for (const b of ["gnc", "io"] as Name[]) expect((await status(b)).guarded, b).toBe(false);
    const g = await status("gnc");
    expect(g.instances.filter((i: { comp: string }) => i.comp === "estimator").map((i: { version: string }) => i.version)).toEqual(["1.0.0"]);
    // the loop goes on after the takeover, and every device output is the old versions' own
    await waitFor(() => deviceLines(state("gnc")).length > before + 40, 20_000, "the loop after the takeover", all);
    expectExact("gnc", "wheel", before + 40);
    expectExact("io", "downlink", 40);
  }, 120_000);

  it("gnc killed (kill -9) during guarded operation: io ends guarded operation by recovery, gnc comes back with its committed versions, the loop runs on", async () => {
    await uploadAndUpgrade();
    daemons.gnc!.proc.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 300));
    await start("gnc");
    expect(daemons.gnc!.out()).toMatch(/estimator: running 1\.0\.0/);
    await waitFor(() => /node 2 restarted .*guarded operation ends by recovery/.test(daemons.io!.out()), 15_000, "io to see gnc's restart", all);
    for (const b of ["gnc", "io"] as Name[]) {
      const t0 = Date.now();
      while ((await status(b)).guarded) {
        if (Date.now() - t0 > 15_000) throw new Error(`${b} stayed in guarded operation after gnc's restart\n${all()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const w = deviceLines(state("gnc")).length, d = deviceLines(state("io")).length;
    await waitFor(() => deviceLines(state("gnc")).length > w + 30 && deviceLines(state("io")).length > d + 30, 20_000, "the loop after gnc's restart", all);
    expect(all()).not.toMatch(/component-trap/);
  }, 120_000);

  it("upgrade again and gsu commit: io votes ready and is killed before the commit reaches it; gnc commits, io restarts in doubt, adopts the commit and starts again on v2's versions; a restarted gnc runs v2 and rejoins", async () => {
    await uploadAndUpgrade();
    const c = await gsu("commit", ...ground("gnc"));
    expect(c.status, c.stdout + c.stderr).toBe(0);
    await waitFor(() => /commit: estimator, controller committed|commit: controller, estimator committed/.test(daemons.gnc!.out()), 15_000, "gnc to commit", all);
    // io died after its vote (its vote is on its disk); the coordinator resends the commit
    await waitFor(() => daemons.io!.proc.exitCode !== null || daemons.io!.proc.signalCode !== null, 10_000, "io to die after its vote", all);
    expect(daemons.io!.out()).not.toMatch(/event commit/);
    await start("io");
    // in doubt: it accepts gnc running the versions it voted for, hears the commit, records it and starts again
    await waitFor(() => /commit 1 was made while this board was down after voting for it: (estimator@2\.0\.0, controller@2\.0\.0|controller@2\.0\.0, estimator@2\.0\.0) committed; starting again on them/.test(daemons.io!.out()), 20_000, "io to adopt the commit", all);
    await waitFor(() => /starting again \(commit 1 adopted\)/.test(daemons.io!.out()) && (daemons.io!.out().match(/serving the ground/g) ?? []).length >= 2, 20_000, "io to start again", all);
    // the coordinator's resend is acknowledged: nothing waits for io any more
    const t0 = Date.now();
    while (JSON.stringify((await status("gnc")).waitingFor ?? []).includes("not acknowledged")) {
      if (Date.now() - t0 > 15_000) throw new Error(`gnc still waits for io's commit acknowledgement: ${JSON.stringify((await status("gnc")).waitingFor)}\n${all()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // gsu status shows what the rounds and the link layer did: the commit resent to io, its restarts
    const gs = await status("gnc");
    expect(gs.rounds.resends, JSON.stringify(gs.rounds)).toBeGreaterThan(0);
    expect(gs.layer.sessionResets, JSON.stringify(gs.layer)).toBeGreaterThan(0);
    const d = deviceLines(state("io")).length;
    await waitFor(() => deviceLines(state("io")).length > d + 30, 20_000, "the loop after io's restart", all);
    for (const b of ["gnc", "io"] as Name[]) expect((await status(b)).guarded, b).toBe(false);
    // a commit is not taken by io: it refuses it and names the coordinator
    const wrong = await gsu("commit", ...ground("io"));
    expect(wrong.status).not.toBe(0);
    daemons.gnc!.proc.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 300));
    await start("gnc");
    expect(daemons.gnc!.out()).toMatch(/estimator: running 2\.0\.0/);
    await waitFor(() => /session with node 1 open/.test(daemons.gnc!.out()), 15_000, "gnc to rejoin", all);
    const n = deviceLines(state("gnc")).length;
    await waitFor(() => deviceLines(state("gnc")).length > n + 30, 20_000, "the loop on v2 after the restart", all);
    expect((await status("gnc")).instances.find((i: { comp: string }) => i.comp === "estimator").version).toBe("2.0.0");

  }, 120_000);
});
