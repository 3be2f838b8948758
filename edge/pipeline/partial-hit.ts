// Answering from partial content (RFC 9111 §3.3): a request for one byte range lying wholly inside a
// fresh stored part gets a 206 from the cache, marked as partial; an unsatisfiable one a 416 (the
// complete length is known). Everything else — no Range, a range the parts do not hold, several
// ranges, a stale partial, another variant, an If-Range naming another representation — is not
// answered here, and an incomplete response is never sent as a whole one.
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

/** Serves this request from `partial` when it may be; false leaves it to the origin. */
export function servePartialHit(services: EdgeServices, ctx: RequestContext, partial: PartialEntry, now: number): boolean {
  const { req, res } = ctx;
  const rangeHeader = req.headers.range;
  if (rangeHeader === undefined || !isFresh(partial, now)) return false;
  if (partial.varied && !variantMatches(partial.varied, ctx.forwarded)) return false;
  if (req.headers['if-range'] !== undefined && req.headers['if-range'] !== partial.etag) return false;
  const decision = decideRange(rangeHeader, partial.completeLength);
  if (decision.kind !== 'partial' && decision.kind !== 'unsatisfiable') return false;
  const slice = decision.kind === 'partial' ? partialSlice(partial, decision.range) : undefined;
  if (decision.kind === 'partial' && slice === undefined) return false;

  ctx.outcome = 'fresh';
  ctx.detail = 'partial';
  const ageSeconds = currentAge(partial, now);
  const headers = [
    ...forwardedHeaderBlock(partial.storedHeaders),
    'date', partial.date,
    'accept-ranges', 'bytes',
    ...services.commonHeaders,
    'age', String(Math.floor(ageSeconds)),
    'cache-status', formatCacheStatus(services.cacheName, { status: 'hit', ttl: partial.policy.lifetime - ageSeconds, detail: 'partial' }),
  ];
  // RFC 9110 §13.2.2: If-None-Match / If-Modified-Since are evaluated before Range.
  if (isNotModified(req.headers, partial.etag, storedModificationTime(partial.storedHeaders['last-modified'], partial.date))) {
    res.writeHead(304, headers);
    res.end();
  } else if (slice === undefined) {
    ctx.detail = decision.kind === 'unsatisfiable' ? decision.reason : undefined;
    res.writeHead(416, [...headers, 'content-range', `bytes */${partial.completeLength}`, 'content-length', '0']);
    res.end();
  } else if (decision.kind === 'partial') {
    const { start, end } = decision.range;
    res.writeHead(206, [...headers, 'content-range', `bytes ${start}-${end}/${partial.completeLength}`, 'content-length', String(slice.length)]);
    res.end(ctx.head ? undefined : slice);
    ctx.bodyBytes = ctx.head ? 0 : slice.length;
  }
  account(services, ctx);
  return true;
}
