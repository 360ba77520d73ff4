// gsu flash: put the board runtime on a Raspberry Pi or BeagleBone over ssh,
// or lay the same files into a directory (--root) for CI and image builds.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseCommandArgs, UsageError } from "./args.ts";
import { DeployError, INSTALL_DIR, layOut, NETWORK_DEST, planDeploy, PROFILE_DEST, UNIT_DEST, UNIT_NAME, type DeployPlan } from "../board/deploy.ts";
import { ProfileError, type ProfileLink } from "../board/profile.ts";

export const help = `Usage: gsu flash USER@HOST --profile raspberry-pi|beaglebone|PATH [--dry-run]
       gsu flash --root DIR --profile raspberry-pi|beaglebone|PATH [--dry-run]

Deploys the GSU board runtime to a board over ssh. Needs the build: run
'npm run asbuild' first (the board runs the prebuilt wasm core and components).
Steps on the board (each is printed with its command):
  1. copy the files to ~/.cache/gsu-flash with rsync (scp if rsync is missing)
  2. hardware/<board>/setup.sh (sudo): Node.js 20, build-essential, can-utils;
     the gsu user; CAN overlay / pins; 80-can.network; gsu-board.service
  3. install the runtime to /opt/gsu and the profile to /etc/gsu/profile.json
  4. npm ci --omit=dev in /opt/gsu
  5. systemctl enable gsu-board.service, restart it, check it is active

Files: /opt/gsu/{bin,host,build,examples/**/manifest.json,hardware,package.json,
package-lock.json}, /etc/gsu/profile.json (+ trusted keys it names relatively),
/etc/systemd/system/gsu-board.service, /etc/systemd/network/80-can.network
(from the profile's socketcan link).

Options:
  --profile P    raspberry-pi, beaglebone (hardware/<board>/profile.json) or a profile's path
  --board B      raspberry-pi | beaglebone, for a profile path that does not say
                 (its "board" field, or a path inside hardware/<board>/)
  --root DIR     lay the files into DIR instead (DIR/opt/gsu, DIR/etc/...), for CI
                 and image builds; the board-side commands are printed, not run
  --dry-run      print every step and command; change nothing
For a board without network or systemd (an image build, the emulated Pi of
scripts/qemu/): each step left out is printed as left for the board.
  --setup-dry-run      run setup.sh with --dry-run (what it would change, no apt,
                       no useradd, no systemctl)
  --deps-from DIR      link /opt/gsu/node_modules to DIR, a node_modules installed on
                       the board beforehand, instead of npm ci --omit=dev (no registry)
  --no-start           install the unit but do not enable or start it (no systemd)

The user needs sudo on the board. ssh options (port, key) come from ~/.ssh/config.
Exit status: 0 done, 1 a step failed, 2 bad arguments or a bad profile.`;

const REMOTE_STAGE = ".cache/gsu-flash";

function describeLink(l: ProfileLink): string {
  switch (l.kind) {
    case "socketcan": return `socketcan ${l.iface} @ ${l.bitrate} bit/s`;
    case "slcan": return `slcan ${l.path} @ ${l.bitrate} bit/s`;
    case "serial": return `serial ${l.path} @ ${l.baud} baud`;
  }
}

