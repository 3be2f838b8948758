// RFC 9111 §3.3–3.4 partial content: a 206 answering a range the edge forwarded, or a 200 whose
// body was cut short, is kept as an incomplete response — byte ranges of one representation, named
// by its strong validator and complete length — that can answer later ranges lying wholly inside
// what it holds, and is never served as the whole object. Ranges of the same representation (same
// strong ETag, same length, same variant) are combined; once they cover every byte they become an
// ordinary complete entry. Anything else replaces what was held. Pure functions over the store,
// like variants.ts.
import { isValidEtag } from '../../infra/http/entity-tag.js';
import type { ByteRange } from '../../infra/http/byte-range.js';
import type { CacheEntry, VariedFields } from './cache-entry.js';
import type { CacheStore } from './cache-store.js';
import { freshnessPolicy, initialAge, type EntryTiming, type ResponseHeaders } from './freshness.js';
import { replayableHeaders, replayedDate } from './replayed-headers.js';

/** Bytes `start …` of the representation, as received. */
export interface PartialPart {
  readonly start: number;
  readonly body: Buffer;
}

/** An incomplete stored response: some byte ranges of one 200 representation. */
export interface PartialEntry extends EntryTiming {
  readonly kind: 'partial';
  readonly key: string;
  /** The strong entity-tag every part was sent with. */
  readonly etag: string;
  /** The representation's length in bytes (Content-Range's complete-length, or the 200's Content-Length). */
  readonly completeLength: number;
  /** Sorted by start, neither overlapping nor touching (touching parts are merged). */
  readonly parts: readonly PartialPart[];
  /** The newest response's fields as received (Content-Range and Content-Length aside), for the 200 it may become. */
  readonly headers: ResponseHeaders;
  /** Replayable fields (lower-case) and the Date replayed with a range served from the parts. */
  readonly storedHeaders: Readonly<Record<string, string>>;
  readonly date: string;
  readonly requestTime: number;
  readonly varied?: VariedFields;
}

/** A strong entity-tag (RFC 9110 §8.8.1): only these let ranges of one representation be combined (§3.4). */
export function isStrongEtag(etag: string | undefined): etag is string {
  return etag !== undefined && !etag.startsWith('W/') && isValidEtag(etag);
}

export interface PartInput {
  readonly key: string;
  readonly headers: ResponseHeaders;
  readonly start: number;
  readonly body: Buffer;
  readonly completeLength: number;
  readonly requestTime: number;
  readonly responseTime: number;
  /** Lifetime of a response without freshness of its own (only 404/410 have one; kept for symmetry with entries). */
  readonly negativeTtl?: number;
  readonly varied?: VariedFields;
}

/**
 * A one-part partial entry, or undefined when the response cannot be kept as one (§3.3): no strong
 * validator to combine by, no bytes, or bytes outside the representation.
 */
export function createPartialEntry(input: PartInput): PartialEntry | undefined {
  const etag = typeof input.headers.etag === 'string' ? input.headers.etag : undefined;
  if (!isStrongEtag(etag)) return undefined;
  if (input.body.length === 0 || input.start < 0 || input.start + input.body.length > input.completeLength) return undefined;
  // Kept as the headers of the 200 the parts belong to (§3.3: "as if it were an incomplete 200").
  const { 'content-range': _range, 'content-length': _length, ...headers } = input.headers;
  return {
    kind: 'partial',
    key: input.key,
    etag,
    completeLength: input.completeLength,
    parts: [{ start: input.start, body: input.body }],
    headers,
    storedHeaders: replayableHeaders(headers),
    date: replayedDate(headers, input.responseTime),
    requestTime: input.requestTime,
    responseTime: input.responseTime,
    initialAge: initialAge(headers, input.requestTime, input.responseTime),
    policy: freshnessPolicy(headers, input.responseTime, { status: 200, negativeTtl: input.negativeTtl ?? 0 }),
    ...(input.varied ? { varied: input.varied } : {}),
  };
}

/**
 * RFC 9111 §4.3.4: a 304 whose strong validator names the representation freshens the stored
 * ranges of it like a complete response: its fields replace the stored ones and the freshness
 * clock restarts; the bytes stay.
 */
export function refreshPartial(partial: PartialEntry, notModifiedHeaders: ResponseHeaders, requestTime: number, responseTime: number, negativeTtl = 0): PartialEntry {
  const headers: ResponseHeaders = { ...partial.headers, ...replayableHeaders(notModifiedHeaders), date: notModifiedHeaders.date, age: notModifiedHeaders.age };
  return {
    ...partial,
    headers,
    storedHeaders: replayableHeaders(headers),
    date: replayedDate(notModifiedHeaders, responseTime),
    requestTime,
    responseTime,
    initialAge: initialAge(notModifiedHeaders, requestTime, responseTime),
    policy: freshnessPolicy(headers, responseTime, { status: 200, negativeTtl }),
  };
}

