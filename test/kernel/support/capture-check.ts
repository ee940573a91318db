/**
 * What a capture of the core's link must show after the core-e2e scenarios, decoded in one
 * tshark pass with the keys the UEs exported (tshark 4.0 cannot check aes-gmac ICVs):
 * - every ESP packet belongs to an exported SA and its ICV is good;
 * - payload in the clear (UDP, or TCP with data) only on the unprotected port 5060 (R-SA-5), but
 *   for the lab's capture marker to the discard port;
 * - over TCP, every connection on a protected port opens (SYN) inside ESP, on exactly the flows
 *   of TS 33.203 §6.2: UE port_uc → P-CSCF port_ps and P-CSCF port_pc → UE port_us.
 */
import assert from 'node:assert/strict';
import type { CoreLab } from './core-lab.js';
import { keepingCapture } from './keep-capture.js';
import { tsharkFields } from './tshark.js';

/** The discard port (RFC 863): where the lab's capture marker goes (core-lab.ts). */
export const DISCARD_PORT = 9;

interface Row {
  /** Where the packet is, for a failure message: frame number, protocols, length, addresses, ESP sequence. */
  where: string;
  spi: number;
  seq: number;
  icvGood: boolean;
  icvBad: boolean;
  tcp: { from: number; to: number; syn: boolean; ack: boolean; len: number } | undefined;
  udp: { from: number; to: number } | undefined;
  sip: boolean;
}

const FIELDS = ['frame.number', 'frame.protocols', 'frame.len', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'esp.sequence', 'esp.spi', 'esp.icv_good', 'esp.icv_bad', 'tcp.srcport', 'tcp.dstport', 'tcp.flags.syn', 'tcp.flags.ack', 'tcp.len', 'udp.srcport', 'udp.dstport', 'sip.Method', 'sip.Status-Code'];
const yes = (v: string | undefined): boolean => v === '1' || v === 'True';

function rows(lab: CoreLab): Row[] {
  return tsharkFields(lab.pcap, lab.keys, 'esp || tcp || udp', FIELDS).map(([frame, protocols, flen, src4, dst4, src6, dst6, seq, spi, good, bad, ts, td, syn, ack, len, us, ud, method, status]) => ({
    where: `frame ${frame} (${protocols}, ${flen} bytes, ${src6 || src4} → ${dst6 || dst4}, ESP sequence ${seq})`,
    spi: spi ? Number(spi) : NaN,
    seq: Number(seq),
    icvGood: yes(good),
    icvBad: yes(bad),
    tcp: ts ? { from: Number(ts), to: Number(td), syn: yes(syn), ack: yes(ack), len: Number(len || 0) } : undefined,
    udp: us ? { from: Number(us), to: Number(ud) } : undefined,
    sip: Boolean(method || status),
  }));
}

/**
 * Checks the capture (see the module comment). `connections`: the protected flows over TCP as
 * `from>to` ports, those whose packets tshark can open; `minSip`: SIP messages expected inside ESP.
 */
export function assertCapture(lab: CoreLab, o: { connections: ReadonlySet<string>; minSip: number; sets?: unknown[] }): void {
  keepingCapture(lab.pcap, lab.keys, () => checkCapture(lab, o), { 'core.log': () => lab.core.stderr() });
}

