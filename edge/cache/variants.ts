// RFC 9111 §4.1 secondary keys: a response that varies is kept beside the other variants of its
// URL, each recording the normalised values of the request fields it varies on, and a request is
// served only a variant whose recorded values match its own. The variants of a URL are one stored
// value (a VariantSet) under the URL's primary key, so the byte-bounded LRU needs no index kept in
// step with it: evicting, replacing or purging the key takes every variant at once.
import type { CacheEntry, VariedFields } from './cache-entry.js';
import type { CacheStore } from './cache-store.js';
import { partialSize, type PartialEntry } from './partial-content.js';

export type { VariedFields } from './cache-entry.js';

/** Variants kept per URL; a new one pushes the oldest out, so cycling header values cannot grow memory. */
export const MAX_VARIANTS = 8;

/** The variants of one URL, oldest first; every entry has `varied`. */
export interface VariantSet {
  readonly kind: 'variants';
  readonly entries: readonly CacheEntry[];
}

/**
 * What the store holds under a primary key: one response, the variants of a response that varies,
 * or an incomplete response (partial-content.ts), which no request for the whole object selects.
 */
export type StoredResponse = CacheEntry | VariantSet | PartialEntry;

/** Request fields as forwarded to the origin, lower-case names. */
export type RequestFields = Readonly<Record<string, string | undefined>>;

/** Lower-case field names a Vary value lists (RFC 9110 §12.5.5). */
export function varyNames(vary: string | readonly string[] | undefined): string[] {
  if (vary === undefined) return [];
  const text = typeof vary === 'string' ? vary : vary.join(',');
  return text.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
}

/** A field value as compared for variant selection: trimmed, whitespace collapsed, list commas without spaces. */
export function normalizeFieldValue(value: string | undefined): string | undefined {
  return value?.replace(/\s*,\s*/g, ',').replace(/\s+/g, ' ').trim();
}

/** What a response that varies on `names` records of the request that fetched it. */
export function recordVaried(names: readonly string[], fields: RequestFields): VariedFields {
  return { names, values: names.map((name) => normalizeFieldValue(fields[name])) };
}

/** Whether a request's fields select a stored variant (RFC 9111 §4.1); `Vary: *` never matches. */
export function variantMatches(varied: VariedFields, fields: RequestFields): boolean {
  return varied.names.every((name, i) => name !== '*' && normalizeFieldValue(fields[name]) === varied.values[i]);
}

function sameVaried(a: VariedFields, b: VariedFields): boolean {
  return a.names.length === b.names.length && a.names.every((name, i) => name === b.names[i] && a.values[i] === b.values[i]);
}

/**
 * The stored response this request may be served: a response that does not vary, or the newest
 * variant matching `fields`. Without the request's fields (a caller that cannot tell variants
 * apart) no variant is selected.
 */
export function selectVariant(stored: StoredResponse, fields: RequestFields | undefined): CacheEntry | undefined {
  if (!('kind' in stored)) return stored;
  if (fields === undefined || stored.kind === 'partial') return undefined;
  for (let i = stored.entries.length - 1; i >= 0; i--) {
    const entry = stored.entries[i]!;
    if (entry.varied && variantMatches(entry.varied, fields)) return entry;
  }
  return undefined;
}

/**
 * What the key holds once `entry` is stored: a response that does not vary replaces everything; a
 * variant replaces the one recorded with the same values and joins the others, the oldest beyond
 * `max` dropped.
 */
export function withVariant(stored: StoredResponse | undefined, entry: CacheEntry, max = MAX_VARIANTS): StoredResponse {
  const varied = entry.varied;
  if (varied === undefined) return entry;
  const others = stored !== undefined && 'kind' in stored && stored.kind === 'variants' ? stored.entries.filter((other) => !sameVaried(other.varied!, varied)) : [];
  return { kind: 'variants', entries: [...others, entry].slice(-max) };
}

/** What the key holds once `entry` is no longer usable, or undefined when nothing is left. */
export function withoutVariant(stored: StoredResponse | undefined, entry: CacheEntry): StoredResponse | undefined {
  if (stored === undefined || stored === entry) return undefined;
  if (!('kind' in stored) || stored.kind === 'partial') return stored;
  const entries = stored.entries.filter((other) => other !== entry);
  return entries.length > 0 ? { kind: 'variants', entries } : undefined;
}

/** Bytes a stored value holds, given the size of one entry. */
export function storedSize(stored: StoredResponse, entrySize: (entry: CacheEntry) => number): number {
  if (!('kind' in stored)) return entrySize(stored);
  if (stored.kind === 'partial') return partialSize(stored);
  return stored.entries.reduce((sum, entry) => sum + entrySize(entry), 0);
}

/**
 * Stores `entry` under `key` beside the variants already there. A set too big for the store's
 * per-value bound gives up its oldest variants first. False when even the entry alone was refused.
 */
export function storeResponse(store: CacheStore<StoredResponse>, key: string, entry: CacheEntry): boolean {
  let next = withVariant(store.peek(key), entry);
  while (!store.set(key, next)) {
    if (!('kind' in next) || next.kind !== 'variants' || next.entries.length <= 1) return false;
    next = { kind: 'variants', entries: next.entries.slice(1) };
  }
  return true;
}

/** Removes one stored response (a variant, or the key's only response), keeping the other variants. */
export function forgetResponse(store: CacheStore<StoredResponse>, key: string, entry: CacheEntry): void {
  const stored = store.peek(key);
  if (stored === undefined) return;
  const next = withoutVariant(stored, entry);
  if (next === undefined) store.delete(key);
  else if (next !== stored) store.set(key, next);
}
