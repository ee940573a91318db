/**
 * The UE's protected ports (TS 33.203 §7.1: the UE chooses port_uc and port_us) are bound once,
 * when chosen, and handed on: held on the carrier until the SAs naming them share the socket, and
 * gone with those SAs. No other process can take one between the Security-Client that names it
 * and the SAs that use it.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, test } from 'node:test';
import { SeededRng } from '../../../src/common/index.js';
import { deriveEspKeys } from '../../../src/ipsec/esp/index.js';
import { buildSaSet } from '../../../src/ipsec/sa/index.js';
import { UdpEncapDatapath } from '../../../src/ipsec/udp-encap/index.js';
import { ProtectedPortHolds, type PortCarrier } from '../../../src/nodes/ue/free-port.js';

const HOST = '127.0.0.1';

/** Whether another socket can bind the port right now. */
function bindable(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => s.close(() => resolve(false)));
    s.bind(port, HOST, () => s.close(() => resolve(true)));
  });
}

function ueSet(portC: number, portS: number) {
  return buildSaSet({
    setId: 1,
    role: 'ue',
    impi: 'alice@ims.lab',
    impus: ['sip:alice@ims.lab'],
    ue: { address: HOST, spiC: 0x80000101, spiS: 0x80000102, portC, portS },
    pcscf: { address: HOST, spiC: 0x1001, spiS: 0x1002, portC: 1, portS: 2 },
    integrity: 'hmac-sha-1-96',
    encryption: 'null',
    mode: 'UDP-enc-tun',
    keys: deriveEspKeys('hmac-sha-1-96', 'null', new Uint8Array(16), new Uint8Array(16)),
    state: 'temporary',
  });
}

describe('the UE\'s protected ports: bound once, handed on to their SAs', () => {
  test('[R-SA-3] [R-SA-7] chosen ports stay bound until the SAs share their sockets, then go with the SAs', async () => {
    const dp = new UdpEncapDatapath({ rng: new SeededRng('holds') });
    const holds = new ProtectedPortHolds(dp, HOST, false);
    try {
      const portS = await holds.take([]);
      const portC = await holds.take([portS]);
      assert.notEqual(portC, portS);
      assert.deepEqual([await bindable(portS), await bindable(portC)], [false, false], 'held from the choice on');
      const sas = ueSet(portC, portS);
      for (const sa of sas) await dp.install(sa);
      await holds.letGo();
      assert.deepEqual([await bindable(portS), await bindable(portC)], [false, false], 'the SAs have the sockets now');
      for (const sa of sas) await dp.remove(sa);
      assert.deepEqual([await bindable(portS), await bindable(portC)], [true, true], 'gone with the SAs');
    } finally {
      await dp.close();
    }
  });

  test('[R-SA-3] a port given up before any SA was made is let go', async () => {
    const dp = new UdpEncapDatapath({ rng: new SeededRng('holds') });
    const holds = new ProtectedPortHolds(dp, HOST, false);
    try {
      const port = await holds.take([]);
      assert.equal(await bindable(port), false);
      await holds.letGo();
      assert.equal(await bindable(port), true);
    } finally {
      await dp.close();
    }
  });

  test('[R-SA-3] a port in `avoid` is refused and released; the one returned is held', async () => {
    const calls: string[] = [];
    const offered = [5001, 5002];
    const carrier: PortCarrier = {
      listen: (address, port) => {
        const p = offered.shift() as number;
        calls.push(`listen ${address}:${port} -> ${p}`);
        return Promise.resolve(p);
      },
      release: (address, port) => {
        calls.push(`release ${address}:${port}`);
        return Promise.resolve();
      },
    };
    const holds = new ProtectedPortHolds(carrier, HOST, false);
    assert.equal(await holds.take([5001]), 5002);
    assert.deepEqual(calls, [`listen ${HOST}:0 -> 5001`, `listen ${HOST}:0 -> 5002`, `release ${HOST}:5001`]);
    await holds.letGo();
    assert.deepEqual(calls.slice(3), [`release ${HOST}:5002`]);
  });
});
