// The prefetch phase, shared by the hit fast path and the full request path: after a segment
// request, warm the next segments of its rendition with background fills.
import { selectVariant } from '../cache/variants.js';
import { isSegmentKey, mediaPlaylistKeyFor } from '../prefetch.js';
import type { EdgeServices } from './edge-services.js';
import { startBackgroundFill } from './origin-fill.js';

export function prefetchNext(services: EdgeServices, key: string): void {
  if (services.prefetchCount <= 0 || !isSegmentKey(key)) return;
  const playlistKey = mediaPlaylistKeyFor(key);
  const stored = services.store.peek(playlistKey);
  // A playlist that varies tells no viewer-independent segment list: only one that does not is read.
  const playlist = stored === undefined ? undefined : selectVariant(stored, undefined);
  if (playlist === undefined) return;
  for (const target of services.prefetchIndex.listFor(playlistKey, playlist).next(key, services.prefetchCount)) {
    const normalized = services.cacheKey(target);
    if (!normalized.ok || services.store.has(normalized.key)) continue;
    if (startBackgroundFill(services, normalized.key, undefined)) services.metrics.prefetches.labels('started').inc();
  }
}
