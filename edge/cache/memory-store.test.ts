import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStore } from './memory-store.js';

interface Blob {
  readonly body: Buffer;
}

const blob = (size: number): Blob => ({ body: Buffer.alloc(size) });

describe('memory store', () => {
  const make = (maxBytes: number, evicted: string[] = []) =>
    createMemoryStore<Blob>({ maxBytes, maxEntryBytes: maxBytes / 2, sizeOf: (value) => value.body.length, onEvict: (key) => evicted.push(key) });

  it('stays within its byte bound, evicting the least recently used', () => {
    const evicted: string[] = [];
    const store = make(10_000, evicted);
    for (let i = 0; i < 4; i++) assert.equal(store.set(`/k${i}`, blob(3000)), true);
    assert.ok(store.bytes <= 10_000);
    assert.deepEqual(evicted, ['/k0']);
    store.get('/k1'); // recently used now
    store.set('/k4', blob(3000));
    assert.deepEqual(evicted, ['/k0', '/k2']);
    assert.equal(store.has('/k1'), true);
    assert.equal(store.count, 3);
    assert.equal(store.bytes, 9000);
  });

  it('refuses an object above the entry limit without evicting others', () => {
    const evicted: string[] = [];
    const store = make(10_000, evicted);
    store.set('/small', blob(100));
    assert.equal(store.set('/huge', blob(6000)), false);
    assert.equal(store.has('/huge'), false);
    assert.equal(store.has('/small'), true);
    assert.deepEqual(evicted, []);
  });

  it('deletes by key and by prefix; replacing is not an eviction', () => {
    const evicted: string[] = [];
    const store = make(100_000, evicted);
    for (const key of ['/vod/a/1.ts', '/vod/a/2.ts', '/vod/b/1.ts']) store.set(key, blob(10));
    store.set('/vod/a/1.ts', blob(20));
    assert.equal(store.deleteByPrefix('/vod/a/'), 2);
    assert.equal(store.delete('/vod/b/1.ts'), true);
    assert.equal(store.delete('/vod/b/1.ts'), false);
    assert.equal(store.count, 0);
    assert.equal(store.bytes, 0);
    assert.deepEqual(evicted, []);
  });

  it('validates its options', () => {
    assert.throws(() => createMemoryStore<Blob>({ maxBytes: 0, maxEntryBytes: 1, sizeOf: () => 1 }), /maxBytes/);
    assert.throws(() => createMemoryStore<Blob>({ maxBytes: 10, maxEntryBytes: 11, sizeOf: () => 1 }), /maxEntryBytes/);
  });
});
