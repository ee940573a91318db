import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from '../../src/common/index.js';
import {
  DEFAULT_PCSCF_POLICY,
  buildSecurityServer,
  buildUeOffer,
  checkSecurityClientUnchanged,
  checkSecurityVerify,
  choosePcscfMechanism,
  formatSecurityMechanisms,
  listDifference,
  parseSecurityMechanisms,
  ueAcceptSecurityServer,
  type SecAgreeSelection,
  type SecMechanism,
} from '../../src/secagree/index.js';
import { secAgreeExamples } from './vectors.js';

// The tests using these examples take `secAgreeExamples.options`: skipped when the shared file is missing.
const examples = secAgreeExamples.present ? secAgreeExamples.value : [];
const open5gs = examples.find((b) => b.title.startsWith('Commercial UE initial REGISTER'))!;
const phh = examples.find((b) => b.title.startsWith('phh IMS client'))!;
const commercialOffer = open5gs ? parseSecurityMechanisms(open5gs.headers[0].value) : [];

const UE = { spiC: 0x80001001, spiS: 0x80001002, portC: 31000, portS: 31001 };
const PCSCF = { spiC: 0x00002001, spiS: 0x00002002, portC: 6100, portS: 6101 };

function choose(client: string, policy = DEFAULT_PCSCF_POLICY): SecAgreeSelection {
  const r = choosePcscfMechanism(parseSecurityMechanisms(client), policy);
  assert.ok(r.ok, `expected a choice: ${JSON.stringify(r)}`);
  return r;
}

describe('TS 33.203 §7.2 UE offer (Security-Client)', () => {
  test('[R-SM-1] the offer builder reproduces a commercial UE offer (open5gs#564 trace)', secAgreeExamples.options, () => {
    const built = buildUeOffer({ algs: ['hmac-md5-96', 'hmac-sha-1-96'], ealgs: ['des-ede3-cbc', 'aes-cbc', 'null'], spiC: 75245, spiS: 75246, portC: 6301, portS: 6300 });
    assert.equal(listDifference(commercialOffer, built), undefined);
    assert.deepEqual(
      built.map((m) => `${m.alg}/${m.ealg}`),
      commercialOffer.map((m) => `${m.alg}/${m.ealg}`),
    );
  });

  test('[R-SM-1] defaults may be left out; q values fall strictly in priority order', () => {
    const offer = buildUeOffer({ algs: ['hmac-sha-1-96', 'hmac-md5-96'], ...UE, explicitDefaults: false, withQ: true });
    assert.equal(
      formatSecurityMechanisms(offer),
      'ipsec-3gpp;alg=hmac-sha-1-96;spi-c=2147487745;spi-s=2147487746;port-c=31000;port-s=31001;q=1, ' +
        'ipsec-3gpp;alg=hmac-md5-96;spi-c=2147487745;spi-s=2147487746;port-c=31000;port-s=31001;q=0.5',
    );
  });

  test('[R-SA-1] unusable combinations are never offered (NULL integrity only with aes-gcm)', () => {
    const offer = buildUeOffer({ algs: ['hmac-sha-1-96', 'aes-gmac', 'null'], ealgs: ['aes-gcm', 'null'], ...UE });
    assert.deepEqual(
      offer.map((m) => `${m.alg}/${m.ealg}`),
      ['hmac-sha-1-96/null', 'aes-gmac/null', 'null/aes-gcm'],
    );
    assert.throws(() => buildUeOffer({ algs: ['null'], ealgs: ['null'], ...UE }), InvalidArgumentError);
  });

  test('[R-SA-3] the offer refuses reserved or equal SPIs and port 0', () => {
    assert.throws(() => buildUeOffer({ algs: ['hmac-md5-96'], ...UE, spiC: 255 }), InvalidArgumentError);
    assert.throws(() => buildUeOffer({ algs: ['hmac-md5-96'], ...UE, spiS: UE.spiC }), InvalidArgumentError);
    assert.throws(() => buildUeOffer({ algs: ['hmac-md5-96'], ...UE, portC: 0 }), InvalidArgumentError);
  });
});

