/**
 * A node process's reports to `imsec core --processes --web` (cli/console-feed.ts) and the
 * console's sources built from them (web/processes-console.ts), joined here by a channel that
 * copies each message as the IPC channel does (structured clone): what the console's model shows
 * of the P-CSCF's SAs and registrations and of the S-CSCF's registrations must be what the nodes
 * hold, SA keys only in the SA created messages (never in the tables), and a slow channel must
 * cost packets, not the node.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConsoleFeed, MAX_IN_FLIGHT, type FeedChannel } from '../../src/cli/console-feed.js';
import { deriveEspKeys } from '../../src/ipsec/esp/index.js';
import { buildSaSet, type SaEvent, type SaSet, type SaSetSpec } from '../../src/ipsec/sa/index.js';
import type { PcscfNode } from '../../src/nodes/pcscf/index.js';
import type { Scscf } from '../../src/nodes/scscf/index.js';
import { ConsoleModel, FeedSources, type ConsoleFeedMessage } from '../../src/web/index.js';

const IK = new Uint8Array(16).fill(0x11);
const CK = new Uint8Array(16).fill(0x22);
const spec: SaSetSpec = {
  setId: 7,
  role: 'pcscf',
  impi: 'alice@ims.lab',
  impus: ['sip:alice@ims.lab'],
  ue: { address: '127.0.0.2', spiC: 0x80000101, spiS: 0x80000102, portC: 31000, portS: 31001 },
  pcscf: { address: '127.0.0.1', spiC: 0x201, spiS: 0x202, portC: 5101, portS: 5100 },
  integrity: 'hmac-sha-1-96',
  encryption: 'aes-cbc',
  mode: 'tun',
  keys: deriveEspKeys('hmac-sha-1-96', 'aes-cbc', IK, CK),
  state: 'active',
};
const sas = buildSaSet(spec);
const { setId, keys: _keys, ...fields } = spec;
const set: SaSet = { ...fields, id: setId, createdAt: 1000, expiresAt: 61_000, sas };

/** A P-CSCF as the feed reads it: its SA events, its registrations and its sets. */
function fakePcscf(): { node: PcscfNode; emit(e: SaEvent): void } {
  const listeners = new Set<(e: SaEvent) => void>();
  const node = {
    sa: { on: (l: (e: SaEvent) => void) => (listeners.add(l), () => void listeners.delete(l)) },
    registrations: () => [{ impi: 'alice@ims.lab', impus: ['sip:alice@ims.lab'], ueAddress: '127.0.0.2', contact: 'sip:127.0.0.2:31001', serviceRoute: [], setId: 7, expiresInMs: 30_000 }],
    sets: () => [set],
  } as unknown as PcscfNode;
  return { node, emit: (e) => listeners.forEach((l) => l(e)) };
}

