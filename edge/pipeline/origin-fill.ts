// The fill phase: every road from a request to the origin, and a coalesced fetch ("flight") end to
// end. The writer makes one origin request per key, broadcasts its head and body to every reader as
// they arrive, checks the body (Content-Length, ETag hash) and stores it only if whole; each reader
// streams the flight to its viewer, or falls back to a fetch of its own (pass-through) or to a
// stale entry (stale-if-error). A body that fails its ETag check ejects the replica it came from and
// is fetched again from the next one, within the same flight (readers not yet answered get the good
// object). A body cut short, and a 206 a pass-through relays, may be kept as partial content
// (partial-capture.ts). Unsafe methods take a road of their own: streamed through, never stored,
// invalidating what the cache holds for the URL.
import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { isPlaylistPath } from '../../infra/hls/child-uri-query.js';
import { isNotModified } from '../../infra/http/not-modified.js';
import { originStatusFault, UPSTREAM_FAULT_HEADER } from '../../infra/http/upstream-fault.js';
import { createCacheEntry, ownBody, refreshCacheEntry, validatorsOf, type CacheEntry } from '../cache/cache-entry.js';
import { chainCacheStatus, formatCacheStatus, upstreamCacheStatus } from '../cache/cache-status.js';
import { invalidatedTargets, invalidatesStored } from '../cache/invalidation.js';
import type { PartialEntry } from '../cache/partial-content.js';
import { createEtagVerifier } from '../cache/etag-verifier.js';
import { currentAge, freshnessPolicy, governingDirectives, initialAge, notStorableReason, sharedDespiteAuthorization, withinStaleIfError, type NotStorableReason } from '../cache/freshness.js';
import { forwardedHeaderBlock, passThroughHeaderBlock, replayableHeaders, replayedDate } from '../cache/replayed-headers.js';
import { notModifiedSelects, revalidationFields, storedModificationTime } from '../cache/validators.js';
import { forgetResponse, recordVaried, selectVariant, storeResponse, variantMatches, varyNames, type VariedFields } from '../cache/variants.js';
import type { Flight, FlightListener, FlightOutcome } from '../coalesce/flight-table.js';
import { EdgeError, upstreamError } from '../errors.js';
import { newKeyRateError } from '../upstream/new-key-rate.js';
import { discardBody, type UpstreamFetchOptions, type UpstreamInterim, type UpstreamResponse } from '../upstream/upstream-client.js';
import { PEER_HOP_HEADER } from '../upstream/peer-hop.js';
import { fetchThroughTiers, type TieredResponse, type UpstreamTier } from '../upstream/tiered-fetch.js';
import { SIBLING_HEADER, type EdgeServices, type FillHead } from './edge-services.js';
import { capturePartial, freshenPartial, keepIncomplete, type PartialCapture } from './partial-capture.js';
import { sendPartialHit } from './partial-hit.js';
import { forwardedFields, type RequestContext } from './request-context.js';
import { account, bodyForViewer, rewritesPlaylist, sendEntry, sendInterim, sendText, withoutContentLength } from './responses.js';
import { cacheStatusOf } from './serve-outcome.js';

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
  block.push('date', replayedDate(response.headers, response.responseTime));
  if (contentLength !== undefined) block.push('content-length', String(contentLength));
  // A partial (or unsatisfiable-range) answer relayed as it came keeps its Content-Range (RFC 9110 §14.4).
  const contentRange = response.headers['content-range'];
  if ((response.status === 206 || response.status === 416) && typeof contentRange === 'string') block.push('content-range', contentRange);
  if (response.status === 200) block.push('accept-ranges', 'bytes');
  block.push(...originStatusFault(response.status), ...services.commonHeaders);
  return block;
}

/**
 * How a fill goes upstream: via the key's owner worker or not, via the key's owner peer (a sibling
 * edge, or the owning shield) or not, the request fields it forwards, and a believed peer hop to
 * carry on to the owner worker (so the hop still counts there).
 */
interface FillRoad {
  readonly viaSibling: boolean;
  readonly viaPeer: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly peerHop?: string | undefined;
}