describe('TS 33.203 §7.2 P-CSCF choice (Security-Server)', () => {
  test('[R-SM-2] the policy picks from a commercial offer', secAgreeExamples.options, () => {
    const r1 = choosePcscfMechanism(commercialOffer);
    assert.ok(r1.ok);
    assert.deepEqual([r1.alg, r1.ealg, r1.mod, r1.index], ['hmac-sha-1-96', 'aes-cbc', 'trans', 4]);
    assert.deepEqual(r1.ue, { spiC: 75245, spiS: 75246, portC: 6301, portS: 6300 });
    const r2 = choosePcscfMechanism(commercialOffer, { ...DEFAULT_PCSCF_POLICY, algs: ['hmac-md5-96'], ealgs: ['null'] });
    assert.ok(r2.ok);
    assert.deepEqual([r2.alg, r2.ealg, r2.index], ['hmac-md5-96', 'null', 2]);
  });

  test("[R-SM-2] the P-CSCF policy decides, the UE's q breaks ties only; honourQ: true lets phh's KDDI q=0.6 hmac-md5-96 entry win", secAgreeExamples.options, () => {
    // TS 33.203 §7.2: the P-CSCF picks by its own policy (RFC 3329 §2.2 leaves the choice to the
    // server); the UE's q only orders mechanisms the policy ranks equal.
    assert.equal(DEFAULT_PCSCF_POLICY.honourQ, false);
    const list = parseSecurityMechanisms(phh.headers[0].value);
    const policy = { ...DEFAULT_PCSCF_POLICY, ealgs: ['null', 'aes-cbc'] as const };
    const byPolicy = choosePcscfMechanism(list, policy);
    assert.ok(byPolicy.ok);
    assert.deepEqual([byPolicy.index, byPolicy.alg, byPolicy.ealg, byPolicy.mechanism.q], [1, 'hmac-sha-1-96', 'null', 0.5]);
    const withQ = choosePcscfMechanism(list, { ...policy, honourQ: true });
    assert.ok(withQ.ok);
    assert.deepEqual([withQ.index, withQ.alg, withQ.ealg, withQ.mechanism.q], [3, 'hmac-md5-96', 'aes-cbc', 0.6]);
    const tie = 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;spi-c=1000;spi-s=1001;port-c=1;port-s=2;q=0.1, ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;spi-c=1002;spi-s=1003;port-c=3;port-s=4;q=0.9';
    assert.deepEqual(choose(tie).ue, { spiC: 1002, spiS: 1003, portC: 3, portS: 4 }, 'equal under the policy: the higher q wins');
  });

  test('[R-SM-2] the default policy: aes-gcm (with null integrity) first, then aes-cbc; aes-gmac before the HMACs', () => {
    // TS 33.203 Annex H (SPEC R-SA-1, R-SM-2): null integrity only with aes-gcm, aes-gmac only with null encryption.
    assert.deepEqual(DEFAULT_PCSCF_POLICY.algs, ['aes-gmac', 'hmac-sha-1-96', 'hmac-md5-96', 'null']);
    assert.deepEqual(DEFAULT_PCSCF_POLICY.ealgs, ['aes-gcm', 'aes-cbc', 'des-ede3-cbc', 'null']);
    const ep = 'spi-c=1000;spi-s=1001;port-c=1;port-s=2';
    const gcm = choose(`ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;${ep};q=0.9, ipsec-3gpp;alg=null;ealg=aes-gcm;${ep};q=0.1`);
    assert.deepEqual([gcm.alg, gcm.ealg, gcm.index], ['null', 'aes-gcm', 1]);
    const gmac = choose(`ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;${ep};q=0.9, ipsec-3gpp;alg=aes-gmac;ealg=null;${ep};q=0.1`);
    assert.deepEqual([gmac.alg, gmac.ealg, gmac.index], ['aes-gmac', 'null', 1]);
  });

  test('[R-SM-2] NULL integrity is refused except alg=null with ealg=aes-gcm', () => {
    const bad = choosePcscfMechanism(parseSecurityMechanisms('ipsec-3gpp;alg=null;ealg=null;spi-c=1000;spi-s=1001;port-c=1;port-s=2'));
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok && bad.reason === 'no-acceptable-mechanism' && bad.status === 494);
    assert.ok(!bad.ok && bad.supported!.length > 0 && bad.supported!.every((m) => m.alg !== 'null' || m.ealg === 'aes-gcm'));
    const noAes = choosePcscfMechanism(parseSecurityMechanisms('ipsec-3gpp;alg=null;ealg=aes-cbc;spi-c=1000;spi-s=1001;port-c=1;port-s=2'));
    assert.equal(noAes.ok, false);
    const gcm = choose('ipsec-3gpp;alg=null;ealg=aes-gcm;spi-c=1000;spi-s=1001;port-c=1;port-s=2');
    assert.deepEqual([gcm.alg, gcm.ealg], ['null', 'aes-gcm']);
  });

  test('[R-SM-2] only modes and protocols the datapath supports are chosen', () => {
    const udpEnc = 'ipsec-3gpp;alg=hmac-sha-1-96;mod=UDP-enc-tun;spi-c=1000;spi-s=1001;port-c=1;port-s=2';
    const kernelOnly = choosePcscfMechanism(parseSecurityMechanisms(udpEnc), { ...DEFAULT_PCSCF_POLICY, mods: ['trans'] });
    assert.ok(!kernelOnly.ok && kernelOnly.reason === 'no-acceptable-mechanism');
    assert.equal(choose(udpEnc, { ...DEFAULT_PCSCF_POLICY, mods: ['UDP-enc-tun'] }).mod, 'UDP-enc-tun');
    const ah = choosePcscfMechanism(parseSecurityMechanisms('ipsec-3gpp;alg=hmac-sha-1-96;prot=ah;spi-c=1000;spi-s=1001;port-c=1;port-s=2'));
    assert.ok(!ah.ok && ah.reason === 'no-acceptable-mechanism');
    const unknownAlg = choosePcscfMechanism(parseSecurityMechanisms('ipsec-3gpp;alg=notsupported;spi-c=1000;spi-s=1001;port-c=1;port-s=2'));
    assert.ok(!unknownAlg.ok && unknownAlg.reason === 'no-acceptable-mechanism');
  });

  test('[R-SM-2] no ipsec-3gpp, or unusable SPIs/ports (port-c = port-s included, TS 33.203 §7.1), is a 494 and no choice', () => {
    const tls = choosePcscfMechanism(parseSecurityMechanisms('tls;q=0.2, digest'));
    assert.ok(!tls.ok && tls.reason === 'no-mechanism' && tls.status === 494);
    for (const params of ['spi-c=100;spi-s=1001;port-c=1;port-s=2', 'spi-c=1000;spi-s=1000;port-c=1;port-s=2', 'spi-c=1000;spi-s=1001;port-s=2', 'spi-c=1000;spi-s=1001;port-c=0;port-s=2', 'spi-c=1000;spi-s=1001;port-c=2;port-s=2']) {
      const r = choosePcscfMechanism(parseSecurityMechanisms(`ipsec-3gpp;alg=hmac-md5-96;${params}`));
      assert.ok(!r.ok && r.reason === 'invalid-parameters' && r.status === 494, params);
    }
  });

  test('[R-SM-2] [R-SA-3] Security-Server carries the P-CSCF SPIs/ports and never a UE SPI', () => {
    const sel = choose('ipsec-3gpp;alg=hmac-sha-1-96;spi-c=3000;spi-s=3001;port-c=31000;port-s=31001');
    assert.equal(
      formatSecurityMechanisms(buildSecurityServer(sel, PCSCF)),
      'ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;prot=esp;mod=trans;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101',
    );
    assert.throws(() => buildSecurityServer(sel, { ...PCSCF, spiS: 3000 }), InvalidArgumentError);
    assert.throws(() => buildSecurityServer(sel, { ...PCSCF, spiC: 200 }), InvalidArgumentError);
  });
});

