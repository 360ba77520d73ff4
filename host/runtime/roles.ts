// Who may send which protocol frame to whom (docs/wire.md, "Roles"): the role
// table the link layer applies to every frame it delivers between boards
// (host/transport/reliable.ts, `admit`). It reads only the GSU header's kind
// (bits 7..5 of byte 0) and, for application frames, the route's wire id; every
// other byte is the protocol's.
import { isDevice, type SystemSpec } from "./system.ts";
import { ANSWER_OPS, opName } from "./rounds.ts";
import { routeAt } from "./route.ts";

export const KIND_NAMES = ["app", "passedAt", "begin", "bound", "apply", "counter", "control", "-"] as const;

/** The role table, as documented: kind -> who may send it, and to whom. */
export const ROLE_TABLE: { kind: number; name: string; sender: string; receiver: string }[] = [
  { kind: 0, name: "app", sender: "the board that hosts the wire's sending component", receiver: "the board that hosts the wire's receiving component" },
  { kind: 1, name: "passedAt", sender: "any board", receiver: "any board" },
  { kind: 2, name: "begin", sender: "any board, to the coordinator (a request); the coordinator, to any board (the round)", receiver: "-" },
  { kind: 3, name: "bound", sender: "any board", receiver: "the coordinator only" },
  { kind: 4, name: "apply", sender: "the coordinator only", receiver: "any board" },
  { kind: 5, name: "counter", sender: "nobody (never crosses a link)", receiver: "-" },
  { kind: 6, name: "control: COMMIT, PREPARE, RESUME, QUIESCE, START, GO, CURRENT, OFF", sender: "the coordinator only", receiver: "any board" },
  { kind: 6, name: "control: READY, REFUSE, COMMITTED, APPLIED, IDLE, STARTED, CATCHUP", sender: "any board", receiver: "the coordinator only" },
  { kind: 7, name: "-", sender: "nobody (0xFF is a management frame, outside the layer)", receiver: "-" },
];

export interface RoleContext {
  /** This board's node id. */
  self: number;
  /** The node that runs recovery and commit rounds. */
  coordinator: number;
  /** The node that hosts a wire's sending component (undefined: a device or no such wire). */
  senderOfWire?: (wire: number) => number | undefined;
}

/** The node hosting each wire's sending component, from the system. */
export function wireSenders(spec: SystemSpec): (wire: number) => number | undefined {
  const nodeOf = new Map(spec.boards.flatMap((b) => b.components.map((c) => [c, b.node] as const)));
  return (wi) => { const w = spec.wires[wi]; return w && !isDevice(w.from) ? nodeOf.get(w.from.comp) : undefined; };
}


/** The check: null when `src` may send `frame` to this board, else the reason, naming both. */
export function roleCheck(ctx: RoleContext): (src: number, frame: Uint8Array) => string | null {
  const coord = ctx.coordinator;
  return (src, f) => {
    const kind = f[0] >> 5;
    const name = KIND_NAMES[kind];
    switch (kind) {
      case 0: {
        if (!ctx.senderOfWire) return null;
        const r = routeAt(f);
        if (r < 0 || r >= f.length) return null; // malformed: the runtime drops it with its own reason
        const from = ctx.senderOfWire(f[r]);
        if (from === undefined) return null; // unknown wire: the runtime drops it (unknown-wire)
        return from === src ? null : `app frame on wire ${f[r]} from node ${src}: that wire's sending component runs on node ${from}`;
      }
      case 1: return null;
      case 2: return ctx.self === coord || src === coord ? null : `begin from node ${src}: only the coordinator (node ${coord}) announces a recovery round to other boards`;
      case 3: return ctx.self === coord ? null : `bound from node ${src} to node ${ctx.self}: bounds go to the coordinator (node ${coord}) only`;
      case 4: return src === coord ? null : `${name} from node ${src}: only the coordinator (node ${coord}) sends it`;
      case 6: {
        // op = the index varint's low 4 bits (host/runtime/rounds.ts): the answers go to
        // the coordinator, the decisions come from it
        const op = f.length > 1 ? f[1] & 15 : 0;
        const name6 = opName(op);
        if (ANSWER_OPS.has(op)) return ctx.self === coord ? null : `control ${name6} from node ${src} to node ${ctx.self}: answers go to the coordinator (node ${coord}) only`;
        return src === coord ? null : `control ${name6} from node ${src}: only the coordinator (node ${coord}) sends it`;
      }
      default: return `${name} frame (kind ${kind}) from node ${src}: no board sends it on a link`;
    }
  };
}