/** The tiers a fill tries in order: owner worker, owner peer, shields, origins (upstream/tiered-fetch.ts). */
function upstreamTiers(services: EdgeServices, key: string, road: FillRoad): UpstreamTier[] {
  const tiers: UpstreamTier[] = [];
  const worker = road.viaSibling ? services.siblingFor(key) : undefined;
  if (worker) tiers.push({ name: 'worker', client: worker, ...(road.peerHop ? { headers: { [PEER_HOP_HEADER]: road.peerHop } } : {}) });
  const peer = road.viaPeer ? services.peerFor(key) : undefined;
  if (peer) tiers.push({ name: services.tier === 'shield' ? 'shield' : 'sibling', client: peer.client, headers: peer.headers });
  // Ejected shields stay out of the road (the origins are the fallback), unlike ejected origins.
  const shields = services.shields;
  if (shields && shields.replicas.length > shields.ejected.length) tiers.push({ name: 'shield', client: shields });
  tiers.push({ name: 'origin', client: services.origins });
  return tiers;
}

function fetchUpstream(services: EdgeServices, key: string, options: UpstreamFetchOptions, road: FillRoad): Promise<TieredResponse> {
  const held = services.held.isHeld(key) ? { heldWaitMs: services.held.holdWaitMs } : {};
  return fetchThroughTiers(upstreamTiers(services, key, road), key, { ...options, ...held }, services.tierObserver);
}

/**
 * Fetches of one fill after bodies that failed their ETag check. Each follows an ejection, so it
 * goes to the next replica in rendezvous order (the same one only when no other is left); a third
 * corrupt body in a row means more than one bad replica (or an ETag no replica's bytes match), and
 * the readers get the error.
 */
const MAX_INTEGRITY_REFETCHES = 2;

/**
 * A body whose bytes do not match its hash ETag: the replica that sent it is broken, not unlucky,
 * and is ejected (with back-off while it stays corrupt). The whole replica, not the one object:
 * bad bytes are strong evidence that its storage (or its path) is bad, a per-object list would
 * grow with every key, and each other bad object would still cost a viewer a cut response before
 * it was found; the other replicas hold the same bytes, so a wrong guess only moves load for a
 * while. A body continued from another tier blames no one (tiered-fetch.ts soleSource).
 */
function ejectCorruptSource(services: EdgeServices, key: string, response: TieredResponse): void {
  const source = response.soleSource();
  if (!source) {
    services.logger.warn({ key, tier: response.tier }, 'corrupt body was continued from another tier; no single replica to eject');
    return;
  }
  const outForMs = source.client.eject(source.replica);
  if (outForMs !== undefined) services.logger.warn({ key, tier: source.tier, replica: source.replica, outForMs }, 'replica ejected: its body failed the integrity check');
}

/** A body that matched its hash ETag vouches for its replica: a run of corrupt bodies ends there. */
function reportIntactSource(services: EdgeServices, key: string, response: TieredResponse): void {
  const source = response.soleSource();
  if (source?.client.reportIntact(source.replica)) services.logger.info({ key, tier: source.tier, replica: source.replica }, 'replica recovered: its body passed the integrity check again');
}

// A fetch made with one viewer's credentials (when they are forwarded at all) is shared only with
// viewers sending the same ones, as if every response varied on them.
const CREDENTIAL_FIELDS = ['authorization'] as const;

/**
 * Runs the upstream fetch for a flight the caller just created as writer. Never throws: every
 * ending is a named flight outcome.
 */
