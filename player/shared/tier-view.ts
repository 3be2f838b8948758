// The operations dashboard's tier view, from two samples of the edges' and shields' counters: each
// shield's load, hit ratio and origin offload, the tier each edge fills from, and how many of the
// fills the edges sent above themselves still reached the origins. Pure, so the page and the node
// tests share it.
import { UPSTREAM_TIERS, type EdgeCounters, type MetricsSamples, type UpstreamTier } from '../../infra/prometheus/dashboard-samples.js';

export { UPSTREAM_TIERS, type UpstreamTier };

export interface ShieldFigures {
  readonly id: string;
  readonly region: string;
  /** `passing` (Consul passes it and its /metrics answered), else why it has no counters. */
  readonly health: string;
  /** Cacheable requests per second it answered: the edges' fills (its control endpoints left out). */
  readonly requests: number | null;
  readonly hitRatio: number | null;
  /** 1 − its origin requests ÷ the requests it answered. */
  readonly originOffload: number | null;
}

export interface EdgeTierFigures {
  readonly id: string;
  readonly region: string;
  /** The tier most of its fills went to in the window; null when it filled nothing. */
  readonly fillsFrom: UpstreamTier | null;
  /** Per tier: requests and body bytes per second. */
  readonly requests: Readonly<Record<UpstreamTier, number | null>>;
  readonly bytes: Readonly<Record<UpstreamTier, number | null>>;
}

export interface FleetTierFigures {
  /** Fill requests per second the edges sent above the edge tier: to shields or straight to origins. */
  readonly edgeUpstream: number | null;
  /** Requests per second edges and shields sent to the origins. */
  readonly origin: number | null;
  /** 1 − origin ÷ edgeUpstream: the share of the edges' upstream fills the shield tier kept from the origins. */
  readonly saved: number | null;
}

export interface TierView {
  /** The window the rates are over. */
  readonly seconds: number;
  readonly shields: readonly ShieldFigures[];
  readonly edges: readonly EdgeTierFigures[];
  readonly fleet: FleetTierFigures;
}

/** `after − before` per second, or null where a counter is missing or went backwards (a restart). */
function rate(before: number | undefined, after: number | undefined, seconds: number): number | null {
  if (before === undefined || after === undefined || after < before) return null;
  return (after - before) / seconds;
}

const ratio = (part: number | null, whole: number | null): number | null => (part === null || whole === null || !(whole > 0) ? null : part / whole);

const perTier = (pick: (tier: UpstreamTier) => number | null): Record<UpstreamTier, number | null> =>
  Object.fromEntries(UPSTREAM_TIERS.map((tier) => [tier, pick(tier)])) as Record<UpstreamTier, number | null>;

function sum(values: readonly (number | null)[]): number | null {
  const known = values.filter((value): value is number => value !== null);
  return known.length === 0 ? null : known.reduce((total, value) => total + value, 0);
}

/** The tier view between two samples; nodes missing from either sample get nulls. */
export function tierViewBetween(before: MetricsSamples, after: MetricsSamples): TierView {
  const seconds = (after.at - before.at) / 1000;
  const earlier = new Map<string, EdgeCounters | undefined>([...before.edges, ...before.shields].map((node) => [node.id, node.counters]));
  const between = (id: string, now: EdgeCounters | undefined, read: (counters: EdgeCounters) => number): number | null => {
    const then = earlier.get(id);
    return seconds > 0 && then && now ? rate(read(then), read(now), seconds) : null;
  };

  const shields = after.shields.map((shield): ShieldFigures => {
    const requests = between(shield.id, shield.counters, (c) => c.cacheable);
    const toOrigin = ratio(between(shield.id, shield.counters, (c) => c.upstream.origin.requests), requests);
    return {
      id: shield.id,
      region: shield.region,
      health: shield.counters ? 'passing' : (shield.error ?? 'no counters'),
      requests,
      hitRatio: ratio(between(shield.id, shield.counters, (c) => c.hits), requests),
      originOffload: toOrigin === null ? null : 1 - toOrigin,
    };
  });

  const edges = after.edges.map((edge): EdgeTierFigures => {
    const requests = perTier((tier) => between(edge.id, edge.counters, (c) => c.upstream[tier].requests));
    const busiest = UPSTREAM_TIERS.reduce<UpstreamTier | null>((best, tier) => ((requests[tier] ?? 0) > (best === null ? 0 : (requests[best] ?? 0)) ? tier : best), null);
    return { id: edge.id, region: edge.region, fillsFrom: busiest, requests, bytes: perTier((tier) => between(edge.id, edge.counters, (c) => c.upstream[tier].bytes)) };
  });

  const edgeUpstream = sum(edges.flatMap((edge) => [edge.requests.shield, edge.requests.origin]));
  const origin = sum([
    ...edges.map((edge) => edge.requests.origin),
    ...after.shields.map((shield) => between(shield.id, shield.counters, (c) => c.upstream.origin.requests)),
  ]);
  const share = ratio(origin, edgeUpstream);
  return { seconds, shields, edges, fleet: { edgeUpstream, origin, saved: share === null ? null : 1 - share } };
}

/** The view over the newest sample and the oldest one at most `windowMs` before it (at least the one before); null with fewer than two. */
export function tierViewOfRing(ring: readonly MetricsSamples[], windowMs: number): TierView | null {
  if (ring.length < 2) return null;
  const newest = ring[ring.length - 1]!;
  const from = ring.find((sample) => sample !== newest && newest.at - sample.at <= windowMs) ?? ring[ring.length - 2]!;
  return tierViewBetween(from, newest);
}
