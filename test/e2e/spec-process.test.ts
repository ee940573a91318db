/**
 * SPEC groups R-SM, R-SA, R-RR, R-FAIL and R-ANON across processes: `imsec core` (HSS, S-CSCF,
 * I-CSCF, P-CSCF) runs as a real child process with every port 0 and a temporary data
 * directory; soft UEs run in this process through the UE library and talk to it over real
 * loopback sockets. What happens inside the core is observed only from the outside: the UE's
 * wire hooks (every SIP message in either direction, with whether it went over the SAs), its SA
 * table, its ESP datapath counters and tap, and hand-made UDP datagrams.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { usimStateFromSqnMs } from '../../src/auth/index.js';
import { ManualClock } from '../../src/common/index.js';
import { DEMO_SUBSCRIBERS } from '../../src/nodes/core/index.js';
import { createUe, memorySqnStore, parseUeConfig, type Ue, type UeConfigInput, type UeDeps, type UeHooks } from '../../src/nodes/ue/index.js';
import { parseSecurityMechanisms, type SecMechanism } from '../../src/secagree/index.js';
import { UdpEncapDatapath } from '../../src/ipsec/index.js';
import { serializeMessage, type SipMessage } from '../../src/sip/index.js';
import type { Endpoint } from '../../src/sip/transport/types.js';
import { sharedJson } from '../support/shared.js';
import { printCoreLogOnFailure, startCoreProcess, type CoreProcess } from './support/core-process.js';
import { pollFor as waitFor } from '../support/wait.js';

const fromSource = import.meta.url.endsWith('.ts');

// Subscribers of our own besides alice and bob: K and OP of TS 35.208 §4 test sets 2, 4, 5, 6, 7
// (from ../shared/vectors/milenage.json), so that no two tests share an IMPI at the P-CSCF.
const milenage = sharedJson<{ ts_35_208_conformance_test_sets: { test_set: number; K: string; OP: string }[] }>('milenage.json');
const present = milenage.options.skip === undefined;
function keysOf(set: number): { k: string; op: string } {
  const s = milenage.value.ts_35_208_conformance_test_sets.find((x) => x.test_set === set);
  if (!s) throw new Error(`TS 35.208 test set ${set} missing`);
  return { k: s.K, op: s.OP };
}
const EXTRA = present ? [
  { impi: 'carol@ims.lab', impus: ['sip:carol@ims.lab'], ...keysOf(2) },
  { impi: 'dave@ims.lab', impus: ['sip:dave@ims.lab'], ...keysOf(4) },
  { impi: 'erin@ims.lab', impus: ['sip:erin@ims.lab'], ...keysOf(5) },
  { impi: 'frank@ims.lab', impus: ['sip:frank@ims.lab'], ...keysOf(6) },
  // R-ANON-2: a pseudonym IMPU next to the subscriber's own, in the same implicit set.
  { impi: 'grace@ims.lab', impus: ['sip:grace@ims.lab', 'sip:anon-7q4zk2@ims.lab'], ...keysOf(7) },
] : [];
const SUBSCRIBERS = [...DEMO_SUBSCRIBERS.map((s) => ({ ...s, impus: [...s.impus] })), ...EXTRA];
const keys = (impi: string): { k: string; op: string } => {
  const s = SUBSCRIBERS.find((x) => x.impi === impi)!;
  return { k: s.k, op: s.op! };
};

/** Every SIP message a UE sent or received, with the transport it used. */
interface Seen {
  dir: 'out' | 'in';
  protected: boolean;
  peer: Endpoint;
  msg: SipMessage;
}

let core: CoreProcess;
printCoreLogOnFailure(() => core);
const ues: Ue[] = [];

before(async () => {
  if (present) core = await startCoreProcess({ subscribers: SUBSCRIBERS }, fromSource);
});

