// Exports to the tools people have: telemetry and CAN frames as pcap (read back: global
// header and every record; checked with tshark when it is installed), and the dictionary
// as XTCE (well-formed XML naming every channel and event; xmllint when installed).
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canPcap, CCSDS_UDP_PORT, ipChecksum, LINKTYPE_CAN_SOCKETCAN, LINKTYPE_ETHERNET, readPcap, telemetryPcap } from "../../host/telemetry/pcap.ts";
import { dictionaryToXtce } from "../../host/telemetry/xtce.ts";
import { loadDictionary } from "../../host/telemetry/dictionary.ts";
import { simTelemetry } from "../../host/telemetry/simlink.ts";
import { GroundStation, type GroundRecord } from "../../host/telemetry/ground.ts";

const have = (cmd: string) => !spawnSync(cmd, ["--version"], { stdio: "ignore" }).error;
const tmp = mkdtempSync(join(tmpdir(), "gsu-export-"));

function simRecords(): Record<string, unknown>[] {
  const recs: GroundRecord[] = [];
  const g = new GroundStation({ onRecord: (r) => recs.push(r) });
  for (const p of simTelemetry({ steps: 40 }).packets) g.pushFrame(p.bytes, p.node);
  return recs as unknown as Record<string, unknown>[];
}

