// What a board refuses before it stages or activates a verified image:
// a downgrade (unless allowed) and a plan whose interface changes leak outside
// the planned cluster (host/runtime/system.ts computeCluster, unchanged).
import { wireSystem } from "../component/wiring.ts";
import { join } from "node:path";
import { loadManifest, type Manifest } from "../component/manifest.ts";
import { EXAMPLES_DIR, loadSystem, manifestPath } from "../component/demo.ts";
import type { ComponentVersion } from "../runtime/app.ts";
import { computeCluster, type SystemSpec } from "../runtime/system.ts";
import { reject, type Rejection } from "./image.ts";

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** Semantic-version precedence (semver.org §11): -1, 0 or 1. Build metadata is ignored. */
export function compareSemver(a: string, b: string): -1 | 0 | 1 {
  const ma = SEMVER.exec(a), mb = SEMVER.exec(b);
  if (!ma) throw new TypeError(`not a semver version: ${JSON.stringify(a)}`);
  if (!mb) throw new TypeError(`not a semver version: ${JSON.stringify(b)}`);
  const sign = (x: number): -1 | 0 | 1 => (x < 0 ? -1 : x > 0 ? 1 : 0);
  for (let i = 1; i <= 3; i++) {
    const d = sign(Number(ma[i]) - Number(mb[i]));
    if (d) return d;
  }
  const pa = ma[4], pb = mb[4];
  if (pa === undefined || pb === undefined) return pa === pb ? 0 : pa === undefined ? 1 : -1;
  const xa = pa.split("."), xb = pb.split(".");
  for (let i = 0; i < Math.max(xa.length, xb.length); i++) {
    if (i >= xa.length) return -1;
    if (i >= xb.length) return 1;
    const na = /^\d+$/.test(xa[i]), nb = /^\d+$/.test(xb[i]);
    if (na && nb) { const d = sign(Number(xa[i]) - Number(xb[i])); if (d) return d; continue; }
    if (na !== nb) return na ? -1 : 1;
    if (xa[i] !== xb[i]) return xa[i] < xb[i] ? -1 : 1;
  }
  return 0;
}

/**
 * Refuses replacing `current` with `next` when next is not newer, unless
 * allowDowngrade. Null when allowed (or nothing runs yet).
 */
export function checkDowngrade(name: string, current: string | undefined, next: string, allowDowngrade = false): Rejection | null {
  if (current === undefined || allowDowngrade) return null;
  const c = compareSemver(next, current);
  if (c < 0) return reject("downgrade", `${name} ${next} is older than the running ${current}; refusing a downgrade without --allow-downgrade`);
  if (c === 0) return reject("same-version", `${name} ${next} is the version already running; reinstalling it needs --allow-downgrade`);
  return null;
}

/** The system as a board sees it: the manifests that run now and how they are wired. */
export interface SystemView {
  /** manifests of the running versions, by component name */
  current: Record<string, Manifest>;
  /** component-to-component links, "comp.port" on both ends (examples/system.json's links) */
  links: { from: string; to: string }[];
  /** placement; by default every component on one board */
  boards?: { name: string; node: number; components: string[] }[];
}

const stub = (m: Manifest): ComponentVersion => ({
  name: m.name, version: m.version, ports: m.ports,
  create: () => { throw new Error(`${m.name}@${m.version}: a policy check spec cannot run components`); },
});

/** Builds a SystemSpec from manifests and links, as host/sim/demo-system.ts does for the testbed. */
export function specFromManifests(view: SystemView): SystemSpec {
  const components = Object.fromEntries(Object.entries(view.current).map(([n, m]) => [n, { ...stub(m), manifest: m }]));
  return wireSystem(components, view.links, view.boards ?? [{ name: "board", node: 1, components: Object.keys(components) }]);
}

export interface PlanCheck { ok: true; cluster: string[] }

/**
 * The checks on an upgrade plan (the new manifests, at most one per component):
 * no downgrade unless allowed, and every interface change inside the cluster.
 * Returns the cluster, or the first refusal (a leak names the component, the
 * port and both interfaces).
 */
export function checkPlan(view: SystemView, upgrades: Manifest[], { allowDowngrade = false } = {}): PlanCheck | Rejection {
  for (const u of upgrades) {
    const cur = view.current[u.name];
    const d = checkDowngrade(u.name, cur?.version, u.version, allowDowngrade);
    if (d) return d;
  }
  let spec: SystemSpec;
  try {
    spec = specFromManifests(view);
  } catch (e) {
    return reject("plan-invalid", `the running system does not check: ${(e as Error).message}`);
  }
  try {
    const cluster = computeCluster(spec, { upgrades: upgrades.map(stub) });
    return { ok: true, cluster };
  } catch (e) {
    const msg = (e as Error).message;
    return reject(/^interface (leak|mismatch)/.test(msg) ? "interface-leak" : "plan-invalid", msg);
  }
}

/** The demo system's view (examples/system.json 'initial' versions and links). */
export function examplesView(versions?: Record<string, string>, file = join(EXAMPLES_DIR, "system.json")): SystemView {
  const sys = loadSystem(file);
  const current: Record<string, Manifest> = {};
  for (const [name, version] of Object.entries(versions ?? sys.initial)) current[name] = loadManifest(manifestPath(name, version));
  return { current, links: sys.links };
}
