// Signed images: the format, and every way verifyImage refuses one.
import { beforeAll, describe, expect, it } from "vitest";
import { createHash, sign } from "node:crypto";
import { ensureExamplesBuilt } from "../examples-build.ts";
import {
  canonicalJson, encodeImage, IMAGE_PREFIX, imageManifest, sha256Hex, signImage, verifyImage, type ImageHeader, type Rejection,
} from "../../host/board/image.ts";
import { ground1, image, manifestOf, rogue, trusted, wasmOf } from "./fixtures.ts";

beforeAll(ensureExamplesBuilt, 120_000);

const headerLen = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(6, true);
const refused = (b: Uint8Array, keys: Parameters<typeof verifyImage>[1] = trusted): Rejection => {
  const r = verifyImage(b, keys);
  if (r.ok) throw new Error("expected a refusal, the image verified");
  return r;
};
/** Re-encodes an image with its header changed by fn (not re-signed). */
function editHeader(b: Uint8Array, fn: (h: ImageHeader) => void): Uint8Array {
  const h = headerLen(b);
  const header = JSON.parse(Buffer.from(b.subarray(IMAGE_PREFIX, IMAGE_PREFIX + h)).toString("utf8")) as ImageHeader;
  fn(header);
  return encodeImage(header, b.subarray(IMAGE_PREFIX + h));
}

describe("signed images", () => {
  it("round-trips: manifest, wasm, sha256, key id", () => {
    const b = image("estimator", "2.0.0");
    expect(Buffer.from(b.subarray(0, 4)).toString()).toBe("GSUI");
    expect(b[4] | (b[5] << 8)).toBe(1);
    const r = verifyImage(b, trusted);
    if (!r.ok) throw new Error(r.reason);
    expect(r.manifest.name).toBe("estimator");
    expect(r.manifest.version).toBe("2.0.0");
    expect(r.manifest.ports.find((p) => p.name === "attitude")!.iface).toBe("attitude.quat@2");
    expect(Buffer.from(r.wasm).equals(Buffer.from(wasmOf("estimator", "2.0.0")))).toBe(true);
    expect(r.sha256).toBe(createHash("sha256").update(wasmOf("estimator", "2.0.0")).digest("hex"));
    expect(r.keyId).toBe("ground-1");
    expect(b.length).toBe(IMAGE_PREFIX + headerLen(b) + r.wasm.length);
  });

  it("carries the acceptance tests of device ports", () => {
    const r = verifyImage(image("controller", "2.0.0"), trusted);
    if (!r.ok) throw new Error(r.reason);
    const wheel = r.manifest.ports.find((p) => p.name === "wheel")!;
    expect(wheel.at).toEqual(manifestOf("controller", "2.0.0").ports.find((p) => p.name === "wheel")!.at);
  });

  it("is deterministic: the header is canonical JSON and Ed25519 is deterministic", () => {
    expect(Buffer.from(image("sensor", "1.0.0")).equals(Buffer.from(image("sensor", "1.0.0")))).toBe(true);
    expect(canonicalJson({ b: 1, a: [{ d: "x", c: null }] })).toBe('{"a":[{"c":null,"d":"x"}],"b":1}');
  });

  it("signing refuses an invalid manifest, naming the field", () => {
    const m = { ...imageManifest(manifestOf("sensor", "1.0.0")), version: "one" };
    expect(() => signImage({ manifest: m, wasm: wasmOf("sensor", "1.0.0"), key: ground1.priv, keyId: "ground-1" })).toThrow(/field "version"/);
    expect(() => signImage({ manifest: manifestOf("sensor", "1.0.0"), wasm: wasmOf("sensor", "1.0.0"), key: ground1.priv, keyId: "bad key" })).toThrow(/key id/);
  });
});

