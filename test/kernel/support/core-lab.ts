/**
 * The setting of the `imsec core` kernel tests (core-e2e-*.test.ts): two network namespaces
 * joined by a veth pair, `imsec core` with the P-CSCF on the xfrm datapath (every Annex H
 * transform allowed, protected ports 5100–5199) in one, the soft UEs of ue-driver.ts in the
 * other, a foreign XFRM entry in each (it must survive), tcpdump on the core's link. Everything
 * is removed when the test ends.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { wiresharkChecksIcv, type IntegrityAlg } from '../../../src/ipsec/esp/index.js';
import { needPeer } from '../../support/peers.js';
import { waitFor } from '../../support/wait.js';
import { Capture, CoreProcess, UeDriver, createNetnsPair, needKernelEsp, writeCoreConfig, type Side } from './netns.js';
import { DISCARD_PORT, spiOfEspSaLine } from './capture-check.js';
import { addForeignEntries } from './xfrm-state.js';

export interface CoreLab {
  /** The core's side and the UEs' side. */
  readonly a: Side;
  readonly b: Side;
  readonly core: CoreProcess;
  readonly ues: UeDriver;
  readonly capture: Capture;
  readonly pcap: string;
  /** The P-CSCF's unprotected SIP address (`HOST:5060`, `[v6]:5060`) and the UEs' address. */
  readonly pcscf: string;
  readonly local: string;
  /** Wireshark esp_sa records of every SA a UE had, and whether tshark can check each SPI's ICV. */
  readonly keys: string[];
  readonly checksIcv: Map<number, boolean>;
  /** Records the keys of UE `name`'s current SAs. */
  noteKeys(name: string, integrity: IntegrityAlg): Promise<void>;
  /**
   * Stops the capture once it holds everything sent so far: a marker datagram from the UEs' side
   * must be in the file first (tcpdump loses what it has not read yet when it stops, and a busy
   * one-CPU guest can leave it seconds behind).
   */
  stopCapture(): Promise<void>;
}

/** Starts the lab (undefined when the kernel or a peer program is missing: the test skipped or failed). */
/**
 * The `imsec core` configuration of the kernel tests on `host`: the P-CSCF on the xfrm datapath,
 * port 5060, protected ports 5100–5199, every Annex H transform the kernel has allowed (so that
 * each can be proven), logging at info (the P-CSCF names each set's SPIs); returns the file's path.
 */
export function writeLabCoreConfig(dir: string, host: string): string {
  return writeCoreConfig(dir, host, {
    logLevel: 'info',
    hss: { diameterPort: 0 },
    scscf: { sipPort: 0 },
    icscf: { sipPort: 0 },
    pcscf: {
      sipPort: 5060,
      protectedPorts: '5100-5199',
      datapath: 'xfrm',
      settings: { policy: { algs: ['hmac-sha-1-96', 'hmac-md5-96', 'aes-gmac', 'null'], ealgs: ['aes-gcm', 'aes-cbc', 'des-ede3-cbc', 'null'] } },
    },
  });
}

/** `admin`: the core reads operator commands on stdin. */
export async function startCoreLab(t: TestContext, o: { prefix: string; family?: 4 | 6; admin?: boolean }): Promise<CoreLab | undefined> {
  if (!(await needKernelEsp(t))) return undefined;
  if (!needPeer(t, 'tcpdump') || !needPeer(t, 'tshark')) return undefined;
  const t0 = Date.now();
  const pair = createNetnsPair(`${o.prefix}${process.pid}`);
  t.after(() => pair.remove());
  const { a, b } = pair;
  const v6 = o.family === 6;
  const dir = mkdtempSync(join(tmpdir(), 'imsec-kernel-lab-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = writeLabCoreConfig(dir, v6 ? a.v6 : a.v4);
  addForeignEntries(a.ns);
  addForeignEntries(b.ns);
  const pcap = join(dir, 'lab.pcap');
  const capture = await Capture.start(a.ns, a.dev, pcap);
  t.after(() => capture.stop());
  // Node starts slowly in the lab: the core and the UEs' process start side by side.
  const [core, ues] = await Promise.all([CoreProcess.start(a.ns, config, { admin: o.admin ?? false }), UeDriver.start(b.ns)]);
  t.after(() => core.stop('SIGKILL'));
  t.after(() => ues.stop());
  t.diagnostic(`lab up in ${Date.now() - t0} ms (namespaces, tcpdump, imsec core, UE driver)`);
  const keys: string[] = [];
  const checksIcv = new Map<number, boolean>();
  return {
    a,
    b,
    core,
    ues,
    capture,
    pcap,
    pcscf: v6 ? `[${a.v6}]:5060` : `${a.v4}:5060`,
    local: v6 ? b.v6 : b.v4,
    keys,
    checksIcv,
    async stopCapture() {
      const text = `imsec-capture-marker-${process.pid}-${Date.now()}`;
      await ues.request({ op: 'mark', address: v6 ? a.v6 : a.v4, port: DISCARD_PORT, text });
      await waitFor(() => existsSync(pcap) && readFileSync(pcap).includes(text), 'the capture marker in the pcap', 30_000);
      await capture.stop();
    },
    async noteKeys(name, integrity) {
      for (const l of await ues.request<string[]>({ op: 'keys', name })) {
        keys.push(l);
        checksIcv.set(spiOfEspSaLine(l), wiresharkChecksIcv(integrity));
      }
    },
  };
}
