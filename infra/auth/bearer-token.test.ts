import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkBearer, readBearerTokenFile } from './bearer-token.js';

describe('bearer token', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'bearer-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads one word of at least 16 characters from a file, and refuses anything else naming the flag', async () => {
    await writeFile(join(dir, 'good'), 'abcdefghijklmnop1234\n');
    await writeFile(join(dir, 'short'), 'short\n');
    await writeFile(join(dir, 'two'), 'abcdefghijklmnop 1234567890abcdef\n');
    assert.equal(readBearerTokenFile('--metrics-token-file', join(dir, 'good')), 'abcdefghijklmnop1234');
    assert.equal(readBearerTokenFile('--metrics-token-file', undefined), undefined);
    for (const name of ['short', 'two', 'missing']) assert.throws(() => readBearerTokenFile('--metrics-token-file', join(dir, name)), /^OptionError: --metrics-token-file: /);
  });

  it('tells a missing token from a wrong one', () => {
    const token = 'abcdefghijklmnop1234';
    assert.equal(checkBearer(undefined, token), 'missing');
    assert.equal(checkBearer(`Basic ${token}`, token), 'missing');
    assert.equal(checkBearer('Bearer abcdefghijklmnop123', token), 'wrong');
    assert.equal(checkBearer(`bearer ${token}`, token), 'ok');
  });
});
