// The board's A/B slot store: stage, activate, commit, abort, boot; refusals
// leave the running version and the state untouched; power-cut leftovers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureExamplesBuilt } from "../examples-build.ts";
import { encodeImage, IMAGE_PREFIX, RejectedError, type ImageHeader } from "../../host/board/image.ts";
import { examplesView } from "../../host/board/policy.ts";
import { SlotStore, StoreError } from "../../host/board/store.ts";
import { cleanupTmp, image, relabelled, rogue, tmp, trusted } from "./fixtures.ts";

afterAll(() => cleanupTmp());

beforeAll(ensureExamplesBuilt, 120_000);

const system = examplesView();

/** Everything on disk under dir, file -> bytes (hex), plus what the store reports. */
function fingerprint(dir: string, s: SlotStore) {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, f.name);
      if (f.isDirectory()) walk(p);
      else files[p.slice(dir.length)] = readFileSync(p).toString("hex");
    }
  };
  walk(dir);
  return { files, status: s.status(), state: s.snapshot() };
}

/** A store running estimator and controller 1.0.0, committed. */
function provisioned() {
  const dir = tmp();
  const s = SlotStore.open(dir, trusted);
  s.stage(image("estimator", "1.0.0"));
  s.stage(image("controller", "1.0.0"));
  s.activate(["estimator", "controller"], { system });
  s.commit();
  return { dir, s };
}

function rejectedWith(fn: () => unknown): RejectedError {
  try { fn(); } catch (e) {
    if (e instanceof RejectedError) return e;
    throw e;
  }
  throw new Error("expected a RejectedError");
}

