/**
 * Wireshark as an independent decoder (INTEROP.md: tshark 4.0): every Cx command we encode (TS
 * 29.229 §6.1) and the base peer messages (RFC 6733 §5) go into a pcap through the capture
 * module's PcapRecorder (real IP/TCP packets), and tshark must name each command and every AVP
 * the way our dictionary does, with no expert warnings.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapRecorder } from '../../src/capture/index.js';
import {
  CxResult,
  ReasonCode,
  ServerAssignmentType,
  UserAuthorizationType,
  UserDataAlreadyAvailable,
  akaAuthDataItem,
  akaResyncItem,
  buildCea,
  buildCer,
  buildDpa,
  buildDpr,
  buildDwa,
  buildDwr,
  buildLia,
  buildLir,
  buildMaa,
  buildMar,
  buildPpa,
  buildPpr,
  buildRta,
  buildRtr,
  buildSaa,
  buildSar,
  buildUaa,
  buildUar,
  defaultDictionary,
  encodeMessage,
  decodeValue,
  type Avp,
  type Capabilities,
  type DiameterMessage,
} from '../../src/diameter/index.js';
import { needPeer } from '../support/peers.js';

/** Wireshark 4.0's names where they differ from TS 29.229 / RFC spellings. */
const WIRESHARK_NAME: Record<string, string> = {
  'User-Data': 'Cx-User-Data',
  'SIP-Number-Auth-Items': '3GPP-SIP-Number-Auth-Items',
  'SIP-Authentication-Scheme': '3GPP-SIP-Authentication-Scheme',
  'SIP-Authenticate': '3GPP-SIP-Authenticate',
  'SIP-Authorization': '3GPP-SIP-Authorization',
  'SIP-Auth-Data-Item': '3GPP-SIP-Auth-Data-Item',
  'SIP-Item-Number': '3GPP-SIP-Item-Number',
  'Wildcarded-Public-Identity': 'Wildcarded-PSI',
};

const PORT = 3869;
const bytes = (n: number, v = 0): Uint8Array => new Uint8Array(n).fill(v);
const caps = (host: string): Capabilities => ({
  originHost: host,
  originRealm: 'ims.lab',
  hostIpAddresses: ['10.0.0.1', '2001:db8::1'],
  vendorId: 10415,
  productName: 'imsec',
  originStateId: 1700000000,
  firmwareRevision: 1,
  supportedVendorIds: [10415],
  authApplicationIds: [],
  acctApplicationIds: [],
  vendorSpecificApplicationIds: [{ vendorId: 10415, authApplicationId: 16777216 }],
});

function conversation(): { msg: DiameterMessage; name: string }[] {
  const out: { msg: DiameterMessage; name: string }[] = [];
  let id = 1;
  const req = (m: DiameterMessage, name: string): DiameterMessage => {
    const r = { ...m, hopByHop: id, endToEnd: 0x1000 + id++ };
    out.push({ msg: r, name: `${name} Request(${m.commandCode})` });
    return r;
  };
  const ans = (m: DiameterMessage, name: string): void => void out.push({ msg: m, name: `${name} Answer(${m.commandCode})` });
  const h = { sessionId: 'icscf.ims.lab;1700000000;1', originHost: 'icscf.ims.lab', originRealm: 'ims.lab', destinationRealm: 'ims.lab' };
  const hss = { originHost: 'hss.ims.lab', originRealm: 'ims.lab' };
  const feat = [{ vendorId: 10415, featureListId: 1, featureList: 1 }];

  const cer = req(buildCer(caps('icscf.ims.lab')), 'Capabilities-Exchange');
  ans(buildCea(cer, caps('hss.ims.lab'), 2001), 'Capabilities-Exchange');
  const uar = req(buildUar({ ...h, userName: 'alice@ims.lab', publicIdentity: 'sip:alice@ims.lab', visitedNetworkIdentifier: new TextEncoder().encode('ims.lab'), userAuthorizationType: UserAuthorizationType.REGISTRATION, supportedFeatures: feat }), 'User-Authorization');
  ans(buildUaa(uar, { ...hss, result: CxResult.FIRST_REGISTRATION, serverCapabilities: { mandatory: [1], optional: [2], serverNames: ['sip:scscf.ims.lab'] } }), 'User-Authorization');
  const mar = req(buildMar({ ...h, userName: 'alice@ims.lab', publicIdentity: 'sip:alice@ims.lab', sipAuthDataItem: akaResyncItem(bytes(16, 1), bytes(14, 2)), sipNumberAuthItems: 1, serverName: 'sip:scscf.ims.lab' }), 'Multimedia-Auth');
  ans(
    buildMaa(mar, {
      ...hss,
      result: CxResult.SUCCESS,
      userName: 'alice@ims.lab',
      publicIdentity: 'sip:alice@ims.lab',
      sipNumberAuthItems: 1,
      sipAuthDataItems: [akaAuthDataItem({ rand: bytes(16, 3), autn: bytes(16, 4), xres: bytes(8, 5), ck: bytes(16, 6), ik: bytes(16, 7) }, { itemNumber: 1 })],
    }),
    'Multimedia-Auth',
  );
  const sar = req(
    buildSar({ ...h, userName: 'alice@ims.lab', publicIdentities: ['sip:alice@ims.lab'], wildcardedPublicIdentity: 'sip:!.*!@ims.lab', serverName: 'sip:scscf.ims.lab', serverAssignmentType: ServerAssignmentType.REGISTRATION, userDataAlreadyAvailable: UserDataAlreadyAvailable.USER_DATA_NOT_AVAILABLE }),
    'Server-Assignment',
  );
  ans(
    buildSaa(sar, { ...hss, result: CxResult.SUCCESS, userName: 'alice@ims.lab', userData: new TextEncoder().encode('<IMSSubscription/>'), chargingInformation: { primaryEventChargingFunctionName: 'aaa://ecf.ims.lab' }, associatedIdentities: ['alice2@ims.lab'] }),
    'Server-Assignment',
  );
  const lir = req(buildLir({ ...h, publicIdentity: 'sip:bob@ims.lab', originatingRequest: 0 }), 'Location-Info');
  ans(buildLia(lir, { ...hss, result: CxResult.ERROR_IDENTITY_NOT_REGISTERED, errorMessage: 'not registered' }), 'Location-Info');
  const rtr = req(
    buildRtr({ ...hss, sessionId: 'hss.ims.lab;1;1', destinationHost: 'scscf.ims.lab', destinationRealm: 'ims.lab', userName: 'alice@ims.lab', publicIdentities: ['sip:alice@ims.lab'], deregistrationReason: { code: ReasonCode.PERMANENT_TERMINATION, info: 'bye' } }),
    'Registration-Termination',
  );
  ans(buildRta(rtr, { originHost: 'scscf.ims.lab', originRealm: 'ims.lab', result: CxResult.SUCCESS, associatedIdentities: ['alice@ims.lab'] }), 'Registration-Termination');
  const ppr = req(buildPpr({ ...hss, sessionId: 'hss.ims.lab;1;2', destinationHost: 'scscf.ims.lab', destinationRealm: 'ims.lab', userName: 'alice@ims.lab', userData: new TextEncoder().encode('<x/>') }), 'Push-Profile');
  ans(buildPpa(ppr, { originHost: 'scscf.ims.lab', originRealm: 'ims.lab', result: CxResult.SUCCESS }), 'Push-Profile');
  const dwr = req(buildDwr('icscf.ims.lab', 'ims.lab', 1700000000), 'Device-Watchdog');
  ans(buildDwa(dwr, 'hss.ims.lab', 'ims.lab', 1700000001), 'Device-Watchdog');
  const dpr = req(buildDpr('icscf.ims.lab', 'ims.lab', 0), 'Disconnect-Peer');
  ans(buildDpa(dpr, 'hss.ims.lab', 'ims.lab'), 'Disconnect-Peer');
  return out;
}

