import { LRUCache } from 'lru-cache';
import type { CacheStore } from './cache-store.js';

export interface MemoryStoreOptions<V> {
  /** Upper bound of the store in bytes, as measured by `sizeOf`. */
  readonly maxBytes: number;
  /** Largest single value accepted; bigger ones are refused by set(). */
  readonly maxEntryBytes: number;
  readonly sizeOf: (value: V, key: string) => number;
  /** Called when the LRU pushes a value out to make room (not on delete or replace). */
  readonly onEvict?: (key: string, value: V) => void;
}

/** An in-memory LRU bounded in bytes (lru-cache's maxSize + sizeCalculation). */
export function createMemoryStore<V extends object>(options: MemoryStoreOptions<V>): CacheStore<V> {
  if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < 1) {
    throw new TypeError(`memory store: maxBytes must be a positive integer, got ${options.maxBytes}`);
  }
  if (!Number.isSafeInteger(options.maxEntryBytes) || options.maxEntryBytes < 1 || options.maxEntryBytes > options.maxBytes) {
    throw new TypeError(`memory store: maxEntryBytes must be 1..maxBytes (${options.maxBytes}), got ${options.maxEntryBytes}`);
  }
  if (typeof options.sizeOf !== 'function') throw new TypeError('memory store: sizeOf must be a function');
  const { onEvict } = options;
  const lru = new LRUCache<string, V>({
    maxSize: options.maxBytes,
    maxEntrySize: options.maxEntryBytes,
    // lru-cache needs a positive integer; a zero-byte body still costs its bookkeeping.
    sizeCalculation: (value, key) => Math.max(1, Math.ceil(options.sizeOf(value, key))),
    ...(onEvict ? { dispose: (value: V, key: string, reason: LRUCache.DisposeReason) => reason === 'evict' && onEvict(key, value) } : {}),
  });

  return {
    get: (key) => lru.get(key),
    peek: (key) => lru.peek(key),
    has: (key) => lru.has(key),
    set(key, value) {
      lru.set(key, value);
      return lru.peek(key) === value;
    },
    delete: (key) => lru.delete(key),
    deleteByPrefix(prefix) {
      const doomed: string[] = [];
      for (const key of lru.keys()) if (key.startsWith(prefix)) doomed.push(key);
      for (const key of doomed) lru.delete(key);
      return doomed.length;
    },
    get bytes() {
      return lru.calculatedSize;
    },
    get count() {
      return lru.size;
    },
  };
}