async function runOriginFill(services: EdgeServices, flight: Flight<FillHead, UpstreamInterim>, stale: CacheEntry | undefined, road: FillRoad, integrityRefetches = 0): Promise<void> {
  const key = flight.key;
  let response: TieredResponse;
  try {
    // An interim response (103 Early Hints) goes to the readers waiting now and is never stored.
    const onInterim = (interim: UpstreamInterim): void => flight.publishInterim(interim);
    response = await fetchUpstream(services, key, { headers: road.headers, onInterim, ...(stale ? revalidationFields(validatorsOf(stale)) : {}) }, road);
  } catch (error) {
    const failure = upstreamError(error);
    // Logged once per fetch, however many viewers were waiting on it.
    services.logger.warn({ key, err: failure.message, reason: failure.reason, readers: flight.readers }, 'origin fetch failed');
    services.metrics.flightOutcomes.labels('transient-error').inc();
    flight.finish('transient-error', failure);
    return;
  }

  if (response.status >= 500 && stale && withinStaleIfError(stale, Date.now())) {
    // Every replica was tried; the stale entry may stand in for the origin's error (RFC 5861 §4).
    discardBody(response.body);
    services.metrics.flightOutcomes.labels('transient-error').inc();
    flight.finish('transient-error', new EdgeError(`origin ${response.replica} answered ${response.status}`, { source: 'upstream', retryable: true, status: response.status, reason: 'http-5xx' }));
    return;
  }

  if (response.status === 304) {
    discardBody(response.body);
    if (!stale) {
      services.metrics.flightOutcomes.labels('transient-error').inc();
      flight.finish('transient-error', integrityError('unexpected-304', `origin ${response.replica} answered 304 to an unconditional request`));
      return;
    }
    if (!notModifiedSelects(validatorsOf(stale), response.headers)) {
      // RFC 9111 §4.3.4: a 304 for some other response updates nothing, and this one is not used.
      services.logger.warn({ key, replica: response.replica, etag: response.headers.etag }, 'origin 304 does not match the stored response; fetching it whole');
      if (!flight.purged) forgetResponse(services.store, key, stale);
      await runOriginFill(services, flight, undefined, road);
      return;
    }
    const entry = refreshCacheEntry(stale, response.headers, response.requestTime, response.responseTime, services.commonHeaders, services.negativeTtl);
    if (!flight.purged) storeResponse(services.store, key, entry);
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
  const { directives, targeted } = governingDirectives(response.headers);
  let notStored: NotStorableReason | undefined = notStorableReason(response.status, response.headers, directives, targeted);
  const vary = varyNames(response.headers.vary);
  // A response that varies is stored as one variant of its URL (variants.ts), except Vary: *, which
  // no later request can match (RFC 9111 §4.1).
  if (notStored === undefined && vary.includes('*')) notStored = 'vary';
  const varied = vary.length > 0 ? recordVaried(vary, road.headers) : undefined;
  if (notStored === undefined && road.headers.authorization !== undefined && !sharedDespiteAuthorization(directives)) notStored = 'authorization';
  if (notStored === undefined && contentLength !== undefined && contentLength > services.maxObjectBytes) notStored = 'too-large';
  const etag = typeof response.headers.etag === 'string' ? response.headers.etag : undefined;
  flight.publishHead({
    kind: 'stream',
    status: response.status,
    headerBlock: streamHeaderBlock(services, response, contentLength),
    initialAge: initialAge(response.headers, response.requestTime, response.responseTime),
    responseTime: response.responseTime,
    modified: storedModificationTime(typeof response.headers['last-modified'] === 'string' ? response.headers['last-modified'] : undefined, replayedDate(response.headers, response.responseTime)),
    etag,
    contentLength,
    notStored,
    ttl: freshnessPolicy(response.headers, response.responseTime, { status: response.status, negativeTtl: services.negativeTtl }).lifetime,
    replica: response.replica,
    replacedStale: stale !== undefined,
    vary,
    sentForVary: Object.fromEntries([...vary, ...CREDENTIAL_FIELDS].map((name) => [name, road.headers[name]])),
    upstreamCacheStatus: upstreamCacheStatus(response.headers['cache-status'], services.cacheName),
  });
  // Only a response being stored is worth sharing with later arrivals; anything else goes its own way.
  if (notStored !== undefined) flight.closeToNewReaders();

  const refetchAllowed = integrityRefetches < MAX_INTEGRITY_REFETCHES;
  if ((await streamBody(services, flight, response, contentLength, etag, notStored, varied, refetchAllowed)) === 'refetch') {
    await runOriginFill(services, flight, stale, road, integrityRefetches + 1);
  }
}

function streamBody(
  services: EdgeServices,
  flight: Flight<FillHead, UpstreamInterim>,
  response: TieredResponse,
  contentLength: number | undefined,
  etag: string | undefined,
  initiallyNotStored: NotStorableReason | undefined,
  varied: VariedFields | undefined,
  refetchAllowed: boolean,
): Promise<'ended' | 'refetch'> {
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

  return new Promise<'ended' | 'refetch'>((resolve) => {
    let over = false;
    const fail = (reason: string, error: Error): void => {
      if (over) return;
      over = true;
      discardBody(body);
      // A body cut short (not one that ran long or had the wrong bytes) leaves an incomplete response
      // worth keeping for later ranges (RFC 9111 §3.3); the viewers still see the cut.
      if (whole && (reason === 'reset' || reason === 'deadline' || (reason === 'length-mismatch' && received < whole.length)) && !flight.purged) {
        keepIncomplete(services, flight.key, response, whole.subarray(0, received), whole.length, varied);
      }
      services.metrics.integrityFailures.labels(reason).inc();
      services.logger.warn({ key: flight.key, tier: response.tier, replica: response.replica, reason, err: error.message }, 'origin body rejected; not cached');
      if (reason === 'etag-mismatch') {
        ejectCorruptSource(services, flight.key, response);
        // A flight that would have stored the object starts over (readers that answered are cut).
        if (refetchAllowed && flight.joinable) {
          services.metrics.integrityRefetches.labels(response.tier).inc();
          flight.restart(error);
          resolve('refetch');
          return;
        }
      }
      services.metrics.flightOutcomes.labels('transient-error').inc();
      flight.finish('transient-error', error);
      resolve('ended');
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
        resolve('ended');
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
    body.on('error', (error: Error) => {
      const failure = upstreamError(error, response.replica);
      // A body cut at the fetch's total deadline is named so; anything else is a reset.
      fail(failure.reason === 'deadline' ? 'deadline' : 'reset', failure);
    });
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
      if (verifier) reportIntactSource(services, flight.key, response);
      over = true;
      if (held) flight.publishChunk(held);
      let outcome: 'done' | 'gave-up' = 'gave-up';
      const kept = notStored === undefined ? whole ?? ownBody(chunks, received) : undefined;
      if (kept && response.status === 200 && isPlaylistPath(flight.key)) services.held.notePlaylist(flight.key, kept);
      if (kept && !flight.purged) {
        const entry = createCacheEntry({
          key: flight.key,
          status: response.status,
          negativeTtl: services.negativeTtl,
          headers: response.headers,
          body: kept,
          requestTime: response.requestTime,
          responseTime: response.responseTime,
          commonHeaders: services.commonHeaders,
          ...(varied ? { varied } : {}),
        });
        if (storeResponse(services.store, flight.key, entry)) outcome = 'done';
      }
      services.metrics.flightOutcomes.labels(outcome).inc();
      flight.finish(outcome);
      resolve('ended');
    });
  });
}

