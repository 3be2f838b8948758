/**
 * Where cached objects live. The store knows sizes and recency, nothing about HTTP: freshness is
 * decided by the caller (freshness.ts), so another store (shared memory, disk) can be dropped in.
 */
export interface CacheStore<V> {
  /** The value, marking it recently used. */
  get(key: string): V | undefined;
  /** The value, without touching recency (for prefetch and purge checks). */
  peek(key: string): V | undefined;
  has(key: string): boolean;
  /** Stores the value; false when it was refused (bigger than the store allows). */
  set(key: string, value: V): boolean;
  delete(key: string): boolean;
  /** Removes every key starting with `prefix`; returns how many were removed. */
  deleteByPrefix(prefix: string): number;
  /** Bytes currently accounted (bodies plus per-entry overhead). */
  readonly bytes: number;
  readonly count: number;
}
