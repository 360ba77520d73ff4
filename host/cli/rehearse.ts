// gsu rehearse: the upgrade rehearsal on the simulated testbed (npm start).
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { IoError, parseCommandArgs, UsageError } from "./args.ts";
import { glossaryText } from "../report/glossary.ts";
import { compareDevices, runTestbed, type RunOptions } from "../sim/testbed.ts";
import type { SimLinkFaults } from "../sim/sim-links.ts";
import { judge, reference as referenceDevices } from "../sim/property.ts";
import { firstErroneous, summarize, textReport, writeHtmlReport } from "../report/rehearsal.ts";
import { isSystemName, loadSystemByName, SYSTEMS, unknownSystem } from "../sim/systems.ts";
import { reportRetention, TraceWriter } from "./trace-stream.ts";
import { PlanError } from "../runtime/system.ts";
import type { Rules } from "../core/core.ts";

export const help = `Usage: gsu rehearse [options]

Upgrades the demo attitude-control loop (estimator and controller v1 -> v2, an
interface change from Euler angles to quaternions) on a simulated testbed of three
boards, injects a design fault into the new version, and shows the protocol
contain it: detection by an acceptance test, rollback, the old versions take over.
Devices must see exactly what a fault-free run of the old versions produced.

Options:
  --seed N              seed for link latencies and interleaving (default 1)
  --steps N             control steps to run (default 200)
  --fault COMP@STEP     inject a persistent fault into COMP's new version from STEP
                        (1..--steps, not before --upgrade-at). Default: the demo's
                        estimator (elsewhere the upgrade plan's first member whose fault
                        takes effect) at 60% of the steps, after the upgrade: estimator@120
                        for 200 steps
  --no-fault            run the upgrade with no fault
  --reference           run only the old versions, with no upgrade
  --upgrade-at STEP     upgrade while the system runs, at a quiescent point after STEP:
                        inputs pause, links drain, the new versions start from the old
                        ones' state (default 30; 0: before the first step). With
                        --links the boards find the quiescent point themselves (the
                        upgrade round: hold inputs, drain links, transfer state, go);
                        without --upgrade-at they upgrade before the first step.
  --rules paper|safe|folded
                        the printed rules of the paper, or the fixed rules (default safe);
                        see docs/protocol.md
  --commit-after N      commit automatically after N passed ATs with no failure
  --latency MIN..MAX    link latency range in microseconds (default 50..2000)
  --system NAME         ${Object.keys(SYSTEMS).join(" | ")} | mesh-N | meshc-N | gen-N | genx-N
                        (default demo; mesh-N and gen-N are generated topologies, genx-N
                        gen-N's with the cluster's members on several boards, see
                        docs/evidence-rules.md and host/sim/gen-system.ts)
  --config FILE         rehearse your own system: a system file naming each component
                        version's manifest and wasm (paths relative to the file), the
                        devices and their generated inputs, links, boards and the upgrade
                        (docs/system-file.md; build the wasm with gsu build-component).
                        Without --fault, the first upgraded component with a gsu_fault hook
                        takes a fault at 60% of the steps. A file without "components"
                        uses the examples' components (examples/system.json's format).
  --links sim|pty|slcan-pty|vcan|socketcan:IF[,IF...]
                        sim (default): every board in this process on the simulated
                        network; pty: each board its own OS process on a serial bus of
                        pseudo-terminals; slcan-pty: the same over SLCAN (CAN through
                        USB-CAN adapters, emulated on pseudo-terminals); vcan: SocketCAN
                        vcan0 (Linux with CAN; see scripts/qemu/); socketcan:can0,can1:
                        SocketCAN interfaces on one CAN bus, board i on the i-th (round
                        robin; e.g. two controllers wired together)
  --can-mode compact|fd|fd+compact
                        with --links slcan-pty, vcan or socketcan: every board's CAN link in that
                        mode (compact transfers, CAN FD; docs/wire.md "CAN modes per link")
  --link-loss P         lose each frame between boards with probability P (e.g. 0.2)
  --link-dup P          duplicate each frame with probability P
  --link-corrupt P      damage each frame's bits with probability P: the link's frame
                        check drops it (serial: CRC-32 of the framing; CAN: CRC-15)
  --no-ride             a passed AT's bound always in a passedAt frame of its own, never
                        riding on an application frame (the schedules found before bounds
                        rode: docs/wire.md "A passed-AT bound riding"); in-process only
  --partition BOARD@FROM..TO
                        cut BOARD off from every other board from step FROM to step TO
                        (repeatable). With any link fault every board runs the link layer
                        (sequence numbers, acks, retransmission: docs/wire.md), the rounds
                        resend (docs/protocol.md "Rounds that survive loss"), and the
                        devices must still get exactly the reference run's messages
  --crash BOARD@STEP[:vote]
                        BOARD crashes after step STEP (everything in its memory lost) and
                        restarts 5 steps later with its committed versions (repeatable);
                        guarded operation ends by recovery on every board. The verdict:
                        exact before the crash, nothing derived from the fault, no
                        duplicate, only the steps while it was down lost, devices served
                        again after (docs/protocol.md "A board that crashes"). Over
                        real links the board's process is killed with -9 and started
                        again with its state directory. :vote: instead,
                        right after the board's first commit vote from step STEP on; it
                        restarts in doubt and adopts the commit the others made (the
                        coordinator, which does not vote: right after its commit decision;
                        it restarts knowing it, from its disk)
  --period MS           with --links other than sim: wall-clock ms between input steps
                        (default 4; raise it on slow machines, e.g. under emulation)
  --timeout S           with --links other than sim: seconds to wait, after the last input,
                        for every device message (default: 3 x steps x period, at least 30)
  --candump FILE        record the bus traffic as a candump -L log (sim and slcan-pty)
  --trace FILE          write JSON Lines: every device delivery as
                        {"type":"device","device":...,"payload":"<hex>"} in order, plus protocol events
  --json                print the summary as JSON and nothing else on stdout
  --html FILE           write the HTML report there (default gsu-rehearsal.html; --html - to skip)

A run that tests nothing fails: a fault that never takes effect (or, over real links,
is never detected), or no device receiving any message.

Terms in the report (also in the HTML report's legend):
${glossaryText()}

Exit status: 0 when the run met its oracle, 1 when it did not (or tested nothing),
2 on bad or contradictory arguments, 3 when a link or interface is missing (vcan0).`;