/** Starts a coalesced origin fill for a key unless one is already under way (background work). */
export function startBackgroundFill(services: EdgeServices, key: string, stale: CacheEntry | undefined): boolean {
  if (services.flights.has(key)) return false;
  // A prefetch of a key with nothing cached waits for a later segment rather than exceed the rate.
  if (stale === undefined && !services.newKeyRate.tryTake()) return false;
  const { flight } = services.flights.acquire(key);
  fill(services, flight, stale, { viaSibling: true, viaPeer: true, headers: forwardedFields(services, undefined) });
  return true;
}

/** Runs a fill in the background; a bug in it must end the flight, not the process. */
function fill(services: EdgeServices, flight: Flight<FillHead, UpstreamInterim>, stale: CacheEntry | undefined, road: FillRoad): void {
  const ended = services.held.isHeld(flight.key) ? services.held.flightStarted() : undefined;
  runOriginFill(services, flight, stale, road)
    .catch((error: unknown) => {
      services.logger.error({ key: flight.key, err: (error as Error).stack ?? String(error) }, 'origin fill failed');
      flight.finish('transient-error', new EdgeError('internal error while fetching', { source: 'internal', retryable: true, status: 500, reason: 'internal', cause: error }));
    })
    .finally(ended);
}

/** A miss or a revalidation: join or start the key's flight, and stream it to this viewer as a reader. */
export function readThroughFlight(services: EdgeServices, ctx: RequestContext, stale: CacheEntry | undefined): void {
  const held = services.held.isHeld(ctx.key);
  if (held && !admitHeld(services, ctx)) return;
  if (stale === undefined && !services.flights.has(ctx.key) && !services.newKeyRate.tryTake()) {
    services.metrics.originRejected.labels('new-key-rate').inc();
    serveStaleOrError(services, ctx, undefined, newKeyRateError());
    return;
  }
  const { flight, writer } = services.flights.acquire(ctx.key);
  if (writer) {
    fill(services, flight, stale, {
      viaSibling: !(services.siblingRequestsAccepted && ctx.req.headers[SIBLING_HEADER] !== undefined),
      // A peer's request for a key it hashed here is not hashed again (one peer hop at most).
      viaPeer: ctx.peerHop === undefined,
      headers: ctx.forwarded,
      peerHop: ctx.peerHop,
    });
  } else {
    ctx.collapsed = true;
    services.metrics.coalescedWaiters.inc();
  }
  attachReader(services, ctx, flight, stale, held);
}

