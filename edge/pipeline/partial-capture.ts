// Keeping partial content on its way through (RFC 9111 §3.3–3.4): a 206 the origin sends for a range
// the edge forwarded is collected while it streams to the viewer and, once whole, stored as a range
// of its representation; a 200 cut short is kept as the bytes that did arrive. Either is combined
// with the ranges already held, and becomes an ordinary entry once every byte is there (checked
// against a hash ETag first).
import { parseContentRange } from '../../infra/http/byte-range.js';
import { createCacheEntry, ownBody, type CacheEntry } from '../cache/cache-entry.js';
import { createEtagVerifier } from '../cache/etag-verifier.js';
import { governingDirectives, notStorableReason, sharedDespiteAuthorization, type ResponseHeaders } from '../cache/freshness.js';
import { createPartialEntry, refreshPartial, storePartial, type PartialEntry, type PartialStored } from '../cache/partial-content.js';
import { notModifiedSelects } from '../cache/validators.js';
import { recordVaried, varyNames, type VariedFields } from '../cache/variants.js';
import type { UpstreamResponse } from '../upstream/upstream-client.js';
import type { EdgeServices } from './edge-services.js';

/** The whole object, once a partial holds every byte, if its hash ETag (when it has one) agrees. */
function completeEntry(services: EdgeServices, partial: PartialEntry, body: Buffer): CacheEntry | undefined {
  const verifier = createEtagVerifier(partial.etag);
  if (verifier) {
    verifier.update(body);
    if (!verifier.matches()) {
      services.metrics.integrityFailures.labels('etag-mismatch').inc();
      services.logger.warn({ key: partial.key, etag: partial.etag }, 'combined ranges do not match their ETag; dropped');
      return undefined;
    }
  }
  return createCacheEntry({
    key: partial.key,
    headers: partial.headers,
    body,
    negativeTtl: services.negativeTtl,
    requestTime: partial.requestTime,
    responseTime: partial.responseTime,
    commonHeaders: services.commonHeaders,
    ...(partial.varied ? { varied: partial.varied } : {}),
  });
}

/** Stores a partial response, combined with what the key holds (partial-content.ts), and counts what happened. */
export function keepPartial(services: EdgeServices, partial: PartialEntry): PartialStored {
  const result = storePartial(services.store, partial.key, partial, { maxBytes: services.maxObjectBytes, complete: (whole, body) => completeEntry(services, whole, body) });
  services.metrics.partialStores.labels(result).inc();
  return result;
}

/** Whether a response's own directives let a shared cache keep it (as a 200 would be kept, §3.3), with the request fields it varies on. */
function keepableAs200(headers: ResponseHeaders, forwarded: Readonly<Record<string, string>>): { ok: true; varied: VariedFields | undefined } | { ok: false } {
  const { directives, targeted } = governingDirectives(headers);
  if (notStorableReason(200, headers, directives, targeted) !== undefined) return { ok: false };
  if (forwarded.authorization !== undefined && !sharedDespiteAuthorization(directives)) return { ok: false };
  const vary = varyNames(headers.vary);
  return { ok: true, varied: vary.length > 0 ? recordVaried(vary, forwarded) : undefined };
}

/** What a relayed 206 is fed while it streams: its chunks, then its end (only a clean end keeps it). */
export interface PartialCapture {
  add(chunk: Buffer): void;
  end(): void;
}

/**
 * A collector for a 206 answering a forwarded range, or undefined when it cannot be kept: not a
 * single range of known length, no strong validator, larger than an object may be, not storable as
 * a 200, or the key already holds the whole object.
 */
export function capturePartial(services: EdgeServices, key: string, forwarded: Readonly<Record<string, string>>, response: UpstreamResponse): PartialCapture | undefined {
  if (response.status !== 206) return undefined;
  const range = parseContentRange(typeof response.headers['content-range'] === 'string' ? response.headers['content-range'] : undefined);
  if (!range) return undefined;
  const length = range.end - range.start + 1;
  if (length > services.maxObjectBytes) return undefined;
  const declared = response.headers['content-length'];
  if (declared !== undefined && declared !== String(length)) return undefined;
  const stored = services.store.peek(key);
  if (stored !== undefined && !('kind' in stored && stored.kind === 'partial')) return undefined;
  const keepable = keepableAs200(response.headers, forwarded);
  if (!keepable.ok) return undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  return {
    add(chunk) {
      received += chunk.length;
      if (received <= length) chunks.push(chunk);
      else chunks.length = 0;
    },
    end() {
      if (received !== length) return;
      const partial = createPartialEntry({
        key,
        headers: response.headers,
        start: range.start,
        body: ownBody(chunks, length),
        completeLength: range.completeLength,
        requestTime: response.requestTime,
        responseTime: response.responseTime,
        negativeTtl: services.negativeTtl,
        ...(keepable.varied ? { varied: keepable.varied } : {}),
      });
      if (partial) keepPartial(services, partial);
    },
  };
}

/**
 * §3.3: the bytes of a 200 that arrived before its body was cut, kept as an incomplete response
 * when the representation is named by a strong validator and its length is known. Never served
 * whole: only ranges inside them, until later ranges complete it.
 */
export function keepIncomplete(services: EdgeServices, key: string, response: UpstreamResponse, received: Buffer, contentLength: number, varied: VariedFields | undefined): void {
  if (response.status !== 200 || received.length === 0 || received.length >= contentLength) return;
  const stored = services.store.peek(key);
  if (stored !== undefined && !('kind' in stored && stored.kind === 'partial')) return;
  const partial = createPartialEntry({
    key,
    headers: response.headers,
    start: 0,
    body: ownBody([received], received.length),
    completeLength: contentLength,
    requestTime: response.requestTime,
    responseTime: response.responseTime,
    negativeTtl: services.negativeTtl,
    ...(varied ? { varied } : {}),
  });
  if (partial) keepPartial(services, partial);
}

/**
 * §4.3.4 for stored ranges: the origin's 304 to the edge's If-None-Match freshens them when its
 * validator selects them (undefined, and they are dropped, when it names another representation).
 */
export function freshenPartial(services: EdgeServices, partial: PartialEntry, notModified: UpstreamResponse): PartialEntry | undefined {
  const stillHeld = services.store.peek(partial.key) === partial;
  if (!notModifiedSelects({ etag: partial.etag, lastModified: partial.storedHeaders['last-modified'] }, notModified.headers)) {
    if (stillHeld) services.store.delete(partial.key);
    return undefined;
  }
  const refreshed = refreshPartial(partial, notModified.headers, notModified.requestTime, notModified.responseTime, services.negativeTtl);
  if (stillHeld) services.store.set(partial.key, refreshed);
  return refreshed;
}