const DETECTED = new Set(["at-failed", "memory-full", "component-trap"]);
/** The boards a run's trace shows crashing (untested: a requested crash must have happened). */
const crashedBoards = (trace: readonly { type: string; board?: string }[]): string[] => trace.filter((e) => e.type === "crash").map((e) => e.board!);

/**
 * Why a finished rehearsal tested nothing, if it did not: its fault never took effect
 * (faultActive: ground truth of the in-process testbed) or was never detected (multi-process
 * runs, which have no ground truth), or no device received a message (nothing to compare).
 * Each reason makes the verdict FAIL.
 */
export function untested(o: { fault: { comp: string; step: number } | null; steps: number; devices: number; faultActive?: boolean; detected: boolean; ended?: string;
  /** --crash requests, and the boards the run's trace shows crashing */
  crashes?: { board: string; step: number; atVote?: boolean }[]; crashed?: string[] }): string[] {
  const why: string[] = [];
  for (const c of o.crashes ?? []) {
    if (o.crashed?.includes(c.board)) continue;
    why.push(`untested: the crash ${c.board}@${c.step}${c.atVote ? ":vote" : ""} never happened${c.atVote ? ` (${c.board} never voted in, or decided, a commit from step ${c.step} on${o.ended && o.ended !== "commit" ? `; guarded operation ended by ${o.ended}` : ""})` : ""}, so the rehearsal did not test it; ${c.atVote ? "let a commit come (--commit-after N, --no-fault or a later fault)" : "give an earlier step"}`);
  }
  if (o.devices === 0) why.push(`untested: no device received a message in ${o.steps} steps, so there was nothing to compare with the reference run; check the system's links to its output devices, or run more --steps`);
  if (o.fault && o.faultActive === false) {
    why.push(`untested: the fault ${o.fault.comp}@${o.fault.step} never took effect in ${o.steps} steps (no state derived from it${o.ended === "recovery" || o.ended === "commit" ? `; guarded operation had ended by ${o.ended} before it` : ""}), so the rehearsal did not test it; give an earlier fault step, another --fault component, or --no-fault`);
  } else if (o.fault && o.faultActive === undefined && !o.detected) {
    why.push(`untested: the fault ${o.fault.comp}@${o.fault.step} was never detected in ${o.steps} steps (no failed AT, no rollback), so the rehearsal showed no recovery; run more --steps or give an earlier fault step`);
  }
  return why;
}

