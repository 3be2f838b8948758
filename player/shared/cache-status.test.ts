import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheOutcome, parseCacheStatus } from './cache-status.js';

describe('parseCacheStatus', () => {
  it('parses the edge formats from the contract', () => {
    const [entry] = parseCacheStatus('streamedge-edge-1; fwd=miss; stored');
    assert.equal(entry?.cache, 'streamedge-edge-1');
    assert.equal(entry?.params.get('fwd'), 'miss');
    assert.equal(entry?.params.get('stored'), true);
  });

  it('keeps separators inside quoted strings', () => {
    const entries = parseCacheStatus('"edge, one"; detail="a;b,c"; hit, origin; fwd=uri-miss');
    assert.deepEqual(entries.map((entry) => entry.cache), ['edge, one', 'origin']);
    assert.equal(entries[0]?.params.get('detail'), 'a;b,c');
  });

  it('drops malformed members instead of throwing', () => {
    assert.deepEqual(parseCacheStatus(' ; hit,, '), []);
    assert.deepEqual(parseCacheStatus(null), []);
    assert.deepEqual(parseCacheStatus('"unterminated; hit').map((entry) => entry.cache), ['"unterminated; hit']);
  });
});

describe('cacheOutcome', () => {
  it('classifies hits and forwarded requests', () => {
    assert.equal(cacheOutcome('streamedge-edge-1; hit'), 'hit');
    assert.equal(cacheOutcome('streamedge-edge-1; hit=?1; ttl=30'), 'hit');
    assert.equal(cacheOutcome('streamedge-edge-1; fwd=miss; stored'), 'miss');
    assert.equal(cacheOutcome('streamedge-edge-1; fwd=stale; fwd-status=304'), 'miss');
  });

  it('judges by the cache nearest to the viewer (the last member)', () => {
    assert.equal(cacheOutcome('origin-shield; hit, streamedge-edge-2; fwd=miss'), 'miss');
    assert.equal(cacheOutcome('origin-shield; fwd=miss, streamedge-edge-2; hit'), 'hit');
  });

  it('reports unknown for absent or uninformative headers', () => {
    assert.equal(cacheOutcome(null), 'unknown');
    assert.equal(cacheOutcome(''), 'unknown');
    assert.equal(cacheOutcome('streamedge-edge-1; stored'), 'unknown');
  });
});
