import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCacheEntry, entrySize, type CacheEntry } from './cache-entry.js';
import { createMemoryStore } from './memory-store.js';
import {
  forgetResponse,
  MAX_VARIANTS,
  normalizeFieldValue,
  recordVaried,
  selectVariant,
  storeResponse,
  storedSize,
  variantMatches,
  varyNames,
  withVariant,
  type RequestFields,
  type StoredResponse,
} from './variants.js';

const entry = (names: readonly string[] | undefined, fields: RequestFields = {}, body = 'x'): CacheEntry =>
  createCacheEntry({
    key: '/k',
    headers: { 'cache-control': 'max-age=60' },
    body: Buffer.from(body),
    requestTime: 0,
    responseTime: 0,
    commonHeaders: [],
    ...(names ? { varied: recordVaried(names, fields) } : {}),
  });

describe('Vary field names (RFC 9110 §12.5.5)', () => {
  const cases: [string, string | string[] | undefined, string[]][] = [
    ['absent', undefined, []],
    ['one name, case folded', 'Accept-Language', ['accept-language']],
    ['a list with odd spacing', ' Accept-Encoding ,X-Tier,, ', ['accept-encoding', 'x-tier']],
    ['repeated fields', ['Accept', 'X-Tier'], ['accept', 'x-tier']],
    ['star', '*', ['*']],
  ];
  for (const [name, vary, expected] of cases) it(name, () => assert.deepEqual(varyNames(vary), expected));
});

describe('normalised field values (RFC 9111 §4.1)', () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ['absent stays absent', undefined, undefined],
    ['empty stays empty (not absent)', '', ''],
    ['trimmed', '  fr  ', 'fr'],
    ['whitespace collapsed', 'a   b\tc', 'a b c'],
    ['commas without spaces', 'gzip ,  br,deflate', 'gzip,br,deflate'],
  ];
  for (const [name, value, expected] of cases) it(name, () => assert.equal(normalizeFieldValue(value), expected));
});

describe('variant selection (RFC 9111 §4.1)', () => {
  const recorded = recordVaried(['accept-language', 'x-tier'], { 'accept-language': 'fr', 'x-tier': 'gold, silver' });
  const cases: [string, RequestFields, boolean][] = [
    ['same values', { 'accept-language': 'fr', 'x-tier': 'gold, silver' }, true],
    ['same after normalising', { 'accept-language': ' fr', 'x-tier': 'gold ,silver' }, true],
    ['one value differs', { 'accept-language': 'de', 'x-tier': 'gold, silver' }, false],
    ['a varied field absent', { 'x-tier': 'gold, silver' }, false],
    ['unrelated fields do not matter', { 'accept-language': 'fr', 'x-tier': 'gold,silver', 'user-agent': 'other' }, true],
  ];
  for (const [name, fields, matches] of cases) it(name, () => assert.equal(variantMatches(recorded, fields), matches));

  it('an absent field matches only an absent field', () => {
    const none = recordVaried(['accept-language'], {});
    assert.equal(variantMatches(none, {}), true);
    assert.equal(variantMatches(none, { 'accept-language': '' }), false);
  });

  it('Vary: * never matches', () => assert.equal(variantMatches(recordVaried(['*'], {}), {}), false));

  it('a response that does not vary is selected for anyone; a variant only with matching fields', () => {
    const plain = entry(undefined);
    assert.equal(selectVariant(plain, undefined), plain);
    const fr = entry(['accept-language'], { 'accept-language': 'fr' });
    const set = withVariant(undefined, fr);
    assert.equal(selectVariant(set, { 'accept-language': 'fr' }), fr);
    assert.equal(selectVariant(set, { 'accept-language': 'de' }), undefined);
    assert.equal(selectVariant(set, undefined), undefined, 'a caller without the request fields gets no variant');
  });
});

describe('variant sets', () => {
  const lang = (value: string, body = value): CacheEntry => entry(['accept-language'], { 'accept-language': value }, body);
  const entriesOf = (stored: StoredResponse | undefined): readonly CacheEntry[] => (stored && 'kind' in stored && stored.kind === 'variants' ? stored.entries : []);

  it('a new variant joins the others; one with the same values replaces its predecessor', () => {
    const fr = lang('fr');
    const de = lang('de');
    const fr2 = lang('fr', 'fr again');
    const set = withVariant(withVariant(withVariant(undefined, fr), de), fr2);
    assert.deepEqual(entriesOf(set), [de, fr2]);
  });

  it(`keeps at most ${MAX_VARIANTS} variants, the oldest pushed out`, () => {
    let stored: StoredResponse | undefined;
    const all = Array.from({ length: MAX_VARIANTS + 3 }, (_, i) => lang(`l${i}`));
    for (const variant of all) stored = withVariant(stored, variant);
    assert.deepEqual(entriesOf(stored), all.slice(3));
  });

  it('a response that does not vary replaces every variant, and a variant replaces it', () => {
    const plain = entry(undefined);
    assert.equal(withVariant(withVariant(undefined, lang('fr')), plain), plain);
    assert.equal(entriesOf(withVariant(plain, lang('fr'))).length, 1);
  });

  it('storeResponse and forgetResponse keep the other variants; a set too big gives up its oldest', () => {
    const store = createMemoryStore<StoredResponse>({ maxBytes: 1 << 20, maxEntryBytes: 3 * entrySize(lang('fr')), sizeOf: (stored) => storedSize(stored, entrySize) });
    const [fr, de, italian, es] = [lang('fr'), lang('de'), lang('it'), lang('es')];
    for (const variant of [fr, de, italian, es]) assert.equal(storeResponse(store, '/k', variant), true);
    assert.deepEqual(entriesOf(store.peek('/k')), [de, italian, es], 'the oldest made room');
    forgetResponse(store, '/k', italian);
    assert.deepEqual(entriesOf(store.peek('/k')), [de, es]);
    forgetResponse(store, '/k', de);
    forgetResponse(store, '/k', es);
    assert.equal(store.has('/k'), false, 'nothing left: the key goes');
  });
});