/**
 * --links vcan needs the SocketCAN interface vcan0 up: say so at once (exit 3) rather than
 * start board processes that wait for it.
 */
export function checkVcan(iface = "vcan0", sysfs = "/sys/class/net", option = "--links vcan"): void {
  const how = `create it (Linux, as root): modprobe vcan && ip link add dev ${iface} type vcan && ip link set up ${iface}; or rehearse over --links pty or slcan-pty (no kernel CAN needed), or under QEMU (scripts/qemu/)`;
  let flags: string;
  try { flags = readFileSync(`${sysfs}/${iface}/flags`, "utf8"); } catch {
    throw new IoError(`${option} needs the SocketCAN interface ${iface}, and this machine has none (no ${sysfs}/${iface}); ${how}`);
  }
  if (!(Number(flags.trim()) & 1)) throw new IoError(`${option}: the interface ${iface} is down; bring it up (as root): ip link set up ${iface}`);
}

/** COMPONENT@STEP (--fault) and BOARD@STEP (--crash). */
const NAME_AT_STEP = /^([A-Za-z_][\w-]*)@(\d+)$/;

function prob(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^(0(\.\d+)?|\.\d+)$/.test(v) || !(Number(v) < 1)) throw new UsageError(`--${name} must be a per-frame probability from 0 to below 1 (e.g. 0.05), not '${v}'`);
  return Number(v);
}

/** --link-loss, --link-dup, --link-corrupt, --partition BOARD@FROM..TO (repeatable): faults on every link between boards; null without any. */
function parseLinkFaults(v: { "link-loss"?: string; "link-dup"?: string; "link-corrupt"?: string; partition?: string[] }): SimLinkFaults | null {
  const loss = prob("link-loss", v["link-loss"]), dup = prob("link-dup", v["link-dup"]), corrupt = prob("link-corrupt", v["link-corrupt"]);
  const partitions = (v.partition ?? []).flatMap((s) => s.split(",")).filter(Boolean).map((s) => {
    const m = /^([A-Za-z_][\w-]*)@(\d+)\.\.(\d+)$/.exec(s);
    if (!m || Number(m[2]) >= Number(m[3])) throw new UsageError(`--partition must look like BOARD@FROM..TO with FROM < TO, in steps (e.g. gnc@100..140), not '${s}'`);
    return { board: m[1], fromStep: Number(m[2]), toStep: Number(m[3]) };
  });
  if (loss === undefined && dup === undefined && corrupt === undefined && !partitions.length) return null;
  return { loss, dup, corrupt, partitions };
}