function checkCapture(lab: CoreLab, o: { connections: ReadonlySet<string>; minSip: number; sets?: unknown[] }): void {
  const all = rows(lab);
  const esp = all.filter((r) => !Number.isNaN(r.spi));
  assert.ok(esp.length > 0, 'ESP captured');
  // tshark takes the first esp_sa record that matches: one SPI exported with two keys would fail the ICVs of the second.
  assert.deepEqual(rekeyedSpis(lab.keys), [], 'every exported SPI has one key');
  for (const r of esp) {
    assert.ok(lab.checksIcv.has(r.spi), `SPI 0x${r.spi.toString(16)} is one of the exported SAs (${r.where})`);
    if (lab.checksIcv.get(r.spi)) assert.ok(r.icvGood && !r.icvBad, `SPI 0x${r.spi.toString(16)}: ICV good (${r.where}; tshark: good ${r.icvGood}, bad ${r.icvBad}; ${spiHistory(esp, r.spi)})`);
    else assert.ok(!r.icvBad, 'aes-gmac: tshark 4.0 cannot check the ICV');
  }
  assert.ok(esp.filter((r) => r.sip).length >= o.minSip, `SIP inside ESP (${esp.filter((r) => r.sip).length})`);
  const clear = all.filter((r) => Number.isNaN(r.spi) && (r.udp || (r.tcp && r.tcp.len > 0)));
  assert.ok(clear.length > 0, 'the unprotected REGISTER and 401 captured');
  // The lab's capture marker goes to the discard port (RFC 863), in the clear by design.
  const off5060 = clear.filter((r) => ![r.udp?.from, r.udp?.to, r.tcp?.from, r.tcp?.to].includes(5060) && r.udp?.to !== DISCARD_PORT);
  assert.deepEqual(off5060, [], 'payload in the clear only on the unprotected port 5060');
  const syns = all.filter((r) => r.tcp?.syn && !r.tcp.ack && r.tcp.from !== 5060 && r.tcp.to !== 5060);
  for (const s of syns) assert.ok(!Number.isNaN(s.spi), `SYN ${s.tcp!.from} → ${s.tcp!.to} on a protected port inside ESP`);
  const seen = new Set(syns.filter((s) => lab.checksIcv.get(s.spi)).map((s) => `${s.tcp!.from}>${s.tcp!.to}`));
  assert.deepEqual([...o.connections].filter((k) => !seen.has(k)), [], `a connection on each expected flow (seen: ${[...seen].join(' ')}; sets ${JSON.stringify(o.sets ?? [])})`);
  assert.deepEqual([...seen].filter((k) => !o.connections.has(k)), [], 'no connection on any other flow');
}

/** Every packet of one SPI in the capture, for a failure message: `seq 1 good, seq 2 bad, …`. */
export function spiHistory(rows: readonly { spi: number; seq: number; icvGood: boolean; icvBad: boolean }[], spi: number): string {
  const mine = rows.filter((r) => r.spi === spi);
  return `${mine.length} packet(s) of this SPI: ${mine.map((r) => `seq ${r.seq} ${r.icvGood ? 'good' : r.icvBad ? 'bad' : 'unchecked'}`).join(', ')}`;
}

/** The SPI of one Wireshark esp_sa record (its only quoted hex field); NaN when it has none. */
export function spiOfEspSaLine(line: string): number {
  return Number(/"(0x[0-9a-f]+)"/i.exec(line)?.[1]);
}

/** The SPIs (hex) of `keys` (Wireshark esp_sa records) that appear in records that differ. */
export function rekeyedSpis(keys: readonly string[]): string[] {
  const bySpi = new Map<number, Set<string>>();
  for (const l of keys) {
    const spi = spiOfEspSaLine(l);
    bySpi.set(spi, (bySpi.get(spi) ?? new Set()).add(l));
  }
  return [...bySpi].filter(([, lines]) => lines.size > 1).map(([spi]) => `0x${spi.toString(16)}`);
}

/** The protected TCP flows of sets (TS 33.203 §6.2) whose packets tshark can open. */
export function tcpFlows(lab: CoreLab, sets: readonly { ue: { portC: number; portS: number; spiS: number }; pcscf: { portC: number; portS: number } }[]): Set<string> {
  const out = new Set<string>();
  for (const s of sets) {
    if (!lab.checksIcv.get(s.ue.spiS)) continue;
    out.add(`${s.ue.portC}>${s.pcscf.portS}`);
    out.add(`${s.pcscf.portC}>${s.ue.portS}`);
  }
  return out;
}
