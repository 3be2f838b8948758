import { LRUCache } from 'lru-cache';

/**
 * Which edges recently took viewers of each asset: those edges most likely still hold its objects
 * in cache. Bounded-load selection uses it to spill load onto edges that already hold a title
 * instead of warming a new copy. It outlives sessions because an edge's cache does.
 */
export interface AssetPlacements {
  /** Edge ids that took a viewer of `assetKey` within the memory window. */
  holders(assetKey: string): ReadonlySet<string>;
  record(assetKey: string, edgeId: string): void;
}

export interface AssetPlacementsOptions {
  /** How long an edge is assumed to still hold an asset after its last viewer of it was placed there. */
  readonly memoryMs: number;
  /** Least recently placed assets are forgotten beyond this many, bounding memory. */
  readonly maxAssets: number;
  readonly now?: () => number;
}

const NONE: ReadonlySet<string> = new Set();

export function createAssetPlacements(options: AssetPlacementsOptions): AssetPlacements {
  if (!(options.memoryMs > 0)) throw new TypeError(`memoryMs must be > 0, got ${options.memoryMs}`);
  if (!Number.isInteger(options.maxAssets) || options.maxAssets < 1) throw new TypeError(`maxAssets must be a positive integer, got ${options.maxAssets}`);
  const now = options.now ?? Date.now;
  // asset → edge id → when it last took a viewer of the asset
  const placements = new LRUCache<string, Map<string, number>>({ max: options.maxAssets });
  return {
    holders(assetKey) {
      const edges = placements.get(assetKey);
      if (!edges) return NONE;
      const cutoff = now() - options.memoryMs;
      for (const [edgeId, at] of edges) if (at <= cutoff) edges.delete(edgeId);
      return new Set(edges.keys());
    },
    record(assetKey, edgeId) {
      const edges = placements.get(assetKey) ?? new Map<string, number>();
      edges.set(edgeId, now());
      placements.set(assetKey, edges);
    },
  };
}
