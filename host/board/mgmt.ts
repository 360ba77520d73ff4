// Management frames between the ground and a board (uploads, telecommands,
// telemetry). They share the links with protocol frames; their first byte 0xFF
// is never a valid GSU header (kind 7 is unassigned), so a board tells them
// apart by one byte. docs/wire.md, "Management frames".
export const MGMT = 0xff;

export const M = {
  TC: 1,          // telecommand (signed)
  TC_REPLY: 2,    // u32 seq, u8 status, utf8 reason
  QUERY: 3,       // 32-byte image id, u32 size: "what do you have of this image?"
  HAVE: 4,        // 32-byte image id, u32 contiguous bytes held
  CHUNK: 5,       // 8-byte id prefix, u32 offset, data, u32 CRC-32 of (offset, data)
  ACK: 6,         // 8-byte id prefix, u32 contiguous bytes held
  DONE: 7,        // 32-byte image id: verify and stage
  RESULT: 8,      // 32-byte image id, u8 0 accepted / 1 rejected, utf8 text
  TM: 9,          // one or more CCSDS space packets
  STATUS_Q: 10,   // read-only status query (host/board/status-query.ts): no signing key needed
  STATUS_R: 11,   // its reply: 16-byte nonce, u8 0 answered / 1 refused, utf8 text (JSON status)
  EV_Q: 12,       // event log query (host/board/events.ts): u32 ring id, u32 from seq, u16 budget
  EV_R: 13,       // event log reply: u32 ring id, u32 first, u32 last, u8 n, n x (u32 seq, u16 len, packet)
} as const;

export class MgmtError extends Error {
  constructor(message: string) { super(message); this.name = "MgmtError"; }
}

export function isMgmt(frame: Uint8Array): boolean { return frame.length >= 2 && frame[0] === MGMT; }

export function frame(type: number, body: Uint8Array): Uint8Array {
  const f = new Uint8Array(2 + body.length);
  f[0] = MGMT;
  f[1] = type;
  f.set(body, 2);
  return f;
}

/** A tiny bounds-checked reader: every read names what was short. */
export class Reader {
  private o = 0;
  private dv: DataView;
  constructor(private b: Uint8Array, private what: string) { this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength); }
  need(n: number, field: string): void {
    if (this.o + n > this.b.length) throw new MgmtError(`${this.what}: truncated at ${field} (need ${n} bytes at offset ${this.o}, have ${this.b.length - this.o})`);
  }
  u8(f: string): number { this.need(1, f); return this.b[this.o++]; }
  u16(f: string): number { this.need(2, f); const v = this.dv.getUint16(this.o, true); this.o += 2; return v; }
  u32(f: string): number { this.need(4, f); const v = this.dv.getUint32(this.o, true); this.o += 4; return v; }
  u64(f: string): bigint { this.need(8, f); const v = this.dv.getBigUint64(this.o, true); this.o += 8; return v; }
  bytes(n: number, f: string): Uint8Array { this.need(n, f); const v = this.b.subarray(this.o, this.o + n); this.o += n; return v; }
  rest(): Uint8Array { const v = this.b.subarray(this.o); this.o = this.b.length; return v; }
  get offset(): number { return this.o; }
  end(f: string): void { if (this.o !== this.b.length) throw new MgmtError(`${this.what}: ${this.b.length - this.o} unexpected bytes after ${f}`); }
}

export class Writer {
  private parts: number[] = [];
  u8(v: number): this { this.parts.push(v & 0xff); return this; }
  u16(v: number): this { this.parts.push(v & 0xff, (v >>> 8) & 0xff); return this; }
  u32(v: number): this { for (let i = 0; i < 4; i++) this.parts.push((v >>> (8 * i)) & 0xff); return this; }
  u64(v: bigint): this { for (let i = 0n; i < 8n; i++) this.parts.push(Number((v >> (8n * i)) & 0xffn)); return this; }
  bytes(b: Uint8Array): this { for (const x of b) this.parts.push(x); return this; }
  done(): Uint8Array { return Uint8Array.from(this.parts); }
}
