import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAssetPlacements } from './asset-placements.js';

describe('createAssetPlacements', () => {
  it('remembers which edges took viewers of an asset, for the memory window', () => {
    let now = 0;
    const placements = createAssetPlacements({ memoryMs: 1000, maxAssets: 10, now: () => now });
    assert.deepEqual([...placements.holders('vod/x')], []);
    placements.record('vod/x', 'edge-1');
    now = 600;
    placements.record('vod/x', 'edge-2');
    placements.record('vod/y', 'edge-3');
    assert.deepEqual([...placements.holders('vod/x')].sort(), ['edge-1', 'edge-2']);
    now = 1000;
    assert.deepEqual([...placements.holders('vod/x')], ['edge-2'], 'edge-1 was last placed 1000 ms ago');
    placements.record('vod/x', 'edge-1');
    assert.deepEqual([...placements.holders('vod/x')].sort(), ['edge-1', 'edge-2'], 'a new placement renews it');
    assert.deepEqual([...placements.holders('vod/y')], ['edge-3']);
  });

  it('forgets the least recently placed assets beyond maxAssets', () => {
    const placements = createAssetPlacements({ memoryMs: 60_000, maxAssets: 2 });
    placements.record('vod/a', 'edge-1');
    placements.record('vod/b', 'edge-1');
    placements.record('vod/c', 'edge-1');
    assert.equal(placements.holders('vod/a').size, 0);
    assert.equal(placements.holders('vod/c').size, 1);
  });

  it('validates its options', () => {
    assert.throws(() => createAssetPlacements({ memoryMs: 0, maxAssets: 1 }), /memoryMs/);
    assert.throws(() => createAssetPlacements({ memoryMs: 1, maxAssets: 1.5 }), /maxAssets/);
  });
});
