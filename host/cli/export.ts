// gsu export: telemetry and CAN traffic to pcap (Wireshark), the dictionary to XTCE (Yamcs).
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { IoError, parseCommandArgs, UsageError } from "./args.ts";
import { canPcap, CCSDS_UDP_PORT, telemetryPcap } from "../telemetry/pcap.ts";
import { dictionaryToXtce } from "../telemetry/xtce.ts";
import { DictionaryError, loadDictionary } from "../telemetry/dictionary.ts";
import { readArchive } from "../ground/archive.ts";
import { readCandumpLog } from "../transport/can/candump-log.ts";

export const help = `Usage: gsu export pcap (FILE.jsonl | ARCHIVE_DIR) -o OUT.pcap
       gsu export pcap --candump LOG -o OUT.pcap
       gsu export xtce [-o OUT.xml] [--dictionary FILE]

pcap: a file Wireshark, tshark and tcpdump open.
  - from a telemetry recording (gsu telemetry --jsonl) or a gsu ground archive
    directory: every CCSDS packet as a UDP datagram from 10.0.0.<node> to the ground
    10.0.0.100, port ${CCSDS_UDP_PORT} (Ethernet link type). In Wireshark: Analyze > Decode
    As... > UDP port ${CCSDS_UDP_PORT} > CCSDS; tshark: -d udp.port==${CCSDS_UDP_PORT},ccsds
    (its primary header fields are right; the dissector assumes the ISS's 10-octet
    secondary header, so the rest is not GSU's layout: docs/wire.md)
  - --candump LOG: a candump -L log (gsu candump -L, gsu rehearse --candump) as CAN
    frames (LINKTYPE_CAN_SOCKETCAN), which Wireshark dissects as CAN
xtce: the telemetry dictionary as XTCE 1.2 XML, the mission database Yamcs loads:
  every channel and event parameter, the enums, the CCSDS header and one container per
  event (the change-only channel packets' tag-value pairs are beyond XTCE; see the file's
  header). Default output: stdout.

Exit status: 0, 2 bad arguments or input that is not a recording or log, 3 a file that
cannot be read or written.`;

export function run(argv: string[]): number {
  const { values, positionals } = parseCommandArgs(argv, { o: { type: "string", short: "o" }, out: { type: "string" }, candump: { type: "string" }, dictionary: { type: "string" } }, { allowPositionals: true });
  const what = positionals[0];
  const out = values.o ?? values.out;
  if (what === "xtce") {
    if (positionals.length > 1) throw new UsageError(`export xtce takes no input file (got '${positionals.slice(1).join(" ")}'); --dictionary FILE names the dictionary`);
    let dict;
    try { dict = loadDictionary(values.dictionary); } catch (e) { if (e instanceof DictionaryError) throw new UsageError(e.message); throw e; }
    const xml = dictionaryToXtce(dict);
    if (out) { writeFileSync(out, xml); console.error(`gsu export: XTCE written to ${out} (${dict.channels.size} channels, ${dict.events.size} events)`); } else process.stdout.write(xml);
    return 0;
  }
  if (what !== "pcap") throw new UsageError(`export: say what to export: pcap or xtce${what ? ` (not '${what}')` : ""}`);
  if (!out) throw new UsageError("export pcap: -o OUT.pcap is required (a pcap is binary; it does not go to a terminal)");
  if (values.candump !== undefined) {
    if (positionals.length > 1) throw new UsageError("export pcap --candump LOG takes no other input");
    let text: string;
    try { text = readFileSync(values.candump, "utf8"); } catch (e) { throw new IoError(`export pcap: cannot read ${values.candump}: ${(e as NodeJS.ErrnoException).code}`); }
    let entries;
    try { entries = readCandumpLog(text); } catch (e) { throw new UsageError(`export pcap: ${values.candump}: ${(e as Error).message}`); }
    writeFileSync(out, canPcap(entries));
    console.error(`gsu export: ${entries.length} CAN frames written to ${out} (LINKTYPE_CAN_SOCKETCAN)`);
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError("export pcap: give one telemetry recording (FILE.jsonl) or gsu ground archive directory, or --candump LOG");
  const src = positionals[1];
  let records: Record<string, unknown>[] = [];
  let bad = 0;
  let isDir = false;
  try { isDir = statSync(src).isDirectory(); } catch (e) { throw new IoError(`export pcap: cannot read ${src}: ${(e as NodeJS.ErrnoException).code}`); }
  if (isDir) {
    const a = readArchive(src);
    if (!a.files.length) throw new UsageError(`export pcap: ${src} holds no archive*.jsonl (a gsu ground --archive directory)`);
    ({ records, bad } = a);
  } else {
    for (const l of readFileSync(src, "utf8").split("\n")) { if (!l.trim()) continue; try { records.push(JSON.parse(l)); } catch { bad++; } }
  }
  const r = telemetryPcap(records);
  if (!r.packets) throw new UsageError(`export pcap: ${src} holds no telemetry packets with their bytes ("hex"); record with gsu telemetry --jsonl or gsu ground`);
  writeFileSync(out, r.pcap);
  console.error(`gsu export: ${r.packets} CCSDS packets written to ${out} (UDP port ${CCSDS_UDP_PORT}; Wireshark: Decode As... CCSDS)${r.skipped ? `; ${r.skipped} records without packet bytes skipped` : ""}${bad ? `; ${bad} lines that were not JSON skipped` : ""}`);
  return 0;
}
