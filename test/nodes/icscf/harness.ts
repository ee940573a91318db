/**
 * Real-socket pieces for the I-CSCF tests, all on 127.0.0.1 with OS-chosen ports: the real HSS
 * (src/nodes/hss, a temp SQLite store), a stub S-CSCF (B2's SipStack plus a Diameter client that
 * sends MAR/SAR so the HSS learns its name), plain SIP user agents, and the I-CSCF itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededRng } from '../../../src/common/rng.js';
import { buildMar, buildSar, parseMaa, parseSaa, ServerAssignmentType, UserDataAlreadyAvailable, type ServerCapabilities, cxCapabilities } from '../../../src/diameter/index.js';
import { DiameterNode } from '../../../src/diameter/io.js';
import { defaultHssConfig, HssServer, createHss } from '../../../src/nodes/hss/index.js';
import { createIcscf, parseIcscfConfig, type Icscf } from '../../../src/nodes/icscf/index.js';
import { createResponse, parseMessage, toOf, type SipRequest } from '../../../src/sip/index.js';
import { SipStack } from '../../../src/sip/stack/index.js';
import { openTransports, type Endpoint } from '../../../src/sip/transport/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { cliPath, repoRoot } from '../../support/paths.js';
import type { NewSubscriber } from '../../../src/store/index.js';

export const REALM = 'ims.lab';
/** Short SIP timers so a silent peer costs 64·T1 = 640 ms. */
export const T1 = 10;

export type Cleanup = (() => Promise<void>)[];

/** argv prefix that runs the imsec CLI: compiled under npm test, through tsx from source. */
export function imsecCommand(): string[] {
  return import.meta.url.endsWith('.ts') ? [process.execPath, '--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts')] : [process.execPath, cliPath];
}

export function subscriber(user: string): NewSubscriber {
  return {
    impi: `${user}@${REALM}`,
    k: new Uint8Array(16).fill(1),
    opc: new Uint8Array(16).fill(2),
    amf: 0x8000,
    seqHe: 0,
    indBits: 5,
    authSchemes: ['Digest-AKAv1-MD5'],
    serviceProfile: null,
    impus: [{ impu: `sip:${user}@${REALM}`, irs: 1, barred: false, pseudonym: false, isDefault: true }],
    implicitSets: [],
  };
}

