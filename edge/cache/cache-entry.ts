import { originStatusFault } from '../../infra/http/upstream-fault.js';
import { freshnessPolicy, initialAge, type EntryTiming, type ResponseHeaders } from './freshness.js';
import { forwardedHeaderBlock, replayableHeaders, replayedDate } from './replayed-headers.js';
import type { StoredValidators } from './validators.js';

/** The request fields a stored response varies on (lower-case names) and what the request sent for them, normalised (variants.ts). */
export interface VariedFields {
  readonly names: readonly string[];
  readonly values: readonly (string | undefined)[];
}

/** A complete, verified final response held in the cache (a 200, or another storable status). */
export interface CacheEntry extends EntryTiming {
  readonly key: string;
  readonly status: number;
  readonly body: Buffer;
  readonly etag: string | undefined;
  /** Origin headers worth replaying (lower-case names), kept to merge a later 304 into. */
  readonly storedHeaders: Readonly<Record<string, string>>;
  /** The stored response's Date, replayed on every hit (RFC 9111 §4, RFC 9110 §6.6.1). */
  readonly date: string;
  /**
   * The header block every response from this entry starts with, flat `[name, value, …]` as
   * `writeHead` takes it: stored headers, Content-Length, Accept-Ranges and the edge's own headers.
   * Built once per entry so a hit allocates almost nothing.
   */
  readonly headerBlock: readonly string[];
  /** Set when the response varies (RFC 9111 §4.1): it is served only to requests matching these values. */
  readonly varied?: VariedFields;
}

/** The stored response's validators, for revalidation (RFC 9111 §4.3). */
export function validatorsOf(entry: CacheEntry): StoredValidators {
  return { etag: entry.etag, lastModified: entry.storedHeaders['last-modified'] };
}

/** Bytes an entry holds beyond its body (key, header strings, bookkeeping), for the byte bound. */
export function entrySize(entry: CacheEntry): number {
  let size = 256 + entry.key.length * 2 + entry.body.length;
  for (const item of entry.headerBlock) size += item.length * 2 + 16;
  for (const item of [...(entry.varied?.names ?? []), ...(entry.varied?.values ?? [])]) size += (item?.length ?? 0) * 2 + 16;
  return size;
}

export interface EntryInput {
  readonly key: string;
  /** Default 200. */
  readonly status?: number;
  readonly headers: ResponseHeaders;
  readonly body: Buffer;
  /** Lifetime in seconds of a 404/410 the origin gave no freshness (negative caching); default 0. */
  readonly negativeTtl?: number;
  /** Epoch ms when the request went to the origin and when its response headers arrived. */
  readonly requestTime: number;
  readonly responseTime: number;
  /** Headers the edge adds to every response (X-Served-By, CORS), flat. */
  readonly commonHeaders: readonly string[];
  /** The request fields the response varies on and their values (variants.ts recordVaried). */
  readonly varied?: VariedFields;
}

function buildHeaderBlock(status: number, stored: Readonly<Record<string, string>>, date: string, bodyLength: number, commonHeaders: readonly string[]): string[] {
  const block = forwardedHeaderBlock(stored);
  block.push('date', date);
  // A 204 carries no Content-Length (RFC 9110 §8.6); ranges are cut from 200s only.
  if (status !== 204) block.push('content-length', String(bodyLength));
  if (status === 200) block.push('accept-ranges', 'bytes');
  block.push(...originStatusFault(status), ...commonHeaders);
  return block;
}

export function createCacheEntry(input: EntryInput): CacheEntry {
  const storedHeaders = replayableHeaders(input.headers);
  const etag = storedHeaders.etag;
  const date = replayedDate(input.headers, input.responseTime);
  const status = input.status ?? 200;
  return {
    key: input.key,
    status,
    body: input.body,
    etag,
    storedHeaders,
    date,
    headerBlock: buildHeaderBlock(status, storedHeaders, date, input.body.length, input.commonHeaders),
    responseTime: input.responseTime,
    initialAge: initialAge(input.headers, input.requestTime, input.responseTime),
    policy: freshnessPolicy(input.headers, input.responseTime, { status, negativeTtl: input.negativeTtl ?? 0 }),
    ...(input.varied ? { varied: input.varied } : {}),
  };
}

/**
 * RFC 9111 §4.3.4: a 304 freshens the stored response. Its header fields replace the stored ones
 * (Cache-Control, Expires, ETag…), the body stays, and the freshness clock restarts.
 */
export function refreshCacheEntry(
  entry: CacheEntry,
  notModifiedHeaders: ResponseHeaders,
  requestTime: number,
  responseTime: number,
  commonHeaders: readonly string[],
  negativeTtl: number,
): CacheEntry {
  const merged: Record<string, string> = { ...entry.storedHeaders, ...replayableHeaders(notModifiedHeaders) };
  const timingHeaders: ResponseHeaders = { ...merged, date: notModifiedHeaders.date, age: notModifiedHeaders.age };
  const date = replayedDate(notModifiedHeaders, responseTime);
  return {
    ...entry,
    etag: merged.etag,
    storedHeaders: merged,
    date,
    headerBlock: buildHeaderBlock(entry.status, merged, date, entry.body.length, commonHeaders),
    responseTime,
    initialAge: initialAge(notModifiedHeaders, requestTime, responseTime),
    policy: freshnessPolicy(timingHeaders, responseTime, { status: entry.status, negativeTtl }),
  };
}

/** Copies a body out of pooled/sliced chunks into one exactly sized buffer the cache can own. */
export function ownBody(chunks: readonly Buffer[], length: number): Buffer {
  // allocUnsafeSlow: a small body must not pin a shared 8 KB pool slab for as long as it is cached.
  const body = Buffer.allocUnsafeSlow(length);
  let offset = 0;
  for (const chunk of chunks) offset += chunk.copy(body, offset);
  return body;
}
