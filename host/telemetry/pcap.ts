// Telemetry and CAN traffic as pcap files Wireshark (and tcpdump, tshark, scapy) opens.
//
// Classic pcap (not pcapng): a 24-byte global header, then per packet a 16-byte record
// header and the packet; little-endian, magic 0xA1B2C3D4 (microsecond timestamps).
//
//  - CCSDS telemetry (records of a gsu telemetry --jsonl recording or a gsu ground
//    archive, each with the packet's hex): LINKTYPE_ETHERNET (1). Each Space Packet is
//    the payload of one UDP datagram in IPv4 in Ethernet, from 10.0.0.<node> (MAC
//    02:00:00:00:00:<node>) to the ground 10.0.0.100, UDP source port 10000 + node,
//    destination port 10025 (CCSDS_UDP_PORT). In Wireshark: Analyze > Decode As... >
//    UDP port 10025 > CCSDS to see the primary header, APID and sequence count.
//  - CAN frames (a candump -L log, e.g. gsu rehearse --candump): LINKTYPE_CAN_SOCKETCAN
//    (227): per frame the SocketCAN header (CAN id with EFF/RTR flags, big endian; data
//    length; 3 reserved bytes) then the data bytes. Wireshark dissects these as CAN.
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_CAN_SOCKETCAN = 227;
export const CCSDS_UDP_PORT = 10025;
export const GROUND_IP_HOST = 100;
const PCAP_MAGIC = 0xa1b2c3d4;
const SNAPLEN = 65535;

export interface PcapPacket { tUs: number; data: Uint8Array }

