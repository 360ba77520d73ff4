// hardware/gsu.dbc: in sync with its generator, syntactically sound (a small
// checker of our own, always), and decoded by an independent DBC parser,
// canmatrix (Debian's python3-canmatrix), when it is installed. cantools is not
// packaged by Debian, so canmatrix stands in for it.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { generateDbc, HEADER_KINDS } from "../../host/transport/can/dbc.ts";
import { encodeTransfer, subjectFor } from "../../host/transport/can/cyphal.ts";

const FILE = new URL("../../hardware/gsu.dbc", import.meta.url);
const text = readFileSync(FILE, "utf8");

/** Minimal DBC syntax check: every line is a known statement with well-formed fields. */
function checkDbc(src: string): { messages: Map<number, { name: string; dlc: number; signals: Map<string, { start: number; len: number }> }> } {
  const messages = new Map<number, { name: string; dlc: number; signals: Map<string, { start: number; len: number }> }>();
  let cur: { name: string; dlc: number; signals: Map<string, { start: number; len: number }> } | undefined;
  const nodes = new Set<string>();
  src.split("\n").forEach((line, i) => {
    const where = `gsu.dbc:${i + 1}: ${line}`;
    if (line.trim() === "" ) { cur = undefined; return; }
    let m: RegExpExecArray | null;
    if ((m = /^BU_:((?: [A-Za-z_]\w*)*)$/.exec(line))) { m[1].trim().split(" ").forEach((n) => nodes.add(n)); return; }
    if ((m = /^BO_ (\d+) ([A-Za-z_]\w*): ([0-8]) ([A-Za-z_]\w*)$/.exec(line))) {
      const id = Number(m[1]);
      expect(messages.has(id), `duplicate ID ${where}`).toBe(false);
      expect(nodes.has(m[4]), `unknown transmitter ${where}`).toBe(true);
      cur = { name: m[2], dlc: Number(m[3]), signals: new Map() };
      messages.set(id, cur);
      return;
    }
    if ((m = /^ SG_ ([A-Za-z_]\w*) : (\d+)\|(\d+)@([01])([+-]) \(([\d.eE+-]+),([\d.eE+-]+)\) \[([\d.eE+-]+)\|([\d.eE+-]+)\] "[^"]*" ([\w,]+)$/.exec(line))) {
      expect(cur, `signal outside a message ${where}`).toBeDefined();
      const start = Number(m[2]), len = Number(m[3]);
      expect(m[4] === "1" && start + len <= cur!.dlc * 8, `signal beyond DLC ${where}`).toBe(true);
      for (const [n, s] of cur!.signals) expect(start + len <= s.start || s.start + s.len <= start, `${n} overlaps ${where}`).toBe(true);
      for (const r of m[10].split(",")) expect(nodes.has(r), `unknown receiver ${where}`).toBe(true);
      cur!.signals.set(m[1], { start, len });
      return;
    }
    const ok = /^(VERSION "[^"]*"|NS_ :|\t[A-Z_]+|BS_:|CM_ (BO_ \d+ |SG_ \d+ \w+ )?"[^"]*";|BA_DEF_ (BO_ )?"\w+" (ENUM ("\w+",?)+|STRING )\s?;|BA_DEF_DEF_ "\w+" "\w+";|BA_ "\w+" (BO_ \d+ \d+|"\w+");|VAL_ \d+ \w+( \d+ "\w+")+ ;)$/.test(line);
    expect(ok, `unrecognised statement ${where}`).toBe(true);
  });
  return { messages };
}

describe("hardware/gsu.dbc", () => {
  it("is what the generator produces (regenerate: npx tsx host/transport/can/dbc.ts hardware/gsu.dbc)", () => {
    expect(text).toBe(generateDbc());
  });
  it("passes the syntax check and its IDs are the transport's IDs", () => {
    const { messages } = checkDbc(text);
    expect(messages.size).toBe(8 * 7 + 8);
    const id12 = encodeTransfer(Uint8Array.of(0), { subject: subjectFor(2), source: 1, transferId: 0 })[0].id;
    expect(messages.get((id12 | 0x80000000) >>> 0)?.name).toBe("GSU_1_to_2");
    const idB = encodeTransfer(Uint8Array.of(0), { subject: subjectFor(0xff), source: 3, transferId: 0 })[0].id;
    expect(messages.get((idB | 0x80000000) >>> 0)?.name).toBe("GSU_3_bcast");
    expect(() => checkDbc(text.replace("8|7@1+", "60|7@1+"))).toThrow(/beyond DLC/);
  });

  let canmatrix: string | undefined;
  try { canmatrix = execFileSync("/usr/bin/python3", ["-c", "import canmatrix.formats; print('ok')"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(); } catch { /* absent */ }
  it.skipIf(!canmatrix)(`canmatrix decodes our frames with it${canmatrix ? "" : " (skipped: apt-get install python3-canmatrix)"}`, () => {
    const frame = encodeTransfer(Uint8Array.of(0x45, 0x85, 0x01, 9, 9, 9, 9), { subject: subjectFor(2), source: 1, transferId: 3 })[0];
    const out = execFileSync("/usr/bin/python3", ["-c", `
import canmatrix.formats, json, sys, logging
logging.disable(logging.CRITICAL)
db = list(canmatrix.formats.loadp(sys.argv[1]).values())[0]
f = db.frame_by_id(canmatrix.ArbitrationId(int(sys.argv[2]), extended=True))
d = f.decode(bytes.fromhex(sys.argv[3]))
print(json.dumps({"frames": len(db.frames), "name": f.name, "signals": {k: [v.raw_value, str(v.named_value)] for k, v in d.items()}}))
`, new URL(FILE).pathname, String(frame.id), Buffer.from(frame.data).toString("hex")], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const r = JSON.parse(out);
    expect(r.frames).toBe(64);
    expect(r.name).toBe("GSU_1_to_2");
    expect(r.signals).toEqual({
      HeaderKind: [2, HEADER_KINDS[2]], HeaderDirty: [0, "0"], HeaderEpoch: [5, "5"], IndexLow7: [5, "5"], IndexMore: [1, "1"],
      TailTransferId: [3, "3"], TailToggle: [1, "1"], TailEndOfTransfer: [1, "1"], TailStartOfTransfer: [1, "1"],
    });
  });
});