/** A viewer waiting on a held fetch takes one of the bounded places until its response ends; none left: 503. */
function admitHeld(services: EdgeServices, ctx: RequestContext): boolean {
  const release = services.held.admit();
  if (release === undefined) {
    services.metrics.originRejected.labels('held-limit').inc();
    serveStaleOrError(services, ctx, undefined, new EdgeError('too many requests waiting on held fetches', { source: 'internal', retryable: true, status: 503, reason: 'held-limit', retryAfterSeconds: 1 }));
    return false;
  }
  ctx.res.once('close', release);
  return true;
}

function attachReader(services: EdgeServices, ctx: RequestContext, flight: Flight<FillHead, UpstreamInterim>, stale: CacheEntry | undefined, held: boolean): void {
  const { req, res } = ctx;
  const wantsRange = req.headers.range !== undefined;
  // A playlist for a signed URL is rewritten whole (its token carried into every URI), from the cached copy.
  const wantsWhole = wantsRange || rewritesPlaylist(ctx);
  let stopped = false;
  let streaming = false;
  let awaitingWhole = false;
  let subscribed = false;
  const stop = (): void => {
    stopped = true;
    if (subscribed) subscription.cancel();
  };

  const listener: FlightListener<FillHead, UpstreamInterim> = {
    onInterim(interim) {
      if (!stopped) sendInterim(ctx, interim.status, interim.headers);
    },
    onHead(head) {
      if (stopped) return;
      if (head.kind === 'revalidated') {
        stop();
        if (head.entry.varied && !variantMatches(head.entry.varied, ctx.forwarded)) {
          // Another viewer's variant was revalidated: this viewer's is not the one confirmed.
          passThrough(services, ctx);
          return;
        }
        sendEntry(services, ctx, head.entry, { outcome: 'revalidated', fwdStatus: 304 });
        return;
      }
      if (ctx.collapsed && !sameVariant(head, ctx.forwarded)) {
        // The shared fetch asked for another variant than this viewer would have: ask for its own.
        stop();
        passThrough(services, ctx);
        return;
      }
      ctx.replica = head.replica;
      ctx.upstreamStatus = head.status;
      ctx.outcome = head.notStored === 'too-large' ? 'too-large' : head.replacedStale ? 'replaced-stale' : 'fetched';
      ctx.detail = head.notStored;
      const cacheStatus = formatCacheStatus(services.cacheName, {
        status: cacheStatusOf(ctx.outcome),
        fwdStatus: head.status,
        ...(head.notStored === undefined ? { stored: true, ttl: head.ttl } : { detail: head.notStored }),
        collapsed: ctx.collapsed,
      });
      // Age carries the origin's age, the transfer delay and any time this reader joined late.
      const age = Math.floor(currentAge(head, Date.now()));
      const headers = [...head.headerBlock, 'age', String(age), 'cache-status', chainCacheStatus(head.upstreamCacheStatus, cacheStatus)];
      if (head.status === 200 && isNotModified(req.headers, head.etag, head.modified)) {
        stop();
        res.writeHead(304, withoutContentLength(headers));
        res.end();
        account(services, ctx);
        return;
      }
      if (wantsWhole && head.status === 200 && head.notStored !== undefined) {
        // Nothing will be cached to cut the range from (or rewrite): ask the origin for it alone.
        stop();
        passThrough(services, ctx);
        return;
      }
      if (wantsWhole && head.status === 200) {
        // The range is cut from the whole object once it is in; the fill is shared with everyone.
        awaitingWhole = true;
        return;
      }
      res.writeHead(head.status, headers);
      ctx.firstByteAt = performance.now();
      if (ctx.head || head.status === 204 || head.status === 304) {
        stop();
        res.end();
        account(services, ctx);
        return;
      }
      streaming = true;
    },
    onData(chunk) {
      if (!streaming || stopped) return;
      res.write(chunk);
      ctx.bodyBytes += chunk.length;
    },
    congested: () => res.writableNeedDrain,
    onRestart() {
      // The bytes so far were bad: a viewer already answered from them is cut (onEnd); one that
      // has sent nothing yet (waiting for the whole object) takes the object fetched again.
      if (streaming || res.headersSent) return false;
      awaitingWhole = false;
      return true;
    },
    onEnd(outcome: FlightOutcome, error?: Error) {
      if (stopped) return;
      stopped = true;
      if (outcome === 'done' || outcome === 'gave-up') {
        if (awaitingWhole) {
          const stored = outcome === 'done' ? services.store.peek(ctx.key) : undefined;
          const entry = stored === undefined ? undefined : selectVariant(stored, ctx.forwarded);
          if (entry) sendEntry(services, ctx, entry, { outcome: ctx.outcome, fwdStatus: 200, stored: true });
          else passThrough(services, ctx);
          return;
        }
        res.end();
        account(services, ctx);
        return;
      }
      if (outcome === 'wait-timeout') {
        ctx.detail = 'wait-timeout';
        passThrough(services, ctx);
        return;
      }
      const failure = error instanceof EdgeError ? error : upstreamError(error);
      if (streaming || res.headersSent) {
        // The viewer already has part of a body that turned out bad: abort, never a short 200.
        ctx.outcome = 'failed';
        ctx.detail = failure.reason;
        account(services, ctx);
        res.destroy(failure);
        return;
      }
      const stored = stale === undefined ? services.store.peek(ctx.key) : undefined;
      serveStaleOrError(services, ctx, stale ?? (stored === undefined ? undefined : selectVariant(stored, ctx.forwarded)), failure);
    },
  };
  // onHead may run inside subscribe() when the flight is already streaming.
  // A held fetch is bounded by its hold wait: a reader giving up on it would only send its own.
  const subscription = flight.subscribe(listener, { waitLimited: ctx.collapsed && !held });
  subscribed = true;
  if (stopped) subscription.cancel();
  res.once('close', () => {
    if (!res.writableFinished) {
      subscription.cancel();
      if (!ctx.finished) {
        ctx.detail ??= 'viewer-closed';
        account(services, ctx);
      }
    }
  });
}

