/**
 * Interop: Wireshark's SIP dissector (tshark, an independent parser) reads a message hidden by the
 * I-CSCF as well-formed SIP — the replacement Via and Record-Route entries are ordinary header
 * values — and sees none of the hidden hosts (R-HIDE-1).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PcapRecorder } from '../../../src/capture/index.js';
import { SeededRng } from '../../../src/common/rng.js';
import { NetworkMatcher } from '../../../src/nodes/icscf/network.js';
import { hideTopology } from '../../../src/nodes/icscf/thig.js';
import { ThigKey } from '../../../src/nodes/icscf/thig-token.js';
import { parseMessage, serializeMessage } from '../../../src/sip/index.js';
import { needPeer } from '../../support/peers.js';

const INVITE = [
  'INVITE sip:bob@other.lab SIP/2.0',
  'Via: SIP/2.0/UDP icscf.ims.lab:4060;branch=z9hG4bKi1',
  'Via: SIP/2.0/UDP scscf.ims.lab:6060;branch=z9hG4bKs1, SIP/2.0/TCP pcscf.ims.lab:5060;branch=z9hG4bKp1;rport=5060;received=10.0.0.7',
  'Record-Route: <sip:scscf.ims.lab:6060;lr>, <sip:pcscf.ims.lab:5060;lr>',
  'From: <sip:alice@ims.lab>;tag=a1',
  'To: <sip:bob@other.lab>',
  'Call-ID: thig-tshark-1',
  'CSeq: 1 INVITE',
  'Max-Forwards: 68',
  'Contact: <sip:alice@10.0.0.7:5060>',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('THIG interop with tshark (R-HIDE-1)', () => {
  test('[R-HIDE-1] tshark decodes the hidden INVITE: no malformed field, three Vias become two, no hidden host visible', (t) => {
    if (!needPeer(t, 'tshark')) return;
    const home = new NetworkMatcher({ domains: ['ims.lab'] });
    const policy = { key: new ThigKey(new Uint8Array(16).fill(9)), domain: 'ims.lab', domains: ['ims.lab'], host: 'ims.lab', isHome: (h: string, p?: number) => home.has(h, p), isSelf: (h: string) => h === 'icscf.ims.lab' };
    const hidden = hideTopology(parseMessage(Buffer.from(INVITE)), policy, new SeededRng('tshark')).msg;
    const rec = new PcapRecorder();
    rec.udp({ address: '192.0.2.1', port: 5060 }, { address: '192.0.2.2', port: 5060 }, serializeMessage(hidden));
    const dir = mkdtempSync(join(tmpdir(), 'imsec-thig-'));
    try {
      const file = join(dir, 'thig.pcap');
      writeFileSync(file, rec.writer.toBytes());
      const fields = ['sip.Method', 'sip.Via.sent-by.address', 'sip.Record-Route', '_ws.malformed'];
      const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=;', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const [method, viaHosts, recordRoute, malformed] = r.stdout.trim().split('|');
      assert.equal(method, 'INVITE');
      assert.equal(malformed, '');
      assert.deepEqual(viaHosts.split(';'), ['icscf.ims.lab', 'ims.lab']);
      assert.match(recordRoute, /tokenized-by=ims\.lab/);
      for (const leak of ['scscf', 'pcscf', '10.0.0.7:5060;branch']) assert.ok(!r.stdout.includes(leak), leak);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
