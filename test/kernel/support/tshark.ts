/**
 * Decoding a capture taken inside the lab with tshark 4.0 and the exported esp_sa keys
 * (INTEROP.md "tshark ESP"): one row per ESP packet.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

export interface FrameRow {
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
  const args = ['-r', pcap, '-n', '-o', 'esp.enable_encryption_decode:TRUE', '-o', 'esp.enable_authentication_check:TRUE'];
  for (const l of saLines) args.push('-o', `uat:esp_sa:${l}`);
  for (const d of o.decodeAs ?? []) args.push('-d', d);
  args.push('-T', 'fields', '-E', 'separator=;', '-E', 'occurrence=l');
  for (const f of ['esp.spi', 'esp.sequence', 'esp.icv_good', 'esp.icv_bad', 'data.data', 'sip.Method', 'sip.Status-Code', 'udp.port']) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `tshark: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [spi, seq, good, bad, data, method, status] = l.split(';');
      const ports = l.split(';')[7] ?? '';
      return {
        spi: spi ? Number(spi) : NaN,
        seq: Number(seq),
        icvGood: good === '1' || good === 'True',
        icvBad: bad === '1' || bad === 'True',
        inner: data ? Buffer.from(data.replace(/:/g, ''), 'hex').toString('latin1') : '',
        sipMethod: method ?? '',
        sipStatus: status ?? '',
        udpPorts: ports ? ports.split(',').map(Number) : [],
      };
    });
}
