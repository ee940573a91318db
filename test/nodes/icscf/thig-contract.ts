/**
 * The THIG fuzz contract and its fixed key, shared by test/fuzz/thig.test.ts and the ordinary
 * corpus replay in test/nodes/icscf/thig-corpus.test.ts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SeededRng } from '../../../src/common/rng.js';
import { ThigError } from '../../../src/nodes/icscf/errors.js';
import { NetworkMatcher } from '../../../src/nodes/icscf/network.js';
import { hasOurTokens, hideTopology, revealTopology, type ThigPolicy } from '../../../src/nodes/icscf/thig.js';
import { openThigToken, ThigKey } from '../../../src/nodes/icscf/thig-token.js';
import { parseMessage, serializeMessage, SipParseError, SipLimitError, type SipMessage } from '../../../src/sip/index.js';
import { repoRoot } from '../../support/paths.js';

export const THIG_CORPUS_DIR = join(repoRoot, 'test', 'fuzz', 'corpus', 'thig');
/** The Kv the corpus files were made with. */
export const FUZZ_KV = Uint8Array.from(Buffer.from('5a5a5a5a000102030405060708090a0b', 'hex'));

const home = new NetworkMatcher({ domains: ['ims.lab'], addresses: ['127.0.0.1:6060'] });
export const fuzzPolicy: ThigPolicy = {
  key: new ThigKey(FUZZ_KV),
  domain: 'ims.lab',
  domains: ['ims.lab'],
  host: 'icscf.ims.lab',
  port: 4060,
  isHome: (h, p) => home.has(h, p),
  isSelf: (h, p) => h === 'icscf.ims.lab' && p === 4060,
};

export const text = (m: SipMessage): string => Buffer.from(serializeMessage(m)).toString('latin1');

/** Token decoder contract: a payload or ThigError. */
export function tokenContract(input: string): void {
  for (const kind of ['via', 'route'] as const) {
    try {
      openThigToken(fuzzPolicy.key, 'ims.lab', kind, input);
    } catch (e) {
      if (e instanceof ThigError && e.code === 'THIG') continue;
      throw new Error(`openThigToken threw ${String(e)} for ${JSON.stringify(input)}`);
    }
  }
}

/**
 * Message contract: reveal returns a message or throws ThigError; a message without tokens of
 * ours hides and reveals back to its exact bytes.
 */
export function thigMessageContract(raw: string): void {
  let m: SipMessage;
  try {
    m = parseMessage(Buffer.from(raw, 'latin1'));
  } catch (e) {
    if (e instanceof SipParseError || e instanceof SipLimitError) return;
    throw e;
  }
  try {
    revealTopology(m, fuzzPolicy);
  } catch (e) {
    if (!(e instanceof ThigError)) throw new Error(`reveal threw ${String(e)}`);
  }
  if (hasOurTokens(m, fuzzPolicy)) return;
  const hidden = hideTopology(m, fuzzPolicy, new SeededRng(raw.length)).msg;
  assert.equal(text(revealTopology(hidden, fuzzPolicy).msg), text(m));
  assert.equal(text(revealTopology(hideTopology(m, fuzzPolicy, new SeededRng(1), { towardsUac: true }).msg, fuzzPolicy).msg), text(m));
}
