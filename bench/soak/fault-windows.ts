// The soak viewers' requests, told apart by whether they ended while an injected fault was in: the
// target (no failed request) is for the time outside faults; requests during one are counted
// separately, as what the drills cost the viewers.
import { percentile } from '../wrk-load.js';

export interface FaultWindow {
  readonly label: string;
  /** Milliseconds after the soak's viewers started. */
  readonly fromMs: number;
  readonly toMs: number;
}

/** What a failed request was and why, so the report can name each failure (which request, which process, which error). */
export interface RequestFailureFacts {
  readonly kind: string;
  /** The stack service the request went to (from its URL), e.g. "edge-2" or "balancer". */
  readonly service: string;
  readonly path: string;
  readonly reason: string;
}

export interface SoakRequest {
  /** Milliseconds after the soak's viewers started. */
  readonly endedAtMs: number;
  readonly ttfbMs: number | undefined;
  readonly ok: boolean;
  /** Set on a failed request whose viewer told what it was. */
  readonly failure?: RequestFailureFacts;
}

export interface RequestCounts {
  readonly requests: number;
  readonly failed: number;
}

/**
 * The time a drill's fault counts for: from its injection until the system reported itself well
 * (until the drill ended, when it never did), plus the viewers' request timeout, as a request sent
 * just before the recovery may still fail on the fault until then.
 */
export function faultWindow(label: string, injectedAtMs: number, recoveredAtMs: number | undefined, endedAtMs: number, requestTimeoutMs: number): FaultWindow {
  return { label, fromMs: injectedAtMs, toMs: (recoveredAtMs ?? endedAtMs) + requestTimeoutMs };
}

export function duringFault(windows: readonly FaultWindow[], atMs: number): boolean {
  return windows.some((window) => atMs >= window.fromMs && atMs <= window.toMs);
}

export function tallyRequests(requests: readonly SoakRequest[], windows: readonly FaultWindow[]): { outside: RequestCounts; during: RequestCounts } {
  const outside = { requests: 0, failed: 0 };
  const during = { requests: 0, failed: 0 };
  for (const request of requests) {
    const counts = duringFault(windows, request.endedAtMs) ? during : outside;
    counts.requests++;
    if (!request.ok) counts.failed++;
  }
  return { outside, during };
}

/** p99 (nearest rank) time to headers of the requests that got headers; undefined when none did. */
export function ttfbP99(requests: readonly SoakRequest[]): number | undefined {
  const sorted = requests.flatMap((request) => (request.ttfbMs === undefined ? [] : [request.ttfbMs])).sort((a, b) => a - b);
  return sorted.length > 0 ? percentile(sorted, 99) : undefined;
}

/** p99 time to headers per bucket of `bucketMs`, by when requests ended, at each bucket's end; empty buckets are left out. */
export function ttfbP99PerBucket(requests: readonly SoakRequest[], bucketMs: number): { atMs: number; p99Ms: number }[] {
  if (!(bucketMs > 0)) throw new RangeError(`ttfb buckets: bucketMs must be positive, got ${bucketMs}`);
  const buckets = new Map<number, SoakRequest[]>();
  for (const request of requests) {
    const index = Math.floor(request.endedAtMs / bucketMs);
    const bucket = buckets.get(index);
    if (bucket) bucket.push(request);
    else buckets.set(index, [request]);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .flatMap(([index, inBucket]) => {
      const p99Ms = ttfbP99(inBucket);
      return p99Ms === undefined ? [] : [{ atMs: (index + 1) * bucketMs, p99Ms }];
    });
}
