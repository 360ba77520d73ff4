// What `gsu flash` puts on a board, as a plan of files; and laying that plan
// into a directory (`--root DIR`, and the staging tree copied over ssh).
//
// Layout, relative to the board's root file system:
//   opt/gsu/...                                     the runtime: bin/, host/, build/ (prebuilt wasm),
//                                                   examples' manifests, package.json + lock, hardware/
//   etc/gsu/profile.json                            the profile, as written
//   etc/gsu/<key paths>                             trusted public keys the profile names relatively
//   etc/gsu/<secret paths>                          the link key and status key the profile names relatively:
//                                                   mode 0640, group gsu on the board (secrets)
//   etc/systemd/system/gsu-board.service            hardware/common/gsu-board.service
//   etc/systemd/system/multi-user.target.wants/gsu-board.service -> the unit (what `systemctl enable` makes)
//   etc/systemd/network/80-can.network              the SocketCAN link's bit rate (generated from the profile)
import { compileTree } from "./compile-js.ts";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync, readlinkSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { BOARDS, isBoardKind, loadProfile, type BoardKind, type BoardProfile, type ProfileLink } from "./profile.ts";

export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const INSTALL_DIR = "opt/gsu";
export const PROFILE_DEST = "etc/gsu/profile.json";
export const UNIT_NAME = "gsu-board.service";
export const UNIT_DEST = `etc/systemd/system/${UNIT_NAME}`;
export const UNIT_WANTS = `etc/systemd/system/multi-user.target.wants/${UNIT_NAME}`;
export const NETWORK_DEST = "etc/systemd/network/80-can.network";
/** The only directory gsu-board.service may write (StateDirectory=gsu, ProtectSystem=strict). */
export const BOARD_STATE_DIR = "/var/lib/gsu";

/** A usage-level problem with what flash was asked to do (exit 2 from the CLI). */
export class DeployError extends Error {
  /** "usage": the arguments or profile are wrong (exit 2); "build": run `npm run asbuild` first (exit 1). */
  constructor(message: string, readonly kind: "usage" | "build" = "usage") { super(message); this.name = "DeployError"; }
}

export interface PlannedFile {
  /** Path in the board's root file system, without a leading '/'. */
  dest: string;
  /** Copy this local file ... */
  src?: string;
  /** ... or write this content. */
  content?: string;
  mode: number;
}

export interface DeployPlan {
  board: BoardKind;
  profilePath: string;
  profile: BoardProfile;
  files: PlannedFile[];
  /** Symlinks: dest -> target (absolute on the board). */
  links: { dest: string; target: string }[];
  /** Arguments for hardware/<board>/setup.sh derived from the profile (paths relative to the staging root). */
  setupArgs: string[];
  /** Secret files among `files` (the link key, the status key): on the board root:gsu 0640, readable by the service only. */
  secrets: string[];
  warnings: string[];
}

/** The 80-can.network text for one SocketCAN link (hardware/<board>/80-can.network is this for can0 at 500 kbit/s). */
export function canNetworkFile(iface: string, bitrate: number): string {
  return `# 80-can.network: SocketCAN bit rate for systemd-networkd (gsu).
# Installed to /etc/systemd/network/ by \`gsu flash\` (generated from the
# profile's socketcan link) or by setup.sh (this file). Check with:
#   networkctl status ${iface}; ip -details link show ${iface}
[Match]
Name=${iface}

[Link]
# The board may boot before the CAN controller is wired or probed; do not hold
# up network-online.target for it.
RequiredForOnline=no

[CAN]
BitRate=${systemdBitRate(bitrate)}
# Recover from bus-off automatically.
RestartSec=100ms
`;
}

/** 500000 -> "500K", 1000000 -> "1M", 83333 -> "83333" (systemd's base-1000 suffixes). */
export function systemdBitRate(b: number): string {
  if (b % 1_000_000 === 0) return `${b / 1_000_000}M`;
  if (b % 1000 === 0) return `${b / 1000}K`;
  return String(b);
}