function sameVaried(a: VariedFields | undefined, b: VariedFields | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.names.length === b.names.length && a.names.every((name, i) => name === b.names[i] && a.values[i] === b.values[i]);
}

/** §3.4: the stored and the new response are ranges of one representation. */
export function combinable(stored: PartialEntry, incoming: PartialEntry): boolean {
  return stored.etag === incoming.etag && stored.completeLength === incoming.completeLength && sameVaried(stored.varied, incoming.varied);
}

/** The union of sorted parts and one more; where they overlap the newer bytes are kept (they are equal under one strong validator). */
export function mergeParts(parts: readonly PartialPart[], part: PartialPart): PartialPart[] {
  let start = part.start;
  let end = part.start + part.body.length;
  const before: PartialPart[] = [];
  const after: PartialPart[] = [];
  const absorbed: PartialPart[] = [];
  for (const existing of parts) {
    const existingEnd = existing.start + existing.body.length;
    if (existingEnd < part.start) before.push(existing);
    else if (existing.start > part.start + part.body.length) after.push(existing);
    else {
      absorbed.push(existing);
      start = Math.min(start, existing.start);
      end = Math.max(end, existingEnd);
    }
  }
  if (absorbed.length === 0) return [...before, part, ...after];
  // allocUnsafeSlow: the merged part is owned by the cache and must not pin a shared pool slab.
  const body = Buffer.allocUnsafeSlow(end - start);
  for (const existing of absorbed) existing.body.copy(body, existing.start - start);
  part.body.copy(body, part.start - start);
  return [...before, { start, body }, ...after];
}

/** §3.4: the new response's parts joined to the stored ones, its header fields replacing theirs; or the new response alone. */
export function combinePartial(stored: PartialEntry | undefined, incoming: PartialEntry): PartialEntry {
  if (stored === undefined || !combinable(stored, incoming)) return incoming;
  return incoming.parts.reduce<PartialEntry>((entry, part) => ({ ...entry, parts: mergeParts(entry.parts, part) }), { ...incoming, parts: stored.parts });
}

/** The bytes of `range` when one stored part holds all of them (§3.3: only then may the partial answer). */
export function partialSlice(partial: PartialEntry, range: ByteRange): Buffer | undefined {
  for (const part of partial.parts) {
    if (part.start <= range.start && range.end < part.start + part.body.length) return part.body.subarray(range.start - part.start, range.end - part.start + 1);
  }
  return undefined;
}

/** The whole representation once the parts cover every byte, else undefined. */
export function completedBody(partial: PartialEntry): Buffer | undefined {
  const [only] = partial.parts;
  return partial.parts.length === 1 && only!.start === 0 && only!.body.length === partial.completeLength ? only!.body : undefined;
}

/** Bytes a partial entry holds, for the store's byte bound (bodies plus bookkeeping). */
export function partialSize(partial: PartialEntry): number {
  let size = 512 + partial.key.length * 2 + partial.parts.length * 64;
  for (const part of partial.parts) size += part.body.length;
  for (const [name, value] of Object.entries(partial.storedHeaders)) size += (name.length + value.length) * 2 + 32;
  return size;
}

export interface StorePartialOptions {
  /** Largest partial kept (sum of its parts); a combination past it keeps only the newest response's parts. */
  readonly maxBytes: number;
  /** Builds the complete entry from a partial whose parts cover every byte; undefined refuses it (a hash ETag that does not match). */
  readonly complete: (partial: PartialEntry, body: Buffer) => CacheEntry | undefined;
}

/** What storing a partial response did. */
export type PartialStored = 'combined' | 'replaced' | 'completed' | 'refused';

/**
 * Stores a partial response under `key`, combined with a partial already there when §3.4 allows. It
 * never displaces a complete response (or its variants): a range adds nothing to a whole object.
 */
export function storePartial(store: CacheStore<CacheEntry | PartialEntry | { readonly kind: 'variants' }>, key: string, incoming: PartialEntry, options: StorePartialOptions): PartialStored {
  const stored = store.peek(key);
  if (stored !== undefined && !('kind' in stored && stored.kind === 'partial')) return 'refused';
  const previous = stored as PartialEntry | undefined;
  let next = combinePartial(previous, incoming);
  if (next.parts.reduce((sum, part) => sum + part.body.length, 0) > options.maxBytes) next = incoming;
  const body = completedBody(next);
  if (body !== undefined) {
    const entry = options.complete(next, body);
    if (entry === undefined) {
      store.delete(key);
      return 'refused';
    }
    return store.set(key, entry) ? 'completed' : 'refused';
  }
  if (!store.set(key, next)) return 'refused';
  return previous !== undefined && next !== incoming ? 'combined' : 'replaced';
}
