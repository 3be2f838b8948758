import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EdgeCounters, EdgeSample, MetricsSamples, ShieldSample } from '../../infra/prometheus/dashboard-samples.js';
import { tierViewBetween, tierViewOfRing } from './tier-view.js';

type Fills = Partial<Record<'sibling' | 'shield' | 'origin', [requests: number, bytes: number]>>;

function counters(cacheable: number, hits: number, fills: Fills): EdgeCounters {
  const tier = (name: keyof Fills): { requests: number; bytes: number } => ({ requests: fills[name]?.[0] ?? 0, bytes: fills[name]?.[1] ?? 0 });
  return { responses: cacheable + 5, cacheable, hits, originBytes: 0, ttfb: { le: [], counts: [] }, upstream: { sibling: tier('sibling'), shield: tier('shield'), origin: tier('origin') } };
}

const edge = (id: string, region: string, value: EdgeCounters | undefined): EdgeSample => ({ id, region, lat: 0, lon: 0, url: `http://${id}`, health: 'healthy', activeSessions: 0, ...(value ? { counters: value } : {}) });
const shield = (id: string, region: string, value: EdgeCounters | undefined, error?: string): ShieldSample => ({ id, region, url: `http://${id}`, ...(value ? { counters: value } : {}), ...(error ? { error } : {}) });
const at = (ms: number, edges: EdgeSample[], shields: ShieldSample[]): MetricsSamples => ({ source: 'metrics', at: ms, edges, shields });

describe('tierViewBetween', () => {
  it('gives each shield its load, hit ratio and origin offload, each edge its tiers, and the fleet\'s saving', () => {
    const before = at(0, [edge('edge-1', 'us-east', counters(100, 50, { shield: [50, 5000] })), edge('edge-3', 'eu-west', counters(10, 0, { shield: [4, 400], origin: [6, 600] }))], [
      shield('shield-us-east', 'us-east', counters(50, 10, { origin: [40, 4000] })),
    ]);
    const after = at(10_000, [edge('edge-1', 'us-east', counters(200, 100, { shield: [100, 10_000] })), edge('edge-3', 'eu-west', counters(30, 0, { shield: [4, 400], origin: [26, 2600] }))], [
      shield('shield-us-east', 'us-east', counters(100, 50, { origin: [50, 5000] })),
      shield('shield-eu-west', 'eu-west', undefined, '/metrics timed out after 400 ms'),
    ]);
    const view = tierViewBetween(before, after);
    assert.equal(view.seconds, 10);
    assert.deepEqual(view.shields, [
      // 50 fills asked, 40 hits, 10 sent to the origins: 80 % kept from them.
      { id: 'shield-us-east', region: 'us-east', health: 'passing', requests: 5, hitRatio: 0.8, originOffload: 0.8 },
      { id: 'shield-eu-west', region: 'eu-west', health: '/metrics timed out after 400 ms', requests: null, hitRatio: null, originOffload: null },
    ]);
    assert.deepEqual(view.edges[0], { id: 'edge-1', region: 'us-east', fillsFrom: 'shield', requests: { sibling: 0, shield: 5, origin: 0 }, bytes: { sibling: 0, shield: 500, origin: 0 } });
    assert.equal(view.edges[1]!.fillsFrom, 'origin');
    // Edges sent 5 + 2 fills/s upstream; the origins saw edge-3's 2 and shield-us-east's 1.
    assert.deepEqual(view.fleet, { edgeUpstream: 7, origin: 3, saved: 1 - 3 / 7 });
  });

  it('without shields every upstream fill reaches the origins: nothing saved', () => {
    const view = tierViewBetween(at(0, [edge('e', 'us-east', counters(0, 0, { origin: [10, 1] }))], []), at(2000, [edge('e', 'us-east', counters(0, 0, { origin: [30, 3] }))], []));
    assert.deepEqual(view.fleet, { edgeUpstream: 10, origin: 10, saved: 0 });
    assert.deepEqual(view.shields, []);
  });

  it('a node that restarted (counters went back), appeared or filled nothing has no figures instead of wrong ones', () => {
    const before = at(0, [edge('restarted', 'us-east', counters(50, 0, { shield: [50, 1] })), edge('idle', 'us-east', counters(5, 5, {}))], []);
    const after = at(1000, [edge('restarted', 'us-east', counters(2, 0, { shield: [2, 1] })), edge('idle', 'us-east', counters(6, 6, {})), edge('new', 'eu-west', counters(9, 0, { origin: [9, 9] }))], []);
    const view = tierViewBetween(before, after);
    assert.deepEqual(view.edges.map((figures) => [figures.id, figures.fillsFrom, figures.requests.shield]), [['restarted', null, null], ['idle', null, 0], ['new', null, null]]);
    assert.deepEqual(view.fleet, { edgeUpstream: 0, origin: 0, saved: null });
  });
});

describe('tierViewOfRing', () => {
  it('spans the newest sample and the oldest one inside the window', () => {
    const sample = (ms: number, fills: number): MetricsSamples => at(ms, [edge('e', 'us-east', counters(0, 0, { origin: [fills, 0] }))], []);
    assert.equal(tierViewOfRing([sample(0, 0)], 30_000), null);
    const ring = [sample(0, 0), sample(20_000, 100), sample(40_000, 120), sample(50_000, 130)];
    assert.equal(tierViewOfRing(ring, 30_000)!.seconds, 30);
    assert.equal(tierViewOfRing(ring, 30_000)!.fleet.origin, 1);
    // A window shorter than the gap between samples still spans the last two.
    assert.equal(tierViewOfRing(ring, 1000)!.seconds, 10);
  });
});
