// candump's receive filters, as can-utils has them (candump.c and the kernel's CAN_RAW
// filter semantics), for `gsu candump IFACE,FILTER,...`:
//
//   <can_id>:<can_mask>   matches when received_can_id & mask == can_id & mask
//   <can_id>~<can_mask>   matches when received_can_id & mask != can_id & mask
//   #<error_mask>         error frames to pass (GSU's buses report none; accepted and kept)
//   j or J                join the filters: a frame must match all of them (default: any)
//
// Values are hexadecimal. A can_id written with 8 digits is an extended (29-bit) id: the
// CAN_EFF_FLAG (0x80000000) is set in it. can_id and mask are compared as whole 32-bit
// words with the flags (EFF 0x80000000, RTR 0x40000000), as the kernel compares them, so:
//   123:7FF        matches id 0x123 including extended and RTR frames whose low bits are 123
//   123:C00007FF   matches only the standard data frame 0x123
//   12345678:DFFFFFFF  matches only the extended id 0x12345678 (RTR or not)
//   12345678:1FFFFFFF  (no EFF flag in the mask) compares only the low 11 bits, as the kernel does
//   0~0            matches no data frame (with #FFFFFFFF: error frames only)
// With no data filter every data frame passes (the socket's default 0:0).
export const CAN_EFF_FLAG = 0x80000000;
export const CAN_RTR_FLAG = 0x40000000;
export const CAN_ERR_FLAG = 0x20000000;

export interface CanFilter { id: number; mask: number; invert: boolean }
export interface FilterSet { iface: string; filters: CanFilter[]; join: boolean; errorMask: number | null }

export class CanFilterError extends Error {
  constructor(message: string) { super(message); this.name = "CanFilterError"; }
}

const HEX = /^[0-9A-Fa-f]{1,8}$/;

/** Parses `can0,123:7FF,~...`: the interface, then comma-separated filters. */
export function parseCandumpArg(arg: string): FilterSet {
  // slcan:/dev/ttyACM0@500000 has no comma; the interface is everything before the first comma
  const parts = arg.split(",");
  const iface = parts[0];
  if (!iface) throw new CanFilterError(`'${arg}': name the interface before the filters, e.g. can0,123:7FF`);
  const set: FilterSet = { iface, filters: [], join: false, errorMask: null };
  for (const p of parts.slice(1)) {
    if (p === "j" || p === "J") { set.join = true; continue; }
    let m = /^#([0-9A-Fa-f]{1,8})$/.exec(p);
    if (m) { set.errorMask = parseInt(m[1], 16) >>> 0; continue; }
    m = /^([^:~]+)([:~])([^:~]+)$/.exec(p);
    if (!m || !HEX.test(m[1]) || !HEX.test(m[3])) {
      throw new CanFilterError(`filter '${p}' in '${arg}': write <can_id>:<can_mask> (match) or <can_id>~<can_mask> (inverse), in hex, e.g. 123:7FF or 12345678:1FFFFFFF; #<error_mask>; or j to join`);
    }
    let id = parseInt(m[1], 16) >>> 0;
    // candump: an 8-digit can_id is an extended frame's
    if (m[1].length === 8) id = (id | CAN_EFF_FLAG) >>> 0;
    // candump clears CAN_ERR_FLAG from the mask (error frames go by the error mask only);
    // the kernel (af_can.c can_rcv_list_find) then keeps only the flag bits and the id
    // bits of the frame format the mask names: without CAN_EFF_FLAG in the mask only the
    // 11 standard-id bits count, so 12345678:1FFFFFFF compares the low 11 bits alone
    let mask = (parseInt(m[3], 16) & ~CAN_ERR_FLAG) >>> 0;
    mask = (mask & ((mask & CAN_EFF_FLAG) ? (CAN_EFF_FLAG | CAN_RTR_FLAG | 0x1fffffff) : (CAN_EFF_FLAG | CAN_RTR_FLAG | 0x7ff))) >>> 0;
    set.filters.push({ id: (id & mask) >>> 0, mask, invert: m[2] === "~" });
  }
  return set;
}

/** The frame's 32-bit can_id word as SocketCAN has it (flags included). */
export function canIdWord(f: { id: number; ext: boolean; rtr: boolean }): number {
  return ((f.ext ? CAN_EFF_FLAG | (f.id & 0x1fffffff) : f.id & 0x7ff) | (f.rtr ? CAN_RTR_FLAG : 0)) >>> 0;
}

export function matchFilter(flt: CanFilter, word: number): boolean {
  const eq = ((word & flt.mask) >>> 0) === ((flt.id & flt.mask) >>> 0);
  return flt.invert ? !eq : eq;
}

/** Whether a data frame passes the set (candump: any filter, or all with j; none given: all pass). */
export function passes(set: FilterSet, f: { id: number; ext: boolean; rtr: boolean }): boolean {
  if (!set.filters.length) return true;
  const w = canIdWord(f);
  return set.join ? set.filters.every((x) => matchFilter(x, w)) : set.filters.some((x) => matchFilter(x, w));
}
