/** SAs with known keys for the xfrm tests, and an independent TS 33.220 KDF for the GCM salts. */
import { createHmac } from 'node:crypto';
import { deriveEspKeys, type EncryptionAlg, type IntegrityAlg } from '../../../src/ipsec/esp/index.js';
import { buildSaSet, type SaRole, type SecurityAssociation } from '../../../src/ipsec/sa/index.js';
import type { IpsecMode } from '../../../src/secagree/index.js';

export const IK = Uint8Array.from({ length: 16 }, (_, i) => i);
export const CK = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i);
export const IK_HEX = '000102030405060708090a0b0c0d0e0f';
export const CK_HEX = 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff';

/** TS 33.203 Annex I salt, computed here from TS 33.220 Annex B.2.0 (not with the code under test). */
export function annexISaltHex(fc: number, label: string): string {
  const s = Buffer.concat([Buffer.from([fc]), Buffer.from(label, 'latin1'), Buffer.from([0, label.length])]);
  return createHmac('sha256', Buffer.concat([CK, IK])).update(s).digest().subarray(28).toString('hex');
}

export function saSet(
  role: SaRole,
  integrity: IntegrityAlg,
  encryption: EncryptionAlg,
  mode: IpsecMode = 'trans',
  addrs: { ue: string; pcscf: string } = { ue: '10.0.0.2', pcscf: '10.0.0.1' },
): SecurityAssociation[] {
  return buildSaSet({
    setId: 1,
    role,
    impi: 'alice@ims.example',
    impus: ['sip:alice@ims.example'],
    ue: { address: addrs.ue, spiC: 0x80000101, spiS: 0x80000102, portC: 31000, portS: 31001 },
    pcscf: { address: addrs.pcscf, spiC: 0x00001001, spiS: 0x00001002, portC: 20000, portS: 20001 },
    integrity,
    encryption,
    mode,
    keys: deriveEspKeys(integrity, encryption, IK, CK),
    state: 'active',
  });
}
