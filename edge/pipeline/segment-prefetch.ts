// The prefetch phase, shared by the hit fast path and the full request path: after a segment
// request, warm the next segments of its rendition with background fills.
import type { CacheEntry } from '../cache/cache-entry.js';
import { selectVariant } from '../cache/variants.js';
import { isSegmentKey, mediaPlaylistKeyFor, nextSegmentTargets } from '../prefetch.js';
import type { EdgeServices } from './edge-services.js';
import { startBackgroundFill } from './origin-fill.js';

export function prefetchNext(services: EdgeServices, key: string): void {
  if (services.prefetchCount <= 0 || !isSegmentKey(key)) return;
  const stored = services.store.peek(mediaPlaylistKeyFor(key));
  // A playlist that varies tells no viewer-independent segment list: only one that does not is read.
  const playlist = stored === undefined ? undefined : selectVariant(stored, undefined);
  if (playlist === undefined) return;
  for (const target of nextTargets(playlist, key, services.prefetchCount)) {
    const normalized = services.cacheKey(target);
    if (!normalized.ok || services.store.has(normalized.key)) continue;
    if (startBackgroundFill(services, normalized.key, undefined)) services.metrics.prefetches.labels('started').inc();
  }
}

// Parsed segment lists per cached playlist entry, so a hit does not re-read the playlist text.
const playlistIndex = new WeakMap<CacheEntry, Map<string, string[]>>();

function nextTargets(playlist: CacheEntry, key: string, count: number): string[] {
  let byKey = playlistIndex.get(playlist);
  if (byKey === undefined) {
    byKey = new Map();
    playlistIndex.set(playlist, byKey);
  }
  let targets = byKey.get(key);
  if (targets === undefined) {
    targets = nextSegmentTargets(playlist.body.toString('utf8'), key, count);
    byKey.set(key, targets);
  }
  return targets;
}