describe("pcap export", () => {
  const recs = simRecords();
  const withHex = recs.filter((r) => (r.type === "tlm" || r.type === "event") && typeof r.hex === "string");
  const { pcap, packets } = telemetryPcap(recs);
  const file = join(tmp, "tlm.pcap");
  writeFileSync(file, pcap);

  it("CCSDS telemetry: a valid global header, one Ethernet/IPv4/UDP record per packet with its bytes, time and node", () => {
    expect(withHex.length).toBeGreaterThan(50);
    expect(packets).toBe(withHex.length);
    const p = readPcap(pcap);
    expect({ linktype: p.linktype, version: p.version, snaplen: p.snaplen }).toEqual({ linktype: LINKTYPE_ETHERNET, version: "2.4", snaplen: 65535 });
    expect(p.packets).toHaveLength(withHex.length);
    p.packets.forEach((pk, i) => {
      const r = withHex[i];
      expect(pk.origLen).toBe(pk.data.length);
      expect(pk.tUs).toBe(r.t_us);
      expect(pk.data.readUInt16BE(12)).toBe(0x0800);                       // IPv4
      const ip = pk.data.subarray(14, 34);
      expect(ip[0]).toBe(0x45);
      expect(ipChecksum(ip)).toBe(0);                                       // the header checksum verifies
      expect(ip[9]).toBe(17);                                               // UDP
      expect(ip[15]).toBe(r.node);                                          // 10.0.0.<node>
      expect(ip.readUInt16BE(2)).toBe(pk.data.length - 14);
      expect(pk.data.readUInt16BE(36)).toBe(CCSDS_UDP_PORT);
      expect(pk.data.readUInt16BE(38)).toBe(pk.data.length - 34);           // UDP length
      expect(pk.data.subarray(42).toString("hex")).toBe(r.hex);             // the CCSDS packet, whole
    });
  });

  it.skipIf(!have("tshark"))(`tshark reads it and decodes every packet's CCSDS primary header${have("tshark") ? "" : " (skipped: tshark is not installed)"}`, () => {
    const r = spawnSync("tshark", ["-r", file, "-d", `udp.port==${CCSDS_UDP_PORT},ccsds`, "-T", "fields", "-e", "ccsds.apid", "-e", "ccsds.seqnum"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.trim().split("\n").map((l) => l.split("\t").map(Number));
    expect(rows).toEqual(withHex.map((x) => [x.apid, x.seq]));
  });

  it("CAN frames: LINKTYPE_CAN_SOCKETCAN records with the id and flags big endian, the length and the data", () => {
    const frames = [
      { timestampUs: 1_700_000_000_000_001, frame: { id: 0x123, ext: false, rtr: false, data: Uint8Array.of(0xde, 0xad) } },
      { timestampUs: 1_700_000_000_500_000, frame: { id: 0x1abcde01, ext: true, rtr: false, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) } },
      { timestampUs: 1_700_000_001_000_000, frame: { id: 0x7ff, ext: false, rtr: true, data: new Uint8Array(), dlc: 4 } },
    ];
    const p = readPcap(canPcap(frames));
    expect(p.linktype).toBe(LINKTYPE_CAN_SOCKETCAN);
    expect(p.packets.map((x) => [x.tUs, x.data.readUInt32BE(0).toString(16), x.data[4], x.data.subarray(8).toString("hex")])).toEqual([
      [1_700_000_000_000_001, "123", 2, "dead"],
      [1_700_000_000_500_000, "9abcde01", 8, "0102030405060708"],            // CAN_EFF_FLAG | id
      [1_700_000_001_000_000, "400007ff", 4, ""],                            // CAN_RTR_FLAG | id, DLC 4
    ]);
  });

  it("a truncated file is refused with where it ends", () => {
    expect(() => readPcap(pcap.subarray(0, pcap.length - 3))).toThrow(/claims \d+ bytes, file ends first/);
    expect(() => readPcap(Buffer.alloc(10))).toThrow(/shorter than the 24-byte global header/);
  });
});

/** A small XML well-formedness check: every tag closed in order, attributes quoted, no stray & or <. */
function wellFormed(xml: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "").replace(/<!--[\s\S]*?-->/g, "");
  const re = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.:-]*="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) {
    if (m[6]) { problems.push(`stray '<' at ${m.index}`); continue; }
    if (m[5] !== undefined) { if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(m[5])) problems.push(`bad '&' in text at ${m.index}`); continue; }
    const [, close, name, , self] = m;
    if (close) { const top = stack.pop(); if (top !== name) problems.push(`</${name}> closes <${top}>`); }
    else if (!self) stack.push(name);
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(" > ")}`);
  return problems;
}

describe("XTCE export", () => {
  const dict = loadDictionary();
  const xml = dictionaryToXtce(dict);

  it("is well-formed XML in XTCE 1.2's namespace, naming every channel and every event", () => {
    expect(wellFormed(xml)).toEqual([]);
    expect(wellFormed("<a><b></a>")).not.toEqual([]);                        // the check can fail
    expect(xml).toMatch(/<SpaceSystem xmlns="http:\/\/www\.omg\.org\/spec\/XTCE\/20180204" name="GSU">/);
    const params = new Set([...xml.matchAll(/<Parameter name="([^"]+)"/g)].map((m) => m[1]));
    for (const c of dict.channels.values()) expect(params.has(c.name), c.name).toBe(true);
    const containers = new Set([...xml.matchAll(/<SequenceContainer name="([^"]+)"/g)].map((m) => m[1]));
    for (const e of dict.events.values()) {
      expect(containers.has(`EVENT_${e.name}`), e.name).toBe(true);
      for (const p of e.params) expect(params.has(`EVT_${e.name}_${p.name}`)).toBe(true);
      expect(xml).toContain(`<Comparison parameterRef="GSU_EVENT_ID" value="${e.id}"/>`);
    }
    // every type a parameter names is defined
    const types = new Set([...xml.matchAll(/<\w+ParameterType name="([^"]+)"/g)].map((m) => m[1]));
    for (const m of xml.matchAll(/parameterTypeRef="([^"]+)"/g)) expect(types.has(m[1]), m[1]).toBe(true);
  });

  it.skipIf(!have("xmllint"))(`xmllint parses it${have("xmllint") ? "" : " (skipped: xmllint is not installed)"}`, () => {
    const f = join(tmp, "gsu.xtce.xml");
    writeFileSync(f, xml);
    const r = spawnSync("xmllint", ["--noout", f], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
  });
});
