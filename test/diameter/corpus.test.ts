/**
 * Replays the fuzz corpus (test/fuzz/corpus/diameter-message/*.hex): each input must decode to a
 * message or throw an ImsError (RFC 6733 §3–4 framing errors are DiameterParseError), and whatever
 * decodes must re-encode and parse with every Cx parser without a stray exception.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImsError } from '../../src/common/index.js';
import { decodeMessage, encodeMessage, parseLia, parseLir, parseMaa, parseMar, parsePpa, parsePpr, parseRta, parseRtr, parseSaa, parseSar, parseUaa, parseUar } from '../../src/diameter/index.js';
import { repoRoot } from '../support/paths.js';

const dir = join(repoRoot, 'test', 'fuzz', 'corpus', 'diameter-message');
const files = readdirSync(dir).filter((f) => f.endsWith('.hex')).sort();
const PARSERS = [parseUar, parseUaa, parseSar, parseSaa, parseLir, parseLia, parseMar, parseMaa, parseRtr, parseRta, parsePpr, parsePpa];

describe('fuzz corpus: diameter-message', () => {
  test('the corpus is not empty', () => assert.ok(files.length >= 5));
  for (const f of files) {
    test(`[R-CX-1] ${f}: a message or an ImsError`, () => {
      const b = Buffer.from(readFileSync(join(dir, f), 'utf8').trim(), 'hex');
      let m;
      try {
        m = decodeMessage(b);
      } catch (e) {
        assert.ok(e instanceof ImsError, `${f}: ${String(e)}`);
        return;
      }
      const once = encodeMessage(m);
      assert.deepEqual(encodeMessage(decodeMessage(once)), once);
      for (const p of PARSERS) {
        try {
          p(m);
        } catch (e) {
          assert.ok(e instanceof ImsError, `${f}: ${String(e)}`);
        }
      }
    });
  }
});
