import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { duringFault, faultWindow, tallyRequests, ttfbP99, ttfbP99PerBucket, type SoakRequest } from './fault-windows.js';

const request = (endedAtMs: number, ok = true, ttfbMs: number | 'no headers' = 5): SoakRequest => ({ endedAtMs, ok, ttfbMs: ttfbMs === 'no headers' ? undefined : ttfbMs });

describe('fault-window accounting', () => {
  it('a window runs from the injection to the recovery plus the request timeout, or to the drill end when it never recovered', () => {
    assert.deepEqual(faultWindow('edge-kill', 48_000, 60_000, 64_000, 4000), { label: 'edge-kill', fromMs: 48_000, toMs: 64_000 });
    assert.deepEqual(faultWindow('origin-slow', 48_000, undefined, 90_000, 4000), { label: 'origin-slow', fromMs: 48_000, toMs: 94_000 });
  });

  it('counts requests by when they ended: inside a window (edges included) apart from outside', () => {
    const windows = [faultWindow('edge-kill', 10_000, 15_000, 20_000, 4000), faultWindow('edge-drain', 40_000, 45_000, 50_000, 4000)];
    assert.equal(duringFault(windows, 9_999), false);
    assert.equal(duringFault(windows, 10_000), true);
    assert.equal(duringFault(windows, 19_000), true);
    assert.equal(duringFault(windows, 19_001), false);
    const requests = [request(5_000), request(12_000, false), request(18_500, false), request(25_000, false), request(30_000), request(41_000, false), request(60_000)];
    assert.deepEqual(tallyRequests(requests, windows), { outside: { requests: 4, failed: 1 }, during: { requests: 3, failed: 3 } });
    // Without drills every failure is outside.
    assert.deepEqual(tallyRequests(requests, []), { outside: { requests: 7, failed: 4 }, during: { requests: 0, failed: 0 } });
  });

  it('takes the p99 time to headers (nearest rank) of the requests that got headers, per bucket by end time', () => {
    const times = Array.from({ length: 100 }, (_, index) => request(500, true, index + 1));
    assert.equal(ttfbP99(times), 99);
    assert.equal(ttfbP99([request(1, false, 'no headers')]), undefined);
    const buckets = ttfbP99PerBucket([...times, request(2500, true, 7), request(2600, false, 'no headers'), request(6100, true, 3)], 2000);
    // Bucket 0–2 s: the 100; 2–4 s: the one answered; 4–6 s: nothing (left out); 6–8 s: one.
    assert.deepEqual(buckets, [{ atMs: 2000, p99Ms: 99 }, { atMs: 4000, p99Ms: 7 }, { atMs: 8000, p99Ms: 3 }]);
    assert.throws(() => ttfbP99PerBucket(times, 0), /bucketMs must be positive/);
  });
});
