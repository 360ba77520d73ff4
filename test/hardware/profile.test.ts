// Board profiles (host/board/profile.ts): the shipped ones validate; a bad value
// in any field, or an unknown field, is refused with the field named.
import { afterAll, describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  DEFAULT_COMMIT, DEFAULT_TELEMETRY, loadProfile, loadProfileKeys, ProfileError, validateProfile,
} from "../../host/board/profile.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const SHIPPED = ["raspberry-pi", "beaglebone"] as const;

/** A minimal valid profile; tests override one field at a time. */
function base(): Record<string, unknown> {
  return {
    name: "pi-1",
    node: 1,
    links: [{ kind: "socketcan", iface: "can0", bitrate: 500000 }],
    stateDir: "/var/lib/gsu",
  };
}

function refusal(profile: unknown, source = "test.json"): ProfileError {
  try {
    validateProfile(profile, source, "/etc/gsu");
  } catch (e) {
    expect(e).toBeInstanceOf(ProfileError);
    return e as ProfileError;
  }
  throw new Error(`profile was accepted: ${JSON.stringify(profile)}`);
}

describe("shipped board profiles", () => {
  for (const board of SHIPPED) {
    it(`hardware/${board}/profile.json validates`, () => {
      const p = loadProfile(join(root, "hardware", board, "profile.json"));
      expect(p.board).toBe(board);
      expect(p.node).toBeGreaterThanOrEqual(1);
      expect(p.stateDir).toBe("/var/lib/gsu");
      expect(p.links.some((l) => l.kind === "socketcan")).toBe(true);
      expect(p.links.some((l) => l.kind === "serial")).toBe(true);
      expect(p.trustedKeys.ground).toBe(join(root, "hardware", board, "keys", "ground.pub"));
      // Every initial component exists among the examples.
      for (const c of p.components) {
        expect(() => readFileSync(join(root, "examples", c.name, c.version, "manifest.json"))).not.toThrow();
      }
    });
  }

  it("the two shipped boards have different node ids and together run the demo's five components once", () => {
    const [a, b] = SHIPPED.map((x) => loadProfile(join(root, "hardware", x, "profile.json")));
    expect(a!.node).not.toBe(b!.node);
    const names = [...a!.components, ...b!.components].map((c) => c.name).sort();
    expect(names).toEqual(["controller", "estimator", "fdir", "sensor", "telemetry"]);
  });
});

describe("validateProfile: defaults and path resolution", () => {
  it("fills in defaults for the optional fields", () => {
    const p = validateProfile(base(), "x.json", "/etc/gsu");
    expect(p.components).toEqual([]);
    expect(p.trustedKeys).toEqual({});
    expect(p.at.commit).toEqual(DEFAULT_COMMIT);
    expect(p.telemetry).toEqual(DEFAULT_TELEMETRY);
  });

  it("resolves relative stateDir and key paths against the profile's directory; keeps absolute ones", () => {
    const p = validateProfile({ ...base(), stateDir: "state", trustedKeys: { ground: "keys/ground.pub", ops: "/srv/ops.pub" } }, "x.json", "/etc/gsu");
    expect(p.stateDir).toBe("/etc/gsu/state");
    expect(p.trustedKeys).toEqual({ ground: "/etc/gsu/keys/ground.pub", ops: "/srv/ops.pub" });
  });

  it("accepts every link kind, manual commit, zeroed telemetry, components", () => {
    const p = validateProfile({
      ...base(),
      links: [
        { kind: "socketcan", iface: "vcan0", bitrate: 125000 },
        { kind: "slcan", path: "/dev/ttyACM0", bitrate: 1000000 },
        { kind: "serial", path: "/dev/ttyS4", baud: 921600 },
      ],
      components: ["sensor@1.0.0", "controller@2.0.0-rc.1"],
      at: { commit: "manual" },
      telemetry: { housekeepingHz: 0, linkHz: 0, maxEventsPerSecond: 0 },
    }, "x.json", "/");
    expect(p.links[1]).toEqual({ kind: "slcan", path: "/dev/ttyACM0", bitrate: 1000000, baud: 115200 });
    expect(p.components).toEqual([{ name: "sensor", version: "1.0.0" }, { name: "controller", version: "2.0.0-rc.1" }]);
    expect(p.at.commit).toBe("manual");
  });
});

