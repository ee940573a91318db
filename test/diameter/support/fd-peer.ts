/**
 * A DiameterNode run as a child process inside a test's network namespace (freeDiameterd refuses
 * loopback addresses, INTEROP.md). Configuration is one JSON argument (DiameterNodeOptions minus
 * clock/transport/logger); it advertises Cx unless told otherwise. It prints one JSON line per event on stdout: {"ev":"status",...} for
 * peer status, {"ev":"msg","dir":"in"|"out","cmd":257,"req":true,"rc":2001,"peer":"..."} for each
 * message, {"ev":"started"} and {"ev":"stopped","psm":...}. A line "stop" on stdin stops the node
 * (DPR/DPA) and exits; a line "mar" sends a Cx MAR to the first peer and prints {"ev":"answer",...}.
 */
import { createInterface } from 'node:readline';
import { buildMar, cxCapabilities, getValue, isRequest, type DiameterNodeOptions } from '../../../src/diameter/index.js';
import { DiameterNode } from '../../../src/diameter/io.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as DiameterNodeOptions;
const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const node = new DiameterNode({ ...cxCapabilities(), ...opts });
node.onPeerStatus((host, status, detail) => out({ ev: 'status', host, status, detail }));
node.onTrace((dir, peer, msg) => out({ ev: 'msg', dir, peer, cmd: msg.commandCode, req: isRequest(msg), rc: getValue(msg.avps, 'Result-Code') ?? null, flags: msg.flags }));

const peers = opts.peers.map((p) => p.host);
await node.start();
out({ ev: 'started', port: node.listenPort ?? null });

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'mar') {
    const mar = buildMar({
      sessionId: node.newSessionId(),
      originHost: opts.originHost,
      originRealm: opts.originRealm,
      destinationRealm: opts.originRealm,
      destinationHost: peers[0],
      userName: 'alice@ims.lab',
      publicIdentity: 'sip:alice@ims.lab',
      sipAuthDataItem: { scheme: 'Digest-AKAv1-MD5' },
      sipNumberAuthItems: 1,
      serverName: 'sip:scscf.ims.lab',
    });
    node.request(mar, { peer: peers[0] }).then(
      (a) => out({ ev: 'answer', cmd: a.commandCode, rc: getValue(a.avps, 'Result-Code') ?? null, err: getValue(a.avps, 'Error-Message') ?? null, failed: (getValue(a.avps, 'Failed-AVP') ?? []).map((x) => x.code), flags: a.flags }),
      (e: Error) => out({ ev: 'answer', error: e.message }),
    );
    return;
  }
  if (line.trim() !== 'stop') return;
  void node.stop().then(() => {
    out({ ev: 'stopped', psm: Object.fromEntries(peers.map((h) => [h, node.peerState(h)?.psm])) });
    process.exit(0);
  });
});
