// The link layer over real serial links (socat PTYs, the COBS envelope), behind the
// fault-injecting wrapper: frames lost, duplicated and reordered on their way to the
// wire; every frame still arrives exactly once, in order, authenticated.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PtyPair, socatMissing } from "../serial/socat.ts";
import { openLink } from "../../host/transport/open.ts";
import { FaultyTransport } from "../../host/transport/faulty.ts";
import { LinkLayer } from "../../host/transport/reliable.ts";
import type { Transport } from "../../host/transport/types.ts";
import { frameOf, hex } from "./harness.ts";

const skip = socatMissing ? `: skipped, ${socatMissing}` : "";

describe.skipIf(!!socatMissing)(`link layer over PTY serial links with injected faults${skip}`, () => {
  const pair = new PtyPair();
  const raw: Transport[] = [];
  beforeAll(async () => {
    await pair.up();
    raw.push(await openLink(`serial:${pair.a}@115200`, 1, { log: () => {} }));
    raw.push(await openLink(`serial:${pair.b}@115200`, 2, { log: () => {} }));
  }, 20_000);
  afterAll(async () => { for (const t of raw) await t.close(); await pair.dispose(); });

  it("15% loss, 10% duplication, 15% reordering, both ways: exactly once, in order, with control frames authenticated", async () => {
    const key = Buffer.alloc(32, 0x33);
    const faulty = raw.map((t, i) => new FaultyTransport(t, { loss: 0.15, dup: 0.1, reorder: 0.15, maxDelayUs: 20_000, seed: 11 + i }));
    const layers = faulty.map((t, i) => new LinkLayer(t, { peers: [1, 2], incarnation: 100 + i, key, rtoUs: 40_000, helloUs: 50_000 }));
    const got: string[][] = [[], []];
    layers.forEach((l, i) => l.onFrame((_s, f) => got[i].push(hex(f))));
    const t0 = Date.now();
    while (!layers.every((l) => l.ready())) {
      if (Date.now() - t0 > 10_000) throw new Error(`no session: ${layers.map((l) => l.waiting().join("; ")).join(" | ")}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const sent: string[][] = [[], []];
    for (let k = 0; k < 300; k++) {
      for (const i of [0, 1]) {
        const f = frameOf(k % 4 === 0 ? 1 : 0, i + 1, 2 - i, k, 10 + (k % 50));
        sent[1 - i].push(hex(f));
        layers[i].send(2 - i, f);
      }
      if (k % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    while (!(got[0].length >= 300 && got[1].length >= 300 && layers.every((l) => l.idle()))) {
      if (Date.now() - t0 > 40_000) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(got[1]).toEqual(sent[1]);
    expect(got[0]).toEqual(sent[0]);
    const lost = faulty.reduce((n, f) => n + f.faults.lost, 0);
    expect(lost).toBeGreaterThan(40);
    expect(layers.reduce((n, l) => n + l.layerStats().retransmits, 0)).toBeGreaterThanOrEqual(lost / 2);
    for (const l of layers) l.stop();
  }, 60_000);
});
