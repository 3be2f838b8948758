import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { createEtagVerifier } from './etag-verifier.js';

describe('ETag', () => {
  const body = Buffer.from('segment bytes');
  const spellings: [string, string][] = [
    ['sha256 base64url (the origin’s)', `"${createHash('sha256').update(body).digest('base64url')}"`],
    ['sha256 hex', `"${createHash('sha256').update(body).digest('hex')}"`],
    ['md5 hex', `"${createHash('md5').update(body).digest('hex')}"`],
    ['sha256- prefixed base64', `"sha256-${createHash('sha256').update(body).digest('base64')}"`],
  ];
  for (const [name, etag] of spellings) {
    it(`verifies ${name}, streamed in pieces`, () => {
      const good = createEtagVerifier(etag)!;
      good.update(body.subarray(0, 4));
      good.update(body.subarray(4));
      assert.equal(good.matches(), true);
      const bad = createEtagVerifier(etag)!;
      bad.update(Buffer.from('other bytes'));
      assert.equal(bad.matches(), false);
    });
  }
  it('cannot check weak or opaque tags', () => {
    assert.equal(createEtagVerifier('W/"abc"'), undefined);
    assert.equal(createEtagVerifier('"v1"'), undefined);
    assert.equal(createEtagVerifier(undefined), undefined);
  });
});