after(async () => {
  for (const u of ues.splice(0)) await u.stop().catch(() => undefined);
  if (core) {
    const code = await core.stop();
    assert.equal(code, 0, `imsec core exit code\n${core.stderr()}`);
    for (const s of SUBSCRIBERS) assert.ok(!core.stdout().includes(s.k) && !core.stderr().includes(s.k), 'K never in the core output');
  }
});

/**
 * A UE of `impi` against the core, recording its wire in `seen`. `alter` may rewrite or drop a
 * message (the UE hooks); `cfg` and `deps` override the defaults.
 */
async function ue(impi: string, opts: { cfg?: Partial<UeConfigInput>; deps?: UeDeps; alter?: UeHooks } = {}): Promise<{ ue: Ue; seen: Seen[] }> {
  const seen: Seen[] = [];
  const hooks: UeHooks = {
    outgoing(msg, info) {
      const r = opts.alter?.outgoing?.(msg, info);
      if (r !== null) seen.push({ dir: 'out', protected: info.protected, peer: info.peer, msg: r ?? msg });
      return r;
    },
    incoming(msg, info) {
      const r = opts.alter?.incoming?.(msg, info);
      if (r !== null) seen.push({ dir: 'in', protected: info.protected, peer: info.peer, msg: r ?? msg });
      return r;
    },
  };
  const user = impi.split('@')[0];
  const u = createUe(
    parseUeConfig({
      impi,
      impu: `sip:${impi}`,
      ...keys(impi),
      pcscf: `127.0.0.1:${core.pcscfPort}`,
      reRegister: { auto: false },
      subscribeRegEvent: false,
      userAgent: `imsec-e2e-${user}`,
      ...opts.cfg,
    }),
    { ...opts.deps, hooks },
  );
  await u.start();
  ues.push(u);
  return { ue: u, seen };
}

async function done(u: Ue): Promise<void> {
  const i = ues.indexOf(u);
  if (i >= 0) ues.splice(i, 1);
  await u.stop();
}

const registers = (seen: Seen[], dir: 'out' | 'in' = 'out'): Seen[] => seen.filter((s) => s.dir === dir && s.msg.kind === 'request' && s.msg.method === 'REGISTER');
const responses = (seen: Seen[], method: string): Seen[] => seen.filter((s) => s.dir === 'in' && s.msg.kind === 'response' && cseqMethod(s.msg) === method);
function cseqMethod(m: SipMessage): string {
  return (m.headers.get('CSeq') ?? '').trim().split(/\s+/)[1] ?? '';
}
function header(m: SipMessage, name: string): string | undefined {
  const lines = m.headers.getLines(name);
  return lines.length === 0 ? undefined : lines.join(', ');
}
function mechs(m: SipMessage, name: string): SecMechanism[] {
  const v = header(m, name);
  assert.ok(v !== undefined, `${name} present`);
  return parseSecurityMechanisms(v);
}

