import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStructuredDictionary, parseCacheControl } from './cache-control.js';
import {
  currentAge, freshnessLifetime, freshnessPolicy, governingDirectives, initialAge, isFresh, isStale, isStorable, notStorableReason, sharedDespiteAuthorization,
  withinStaleIfError, withinStaleWhileRevalidate, type EntryTiming, type ResponseHeaders,
} from './freshness.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const date = (offsetSeconds: number): string => new Date(NOW + offsetSeconds * 1000).toUTCString();

describe('parseCacheControl', () => {
  const cases: [string, Record<string, string | true>][] = [
    ['max-age=60', { 'max-age': '60' }],
    ['Public, MAX-AGE=60 , immutable', { public: true, 'max-age': '60', immutable: true }],
    ['private="set-cookie, x", max-age=5', { private: 'set-cookie, x', 'max-age': '5' }],
    ['max-age=1, max-age=999', { 'max-age': '1' }],
    [' , no-store,, ', { 'no-store': true }],
    ['', {}],
  ];
  for (const [field, expected] of cases) {
    it(JSON.stringify(field), () => assert.deepEqual(Object.fromEntries(parseCacheControl(field)), expected));
  }
});

describe('CDN-Cache-Control must parse as a Dictionary (RFC 9213 §2.1, RFC 8941 §3.2)', () => {
  const cases: [string, boolean][] = [
    ['max-age=60', true],
    ['max-age=60, stale-while-revalidate=30', true],
    ['no-store', true],
    ['private="set-cookie"', true],
    ['max-age=60;a=1, x=?1, y=:aGk=:, z=1.5, w=(a b), t=tok/x', true],
    ['  max-age=60  ', true],
    ['Max-Age=60', false],
    ['max-age=60s', false],
    ['max-age=60,', false],
    ['max-age=60,,public', false],
    ['max-age=', false],
    ['max-age="60', false],
    ['', false],
  ];
  for (const [value, valid] of cases) it(`${JSON.stringify(value)}: ${valid ? 'valid' : 'invalid'}`, () => assert.equal(isStructuredDictionary(value), valid));

  it('an invalid CDN-Cache-Control is ignored: Cache-Control governs', () => {
    assert.deepEqual(governingDirectives({ 'cache-control': 'max-age=5', 'cdn-cache-control': 'Max-Age=600' }), { directives: parseCacheControl('max-age=5'), targeted: false });
    assert.deepEqual(governingDirectives({ 'cache-control': 'max-age=5', 'cdn-cache-control': 'max-age=600' }), { directives: parseCacheControl('max-age=600'), targeted: true });
  });
});