/** Whether this viewer's forwarded fields match, on every field the response varies on, what the fetch sent. */
function sameVariant(head: Extract<FillHead, { kind: 'stream' }>, mine: Readonly<Record<string, string>>): boolean {
  return variantMatches(recordVaried([...head.vary, ...CREDENTIAL_FIELDS], head.sentForVary), mine);
}

/** stale-if-error (RFC 5861 §4) when the stale entry allows it, else a clean error status. */
function serveStaleOrError(services: EdgeServices, ctx: RequestContext, stale: CacheEntry | undefined, failure: EdgeError): void {
  if (stale && withinStaleIfError(stale, Date.now())) {
    sendEntry(services, ctx, stale, { outcome: 'stale-if-error', fwdStatus: failure.status, detail: `stale-if-error-${failure.reason}` });
    return;
  }
  ctx.outcome = 'failed';
  ctx.detail = failure.reason;
  // The edge's own refusal (origin fetches saturated) says when to come back; a failure upstream
  // says so, so the balancer does not blame this edge for it.
  const retryAfter = failure.retryAfterSeconds === undefined ? [] : ['retry-after', String(failure.retryAfterSeconds)];
  const fault = failure.source === 'upstream' ? [UPSTREAM_FAULT_HEADER, failure.reason] : [];
  sendText(services, ctx, failure.status, `origin unavailable (${failure.reason})`, [...retryAfter, ...fault]);
}

/**
 * An uncoalesced fetch for this viewer alone: after a wait timeout, for a range of an object that
 * could not be cached whole, or for a range stored partial content lacks (or holds stale, then
 * asked for conditionally). It takes the fill's road upstream (straight to the origin, not via a
 * sibling) and its header rule; the viewer's Range is forwarded as is, and a 206 answering it may
 * be kept as partial content.
 */
