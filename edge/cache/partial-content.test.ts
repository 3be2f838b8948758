import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCacheEntry, type CacheEntry } from './cache-entry.js';
import { createMemoryStore } from './memory-store.js';
import { combinePartial, completedBody, createPartialEntry, refreshPartial, isStrongEtag, mergeParts, partialSize, partialSlice, storePartial, type PartialEntry, type PartInput } from './partial-content.js';
import { selectVariant, storedSize, type StoredResponse } from './variants.js';
import { entrySize } from './cache-entry.js';

const OBJECT = Buffer.from('0123456789abcdefghij'); // 20 bytes
const now = Date.now();

function part(start: number, end: number, extra: Partial<PartInput> = {}, headers: Record<string, string> = {}): PartialEntry {
  const partial = createPartialEntry({
    key: '/o',
    headers: { etag: '"v1"', 'cache-control': 'max-age=60', 'content-range': `bytes ${start}-${end}/20`, 'content-length': String(end - start + 1), ...headers },
    start,
    body: OBJECT.subarray(start, end + 1),
    completeLength: OBJECT.length,
    requestTime: now,
    responseTime: now,
    ...extra,
  });
  assert.ok(partial);
  return partial;
}

describe('partial content (RFC 9111 §3.3–3.4)', () => {
  it('§3.4: only a strong entity-tag can name the representation ranges are combined under', () => {
    assert.equal(isStrongEtag('"abc"'), true);
    assert.equal(isStrongEtag('W/"abc"'), false);
    assert.equal(isStrongEtag('abc'), false);
    assert.equal(isStrongEtag(undefined), false);
    const base = { key: '/o', start: 0, body: OBJECT.subarray(0, 5), completeLength: 20, requestTime: now, responseTime: now };
    assert.equal(createPartialEntry({ ...base, headers: { etag: 'W/"v1"' } }), undefined, 'a weak validator');
    assert.equal(createPartialEntry({ ...base, headers: {} }), undefined, 'no validator');
    assert.equal(createPartialEntry({ ...base, start: 18, headers: { etag: '"v1"' } }), undefined, 'bytes past the complete length');
    assert.equal(createPartialEntry({ ...base, body: Buffer.alloc(0), headers: { etag: '"v1"' } }), undefined, 'no bytes');
  });

  it('§3.3: kept as the 200 it is a range of — Content-Range and Content-Length are not its header fields', () => {
    const partial = part(0, 4);
    assert.equal(partial.headers['content-range'], undefined);
    assert.equal(partial.headers['content-length'], undefined);
    assert.equal(partial.storedHeaders['cache-control'], 'max-age=60');
    assert.equal(partial.policy.lifetime, 60);
  });

  it('merges overlapping and touching parts, keeps apart ones sorted', () => {
    const a = { start: 0, body: OBJECT.subarray(0, 5) };
    const b = { start: 10, body: OBJECT.subarray(10, 12) };
    assert.deepEqual(mergeParts([a], b).map((p) => [p.start, p.body.toString()]), [[0, '01234'], [10, 'ab']]);
    assert.deepEqual(mergeParts([b], a).map((p) => [p.start, p.body.toString()]), [[0, '01234'], [10, 'ab']]);
    // Touching (5 follows 0-4) and overlapping (3-11 spans both) parts become one.
    assert.deepEqual(mergeParts([a, b], { start: 5, body: OBJECT.subarray(5, 10) }).map((p) => [p.start, p.body.toString()]), [[0, '0123456789ab']]);
    assert.deepEqual(mergeParts([a, b], { start: 3, body: OBJECT.subarray(3, 12) }).map((p) => [p.start, p.body.toString()]), [[0, '0123456789ab']]);
  });

  it('§3.4: ranges with the same strong validator, length and variant combine, the new header fields replacing the stored ones', () => {
    const combined = combinePartial(part(0, 4), part(8, 9, {}, { 'cache-control': 'max-age=120', 'x-new': '1' }));
    assert.deepEqual(combined.parts.map((p) => [p.start, p.body.toString()]), [[0, '01234'], [8, '89']]);
    assert.equal(combined.storedHeaders['cache-control'], 'max-age=120');
    assert.equal(combined.storedHeaders['x-new'], '1');
    assert.equal(combined.policy.lifetime, 120);
  });

  it('§3.4: a range of another representation (validator, length or variant) replaces what was held', () => {
    const other = part(8, 9, {}, { etag: '"v2"' });
    assert.equal(combinePartial(part(0, 4), other), other);
    const longer = part(8, 9, { completeLength: 30 });
    assert.equal(combinePartial(part(0, 4), longer), longer);
    const variant = part(8, 9, { varied: { names: ['accept-language'], values: ['fr'] } });
    assert.equal(combinePartial(part(0, 4, { varied: { names: ['accept-language'], values: ['en'] } }), variant), variant);
  });

  it('§3.3: answers only a range wholly inside one part', () => {
    const partial = combinePartial(part(0, 4), part(10, 14));
    assert.equal(partialSlice(partial, { start: 1, end: 3 })?.toString(), '123');
    assert.equal(partialSlice(partial, { start: 10, end: 14 })?.toString(), 'abcde');
    assert.equal(partialSlice(partial, { start: 3, end: 10 }), undefined, 'spans the hole');
    assert.equal(partialSlice(partial, { start: 4, end: 5 }), undefined, 'runs past a part');
  });

  it('§4.3.4: a 304 freshens the stored ranges — its fields replace the stored ones, the clock restarts, the bytes stay', () => {
    const stale = part(0, 9, { requestTime: now - 120_000, responseTime: now - 120_000 });
    const refreshed = refreshPartial(stale, { etag: '"v1"', 'cache-control': 'max-age=300', date: new Date(now).toUTCString() }, now, now);
    assert.equal(refreshed.policy.lifetime, 300);
    assert.equal(refreshed.responseTime, now);
    assert.equal(refreshed.storedHeaders['cache-control'], 'max-age=300');
    assert.equal(refreshed.parts, stale.parts);
    assert.equal(refreshed.etag, '"v1"');
  });

  it('is complete only when one part covers every byte', () => {
    assert.equal(completedBody(combinePartial(part(0, 9), part(11, 19))), undefined);
    assert.equal(completedBody(combinePartial(part(0, 9), part(10, 19)))?.toString(), OBJECT.toString());
  });

  it('counts every byte it holds against the store, and the store sizes it so', () => {
    const partial = combinePartial(part(0, 4), part(10, 14));
    assert.ok(partialSize(partial) >= 10);
    assert.equal(storedSize(partial, entrySize), partialSize(partial));
  });

  describe('storePartial', () => {
    const store = (): ReturnType<typeof createMemoryStore<StoredResponse>> =>
      createMemoryStore<StoredResponse>({ maxBytes: 1024 * 1024, maxEntryBytes: 64 * 1024, sizeOf: (stored) => storedSize(stored, entrySize) });
    const complete = (partial: PartialEntry, body: Buffer): CacheEntry =>
      createCacheEntry({ key: partial.key, headers: partial.headers, body, requestTime: partial.requestTime, responseTime: partial.responseTime, commonHeaders: [] });
    const options = { maxBytes: 1000, complete };

    it('replaces, combines, then completes into a whole entry that a request for the object selects', () => {
      const s = store();
      assert.equal(storePartial(s, '/o', part(0, 9), options), 'replaced');
      assert.equal(selectVariant(s.peek('/o')!, {}), undefined, 'an incomplete response is never the object');
      assert.equal(storePartial(s, '/o', part(15, 19), options), 'combined');
      assert.equal(storePartial(s, '/o', part(8, 16), options), 'completed');
      const whole = selectVariant(s.peek('/o')!, {});
      assert.equal(whole?.body.toString(), OBJECT.toString());
      assert.equal(whole?.status, 200);
    });

    it('never displaces a complete response', () => {
      const s = store();
      const entry = complete(part(0, 19), OBJECT);
      s.set('/o', entry);
      assert.equal(storePartial(s, '/o', part(0, 4), options), 'refused');
      assert.equal(s.peek('/o'), entry);
    });

    it('a combination past the size bound keeps only the newest response', () => {
      const s = store();
      storePartial(s, '/o', part(0, 4), { ...options, maxBytes: 8 });
      assert.equal(storePartial(s, '/o', part(10, 14), { ...options, maxBytes: 8 }), 'replaced');
      assert.deepEqual((s.peek('/o') as PartialEntry).parts.map((p) => p.start), [10]);
    });

    it('a completion the check refuses (a hash ETag that does not match) leaves nothing', () => {
      const s = store();
      storePartial(s, '/o', part(0, 9), options);
      assert.equal(storePartial(s, '/o', part(10, 19), { ...options, complete: () => undefined }), 'refused');
      assert.equal(s.peek('/o'), undefined);
    });
  });
});