describe("slot store", () => {
  it("a fresh directory is empty; provisioning commits 1.0.0 in slot a", () => {
    const s = SlotStore.open(tmp(), trusted);
    expect(s.status()).toEqual([]);
    const { s: p } = provisioned();
    expect(p.statusOf("estimator")).toMatchObject({ name: "estimator", active: "1.0.0", slot: "a", state: "committed" });
    expect(p.statusOf("estimator").line).toBe("estimator: running 1.0.0 (slot a, committed); slot b empty");
  });

  it("stage -> activate -> commit, with a line for each step, surviving reopen", () => {
    const { dir, s } = provisioned();
    expect(s.stage(image("estimator", "2.0.0"))).toMatchObject({ name: "estimator", slot: "b", version: "2.0.0" });
    s.stage(image("controller", "2.0.0"));
    expect(s.statusOf("estimator").line).toBe("estimator: running 1.0.0 (slot a, committed); slot b holds 2.0.0 (staged, not active)");
    s.activate(["estimator", "controller"], { system });
    expect(s.statusOf("estimator")).toMatchObject({ active: "2.0.0", slot: "b", state: "trial", committed: { version: "1.0.0", slot: "a" } });
    expect(s.statusOf("estimator").line).toBe("estimator: running 2.0.0 (slot b, trial, not committed); slot a holds 1.0.0 (last committed)");
    // reopen in trial: reported faithfully
    const r = SlotStore.open(dir, trusted);
    expect(r.statusOf("controller")).toMatchObject({ active: "2.0.0", state: "trial" });
    expect(r.commit()).toEqual(["controller", "estimator"]);
    expect(r.statusOf("estimator").line).toBe("estimator: running 2.0.0 (slot b, committed); slot a holds 1.0.0 (previous committed version)");
    expect(SlotStore.open(dir, trusted).committedVersions()).toEqual({ controller: "2.0.0", estimator: "2.0.0" });
    expect(r.activeImage("estimator").manifest.version).toBe("2.0.0");
  });

  it("abort runs the committed version again; a restart drops an uncommitted trial", () => {
    const { dir, s } = provisioned();
    s.stage(image("estimator", "2.0.0"));
    s.stage(image("controller", "2.0.0"));
    s.activate(["estimator", "controller"]);
    s.abort(["estimator", "controller"]);
    expect(s.statusOf("estimator").line).toBe("estimator: running 1.0.0 (slot a, committed); slot b holds 2.0.0 (aborted, not committed)");
    s.stage(image("estimator", "2.0.0"));
    s.stage(image("controller", "2.0.0"));
    s.activate(["estimator", "controller"]);
    // the board dies here; the daemon starts again
    const r = SlotStore.open(dir, trusted);
    expect(r.boot()).toEqual({ running: { estimator: "1.0.0", controller: "1.0.0" }, dropped: ["estimator 2.0.0", "controller 2.0.0"] });
    expect(r.describe()).toEqual([
      "controller: running 1.0.0 (slot a, committed); slot b holds 2.0.0 (trial abandoned at restart, not committed)",
      "estimator: running 1.0.0 (slot a, committed); slot b holds 2.0.0 (trial abandoned at restart, not committed)",
    ]);
    expect(r.activeImage("estimator").manifest.version).toBe("1.0.0");
  });

  it("every refusal leaves files, state and the running version exactly as they were", () => {
    const { dir, s } = provisioned();
    s.stage(image("estimator", "2.0.0")); // something in the inactive slot too
    const before = fingerprint(dir, s);
    const good = image("controller", "2.0.0");
    const h = new DataView(good.buffer).getUint32(6, true);
    const tamperedWasm = good.slice(); tamperedWasm[tamperedWasm.length - 5] ^= 0x80;
    const header = JSON.parse(Buffer.from(good.subarray(IMAGE_PREFIX, IMAGE_PREFIX + h)).toString()) as ImageHeader;
    const tamperedManifest = encodeImage({ ...header, manifest: { ...header.manifest, description: "evil" } }, good.subarray(IMAGE_PREFIX + h));
    const { sig: _s, keyId: _k, ...unsignedHeader } = header;
    void _s; void _k;
    const cases: [string, Uint8Array, RegExp][] = [
      ["tampered", tamperedWasm, /does not match its signed sha256/],
      ["bad-signature", tamperedManifest, /signature does not match key ground-1/],
      ["truncated", good.subarray(0, good.length - 10), /wasm has/],
      ["truncated", good.subarray(0, 20), /header alone needs/],
      ["unsigned", encodeImage(unsignedHeader as ImageHeader, good.subarray(IMAGE_PREFIX + h)), /unsigned/],
      ["unknown-key", image("controller", "2.0.0", { key: rogue, keyId: "rogue" }), /does not trust/],
      ["bad-signature", image("controller", "2.0.0", { key: rogue }), /signature does not match key ground-1/],
      ["downgrade", relabelled("controller", "1.0.0", "0.9.0"), /older than the running 1\.0\.0/],
      ["same-version", image("controller", "1.0.0"), /already running/],
    ];
    for (const [kind, bytes, re] of cases) {
      const e = rejectedWith(() => s.stage(bytes));
      expect(e.kind, e.message).toBe(kind);
      expect(e.message).toMatch(re);
      expect(fingerprint(dir, s), `after ${kind}`).toEqual(before);
    }
    // and after reopening, the same
    expect(fingerprint(dir, SlotStore.open(dir, trusted)).files).toEqual(before.files);
  });

  it("a downgrade goes through with allowDowngrade", () => {
    const { s } = provisioned();
    const old = relabelled("controller", "1.0.0", "0.9.0");
    expect(s.stage(old, { allowDowngrade: true })).toMatchObject({ version: "0.9.0", slot: "b" });
  });

  it("a plan whose interface change leaks is refused at activation, naming the port, state untouched", () => {
    const { dir, s } = provisioned();
    s.stage(image("estimator", "2.0.0"));
    const before = fingerprint(dir, s);
    const e = rejectedWith(() => s.activate(["estimator"], { system }));
    expect(e.kind).toBe("interface-leak");
    expect(e.message).toMatch(/estimator@2\.0\.0 port 'attitude' speaks attitude\.quat@2 but controller@1\.0\.0 port 'attitude' speaks attitude\.euler@1/);
    expect(fingerprint(dir, s)).toEqual(before);
    expect(s.statusOf("estimator")).toMatchObject({ active: "1.0.0", state: "committed" });
    // with the controller in the plan it goes through
    s.stage(image("controller", "2.0.0"));
    s.activate(["estimator", "controller"], { system });
    expect(s.statusOf("estimator").state).toBe("trial");
  });

  it("refuses staging over a trial and activating nothing staged", () => {
    const { s } = provisioned();
    expect(rejectedWith(() => s.activate(["estimator"])).kind).toBe("not-staged");
    s.stage(image("estimator", "2.0.0"));
    s.stage(image("controller", "2.0.0"));
    s.activate(["estimator", "controller"]);
    expect(rejectedWith(() => s.stage(image("estimator", "2.0.0"))).kind).toBe("busy");
    expect(() => s.commit(["sensor"])).toThrow(StoreError);
  });
});