export function passThrough(services: EdgeServices, ctx: RequestContext, revalidating?: PartialEntry): void {
  const { req } = ctx;
  ctx.outcome = 'passed-through';
  const headers = ctx.forwarded;
  const onInterim = (interim: UpstreamInterim): void => sendInterim(ctx, interim.status, interim.headers);
  const range = req.headers.range;
  // Stale stored ranges holding the one asked for are revalidated by their strong ETag (RFC 9111 §4.3.1).
  const conditional = revalidating ? { ifNoneMatch: revalidating.etag } : {};
  relay(services, ctx, fetchUpstream(services, ctx.key, range ? { headers, range, onInterim, ...conditional } : { headers, onInterim }, { viaSibling: false, viaPeer: false, headers }), {
    // The 206 answering a range is kept as partial content (RFC 9111 §3.3) when it may be.
    ...(range !== undefined && !ctx.head ? { capture: (response: UpstreamResponse) => capturePartial(services, ctx.key, headers, response) } : {}),
    ...(revalidating
      ? {
          onNotModified: (response: UpstreamResponse) => {
            const fresh = freshenPartial(services, revalidating, response);
            if (fresh) sendPartialHit(services, ctx, fresh, Date.now(), 'revalidated');
            else passThrough(services, ctx);
          },
        }
      : {}),
  });
}

/** Counts a request body on its way upstream and fails it past the limit. */
class BodyLimit extends Transform {
  private seen = 0;
  exceeded = false;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      this.exceeded = true;
      callback(new Error(`request body larger than ${this.limit} bytes`));
      return;
    }
    callback(null, chunk);
  }
}

/** The viewer's request body streamed through a limit; the viewer's stream is drained, never destroyed, so a 413 can still be sent. */
function boundedBody(req: IncomingMessage, limit: number): BodyLimit {
  const body = new BodyLimit(limit);
  req.pipe(body);
  body.on('error', () => {
    req.unpipe(body);
    req.resume();
  });
  req.on('error', (error) => body.destroy(error));
  req.on('close', () => {
    if (!req.complete) body.destroy(new Error('viewer closed before sending its whole body'));
  });
  return body;
}

/**
 * An unsafe method (RFC 9110 §9.2.1: POST, PUT, DELETE, PATCH): the request and its body go to one
 * origin replica as they arrive (bounded by maxRequestBodyBytes, else 413), nothing is stored, and
 * a 2xx/3xx answer first invalidates what every worker holds for the URL and for a same-origin
 * Location / Content-Location (RFC 9111 §4.4).
 */
export function forwardUnsafe(services: EdgeServices, ctx: RequestContext): void {
  const { req } = ctx;
  ctx.outcome = 'passed-through';
  ctx.detail = 'method';
  const declared = req.headers['content-length'];
  const tooLarge = (): void => {
    ctx.outcome = 'answered-here';
    ctx.res.shouldKeepAlive = false;
    services.metrics.badRequests.labels('body-size').inc();
    sendText(services, ctx, 413, `request body larger than ${services.maxRequestBodyBytes} bytes`);
  };
  if (declared !== undefined && Number(declared) > services.maxRequestBodyBytes) {
    req.resume();
    tooLarge();
    return;
  }
  const hasBody = declared !== undefined || req.headers['transfer-encoding'] !== undefined;
  const body = hasBody ? boundedBody(req, services.maxRequestBodyBytes) : undefined;
  const headers = declared === undefined ? ctx.forwarded : { ...ctx.forwarded, 'content-length': declared };
  const invalidate = async (response: UpstreamResponse): Promise<void> => {
    if (!invalidatesStored(response.status)) return;
    const requestUrl = new URL(req.url ?? '/', `${ctx.forwarded['x-forwarded-proto'] ?? 'http'}://${req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? 'edge.invalid'}`);
    const keys = new Set([ctx.key]);
    for (const target of invalidatedTargets(requestUrl, response.headers)) {
      const key = services.cacheKey(target);
      if (key.ok) keys.add(key.key);
    }
    await Promise.all([...keys].map((key) =>
      services.purge({ key }).catch((error: unknown) => services.logger.warn({ key, err: (error as Error).message }, 'invalidation after an unsafe request failed')),
    ));
  };
  const onInterim = (interim: UpstreamInterim): void => sendInterim(ctx, interim.status, interim.headers);
  relay(services, ctx, services.origins.fetch(ctx.key, { method: req.method!, headers, onInterim, ...(body ? { body } : {}) }), {
    beforeHead: invalidate,
    onFailure: () => {
      if (!body?.exceeded) return false;
      tooLarge();
      return true;
    },
  });
}