describe('RFC 3329 §2.3.1 bid-down protection (Security-Verify)', () => {
  const sent = parseSecurityMechanisms('ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101;q=0.5;x="y"');

  test('[R-SM-4] order, spacing and case of names are not significant', () => {
    const v = parseSecurityMechanisms(' IPSEC-3GPP ; X="y";Q=0.500; port-s=6101;PORT-C=6100;spi-s = 8194;spi-c=8193;MOD=trans;prot=esp;EALG=aes-cbc;alg=hmac-sha-1-96');
    assert.deepEqual(checkSecurityVerify(sent, v), { ok: true });
  });

  const mutations: Array<[string, string]> = [
    ['alg changed', 'ipsec-3gpp;alg=hmac-md5-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101;q=0.5;x="y"'],
    ['ealg changed', 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;prot=esp;mod=trans;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101;q=0.5;x="y"'],
    ['ealg removed (default null)', 'ipsec-3gpp;alg=hmac-sha-1-96;prot=esp;mod=trans;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101;q=0.5;x="y"'],
    ['spi-c changed', 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=8195;spi-s=8194;port-c=6100;port-s=6101;q=0.5;x="y"'],
    ['port-s changed', 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=8193;spi-s=8194;port-c=6100;port-s=6102;q=0.5;x="y"'],
    ['q changed', 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101;q=0.4;x="y"'],
    ['extension value changed', 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101;q=0.5;x="Y"'],
    ['extension missing', 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101;q=0.5'],
    ['extra parameter', 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101;q=0.5;x="y";z'],
    ['mechanism renamed', 'ipsec-man;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101;q=0.5;x="y"'],
    ['extra mechanism', 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101;q=0.5;x="y", tls'],
  ];
  for (const [why, verify] of mutations) {
    test(`[R-SM-4] Security-Verify with ${why} fails with 494`, () => {
      const r = checkSecurityVerify(sent, parseSecurityMechanisms(verify));
      assert.ok(!r.ok && r.reason === 'security-verify-mismatch' && r.status === 494, JSON.stringify(r));
    });
  }

  test('[R-SM-4] a missing Security-Verify or a missing mechanism fails', () => {
    assert.equal(checkSecurityVerify(sent, undefined).ok, false);
    const two = parseSecurityMechanisms('tls, digest');
    assert.equal(checkSecurityVerify(two, parseSecurityMechanisms('digest')).ok, false);
    assert.deepEqual(checkSecurityVerify(two, parseSecurityMechanisms('digest,tls')), { ok: true });
  });

  test('[R-SM-4] Security-Client must be unchanged between the first and second REGISTER', secAgreeExamples.options, () => {
    const second = parseSecurityMechanisms(open5gs.headers[0].value.replace(/ /g, ''));
    assert.deepEqual(checkSecurityClientUnchanged(commercialOffer, second), { ok: true });
    const dropped = second.filter((m) => m.alg !== 'hmac-sha-1-96' || m.ealg !== 'aes-cbc');
    const r = checkSecurityClientUnchanged(commercialOffer, dropped);
    assert.ok(!r.ok && r.reason === 'security-client-changed' && r.status === 494);
    assert.equal(checkSecurityClientUnchanged(commercialOffer, undefined).ok, false);
  });
});

describe('TS 33.203 §7.3.2.2 UE check of Security-Server', () => {
  const offer = buildUeOffer({ algs: ['hmac-sha-1-96', 'hmac-md5-96'], ealgs: ['aes-cbc', 'null'], ...UE });
  const server = (s: string): SecMechanism[] => parseSecurityMechanisms(s);

  test('[R-SM-5] a choice the UE offered is accepted; defaults count as the explicit values', () => {
    const r = ueAcceptSecurityServer(offer, server('ipsec-3gpp;alg=hmac-md5-96;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101'));
    assert.ok(r.ok);
    assert.deepEqual([r.alg, r.ealg, r.mod], ['hmac-md5-96', 'null', 'trans']);
    assert.deepEqual(r.pcscf, PCSCF);
    assert.equal(formatSecurityMechanisms(r.verify), 'ipsec-3gpp;alg=hmac-md5-96;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101');
  });

  const refused: Array<[string, string, string]> = [
    ['an algorithm never offered', 'ipsec-3gpp;alg=aes-gmac;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101', 'not-offered'],
    ['an encryption never offered', 'ipsec-3gpp;alg=hmac-md5-96;ealg=des-ede3-cbc;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101', 'not-offered'],
    ['a mode never offered', 'ipsec-3gpp;alg=hmac-md5-96;mod=UDP-enc-tun;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101', 'not-offered'],
    ['AH', 'ipsec-3gpp;alg=hmac-md5-96;prot=ah;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101', 'not-offered'],
    ['no ipsec-3gpp', 'tls', 'no-mechanism'],
    ['a missing port', 'ipsec-3gpp;alg=hmac-md5-96;spi-c=8193;spi-s=8194;port-c=6100', 'invalid-parameters'],
    ['a reserved SPI', 'ipsec-3gpp;alg=hmac-md5-96;spi-c=17;spi-s=8194;port-c=6100;port-s=6101', 'invalid-parameters'],
    ['an SPI of the UE', `ipsec-3gpp;alg=hmac-md5-96;spi-c=${UE.spiS};spi-s=8194;port-c=6100;port-s=6101`, 'spi-collision'],
  ];
  for (const [why, s, reason] of refused) {
    test(`[R-SM-5] the UE refuses ${why}`, () => {
      const r = ueAcceptSecurityServer(offer, server(s));
      assert.ok(!r.ok && r.reason === reason, JSON.stringify(r));
    });
  }

  test('[R-SM-5] from a list, the most preferred offered entry is used (RFC 3329 §2.3.1)', () => {
    const r = ueAcceptSecurityServer(
      offer,
      server('ipsec-3gpp;alg=aes-gmac;q=0.9;spi-c=9000;spi-s=9001;port-c=1;port-s=2, ipsec-3gpp;alg=hmac-md5-96;q=0.3;spi-c=8193;spi-s=8194;port-c=6100;port-s=6101, ipsec-3gpp;alg=hmac-sha-1-96;q=0.5;spi-c=8195;spi-s=8196;port-c=6100;port-s=6101'),
    );
    assert.ok(r.ok);
    assert.deepEqual([r.alg, r.pcscf.spiC], ['hmac-sha-1-96', 8195]);
  });
});

describe('sec-agree end to end over the header text', () => {
  test('[R-SM-1] [R-SM-2] [R-SM-4] [R-SM-5] offer → choice → Security-Server → UE → Security-Verify → check', () => {
    const clientText = formatSecurityMechanisms(buildUeOffer({ algs: ['hmac-sha-1-96', 'hmac-md5-96'], ealgs: ['aes-cbc', 'null'], ...UE }));
    const sel = choose(clientText);
    const serverText = formatSecurityMechanisms(buildSecurityServer(sel, PCSCF));
    const ue = ueAcceptSecurityServer(parseSecurityMechanisms(clientText), parseSecurityMechanisms(serverText));
    assert.ok(ue.ok);
    assert.deepEqual([ue.alg, ue.ealg], [sel.alg, sel.ealg]);
    const verifyText = formatSecurityMechanisms(ue.verify);
    assert.deepEqual(checkSecurityVerify(parseSecurityMechanisms(serverText), parseSecurityMechanisms(verifyText)), { ok: true });
    assert.deepEqual(checkSecurityClientUnchanged(parseSecurityMechanisms(clientText), parseSecurityMechanisms(clientText)), { ok: true });
    // A man in the middle that strips the strong choices from Security-Server is caught by Security-Verify.
    const bidDown = checkSecurityVerify(parseSecurityMechanisms(serverText.replace('aes-cbc', 'null')), parseSecurityMechanisms(verifyText));
    assert.equal(bidDown.ok, false);
  });
});
