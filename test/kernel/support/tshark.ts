/**
 * Decoding a capture taken inside the lab with tshark 4.0 and the exported esp_sa keys
 * (INTEROP.md "tshark ESP"): one row per ESP packet.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { TSHARK_ESP_PREFS } from '../../../src/capture/index.js';

export interface FrameRow {
  /** Where the frame is, for failure messages: its number, protocols, length and addresses. */
  where: string;
  /** NaN when the frame carries no ESP. */
  spi: number;
  seq: number;
  icvGood: boolean;
  icvBad: boolean;
  /** What tshark found inside (udp/tcp payload as text, SIP method or status). */
  inner: string;
  sipMethod: string;
  sipStatus: string;
  udpPorts: number[];
  securityServer: string;
  securityVerify: string;
}

export interface TsharkOptions {
  /** Extra -d decode-as rules, e.g. `udp.port==5100,sip`. */
  decodeAs?: string[];
}

/**
 * Every frame of `pcap` in one tshark pass (tshark takes seconds to start in the lab), ESP
 * decrypted and checked with `saLines` (Wireshark esp_sa records).
 */
export function decodeFrames(pcap: string, saLines: readonly string[], o: TsharkOptions = {}): FrameRow[] {
  const args = ['-r', pcap, '-n', ...TSHARK_ESP_PREFS];
  for (const l of saLines) args.push('-o', `uat:esp_sa:${l}`);
  for (const d of o.decodeAs ?? []) args.push('-d', d);
  args.push('-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=|');
  for (const f of ['esp.spi', 'esp.sequence', 'esp.icv_good', 'esp.icv_bad', 'data.data', 'sip.Method', 'sip.Status-Code', 'udp.srcport', 'udp.dstport', 'sip.Security-Server', 'sip.Security-Verify', 'frame.number', 'frame.protocols', 'frame.len', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst']) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `tshark: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      // Every occurrence, `|`-joined: the last one is the innermost (decrypted) layer; the
      // Security-* headers keep all of theirs.
      const all = line.split('\t').map((v) => v.split('|'));
      const last = all.map((v) => v[v.length - 1] ?? '');
      const [spi, seq, good, bad, data, method, status, sport, dport] = last;
      const [secServer, secVerify] = all.slice(9, 11).map((v) => v.join('|'));
      const [frame, protocols, len, src4, dst4, src6, dst6] = all.slice(11).map((v) => v.join('|'));
      return {
        where: `frame ${frame} (${protocols}, ${len} bytes, ${src6 || src4} → ${dst6 || dst4})`,
        spi: spi ? Number(spi) : NaN,
        seq: Number(seq),
        icvGood: good === '1' || good === 'True',
        icvBad: bad === '1' || bad === 'True',
        inner: data ? Buffer.from(data.replace(/:/g, ''), 'hex').toString('latin1') : '',
        sipMethod: method ?? '',
        sipStatus: status ?? '',
        udpPorts: [sport, dport].filter((p) => p).map(Number),
        securityServer: secServer ?? '',
        securityVerify: secVerify ?? '',
      };
    });
}

/**
 * The `fields` of every frame of `pcap` that passes the display filter `filter`, ESP decrypted
 * with `saLines` (one row per frame, the innermost occurrence of each field).
 */
export function tsharkFields(pcap: string, saLines: readonly string[], filter: string, fields: readonly string[]): string[][] {
  const args = ['-r', pcap, '-n', ...TSHARK_ESP_PREFS];
  for (const l of saLines) args.push('-o', `uat:esp_sa:${l}`);
  args.push('-Y', filter, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=l');
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `tshark: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.split('\t'));
}