describe("validateProfile refuses a bad value in each field, naming it", () => {
  // [what, the profile (or a change to base()), the field the message must name, more text it must contain]
  type Case = [string, Record<string, unknown>, string, string?];
  const link = (l: Record<string, unknown>) => ({ links: [l] });
  const cases: Case[] = [
    ["name with a space", { name: "pi 1" }, "name must be"],
    ["name missing", { name: undefined }, "name is missing"],
    ["node 0", { node: 0 }, "node must be an integer in 1..127", "not 0"],
    ["node 128", { node: 128 }, "node must be an integer in 1..127", "not 128"],
    ["node 1.5", { node: 1.5 }, "node must be"],
    ["node as a string", { node: "1" }, "node must be", 'not "1"'],
    ["unknown board", { board: "arduino" }, "board must be one of", '"raspberry-pi"'],
    ["description not a string", { description: 5 }, "description must be a string"],
    ["links missing", { links: undefined }, "links is missing"],
    ["links empty", { links: [] }, "links must be a non-empty array"],
    ["link not an object", { links: ["can0"] }, "links[0] must be a link object"],
    ["link kind", link({ kind: "can", iface: "can0", bitrate: 500000 }), "links[0].kind must be one of", '"socketcan"'],
    ["socketcan bitrate a word", link({ kind: "socketcan", iface: "can0", bitrate: "fast" }), "links[0].bitrate must be an integer in 10000..1000000 (bit/s), not \"fast\""],
    ["socketcan bitrate too low", link({ kind: "socketcan", iface: "can0", bitrate: 5000 }), "links[0].bitrate must be", "not 5000"],
    ["socketcan bitrate missing", link({ kind: "socketcan", iface: "can0" }), "links[0].bitrate is missing"],
    ["socketcan iface with a slash", link({ kind: "socketcan", iface: "can/0", bitrate: 500000 }), "links[0].iface must be"],
    ["socketcan iface too long", link({ kind: "socketcan", iface: "can0123456789abc", bitrate: 500000 }), "links[0].iface must be"],
    ["slcan bitrate not an SLCAN rate", link({ kind: "slcan", path: "/dev/ttyACM0", bitrate: 300000 }), "links[0].bitrate must be one of 10000, 20000", "not 300000"],
    ["slcan path relative", link({ kind: "slcan", path: "ttyACM0", bitrate: 500000 }), "links[0].path must be an absolute device path"],
    ["slcan baud odd", link({ kind: "slcan", path: "/dev/ttyACM0", bitrate: 500000, baud: 12345 }), "links[0].baud must be one of"],
    ["serial baud odd", link({ kind: "serial", path: "/dev/ttyS0", baud: 1234 }), "links[0].baud must be one of", "115200"],
    ["serial baud missing", link({ kind: "serial", path: "/dev/ttyS0" }), "links[0].baud is missing"],
    ["serial path missing", link({ kind: "serial", baud: 115200 }), "links[0].path is missing"],
    ["a link field of another kind", link({ kind: "serial", path: "/dev/ttyS0", baud: 115200, bitrate: 500000 }), "links[0].bitrate is not a known field of links[0]"],
    ["a misspelt link field", link({ kind: "socketcan", iface: "can0", bitRate: 500000 }), "links[0].bitRate is not a known field", "did you mean 'bitrate'"],
    ["two links on one interface", { links: [{ kind: "socketcan", iface: "can0", bitrate: 500000 }, { kind: "socketcan", iface: "can0", bitrate: 250000 }] }, "links[1] uses interface can0, which links[0] already uses"],
    ["two links on one device", { links: [{ kind: "serial", path: "/dev/ttyS1", baud: 115200 }, { kind: "slcan", path: "/dev/ttyS1", bitrate: 500000 }] }, "links[1] uses device /dev/ttyS1"],
    ["stateDir missing", { stateDir: undefined }, "stateDir is missing"],
    ["stateDir a number", { stateDir: 42 }, "stateDir must be", "not 42"],
    ["stateDir empty", { stateDir: "" }, "stateDir must be"],
    ["components not an array", { components: "sensor@1.0.0" }, "components must be an array"],
    ["component without a version", { components: ["sensor"] }, "components[0] must be \"name@version\""],
    ["component with a capital", { components: ["Sensor@1.0.0"] }, "components[0] must be"],
    ["component version not semver", { components: ["sensor@1.0"] }, "components[0] must be", '"sensor@1.0"'],
    ["a component twice", { components: ["sensor@1.0.0", "sensor@2.0.0"] }, "components[1] names 'sensor' again (components[0])"],
    ["trustedKeys an array", { trustedKeys: ["ground.pub"] }, "trustedKeys must be an object mapping key ids"],
    ["trusted key id", { trustedKeys: { "bad id": "k.pub" } }, "trustedKeys has a bad key id \"bad id\""],
    ["trusted key path a number", { trustedKeys: { ground: 5 } }, "trustedKeys.ground must be the path of an Ed25519 public key"],
    ["at not an object", { at: 5 }, "at must be an object"],
    ["at unknown field", { at: { comit: "manual" } }, "at.comit is not a known field of at", "did you mean 'commit'"],
    ["at.commit a word", { at: { commit: "auto" } }, "at.commit must be \"manual\" or"],
    ["at.commit.afterPassed 0", { at: { commit: { afterPassed: 0, quietSeconds: 10 } } }, "at.commit.afterPassed must be an integer in 1..1000000"],
    ["at.commit.afterPassed missing", { at: { commit: { quietSeconds: 10 } } }, "at.commit.afterPassed is missing"],
    ["at.commit.quietSeconds negative", { at: { commit: { afterPassed: 5, quietSeconds: -1 } } }, "at.commit.quietSeconds must be a number in 0..86400"],
    ["at.commit unknown field", { at: { commit: { afterPassed: 5, quiet: 3 } } }, "at.commit.quiet is not a known field"],
    ["telemetry not an object", { telemetry: 1 }, "telemetry must be an object"],
    ["telemetry.housekeepingHz too high", { telemetry: { housekeepingHz: 100 } }, "telemetry.housekeepingHz must be a number in 0..50", "not 100"],
    ["telemetry.linkHz a word", { telemetry: { linkHz: "fast" } }, "telemetry.linkHz must be a number in 0..50"],
    ["telemetry.maxEventsPerSecond fractional", { telemetry: { maxEventsPerSecond: 1.5 } }, "telemetry.maxEventsPerSecond must be an integer in 0..1000"],
    ["telemetry unknown field", { telemetry: { hkHz: 1 } }, "telemetry.hkHz is not a known field of telemetry"],
    ["unknown top-level field (typo)", { componets: ["sensor@1.0.0"] }, "componets is not a known field", "did you mean 'components'"],
    ["unknown top-level field", { wifi: true }, "wifi is not a known field", "known fields: name, node"],
  ];
  for (const [what, change, field, more] of cases) {
    it(`${what} -> "${field}"`, () => {
      const p = { ...base(), ...change };
      for (const k of Object.keys(change)) if (change[k] === undefined) delete p[k];
      const e = refusal(p, "hardware/raspberry-pi/profile.json");
      expect(e.message.startsWith("hardware/raspberry-pi/profile.json: ")).toBe(true);
      expect(e.message).toContain(field);
      if (more) expect(e.message).toContain(more);
      expect(e.problems).toHaveLength(1); // only the field that is wrong is blamed
    });
  }

  it("reports every bad field at once, one per line", () => {
    const e = refusal({ ...base(), node: 0, stateDir: 1, links: [{ kind: "socketcan", iface: "can0", bitrate: "fast" }], typo: 1 });
    expect(e.problems).toHaveLength(4);
    expect(e.message).toMatch(/^test\.json: 4 problems:\n {2}typo is not a known field/);
    for (const f of ["node must be", "stateDir must be", "links[0].bitrate must be"]) expect(e.message).toContain(`\n  ${f}`);
  });

  it("refuses a profile that is not an object", () => {
    expect(refusal([]).message).toContain("the profile must be a JSON object");
    expect(refusal(null).message).toContain("the profile must be a JSON object");
  });
});

