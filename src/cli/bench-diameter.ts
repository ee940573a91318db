/**
 * `imsec bench diameter [--json]`: the Diameter hot paths (RFC 6733 codec, TS 29.229 Cx).
 * - codec: encode + decode of one MAR and one MAA carrying 5 AKA vectors (prebuilt messages).
 * - typed: the full Cx path an S-CSCF and an HSS run: buildMar → encode → decode → parseMar →
 *   buildMaa (5 vectors) → encode → decode → parseMaa.
 * - round trips: MAR/MAA between two DiameterNodes over loopback TCP with 64 requests in flight.
 * Each figure is the median of several rounds.
 */
import { measureRate, measureRateAsync, type BenchRegistrar } from './bench.js';
import { SeededRng } from '../common/index.js';
import { CxResult, akaAuthDataItem, cxCapabilities, buildMaa, buildMar, decodeMessage, encodeMessage, parseMaa, parseMar, type DiameterMessage, type MultimediaAuthRequest, type SipAuthDataItem } from '../diameter/index.js';
import { DiameterNode } from '../diameter/io.js';

export interface DiameterBenchResult {
  /** encode + decode of a MAR and an MAA (5 vectors), pairs per second. */
  codec_pairs_per_s: number;
  /** build + encode + decode + parse of a MAR and an MAA, pairs per second. */
  typed_pairs_per_s: number;
  /** MAR/MAA round trips per second over loopback TCP, 64 in flight. */
  tcp_round_trips_per_s: number;
  mar_bytes: number;
  maa_bytes: number;
  in_flight: number;
  node: string;
}

const IN_FLIGHT = 64;

function marInput(n: number): MultimediaAuthRequest {
  return {
    sessionId: `scscf.ims.mnc001.mcc001.3gppnetwork.org;1700000000;${n}`,
    originHost: 'scscf.ims.mnc001.mcc001.3gppnetwork.org',
    originRealm: 'ims.mnc001.mcc001.3gppnetwork.org',
    destinationRealm: 'ims.mnc001.mcc001.3gppnetwork.org',
    userName: '001010000000001@ims.mnc001.mcc001.3gppnetwork.org',
    publicIdentity: 'sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org',
    sipAuthDataItem: { scheme: 'Digest-AKAv1-MD5' },
    sipNumberAuthItems: 5,
    serverName: 'sip:scscf.ims.mnc001.mcc001.3gppnetwork.org:6060',
  };
}

function vectors(): SipAuthDataItem[] {
  const rng = new SeededRng('bench-diameter');
  return Array.from({ length: 5 }, (_, i) => akaAuthDataItem({ rand: rng.bytes(16), autn: rng.bytes(16), xres: rng.bytes(8), ck: rng.bytes(16), ik: rng.bytes(16) }, { itemNumber: i + 1 }));
}

const HSS = { originHost: 'hss.ims.mnc001.mcc001.3gppnetwork.org', originRealm: 'ims.mnc001.mcc001.3gppnetwork.org' };

