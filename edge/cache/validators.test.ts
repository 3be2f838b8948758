import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResponseHeaders } from './freshness.js';
import { canRevalidate, notModifiedSelects, revalidationFields, storedModificationTime, type StoredValidators } from './validators.js';

const LM = 'Thu, 01 Jan 2026 00:00:00 GMT';

describe('revalidation fields (RFC 9111 §4.3.1)', () => {
  const cases: [string, StoredValidators, ReturnType<typeof revalidationFields>, boolean][] = [
    ['ETag and Last-Modified: both sent', { etag: '"a"', lastModified: LM }, { ifNoneMatch: '"a"', ifModifiedSince: LM }, true],
    ['Last-Modified only: still revalidated', { etag: undefined, lastModified: LM }, { ifModifiedSince: LM }, true],
    ['ETag only', { etag: '"a"', lastModified: undefined }, { ifNoneMatch: '"a"' }, true],
    ['an invalid Last-Modified is not sent', { etag: undefined, lastModified: 'yesterday' }, {}, false],
    ['no validator', { etag: undefined, lastModified: undefined }, {}, false],
  ];
  for (const [name, stored, fields, revalidates] of cases) {
    it(name, () => {
      assert.deepEqual(revalidationFields(stored), fields);
      assert.equal(canRevalidate(stored), revalidates);
    });
  }
});

describe('a 304 selects the stored response (RFC 9111 §4.3.4)', () => {
  const stored: StoredValidators = { etag: '"a"', lastModified: LM };
  const cases: [string, StoredValidators, ResponseHeaders, boolean][] = [
    ['same strong ETag', stored, { etag: '"a"' }, true],
    ['a different ETag: not this response', stored, { etag: '"b"' }, false],
    ['a weak ETag matching weakly', { etag: 'W/"a"', lastModified: undefined }, { etag: 'W/"a"' }, true],
    ['a weak ETag against a strong stored one with the same tag', stored, { etag: 'W/"a"' }, true],
    ['a strong ETag against a weak stored one', { etag: 'W/"a"', lastModified: undefined }, { etag: '"a"' }, false],
    ['an ETag when nothing stored has one', { etag: undefined, lastModified: LM }, { etag: '"a"' }, false],
    ['same Last-Modified, no ETag', stored, { 'last-modified': LM }, true],
    ['a different Last-Modified', stored, { 'last-modified': 'Fri, 02 Jan 2026 00:00:00 GMT' }, false],
    ['no validator in the 304: the response asked about', stored, { 'cache-control': 'max-age=60' }, true],
  ];
  for (const [name, validators, headers, expected] of cases) {
    it(name, () => assert.equal(notModifiedSelects(validators, headers), expected));
  }
});

describe('what If-Modified-Since compares with (RFC 9111 §4.3.2)', () => {
  it('the stored Last-Modified, else the stored Date', () => {
    assert.equal(storedModificationTime(LM, 'Sat, 03 Jan 2026 00:00:00 GMT'), Date.parse('2026-01-01T00:00:00Z'));
    assert.equal(storedModificationTime(undefined, 'Sat, 03 Jan 2026 00:00:00 GMT'), Date.parse('2026-01-03T00:00:00Z'));
    assert.equal(storedModificationTime('junk', 'junk'), undefined);
  });
});