export function pcapFile(linktype: number, packets: PcapPacket[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(PCAP_MAGIC, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeInt32LE(0, 8);           // thiszone: UTC
  head.writeUInt32LE(0, 12);         // sigfigs
  head.writeUInt32LE(SNAPLEN, 16);
  head.writeUInt32LE(linktype, 20);
  const parts: Buffer[] = [head];
  for (const p of packets) {
    const rec = Buffer.alloc(16);
    const t = Math.max(0, Math.round(p.tUs));
    rec.writeUInt32LE(Math.floor(t / 1e6) >>> 0, 0);
    rec.writeUInt32LE(t % 1e6, 4);
    const n = Math.min(p.data.length, SNAPLEN);
    rec.writeUInt32LE(n, 8);
    rec.writeUInt32LE(p.data.length, 12);
    parts.push(rec, Buffer.from(p.data.buffer, p.data.byteOffset, n));
  }
  return Buffer.concat(parts);
}

/** The IPv4 header checksum (RFC 791): one's complement of the one's complement sum of 16-bit words. */
export function ipChecksum(h: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < h.length; i += 2) s += (h[i] << 8) | (h[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** One CCSDS packet from `node` as an Ethernet/IPv4/UDP frame to the ground. */
export function udpFrame(node: number, payload: Uint8Array, ipId = 0): Uint8Array {
  const udpLen = 8 + payload.length, ipLen = 20 + udpLen;
  const b = Buffer.alloc(14 + ipLen);
  Buffer.from([0x02, 0, 0, 0, 0, GROUND_IP_HOST, 0x02, 0, 0, 0, 0, node & 0xff]).copy(b, 0);
  b.writeUInt16BE(0x0800, 12);
  const ip = 14;
  b[ip] = 0x45; b[ip + 1] = 0;
  b.writeUInt16BE(ipLen, ip + 2);
  b.writeUInt16BE(ipId & 0xffff, ip + 4);
  b.writeUInt16BE(0x4000, ip + 6);   // don't fragment
  b[ip + 8] = 64; b[ip + 9] = 17;    // TTL, UDP
  Buffer.from([10, 0, 0, node & 0xff, 10, 0, 0, GROUND_IP_HOST]).copy(b, ip + 12);
  b.writeUInt16BE(ipChecksum(b.subarray(ip, ip + 20)), ip + 10);
  const u = ip + 20;
  b.writeUInt16BE(10000 + (node & 0xff), u);
  b.writeUInt16BE(CCSDS_UDP_PORT, u + 2);
  b.writeUInt16BE(udpLen, u + 4);
  b.writeUInt16BE(0, u + 6);         // no UDP checksum (allowed in IPv4)
  b.set(payload, u + 8);
  return b;
}

/**
 * A pcap of the CCSDS packets in telemetry records (gsu telemetry --jsonl lines, a
 * gsu ground archive): every record of type tlm or event with a hex packet, in order.
 */
export function telemetryPcap(records: Record<string, unknown>[]): { pcap: Buffer; packets: number; skipped: number } {
  const out: PcapPacket[] = [];
  let skipped = 0;
  for (const r of records) {
    if (r.type !== "tlm" && r.type !== "event") continue;
    if (typeof r.hex !== "string" || !/^([0-9a-f]{2})+$/i.test(r.hex)) { skipped++; continue; }
    const node = typeof r.node === "number" ? r.node : 0;
    out.push({ tUs: typeof r.t_us === "number" ? r.t_us : 0, data: udpFrame(node, Buffer.from(r.hex, "hex"), out.length) });
  }
  return { pcap: pcapFile(LINKTYPE_ETHERNET, out), packets: out.length, skipped };
}

export const CAN_EFF_FLAG = 0x80000000;
export const CAN_RTR_FLAG = 0x40000000;

/** One CAN frame in LINKTYPE_CAN_SOCKETCAN's layout. */
export function socketcanFrame(f: { id: number; ext: boolean; rtr: boolean; data: Uint8Array; dlc?: number }): Uint8Array {
  const b = Buffer.alloc(8 + f.data.length);
  b.writeUInt32BE(((f.ext ? CAN_EFF_FLAG : 0) | (f.rtr ? CAN_RTR_FLAG : 0) | (f.id & (f.ext ? 0x1fffffff : 0x7ff))) >>> 0, 0);
  b[4] = f.rtr ? (f.dlc ?? 0) : f.data.length;
  b.set(f.data, 8);
  return b;
}

export function canPcap(frames: { timestampUs: number; frame: { id: number; ext: boolean; rtr: boolean; data: Uint8Array; dlc?: number } }[]): Buffer {
  return pcapFile(LINKTYPE_CAN_SOCKETCAN, frames.map((e) => ({ tUs: e.timestampUs, data: socketcanFrame(e.frame) })));
}

/** Reads a classic pcap back (tests, and a check after writing). */
export function readPcap(b: Buffer): { linktype: number; snaplen: number; version: string; packets: { tUs: number; data: Buffer; origLen: number }[] } {
  if (b.length < 24) throw new Error(`pcap: ${b.length} bytes, shorter than the 24-byte global header`);
  if (b.readUInt32LE(0) !== PCAP_MAGIC) throw new Error(`pcap: magic ${b.readUInt32LE(0).toString(16)} is not a1b2c3d4 (little-endian, microseconds)`);
  const out = { linktype: b.readUInt32LE(20), snaplen: b.readUInt32LE(16), version: `${b.readUInt16LE(4)}.${b.readUInt16LE(6)}`, packets: [] as { tUs: number; data: Buffer; origLen: number }[] };
  let o = 24;
  while (o < b.length) {
    if (o + 16 > b.length) throw new Error(`pcap: record header truncated at offset ${o}`);
    const sec = b.readUInt32LE(o), usec = b.readUInt32LE(o + 4), incl = b.readUInt32LE(o + 8), orig = b.readUInt32LE(o + 12);
    if (o + 16 + incl > b.length) throw new Error(`pcap: record at offset ${o} claims ${incl} bytes, file ends first`);
    out.packets.push({ tUs: sec * 1e6 + usec, data: b.subarray(o + 16, o + 16 + incl), origLen: orig });
    o += 16 + incl;
  }
  return out;
}
