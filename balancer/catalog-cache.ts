import type { EdgeFetcher } from './fronts/edge-fetch.js';
import type { EdgeNode } from './discovery/edge-node.js';

export interface CatalogCacheOptions {
  readonly fetcher: EdgeFetcher;
  /** How long a fetched catalog is served without asking again. */
  readonly freshMs: number;
  /** How long an older catalog may still be served when no edge answers. */
  readonly staleIfErrorMs: number;
  /** The clock (milliseconds), so the freshness windows can be tested without sleeping. */
  readonly now?: () => number;
}

export interface CatalogAnswer {
  readonly body: Buffer;
  readonly edgeId: string;
  readonly ageSeconds: number;
  readonly stale: boolean;
}

const MAX_CATALOG_BYTES = 1024 * 1024;

/** The catalog is external input: it must at least be a JSON object with an "assets" list. */
export function checkCatalog(body: Buffer): void {
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Error('catalog is not JSON');
  }
  if (typeof document !== 'object' || document === null || !Array.isArray((document as { assets?: unknown }).assets)) {
    throw new Error('catalog has no "assets" list');
  }
}

export interface CatalogCache {
  get(candidates: readonly EdgeNode[]): Promise<CatalogAnswer>;
}

/** /catalog.json for the player, fetched through an edge and kept briefly; one fetch at a time. */
export function createCatalogCache(options: CatalogCacheOptions): CatalogCache {
  const now = options.now ?? Date.now;
  let cached: { body: Buffer; edgeId: string; fetchedAt: number } | undefined;
  let inFlight: Promise<CatalogAnswer> | undefined;

  const refresh = async (candidates: readonly EdgeNode[]): Promise<CatalogAnswer> => {
    try {
      const response = await options.fetcher.fetch(candidates, '/catalog.json', MAX_CATALOG_BYTES);
      if (response.status !== 200) throw new Error(`edge ${response.edge.id} answered ${response.status}`);
      checkCatalog(response.body);
      cached = { body: response.body, edgeId: response.edge.id, fetchedAt: now() };
      return { body: cached.body, edgeId: cached.edgeId, ageSeconds: 0, stale: false };
    } catch (error) {
      if (cached && now() - cached.fetchedAt < options.staleIfErrorMs) {
        return { body: cached.body, edgeId: cached.edgeId, ageSeconds: Math.floor((now() - cached.fetchedAt) / 1000), stale: true };
      }
      throw error;
    }
  };

  return {
    get(candidates) {
      if (cached && now() - cached.fetchedAt < options.freshMs) {
        return Promise.resolve({ body: cached.body, edgeId: cached.edgeId, ageSeconds: Math.floor((now() - cached.fetchedAt) / 1000), stale: false });
      }
      inFlight ??= refresh(candidates).finally(() => (inFlight = undefined));
      return inFlight;
    },
  };
}
