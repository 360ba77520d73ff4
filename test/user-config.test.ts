// A user's own system: AssemblyScript components outside examples/, built with
// `gsu build-component`, moved to an unrelated folder, rehearsed with
// `gsu rehearse --config`; and every kind of bad input exits 2 naming the file,
// the field and what to do.
import { beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const src = join(root, "examples-user", "thermal");
const gsu = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [join(root, "bin/gsu.js"), ...args], { cwd, encoding: "utf8", timeout: 240_000 });
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);

let sys: string;         // the built system, copied to an unrelated folder
let elsewhere: string;   // a third folder to run gsu from
let n = 0;
/** A copy of the built system with one change; returns its system.json. */
function variant(change: (dir: string, j: Record<string, any>) => void): string {
  const d = join(tmpdir(), `gsu-user-variant-${process.pid}-${n++}`);
  rmSync(d, { recursive: true, force: true });
  cpSync(sys, d, { recursive: true });
  const p = join(d, "system.json");
  const j = JSON.parse(readFileSync(p, "utf8"));
  change(d, j);
  writeFileSync(p, JSON.stringify(j, null, 2));
  return p;
}
/** The wasm without its "gsu.component" section: as a hand-built one (asc + the pass) is. */
function unstamped(wasm: Uint8Array): Uint8Array {
  const keep: Uint8Array[] = [wasm.subarray(0, 8)];
  for (let o = 8; o < wasm.length;) {
    const start = o++;
    let size = 0, shift = 0, b: number;
    do { b = wasm[o++]; size |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
    const end = o + size;
    const nameLen = wasm[o];
    const custom = wasm[start] === 0 && Buffer.from(wasm.subarray(o + 1, o + 1 + nameLen)).toString() === "gsu.component";
    if (!custom) keep.push(wasm.subarray(start, end));
    o = end;
  }
  return Buffer.concat(keep);
}
const rehearse = (config: string, ...args: string[]) => gsu(elsewhere, "rehearse", "--config", config, "--html", "-", ...args);

beforeAll(() => {
  const build = mkdtempSync(join(tmpdir(), "gsu-user-build-"));
  cpSync(src, build, { recursive: true });
  const r = gsu(build, "build-component", "--system", "system.json");
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  expect(r.stdout).toMatch(/built 6 components/);
  // move it where nothing refers to GSU's tree or to the build folder
  sys = join(mkdtempSync(join(tmpdir(), "gsu-user-elsewhere-")), "thermal");
  cpSync(build, sys, { recursive: true });
  rmSync(build, { recursive: true, force: true });
  elsewhere = mkdtempSync(join(tmpdir(), "gsu-user-cwd-"));
}, 300_000);

describe("gsu rehearse --config: a user's system from an unrelated folder", () => {
  it("the default rehearsal: a fault in the first faultable new version, detected by an AT on one of the two devices the regulator drives in one step, PASS", () => {
    const r = rehearse(join(sys, "system.json"), "--steps", "150");
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/fault filter@90/);
    expect(r.stdout).toMatch(/Boards: bay \(sensor, logger\) · ctrl \(filter, regulator\)/);
    expect(r.stdout).toMatch(/cluster \{filter, regulator\}/);
    expect(r.stdout).toMatch(/AT failed: regulator\(new\) -> (heater|fan)/);
    expect(r.stdout).toMatch(/takeover: old filter is active/);
    expect(r.stdout).toMatch(/Devices: heater 150 messages, fan 150 messages, downlink 150 messages/);
    expect(r.stdout).toMatch(/Verdict: PASS/);
  });

  it("a fault in the other member (the integrator), a long-latency seed: PASS, ended by recovery", () => {
    const r = rehearse(join(sys, "system.json"), "--steps", "100", "--fault", "regulator@55", "--seed", "7", "--latency", "100..30000", "--json");
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ verdict: "pass", ended: "recovery", devices: { heater: 100, fan: 100, downlink: 100 } });
  });

  it("no fault: guarded operation ends by commit; the new versions drove both devices; PASS", () => {
    const trace = join(elsewhere, "nofault.jsonl");
    const r = rehearse(join(sys, "system.json"), "--steps", "80", "--no-fault", "--commit-after", "30", "--json", "--trace", trace);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: "pass", ended: "commit" });
    const dev = readFileSync(trace, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.type === "device");
    expect(dev.some((d) => d.device === "heater" && d.gen === "new")).toBe(true);
    expect(dev.some((d) => d.device === "fan" && d.gen === "new")).toBe(true);
  });

  it("upgrade before the first step (--upgrade-at 0), a fault from step 5: PASS", () => {
    const r = rehearse(join(sys, "system.json"), "--steps", "40", "--upgrade-at", "0", "--fault", "filter@5");
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/Verdict: PASS/);
  });
});

