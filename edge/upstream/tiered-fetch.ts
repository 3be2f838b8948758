// A fill's road upstream as an ordered list of tiers — the key's owner worker, the key's owner edge
// in the region, the region's shields, the origin replicas — tried in turn: a tier that cannot
// connect, times out or answers 5xx passes the fetch to the next (except a held request's 5xx that
// came from upstream of the tier), and the last tier's answer stands.
// A body from any tier but the last that breaks off (reset, killed peer, short) is continued from
// the next tiers with a Range request for the rest, so viewers streaming it never see the break;
// the bytes are still checked whole (length, ETag hash) by the fill that reads them, which can
// then blame (eject) the one replica they came from — or no one, when they came from several.
import { PassThrough, type Readable } from 'node:stream';
import { upstreamFaultOf } from '../../infra/http/upstream-fault.js';
import { EdgeError, upstreamError } from '../errors.js';
import { discardBody, type UpstreamClient, type UpstreamFetchOptions, type UpstreamResponse } from './upstream-client.js';

/** Where a fetch went; printable, used as a metric label and in logs. */
export type UpstreamTierName = 'worker' | 'sibling' | 'shield' | 'origin';

export interface UpstreamTier {
  readonly name: UpstreamTierName;
  readonly client: UpstreamClient;
  /** Request fields for this tier alone (a peer's signed hop header). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** How one tier handled a fetch; printable, used as a metric label. */
export type TierResult = 'answered' | 'failed' | 'http-5xx' | 'resumed' | 'resume-failed';

export interface TierObserver {
  onTier?(tier: UpstreamTierName, result: TierResult, seconds: number): void;
  onFallback?(tier: UpstreamTierName, key: string, reason: string, message?: string): void;
}

/** Where every byte of a body came from: one replica of one tier's client. */
export interface BodySource {
  readonly tier: UpstreamTierName;
  readonly client: UpstreamClient;
  readonly replica: string;
}

export interface TieredResponse extends UpstreamResponse {
  /** The tier whose head the response carries. */
  readonly tier: UpstreamTierName;
  /**
   * The replica that sent the whole body, or undefined once it was continued from another tier:
   * a tier cuts a body it found corrupt, so bad bytes in a continued body cannot be pinned on one.
   */
  soleSource(): BodySource | undefined;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+)$/;

function header(response: UpstreamResponse, name: string): string | undefined {
  const value = response.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Tries `tiers` in order for `key`. Rejects only when the last tier fails to answer at all; a 5xx
 * from the last tier is returned as it is (it has tried its own replicas).
 */
export async function fetchThroughTiers(tiers: readonly UpstreamTier[], key: string, options: UpstreamFetchOptions, observer: TierObserver = {}): Promise<TieredResponse> {
  if (tiers.length === 0) throw new TypeError('fetchThroughTiers: no tier to fetch from');
  for (let index = 0; index < tiers.length; index++) {
    const tier = tiers[index]!;
    const last = index === tiers.length - 1;
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;
    let response: UpstreamResponse;
    try {
      response = await tier.client.fetch(key, tierOptions(tier, options));
    } catch (error) {
      observer.onTier?.(tier.name, 'failed', seconds());
      if (last) throw error;
      const failure = upstreamError(error);
      observer.onFallback?.(tier.name, key, failure.reason, failure.message);
      continue;
    }
    if (response.status >= 500 && !last && !heldUpstream(response, options)) {
      // The tier may only be relaying an origin's 5xx, or be failing itself: ask the next one.
      discardBody(response.body);
      observer.onTier?.(tier.name, 'http-5xx', seconds());
      observer.onFallback?.(tier.name, key, `http-${response.status}`);
      continue;
    }
    observer.onTier?.(tier.name, 'answered', seconds());
    const source: BodySource = { tier: tier.name, client: tier.client, replica: response.replica };
    if (last || !resumable(response, options)) return { ...response, tier: tier.name, soleSource: () => source };
    const resuming = resumingBody(response, tiers.slice(index + 1), key, options, tier.name, observer);
    return { ...response, tier: tier.name, body: resuming.body, soleSource: () => (resuming.continued() ? undefined : source) };
  }
  throw new Error('unreachable');
}

/**
 * A cache tier holding a request relays its own upstream's hold, through a few hops at most: it is
 * given twice the origin's hold wait, so its answer, not a timeout, ends the wait.
 */
const HELD_CACHE_TIER_FACTOR = 2;

function tierOptions(tier: UpstreamTier, options: UpstreamFetchOptions): UpstreamFetchOptions {
  const heldWaitMs = options.heldWaitMs !== undefined && tier.name !== 'origin' ? options.heldWaitMs * HELD_CACHE_TIER_FACTOR : options.heldWaitMs;
  return {
    ...options,
    ...(tier.headers ? { headers: { ...options.headers, ...tier.headers } } : {}),
    ...(heldWaitMs !== undefined ? { heldWaitMs } : {}),
  };
}

/** A held request's 5xx that a cache tier says came from upstream of it: the next tier would wait on the same origin. */
function heldUpstream(response: UpstreamResponse, options: UpstreamFetchOptions): boolean {
  return options.heldWaitMs !== undefined && upstreamFaultOf(response.headers) !== undefined;
}

/** A whole 200 of known length and ETag can be continued from another tier byte for byte. */
function resumable(response: UpstreamResponse, options: UpstreamFetchOptions): boolean {
  return response.status === 200 && options.range === undefined && (options.method ?? 'GET') === 'GET' && header(response, 'etag') !== undefined && /^\d+$/.test(header(response, 'content-length') ?? '');
}

/**
 * The body of `first`, continued from `rest` when it breaks off. The continuation must be the same
 * representation: a 206 for exactly the missing bytes with the same ETag, or a 200 with the same
 * ETag and length (its first bytes skipped). Anything else fails the body, as the break would have.
 */
function resumingBody(first: UpstreamResponse, rest: readonly UpstreamTier[], key: string, options: UpstreamFetchOptions, firstTier: UpstreamTierName, observer: TierObserver): { body: Readable; continued: () => boolean } {
  const etag = header(first, 'etag')!;
  const length = Number(header(first, 'content-length'));
  const out = new PassThrough();
  let received = 0;
  let current: Readable = first.body;
  let finished = false;
  let continued = false;

  const fail = (error: Error): void => {
    if (finished) return;
    finished = true;
    out.destroy(error);
  };
  const follow = (body: Readable, skip: number, onBreakOnce: (error: Error) => void): void => {
    current = body;
    let toSkip = skip;
    let ended = false;
    let broken = false;
    // A failing body may report both an error and a close: one break, one continuation.
    const onBreak = (error: Error): void => {
      if (broken) return;
      broken = true;
      onBreakOnce(error);
    };
    body.on('data', (chunk: Buffer) => {
      if (finished) return;
      let piece = chunk;
      if (toSkip > 0) {
        const dropped = Math.min(toSkip, piece.length);
        toSkip -= dropped;
        piece = piece.subarray(dropped);
        if (piece.length === 0) return;
      }
      received += piece.length;
      if (!out.write(piece)) body.pause();
    });
    body.on('end', () => {
      ended = true;
      if (finished) return;
      if (received === length) {
        finished = true;
        out.end();
      } else {
        onBreak(new EdgeError(`upstream body ended after ${received} of ${length} bytes`, { source: 'upstream', retryable: true, status: 502, reason: 'length-mismatch' }));
      }
    });
    body.on('error', (error: Error) => onBreak(error));
    body.on('close', () => {
      if (!ended) onBreak(new EdgeError('upstream closed the body early', { source: 'upstream', retryable: true, status: 502, reason: 'reset' }));
    });
  };
  out.on('drain', () => current.resume());
  // A viewer-side abort (the fill discarding the body) stops whichever tier is streaming.
  out.on('close', () => {
    if (!current.destroyed) discardBody(current);
  });

  const resumeFrom = (tiers: readonly UpstreamTier[], brokenTier: UpstreamTierName, error: Error): void => {
    if (finished) return;
    if (out.destroyed) return;
    const failure = upstreamError(error);
    observer.onFallback?.(brokenTier, key, `body-${failure.reason}`, failure.message);
    if (tiers.length === 0) {
      fail(error);
      return;
    }
    const started = performance.now();
    const at = received;
    fetchThroughTiers(tiers, key, { ...options, range: `bytes=${at}-` }, { onTier: observer.onTier }).then(
      (response) => {
        const seconds = (performance.now() - started) / 1000;
        const continuation = continuationOffset(response, at, length, etag);
        if (finished || out.destroyed || continuation === undefined) {
          discardBody(response.body);
          observer.onTier?.(response.tier, 'resume-failed', seconds);
          fail(error);
          return;
        }
        observer.onTier?.(response.tier, 'resumed', seconds);
        continued = true;
        const next = tiers.slice(tiers.findIndex((tier) => tier.name === response.tier) + 1);
        follow(response.body, continuation, (again) => resumeFrom(next, response.tier, again));
      },
      () => fail(error),
    );
  };
  follow(first.body, 0, (error) => resumeFrom(rest, firstTier, error));
  return { body: out, continued: () => continued };
}

/** Bytes to skip at the start of a continuation meant to begin at `at`, or undefined if it is not one. */
export function continuationOffset(response: UpstreamResponse, at: number, length: number, etag: string): number | undefined {
  if (header(response, 'etag') !== etag) return undefined;
  if (response.status === 200) return header(response, 'content-length') === String(length) ? at : undefined;
  if (response.status !== 206) return undefined;
  const range = CONTENT_RANGE.exec(header(response, 'content-range') ?? '');
  if (!range || Number(range[1]) !== at || Number(range[2]) !== length - 1 || Number(range[3]) !== length) return undefined;
  return 0;
}
