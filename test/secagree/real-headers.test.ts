/**
 * Real phones' Security-Client headers (../shared/vectors/real/sip: Samsung, Nokia and others on
 * lab and commercial networks, copied from public issue threads) against imsec's parser and the
 * P-CSCF's choice (R-SM-1, R-SM-2; TS 33.203 §7.2 and Annex H; RFC 3329 §2.2).
 *
 * Phones omit prot= and mod= (defaults esp and trans apply, TS 33.203 Annex H), order the
 * parameters as they like and offer up to six mechanisms. The P-CSCF's policy decides: the
 * default one takes the strongest transform offered (aes-cbc over des-ede3-cbc over null, then
 * hmac-sha-1-96 over hmac-md5-96); an operator policy without ealg=null refuses integrity-only
 * offers. All real offers are mod=trans: the kernel datapath takes them, the userspace one
 * (mod=UDP-enc-tun only) refuses them with 494 naming what it supports.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { choosePcscfMechanism, effectiveIpsec, parseSecurityMechanisms, type PcscfSecAgreePolicy, type SecMechanism } from '../../src/secagree/index.js';
import { defaultPcscfConfig } from '../../src/nodes/pcscf/index.js';
import { needShared } from '../support/shared.js';

/** Every Security-Client value in a file: `Security-Client: …` (a trace) or `Security-Client=…` (a P-CSCF script log). */
function securityClients(text: string): { line: string; mechanisms: SecMechanism[]; truncated: boolean }[] {
  const out: { line: string; mechanisms: SecMechanism[]; truncated: boolean }[] = [];
  for (const m of text.matchAll(/Security-Client\s*[:=]\s*(ipsec-3gpp[^\n]*)/g)) {
    let value = m[1].trim();
    // The sources cut some headers short ("…;>" in a Wireshark paste, "[...truncated in source]"):
    // the last, incomplete mechanism is dropped and the complete ones are kept.
    const truncated = /;>$|\[\.\.\.truncated/.test(value);
    if (truncated) value = value.slice(0, value.lastIndexOf(','));
    out.push({ line: m[1], mechanisms: parseSecurityMechanisms(value), truncated });
  }
  return out;
}

/** What TS 33.203 Annex H and each policy make of each real header (worked out by hand from the offers). */
const EXPECTED: Record<string, { count: number; choice: string; noNull: string }> = {
  // Samsung, OpenSIPS thread: hmac-md5-96 with des-ede3-cbc (the 2nd mechanism is cut in the source).
  'gh_docker_open5gs_pr458_samsung_security_client.txt': { count: 1, choice: 'hmac-md5-96/des-ede3-cbc', noNull: 'hmac-md5-96/des-ede3-cbc' },
  // Nokia: six mechanisms without prot/mod, md5 and sha1 × null, des-ede3-cbc, aes-cbc.
  'gh_kamailio_ims_config_35_nokia_6mech_and_pcscf_choice.txt': { count: 6, choice: 'hmac-sha-1-96/aes-cbc', noNull: 'hmac-sha-1-96/aes-cbc' },
  'gh_kamailio_ims_config_6_security_client_6mech.txt': { count: 6, choice: 'hmac-sha-1-96/aes-cbc', noNull: 'hmac-sha-1-96/aes-cbc' },
  // Three complete sha1 mechanisms (des-ede3-cbc, aes-cbc, null), the 4th cut.
  'gh_open5gs_564_security_client_and_401_ck_ik.txt': { count: 3, choice: 'hmac-sha-1-96/aes-cbc', noNull: 'hmac-sha-1-96/aes-cbc' },
  // Samsung stock ROM on a commercial network: integrity only (md5, sha1 with ealg=null).
  'gh_treble_2307_samsung_stock_rom_commercial_UQ_mobile.txt': { count: 2, choice: 'hmac-sha-1-96/null', noNull: '494' },
};

function choice(offer: SecMechanism[], policy: PcscfSecAgreePolicy): string {
  const r = choosePcscfMechanism(offer, policy);
  return r.ok ? `${r.alg}/${r.ealg}` : String(r.status);
}

describe('TS 33.203 Annex H: real phones\' Security-Client headers', () => {
  const cfg = defaultPcscfConfig();
  const kernel: PcscfSecAgreePolicy = { algs: cfg.policy.algs, ealgs: cfg.policy.ealgs, mods: ['trans'], honourQ: cfg.policy.honourQ };
  const noNull: PcscfSecAgreePolicy = { ...kernel, ealgs: kernel.ealgs.filter((e) => e !== 'null') };
  const userspace: PcscfSecAgreePolicy = { ...kernel, mods: ['UDP-enc-tun'] };

  for (const [file, want] of Object.entries(EXPECTED)) {
    test(`[R-SM-1] [R-SM-2] ${file}: parses; default policy → ${want.choice}; no-null policy → ${want.noNull}; userspace → 494`, (t) => {
      const path = needShared(t, 'real', 'sip', file);
      if (!path) return;
      const headers = securityClients(readFileSync(path, 'utf8'));
      assert.equal(headers.length, 1, 'one Security-Client in the file');
      const { mechanisms } = headers[0];
      assert.equal(mechanisms.length, want.count);
      for (const m of mechanisms) {
        const e = effectiveIpsec(m);
        assert.equal(e.prot, 'esp', 'prot defaults to esp');
        assert.equal(e.mod, 'trans', 'mod defaults to trans');
        assert.ok(m.spiC !== undefined && m.spiS !== undefined && m.portC !== undefined && m.portS !== undefined);
      }
      assert.equal(choice(mechanisms, kernel), want.choice);
      assert.equal(choice(mechanisms, noNull), want.noNull);
      const refused = choosePcscfMechanism(mechanisms, userspace);
      assert.equal(refused.ok, false);
      if (!refused.ok) {
        assert.equal(refused.status, 494);
        assert.ok(refused.supported!.length > 0 && refused.supported!.every((s) => s.mod === 'UDP-enc-tun'), 'the 494 lists what the userspace datapath supports');
      }
    });
  }

  test('[R-SM-2] the UE\'s q breaks ties only: a q=1 weaker offer loses to the stronger one under the default policy, wins with honourQ', () => {
    const offer = parseSecurityMechanisms('ipsec-3gpp;q=1;alg=hmac-md5-96;ealg=null;spi-c=1000;spi-s=1001;port-c=5000;port-s=5001, ipsec-3gpp;q=0.1;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=1000;spi-s=1001;port-c=5000;port-s=5001');
    assert.equal(choice(offer, kernel), 'hmac-sha-1-96/aes-cbc');
    assert.equal(choice(offer, { ...kernel, honourQ: true }), 'hmac-md5-96/null');
  });

  test('[R-SM-2] [R-SA-1] the default policy accepts every Annex H transform, aes-gcm with null integrity and aes-gmac included, strongest first', () => {
    const one = (alg: string, ealg: string): string => choice(parseSecurityMechanisms(`ipsec-3gpp;alg=${alg};ealg=${ealg};spi-c=1000;spi-s=1001;port-c=5000;port-s=5001`), kernel);
    assert.equal(one('null', 'aes-gcm'), 'null/aes-gcm');
    assert.equal(one('aes-gmac', 'null'), 'aes-gmac/null');
    assert.equal(one('hmac-md5-96', 'des-ede3-cbc'), 'hmac-md5-96/des-ede3-cbc');
    assert.equal(one('null', 'null'), '494', 'NULL integrity only with aes-gcm');
    const all = parseSecurityMechanisms(['hmac-md5-96/null', 'hmac-sha-1-96/aes-cbc', 'aes-gmac/null', 'null/aes-gcm'].map((p) => `ipsec-3gpp;alg=${p.split('/')[0]};ealg=${p.split('/')[1]};spi-c=1000;spi-s=1001;port-c=5000;port-s=5001`).join(', '));
    assert.equal(choice(all, kernel), 'null/aes-gcm');
  });

  test('[R-SM-2] a Security-Client with port-c = port-s is refused with 494, not a server error', () => {
    const r = choosePcscfMechanism(parseSecurityMechanisms('ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;spi-c=1000;spi-s=1001;port-c=5000;port-s=5000'), kernel);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'invalid-parameters');
    assert.equal(!r.ok && r.status, 494);
  });
});
