// The edge's parts and settings, handed to every request phase (a dependency bag, not process
// utilities: those are infra/runtime).
import type { UrlTokenVerifier } from '../../infra/auth/url-token.js';
import type { Logger } from '../../infra/runtime/logger.js';
import type { CacheEntry } from '../cache/cache-entry.js';
import type { CacheKeyFunction } from '../cache/cache-key.js';
import type { CacheStore } from '../cache/cache-store.js';
import type { StoredResponse } from '../cache/variants.js';
import type { NotStorableReason } from '../cache/freshness.js';
import type { FlightTable } from '../coalesce/flight-table.js';
import type { EdgeMetrics } from '../edge-metrics.js';
import type { UpstreamClient, UpstreamInterim } from '../upstream/upstream-client.js';
import type { PrefetchIndex } from '../prefetch.js';
import type { HeldRequests } from '../upstream/held-requests.js';
import type { NewKeyRate } from '../upstream/new-key-rate.js';
import type { PeerChoice } from '../upstream/peer-directory.js';
import type { PeerHopAuth } from '../upstream/peer-hop.js';
import type { TierObserver } from '../upstream/tiered-fetch.js';

/** An edge serves viewers; a shield serves a region's edges (and other shields), never viewers. */
export type EdgeTier = 'edge' | 'shield';

/** What a coalesced origin fetch announces before its body. */
export type FillHead =
  /** A stale entry was confirmed by a 304 and freshened; readers serve it from cache. */
  | { readonly kind: 'revalidated'; readonly entry: CacheEntry }
  /** A response streams from the origin. */
  | {
      readonly kind: 'stream';
      readonly status: number;
      /** Replayed headers + the edge's own, flat, without Age / Cache-Status. */
      readonly headerBlock: readonly string[];
      /** Corrected initial age (RFC 9111 §4.2.3) and receipt time, for each reader's `Age`. */
      readonly initialAge: number;
      readonly responseTime: number;
      /** What a viewer's If-Modified-Since compares with (Last-Modified, else Date), epoch ms. */
      readonly modified: number | undefined;
      readonly etag: string | undefined;
      readonly contentLength: number | undefined;
      readonly notStored: NotStorableReason | undefined;
      /** Freshness lifetime in seconds, for Cache-Status `ttl`. */
      readonly ttl: number;
      readonly replica: string;
      /** A stale entry was being replaced (Cache-Status `expired`). */
      readonly replacedStale: boolean;
      /** Request fields the response varies on (lower-case), and what the fetch sent for them. */
      readonly vary: readonly string[];
      readonly sentForVary: Readonly<Record<string, string | undefined>>;
      /** The Cache-Status members of the caches upstream (shield, sibling), this cache's own left out. */
      readonly upstreamCacheStatus: string | undefined;
    };

export interface EdgeState {
  draining: boolean;
}

/** Shared by every phase of every request: the edge's parts and settings. */
export interface EdgeServices {
  readonly id: string;
  readonly tier: EdgeTier;
  /** `streamedge-<id>`, the Cache-Status member name. */
  readonly cacheName: string;
  /** X-Served-By and CORS, flat, on every response. */
  readonly commonHeaders: readonly string[];
  readonly cacheKey: CacheKeyFunction;
  /** Responses by primary cache key; a URL whose response varies holds its variants (variants.ts). */
  readonly store: CacheStore<StoredResponse>;
  readonly flights: FlightTable<FillHead, UpstreamInterim>;
  readonly origins: UpstreamClient;
  /** The shields an edge fills its misses from before the origins (undefined for a shield, or without a shield tier). */
  readonly shields: UpstreamClient | undefined;
  /** The peer owning a key (a region's edges with sibling hashing, or every shield), unless this node owns it. */
  readonly peerFor: (key: string) => PeerChoice | undefined;
  /** Checks the hop header of a peer's request (undefined: no shared secret, the header is never believed). */
  readonly peerHops: PeerHopAuth | undefined;
  readonly tierObserver: TierObserver;
  readonly metrics: EdgeMetrics;
  readonly logger: Logger;
  readonly maxObjectBytes: number;
  /** Largest request body an unsafe method streams to the origin; beyond it, 413. */
  readonly maxRequestBodyBytes: number;
  /** Viewer request fields never forwarded to the origin (besides hop-by-hop ones), lower-case. */
  readonly strippedRequestHeaders: ReadonlySet<string>;
  /** Seconds a 404/410 without explicit freshness is cached (negative caching; 0 = not reused). */
  readonly negativeTtl: number;
  readonly prefetchCount: number;
  /** Parsed segment lists of cached media playlists (bounded; edge/prefetch.ts). */
  readonly prefetchIndex: PrefetchIndex;
  /** Low-Latency HLS requests the origin holds on purpose, and the bound on viewers waiting on them (edge/upstream/held-requests.ts). */
  readonly held: HeldRequests;
  /** Keys with nothing cached this process starts fetching per second (edge/upstream/new-key-rate.ts). */
  readonly newKeyRate: NewKeyRate;
  readonly adminToken: string | undefined;
  /** /metrics needs this bearer token (undefined = open). */
  readonly metricsToken: string | undefined;
  /** Signed URLs: media requests need a valid token (undefined = not checked; sibling workers' private port). */
  readonly urlTokens: UrlTokenVerifier | undefined;
  /**
   * Whether SIBLING_HEADER is believed: only on a worker's private loopback port, where only
   * sibling workers connect. On the public port a viewer sending it is ignored (and it is never
   * forwarded), so no viewer can make a worker skip the key's owner.
   */
  readonly siblingRequestsAccepted: boolean;
  readonly state: EdgeState;
  /** Whether the edge can serve misses (has at least one origin replica). */
  readonly hasOrigins: () => boolean;
  /** Purge across every worker of this edge (defaults to the local store). */
  readonly purge: (request: PurgeRequest) => Promise<number>;
  /**
   * Cluster mode: the sibling worker that owns a key, asked instead of the origin so one origin
   * request serves every worker. Undefined when this worker owns the key (or in one process).
   */
  readonly siblingFor: (key: string) => UpstreamClient | undefined;
  /** Prometheus text for /metrics (aggregated across workers in cluster mode). */
  readonly metricsText: () => Promise<{ contentType: string; body: string }>;
}

/** Header marking a request from a sibling worker (believed on the private port only): it is never forwarded to another sibling. */
export const SIBLING_HEADER = 'x-streamedge-sibling';

export type PurgeRequest = { readonly key: string } | { readonly prefix: string };
