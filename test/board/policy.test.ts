// Upgrade policy: no downgrade without --allow-downgrade; no interface change
// that leaks outside the planned cluster.
import { describe, expect, it } from "vitest";
import { checkDowngrade, checkPlan, compareSemver, examplesView } from "../../host/board/policy.ts";
import { validateManifest, type Manifest } from "../../host/component/manifest.ts";
import { manifestOf } from "./fixtures.ts";

const refusal = (r: ReturnType<typeof checkPlan>) => {
  if (r.ok) throw new Error(`expected a refusal, got cluster ${r.cluster}`);
  return r;
};

describe("semver order", () => {
  it("follows semver.org precedence", () => {
    const order = ["0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0"];
    for (let i = 0; i < order.length; i++) {
      for (let j = 0; j < order.length; j++) expect(compareSemver(order[i], order[j]), `${order[i]} vs ${order[j]}`).toBe(Math.sign(i - j));
    }
    expect(compareSemver("1.0.0+build.1", "1.0.0+build.2")).toBe(0);
    expect(() => compareSemver("1.0", "1.0.0")).toThrow(/not a semver/);
  });
});

describe("downgrades", () => {
  it("are refused unless allowed; the same version too; a first install is fine", () => {
    expect(checkDowngrade("estimator", "2.0.0", "1.0.0")).toMatchObject({ kind: "downgrade", reason: expect.stringMatching(/estimator 1\.0\.0 is older than the running 2\.0\.0; refusing a downgrade without --allow-downgrade/) });
    expect(checkDowngrade("estimator", "2.0.0", "1.0.0", true)).toBeNull();
    expect(checkDowngrade("estimator", "2.0.0", "2.0.0")).toMatchObject({ kind: "same-version" });
    expect(checkDowngrade("estimator", "1.0.0", "2.0.0")).toBeNull();
    expect(checkDowngrade("estimator", undefined, "0.1.0")).toBeNull();
  });

  it("a plan holding a downgrade is refused before anything else", () => {
    const view = examplesView({ sensor: "1.0.0", estimator: "2.0.0", controller: "2.0.0", fdir: "1.0.0", telemetry: "1.0.0" });
    const r = refusal(checkPlan(view, [manifestOf("estimator", "1.0.0"), manifestOf("controller", "1.0.0")]));
    expect(r.kind).toBe("downgrade");
    const ok = checkPlan(view, [manifestOf("estimator", "1.0.0"), manifestOf("controller", "1.0.0")], { allowDowngrade: true });
    expect(ok).toEqual({ ok: true, cluster: ["estimator", "controller"] });
  });
});

describe("interface leaks", () => {
  const view = examplesView();

  it("the demo plan {estimator, controller} 2.0.0 keeps its interface change inside the cluster", () => {
    expect(checkPlan(view, [manifestOf("estimator", "2.0.0"), manifestOf("controller", "2.0.0")])).toEqual({ ok: true, cluster: ["estimator", "controller"] });
  });

  it("estimator 2.0.0 alone leaks attitude.quat@2 to controller 1.0.0, naming both ports", () => {
    const r = refusal(checkPlan(view, [manifestOf("estimator", "2.0.0")]));
    expect(r.kind).toBe("interface-leak");
    expect(r.reason).toMatch(/interface leak: estimator@2\.0\.0 port 'attitude' speaks attitude\.quat@2 but controller@1\.0\.0 port 'attitude' speaks attitude\.euler@1; add a new version of 'controller' to the plan/);
  });

  it("controller 2.0.0 alone leaks on its input port", () => {
    const r = refusal(checkPlan(view, [manifestOf("controller", "2.0.0")]));
    expect(r.kind).toBe("interface-leak");
    expect(r.reason).toMatch(/controller@2\.0\.0 port 'attitude'/);
  });

  it("a change on a device port leaks to the device, which cannot be upgraded", () => {
    const m = manifestOf("controller", "2.0.0");
    const raw = { ...m, ports: m.ports.map((p) => (p.name === "wheel" ? { ...p, iface: "wheel.cmd@2" } : p)) };
    const bumped: Manifest = validateManifest(raw, "test");
    const r = refusal(checkPlan(view, [manifestOf("estimator", "2.0.0"), bumped]));
    expect(r.kind).toBe("interface-leak");
    expect(r.reason).toMatch(/port 'wheel' changes wheel\.cmd@1 -> wheel\.cmd@2 towards device 'wheel'/);
  });

  it("a plan naming an unknown component is refused; a cluster across boards is accepted (docs/protocol.md point 4)", () => {
    const m = validateManifest({ ...manifestOf("sensor", "1.0.0"), name: "ghost", version: "1.0.1" }, "test");
    expect(refusal(checkPlan(view, [m])).kind).toBe("plan-invalid");
    const split = { ...view, boards: [{ name: "io", node: 1, components: ["sensor", "estimator", "fdir", "telemetry"] }, { name: "gnc", node: 2, components: ["controller"] }] };
    expect(checkPlan(split, [manifestOf("estimator", "2.0.0"), manifestOf("controller", "2.0.0")])).toEqual({ ok: true, cluster: ["estimator", "controller"] });
  });
});
