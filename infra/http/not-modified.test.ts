import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isNotModified, type ConditionalFields } from './not-modified.js';

const MODIFIED = Date.parse('2026-01-01T00:00:00.500Z');

describe('304 Not Modified, RFC 9110 §13.2.2 precedence', () => {
  const cases: [string, ConditionalFields, string | undefined, number | undefined, boolean][] = [
    ['§13.1.2 If-None-Match matches', { 'if-none-match': '"abc"' }, '"abc"', MODIFIED, true],
    ['§13.1.2 If-None-Match differs', { 'if-none-match': '"x"' }, '"abc"', MODIFIED, false],
    ['§13.1.3 If-Modified-Since at the modification second', { 'if-modified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' }, '"abc"', MODIFIED, true],
    ['§13.1.3 If-Modified-Since before the modification', { 'if-modified-since': 'Wed, 31 Dec 2025 23:59:59 GMT' }, '"abc"', MODIFIED, false],
    ['§13.1.3 an invalid If-Modified-Since is ignored', { 'if-modified-since': '2026-01-01' }, '"abc"', MODIFIED, false],
    ['§13.1.3 no modification time: never 304', { 'if-modified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' }, '"abc"', undefined, false],
    ['§13.2.2 If-None-Match wins over a matching If-Modified-Since', { 'if-none-match': '"x"', 'if-modified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' }, '"abc"', MODIFIED, false],
    ['§13.2.2 If-None-Match wins over a failing If-Modified-Since', { 'if-none-match': '"abc"', 'if-modified-since': 'Wed, 31 Dec 2025 00:00:00 GMT' }, '"abc"', MODIFIED, true],
    ['no conditionals', {}, '"abc"', MODIFIED, false],
  ];
  for (const [name, fields, etag, lastModified, expected] of cases) {
    it(name, () => assert.equal(isNotModified(fields, etag, lastModified), expected));
  }
});