/** The real HSS on a free port with a temp SQLite store holding alice and bob. */
export async function startHss(cleanup: Cleanup, capabilities: Partial<ServerCapabilities> = {}): Promise<HssServer> {
  const dir = mkdtempSync(join(tmpdir(), 'imsec-icscf-'));
  const store = new SqliteStore(join(dir, 'hss.sqlite'));
  await store.createSubscriber(subscriber('alice'));
  await store.createSubscriber(subscriber('bob'));
  const c = defaultHssConfig(dir);
  c.diameter.listen = { host: '127.0.0.1', port: 0 };
  c.diameter.peers = [{ host: 'icscf.ims.lab' }, { host: 'icscf2.ims.lab' }, { host: 'scscf.ims.lab' }];
  c.rest = null;
  c.serverCapabilities = { mandatory: [], optional: [], serverNames: [], ...capabilities };
  const hss = createHss(c, { store, ownsStore: true, rng: new SeededRng('icscf-hss') });
  await hss.start();
  cleanup.push(async () => {
    await hss.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return hss;
}

/** A SIP stack on 127.0.0.1:0 (UDP). */
export async function sipStack(cleanup: Cleanup): Promise<{ stack: SipStack; local: Endpoint }> {
  const transports = await openTransports({ address: '127.0.0.1', port: 0, protocols: ['udp'] });
  const stack = new SipStack({ transports, timers: { t1: T1 }, rng: new SeededRng(Math.random()) });
  cleanup.push(() => stack.close());
  return { stack, local: transports[0].local };
}

export interface StubScscf {
  uri: string;
  local: Endpoint;
  received: SipRequest[];
  stack: SipStack;
}

/**
 * A stub S-CSCF: a REGISTER without credentials → MAR (the HSS stores this S-CSCF's name) → 401;
 * with a response → SAR REGISTRATION → 200; anything else → 200. `hssPort` undefined: no Cx.
 */
export async function startStubScscf(cleanup: Cleanup, hssPort: number | undefined, opts: { status?: number } = {}): Promise<StubScscf> {
  const { stack, local } = await sipStack(cleanup);
  const uri = `sip:scscf.ims.lab:${local.port}`;
  let node: DiameterNode | undefined;
  if (hssPort !== undefined) {
    const n = new DiameterNode({ ...cxCapabilities(), originHost: 'scscf.ims.lab', originRealm: REALM, hostIpAddresses: ['127.0.0.1'], peers: [{ host: 'hss.ims.lab', connect: { host: '127.0.0.1', port: hssPort } }], timers: { requestTimeoutMs: 2000 } });
    await n.start();
    await n.waitForPeer('hss.ims.lab', 3000);
    cleanup.push(() => n.stop());
    node = n;
  }
  const received: SipRequest[] = [];
  let sid = 0;
  stack.onRequest(async (req, ctx) => {
    received.push(req);
    if (opts.status !== undefined) return void ctx.reply(opts.status);
    if (req.method !== 'REGISTER' || !node) return void ctx.reply(200, 'OK');
    const to = toOf(req)!;
    const impu = to.uri.kind === 'sip' ? `sip:${to.uri.user}@${to.uri.host}` : '';
    const impi = impu.slice(4);
    const head = { sessionId: `scscf.ims.lab;1;${++sid}`, originHost: 'scscf.ims.lab', originRealm: REALM, destinationRealm: REALM };
    if (!/response="[0-9a-f]+"/.test(req.headers.get('authorization') ?? '')) {
      parseMaa(await node.request(buildMar({ ...head, userName: impi, publicIdentity: impu, sipAuthDataItem: { scheme: 'Digest-AKAv1-MD5' }, sipNumberAuthItems: 1, serverName: uri })));
      ctx.reply(401, 'Unauthorized');
      return;
    }
    parseSaa(await node.request(buildSar({ ...head, userName: impi, publicIdentities: [impu], serverName: uri, serverAssignmentType: ServerAssignmentType.REGISTRATION, userDataAlreadyAvailable: UserDataAlreadyAvailable.USER_DATA_NOT_AVAILABLE })));
    ctx.respond(createResponse(req, 200, 'OK', { headers: [['Service-Route', `<${uri};lr>`]] }));
  });
  return { uri, local, received, stack };
}

/** The I-CSCF from a JSON-like config (listen port 0, short timers), started. */
export async function startIcscf(cleanup: Cleanup, raw: Record<string, unknown>): Promise<Icscf> {
  const cfg = parseIcscfConfig({ logLevel: 'silent', ...raw, sip: { listen: '127.0.0.1:0', protocols: ['udp'], t1Ms: T1, ...(raw.sip as object) } });
  const icscf = createIcscf(cfg, { rng: new SeededRng(`icscf-${Math.random()}`) });
  await icscf.start();
  cleanup.push(() => icscf.stop());
  return icscf;
}

export function sipRequest(lines: string[]): SipRequest {
  return parseMessage(Buffer.from([...lines, 'Content-Length: 0', '', ''].join('\r\n'), 'latin1')) as SipRequest;
}

let seq = 0;
/** A REGISTER as a P-CSCF would send it on (no Via: the stack adds its own). */
export function register(user: string, extra: string[] = []): SipRequest {
  seq++;
  return sipRequest([
    `REGISTER sip:${REALM} SIP/2.0`,
    `To: <sip:${user}@${REALM}>`,
    `From: <sip:${user}@${REALM}>;tag=r${seq}`,
    `Call-ID: reg-${seq}-${user}`,
    `CSeq: ${seq} REGISTER`,
    `Contact: <sip:${user}@127.0.0.1:5099>`,
    ...(extra.some((l) => /^authorization:/i.test(l)) ? [] : [`Authorization: Digest username="${user}@${REALM}", realm="${REALM}", nonce="", uri="sip:${REALM}", response=""`]),
    'P-Visited-Network-ID: ims.lab',
    'Expires: 600000',
    ...extra,
  ]);
}