/** The end of this event-loop turn, when the feed sends what the turn reported. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function joined(now: () => number): { sources: FeedSources; sent: ConsoleFeedMessage[]; batches: number[]; channel: FeedChannel } {
  const sources = new FeedSources(now);
  const sent: ConsoleFeedMessage[] = [];
  const batches: number[] = [];
  return {
    sources,
    sent,
    batches,
    channel: (batch, cb) => {
      sent.push(...batch);
      batches.push(batch.length);
      sources.receive(structuredClone(batch));
      cb();
    },
  };
}

describe('console feed: node processes to the console of imsec core --processes --web', () => {
  test('[R-LAB-5] [R-SA-4] the P-CSCF: each SA created goes with its keys; its table and registrations after a change, without keys; the model shows them; one turn\'s reports in one message', async () => {
    let now = 10_000;
    const { sources, sent, batches, channel } = joined(() => now);
    const model = new ConsoleModel(sources);
    const pcscf = fakePcscf();
    const feed = new ConsoleFeed('P-CSCF', channel);
    try {
      feed.watchPcscf(pcscf.node);
      feed.flush();
      assert.equal(sent.length, 0, 'nothing changed: no report');
      for (const sa of sas) pcscf.emit({ kind: 'saCreated', sa });
      assert.equal(sent.length, 0, 'sent at the end of the turn');
      await turn();
      assert.deepEqual(
        sent.map((m) => m.t),
        ['sa', 'sa', 'sa', 'sa'],
      );
      assert.deepEqual(batches, [4], 'the four SAs of one turn in one message');
      // The SAs the console decodes ESP with (and gives as esp_sa to an authenticated user): the keys as the P-CSCF holds them.
      assert.deepEqual(
        model.allSas().map((sa) => [sa.spi, sa.flow, Buffer.from(sa.keys.encryptionKey).toString('hex'), Buffer.from(sa.keys.integrityKey).toString('hex')]),
        sas.map((sa) => [sa.spi, sa.flow, Buffer.from(sa.keys.encryptionKey).toString('hex'), Buffer.from(sa.keys.integrityKey).toString('hex')]),
      );
      assert.ok(sas.every((sa) => sa.keys.encryptionKey.length === 16));
      feed.flush();
      await turn();
      const table = sent.at(-1)!;
      assert.equal(table.t, 'pcscf');
      assert.ok(table.t === 'pcscf' && table.sets[0].sas.every((sa) => sa.keys.encryptionKey.length === 0 && sa.keys.integrityKey.length === 0), 'a table row carries no key');
      feed.flush();
      await turn();
      assert.equal(sent.length, 5, 'no second report without a change');
      now += 10_000;
      const state = model.state();
      assert.deepEqual(
        state.saSets.map((s) => [s.owner, s.setId, s.impi, s.state, s.sas.map((r) => `${r.spi}:${r.direction}:${r.src}>${r.dst}`).join(' ')]),
        [['P-CSCF', 7, 'alice@ims.lab', 'active', sas.map((sa) => `${sa.spi}:${sa.direction}:${sa.src.address}:${sa.src.port}>${sa.dst.address}:${sa.dst.port}`).join(' ')]],
      );
      // Reported with 30 s left at 10 000 ms: 20 s left at 20 000 ms.
      assert.deepEqual(sources.pcscfRegistrations(), [{ impi: 'alice@ims.lab', setId: 7, expiresInMs: 20_000 }]);
    } finally {
      feed.close();
      model.close();
    }
  });

  test('[R-LAB-5] the S-CSCF: its registrations after a packet of its own; the model shows them beside the P-CSCF\'s record; other messages are ignored', async () => {
    const { sources, sent, channel } = joined(() => 5_000);
    const model = new ConsoleModel(sources);
    const scscf = { registrations: () => [{ aor: 'sip:alice@ims.lab', impi: 'alice@ims.lab', impus: ['sip:alice@ims.lab', 'tel:+15550101'], userData: null, bindings: [{ uri: 'sip:127.0.0.2:31001', expiresAt: 605_000, path: [] }] }] } as unknown as Scscf;
    const feed = new ConsoleFeed('S-CSCF', channel);
    let changes = 0;
    const off = model.subscribe((e) => void (e.type === 'state' && changes++));
    try {
      feed.watchScscf(scscf);
      feed.flush();
      await turn();
      assert.equal(sent.length, 0);
      // A packet of the S-CSCF marks its table changed.
      feed.taps().sipTap('in', new Uint8Array([1]), { address: '127.0.0.1', port: 6060 }, { address: '127.0.0.1', port: 4060 }, 'udp');
      feed.flush();
      await turn();
      assert.deepEqual(
        sent.map((m) => m.t),
        ['wire', 'scscf'],
      );
      assert.ok(changes >= 1, 'the model told its listeners the state changed');
      assert.deepEqual(model.state().registrations, [{ impi: 'alice@ims.lab', aor: 'sip:alice@ims.lab', impus: ['sip:alice@ims.lab', 'tel:+15550101'], contacts: [{ uri: 'sip:127.0.0.2:31001', expiresAt: 605_000 }] }]);
      const before = JSON.stringify(model.state());
      for (const junk of [null, 7, 'x', { t: 'nope' }, { t: 'pcscf-ish' }, [null, [7]]]) sources.receive(junk);
      assert.equal(JSON.stringify(model.state()), before);
    } finally {
      off();
      feed.close();
      model.close();
    }
  });

  test('[R-LAB-5] a packet the node sends goes to the channel at once with the reports before it (its observers report it before the socket sends it); what comes after waits for the end of the turn', async () => {
    const sent: ConsoleFeedMessage[][] = [];
    const feed = new ConsoleFeed('P-CSCF', (batch, cb) => {
      sent.push([...batch]);
      cb();
    });
    const ue = { address: '127.0.0.2', port: 31000 };
    const protectedPort = { address: '127.0.0.1', port: 5101 };
    const sip = { address: '127.0.0.1', port: 5060 };
    const icscf = { address: '127.0.0.1', port: 4060 };
    try {
      const { espTap, sipTap } = feed.taps();
      // The UE's protected REGISTER (only the P-CSCF reports it: the UE is not tapped), then the
      // P-CSCF's REGISTER to the I-CSCF: both are in the channel before that REGISTER leaves, so
      // the I-CSCF's reports of it and of its UAR cannot reach the parent first.
      espTap('in', protectedPort, ue, new Uint8Array([0xe5]));
      assert.equal(sent.length, 0, 'a received packet waits for the end of the turn');
      sipTap('out', new Uint8Array([0x52]), sip, icscf, 'udp');
      assert.deepEqual(
        sent.map((b) => b.map((m) => (m.t === 'wire' ? `${m.kind} ${m.dir}` : m.t))),
        [['esp in', 'sip out']],
        'written before the send returns to the transport',
      );
      sipTap('in', new Uint8Array([0x34]), sip, icscf, 'udp');
      assert.equal(sent.length, 1);
      await turn();
      assert.deepEqual(
        sent.map((b) => b.length),
        [2, 1],
      );
    } finally {
      feed.close();
    }
  });

  test('[R-LAB-5] a channel that falls behind: past MAX_IN_FLIGHT unsent messages, packets are dropped and counted; SA events still go', async () => {
    const sent: ConsoleFeedMessage[] = [];
    const feed = new ConsoleFeed('P-CSCF', (batch) => void sent.push(...batch)); // never written: no callback
    const pcscf = fakePcscf();
    try {
      feed.watchPcscf(pcscf.node);
      const tap = feed.taps().sipTap;
      for (let n = 0; n < MAX_IN_FLIGHT + 25; n++) tap('in', new Uint8Array([n & 0xff]), { address: '127.0.0.1', port: 5060 }, { address: '127.0.0.2', port: 40000 }, 'udp');
      await turn();
      assert.equal(sent.length, MAX_IN_FLIGHT);
      assert.equal(feed.dropped, 25);
      // Still unwritten, so the next turn's packets are dropped too.
      tap('in', new Uint8Array([1]), { address: '127.0.0.1', port: 5060 }, { address: '127.0.0.2', port: 40000 }, 'udp');
      pcscf.emit({ kind: 'saCreated', sa: sas[0] });
      await turn();
      assert.equal(feed.dropped, 26);
      assert.equal(sent.at(-1)!.t, 'sa');
    } finally {
      feed.close();
    }
  });
});