describe("what a board keeps about a commit across a crash", () => {
  it("the coordinator's commit log (commit.json): absent, then the commit it opened, then its decision, surviving reopen; a damaged file is refused with the fix", () => {
    const dir = tmp();
    const s = SlotStore.open(dir, trusted);
    expect(s.commitLog()).toBeUndefined();
    s.recordCommitLog({ n: 3, decided: false });
    expect(SlotStore.open(dir, trusted).commitLog()).toEqual({ n: 3, decided: false });
    s.recordCommitLog({ n: 3, decided: true });
    expect(SlotStore.open(dir, trusted).commitLog()).toEqual({ n: 3, decided: true });
    writeFileSync(join(dir, "commit.json"), "{\"n\": 3, \"dec");
    expect(() => SlotStore.open(dir, trusted).commitLog()).toThrow(/commit\.json is not valid JSON.*restore it, or delete it/);
    writeFileSync(join(dir, "commit.json"), JSON.stringify({ n: "3", decided: true }));
    expect(() => SlotStore.open(dir, trusted).commitLog()).toThrow(StoreError);
  });
});

describe("power cut leftovers", () => {
  it("truncated temp files of a slot write and of a state write are removed; the old version runs", () => {
    const { dir, s } = provisioned();
    const before = fingerprint(dir, s);
    const img = image("estimator", "2.0.0");
    const slotTmp = join(dir, "slots", "estimator", `.b.gsui.4242.deadbeef.tmp`);
    writeFileSync(slotTmp, img);
    truncateSync(slotTmp, 777); // the power went while it was being written
    const stateTmp = join(dir, `.state.json.4242.cafebabe.tmp`);
    writeFileSync(stateTmp, readFileSync(join(dir, "state.json")).subarray(0, 50));
    const r = SlotStore.open(dir, trusted);
    expect(r.report.cleaned.sort()).toEqual([stateTmp, slotTmp].sort());
    expect(existsSync(slotTmp) || existsSync(stateTmp)).toBe(false);
    expect(fingerprint(dir, r)).toEqual(before);
    expect(r.statusOf("estimator").line).toBe("estimator: running 1.0.0 (slot a, committed); slot b empty");
  });

  it("a torn inactive slot (a filesystem that reordered the rename) is moved aside and reported", () => {
    const { dir, s } = provisioned();
    s.stage(image("estimator", "2.0.0"));
    const slot = join(dir, "slots", "estimator", "b.gsui");
    truncateSync(slot, 300);
    const r = SlotStore.open(dir, trusted);
    expect(r.report.rejected).toHaveLength(1);
    expect(r.report.rejected[0]).toMatch(/b\.gsui: truncated/);
    expect(r.report.repaired[0]).toMatch(/estimator: staged 2\.0\.0 in slot b is gone/);
    expect(existsSync(`${slot}.rejected`)).toBe(true);
    expect(r.statusOf("estimator").line).toBe("estimator: running 1.0.0 (slot a, committed); slot b empty");
    expect(rejectedWith(() => r.activate(["estimator"])).kind).toBe("not-staged");
  });

  it("a committed slot signed by a key no longer trusted is not run", () => {
    const { dir } = provisioned();
    const r = SlotStore.open(dir, { rogue: rogue.pub });
    expect(r.report.rejected.length).toBe(2); // slot a of estimator and of controller
    expect(r.statusOf("estimator")).toMatchObject({ active: null, state: "none" });
    expect(r.statusOf("estimator").line).toBe("estimator: nothing committed");
  });

  it("a damaged state file is refused with a clear error rather than guessed", () => {
    const { dir } = provisioned();
    const f = join(dir, "state.json");
    writeFileSync(f, readFileSync(f, "utf8").replace('"1.0.0"', '"2.0.0"'));
    expect(() => SlotStore.open(dir, trusted)).toThrow(/state\.json fails its checksum/);
  });
});