/** Our names for every AVP in `avps`, nested Grouped AVPs included, in order. */
function ourNames(avps: Avp[]): string[] {
  const out: string[] = [];
  for (const a of avps) {
    const def = defaultDictionary.of(a);
    assert.ok(def, `AVP ${a.code} not in our dictionary`);
    out.push(`${WIRESHARK_NAME[def.name] ?? def.name}(${a.code})`);
    if (def.type === 'Grouped') out.push(...ourNames(decodeValue('Grouped', a.data)));
  }
  return out;
}

describe('tshark decodes what we encode', () => {
  test('[R-CX-1][R-CX-2] every Cx command and base peer message: command names, AVP names, no expert info', (t) => {
    if (!needPeer(t, 'tshark')) return;
    const conv = conversation();
    const rec = new PcapRecorder();
    const client = { address: '10.0.0.1', port: 40001 };
    const server = { address: '10.0.0.2', port: PORT };
    for (const { msg } of conv) {
      const fromClient = decodeOrigin(msg) !== 'hss.ims.lab';
      rec.tcp(fromClient ? client : server, fromClient ? server : client, encodeMessage(msg));
    }
    const dir = mkdtempSync(join(tmpdir(), 'imsec-diameter-'));
    try {
      const file = join(dir, 'cx.pcap');
      writeFileSync(file, rec.toBytes());
      const r = spawnSync('tshark', ['-r', file, '-d', `tcp.port==${PORT},diameter`, '-Y', 'diameter', '-O', 'diameter', '-V'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const frames = r.stdout.split(/^Frame \d+:/m).slice(1);
      assert.equal(frames.length, conv.length, 'one Diameter frame per message');
      frames.forEach((text, i) => {
        const { msg, name } = conv[i];
        const cmd = /Command Code: ([\w-]+) \((\d+)\)/.exec(text);
        const isReq = /Request: Set/.test(text);
        assert.ok(cmd, `frame ${i}: no command code`);
        assert.equal(`${cmd[1]} ${isReq ? 'Request' : 'Answer'}(${cmd[2]})`, name);
        const seen = [...text.matchAll(/^\s*AVP: ([\w-]+)\((\d+)\)/gm)].map((m) => `${m[1]}(${m[2]})`);
        assert.deepEqual(seen, ourNames(msg.avps), `frame ${i} (${name}) AVP names`);
        assert.doesNotMatch(text, /Expert Info|Malformed|Unknown AVP/, `frame ${i} (${name}) clean`);
      });
      // Field extraction works on our bytes too.
      const f = spawnSync('tshark', ['-r', file, '-d', `tcp.port==${PORT},diameter`, '-Y', 'diameter.cmd.code == 303', '-T', 'fields', '-e', 'diameter.Public-Identity', '-e', 'diameter.3GPP-SIP-Authorization'], { encoding: 'utf8' });
      const lines = f.stdout.trim().split('\n');
      assert.equal(lines[0], `sip:alice@ims.lab\t${'01'.repeat(16)}${'02'.repeat(14)}`, 'resync MAR: RAND‖AUTS in SIP-Authorization');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function decodeOrigin(m: DiameterMessage): string {
  const a = m.avps.find((x) => x.code === 264);
  return a ? new TextDecoder().decode(a.data) : '';
}