interface RelayHooks {
  /** Runs before the response head is written (never rejects). */
  readonly beforeHead?: (response: UpstreamResponse) => Promise<void>;
  /** Answers a failed fetch itself; false leaves it to serveStaleOrError. */
  readonly onFailure?: (error: unknown) => boolean;
  /** Collects the body on its way to the viewer, to keep it (partial-capture.ts). */
  readonly capture?: (response: UpstreamResponse) => PartialCapture | undefined;
  /** Answers the origin's 304 to the edge's own conditional (the viewer's are never forwarded). */
  readonly onNotModified?: (response: UpstreamResponse) => void;
}

/** Streams an upstream response to this viewer as it came (nothing stored). */
function relay(services: EdgeServices, ctx: RequestContext, fetching: Promise<UpstreamResponse>, hooks: RelayHooks = {}): void {
  const { res } = ctx;
  fetching.then(
    async (response) => {
      if (hooks.beforeHead) await hooks.beforeHead(response);
      if (res.destroyed) {
        discardBody(response.body);
        return;
      }
      ctx.replica = response.replica;
      ctx.upstreamStatus = response.status;
      if (response.status === 304 && hooks.onNotModified) {
        discardBody(response.body);
        hooks.onNotModified(response);
        return;
      }
      const headers = passThroughHeaderBlock(response.headers);
      const age = Math.floor(initialAge(response.headers, response.requestTime, response.responseTime));
      headers.push('date', replayedDate(response.headers, response.responseTime), ...originStatusFault(response.status), ...services.commonHeaders, 'age', String(age), 'cache-status', chainCacheStatus(upstreamCacheStatus(response.headers['cache-status'], services.cacheName), formatCacheStatus(services.cacheName, { status: cacheStatusOf(ctx.outcome), fwdStatus: response.status, ...(ctx.detail ? { detail: ctx.detail } : {}) })));
      if (response.status === 200 && !ctx.req.headers.range && rewritesPlaylist(ctx)) {
        sendRewrittenPlaylist(services, ctx, response.body, headers);
        return;
      }
      res.writeHead(response.status, headers);
      if (ctx.head) {
        discardBody(response.body);
        res.end();
        account(services, ctx);
        return;
      }
      const capture = hooks.capture?.(response);
      response.body.on('data', (chunk: Buffer) => {
        capture?.add(chunk);
        ctx.bodyBytes += chunk.length;
        if (!res.write(chunk)) {
          response.body.pause();
          res.once('drain', () => response.body.resume());
        }
      });
      response.body.on('end', () => {
        capture?.end();
        res.end();
        account(services, ctx);
      });
      response.body.on('error', (error: Error) => {
        ctx.outcome = 'failed';
        ctx.detail = 'reset';
        account(services, ctx);
        res.destroy(error);
      });
      res.once('close', () => discardBody(response.body));
    },
    (error: unknown) => {
      if (res.destroyed || hooks.onFailure?.(error)) return;
      serveStaleOrError(services, ctx, undefined, upstreamError(error));
    },
  ).catch((error: unknown) => {
    services.logger.error({ key: ctx.key, err: (error as Error).stack ?? String(error) }, 'relaying an origin response failed');
    res.destroy();
  });
}

/** A playlist passed through to a signed URL: read whole (within the object limit), its URIs tokened, then sent. */
function sendRewrittenPlaylist(services: EdgeServices, ctx: RequestContext, body: UpstreamResponse['body'], headers: readonly string[]): void {
  const { res } = ctx;
  const chunks: Buffer[] = [];
  let size = 0;
  body.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > services.maxObjectBytes) {
      body.destroy(integrityError('too-large', 'playlist larger than the object limit'));
      return;
    }
    chunks.push(chunk);
  });
  body.on('end', () => {
    const rewritten = bodyForViewer(ctx, Buffer.concat(chunks));
    res.writeHead(200, [...withoutContentLength(headers), 'content-length', String(rewritten.length)]);
    res.end(ctx.head ? undefined : rewritten);
    ctx.bodyBytes = ctx.head ? 0 : rewritten.length;
    account(services, ctx);
  });
  body.on('error', () => {
    ctx.outcome = 'failed';
    ctx.detail = 'reset';
    if (!res.headersSent) sendText(services, ctx, 502, 'origin body failed', [UPSTREAM_FAULT_HEADER, 'reset']);
    else res.destroy();
  });
  res.once('close', () => discardBody(body));
}
