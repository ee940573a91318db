/**
 * The protected TCP transport of the kernel datapath when a set goes (TS 33.203 §7.1): its
 * connections are reset on `setDeleting`, while the SAs still exist, so that the kernel cannot
 * retransmit their data once the policies are gone, in the clear. Real sockets on loopback; the
 * SA manager is scripted (its events are what the transport listens to).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import type { SaEvent, SaManager, SaSet } from '../../../src/ipsec/index.js';
import { ProtectedTcpTransport } from '../../../src/sip/transport/protected/index.js';

const OPTIONS = 'OPTIONS sip:pcscf.ims.lab SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5064;branch=z9hG4bK1\r\nFrom: <sip:a@ims.lab>;tag=1\r\nTo: <sip:pcscf.ims.lab>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n';

async function rig() {
  const listeners: ((e: SaEvent) => void)[] = [];
  const sm = { role: 'pcscf', on: (l: (e: SaEvent) => void) => (listeners.push(l), () => undefined), noteInbound: () => undefined } as unknown as Pick<SaManager, 'noteInbound' | 'on' | 'role'>;
  const t = await ProtectedTcpTransport.listen({ address: '127.0.0.1', serverPort: 0, clientPortFor: () => undefined, lookup: () => ({ spi: 0x1000, id: 'sa-1', setId: 1 }), saManager: sm });
  const received: string[] = [];
  t.onMessage((m) => received.push(m.msg.headers.get('call-id') ?? ''));
  // The UE's connection from its client port to the P-CSCF's protected server port.
  const ue = connect({ host: '127.0.0.1', port: t.local.port });
  await once(ue, 'connect');
  ue.write(OPTIONS);
  while (received.length === 0) await new Promise((r) => setImmediate(r));
  const set = { id: 1, impi: 'a@ims.lab', ue: { address: '127.0.0.1', portC: ue.localPort!, portS: 5064 }, pcscf: { address: '127.0.0.1', portC: 5062, portS: t.local.port } } as unknown as SaSet;
  const emit = (e: SaEvent): void => listeners.forEach((l) => l(e));
  return { t, ue, set, emit, received };
}

function resetOf(s: Socket): Promise<string | undefined> {
  return new Promise((resolve) => {
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
    s.once('close', () => resolve(undefined));
  });
}

describe('protected TCP: a deleted set leaves no connection behind (TS 33.203 §7.1)', () => {
  test('[R-SA-7] setDeleting resets the set\'s connection at once (RST: ECONNRESET at the peer), before any saDeleted', async () => {
    const { t, ue, set, emit, received } = await rig();
    try {
      assert.deepEqual(received, ['c1']);
      const reset = resetOf(ue);
      emit({ kind: 'setDeleting', set, reason: 'deregistered' });
      assert.equal(await reset, 'ECONNRESET');
    } finally {
      ue.destroy();
      await t.close();
    }
  });

  test('a set of other ports, or a state change short of deletion, leaves the connection open', async () => {
    const { t, ue, set, emit, received } = await rig();
    try {
      let closed = false;
      ue.once('close', () => (closed = true));
      emit({ kind: 'setDeleting', set: { ...set, ue: { ...set.ue, portC: set.ue.portC + 1 } }, reason: 'expired' });
      emit({ kind: 'setStateChanged', set, from: 'temporary', to: 'active' });
      ue.write(OPTIONS.replace('Call-ID: c1', 'Call-ID: c2'));
      while (!received.includes('c2')) await new Promise((r) => setImmediate(r));
      assert.deepEqual(received, ['c1', 'c2'], 'the connection still carries messages');
      assert.equal(closed, false);
    } finally {
      ue.destroy();
      await t.close();
    }
  });
});