describe("verifyImage refuses, naming what is at fault", () => {
  const good = () => image("estimator", "2.0.0");

  it("a tampered wasm byte (sha256 mismatch)", () => {
    for (const at of [0, 100, -1]) {
      const b = good().slice();
      const i = at < 0 ? b.length + at : IMAGE_PREFIX + headerLen(b) + at;
      b[i] ^= 0x01;
      const r = refused(b);
      expect(r.kind).toBe("tampered");
      expect(r.reason).toMatch(/wasm of estimator@2\.0\.0 does not match its signed sha256/);
    }
  });

  it("a tampered manifest (interface version changed; signature mismatch)", () => {
    const b = editHeader(good(), (h) => { h.manifest.ports[1].iface = "attitude.euler@1"; });
    const r = refused(b);
    expect(r.kind).toBe("bad-signature");
    expect(r.reason).toMatch(/signature does not match key ground-1/);
    // byte-level: change one character inside the header's version string "2.0.0" -> "3.0.0"
    const g = good().slice();
    const text = Buffer.from(g.subarray(IMAGE_PREFIX, IMAGE_PREFIX + headerLen(g))).toString("latin1");
    const at = IMAGE_PREFIX + text.indexOf('"version":"2.0.0"') + '"version":"'.length;
    g[at] = "3".charCodeAt(0);
    expect(refused(g).kind).toBe("bad-signature");
  });

  it("an altered sha256/size in the header together with the wasm (signature covers them)", () => {
    const b = good();
    const h = headerLen(b);
    const wasm = Buffer.from(b.subarray(IMAGE_PREFIX + h));
    const other = Buffer.concat([wasm, Buffer.from([0])]);
    const forged = editHeader(b, (hd) => { hd.sha256 = sha256Hex(other); hd.size = other.length; });
    const head = forged.subarray(0, forged.length - wasm.length);
    const r = refused(Buffer.concat([head, other]));
    expect(r.kind).toBe("bad-signature");
  });

  it("truncated at several offsets", () => {
    const b = good();
    const h = headerLen(b);
    const cuts = [0, 3, 4, 9, 10, 11, IMAGE_PREFIX + Math.floor(h / 2), IMAGE_PREFIX + h - 1, IMAGE_PREFIX + h, IMAGE_PREFIX + h + 1, b.length - 100, b.length - 1];
    for (const n of cuts) {
      const r = refused(b.subarray(0, n));
      expect(r.kind, `cut at ${n}`).toBe("truncated");
      expect(r.reason).toMatch(new RegExp(`image is ${n} bytes`));
    }
    expect(refused(b.subarray(0, b.length - 1)).reason).toMatch(/the wasm has \d+ of its \d+ bytes/);
  });

  it("trailing bytes, a bad magic, another format, a silly header length", () => {
    expect(refused(Buffer.concat([good(), Buffer.from([0])])).kind).toBe("malformed");
    const m = good().slice(); m[0] = "X".charCodeAt(0);
    expect(refused(m)).toMatchObject({ kind: "bad-magic" });
    const f = good().slice(); f[4] = 2;
    expect(refused(f).reason).toMatch(/image format 2; this gsu reads format 1/);
    const l = good().slice(); new DataView(l.buffer).setUint32(6, 0xffffffff, true);
    expect(refused(l).kind).toBe("malformed");
  });

  it("a header that is not canonical or has unknown fields", () => {
    const b = good();
    const h = headerLen(b);
    const header = JSON.parse(Buffer.from(b.subarray(IMAGE_PREFIX, IMAGE_PREFIX + h)).toString());
    const pretty = Buffer.from(JSON.stringify(header, null, 1));
    const out = Buffer.concat([Buffer.from("GSUI"), Buffer.from([1, 0]), Buffer.alloc(4), pretty, b.subarray(IMAGE_PREFIX + h)]);
    out.writeUInt32LE(pretty.length, 6);
    expect(refused(out).reason).toMatch(/canonical/);
    expect(refused(editHeader(b, (x) => { (x as unknown as Record<string, unknown>).extra = 1; })).reason).toMatch(/unknown field/);
  });

  it("an unsigned image", () => {
    const b = editHeader(good(), (h) => { delete h.sig; delete h.keyId; });
    const r = refused(b);
    expect(r.kind).toBe("unsigned");
    expect(r.reason).toMatch(/estimator@2\.0\.0 is unsigned/);
    expect(refused(editHeader(good(), (h) => { delete h.sig; })).kind).toBe("unsigned");
  });

  it("the wrong key: signed by an untrusted key id", () => {
    const r = refused(image("estimator", "2.0.0", { key: rogue, keyId: "rogue" }));
    expect(r.kind).toBe("unknown-key");
    expect(r.reason).toMatch(/signed by key rogue, which this board does not trust \(trusted: ground-1\)/);
  });

  it("the wrong key: another key claiming to be ground-1", () => {
    const r = refused(image("estimator", "2.0.0", { key: rogue, keyId: "ground-1" }));
    expect(r.kind).toBe("bad-signature");
    expect(r.reason).toMatch(/^signature does not match key ground-1/);
    // and a board that trusts nothing
    expect(refused(good(), {}).reason).toMatch(/trusted: none/);
  });

  it("a signed manifest that is invalid, and a signed payload that is not wasm", () => {
    // build by hand what signImage would refuse to build
    const mk = (manifest: unknown, wasm: Uint8Array) => {
      const h: ImageHeader = { format: 1, keyId: "ground-1", manifest: manifest as ImageHeader["manifest"], sha256: sha256Hex(wasm), size: wasm.length };
      h.sig = sign(null, Buffer.from("gsu-image-signature-v1\n" + canonicalJson({ format: 1, keyId: "ground-1", manifest, sha256: h.sha256, size: h.size })), ground1.priv).toString("base64");
      return encodeImage(h, wasm);
    };
    const m = imageManifest(manifestOf("estimator", "2.0.0"));
    const r = refused(mk({ ...m, ports: [] }, wasmOf("estimator", "2.0.0")));
    expect(r.kind).toBe("manifest-invalid");
    expect(r.reason).toMatch(/field "ports"/);
    expect(refused(mk(m, Buffer.from("not wasm"))).kind).toBe("wasm-invalid");
  });
});
