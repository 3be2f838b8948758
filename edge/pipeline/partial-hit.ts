// Answering from partial content (RFC 9111 §3.3): a request for one byte range lying wholly inside a
// fresh stored part gets a 206 from the cache, marked as partial; an unsatisfiable one a 416 (the
// complete length is known). Everything else — no Range, a range the parts do not hold, several
// ranges, a stale partial, another variant, an If-Range naming another representation — is not
// answered here, and an incomplete response is never sent as a whole one. Stale parts holding the
// range are revalidated with their strong ETag (RFC 9111 §4.3.1, §4.3.4) before they answer.
import { decideRange } from '../../infra/http/byte-range.js';
import { isNotModified } from '../../infra/http/not-modified.js';
import { formatCacheStatus } from '../cache/cache-status.js';
import { currentAge, isFresh } from '../cache/freshness.js';
import { partialSlice, type PartialEntry } from '../cache/partial-content.js';
import { forwardedHeaderBlock } from '../cache/replayed-headers.js';
import { storedModificationTime } from '../cache/validators.js';
import { variantMatches } from '../cache/variants.js';
import type { EdgeServices } from './edge-services.js';
import type { RequestContext } from './request-context.js';
import { account } from './responses.js';
import { cacheStatusOf } from './serve-outcome.js';

/**
 * What `partial` can do for this request: answer it (a single range inside a fresh part, or one past
 * the end), answer it once the origin confirms the stale parts (§4.3), or nothing.
 */
export type PartialUse = 'serve' | 'revalidate' | 'none';

export function partialUse(ctx: RequestContext, partial: PartialEntry, now: number): PartialUse {
  const { req } = ctx;
  const rangeHeader = req.headers.range;
  if (rangeHeader === undefined) return 'none';
  if (partial.varied && !variantMatches(partial.varied, ctx.forwarded)) return 'none';
  if (req.headers['if-range'] !== undefined && req.headers['if-range'] !== partial.etag) return 'none';
  const decision = decideRange(rangeHeader, partial.completeLength);
  if (decision.kind === 'partial' ? partialSlice(partial, decision.range) === undefined : decision.kind !== 'unsatisfiable') return 'none';
  return isFresh(partial, now) ? 'serve' : 'revalidate';
}

/** Answers from `partial` a request partialUse() said it can serve: 206, 416, or 304 for a matching conditional. */
export function sendPartialHit(services: EdgeServices, ctx: RequestContext, partial: PartialEntry, now: number, outcome: 'fresh' | 'revalidated' = 'fresh'): void {
  const { req, res } = ctx;
  const decision = decideRange(req.headers.range, partial.completeLength);
  ctx.outcome = outcome;
  ctx.detail = 'partial';
  const ageSeconds = currentAge(partial, now);
  const cacheStatus = formatCacheStatus(services.cacheName, {
    status: cacheStatusOf(outcome),
    ttl: partial.policy.lifetime - ageSeconds,
    ...(outcome === 'revalidated' ? { fwdStatus: 304 } : {}),
    detail: 'partial',
  });
  const headers = [
    ...forwardedHeaderBlock(partial.storedHeaders),
    'date', partial.date,
    'accept-ranges', 'bytes',
    ...services.commonHeaders,
    'age', String(Math.floor(ageSeconds)),
    'cache-status', cacheStatus,
  ];
  const slice = decision.kind === 'partial' ? partialSlice(partial, decision.range) : undefined;
  // RFC 9110 §13.2.2: If-None-Match / If-Modified-Since are evaluated before Range.
  if (isNotModified(req.headers, partial.etag, storedModificationTime(partial.storedHeaders['last-modified'], partial.date))) {
    res.writeHead(304, headers);
    res.end();
  } else if (decision.kind === 'partial' && slice !== undefined) {
    const { start, end } = decision.range;
    res.writeHead(206, [...headers, 'content-range', `bytes ${start}-${end}/${partial.completeLength}`, 'content-length', String(slice.length)]);
    res.end(ctx.head ? undefined : slice);
    ctx.bodyBytes = ctx.head ? 0 : slice.length;
  } else {
    ctx.detail = decision.kind === 'unsatisfiable' ? decision.reason : 'partial';
    res.writeHead(416, [...headers, 'content-range', `bytes */${partial.completeLength}`, 'content-length', '0']);
    res.end();
  }
  account(services, ctx);
}
