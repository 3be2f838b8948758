import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ifNoneMatchMatches, isValidEtag } from './entity-tag.js';

describe('If-None-Match, weak comparison (RFC 9110 §13.1.2)', () => {
  const cases: [string | undefined, string | undefined, boolean][] = [
    ['"a", W/"b"', '"b"', true],
    ['*', '"b"', true],
    ['"a"', '"b"', false],
    [undefined, '"b"', false],
    ['"abc"', '"abc"', true],
    ['"x", W/"abc"', '"abc"', true],
    ['"x"', '"abc"', false],
    ['"abc"', 'W/"abc"', true],
    ['*', undefined, false],
  ];
  for (const [header, etag, expected] of cases) {
    it(`${String(header)} against ${String(etag)}`, () => assert.equal(ifNoneMatchMatches(header, etag), expected));
  }
});

describe('entity-tag syntax (RFC 9110 §8.8.3)', () => {
  const cases: [string, boolean][] = [['"abc"', true], ['W/"abc"', true], ['""', true], ['abc', false], ['"a"b"', false], ['w/"abc"', false]];
  for (const [tag, expected] of cases) it(tag, () => assert.equal(isValidEtag(tag), expected));
});