/** A plain UDP socket on `address`; `replies` collects what comes back. */
async function plainSocket(address = '127.0.0.1'): Promise<{ sock: Socket; replies: string[]; port: number }> {
  const sock = createSocket('udp4');
  const replies: string[] = [];
  sock.on('message', (m) => replies.push(m.toString('latin1')));
  await new Promise<void>((r) => sock.bind(0, address, () => r()));
  return { sock, replies, port: sock.address().port };
}
function sendTo(sock: Socket, data: string | Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) => sock.send(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
}
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sipRequest(method: string, fromPort: number, opts: { uri?: string; extra?: string[] } = {}): string {
  const branch = `z9hG4bK-e2e-${method.toLowerCase()}-${fromPort}-${Date.now()}`;
  return [
    `${method} ${opts.uri ?? 'sip:bob@ims.lab'} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${fromPort};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:mallory@ims.lab>;tag=e2e${fromPort}`,
    `To: <${opts.uri ?? 'sip:bob@ims.lab'}>`,
    `Call-ID: e2e-${method}-${fromPort}-${Date.now()}@127.0.0.1`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:mallory@127.0.0.1:${fromPort}>`,
    ...(opts.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('SPEC across processes: imsec core as a child process, UEs over loopback', { timeout: 60_000, ...milenage.options }, () => {
  test('[R-SM-1] [R-SM-3] [R-SM-6] registration takes exactly two REGISTER round trips: the first unprotected with Security-Client, the second inside ESP with Security-Verify', async () => {
    const { ue: u, seen } = await ue('carol@ims.lab', { cfg: { integrity: ['hmac-md5-96', 'hmac-sha-1-96'], encryption: ['null', 'aes-cbc'] } });
    const esp0 = u.counters().datapath!.sent;
    await u.register();
    assert.equal(u.state().state, 'registered');
    const out = registers(seen);
    assert.equal(out.length, 2, 'two REGISTERs, no extra round trip (R-SM-3)');
    const [first, second] = out;
    // R-SM-1: the first goes on the unprotected port, offering ipsec-3gpp in the UE's priority order.
    assert.equal(first.protected, false);
    assert.equal(first.peer.port, core.pcscfPort);
    const offer = mechs(first.msg, 'Security-Client');
    assert.ok(offer.every((m) => m.name.toLowerCase() === 'ipsec-3gpp'));
    assert.deepEqual([...new Set(offer.map((m) => m.alg))], ['hmac-md5-96', 'hmac-sha-1-96'], 'integrity in the configured priority order');
    for (const m of offer) for (const f of ['spiC', 'spiS', 'portC', 'portS'] as const) assert.ok(typeof m[f] === 'number', `${f} offered`);
    assert.equal(header(first.msg, 'Security-Verify'), undefined);
    // The 401 came back on the unprotected port with a Security-Server.
    const regResps = responses(seen, 'REGISTER');
    assert.deepEqual(
      regResps.map((r) => [r.msg.kind === 'response' && r.msg.status, r.protected]),
      [
        [401, false],
        [200, true],
      ],
    );
    const server = mechs(regResps[0].msg, 'Security-Server');
    // R-SM-6: the second REGISTER is the first protected message; it carries Security-Verify = Security-Server.
    assert.equal(second.protected, true);
    assert.notEqual(second.peer.port, core.pcscfPort, "sent to the P-CSCF's protected port-s");
    assert.equal(second.peer.port, server[0].portS);
    assert.deepEqual(mechs(second.msg, 'Security-Verify'), server);
    assert.deepEqual(mechs(second.msg, 'Security-Client'), offer, 'Security-Client unchanged');
    assert.equal(u.counters().datapath!.sent - esp0, 1, 'exactly one ESP datagram sent by the UE: the second REGISTER');
    assert.ok(u.counters().datapath!.delivered >= 1, 'the 200 arrived inside ESP');
    await u.deregister();
    await done(u);
  });

  test('[R-SM-2] an offer with nothing acceptable to the P-CSCF policy (mod=trans only, to a userspace P-CSCF) is refused with a 4xx and no SA at the UE; null integrity with aes-gcm is accepted', async () => {
    // TS 33.203 §7.2 / Annex H: the P-CSCF's policy decides; a userspace P-CSCF supports
    // mod=UDP-enc-tun only. The offer is rewritten on the wire as a kernel-only UE would send it.
    const { ue: u, seen } = await ue('dave@ims.lab', {
      alter: {
        outgoing(msg, info) {
          if (info.protected || msg.kind !== 'request' || msg.method !== 'REGISTER') return;
          const sc = msg.headers.get('Security-Client') ?? '';
          assert.match(sc, /mod=UDP-enc-tun/);
          msg.headers.set('Security-Client', sc.replaceAll('mod=UDP-enc-tun', 'mod=trans'));
        },
      },
    });
    await assert.rejects(u.register(), (e: Error & { reason?: string; status?: number }) => e.reason === 'rejected' && e.status! >= 400 && e.status! < 500);
    assert.equal(u.state().state, 'failed');
    const rs = responses(seen, 'REGISTER');
    assert.equal(rs.length, 1, 'one round trip');
    const r = rs[0].msg;
    assert.ok(r.kind === 'response' && r.status >= 400 && r.status < 500 && r.status !== 401, `a 4xx other than a challenge, got ${r.kind === 'response' ? r.status : '?'}`);
    assert.equal(r.kind === 'response' && r.status, 494, 'Security Agreement Required (RFC 3329 §2.3.1)');
    // RFC 3329 §2.3.1: the refusal may list what the P-CSCF supports; none of it is what was offered.
    const listed = header(r, 'Security-Server') === undefined ? [] : mechs(r, 'Security-Server');
    assert.ok(listed.every((m) => m.mod !== 'trans'), 'nothing of the offer was chosen');
    assert.equal(header(r, 'WWW-Authenticate'), undefined, 'no challenge: nothing went to the S-CSCF');
    assert.equal(u.sa.sas().length, 0, 'no SA at the UE');
    assert.equal(registers(seen).length, 1);
    // The same IMPI with an acceptable offer registers: the refusal left nothing behind in the core.
    // NULL integrity is acceptable with aes-gcm (R-SA-1; the default policy includes it).
    await done(u);
    const { ue: ok } = await ue('dave@ims.lab', { cfg: { integrity: ['null'], encryption: ['aes-gcm'] } });
    await ok.register();
    assert.equal(ok.sa.sas().length, 4);
    assert.ok(ok.sa.sas().every((x) => x.integrity === 'null' && x.encryption === 'aes-gcm'));
    await ok.deregister();
    await done(ok);
  });

  test('[R-SM-4] a second REGISTER whose Security-Verify was altered (bid-down) is rejected; the registration does not complete', async () => {
    const { ue: u, seen } = await ue('erin@ims.lab', {
      alter: {
        outgoing(msg, info) {
          if (!info.protected || msg.kind !== 'request' || msg.method !== 'REGISTER') return;
          const sv = msg.headers.get('Security-Verify');
          assert.ok(sv, 'the protected REGISTER carries Security-Verify');
          // Claim the P-CSCF had chosen the weaker integrity algorithm.
          const altered = sv.includes('hmac-sha-1-96') ? sv.replace('hmac-sha-1-96', 'hmac-md5-96') : sv.replace('hmac-md5-96', 'hmac-sha-1-96');
          assert.notEqual(altered, sv);
          msg.headers.set('Security-Verify', altered);
          return msg;
        },
      },
    });
    await assert.rejects(u.register());
    assert.notEqual(u.state().state, 'registered');
    assert.equal(u.state().registration, undefined);
    const rs = responses(seen, 'REGISTER').map((r) => (r.msg.kind === 'response' ? r.msg.status : 0));
    assert.equal(rs[0], 401);
    assert.ok(!rs.includes(200), `never a 200 (got ${rs.join(', ')})`);
    assert.equal(registers(seen).filter((s) => s.protected).length, 1, 'the altered REGISTER was sent once over the SAs');
    assert.equal(u.sa.sas().length, 0, 'the UE dropped the new SAs');
    await done(u);
  });

  test('[R-SA-3] [R-SA-7] the four SAs: UE inbound SPIs with MSB 1, P-CSCF-chosen SPIs with MSB 0, all distinct and outside 1–255; none left after de-registration', async () => {
    const { ue: u } = await ue('frank@ims.lab');
    const reg = await u.register();
    const sas = u.sa.sas();
    assert.equal(sas.length, 4);
    const inbound = sas.filter((s) => s.direction === 'in');
    const outbound = sas.filter((s) => s.direction === 'out');
    assert.equal(inbound.length, 2);
    assert.equal(outbound.length, 2);
    assert.ok(inbound.every((s) => s.spi >= 0x80000000 && s.spi <= 0xffffffff), 'UE inbound SPIs have the MSB set');
    assert.ok(outbound.every((s) => s.spi > 255 && s.spi < 0x80000000), 'the P-CSCF chose its inbound SPIs with the MSB clear');
    assert.ok(sas.every((s) => s.spi > 255), 'none in the reserved range 1–255');
    assert.equal(new Set(sas.map((s) => s.spi)).size, 4, 'four distinct SPIs');
    // The SPIs match what was negotiated: the UE's in Security-Client, the P-CSCF's in Security-Server.
    assert.deepEqual(inbound.map((s) => s.spi).sort(), [reg.ue.spiC, reg.ue.spiS].sort());
    assert.deepEqual(outbound.map((s) => s.spi).sort(), [reg.pcscf.spiC, reg.pcscf.spiS].sort());
    // The SA table (TS 33.203 §7.1) has a row per SA and transport: UDP and TCP share the four SAs.
    const rows = u.saTable();
    assert.equal(rows.length, 8);
    for (const t of ['udp', 'tcp']) assert.deepEqual(rows.filter((x) => String(x.transport).toLowerCase() === t).map((x) => x.spi).sort(), sas.map((s) => s.spi).sort(), `${t} rows`);
    const bound = (): Endpoint[] => (u.datapath as unknown as { boundEndpoints: () => Endpoint[] }).boundEndpoints();
    assert.ok(bound().length >= 2, 'protected ports bound');
    await u.deregister();
    assert.equal(u.state().state, 'deregistered');
    assert.equal(u.sa.sas().length, 0, 'no SA after de-registration');
    assert.equal(u.saTable().length, 0);
    assert.ok(await waitFor(() => bound().length === 0, 10_000), 'protected ports closed');
    await done(u);
  });

  test('[R-SA-5] plain SIP to a protected port of the P-CSCF gets no answer; a non-REGISTER on its unprotected port is refused', async () => {
    const { ue: u } = await ue('carol@ims.lab');
    const reg = await u.register();
    const { sock, replies, port } = await plainSocket();
    try {
      // Control: the same socket does get answers from the P-CSCF's unprotected port (an initial REGISTER is allowed there).
      await sendTo(sock, sipRequest('REGISTER', port, { uri: 'sip:ims.lab', extra: ['Expires: 600000'] }), core.pcscfPort);
      assert.ok(await waitFor(() => replies.length > 0, 5_000), 'an initial REGISTER on the unprotected port is answered');
      replies.length = 0;
      // A non-REGISTER on the unprotected port from a source that is not the core: refused with 403
      // by the P-CSCF itself (or dropped), never forwarded (a forwarded one would meet another answer).
      await sendTo(sock, sipRequest('MESSAGE', port), core.pcscfPort);
      await waitFor(() => replies.length > 0, 1_000);
      assert.ok(replies.every((r) => /^SIP\/2\.0 403 /.test(r)), `refused or dropped, got ${replies.map((r) => r.split('\r\n')[0]).join(' | ')}`);
      replies.length = 0;
      // Plain (unprotected) SIP to both protected ports: never answered.
      for (const p of [reg.pcscf.portS, reg.pcscf.portC]) {
        await sendTo(sock, sipRequest('OPTIONS', port, { uri: `sip:127.0.0.1:${p}` }), p);
        await sendTo(sock, sipRequest('REGISTER', port, { uri: 'sip:ims.lab' }), p);
      }
      await pause(600);
      assert.deepEqual(replies, [], 'no answer from a protected port to plain SIP');
      // The registration is untouched: a protected MESSAGE still goes through.
      const r = await u.sendMessage('sip:carol@ims.lab', 'still fine');
      assert.equal(r.status, 200);
    } finally {
      sock.close();
    }
    await u.deregister();
    await done(u);
  });

  test('[R-SA-8] a replayed ESP datagram (same bytes, same UE port) produces nothing upstream and no answer', async () => {
    let armed = false;
    let captured: { local: Endpoint; remote: Endpoint; bytes: Uint8Array } | undefined;
    let sent: SipMessage | undefined;
    const { ue: alice } = await ue('alice@ims.lab', {
      alter: {
        outgoing(msg, info) {
          if (armed && info.protected && msg.kind === 'request' && msg.method === 'MESSAGE') sent = msg;
        },
      },
      deps: {
        espTap: (direction, local, remote, datagram) => {
          if (direction === 'out' && armed && !captured) captured = { local, remote, bytes: Uint8Array.from(datagram) };
        },
      },
    });
    const bobMessages: string[] = [];
    const { ue: bob } = await ue('bob@ims.lab', {
      alter: {
        incoming(msg, info) {
          if (info.protected && msg.kind === 'request' && msg.method === 'MESSAGE') bobMessages.push(msg.headers.get('Call-ID') ?? '');
        },
      },
    });
    await bob.register();
    await alice.register();
    armed = true;
    const r = await alice.sendMessage('sip:bob@ims.lab', 'only once');
    armed = false;
    assert.equal(r.status, 200);
    assert.ok(captured, 'the MESSAGE went out as ESP');
    assert.ok(await waitFor(() => bobMessages.length === 1, 10_000));
    const callId = bobMessages[0];
    const before = { ...alice.counters().datapath!, dropped: undefined };
    // Resend the very same bytes from the UE's own protected port-c.
    await (alice.datapath as UdpEncapDatapath).sendRaw(captured.local, captured.bytes, captured.remote);
    await pause(700);
    assert.deepEqual(bobMessages, [callId], 'no second MESSAGE reached bob');
    assert.equal(alice.counters().datapath!.received, before.received, 'nothing came back to the UE (no cached response replayed either)');
    // Control: the same SIP request sealed again (a new ESP sequence number, what a replay would
    // amount to without the anti-replay window) does produce a reaction the observers above see:
    // the P-CSCF answers the retransmission or forwards it again.
    assert.ok(sent, 'the MESSAGE was seen leaving');
    await (alice.datapath as UdpEncapDatapath).send(serializeMessage(sent), { fromPort: captured.local.port, to: captured.remote });
    assert.ok(
      await waitFor(() => alice.counters().datapath!.received > before.received || bobMessages.length > 1, 10_000),
      'a fresh ESP packet with the same request is seen by the observers (so their silence above is meaningful)',
    );
    // The SA still works after the replay: a fresh MESSAGE goes through.
    const n = bobMessages.length;
    const again = await alice.sendMessage('sip:bob@ims.lab', 'a new one');
    assert.equal(again.status, 200);
    assert.ok(await waitFor(() => bobMessages.length === n + 1, 10_000));
    await alice.deregister();
    await bob.deregister();
    await done(alice);
    await done(bob);
  });

  test('[R-RR-1] [R-RR-2] re-registration runs over the existing SAs and yields a new SA set (new port_uc and port_pc, same port_us and port_ps); the UE keeps the old set whole, then 64·T1 after the P-CSCF\'s first message on the new one', async () => {
    // A manual clock for the UE only: the change-over's 64·T1 (32 s) runs without waiting.
    const clock = new ManualClock(Date.now());
    const { ue: u, seen } = await ue('dave@ims.lab', { deps: { clock } });
    const first = await u.register();
    const old = u.sa.sas();
    assert.equal(old.length, 4);
    const n = registers(seen).length;
    const second = await u.reRegister();
    assert.equal(u.state().state, 'registered');
    const re = registers(seen).slice(n);
    assert.ok(re.length >= 2, 'challenge round trip');
    assert.ok(re.every((s) => s.protected), 'the re-registration ran over the existing SAs (R-RR-1)');
    assert.notEqual(second.setId, first.setId, 'a new set');
    const now = u.sa.sas();
    const newSet = now.filter((s) => s.setId === second.setId);
    assert.equal(newSet.length, 4, 'four new SAs');
    const oldSpis = new Set(old.map((s) => s.spi));
    assert.ok(newSet.every((s) => !oldSpis.has(s.spi) || s.direction === 'out'), 'new inbound SPIs');
    // R-RR-1 (TS 24.229 §5.1.1.4.1, §5.2.2.1): a new port_uc and port_pc; port_us and port_ps stay.
    assert.notEqual(second.ue.portC, first.ue.portC, 'a new UE port-c');
    assert.equal(second.ue.portS, first.ue.portS, 'the same UE port-s');
    assert.notEqual(second.pcscf.portC, first.pcscf.portC, 'a new P-CSCF port-c');
    assert.equal(second.pcscf.portS, first.pcscf.portS, 'the same P-CSCF port-s');
    // R-RR-2 (TS 24.229 §5.1.1.5.1): the old set stays whole, state old, with its lifetime.
    const oldSet = u.sa.get(first.setId)!;
    assert.equal(oldSet.state, 'old');
    assert.deepEqual(oldSet.sas.map((s) => s.direction).sort(), ['in', 'in', 'out', 'out'], 'old SAs kept in both directions (R-RR-2)');
    const oldExpiry = oldSet.expiresAt;
    assert.ok(oldExpiry > clock.now() + 32_000);
    // The UE sends on the new set: a MESSAGE leaves from the new port-c; its 200 is the
    // P-CSCF's first message on the new set, which cuts the old set to 64·T1.
    const r = await u.sendMessage('sip:dave@ims.lab', 'on the new SAs');
    assert.equal(r.status, 200);
    const msgOut = seen.filter((s) => s.dir === 'out' && s.msg.kind === 'request' && s.msg.method === 'MESSAGE').at(-1)!;
    assert.equal(msgOut.peer.port, second.pcscf.portS);
    assert.equal(u.sa.get(first.setId)?.expiresAt, clock.now() + 32_000, 'the old set lives 64·T1 more');
    clock.advance(32_000);
    assert.ok(
      u.sa.sas().every((s) => s.setId === second.setId),
      `only the new set remains 64·T1 after traffic arrived on it (sets: ${[...new Set(u.sa.sas().map((s) => s.setId))].join(', ')})`,
    );
    await u.deregister();
    assert.equal(u.sa.sas().length, 0);
    await done(u);
  });


  test('[R-FAIL-2] a UE with a wrong K: network authentication failure reported, no registration and no SA at the UE', async () => {
    const { ue: u, seen } = await ue('erin@ims.lab', { cfg: { k: '00112233445566778899aabbccddeeff' } });
    await assert.rejects(u.register(), (e: Error & { reason?: string }) => e.reason === 'mac-failure');
    assert.notEqual(u.state().state, 'registered');
    assert.equal(u.state().registration, undefined);
    assert.equal(u.sa.sas().length, 0);
    const regs = registers(seen);
    assert.equal(regs.length, 2, 'initial REGISTER and the failure report');
    assert.ok(regs.every((s) => !s.protected), 'the failure report goes unprotected (no keys)');
    assert.match(header(regs[1].msg, 'Authorization') ?? '', /response=""/, 'empty response reports the MAC failure');
    await done(u);
    // Nothing stays half-registered in the core: the right K registers straight away.
    const { ue: ok } = await ue('erin@ims.lab');
    await ok.register();
    assert.equal(ok.state().state, 'registered');
    await ok.deregister();
    await done(ok);
  });

  test('[R-FAIL-3] a UE whose SQN is ahead of the HSS sends AUTS; the HSS resynchronises and the registration succeeds', async () => {
    const sqn = memorySqnStore(usimStateFromSqnMs(7000 * 32));
    const { ue: u, seen } = await ue('frank@ims.lab', { deps: { sqnStore: sqn } });
    await u.register();
    assert.equal(u.state().state, 'registered');
    const regs = registers(seen);
    assert.equal(regs.length, 3, 'initial, resync (AUTS), protected answer');
    assert.equal(regs[1].protected, false);
    assert.match(header(regs[1].msg, 'Authorization') ?? '', /auts="[^"]+"/);
    assert.equal(regs[2].protected, true);
    assert.deepEqual(
      responses(seen, 'REGISTER').map((r) => (r.msg.kind === 'response' ? r.msg.status : 0)),
      [401, 401, 200],
    );
    assert.equal(u.sa.sas().length, 4);
    await u.deregister();
    await done(u);
  });

  test('[R-ANON-1] a MESSAGE from alice with Privacy: id reaches bob without P-Asserted-Identity; without Privacy it carries it', async () => {
    let privacy = false;
    const { ue: alice } = await ue('alice@ims.lab', {
      alter: {
        outgoing(msg, info) {
          if (privacy && info.protected && msg.kind === 'request' && msg.method === 'MESSAGE') {
            msg.headers.set('Privacy', 'id');
            return msg;
          }
        },
      },
    });
    const atBob: SipMessage[] = [];
    const { ue: bob } = await ue('bob@ims.lab', {
      alter: {
        incoming(msg, info) {
          if (info.protected && msg.kind === 'request' && msg.method === 'MESSAGE') atBob.push(msg);
        },
      },
    });
    const texts: string[] = [];
    bob.onMessage((m) => texts.push(m.text));
    await bob.register();
    await alice.register();
    // Control: without Privacy the asserted identity reaches bob (the UE is in the trust domain).
    assert.equal((await alice.sendMessage('sip:bob@ims.lab', 'plain')).status, 200);
    assert.ok(await waitFor(() => atBob.length === 1, 10_000));
    assert.match(header(atBob[0], 'P-Asserted-Identity') ?? '', /sip:alice@ims\.lab/);
    privacy = true;
    assert.equal((await alice.sendMessage('sip:bob@ims.lab', 'anonymous')).status, 200);
    assert.ok(await waitFor(() => atBob.length === 2, 10_000));
    assert.equal(header(atBob[1], 'P-Asserted-Identity'), undefined, 'identity removed for Privacy: id');
    assert.equal(header(atBob[1], 'P-Preferred-Identity'), undefined);
    assert.deepEqual(texts, ['plain', 'anonymous']);
    await alice.deregister();
    await bob.deregister();
    await done(alice);
    await done(bob);
  });

  test('[R-ANON-2] a pseudonym IMPU registers like any other and is asserted for requests it originates', async () => {
    const pseudonym = 'sip:anon-7q4zk2@ims.lab';
    const { ue: g } = await ue('grace@ims.lab', { cfg: { impu: pseudonym } });
    const atBob: SipMessage[] = [];
    const { ue: bob } = await ue('bob@ims.lab', {
      alter: {
        incoming(msg, info) {
          if (info.protected && msg.kind === 'request' && msg.method === 'MESSAGE') atBob.push(msg);
        },
      },
    });
    await bob.register();
    const reg = await g.register();
    assert.ok(reg.impus.includes(pseudonym), `the pseudonym is in the registered set (${reg.impus.join(', ')})`);
    assert.equal(g.sa.sas().length, 4);
    assert.ok(g.sa.sas().every((s) => s.impus.includes(pseudonym)), 'bound to the SAs');
    assert.equal((await g.sendMessage('sip:bob@ims.lab', 'from a pseudonym')).status, 200);
    assert.ok(await waitFor(() => atBob.length === 1, 10_000));
    assert.match(header(atBob[0], 'P-Asserted-Identity') ?? '', /sip:anon-7q4zk2@ims\.lab/);
    await g.deregister();
    await bob.deregister();
    await done(g);
    await done(bob);
  });
});