export async function runDiameterBench(opts: { ms?: number; rounds?: number } = {}): Promise<DiameterBenchResult> {
  const m = { ms: opts.ms ?? 400, rounds: opts.rounds ?? 5 };
  const items = vectors();
  const mar = buildMar(marInput(1), { hopByHop: 1, endToEnd: 2 });
  const maa = buildMaa(mar, { ...HSS, result: CxResult.SUCCESS, userName: marInput(1).userName, publicIdentity: marInput(1).publicIdentity, sipNumberAuthItems: 5, sipAuthDataItems: items });
  const marBytes = encodeMessage(mar);
  const maaBytes = encodeMessage(maa);
  let sink = 0;

  const codec = measureRate(() => {
    for (let i = 0; i < 64; i++) {
      sink += decodeMessage(encodeMessage(mar)).avps.length;
      sink += decodeMessage(encodeMessage(maa)).avps.length;
    }
  }, 64, m);

  let n = 0;
  const typed = measureRate(() => {
    for (let i = 0; i < 32; i++) {
      const req = decodeMessage(encodeMessage(buildMar(marInput(n++), { hopByHop: n, endToEnd: n })));
      const r = parseMar(req);
      const ans = decodeMessage(encodeMessage(buildMaa(req, { ...HSS, result: CxResult.SUCCESS, userName: r.userName, publicIdentity: r.publicIdentity, sipNumberAuthItems: 5, sipAuthDataItems: items })));
      sink += parseMaa(ans).sipAuthDataItems.length;
    }
  }, 32, m);

  const tcp = await roundTrips(items, { ms: Math.max(m.ms, 1000), rounds: m.rounds });
  if (sink === -1) process.stdout.write('');
  return {
    codec_pairs_per_s: Math.round(codec),
    typed_pairs_per_s: Math.round(typed),
    tcp_round_trips_per_s: Math.round(tcp),
    mar_bytes: marBytes.length,
    maa_bytes: maaBytes.length,
    in_flight: IN_FLIGHT,
    node: process.version,
  };
}

async function roundTrips(items: SipAuthDataItem[], m: { ms: number; rounds: number }): Promise<number> {
  const hss = new DiameterNode({ ...HSS, ...cxCapabilities(), hostIpAddresses: ['127.0.0.1'], listen: { host: '127.0.0.1', port: 0 }, peers: [{ host: 'scscf.ims.mnc001.mcc001.3gppnetwork.org' }] });
  hss.onRequest((req) => {
    const r = parseMar(req);
    return buildMaa(req, { ...HSS, result: CxResult.SUCCESS, userName: r.userName, publicIdentity: r.publicIdentity, sipNumberAuthItems: 5, sipAuthDataItems: items });
  });
  await hss.start();
  const scscf = new DiameterNode({
    originHost: 'scscf.ims.mnc001.mcc001.3gppnetwork.org',
    originRealm: HSS.originRealm,
    ...cxCapabilities(),
    hostIpAddresses: ['127.0.0.1'],
    peers: [{ host: HSS.originHost, connect: { host: '127.0.0.1', port: hss.listenPort as number } }],
  });
  try {
    await scscf.start();
    await scscf.waitForPeer(HSS.originHost, 5000);
    let seq = 0;
    const batch = 1024;
    const window = async (): Promise<void> => {
      let sent = 0;
      const worker = async (): Promise<void> => {
        while (sent < batch) {
          sent++;
          const a: DiameterMessage = await scscf.request(buildMar(marInput(seq++)));
          if (a.avps.length === 0) throw new Error('empty answer');
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    };
    return await measureRateAsync(window, batch, m);
  } finally {
    await scscf.stop();
    await hss.stop();
  }
}

export function formatDiameterBench(r: DiameterBenchResult): string {
  return [
    `diameter codec (encode+decode MAR ${r.mar_bytes} B + MAA ${r.maa_bytes} B): ${r.codec_pairs_per_s.toLocaleString('en-US')} pairs/s`,
    `diameter typed Cx (build+encode+decode+parse MAR and MAA): ${r.typed_pairs_per_s.toLocaleString('en-US')} pairs/s`,
    `diameter MAR/MAA over loopback TCP (${r.in_flight} in flight): ${r.tcp_round_trips_per_s.toLocaleString('en-US')} round trips/s`,
    `node ${r.node}; medians of 5 rounds`,
    '',
  ].join('\n');
}

export const diameterBench: BenchRegistrar = (bench) => {
  bench
    .command('diameter')
    .description('Diameter Cx: MAR/MAA encode+decode pairs per second and round trips per second over loopback TCP')
    .option('--json', 'print one JSON object')
    .action(async (o: { json?: boolean }) => {
      const r = await runDiameterBench();
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatDiameterBench(r));
    });
};