describe("loadProfile and loadProfileKeys", () => {
  const dir = mkdtempSync(join(tmpdir(), "gsu-profile-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("names the file and the JSON error for a file that is not JSON", () => {
    const f = join(dir, "broken.json");
    writeFileSync(f, '{ "name": "x", }');
    expect(() => loadProfile(f)).toThrow(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: is not valid JSON`));
  });

  it("names the file when it cannot be read", () => {
    expect(() => loadProfile(join(dir, "nope.json"))).toThrow(/nope\.json: cannot read the profile: ENOENT/);
  });

  it("loads Ed25519 keys by id and refuses missing, non-PEM and non-Ed25519 keys, naming trustedKeys.<id>", () => {
    mkdirSync(join(dir, "keys"), { recursive: true });
    const ed = generateKeyPairSync("ed25519").publicKey.export({ format: "pem", type: "spki" }) as string;
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "pem", type: "spki" }) as string;
    writeFileSync(join(dir, "keys", "ground.pub"), ed);
    writeFileSync(join(dir, "keys", "rsa.pub"), rsa);
    writeFileSync(join(dir, "keys", "junk.pub"), "not a key");
    const f = join(dir, "profile.json");
    writeFileSync(f, JSON.stringify({ ...base(), trustedKeys: { ground: "keys/ground.pub" } }));
    const keys = loadProfileKeys(loadProfile(f));
    expect(Object.keys(keys)).toEqual(["ground"]);
    expect(keys.ground!.asymmetricKeyType).toBe("ed25519");

    writeFileSync(f, JSON.stringify({ ...base(), trustedKeys: { ground: "keys/ground.pub", old: "keys/rsa.pub", bad: "keys/junk.pub", gone: "keys/gone.pub" } }));
    let err: unknown;
    try { loadProfileKeys(loadProfile(f)); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ProfileError);
    const msg = (err as Error).message;
    expect(msg).toContain("trustedKeys.old:");
    expect(msg).toContain("rsa key, not Ed25519");
    expect(msg).toContain("trustedKeys.bad:");
    expect(msg).toContain("trustedKeys.gone:");
    expect(msg).toContain("ENOENT");
    expect(msg).not.toContain("trustedKeys.ground");
  });
});