describe("gsu rehearse --config: bad input exits 2 and names the file, the field and the fix", () => {
  const cases: [string, () => string, RegExp, string[]?][] = [
    ["a missing system file", () => join(elsewhere, "nope", "system.json"), /cannot read system file .*nope\/system\.json: ENOENT/],
    ["malformed JSON", () => variant((d) => writeFileSync(join(d, "x.json"), "{ \"components\": ")).replace("system.json", "x.json"), /x\.json is not valid JSON/],
    ["a wasm that was never built", () => variant((d) => rmSync(join(d, "filter/2.0.0/component.wasm"))),
      /system\.json: field "components\.filter\.2\.0\.0": cannot read .*filter\/2\.0\.0\/component\.wasm \(ENOENT\); build it: gsu build-component .*filter\/2\.0\.0/],
    ["another component's wasm", () => variant((_d, j) => { j.components.regulator["1.0.0"] = { manifest: "regulator/1.0.0/manifest.json", wasm: "filter/1.0.0/component.wasm" }; }),
      /field "components\.regulator\.1\.0\.0": .*filter\/1\.0\.0\/component\.wasm does not match .*regulator\/1\.0\.0\/manifest\.json: it was built as filter@1\.0\.0/],
    ["a manifest edited after the build (port number)", () => variant((d) => {
      const p = join(d, "regulator/2.0.0/manifest.json");
      writeFileSync(p, readFileSync(p, "utf8").replace(/"port": 4/, "\"port\": 7"));
    }), /regulator\/2\.0\.0\/component\.wasm does not match .*regulator\/2\.0\.0\/manifest\.json: it was built for ports .*status:4:out.*, the manifest declares .*status:7:out.*; rebuild it \(gsu build-component/],
    ["a hand-built wasm (no record) that sends on a port its manifest does not declare", () => variant((d) => {
      const w = join(d, "logger/1.0.0/component.wasm");
      writeFileSync(w, unstamped(readFileSync(w)));
      const m = join(d, "logger/1.0.0/manifest.json");
      writeFileSync(m, readFileSync(m, "utf8").replace(/"port": 2,/, "\"port\": 5,"));
    }), /logger@1\.0\.0 sent on undeclared output port 2: .*logger\/1\.0\.0\/component\.wasm does not match .*logger\/1\.0\.0\/manifest\.json; declare output port 2/],
    ["a file that is not wasm", () => variant((d) => writeFileSync(join(d, "logger/1.0.0/component.wasm"), "garbage")),
      /field "components\.logger\.1\.0\.0": .*logger\/1\.0\.0\/component\.wasm is not a usable GSU component: not a valid wasm module/],
    ["a link to an unknown port", () => variant((_d, j) => { j.links[2].to = "regulator.tmp"; }),
      /field "links\[2\]\.to" names port "tmp" of regulator@1\.0\.0 \(.*regulator\/1\.0\.0\/manifest\.json\), which has no port "tmp" \(its input ports: temp\)/],
    ["a link between two interfaces", () => variant((_d, j) => { j.links[0].from = "sensor.hk"; }),
      /field "links\[0\]" joins sensor\.hk \(sensor\.hk@1\) to filter\.raw \(temp\.raw@1\) in the running versions; both ends must speak the same interface/],
    ["an invalid manifest field", () => variant((d) => {
      const p = join(d, "filter/1.0.0/manifest.json");
      writeFileSync(p, readFileSync(p, "utf8").replace(/"iface": "temp.raw@1"/, "\"iface\": \"temp raw\""));
    }), /field "components\.filter\.1\.0\.0": .*filter\/1\.0\.0\/manifest\.json: field "ports\[0\]\.iface" must look like/],
    ["an input device with no generated input", () => variant((_d, j) => { delete j.devices.setpoint.input; }), /field "devices\.setpoint\.input" is required/],
    ["a device the manifests drive but the file does not declare", () => variant((_d, j) => { delete j.devices.fan; }),
      /field "devices" does not declare device "fan", which port "fan" of regulator@1\.0\.0 .* drives; add "fan": \{"dir": "out"\}/],
    ["an input field past the message end", () => variant((_d, j) => { j.devices.thermistor.input.fields[1].offset = 14; }),
      /field "devices\.thermistor\.input\.fields\[1\]\.offset" must be an integer with 4 <= offset and offset \+ 4 <= size 16/],
    ["an upgrade to an unlisted version", () => variant((_d, j) => { j.upgrade.filter = "3.0.0"; }),
      /field "upgrade\.filter" names filter@3\.0\.0, but "components\.filter" lists only 1\.0\.0, 2\.0\.0/],
    ["a plan whose interface leaks", () => variant((_d, j) => { j.upgrade = { filter: "2.0.0" }; }),
      /field "upgrade": interface leak: filter@2\.0\.0 port 'temp' speaks temp\.trend@2 but regulator@1\.0\.0 port 'temp' speaks temp\.filtered@1/],
    ["an unknown top-level field", () => variant((_d, j) => { j.link = []; }), /field "link" is not part of a system file/],
    ["--fault on a component the upgrade does not change", () => join(sys, "system.json"), /--fault names 'logger', which the upgrade does not change; choose one of: filter, regulator/, ["--fault", "logger@5"]],
  ];
  for (const [name, make, pat, extra] of cases) {
    it(name, () => {
      const r = rehearse(make(), "--steps", "10", ...(extra ?? []));
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(pat);
      noStack(r.stderr);
    });
  }

  it("a new version without gsu_fault or state transfer: --fault and --upgrade-at say which wasm lacks what", () => {
    // filter 2.0.0's code with its fault hook and state transfer cut off, built as a prebuilt wasm
    const config = variant((d, j) => {
      const code = readFileSync(join(d, "filter/2.0.0/index.ts"), "utf8");
      writeFileSync(join(d, "filter/2.0.0/index.ts"), code.slice(0, code.indexOf("export function gsu_fault")).replace(/if \(k >= faultFrom\).*\n/, ""));
      j.components.filter["2.0.0"] = { manifest: "filter/2.0.0/manifest.json", wasm: "bare/filter.wasm" };
    });
    const dir = join(config, "..");
    const b = gsu(dir, "build-component", "filter/2.0.0", "--out", "bare/filter.wasm");
    expect(b.status, b.stderr).toBe(0);
    const f = rehearse(config, "--steps", "10", "--fault", "filter@5");
    expect(f.status, f.stderr).toBe(2);
    expect(f.stderr).toMatch(/--fault filter@5: filter@2\.0\.0 \(.*bare\/filter\.wasm\) has no gsu_fault export; .*these can: regulator/);
    noStack(f.stderr);
    const s = rehearse(config, "--steps", "40", "--fault", "regulator@35", "--upgrade-at", "20");
    expect(s.status, s.stderr).toBe(2);
    expect(s.stderr).toMatch(/--upgrade-at 20 .* filter \(filter@1\.0\.0 -> filter@2\.0\.0\) lacks gsu_state_save \/ gsu_state_load; .* or pass --upgrade-at 0/);
    const ok = rehearse(config, "--steps", "40", "--fault", "regulator@20", "--upgrade-at", "0");
    expect(ok.status, `${ok.stdout}\n${ok.stderr}`).toBe(0);
  }, 180_000);
});

describe("gsu build-component", () => {
  it("a folder without a manifest exits 2 naming it", () => {
    const d = mkdtempSync(join(tmpdir(), "gsu-user-nomanifest-"));
    writeFileSync(join(d, "index.ts"), "export function gsu_handle(port: u32, len: u32): void {}\n");
    const r = gsu(elsewhere, "build-component", d);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/manifest\.json: missing; a component folder holds manifest\.json next to index\.ts/);
    noStack(r.stderr);
  });
  it("a compile error exits 1 with the compiler's file:line", () => {
    const d = join(variant(() => {}), "..", "logger", "1.0.0");
    writeFileSync(join(d, "index.ts"), readFileSync(join(d, "index.ts"), "utf8").replace("joinPop();", "joinPop(;"));
    const r = gsu(elsewhere, "build-component", d);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/asc failed for logger@1\.0\.0/);
    expect(r.stderr).toMatch(/index\.ts\(\d+,\d+\)|index\.ts:\d+/);
  }, 120_000);
});