/** UART device paths whose pins setup.sh configures (a serial link elsewhere, e.g. a USB adapter, needs no UART setup). */
const ONBOARD_UART: Record<BoardKind, RegExp> = {
  "raspberry-pi": /^\/dev\/(ttyAMA0|serial0|ttyS0)$/,
  beaglebone: /^\/dev\/(ttyS[1-5]|bone\/uart\/[1-5])$/,
};

/** Resolves --profile: a board name (hardware/<board>/profile.json) or a path. */
export function resolveProfileArg(arg: string, root = PROJECT_ROOT): { path: string; board?: BoardKind } {
  if (isBoardKind(arg)) return { path: join(root, "hardware", arg, "profile.json"), board: arg };
  const path = resolve(arg);
  if (!existsSync(path)) {
    throw new DeployError(`--profile ${arg}: no such file; give a board (${BOARDS.join(", ")}) or the path of a profile`);
  }
  // A path inside hardware/<board>/ names its board.
  const rel = relative(join(root, "hardware"), path).split(sep);
  const board = rel.length === 2 && isBoardKind(rel[0]!) ? rel[0] : undefined;
  return board ? { path, board } : { path };
}

function listFiles(dir: string, filter: (rel: string) => boolean = () => true, base = dir): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, filter, base));
    else if (e.isFile() && filter(relative(base, p))) out.push(p);
  }
  return out;
}

/** A deployment secret by its name (gsu keygen --link-key / --status-key) or a private key file. */
const SECRET_NAME = /\.(link|status|key)$/;

function isPrivateKey(path: string): boolean {
  try {
    if (statSync(path).size > 64 * 1024) return false;
    return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(readFileSync(path, "utf8"));
  } catch {
    return false;
  }
}

/**
 * Works out everything flash installs. Checks the build (build/ must exist:
 * the board has no AssemblyScript compiler), the profile, and that the profile
 * fits the unit (stateDir) and what setup.sh can configure.
 */
