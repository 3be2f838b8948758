// The writer side of a coalesced fetch: one origin request per key, its head and body broadcast to
// every reader as they arrive, the body checked (Content-Length, ETag hash) and stored only if whole.
import { createCacheEntry, ownBody, refreshCacheEntry, type CacheEntry } from '../cache/cache-entry.js';
import { forwardedHeaderBlock, replayableHeaders } from '../cache/replayed-headers.js';
import { createEtagVerifier } from '../cache/etag-verifier.js';
import { freshnessPolicy, governingDirectives, notStorableReason, type NotStorableReason } from '../cache/freshness.js';
import type { Flight } from '../coalesce/flight-table.js';
import { EdgeError, upstreamError } from '../errors.js';
import { discardBody, type UpstreamResponse } from '../upstream/upstream-client.js';
import type { EdgeServices, FillHead } from './edge-services.js';

function integrityError(reason: string, message: string): EdgeError {
  return new EdgeError(message, { source: 'upstream', retryable: true, status: 502, reason });
}

/** Content-Length as a number, or undefined when absent; a malformed value is an upstream error. */
function declaredLength(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value.trim())) throw integrityError('bad-length', `origin sent an invalid Content-Length: ${String(value)}`);
  return Number(value);
}

/** Flattened headers a streamed response starts with (no Age / Cache-Status; added per reader). */
function streamHeaderBlock(services: EdgeServices, response: UpstreamResponse, contentLength: number | undefined): string[] {
  const block = forwardedHeaderBlock(replayableHeaders(response.headers));
  if (contentLength !== undefined) block.push('content-length', String(contentLength));
  if (response.status === 200) block.push('accept-ranges', 'bytes');
  block.push(...services.commonHeaders);
  return block;
}

/** The owning sibling worker first (cluster mode), the origin replicas if it cannot answer. */
async function fetchUpstream(services: EdgeServices, key: string, etag: string | undefined, viaSibling: boolean): Promise<UpstreamResponse> {
  const options = etag ? { ifNoneMatch: etag } : {};
  const sibling = viaSibling ? services.siblingFor(key) : undefined;
  if (sibling) {
    try {
      return await sibling.fetch(key, options);
    } catch (error) {
      services.logger.warn({ key, err: (error as Error).message }, 'sibling worker failed; asking the origin');
    }
  }
  return services.origins.fetch(key, options);
}

/**
 * Runs the origin fetch for a flight the caller just created as writer. Never throws: every ending
 * is a named flight outcome.
 */
export async function runOriginFill(services: EdgeServices, flight: Flight<FillHead>, stale: CacheEntry | undefined, viaSibling = true): Promise<void> {
  const key = flight.key;
  let response: UpstreamResponse;
  try {
    response = await fetchUpstream(services, key, stale?.etag, viaSibling);
  } catch (error) {
    const failure = upstreamError(error);
    // Logged once per fetch, however many viewers were waiting on it.
    services.logger.warn({ key, err: failure.message, reason: failure.reason, readers: flight.readers }, 'origin fetch failed');
    services.metrics.flightOutcomes.labels('transient-error').inc();
    flight.finish('transient-error', failure);
    return;
  }

  if (response.status === 304) {
    discardBody(response.body);
    if (!stale) {
      services.metrics.flightOutcomes.labels('transient-error').inc();
      flight.finish('transient-error', integrityError('unexpected-304', `origin ${response.replica} answered 304 to an unconditional request`));
      return;
    }
    const entry = refreshCacheEntry(stale, response.headers, response.requestTime, response.responseTime, services.commonHeaders);
    if (!flight.purged) services.store.set(key, entry);
    flight.publishHead({ kind: 'revalidated', entry });
    services.metrics.flightOutcomes.labels('done').inc();
    flight.finish('done');
    return;
  }

  let contentLength: number | undefined;
  try {
    contentLength = declaredLength(response.headers['content-length']);
  } catch (error) {
    discardBody(response.body);
    services.metrics.integrityFailures.labels('bad-length').inc();
    services.metrics.flightOutcomes.labels('transient-error').inc();
    flight.finish('transient-error', error as Error);
    return;
  }
  const { directives } = governingDirectives(response.headers);
  let notStored: NotStorableReason | undefined = notStorableReason(response.status, response.headers, directives);
  if (notStored === undefined && contentLength !== undefined && contentLength > services.maxObjectBytes) notStored = 'too-large';
  const etag = typeof response.headers.etag === 'string' ? response.headers.etag : undefined;
  flight.publishHead({
    kind: 'stream',
    status: response.status,
    headerBlock: streamHeaderBlock(services, response, contentLength),
    etag,
    contentLength,
    notStored,
    ttl: freshnessPolicy(response.headers, response.responseTime).lifetime,
    replica: response.replica,
    replacedStale: stale !== undefined,
  });
  // Only a complete 200 is worth sharing with later arrivals; anything else goes its own way.
  if (notStored !== undefined) flight.closeToNewReaders();

  await streamBody(services, flight, response, contentLength, etag, notStored);
}