describe('notStorableReason (RFC 9111 §3, shared cache)', () => {
  const cases: [string, number, ResponseHeaders, string | undefined][] = [
    ['200 with max-age', 200, { 'cache-control': 'max-age=60' }, undefined],
    ['no-store', 200, { 'cache-control': 'no-store' }, 'no-store'],
    ['private', 200, { 'cache-control': 'private, max-age=60' }, 'private'],
    ['Set-Cookie', 200, { 'cache-control': 'max-age=60', 'set-cookie': 'a=b' }, 'set-cookie'],
    ['Vary: *', 200, { vary: '*' }, 'vary'],
    ['§3: a 404 with explicit max-age is stored', 404, { 'cache-control': 'max-age=60' }, undefined],
    ['§3: a heuristically cacheable 301 without freshness is stored', 301, {}, undefined],
    ['§3: a heuristically cacheable 410 without freshness is stored', 410, {}, undefined],
    ['§3: a 302 without explicit freshness is not', 302, {}, 'status'],
    ['§3: a 302 with max-age is stored', 302, { 'cache-control': 'max-age=60' }, undefined],
    ['§3: a 307 marked public is stored', 307, { 'cache-control': 'public' }, undefined],
    ['§3: a 503 with Expires is stored', 503, { expires: 'Thu, 01 Jan 2026 00:01:00 GMT' }, undefined],
    ['§3: a 500 without explicit freshness is not', 500, {}, 'status'],
    ['§3: Expires does not count when CDN-Cache-Control governs', 302, { expires: 'Thu, 01 Jan 2026 00:01:00 GMT', 'cdn-cache-control': 'no-transform' }, 'status'],
    ['§3: a 304 is never stored', 304, { 'cache-control': 'max-age=60' }, 'status'],
    ['§3: an interim 103 is never stored', 103, { 'cache-control': 'max-age=60' }, 'status'],
    ['§5.2.2.3: must-understand with a status not understood', 206, { 'cache-control': 'max-age=60, must-understand' }, 'status'],
    ['§5.2.2.3: must-understand with an understood status', 200, { 'cache-control': 'max-age=60, must-understand' }, undefined],
    ['206', 206, {}, 'status'],
    ['CDN-Cache-Control overrides no-store', 200, { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60' }, undefined],
    ['CDN-Cache-Control no-store wins over public', 200, { 'cache-control': 'public, max-age=60', 'cdn-cache-control': 'no-store' }, 'no-store'],
  ];
  for (const [name, status, headers, expected] of cases) {
    it(name, () => {
      const { directives, targeted } = governingDirectives(headers);
      assert.equal(notStorableReason(status, headers, directives, targeted), expected);
      assert.equal(isStorable(status, headers, directives, targeted), expected === undefined);
    });
  }
});

describe('sharedDespiteAuthorization (RFC 9111 §3.5)', () => {
  const cases: [string, boolean][] = [
    ['max-age=60', false],
    ['private, max-age=60', false],
    ['public, max-age=60', true],
    ['s-maxage=60', true],
    ['max-age=60, must-revalidate', true],
  ];
  for (const [field, expected] of cases) {
    it(`Cache-Control: ${field} → ${expected ? 'may be shared' : 'kept for the requester'}`, () =>
      assert.equal(sharedDespiteAuthorization(governingDirectives({ 'cache-control': field }).directives), expected));
  }
});

describe('freshnessLifetime (RFC 9111 §4.2.1)', () => {
  const cases: [string, ResponseHeaders, number][] = [
    ['s-maxage beats max-age', { 'cache-control': 'max-age=10, s-maxage=20' }, 20],
    ['max-age', { 'cache-control': 'max-age=10' }, 10],
    ['max-age beats Expires', { 'cache-control': 'max-age=10', date: date(0), expires: date(100) }, 10],
    ['Expires − Date', { date: date(0), expires: date(100) }, 100],
    ['Expires in the past', { date: date(0), expires: date(-100) }, 0],
    ['invalid Expires means expired', { expires: '0' }, 0],
    ['§5.3: an ISO 8601 Expires is invalid, so already expired', { date: date(0), expires: new Date(NOW + 100_000).toISOString() }, 0],
    ['§5.3: an obsolete RFC 850 Expires is honoured', { date: date(0), expires: 'Thursday, 01-Jan-26 00:01:40 GMT' }, 100],
    ['§5.3: an asctime Expires is honoured', { date: date(0), expires: 'Thu Jan  1 00:01:40 2026' }, 100],
    ['§4.2.1: an invalid Date is ignored (receipt time used)', { date: 'yesterday', expires: date(100) }, 100],
    ['invalid max-age means stale', { 'cache-control': 'max-age=ten' }, 0],
    ['heuristic: 10% since Last-Modified', { date: date(0), 'last-modified': date(-1000) }, 100],
    ['heuristic capped at a day', { date: date(0), 'last-modified': date(-100 * 86400) }, 86400],
    ['nothing: 0', {}, 0],
    ['CDN-Cache-Control max-age', { 'cache-control': 'max-age=5', 'cdn-cache-control': 'max-age=50' }, 50],
    ['CDN-Cache-Control ignores Expires', { 'cdn-cache-control': 'public', date: date(0), expires: date(100) }, 0],
  ];
  for (const [name, headers, expected] of cases) {
    it(name, () => {
      const { directives, targeted } = governingDirectives(headers);
      assert.equal(freshnessLifetime(headers, directives, targeted, NOW), expected);
    });
  }
});

describe('freshness lifetime by status (RFC 9111 §4.2.2 heuristics, negative caching)', () => {
  const cases: [string, number, ResponseHeaders, number][] = [
    ['a 404 without freshness gets the negative TTL', 404, {}, 5],
    ['a 410 without freshness gets the negative TTL', 410, { date: date(0), 'last-modified': date(-1000) }, 5],
    ['a 404 with max-age keeps the origin\'s TTL', 404, { 'cache-control': 'max-age=60' }, 60],
    ['a 404 with max-age=0 is not reused', 404, { 'cache-control': 'max-age=0' }, 0],
    ['a 200 without freshness gets no negative TTL', 200, {}, 0],
    ['a 301 may use the Last-Modified heuristic', 301, { date: date(0), 'last-modified': date(-1000) }, 100],
    ['a 302 marked public uses no heuristic without Last-Modified', 302, { 'cache-control': 'public' }, 0],
    ['a 302 with max-age', 302, { 'cache-control': 'max-age=30' }, 30],
  ];
  for (const [name, status, headers, expected] of cases) {
    it(name, () => assert.equal(freshnessPolicy(headers, NOW, { status, negativeTtl: 5 }).lifetime, expected));
  }
});

describe('initialAge (RFC 9111 §4.2.3)', () => {
  it('takes the larger of the Age header (plus response delay) and the apparent age', () => {
    assert.equal(initialAge({ age: '30', date: date(0) }, NOW, NOW), 30);
    assert.equal(initialAge({ date: date(-40) }, NOW, NOW), 40);
    assert.equal(initialAge({ age: '5' }, NOW - 2000, NOW), 7);
    assert.equal(initialAge({ age: 'bogus', date: date(10) }, NOW, NOW), 0);
  });
});

describe('freshness decisions', () => {
  const timing = (cacheControl: string, ageAtStore = 0): EntryTiming => ({
    responseTime: NOW,
    initialAge: ageAtStore,
    policy: freshnessPolicy({ 'cache-control': cacheControl }, NOW),
  });
  const at = (seconds: number): number => NOW + seconds * 1000;
  const cases: [string, EntryTiming, number, { fresh: boolean; swr: boolean; sie: boolean }][] = [
    ['fresh inside max-age', timing('max-age=10'), 5, { fresh: true, swr: false, sie: false }],
    ['stale after max-age', timing('max-age=10'), 11, { fresh: false, swr: false, sie: false }],
    ['Age counts against max-age', timing('max-age=10', 8), 3, { fresh: false, swr: false, sie: false }],
    ['inside stale-while-revalidate', timing('max-age=10, stale-while-revalidate=5'), 12, { fresh: false, swr: true, sie: false }],
    ['past stale-while-revalidate', timing('max-age=10, stale-while-revalidate=5'), 16, { fresh: false, swr: false, sie: false }],
    ['inside stale-if-error', timing('max-age=10, stale-if-error=60'), 30, { fresh: false, swr: false, sie: true }],
    ['must-revalidate forbids stale', timing('max-age=10, must-revalidate, stale-if-error=60, stale-while-revalidate=60'), 12, { fresh: false, swr: false, sie: false }],
    ['no-cache: always revalidate', timing('no-cache, max-age=60'), 1, { fresh: false, swr: false, sie: false }],
    ['immutable segment', timing('public, max-age=31536000, immutable'), 86400, { fresh: true, swr: false, sie: false }],
  ];
  for (const [name, entry, seconds, expected] of cases) {
    it(name, () => {
      assert.equal(isFresh(entry, at(seconds)), expected.fresh);
      assert.equal(isStale(entry, at(seconds)), !expected.fresh);
      assert.equal(withinStaleWhileRevalidate(entry, at(seconds)), expected.swr);
      assert.equal(withinStaleIfError(entry, at(seconds)), expected.sie);
    });
  }
  it('currentAge grows with resident time', () => {
    assert.equal(currentAge(timing('max-age=10', 3), at(4)), 7);
  });
});