function int(name: string, v: string | undefined, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer >= ${min}, not '${v}'`);
  return Number(v);
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    seed: { type: "string" }, steps: { type: "string" }, fault: { type: "string" }, "no-fault": { type: "boolean" },
    reference: { type: "boolean" }, rules: { type: "string" }, "upgrade-at": { type: "string" }, "commit-after": { type: "string" },
    latency: { type: "string" }, system: { type: "string" }, config: { type: "string" }, trace: { type: "string" }, json: { type: "boolean" },
    html: { type: "string" }, links: { type: "string" }, candump: { type: "string" }, period: { type: "string" }, timeout: { type: "string" }, "can-mode": { type: "string" },
    "link-loss": { type: "string" }, "link-dup": { type: "string" }, "link-corrupt": { type: "string" }, partition: { type: "string", multiple: true }, crash: { type: "string", multiple: true },
    "no-ride": { type: "boolean" },
  });
  const links = values.links ?? "sim";
  // socketcan:IF[,IF...]: SocketCAN interfaces on one bus (the emulated Pi's can0 and can1), board i on the i-th
  const socketcan = /^socketcan:([A-Za-z0-9_.-]+(?:,[A-Za-z0-9_.-]+)*)$/.exec(links)?.[1].split(",");
  if (!["sim", "pty", "slcan-pty", "vcan"].includes(links) && !socketcan) throw new UsageError(`--links must be sim, pty, slcan-pty, vcan or socketcan:IF[,IF...] (e.g. socketcan:can0,can1), not '${links}'`);
  if (links === "vcan") checkVcan();
  for (const i of socketcan ?? []) checkVcan(i, undefined, `--links ${links}`);
  const canMode = values["can-mode"] as "compact" | "fd" | "fd+compact" | undefined;
  if (canMode !== undefined && !["classic", "compact", "fd", "fd+compact"].includes(canMode)) throw new UsageError(`--can-mode must be classic, compact, fd or fd+compact, not '${canMode}'`);
  if (canMode !== undefined && links !== "slcan-pty" && links !== "vcan" && !socketcan) throw new UsageError(`--can-mode needs CAN links between board processes: --links slcan-pty, vcan or socketcan:IF,..., not ${links}`);
  const seed = int("seed", values.seed, 1);
  const steps = int("steps", values.steps, 200, 1);
  const rules = (values.rules ?? "safe") as Rules;
  if (!["paper", "safe", "folded"].includes(rules)) throw new UsageError(`--rules must be paper, safe or folded, not '${values.rules}'`);
  if (values.fault && values["no-fault"]) throw new UsageError("--fault and --no-fault cannot be used together");
  let fault: RunOptions["fault"] = null;
  const faultGiven = values.fault !== undefined;
  if (faultGiven && values.reference) throw new UsageError("--fault and --reference cannot be used together (a reference run has no upgrade to fault)");
  if (faultGiven) {
    const m = NAME_AT_STEP.exec(values.fault!);
    if (!m) throw new UsageError(`--fault must look like COMPONENT@STEP (e.g. estimator@120), not '${values.fault}'`);
    fault = { comp: m[1], step: Number(m[2]) };
  }
  let latency = { min: 50, max: 2000 };
  if (values.latency) {
    const m = /^(\d+)\.\.(\d+)$/.exec(values.latency);
    if (!m || Number(m[1]) > Number(m[2])) throw new UsageError(`--latency must be MIN..MAX in microseconds with MIN <= MAX, not '${values.latency}'`);
    latency = { min: Number(m[1]), max: Number(m[2]) };
  }
  if (values["upgrade-at"] !== undefined && values.reference) throw new UsageError("--upgrade-at and --reference cannot be used together (a reference run has no upgrade)");
  const upgradeGiven = int("upgrade-at", values["upgrade-at"], 30);
  if (values["upgrade-at"] !== undefined && upgradeGiven >= steps) {
    throw new UsageError(`--upgrade-at ${upgradeGiven} is not before the last step (--steps ${steps}): the upgrade happens after step ${upgradeGiven}, so the new versions would never run; give --upgrade-at below ${steps} or more --steps`);
  }
  // the multi-process rehearsals upgrade before the first step unless --upgrade-at is given
  // (then the boards' own upgrade round finds the quiescent point); with the default
  // --upgrade-at and an earlier --fault step, the upgrade comes just before the fault
  let upgradeAt = links !== "sim" && values["upgrade-at"] === undefined ? 0 : Math.min(upgradeGiven, steps - 1);
  if (fault && values["upgrade-at"] === undefined && fault.step <= upgradeAt) upgradeAt = Math.max(0, fault.step - 1);
  const linkFaults = parseLinkFaults(values);
  const crashes = (values.crash ?? []).flatMap((x) => x.split(",")).filter(Boolean).map((x) => {
    const vote = x.endsWith(":vote");
    const m = NAME_AT_STEP.exec(vote ? x.slice(0, -5) : x);
    if (!m || Number(m[2]) < 1) throw new UsageError(`--crash must look like BOARD@STEP (the board crashes after step STEP and restarts 5 steps later) or BOARD@STEP:vote (right after its first commit vote, or the coordinator's decision, from step STEP on), not '${x}'`);
    return vote ? { board: m[1], step: Number(m[2]), atVote: true } : { board: m[1], step: Number(m[2]) };
  });
  const commitAfter = values["commit-after"] !== undefined ? int("commit-after", values["commit-after"], 0, 1) : undefined;
  const sysName = values.system ?? "demo";
  if (!isSystemName(sysName)) throw new UsageError(unknownSystem(sysName));
  let sys;
  let user: import("../sim/config-system.ts").ConfigSystem | undefined;
  try {
    if (values.config) {
      if (values.system) throw new UsageError("--config and --system cannot be used together");
      const cfg = await import("../sim/config-system.ts");
      const j = cfg.readJsonFile(values.config);
      if (cfg.isUserSystem(j)) sys = user = cfg.loadUserSystem(values.config, j);
      else {
        const { demoSystem, DEMO_BOARDS } = await import("../sim/demo-system.ts");
        sys = demoSystem(DEMO_BOARDS, values.config);
      }
    } else sys = await loadSystemByName(sysName);
  } catch (e) {
    if (e instanceof PlanError || e instanceof UsageError) throw new UsageError(e.message);
    throw e;
  }
  // the default fault follows the system and the run: a component the upgrade changes (the
  // demo's estimator; in your own system the first upgraded component with gsu_fault; else the
  // plan's first), at 60% of the steps and after the upgrade, so it fires within --steps
  const defaultStep = Math.min(steps, Math.max(upgradeAt + 1, Math.floor(steps * 0.6)));
  const defaultCandidates: string[] = [];
  if (!faultGiven && !values["no-fault"] && !values.reference) {
    const members = sys.plan.upgrades.map((u) => u.name);
    if (user) defaultCandidates.push(...user.faultable.filter((c) => members.includes(c)));
    else defaultCandidates.push(...(members.includes("estimator") ? ["estimator", ...members.filter((c) => c !== "estimator")] : members));
    if (defaultCandidates.length) fault = { comp: defaultCandidates[0], step: defaultStep };
    else if (!values.json) process.stderr.write(`gsu: no new version in ${values.config ?? sysName}'s upgrade can take an injected fault (gsu_fault); rehearsing without a fault\n`);
  }
  if (fault && faultGiven) {
    if (fault.step > steps) {
      throw new UsageError(`--fault ${fault.comp}@${fault.step} would never fire: the run has ${steps} steps (--steps); give a fault step from ${upgradeAt + 1} to ${steps}, or more --steps`);
    }
    if (fault.step < upgradeAt) {
      throw new UsageError(`--fault ${fault.comp}@${fault.step} is before the upgrade (${values["upgrade-at"] !== undefined ? `--upgrade-at ${upgradeAt}` : `after step ${upgradeAt}, the default --upgrade-at`}): the new version does not run before then, so there is no step ${fault.step} to fault; give a fault step from ${upgradeAt + 1} to ${steps}, or an earlier --upgrade-at`);
    }
  }
  if (user) {
    const where = (c: string) => { const u = sys.plan.upgrades.find((x) => x.name === c)!; return `${c}@${u.version} (${user!.refs.get(`${c}@${u.version}`)!.wasm})`; };
    if (fault && sys.plan.upgrades.some((u) => u.name === fault!.comp) && !user.faultable.includes(fault.comp)) {
      throw new UsageError(`--fault ${fault.comp}@${fault.step}: ${where(fault.comp)} has no gsu_fault export; a new version that can take an injected fault exports gsu_fault(fromStep: u32)${user.faultable.length ? `; these can: ${user.faultable.join(", ")}` : ""}`);
    }
    if (!values.reference && upgradeAt > 0 && user.noStateTransfer.length) {
      const c = user.noStateTransfer[0];
      const v = [sys.spec.components[c], sys.plan.upgrades.find((x) => x.name === c)!];
      throw new UsageError(`--upgrade-at ${upgradeAt} upgrades while the system runs, which starts each new version from its old version's state, and ${c} (${v.map((x) => `${x.name}@${x.version}`).join(" -> ")}) lacks gsu_state_save / gsu_state_load; export them in both versions (examples-user/thermal/filter does) or pass --upgrade-at 0 (upgrade before the first step)`);
    }
  }
  if (fault && !sys.plan.upgrades.some((u) => u.name === fault!.comp)) {
    throw new UsageError(`--fault names '${fault.comp}', which the upgrade does not change; choose one of: ${sys.plan.upgrades.map((u) => u.name).join(", ")}`);
  }
  for (const pt of linkFaults?.partitions ?? []) {
    if (!sys.spec.boards.some((b) => b.name === pt.board)) throw new UsageError(`--partition ${pt.board}@${pt.fromStep}..${pt.toStep}: the system has no board '${pt.board}' (boards: ${sys.spec.boards.map((b) => b.name).join(", ")})`);
    if (pt.fromStep >= steps) throw new UsageError(`--partition ${pt.board}@${pt.fromStep}..${pt.toStep} starts after the last step (--steps ${steps}): it would cut nothing`);
  }
  for (const x of crashes) {
    if (!sys.spec.boards.some((b) => b.name === x.board)) throw new UsageError(`--crash ${x.board}@${x.step}: the system has no board '${x.board}' (boards: ${sys.spec.boards.map((b) => b.name).join(", ")})`);
    if (x.step >= steps) throw new UsageError(`--crash ${x.board}@${x.step} is not before the last step (--steps ${steps}): nothing would run after it`);
  }
  if (crashes.length && values.reference) throw new UsageError("--crash needs an upgrade to test; a --reference run has none");
  if (linkFaults && values.reference) throw new UsageError("link faults (--link-loss, --link-dup, --link-corrupt, --partition) need an upgrade to test; a --reference run has none");
  const quiet = !!values.json;
  if (values.timeout !== undefined && links === "sim") throw new UsageError("--timeout works with --links other than sim (board processes on real links); the in-process rehearsal has no wall clock to wait for");
  if (links !== "sim") {
    if (values.config) throw new UsageError("--config works with --links sim only");
    if (values["no-ride"]) throw new UsageError("--no-ride works with --links sim only (a board process rides wherever its link sends a broadcast once per peer)");
    const { runMultiProcess } = await import("../sim/multiproc.ts");
    const periodMs = int("period", values.period, 4, 1);
    const r = await runMultiProcess({ system: sysName, seed, steps, rules, links: socketcan ? "socketcan" : links as "pty", canIfaces: socketcan, fault, commitAfter, candump: values.candump, periodMs, upgradeAt, canMode,
      linkFaults: linkFaults && (linkFaults.loss || linkFaults.dup) ? { loss: linkFaults.loss, dup: linkFaults.dup, seed } : undefined,
      corrupt: linkFaults?.corrupt, partitions: linkFaults?.partitions, crashes: crashes.length ? crashes : undefined,
      timeoutMs: values.timeout !== undefined ? int("timeout", values.timeout, 30, 1) * 1000 : Math.max(30_000, steps * periodMs * 3),
      progress: quiet ? undefined : (l) => { if (process.stderr.isTTY) process.stderr.write(`\r${l.padEnd(60)}`); } });
    if (!quiet && process.stderr.isTTY) process.stderr.write("\r" + " ".repeat(60) + "\r");
    const key = ["at-failed", "rollback", "takeover", "recovered", "commit", "memory-full"];
    const summary = { verdict: r.verdict, links, seed, steps, rules, fault: fault ? `${fault.comp}@${fault.step}` : null, boards: sys.spec.boards.length,
      devices: Object.fromEntries([...new Set(r.devices.map((d) => d.device))].map((d) => [d, r.devices.filter((x) => x.device === d).length])),
      timeline: r.trace.filter((e) => key.includes(e.type)).map((e) => ({ t_ms: e.t / 1000, board: e.board, type: e.type, comp: e.comp })),
      differences: r.differences, violations: r.violations, errors: r.errors, wall_ms: r.wallMs };
    // a crash in guarded operation makes the others recover (the old versions take over) before
    // a later fault step: that fault is not reached, as in process (judge's crash verdict)
    const detected = r.trace.some((e) => DETECTED.has(e.type));
    const crashEnded = !!fault && !detected && crashes.length > 0 && r.trace.some((e) => e.type === "recovered");
    const why = untested({ fault, steps, devices: r.devices.length, detected: detected || crashEnded, crashes, crashed: crashedBoards(r.trace) });
    if (why.length) { r.verdict = "fail"; r.errors.push(...why); }
    if (values.trace) writeFileSync(values.trace, r.devices.map((d) => JSON.stringify({ type: "device", device: d.device, payload: d.payload, comp: d.comp, gen: d.gen })).join("\n") + "\n");
    if (quiet) process.stdout.write(JSON.stringify(summary) + "\n");
    else {
      const L = [`GSU rehearsal over real links (${links}): ${sys.spec.boards.length} boards as OS processes, seed ${seed}, ${steps} steps, rules ${rules}, ${fault ? `fault ${fault.comp}@${fault.step}` : "no fault"}`, "", "Timeline (wall clock of each board)"];
      for (const e of summary.timeline) L.push(`  ${e.t_ms.toFixed(3).padStart(10)} ms  ${e.board.padEnd(7)} ${e.type}${e.comp ? ` ${e.comp}` : ""}`);
      L.push("", `Devices: ${Object.entries(summary.devices).map(([d, n]) => `${d} ${n} messages`).join(", ")}`);
      if (linkFaults) {
        type LS = { layer?: { retransmits: number; fastRetransmits: number; duplicates: number } };
        const ls = r.linkStats as LS[];
        const sum = (f: (l: NonNullable<LS["layer"]>) => number) => ls.reduce((n, x) => n + (x.layer ? f(x.layer) : 0), 0);
        L.push(`Links: ${r.corrupted} frames damaged by the relay; the link layer retransmitted ${sum((l) => l.retransmits + l.fastRetransmits)} and dropped ${sum((l) => l.duplicates)} duplicates`);
      }
      if (crashEnded) L.push(`Fault: ${fault!.comp}@${fault!.step} not reached: the recovery after the crash ended guarded operation first (the old versions run on)`);
      L.push("");
      if (r.verdict === "pass") L.push(r.problems ? `Verdict: PASS: before the crash (${crashes.map((x) => `${x.board}@${x.step}`).join(", ")}) devices saw exactly the fault-free reference run's messages; after it no duplicate, only the crash's steps lost, and every device served again.`
        : "Verdict: PASS: devices saw exactly what the fault-free reference run of the old versions produced; no oracle broke.");
      else {
        L.push("Verdict: FAIL");
        for (const d of [...r.errors, ...(r.problems ?? []), ...r.differences.map((x) => `device: ${x}`), ...(r.problems ? [] : r.violations.map((v) => `${v.kind}: ${v.detail}`))].slice(0, 12)) L.push(`  ${d}`);
      }
      process.stdout.write(L.join("\n") + "\n");
    }
    return r.verdict === "pass" ? 0 : 1;
  }
  const progress = !quiet && process.stderr.isTTY;
  if (progress) process.stderr.write(`rehearsing ${steps} steps (seed ${seed})...\r`);
  let result;
  try {
    // the verdict is the property suite's (judge): the same oracles, the same reference
    const refName = values.config ? `config:${resolve(values.config)}` : sysName;
    let rec: { recorder: import("../transport/can/candump-log.ts").CandumpRecorder; writer: { close(): void } } | undefined;
    if (values.candump) rec = (await import("../transport/can/candump-log.ts")).CandumpRecorder.toFile(values.candump, "vcan0");
    try {
      // the --trace file is streamed as the run goes (each try rewrites it); the run keeps
      // only what the reports draw (trace-stream.ts), so memory does not grow with --steps
      const go = () => {
        const tw = values.trace ? new TraceWriter(values.trace) : undefined;
        try {
          return runTestbed(sys, { seed, steps, fault, rules, latency, commitAfter, upgradeAt, reference: !!values.reference, detail: true, links: linkFaults ?? undefined, crashes: crashes.length ? crashes : undefined,
            ridePassedAt: values["no-ride"] ? false : undefined, retain: reportRetention({ steps }), onEvent: tw && ((e) => tw.event(e)), onDevice: tw && ((d) => tw.device(d)),
            sendTap: rec ? (t, src, dst, frame) => rec!.recorder.transfer(1_700_000_000_000_000 + t, src, dst, frame) : undefined });
        } finally { tw?.close(); }
      };
      result = go();
      // a default fault that took no effect in this system: earlier, if guarded operation
      // ended before the fault step (memory full, commit); then the next member (its output masked)
      const tries: { comp: string; step: number }[] = [];
      for (const comp of defaultCandidates) {
        tries.push({ comp, step: defaultStep });
        const end = result.trace.find((e) => ["memory-full", "recovered", "commit"].includes(e.type));
        const endStep = end ? Math.floor(end.t / 10_000) : steps;
        if (endStep < defaultStep && endStep > upgradeAt + 1) tries.push({ comp, step: Math.floor((upgradeAt + 1 + endStep) / 2) });
      }
      for (const t of tries.slice(1)) {
        if (!defaultCandidates.length || result.faultActive) break;
        if (rec) throw new UsageError(`the default fault ${fault!.comp}@${fault!.step} took no effect in ${sysName}; give --fault COMP@STEP with --candump`);
        fault = t;
        result = go();
      }
    } catch (e) {
      // a user's wasm that sends on a port its manifest does not declare: the files disagree
      const m = user && /^(\S+)@(\S+) sent on undeclared output port (\d+)/.exec((e as Error).message);
      const ref = m && user!.refs.get(`${m[1]}@${m[2]}`);
      if (ref) throw new UsageError(`${(e as Error).message}: ${ref.wasm} does not match ${ref.manifest}; declare output port ${m![3]} in the manifest or fix the code, then gsu build-component ${ref.dir}`);
      throw e;
    }
    rec?.writer.close();
    const refDevs = values.reference ? [] : referenceDevices(refName, sys, steps);
    // with crashes the verdict is judge()'s crash verdict: the devices differ from the reference after the crash by design
    const diffs = values.reference || crashes.length ? [] : compareDevices(result.devices, refDevs);
    const problems = [...judge(sys, { system: refName, steps, fault }, result),
      ...untested({ fault, steps, devices: result.devices.length, faultActive: result.faultActive, ended: result.ended, detected: result.trace.some((e) => DETECTED.has(e.type)),
        crashes, crashed: crashedBoards(result.trace) })];
    const summary = summarize(result, diffs, problems, diffs.length ? firstErroneous(result.devices, refDevs) : null);
    if (progress) process.stderr.write(" ".repeat(50) + "\r");
    const boards = sys.spec.boards.map((b) => `${b.name} (${b.components.join(", ")})`).join(" · ");
    const text = textReport(summary, boards);
    const htmlPath = values.html ?? "gsu-rehearsal.html";
    if (htmlPath !== "-") writeHtmlReport(htmlPath, result, summary, text);
    if (quiet) process.stdout.write(JSON.stringify(summary) + "\n");
    else {
      process.stdout.write(text + "\n");
      if (htmlPath !== "-") process.stdout.write(`HTML report: ${resolve(htmlPath)}\n`);
    }
    return summary.verdict === "pass" ? 0 : 1;
  } catch (e) {
    if (e instanceof PlanError) throw new UsageError(e.message);
    throw e;
  }
}
