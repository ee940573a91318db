/**
 * The protected REGISTER over TCP, as a real Samsung phone sends it (../shared/vectors/real/pcap:
 * ESP transport mode, the protected REGISTER on a TCP connection from port_uc to port_ps), at a
 * P-CSCF with the kernel datapath (TS 33.203 §7.1: the SAs cover UDP and TCP; TS 24.229
 * §5.1.1.2.2 / RFC 3261 §18.2.2: the response goes back on the request's connection).
 *
 * This host's kernel has no ESP: `ip xfrm` is answered by a stub runner and the TCP runs in the
 * clear; what the kernel's policies would enforce, the P-CSCF's selector check stands in for (a
 * connection no inbound SA covers is not heard). test/kernel proves the same with real ESP.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import type { XfrmRunner } from '../../../src/ipsec/index.js';
import { parseMessage, securityServerOf, type SipResponse } from '../../../src/sip/index.js';
import { freePorts } from '../../support/ports.js';
import { waitFor } from '../../support/wait.js';
import { RawPort, sipText } from '../../support/raw-esp.js';
import { HOST, StubCore, startPcscf } from './support.js';

function register(o: { via: string; contactPort: number; auth: string; client: string; verify?: string; cseq: number }): string {
  const h: [string, string][] = [
    ['Via', o.via],
    ['Max-Forwards', '70'],
    ['From', '<sip:alice@ims.lab>;tag=t1'],
    ['To', '<sip:alice@ims.lab>'],
    ['Call-ID', 'tcp-reg-1'],
    ['CSeq', `${o.cseq} REGISTER`],
    ['Contact', `<sip:${HOST}:${o.contactPort}>`],
    ['Expires', '600'],
    ['Authorization', o.auth],
    ['Security-Client', o.client],
    ['Require', 'sec-agree'],
    ['Proxy-Require', 'sec-agree'],
  ];
  if (o.verify) h.push(['Security-Verify', o.verify]);
  return sipText('REGISTER sip:ims.lab SIP/2.0', h);
}

function tcpFrom(localPort: number, to: number): Promise<{ socket: Socket; data: () => string }> {
  return new Promise((resolve, reject) => {
    let got = '';
    const socket = connect({ host: HOST, port: to, localAddress: HOST, localPort }, () => resolve({ socket, data: () => got }));
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.once('error', reject);
  });
}

describe('TS 33.203 §7.1 over TCP: a phone\'s protected REGISTER at the kernel-datapath P-CSCF', () => {
  test('[R-SA-3] [R-SA-9] [R-SA-5] the protected REGISTER on a TCP connection from port_uc to port_ps is answered on that connection; a connection from elsewhere is not heard', async () => {
    const clock = new ManualClock(0);
    const stub = await StubCore.start(clock);
    const runner: XfrmRunner = async () => ({ stdout: '', stderr: '' });
    const pcscf = await startPcscf(stub, clock, { datapath: 'xfrm', sip: { listen: `${HOST}:0`, protocols: ['udp', 'tcp'] } }, 'tcp', { xfrmRunner: runner });
    const plain = await RawPort.open(HOST);
    const [uc, us, stranger] = await freePorts(3);
    const client = `ipsec-3gpp;prot=esp;mod=trans;spi-c=25656;spi-s=25657;port-c=${uc};port-s=${us};alg=hmac-md5-96;ealg=null`;
    const sockets: Socket[] = [];
    try {
      const a = pcscf.address();
      await plain.send(register({ via: `SIP/2.0/UDP ${HOST}:${plain.port};branch=z9hG4bKt1;rport`, contactPort: plain.port, auth: 'Digest username="alice@ims.lab", realm="ims.lab", uri="sip:ims.lab", nonce="", response=""', client, cseq: 1 }), { address: a.sip.address, port: a.sip.port });
      let r401: SipResponse;
      do r401 = parseMessage((await plain.next('401')).data) as SipResponse;
      while (r401.status < 200);
      assert.equal(r401.status, 401);
      const ss = securityServerOf(r401)[0];
      assert.equal(ss.mod, 'trans');
      const verify = r401.headers.get('Security-Server')!;
      // The protected REGISTER over TCP, from port_uc to port_ps (Via and Contact: port_us).
      const c = await tcpFrom(uc, ss.portS!);
      sockets.push(c.socket);
      const auth = `Digest username="alice@ims.lab", realm="ims.lab", uri="sip:ims.lab", nonce="bm9uY2U=", response="${'5'.repeat(32)}", algorithm=AKAv1-MD5`;
      c.socket.write(register({ via: `SIP/2.0/TCP ${HOST}:${us};branch=z9hG4bKt2`, contactPort: us, auth, client, verify, cseq: 2 }));
      await waitFor(() => /^SIP\/2\.0 200 /m.test(c.data()), 'the 200 on the same connection');
      assert.match(c.data(), /CSeq: 2 REGISTER/);
      assert.deepEqual(pcscf.sets().map((s) => s.state), ['active']);
      assert.equal(stub.all('REGISTER').length, 2);
      // A connection no SA covers (from a port that is not port_uc): nothing is heard, nothing answered.
      const s = await tcpFrom(stranger, ss.portS!);
      sockets.push(s.socket);
      s.socket.write(register({ via: `SIP/2.0/TCP ${HOST}:${us};branch=z9hG4bKt3`, contactPort: us, auth, client, verify, cseq: 3 }));
      const tcpDrops = (): number => {
        const d = pcscf.datapathCounters();
        return d?.kind === 'xfrm' ? d.counters.tcpUnprotected : -1;
      };
      await waitFor(() => tcpDrops() === 1, 'the unprotected connection to be dropped');
      assert.equal(s.data(), '');
      assert.equal(stub.all('REGISTER').length, 2);
    } finally {
      for (const s of sockets) s.destroy();
      await plain.close();
      await pcscf.stop();
      await stub.close();
    }
  });
});
