import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chainCacheStatus, formatCacheStatus, upstreamCacheStatus } from './cache-status.js';

describe('Cache-Status across hops (RFC 9211 §2)', () => {
  it('keeps the upstream caches\' members, nearest the origin first, and appends this cache\'s own', () => {
    const own = formatCacheStatus('streamedge-edge-1', { status: 'miss', fwdStatus: 200, stored: true });
    const upstream = upstreamCacheStatus('streamedge-shield-eu; fwd=miss; stored, streamedge-shield-us; hit', 'streamedge-edge-1');
    assert.equal(chainCacheStatus(upstream, own), 'streamedge-shield-eu; fwd=miss; stored, streamedge-shield-us; hit, streamedge-edge-1; fwd=miss; fwd-status=200; stored');
  });

  it('leaves out members named like this cache (a sibling worker of the same edge), so each hop shows once', () => {
    assert.equal(upstreamCacheStatus('streamedge-shield-us; hit, streamedge-edge-1; fwd=miss; stored', 'streamedge-edge-1'), 'streamedge-shield-us; hit');
    assert.equal(upstreamCacheStatus('streamedge-edge-1; fwd=miss', 'streamedge-edge-1'), undefined);
  });

  it('reads a repeated field as one list, and nothing from an upstream without one', () => {
    assert.equal(upstreamCacheStatus(['a; hit', 'b; fwd=miss'], 'c'), 'a; hit, b; fwd=miss');
    assert.equal(upstreamCacheStatus(undefined, 'c'), undefined);
    assert.equal(chainCacheStatus(undefined, 'c; hit'), 'c; hit');
  });
});
