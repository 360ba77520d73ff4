// gsu upgrade / commit / abort / fault / status against a fake board on an
// in-memory link: round trip, refusals with the board's reason, no reply,
// sequence numbers that persist across runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as upgrade from "../../host/cli/upgrade.ts";
import * as commit from "../../host/cli/commit.ts";
import * as abort from "../../host/cli/abort.ts";
import * as fault from "../../host/cli/fault.ts";
import * as status from "../../host/cli/status.ts";
import { main } from "../../host/cli/main.ts";
import { IoError, UsageError } from "../../host/cli/args.ts";
import { SeqStore } from "../../host/ground/seq.ts";
import { cleanup, keyFiles, runAgainst, tmp, trust } from "./helpers.ts";

afterAll(cleanup);

let keys: string, ground1: { key: string; pub: string }, rogue: { key: string; pub: string };
beforeAll(() => {
  keys = tmp("keys");
  ground1 = keyFiles(keys, "ground-1");
  rogue = keyFiles(keys, "rogue");
});
const trusted = () => trust({ name: "ground-1", pub: ground1.pub });
const LINK = ["--link", "serial:/dev/pts/3@115200"];

describe("telecommands", () => {
  it("upgrade: signed, sent to board 1 from node 100, accepted; the board's events are printed", async () => {
    const stateDir = tmp("board");
    const r = await runAgainst(upgrade, [...LINK, "--target", "testbed", "--key", ground1.key, "estimator@2.0.0", "controller@2.0.0"], {
      trusted: trusted(), stateDir,
      onTc: (tc, b) => {
        b.event(100, "UPGRADE_STARTED", { cluster: "estimator,controller" });
        return { status: 0, text: "guarded operation started" };
      },
    });
    expect(r.err).toBe("");
    expect(r.status).toBe(0);
    expect(r.opened).toEqual([{ spec: "serial:/dev/pts/3@115200", node: 100 }]);
    expect(r.board.commands).toHaveLength(1);
    expect(r.board.commands[0]).toMatchObject({ op: "upgrade", seq: 1, keyId: "ground-1", args: { components: { estimator: "2.0.0", controller: "2.0.0" } } });
    expect(Math.abs(r.board.commands[0].timeMs - Date.now())).toBeLessThan(10_000);
    expect(r.out).toMatch(/^event .* board 1 ACTIVITY_HI UPGRADE_STARTED: guarded operation starts, cluster estimator,controller$/m);
    expect(r.out).toMatch(/^event .* board 1 ACTIVITY_LO TELECOMMAND_ACCEPTED: telecommand upgrade accepted$/m);
    expect(r.out).toMatch(/^board 1 accepted upgrade #1 \(estimator@2\.0\.0, controller@2\.0\.0\): guarded operation started$/m);
  });

  it("commit, abort, fault and status carry their arguments; --board/--node/--key-id are honoured", async () => {
    const stateDir = tmp("board");
    const seen: unknown[] = [];
    const onTc = (tc: { op: string; args: unknown }) => {
      seen.push([tc.op, tc.args]);
      return tc.op === "status"
        ? { status: 0 as const, text: JSON.stringify({ node: 5, running: { estimator: "1.0.0" }, guarded: false, slots: { estimator: { a: "1.0.0", b: "2.0.0" } } }) }
        : { status: 0 as const, text: "" };
    };
    const o = { trusted: trust({ name: "ops", pub: ground1.pub }), stateDir, onTc, boardNode: 5, groundNode: 42 };
    const common = [...LINK, "--board", "5", "--node", "42", "--target", "testbed", "--key", ground1.key, "--key-id", "ops"];
    const c = await runAgainst(commit, common, o);
    expect(c.status, c.err).toBe(0);
    expect(c.out).toMatch(/^board 5 accepted commit #1$/m);
    expect((await runAgainst(abort, common, o)).status).toBe(0);
    const f = await runAgainst(fault, [...common, "estimator@120"], o);
    expect(f.out).toMatch(/board 5 accepted fault #3: estimator faults at step 120/);
    const s = await runAgainst(status, common, o);
    expect(s.status).toBe(0);
    expect(s.out).toContain("board 5 on serial:/dev/pts/3@115200:\n  node: 5\n  running: estimator=1.0.0\n  guarded: false\n  slots:\n    estimator: a=1.0.0, b=2.0.0\n");
    const j = await runAgainst(status, [...common, "--json"], o);
    expect(JSON.parse(j.out.slice(j.out.indexOf("{")))).toMatchObject({ node: 5, guarded: false });
    expect(seen).toEqual([["commit", {}], ["abort", {}], ["fault", { comp: "estimator", step: 120 }], ["status", {}], ["status", {}]]);
    expect(new SeqStore(`${ground1.key}.seq`).last("ops@testbed")).toBe(5);
  });

  it("a refused command exits 1 and prints the board's reason (unknown key)", async () => {
    const r = await runAgainst(commit, [...LINK, "--target", "testbed", "--key", rogue.key], { trusted: trusted(), stateDir: tmp("board") });
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/^gsu commit: board 1 refused commit #1: telecommand commit #1 is signed with key 'rogue', which this board does not trust; add its \.pub to the profile's keys\n$/);
    expect(r.out).toMatch(/TELECOMMAND_REFUSED: telecommand tc refused: unknown-key/);
    expect(r.board.guard.refused["unknown-key"]).toBe(1);
  });

  it("a forged command (the right key id, another key) is refused", async () => {
    const r = await runAgainst(abort, [...LINK, "--target", "testbed", "--key", rogue.key, "--key-id", "ground-1"], { trusted: trusted(), stateDir: tmp("board") });
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/refused abort #\d+: telecommand abort #\d+: signature does not match key 'ground-1'/);
  });

  it("a command the board accepts but cannot carry out (status 2) exits 1 with its reason", async () => {
    const r = await runAgainst(upgrade, [...LINK, "--target", "testbed", "--key", ground1.key, "estimator@3.0.0"], {
      trusted: trusted(), stateDir: tmp("board"),
      onTc: () => ({ status: 2, text: "estimator 3.0.0 is not staged; upload it first (gsu upload)" }),
    });
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/^gsu upgrade: board 1 accepted upgrade #\d+ but could not carry it out: estimator 3\.0\.0 is not staged; upload it first \(gsu upload\)\n$/);
  });

  it("no reply: exit 3 with what to check, after --timeout", async () => {
    const t0 = Date.now();
    const r = await runAgainst(commit, [...LINK, "--board", "3", "--target", "testbed", "--key", ground1.key, "--timeout", "0.3"], { trusted: trusted(), stateDir: tmp("board"), boardNode: 3, noBoard: true });
    expect(r.status).toBe(3);
    expect(r.err).toBe("gsu commit: no reply from board 3 on serial:/dev/pts/3@115200 within 0.3 s: is `gsu board` running with that link and node id?\n");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it("a board on another node id does not answer for board 1: no reply", async () => {
    const r = await runAgainst(commit, [...LINK, "--target", "testbed", "--key", ground1.key, "--timeout", "0.2"], { trusted: trusted(), stateDir: tmp("board"), boardNode: 2 });
    expect(r.status).toBe(3);
    expect(r.err).toMatch(/no reply from board 1 on serial:\/dev\/pts\/3@115200 within 0\.2 s/);
  });
});

describe("sequence numbers", () => {
  it("rise across runs, persist next to the key (temp + rename), and survive a board restart", async () => {
    const dir = tmp("seq");
    const k = keyFiles(dir, "ground-1");
    const stateDir = tmp("board");
    const o = { trusted: trust({ name: "ground-1", pub: k.pub }), stateDir };
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await runAgainst(commit, [...LINK, "--target", "testbed", "--key", k.key], o);   // a fresh FakeBoard each run, same state dir
      expect(r.status, r.err).toBe(0);
      seqs.push(r.board.commands[0].seq);
    }
    expect(seqs).toEqual([1, 2, 3]);
    expect(JSON.parse(readFileSync(`${k.key}.seq`, "utf8"))).toEqual({ "ground-1@testbed": 3 });
    expect(readdirSync(dir).sort()).toEqual(["ground-1.key", "ground-1.key.seq", "ground-1.pub"]);  // no temp or lock files left
  });

  it("a lost sequence file makes the board refuse the replayed number; the message says how to resync with --seq", async () => {
    const dir = tmp("seq");
    const k = keyFiles(dir, "ground-1");
    const o = { trusted: trust({ name: "ground-1", pub: k.pub }), stateDir: tmp("board") };
    for (let i = 0; i < 4; i++) expect((await runAgainst(commit, [...LINK, "--target", "testbed", "--key", k.key], o)).status).toBe(0);
    rmSync(`${k.key}.seq`);
    const r = await runAgainst(commit, [...LINK, "--target", "testbed", "--key", k.key], o);
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/refused commit #1: telecommand commit #1 from 'ground-1' is not newer than #4: replayed or reordered/);
    expect(r.err).toMatch(/last number for key id ground-1 and board testbed is 1 \(in .*ground-1\.key\.seq\).*pass --seq N/s);
    const again = await runAgainst(commit, [...LINK, "--target", "testbed", "--key", k.key, "--seq", "10"], o);
    expect(again.status, again.err).toBe(0);
    expect(again.out).toMatch(/accepted commit #10/);
    const next = await runAgainst(commit, [...LINK, "--target", "testbed", "--key", k.key], o);
    expect(next.out).toMatch(/accepted commit #11/);
  });

  it("a number is reserved before sending: a command with no reply still uses it up", async () => {
    const dir = tmp("seq");
    const k = keyFiles(dir, "ground-1");
    const o = { trusted: trust({ name: "ground-1", pub: k.pub }), stateDir: tmp("board") };
    expect((await runAgainst(commit, [...LINK, "--target", "testbed", "--key", k.key, "--timeout", "0.1"], { ...o, noBoard: true })).status).toBe(3);
    const r = await runAgainst(commit, [...LINK, "--target", "testbed", "--key", k.key], o);
    expect(r.out).toMatch(/accepted commit #2/);
  });

  it("a corrupt sequence file is reported with its path", async () => {
    const dir = tmp("seq");
    const k = keyFiles(dir, "ground-1");
    writeFileSync(`${k.key}.seq`, "{not json");
    const r = await runAgainst(commit, [...LINK, "--target", "testbed", "--key", k.key], { trusted: trust({ name: "ground-1", pub: k.pub }), stateDir: tmp("board") });
    expect(r.status).toBe(3);   // a local file that cannot be used: an I/O error
    expect(r.err).toMatch(/ground-1\.key\.seq is not JSON/);
    expect(r.board.commands).toHaveLength(0);
  });

  it("SeqStore: per key id, monotonic, explicit --seq", () => {
    const s = new SeqStore(join(tmp("seq"), "k.key.seq"));
    expect(s.last("a")).toBe(0);
    expect([s.next("a"), s.next("a"), s.next("b"), s.next("a")]).toEqual([1, 2, 1, 3]);
    expect(s.next("a", 100)).toBe(100);
    expect(s.next("a")).toBe(101);
    expect(s.next("a", 5)).toBe(5);        // sent as asked, but the stored number does not go down
    expect(s.next("a")).toBe(102);
    expect(s.read()).toEqual({ a: 102, b: 1 });
    expect(existsSync(`${s.file}.lock`)).toBe(false);
  });
});

describe("bad arguments exit 2 (no link opened)", () => {
  const usage = async (mod: { run(a: string[], io: never): Promise<number> }, argv: string[], msg: RegExp) => {
    await expect(mod.run(argv, { open: () => { throw new Error("opened a link"); } } as never)).rejects.toThrow(UsageError);
    await expect(mod.run(argv, { open: () => { throw new Error("opened a link"); } } as never)).rejects.toThrow(msg);
  };
  it("names what is at fault", async () => {
    await usage(upgrade, ["--target", "testbed", "--key", ground1.key, "estimator@2.0.0"], /--link SPEC is required/);
    await usage(upgrade, [...LINK, "estimator@2.0.0"], /--key FILE is required/);
    await usage(upgrade, [...LINK, "--target", "testbed", "--key", ground1.key], /name the components/);
    await usage(upgrade, [...LINK, "--target", "testbed", "--key", ground1.key, "estimator"], /must look like estimator@2\.0\.0/);
    await usage(upgrade, [...LINK, "--target", "testbed", "--key", ground1.key, "estimator@2.0.0", "estimator@2.1.0"], /estimator is named twice/);
    // a key file that is not there is an I/O error (exit 3), not bad usage
    await expect(commit.run([...LINK, "--target", "testbed", "--key", join(keys, "missing.key")], { open: () => { throw new Error("opened a link"); } } as never)).rejects.toThrow(IoError);
    await expect(commit.run([...LINK, "--target", "testbed", "--key", join(keys, "missing.key")], { open: () => { throw new Error("opened a link"); } } as never)).rejects.toThrow(/--key: cannot read key .*missing\.key: ENOENT/);
    await usage(commit, [...LINK, "--target", "testbed", "--key", ground1.key, "--board", "300"], /--board must be a node id/);
    await usage(commit, [...LINK, "--target", "testbed", "--key", ground1.key, "--board", "100"], /--board and --node are both 100/);
    await usage(commit, [...LINK, "--target", "testbed", "--key", ground1.key, "--timeout", "0"], /--timeout must be a number of seconds above 0/);
    await usage(commit, [...LINK, "--target", "testbed", "--key", ground1.key, "now"], /commit takes no arguments/);
    await usage(fault, [...LINK, "--target", "testbed", "--key", ground1.key, "estimator"], /must look like estimator@120/);
    await usage(fault, [...LINK, "--target", "testbed", "--key", ground1.key, "--seq", "0", "estimator@1"], /--seq must be an integer/);
  });
  it("through main(): exit 2 for usage errors, 0 for --help", async () => {
    expect(await main(["commit", "--link", "can0", "--bogus"])).toBe(2);
    expect(await main(["upgrade", "--link", "serial:/dev/null"])).toBe(2);
    expect(await main(["commit", "--help"])).toBe(0);
    expect(await main(["telemetry", "--link", "sim", "--duration", "1"])).toBe(2);   // --duration is for real links
    expect(await main(["telemetry", "--link", "can0", "--speed", "2"])).toBe(2);     // a real link runs in real time
  });
  it("a device that cannot be opened: exit 3 with the transport's reason and no promise to retry", async () => {
    const { openLink } = await import("../../host/transport/open.ts");
    let err = "";
    const st = await commit.run(["--link", "serial:/nonexistent/ttyUSB9@115200", "--target", "testbed", "--key", ground1.key], {
      open: (spec: string, node: number) => openLink(spec, node), out: () => {}, err: (s) => { err += s; }, tty: false, signal: new AbortController().signal,
    });
    expect(st).toBe(3);
    expect(err).toMatch(/^gsu commit: cannot open the link serial:\/nonexistent\/ttyUSB9@115200: serial \/nonexistent\/ttyUSB9: cannot open \(.*\); check that the cable or USB adapter is plugged in and the path is right \(ls \/dev\/serial\/by-id\/\)\.\n$/);
  });

  it("a bad link spec is a usage error", async () => {
    const { openLink } = await import("../../host/transport/open.ts");
    await expect(commit.run([...LINK.slice(0, 1), "serial:/dev/ttyUSB0", "--target", "testbed", "--key", ground1.key], {
      open: (spec: string, node: number) => openLink(spec, node), out: () => {}, err: () => {}, tty: false, signal: new AbortController().signal,
    })).rejects.toThrow(/write serial:PATH@BAUD/);
  });
});