function streamBody(
  services: EdgeServices,
  flight: Flight<FillHead>,
  response: UpstreamResponse,
  contentLength: number | undefined,
  etag: string | undefined,
  initiallyNotStored: NotStorableReason | undefined,
): Promise<void> {
  const { body } = response;
  let notStored = initiallyNotStored;
  // With a known length the body is copied straight into its final, exactly sized buffer, and
  // readers are sent views of it: one copy of the object in memory, not chunks plus a copy.
  const whole = notStored === undefined && contentLength !== undefined ? Buffer.allocUnsafeSlow(contentLength) : undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  // The ETag is checked only when it is a recognisable hash of the bytes, and only for full 200s.
  const verifier = response.status === 200 ? createEtagVerifier(etag) : undefined;
  // With an ETag to check, the final byte is held back until the hash matches: a reader whose body
  // then fails gets an aborted connection, never a complete-looking response with the wrong bytes.
  let held: Buffer | undefined;

  return new Promise<void>((resolve) => {
    let over = false;
    const fail = (reason: string, error: Error): void => {
      if (over) return;
      over = true;
      discardBody(body);
      services.metrics.integrityFailures.labels(reason).inc();
      services.metrics.flightOutcomes.labels('transient-error').inc();
      services.logger.warn({ key: flight.key, replica: response.replica, reason, err: error.message }, 'origin body rejected; not cached');
      flight.finish('transient-error', error);
      resolve();
    };
    const pauseIfCongested = (): void => {
      // Replayable bodies are bounded by the object limit; an unbounded stream-through follows
      // its slowest reader instead of buffering without limit.
      if (flight.joinable || !flight.congested()) return;
      body.pause();
      const retry = (): void => {
        if (over) return;
        if (flight.congested()) setTimeout(retry, 5).unref();
        else body.resume();
      };
      setTimeout(retry, 5).unref();
    };

    body.on('data', (chunk: Buffer) => {
      if (over) return;
      if (!flight.joinable && flight.readers === 0) {
        // A stream-through nobody is reading any more: stop pulling it from the origin.
        over = true;
        discardBody(body);
        services.metrics.flightOutcomes.labels('gave-up').inc();
        flight.finish('gave-up');
        resolve();
        return;
      }
      received += chunk.length;
      if (contentLength !== undefined && received > contentLength) {
        fail('length-mismatch', integrityError('length-mismatch', `origin ${response.replica} sent more than Content-Length ${contentLength}`));
        return;
      }
      verifier?.update(chunk);
      let piece = chunk;
      if (whole) {
        chunk.copy(whole, received - chunk.length);
        piece = whole.subarray(received - chunk.length, received);
      } else if (notStored === undefined) {
        if (received > services.maxObjectBytes) {
          notStored = 'too-large';
          chunks.length = 0;
          flight.closeToNewReaders();
        } else {
          chunks.push(chunk);
        }
      }
      if (verifier) {
        if (held) flight.publishChunk(held);
        if (piece.length > 1) flight.publishChunk(piece.subarray(0, -1));
        held = piece.subarray(-1);
      } else {
        flight.publishChunk(piece);
      }
      pauseIfCongested();
    });
    body.on('error', (error: Error) => fail('reset', upstreamError(error, response.replica)));
    body.on('close', () => fail('reset', integrityError('reset', `origin ${response.replica} closed the body early`)));
    body.on('end', () => {
      if (over) return;
      if (contentLength !== undefined && received !== contentLength) {
        fail('length-mismatch', integrityError('length-mismatch', `origin ${response.replica} sent ${received} of ${contentLength} bytes`));
        return;
      }
      if (verifier && !verifier.matches()) {
        fail('etag-mismatch', integrityError('etag-mismatch', `origin ${response.replica} body does not match its ETag ${etag}`));
        return;
      }
      over = true;
      if (held) flight.publishChunk(held);
      let outcome: 'done' | 'gave-up' = 'gave-up';
      if (notStored === undefined && !flight.purged) {
        const entry = createCacheEntry({
          key: flight.key,
          headers: response.headers,
          body: whole ?? ownBody(chunks, received),
          requestTime: response.requestTime,
          responseTime: response.responseTime,
          commonHeaders: services.commonHeaders,
        });
        if (services.store.set(flight.key, entry)) outcome = 'done';
      }
      services.metrics.flightOutcomes.labels(outcome).inc();
      flight.finish(outcome);
      resolve();
    });
  });
}
