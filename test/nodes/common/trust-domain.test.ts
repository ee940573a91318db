/**
 * [O] the trust domain (RFC 3325 §2.3, §5; TS 24.229 §4.4): membership by address and prefix,
 * never by port, and what a request from outside loses.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDigestCredentials } from '../../../src/auth/digest/credentials.js';
import { InvalidArgumentError } from '../../../src/common/errors.js';
import { checkTrustDomain, stripUntrusted, TrustDomain, TRUST_DOMAIN_HEADERS } from '../../../src/nodes/common/trust-domain.js';
import { SipHeaders, SipRequest } from '../../../src/sip/index.js';

describe('[O] RFC 3325 §2.3 trust domain membership', () => {
  test('[O] addresses and prefixes, IPv4 and IPv6; IPv4-mapped IPv6 is IPv4; brackets allowed', () => {
    const t = new TrustDomain(['127.0.0.1', '10.20.0.0/15', '2001:db8:1::/48', '::1']);
    for (const a of ['127.0.0.1', '10.20.0.1', '10.21.255.255', '2001:db8:1:ffff::7', '[::1]', '::ffff:127.0.0.1']) assert.equal(t.has(a), true, a);
    for (const a of ['127.0.0.2', '10.22.0.0', '10.19.255.255', '2001:db8:2::1', '::2', 'pcscf.ims.lab', '']) assert.equal(t.has(a), false, a);
  });

  test('[O] /0 trusts a whole family, an empty domain trusts nobody', () => {
    assert.equal(new TrustDomain(['0.0.0.0/0']).has('192.0.2.1'), true);
    assert.equal(new TrustDomain(['0.0.0.0/0']).has('::1'), false);
    assert.equal(new TrustDomain([]).has('127.0.0.1'), false);
  });

  test('[O] bad entries are refused with a typed error naming them (ports are not identities)', () => {
    for (const bad of ['127.0.0.1:5060', 'scscf.ims.lab', '10.0.0.0/33', '::/129', '1.2.3.4/', '']) {
      assert.throws(() => new TrustDomain([bad]), (e: unknown) => e instanceof InvalidArgumentError && e.message.includes(JSON.stringify(bad)), bad);
      assert.match(checkTrustDomain([bad]) ?? '', /trust domain entry/);
    }
    assert.equal(checkTrustDomain(['10.0.0.0/8']), undefined);
  });
});

describe('[R-ANON-1] [O] RFC 3325 §5: a request from outside the trust domain', () => {
  const req = (auth: string): SipRequest =>
    new SipRequest(
      'REGISTER',
      'sip:ims.lab',
      new SipHeaders([
        ['Via', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa'],
        ['P-Asserted-Identity', '<sip:alice@ims.lab>'],
        ['p-access-network-info', '3GPP-E-UTRAN-FDD'],
        ['P-Served-User', '<sip:alice@ims.lab>'],
        ['Authorization', auth],
        ['Call-ID', 'x'],
      ]),
    );

  test('[R-ANON-1] [O] loses every trust-domain header field, whatever its case', () => {
    const r = req('Digest username="a"');
    assert.deepEqual(stripUntrusted(r), ['p-asserted-identity', 'p-access-network-info', 'p-served-user']);
    for (const h of TRUST_DOMAIN_HEADERS) assert.equal(r.headers.has(h), false, h);
    assert.equal(r.headers.get('call-id'), 'x');
  });

  test('[R-REG-4] [O] a REGISTER loses integrity-protected wherever it stands in Authorization, quoted or not', () => {
    const creds = 'username="alice@ims.lab", realm="ims.lab", nonce="", uri="sip:ims.lab", response=""';
    for (const before of [`Digest ${creds}, integrity-protected="yes"`, `Digest integrity-protected=yes, ${creds}`, `Digest username="alice@ims.lab",integrity-protected="tls-yes", realm="ims.lab", nonce="", uri="sip:ims.lab", response=""`]) {
      const r = req(before);
      assert.ok(stripUntrusted(r).includes('integrity-protected'), before);
      const after = r.headers.get('authorization') ?? '';
      assert.doesNotMatch(after, /integrity-protected/);
      const { integrityProtected, ...rest } = parseDigestCredentials(before);
      assert.ok(integrityProtected !== undefined);
      assert.deepEqual(parseDigestCredentials(after), rest, 'everything else kept');
    }
    // Credentials that name the parameter but do not parse are dropped: the S-CSCF challenges.
    const broken = req('Digest integrity-protected="yes", username=');
    assert.ok(stripUntrusted(broken).includes('integrity-protected'));
    assert.equal(broken.headers.has('authorization'), false);
    const plain = req(`Digest ${creds}`);
    assert.ok(!stripUntrusted(plain).includes('integrity-protected'));
    assert.equal(plain.headers.get('authorization'), `Digest ${creds}`, 'untouched');
  });
});
