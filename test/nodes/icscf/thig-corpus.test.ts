import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { thigMessageContract, THIG_CORPUS_DIR } from './thig-contract.js';

describe('THIG fuzz corpus replay (test/fuzz/corpus/thig)', () => {
  test('[R-HIDE-1] every kept input: reveal returns or throws ThigError, hide→reveal is exact', () => {
    const files = readdirSync(THIG_CORPUS_DIR).filter((f) => f.endsWith('.sip'));
    assert.ok(files.length >= 5);
    for (const f of files) thigMessageContract(readFileSync(join(THIG_CORPUS_DIR, f), 'latin1'));
  });
});
