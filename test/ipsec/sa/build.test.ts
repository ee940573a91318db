import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from '../../../src/common/index.js';
import { deriveEspKeys } from '../../../src/ipsec/esp/index.js';
import { buildSaSet, uePortOf, type SaRole, type SaSetSpec } from '../../../src/ipsec/sa/index.js';

const IK = new Uint8Array(16).fill(0x11);
const CK = new Uint8Array(16).fill(0x22);

function spec(role: SaRole): SaSetSpec {
  return {
    setId: 7,
    role,
    impi: 'user@ims.example',
    impus: ['sip:user@ims.example'],
    ue: { address: '10.0.0.2', spiC: 0x80000101, spiS: 0x80000102, portC: 31000, portS: 31001 },
    pcscf: { address: '10.0.0.1', spiC: 0x00000201, spiS: 0x00000202, portC: 20000, portS: 20001 },
    integrity: 'hmac-sha-1-96',
    encryption: 'null',
    mode: 'trans',
    keys: deriveEspKeys('hmac-sha-1-96', 'null', IK, CK),
    state: 'temporary',
  };
}

// TS 33.203 §7.1 / SPEC R-SA-3, written out by hand: flow, SPI, source, destination, direction at the UE.
const EXPECTED = [
  { flow: 'uc-ps', spi: 0x00000202, src: '10.0.0.2:31000', dst: '10.0.0.1:20001', ue: 'out', uePort: 31000 },
  { flow: 'us-pc', spi: 0x00000201, src: '10.0.0.2:31001', dst: '10.0.0.1:20000', ue: 'out', uePort: 31001 },
  { flow: 'pc-us', spi: 0x80000102, src: '10.0.0.1:20000', dst: '10.0.0.2:31001', ue: 'in', uePort: 31001 },
  { flow: 'ps-uc', spi: 0x80000101, src: '10.0.0.1:20001', dst: '10.0.0.2:31000', ue: 'in', uePort: 31000 },
];

describe('TS 33.203 §7.1 the four SAs of a registration', () => {
  for (const role of ['ue', 'pcscf'] as const) {
    test(`[R-SA-3] ${role}: UE port-c → P-CSCF port-s and UE port-s → P-CSCF port-c use the P-CSCF's SPIs, the reverse flows the UE's`, () => {
      const sas = buildSaSet(spec(role));
      assert.deepEqual(
        sas.map((sa) => ({
          flow: sa.flow,
          spi: sa.spi,
          src: `${sa.src.address}:${sa.src.port}`,
          dst: `${sa.dst.address}:${sa.dst.port}`,
          ue: role === 'ue' ? sa.direction : sa.direction === 'in' ? 'out' : 'in',
          uePort: uePortOf(sa),
        })),
        EXPECTED,
      );
      assert.deepEqual(
        sas.map((sa) => sa.direction),
        role === 'ue' ? ['out', 'out', 'in', 'in'] : ['in', 'in', 'out', 'out'],
      );
    });
  }

  test('[R-SA-3] UDP and TCP share the SAs; every SA carries IMPI, IMPUs, transform and keys', () => {
    for (const sa of buildSaSet(spec('pcscf'))) {
      assert.deepEqual(sa.transports, ['udp', 'tcp']);
      assert.equal(sa.impi, 'user@ims.example');
      assert.deepEqual(sa.impus, ['sip:user@ims.example']);
      assert.deepEqual([sa.integrity, sa.encryption, sa.mode], ['hmac-sha-1-96', 'null', 'trans']);
      assert.equal(sa.keys.integrityKey.length, 20);
      assert.equal(sa.id, `7/${sa.flow}`);
    }
  });

  test('[R-SA-3] uplink and downlink never share an SPI; reserved SPIs and equal ports are refused', () => {
    const s = spec('pcscf');
    assert.throws(() => buildSaSet({ ...s, pcscf: { ...s.pcscf, spiS: s.ue.spiC } }), InvalidArgumentError);
    assert.throws(() => buildSaSet({ ...s, ue: { ...s.ue, spiS: s.ue.spiC } }), InvalidArgumentError);
    assert.throws(() => buildSaSet({ ...s, ue: { ...s.ue, spiC: 255 } }), InvalidArgumentError);
    assert.throws(() => buildSaSet({ ...s, pcscf: { ...s.pcscf, spiC: 0 } }), InvalidArgumentError);
    assert.throws(() => buildSaSet({ ...s, pcscf: { ...s.pcscf, portS: s.pcscf.portC } }), InvalidArgumentError);
    assert.throws(() => buildSaSet({ ...s, ue: { ...s.ue, portC: 70000 } }), InvalidArgumentError);
  });
});