export function planDeploy(opts: { profile: string; board?: string; root?: string }): DeployPlan {
  const root = opts.root ?? PROJECT_ROOT;
  const warnings: string[] = [];
  if (opts.board !== undefined && !isBoardKind(opts.board)) {
    throw new DeployError(`--board must be one of ${BOARDS.join(", ")}, not '${opts.board}'`);
  }
  const { path: profilePath, board: fromArg } = resolveProfileArg(opts.profile, root);
  const profile = loadProfile(profilePath); // ProfileError names the field
  const boards = [opts.board, fromArg, profile.board].filter((b): b is BoardKind => b !== undefined);
  const board = boards[0];
  if (!board) {
    throw new DeployError(`${profilePath}: which board is this for? Add "board": "raspberry-pi" or "beaglebone" to the profile, or pass --board`);
  }
  for (const b of boards) {
    if (b !== board) throw new DeployError(`${profilePath}: the board is given as both '${board}' and '${b}'`);
  }

  // The build: the board runs the prebuilt wasm.
  const core = join(root, "build", "core.release.wasm");
  if (!existsSync(core)) {
    throw new DeployError(`build/core.release.wasm is missing: run 'npm run asbuild' first (the board runs the prebuilt wasm core and components; it does not compile AssemblyScript)`, "build");
  }
  if (listFiles(join(root, "build", "examples"), (r) => r.endsWith(".wasm")).length === 0) {
    throw new DeployError("build/examples/ has no component .wasm: run 'npm run asbuild' first (it builds the examples too)", "build");
  }
  const problems: string[] = [];
  profile.components.forEach((c, i) => {
    if (!existsSync(join(root, "examples", c.name, c.version, "manifest.json"))) {
      problems.push(`components[${i}] "${c.name}@${c.version}": examples/${c.name}/${c.version}/manifest.json does not exist`);
    } else if (!existsSync(join(root, "build", "examples", `${c.name}-${c.version}.wasm`))) {
      problems.push(`components[${i}] "${c.name}@${c.version}": build/examples/${c.name}-${c.version}.wasm is missing; run 'npm run asbuild' first`);
    }
  });
  if (problems.length) throw new DeployError(`${profilePath}: ${problems.join("; ")}`, problems.every((p) => p.includes("asbuild")) ? "build" : "usage");

  // npm ci --omit=dev on the board must give a working runtime.
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  if (!pkg.dependencies?.tsx) {
    throw new DeployError("package.json: tsx must be in dependencies (bin/gsu.js runs the TypeScript CLI through it where no compiled host/cli/main.js is laid), or 'npm ci --omit=dev' leaves the board without it");
  }
  if (!existsSync(join(root, "package-lock.json"))) throw new DeployError("package-lock.json is missing: 'npm ci' on the board needs it");

  // The unit only lets the runtime write /var/lib/gsu.
  const stateRel = relative(BOARD_STATE_DIR, profile.stateDir);
  if (!isAbsolute(profile.stateDir) || stateRel.startsWith("..") || isAbsolute(stateRel)) {
    throw new DeployError(`${profilePath}: stateDir must be ${BOARD_STATE_DIR} (or below it) on a flashed board, not ${JSON.stringify(profile.stateDir)}: gsu-board.service may write nowhere else (StateDirectory=gsu, ProtectSystem=strict)`);
  }

  const can = profile.links.filter((l): l is Extract<ProfileLink, { kind: "socketcan" }> => l.kind === "socketcan");
  if (can.length > 1) {
    throw new DeployError(`${profilePath}: gsu flash sets up one SocketCAN interface, but the profile has ${can.length} (${can.map((l) => l.iface).join(", ")}); configure the others by hand`);
  }
  const uart = profile.links.some((l) => l.kind === "serial" && ONBOARD_UART[board].test(l.path));

  const files: PlannedFile[] = [];
  const add = (relSrc: string, dest = `${INSTALL_DIR}/${relSrc.split(sep).join("/")}`) => {
    const src = join(root, relSrc);
    const mode = statSync(src).mode & 0o111 ? 0o755 : 0o644;
    files.push({ src, dest, mode });
  };
  const rel = (p: string) => relative(root, p);
  for (const p of listFiles(join(root, "bin"))) add(rel(p));
  // host/ as compiled JavaScript in the same layout: the board starts with plain node (bin/gsu.js
  // imports host/cli/main.js when it is there), no TypeScript transpilation at start
  const hostSrc = listFiles(join(root, "host"), (r) => !r.split(sep).some((s) => s.startsWith("__")) && !r.endsWith(".test.ts"));
  for (const p of hostSrc.filter((f) => !f.endsWith(".ts"))) add(rel(p));
  for (const [relJs, content] of compileTree(root, hostSrc.filter((f) => f.endsWith(".ts")))) files.push({ dest: `${INSTALL_DIR}/${relJs}`, content, mode: 0o644 });
  add(join("build", "core.release.wasm"));
  if (existsSync(join(root, "build", "core.debug.wasm"))) add(join("build", "core.debug.wasm"));
  for (const p of listFiles(join(root, "build", "examples"), (r) => r.endsWith(".wasm"))) add(rel(p));
  for (const p of listFiles(join(root, "examples"), (r) => r.endsWith("manifest.json") || r === "system.json")) add(rel(p));
  add("package.json");
  add(join("scripts", "ensure-built.mjs")); // package.json's prepare hook runs it at npm ci
  add("package-lock.json");
  for (const e of readdirSync(join(root, "hardware"), { withFileTypes: true })) {
    if (e.isFile()) add(join("hardware", e.name));
  }
  for (const dir of ["common", board]) {
    for (const p of listFiles(join(root, "hardware", dir))) {
      if (isPrivateKey(p)) { warnings.push(`not copied: ${rel(p)} holds a private key`); continue; }
      if (SECRET_NAME.test(p)) { warnings.push(`not copied: ${rel(p)} looks like a key (.link, .status or .key); /opt/gsu is world-readable: name it in the profile (linkKey, status) instead`); continue; }
      add(rel(p));
    }
  }

  files.push({ src: profilePath, dest: PROFILE_DEST, mode: 0o644 });
  const profileDir = dirname(profilePath);
  for (const [id, keyPath] of Object.entries(profile.trustedKeys)) {
    const inside = relative(profileDir, keyPath);
    if (inside.startsWith("..") || isAbsolute(inside)) {
      // Absolute in the profile (or outside its directory): a path on the board; flash does not touch it.
      warnings.push(`trustedKeys.${id}: ${keyPath} is not beside the profile; it must exist on the board`);
      continue;
    }
    const dest = `etc/gsu/${inside.split(sep).join("/")}`;
    if (existsSync(keyPath)) {
      if (isPrivateKey(keyPath)) throw new DeployError(`trustedKeys.${id}: ${keyPath} is a private key; the profile must name the public key (.pub)`);
      files.push({ src: keyPath, dest, mode: 0o644 });
    } else {
      warnings.push(`trustedKeys.${id}: ${relative(process.cwd(), keyPath) || keyPath} does not exist; until /${dest} is on the board it refuses every upload (create a key pair, put the .pub there, flash again)`);
    }
  }
  // Secrets the board needs: the deployment's link key and the read-only status key.
  // Copied when they sit beside the profile (keys/deploy.link -> /etc/gsu/keys/deploy.link),
  // mode 0640, and on the board owned root:gsu (the service's group; nobody else reads them).
  const secrets: string[] = [];
  const secret = (field: string, path: string, make: string) => {
    const inside = relative(profileDir, path);
    if (inside.startsWith("..") || isAbsolute(inside)) {
      warnings.push(`${field}: ${path} is not beside the profile; gsu flash does not copy it: provision it on the board by hand (hardware/README.md, "The deployment's link key")`);
      return;
    }
    if (!existsSync(path)) throw new DeployError(`${field}: ${relative(process.cwd(), path) || path} does not exist; make it with ${make} (the board refuses to start without it)`);
    if (isPrivateKey(path)) throw new DeployError(`${field}: ${path} is an Ed25519 private key; it must be a 64-hex-digit key file (${make})`);
    const dest = `etc/gsu/${inside.split(sep).join("/")}`;
    files.push({ src: path, dest, mode: 0o640 });
    secrets.push(dest);
  };
  if (profile.linkKey) secret("linkKey", profile.linkKey, "gsu keygen --link-key NAME");
  if (typeof profile.status === "object") secret("status", profile.status.key, "gsu keygen --status-key NAME");
  files.push({ src: join(root, "hardware", "common", UNIT_NAME), dest: UNIT_DEST, mode: 0o644 });
  if (can[0]) files.push({ dest: NETWORK_DEST, content: canNetworkFile(can[0].iface, can[0].bitrate), mode: 0o644 });

  const setupArgs = [
    "--network", can[0] ? NETWORK_DEST : "none",
    "--unit", UNIT_DEST,
    ...(uart ? [] : ["--no-uart"]),
  ];
  return { board, profilePath, profile, files, links: [{ dest: UNIT_WANTS, target: `/${UNIT_DEST}` }], setupArgs, secrets, warnings };
}