/** Quotes one word for a POSIX shell (the remote side of ssh). */
export function shq(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

class Steps {
  n = 0;
  constructor(readonly total: number, readonly dryRun: boolean) {}
  step(title: string): void {
    this.n++;
    process.stdout.write(`[${this.n}/${this.total}] ${title}\n`);
  }
  note(text: string): void { process.stdout.write(`      ${text}\n`); }
  /** Runs (or, under --dry-run, prints) a local command; throws when it fails. */
  run(cmd: string, args: string[], opts: { allowFail?: boolean } = {}): number {
    process.stdout.write(`      $ ${[cmd, ...args].map(shq).join(" ")}\n`);
    if (this.dryRun) return 0;
    const r = spawnSync(cmd, args, { stdio: "inherit" });
    if (r.error) {
      if (opts.allowFail) return 127;
      throw new Error(`${cmd}: ${(r.error as NodeJS.ErrnoException).code === "ENOENT" ? "not found; install it (openssh-client)" : r.error.message}`);
    }
    const status = r.status ?? 128;
    if (status !== 0 && !opts.allowFail) throw new Error(`step ${this.n} failed: ${cmd} exited with status ${status}`);
    return status;
  }
}

function summarize(plan: DeployPlan, s: Steps): void {
  const p = plan.profile;
  s.note(`profile ${relative(process.cwd(), plan.profilePath) || plan.profilePath}: board '${p.name}' node ${p.node} (${plan.board})`);
  s.note(`links: ${p.links.map(describeLink).join("; ")}`);
  s.note(`components: ${p.components.length ? p.components.map((c) => `${c.name}@${c.version}`).join(", ") : "(none)"}; trusted keys: ${Object.keys(p.trustedKeys).join(", ") || "(none)"}`);
  if (plan.secrets.length) s.note(`secrets: ${plan.secrets.map((f) => `/${f}`).join(", ")} (root:gsu, 0640)`);
  for (const w of plan.warnings) process.stderr.write(`gsu flash: warning: ${w}\n`);
}

/** What the board-side steps leave out (--setup-dry-run, --deps-from, --no-start). */
export interface BoardStepOptions { setupDryRun?: boolean; depsFrom?: string; noStart?: boolean }

function boardCommands(plan: DeployPlan, stage: string, o: BoardStepOptions = {}): { title: string; cmd: string }[] {
  const st = (p: string) => `${stage}/${p}`;
  const setup = [`${stage}/${INSTALL_DIR}/hardware/${plan.board}/setup.sh`, ...plan.setupArgs.map((a) => (a.startsWith("etc/") ? st(a) : a)), ...(o.setupDryRun ? ["--dry-run"] : [])];
  const steps = [
    { title: `prepare the board: packages, gsu user, CAN and UART setup, unit (hardware/${plan.board}/setup.sh)`, cmd: `sudo bash ${setup.map(shq).join(" ")}` },
    {
      title: "install the runtime to /opt/gsu and the profile to /etc/gsu/profile.json",
      cmd: `sudo rsync -a --delete --chown=root:root --exclude=/node_modules/ ${shq(st(INSTALL_DIR))}/ /opt/gsu/ && sudo rsync -a --chown=root:root ${shq(st("etc/gsu"))}/ /etc/gsu/` +
        // the link and status keys: readable by the service's group only
        plan.secrets.map((f) => ` && sudo chown root:gsu ${shq(`/${f}`)} && sudo chmod 0640 ${shq(`/${f}`)}`).join(""),
    },
    o.depsFrom !== undefined
      ? { title: `link the runtime's dependencies installed beforehand: /opt/gsu/node_modules -> ${o.depsFrom}`, cmd: `test -d ${shq(o.depsFrom)} && sudo ln -sfn ${shq(o.depsFrom)} /opt/gsu/node_modules` }
      : { title: "install the runtime's dependencies (npm ci --omit=dev)", cmd: "cd /opt/gsu && sudo npm ci --omit=dev --no-audit --no-fund" },
    {
      title: `enable and (re)start ${UNIT_NAME}`,
      cmd: `sudo systemctl daemon-reload && sudo systemctl enable ${UNIT_NAME} && sudo systemctl restart ${UNIT_NAME} && sleep 3 && ` +
        `{ systemctl is-active --quiet ${UNIT_NAME} && echo '${UNIT_NAME} is active' || { systemctl --no-pager status ${UNIT_NAME}; echo 'see: journalctl -u gsu-board -n 50'; exit 1; }; }`,
    },
  ];
  return o.noStart ? steps.slice(0, -1) : steps;
}

function toRoot(plan: DeployPlan, dir: string, dryRun: boolean): number {
  const s = new Steps(3, dryRun);
  s.step("check the build and the profile");
  summarize(plan, s);
  s.step(`${dryRun ? "would lay" : "lay"} the files into ${dir}`);
  const install = plan.files.filter((f) => f.dest.startsWith(`${INSTALL_DIR}/`));
  if (!dryRun) {
    const { written, removed } = layOut(plan, dir);
    s.note(`${written} written or updated, ${removed.length} stale removed${removed.length ? `: ${removed.join(", ")}` : ""}`);
  }
  s.note(`${INSTALL_DIR}/  (${install.length} files: bin, host, build, examples manifests, hardware/common, hardware/${plan.board}, package.json, package-lock.json)`);
  for (const f of plan.files) if (!f.dest.startsWith(`${INSTALL_DIR}/`)) s.note(f.dest);
  for (const l of plan.links) s.note(`${l.dest} -> ${l.target}`);
  if (!plan.files.some((f) => f.dest === NETWORK_DEST)) s.note(`(no ${NETWORK_DEST}: the profile has no socketcan link)`);
  s.step("left for the board (not run with --root); once these files are its root file system, run there:");
  const setup = [`/${INSTALL_DIR}/hardware/${plan.board}/setup.sh`, ...plan.setupArgs.map((a) => (a.startsWith("etc/") ? `/${a}` : a))];
  s.note(`sudo bash ${setup.map(shq).join(" ")}`);
  for (const f of plan.secrets) s.note(`sudo chown root:gsu ${shq(`/${f}`)} && sudo chmod 0640 ${shq(`/${f}`)}`);
  s.note("cd /opt/gsu && sudo npm ci --omit=dev");
  s.note(`sudo systemctl enable --now ${UNIT_NAME}`);
  process.stdout.write(dryRun ? "dry run: nothing was written.\n" : `done: ${resolve(dir)} holds the board's files.\n`);
  return 0;
}

function toBoard(plan: DeployPlan, target: string, dryRun: boolean, o: BoardStepOptions = {}): number {
  const board = boardCommands(plan, REMOTE_STAGE, o);
  const s = new Steps(4 + board.length, dryRun);
  s.step("check the build and the profile");
  summarize(plan, s);
  const stage = dryRun ? join(tmpdir(), "gsu-flash-XXXXXX") : mkdtempSync(join(tmpdir(), "gsu-flash-"));
  try {
    s.step(`stage the files in ${stage}`);
    if (!dryRun) layOut(plan, stage);
    s.note(`${plan.files.length} files: ${INSTALL_DIR}/..., ${PROFILE_DEST}, ${UNIT_DEST}${plan.files.some((f) => f.dest === NETWORK_DEST) ? `, ${NETWORK_DEST}` : ""}`);

    const tty = process.stdin.isTTY ? ["-t"] : [];
    const ssh = (cmd: string, opts: { allowFail?: boolean; tty?: boolean } = {}) =>
      s.run("ssh", [...(opts.tty ? tty : []), "-o", "ConnectTimeout=15", target, cmd], opts);

    s.step(`connect to ${target}`);
    ssh(`mkdir -p ${REMOTE_STAGE} && uname -srm`);

    s.step(`copy the files to ${target}:${REMOTE_STAGE}`);
    const rsync = s.run("rsync", ["-rlptz", "--delete", "--exclude=/opt/gsu/node_modules/", "-e", "ssh -o ConnectTimeout=15", `${stage}/`, `${target}:${REMOTE_STAGE}/`], { allowFail: true });
    if (rsync !== 0) {
      // rsync missing here (127) or on the board (12, protocol stream error): scp instead.
      s.note(`rsync ${rsync === 127 ? "is not installed here" : `failed (status ${rsync}; is rsync installed on the board?)`}; copying with scp`);
      ssh(`rm -rf ${REMOTE_STAGE} && mkdir -p ${REMOTE_STAGE}`);
      s.run("scp", ["-rpq", "-o", "ConnectTimeout=15", join(stage, "opt"), join(stage, "etc"), `${target}:${REMOTE_STAGE}/`]);
    }

    for (const c of board) {
      s.step(c.title);
      ssh(c.cmd, { tty: c.cmd.includes("sudo") });
    }
  } finally {
    if (!dryRun) rmSync(stage, { recursive: true, force: true });
  }
  if (o.noStart) process.stdout.write(`left for the board (--no-start): sudo systemctl enable --now ${UNIT_NAME} (or start ${`/${UNIT_DEST}`}'s ExecStart by hand)\n`);
  if (o.setupDryRun) process.stdout.write("left for the board (--setup-dry-run): what setup.sh printed as 'would run'\n");
  process.stdout.write(dryRun ? "dry run: nothing was run.\n"
    : o.noStart ? `done: the runtime and /etc/gsu/profile.json are on ${target}; ${UNIT_NAME} was not started (--no-start).\n`
    : `done: ${target} runs ${UNIT_NAME} with /etc/gsu/profile.json. Logs: ssh ${target} journalctl -u gsu-board -f\n`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    profile: { type: "string" },
    board: { type: "string" },
    root: { type: "string" },
    "dry-run": { type: "boolean" },
    "setup-dry-run": { type: "boolean" },
    "deps-from": { type: "string" },
    "no-start": { type: "boolean" },
  }, { allowPositionals: true });
  if (!values.profile) throw new UsageError("flash needs --profile raspberry-pi|beaglebone|PATH");
  if (positionals.length > 1) throw new UsageError(`flash takes one USER@HOST, not ${positionals.length}: ${positionals.join(" ")}`);
  const target = positionals[0];
  if (target !== undefined && values.root !== undefined) throw new UsageError("give either USER@HOST or --root DIR, not both");
  if (target === undefined && values.root === undefined) throw new UsageError("flash needs USER@HOST (a board reachable by ssh) or --root DIR");
  if (target !== undefined && !/^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9._:[\]-]+$/.test(target) || target?.startsWith("-")) {
    throw new UsageError(`'${target}' is not USER@HOST (or an ssh host alias)`);
  }
  if (values.root === "") throw new UsageError("--root needs a directory");
  const boardSteps: BoardStepOptions = { setupDryRun: values["setup-dry-run"], depsFrom: values["deps-from"], noStart: values["no-start"] };
  if (values.root !== undefined && (boardSteps.setupDryRun || boardSteps.depsFrom !== undefined || boardSteps.noStart)) {
    throw new UsageError("--setup-dry-run, --deps-from and --no-start change the steps run on a board over ssh; --root runs none");
  }
  if (boardSteps.depsFrom !== undefined && !boardSteps.depsFrom.startsWith("/")) throw new UsageError(`--deps-from needs an absolute path on the board (a node_modules directory), not '${boardSteps.depsFrom}'`);

  let plan: DeployPlan;
  try {
    plan = planDeploy({ profile: values.profile, board: values.board });
  } catch (e) {
    if (e instanceof ProfileError) throw new UsageError(e.message);
    if (e instanceof DeployError) {
      if (e.kind === "usage") throw new UsageError(e.message);
      process.stderr.write(`gsu flash: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const dryRun = !!values["dry-run"];
  if (values.root !== undefined) return toRoot(plan, values.root, dryRun);
  try {
    return toBoard(plan, target!, dryRun, boardSteps);
  } catch (e) {
    process.stderr.write(`gsu flash: ${(e as Error).message}\n`);
    return 1;
  }
}