/**
 * Lays the plan into `dir` (DIR/opt/gsu/..., DIR/etc/...). Files under
 * DIR/opt/gsu that the plan does not have are removed (node_modules/ is kept),
 * so the tree matches what a fresh flash leaves. Returns what changed.
 */
export function layOut(plan: DeployPlan, dir: string): { written: number; removed: string[] } {
  let written = 0;
  for (const f of plan.files) {
    const dest = join(dir, f.dest);
    mkdirSync(dirname(dest), { recursive: true });
    const data = f.content !== undefined ? Buffer.from(f.content) : readFileSync(f.src!);
    if (!existsSync(dest) || !readFileSync(dest).equals(data)) { writeFileSync(dest, data, { mode: f.mode }); written++; }
    chmodSync(dest, f.mode);
  }
  for (const l of plan.links) {
    const dest = join(dir, l.dest);
    mkdirSync(dirname(dest), { recursive: true });
    let ok = false;
    try { ok = lstatSync(dest).isSymbolicLink() && readlinkSync(dest) === l.target; } catch { /* absent */ }
    if (!ok) { rmSync(dest, { force: true }); symlinkSync(l.target, dest); written++; }
  }
  const planned = new Set(plan.files.map((f) => join(dir, f.dest)));
  const removed: string[] = [];
  const install = join(dir, INSTALL_DIR);
  for (const p of listFiles(install, (r) => !r.startsWith(`node_modules${sep}`))) {
    if (!planned.has(p)) { rmSync(p); removed.push(relative(dir, p)); }
  }
  return { written, removed };
}
