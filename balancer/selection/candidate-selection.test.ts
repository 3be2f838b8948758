import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom, zipfSampler } from '../../infra/testing/zipf.js';
import { boundedLoadOrder, capacityOf, groupByDistance, selectCandidates } from './candidate-selection.js';
import type { EdgeNode } from '../discovery/edge-node.js';
import { rendezvousOrder } from '../../infra/hashing/rendezvous-hash.js';

const edge = (id: string, region: string, lat: number, lon: number, weight = 1): EdgeNode => ({ id, url: `http://${id}.test`, region, lat, lon, weight });
const usEast1 = edge('edge-1', 'us-east', 39.04, -77.49);
const usEast2 = edge('edge-2', 'us-east', 39.04, -77.49);
const euWest = edge('edge-3', 'eu-west', 53.35, -6.26);
const usWest = edge('edge-4', 'us-west', 37.77, -122.42);
const apSouth = edge('edge-5', 'ap-south', 19.08, 72.88);
const all = [usEast1, usEast2, euWest, usWest, apSouth];
const keys = (count: number): string[] => Array.from({ length: count }, (_, i) => `vod/asset-${i}`);
const noLoad = new Map<string, number>();

describe('groupByDistance', () => {
  const cases: [string, { region: string; lat: number; lon: number } | undefined, string[][]][] = [
    ['own region first, then nearest by haversine', { region: 'us-east', lat: 40.7, lon: -74 }, [['edge-1', 'edge-2'], ['edge-4'], ['edge-3'], ['edge-5']]],
    ['a Dublin viewer', { region: 'eu-west', lat: 53.35, lon: -6.26 }, [['edge-3'], ['edge-1', 'edge-2'], ['edge-5'], ['edge-4']]],
    // Frankfurt: Dublin 1088 km, Ashburn 6549 km, Mumbai 6564 km, San Francisco 9134 km.
    ['a region without edges falls back to distance alone', { region: 'eu-central', lat: 50.11, lon: 8.68 }, [['edge-3'], ['edge-1', 'edge-2'], ['edge-5'], ['edge-4']]],
    ['same region wins even when another is closer', { region: 'us-west', lat: 39.0, lon: -77.0 }, [['edge-4'], ['edge-1', 'edge-2'], ['edge-3'], ['edge-5']]],
    ['unknown viewer: one group of all', undefined, [['edge-1', 'edge-2', 'edge-3', 'edge-4', 'edge-5']]],
  ];
  for (const [name, viewer, expected] of cases) {
    it(name, () => assert.deepEqual(groupByDistance(all, viewer).map((group) => group.map((member) => member.id)), expected));
  }
  it('no edges, no groups', () => assert.deepEqual(groupByDistance([], undefined), []));
});

describe('selectCandidates', () => {
  const viewer = { region: 'us-east', lat: 40.7, lon: -74 };
  it('orders best first, then the rest of the nearest group, then farther groups', () => {
    const order = selectCandidates({ edges: all, viewer, assetKey: 'vod/demo-ts', loads: noLoad, balanceFactor: 1.25 }).map((e) => e.id);
    assert.deepEqual(new Set(order.slice(0, 2)), new Set(['edge-1', 'edge-2']));
    assert.deepEqual(order.slice(2), ['edge-4', 'edge-3', 'edge-5']);
  });

  it('is deterministic: same inputs, same order, whatever the input order', () => {
    for (const key of keys(200)) {
      const a = selectCandidates({ edges: all, viewer, assetKey: key, loads: noLoad, balanceFactor: 1.25 }).map((e) => e.id);
      const b = selectCandidates({ edges: [...all].reverse(), viewer, assetKey: key, loads: new Map(), balanceFactor: 1.25 }).map((e) => e.id);
      assert.deepEqual(a, b);
    }
  });

  it('rejects a balance factor below 1', () => {
    assert.throws(() => selectCandidates({ edges: all, viewer, assetKey: 'k', loads: noLoad, balanceFactor: 0.9 }), TypeError);
  });
});

describe('bounded load', () => {
  for (const balanceFactor of [1, 1.25, 2]) {
    it(`never puts an edge above ceil(${balanceFactor} × average), even when every viewer wants one title`, () => {
      const group = [usEast1, usEast2, edge('edge-6', 'us-east', 39, -77), edge('edge-7', 'us-east', 39, -77, 2)];
      const loads = new Map<string, number>();
      const totalWeight = group.reduce((sum, member) => sum + member.weight, 0);
      for (let session = 1; session <= 2000; session++) {
        // A skewed mix: half the sessions watch the same title.
        const key = session % 2 === 0 ? 'vod/hit' : `vod/asset-${session % 37}`;
        const chosen = boundedLoadOrder(group, key, loads, balanceFactor)[0]!;
        loads.set(chosen.id, (loads.get(chosen.id) ?? 0) + 1);
        for (const member of group) {
          const limit = Math.ceil((balanceFactor * session * member.weight) / totalWeight);
          assert.ok((loads.get(member.id) ?? 0) <= limit, `${member.id} holds ${loads.get(member.id)} > ${limit} after ${session} sessions`);
        }
      }
    });
  }

  it('keeps a title on its hashed edge while that edge has room', () => {
    const group = [usEast1, usEast2];
    const home = rendezvousOrder(group, 'vod/demo-ts')[0]!;
    const other = group.find((member) => member !== home)!;
    assert.equal(boundedLoadOrder(group, 'vod/demo-ts', new Map([[home.id, 2], [other.id, 2]]), 1.25)[0], home);
    // Full: ceil(1.25 × 5 / 2) = 4, and it already holds 4.
    assert.equal(capacityOf(home, group, new Map([[home.id, 4], [other.id, 0]]), 1.25), 4);
    assert.equal(boundedLoadOrder(group, 'vod/demo-ts', new Map([[home.id, 4], [other.id, 0]]), 1.25)[0], other);
  });
});

describe('bounded load spills to warm caches', () => {
  const group = [edge('a', 'r', 0, 0), edge('b', 'r', 0, 0), edge('c', 'r', 0, 0)];
  const key = 'vod/title';
  const [home, second, third] = rendezvousOrder(group, key).map((member) => member.id) as [string, string, string];
  const choose = (loads: Record<string, number>, placement: { current?: string; holders?: string[] } = {}): string =>
    boundedLoadOrder(group, key, new Map(Object.entries(loads)), 1.25, { current: placement.current, holders: new Set(placement.holders) })[0]!.id;
  // For a new viewer with 9 sessions counted: fair share ceil(10 / 3) = 4, bound ceil(1.25 × 10 / 3) = 5.
  const cases: [string, () => string, string][] = [
    ['home within its fair share takes the viewer, even when others hold the title', () => choose({ [home]: 3, [second]: 3, [third]: 3 }, { holders: [second, third] }), home],
    ['home above its fair share: an edge holding the title within its fair share', () => choose({ [home]: 4, [second]: 3, [third]: 2 }, { holders: [third] }), third],
    ['home above its fair share and nobody else holds the title: home, up to the bound', () => choose({ [home]: 4, [second]: 3, [third]: 2 }), home],
    ['home at the bound: an edge holding the title, within the bound', () => choose({ [home]: 5, [second]: 2, [third]: 4 }, { holders: [third] }), third],
    ['home at the bound, title held nowhere: next in hash order', () => choose({ [home]: 5, [second]: 2, [third]: 4 }), second],
    // A viewer already counted (10 sessions): fair share 4, bound 5.
    ['a viewer stays on its edge within its fair share', () => choose({ [home]: 3, [second]: 4, [third]: 3 }, { current: second }), second],
    ['above its fair share it moves to an edge holding the title within its fair share', () => choose({ [home]: 4, [second]: 5, [third]: 1 }, { current: second, holders: [third] }), third],
    ['above its fair share with no warm alternative it stays, within the bound', () => choose({ [home]: 4, [second]: 5, [third]: 1 }, { current: second }), second],
    ['above the bound it leaves', () => choose({ [home]: 3, [second]: 6, [third]: 1 }, { current: second }), home],
  ];
  for (const [name, chosen, expected] of cases) it(name, () => assert.equal(chosen(), expected));

  it('a current edge outside the nearest group is ignored', () => {
    const viewer = { region: 'us-east', lat: 40.7, lon: -74 };
    const input = { edges: all, viewer, assetKey: 'vod/demo-ts', loads: new Map([['edge-3', 1]]), balanceFactor: 1.25 };
    assert.deepEqual(selectCandidates({ ...input, placement: { current: 'edge-3' } }), selectCandidates(input));
  });

  it('with Zipf(0.9) demand, keeps copies of titles near one per title while holding the bound', (t) => {
    const pool = [edge('e1', 'r', 0, 0), edge('e2', 'r', 0, 0), edge('e3', 'r', 0, 0)];
    const replay = (remember: boolean): number => {
      const random = seededRandom(7);
      const pickTitle = zipfSampler(200, 0.9, random);
      const loads = new Map<string, number>();
      const holders = new Map<string, Set<string>>();
      const active: { title: string; edge: string }[] = [];
      for (let viewer = 0; viewer < 6000; viewer++) {
        // 150 watch at once: a random one leaves before each arrival.
        if (active.length === 150) {
          const [leaving] = active.splice(Math.floor(random() * active.length), 1);
          loads.set(leaving!.edge, loads.get(leaving!.edge)! - 1);
        }
        const title = `vod/title-${pickTitle()}`;
        const held = holders.get(title) ?? new Set<string>();
        const chosen = boundedLoadOrder(pool, title, loads, 1.25, { holders: remember ? held : undefined })[0]!.id;
        loads.set(chosen, (loads.get(chosen) ?? 0) + 1);
        const sessions = active.length + 1;
        assert.ok(loads.get(chosen)! <= Math.ceil((1.25 * sessions) / 3), `${chosen} above the bound with ${sessions} sessions`);
        holders.set(title, held.add(chosen));
        active.push({ title, edge: chosen });
      }
      return [...holders.values()].reduce((sum, edges) => sum + edges.size, 0) / holders.size;
    };
    const warm = replay(true);
    const plain = replay(false);
    t.diagnostic(`copies per title: ${warm.toFixed(3)} spilling to warm caches, ${plain.toFixed(3)} by hash order alone`);
    assert.ok(warm <= 1.1, `copies per title ${warm}`);
    assert.ok(warm < plain);
  });
});

describe('consistent hashing: how many keys move', () => {
  const pool = Array.from({ length: 5 }, (_, i) => edge(`edge-${i + 1}`, 'us-east', 39, -77));
  const sample = keys(20_000);
  const owners = (edges: readonly EdgeNode[]): Map<string, string> => new Map(sample.map((key) => [key, rendezvousOrder(edges, key)[0]!.id]));

  it('removing one edge moves only that edge\'s keys (about 1/N of them)', (t) => {
    const before = owners(pool);
    const removed = pool[2]!;
    const after = owners(pool.filter((member) => member !== removed));
    const moved = sample.filter((key) => before.get(key) !== after.get(key));
    for (const key of moved) assert.equal(before.get(key), removed.id, `${key} moved although it was on ${before.get(key)}`);
    const ownedByRemoved = sample.filter((key) => before.get(key) === removed.id).length;
    assert.equal(moved.length, ownedByRemoved);
    const fraction = moved.length / sample.length;
    t.diagnostic(`removing 1 of 5 edges moved ${(fraction * 100).toFixed(2)}% of ${sample.length} keys (ideal 20%)`);
    assert.ok(Math.abs(fraction - 1 / 5) < 0.02, `moved fraction ${fraction}`);
  });

  it('adding one edge moves about 1/(N+1) of the keys, all onto the new edge', (t) => {
    const before = owners(pool);
    const added = edge('edge-6', 'us-east', 39, -77);
    const after = owners([...pool, added]);
    const moved = sample.filter((key) => before.get(key) !== after.get(key));
    for (const key of moved) assert.equal(after.get(key), added.id);
    const fraction = moved.length / sample.length;
    t.diagnostic(`adding a 6th edge moved ${(fraction * 100).toFixed(2)}% of ${sample.length} keys (ideal ${(100 / 6).toFixed(2)}%)`);
    assert.ok(Math.abs(fraction - 1 / 6) < 0.02, `moved fraction ${fraction}`);
  });

  it('weights share keys in proportion', () => {
    const weighted = [edge('a', 'r', 0, 0, 1), edge('b', 'r', 0, 0, 3)];
    const onB = sample.filter((key) => rendezvousOrder(weighted, key)[0]!.id === 'b').length / sample.length;
    assert.ok(Math.abs(onB - 0.75) < 0.02, `weight-3 edge got ${onB}`);
  });

  it('with bounded loads, removing one edge still mostly moves its own sessions', (t) => {
    const assign = (edges: readonly EdgeNode[]): Map<string, string> => {
      const loads = new Map<string, number>();
      const result = new Map<string, string>();
      // Skewed demand: every 7th viewer watches one hit title, the rest spread over 97 titles.
      Array.from({ length: 5000 }, (_, i) => i).forEach((i) => {
        const key = i % 7 === 0 ? 'vod/hit' : `vod/asset-${i % 97}`;
        const viewerKey = `viewer-${i}`;
        const chosen = boundedLoadOrder(edges, key, loads, 1.25)[0]!;
        loads.set(chosen.id, (loads.get(chosen.id) ?? 0) + 1);
        result.set(viewerKey, chosen.id);
      });
      return result;
    };
    const before = assign(pool);
    const after = assign(pool.filter((member) => member.id !== 'edge-3'));
    const moved = [...before.keys()].filter((key) => before.get(key) !== after.get(key));
    const fromOthers = moved.filter((key) => before.get(key) !== 'edge-3').length;
    t.diagnostic(`bounded load (c=1.25): removing 1 of 5 moved ${((moved.length / before.size) * 100).toFixed(2)}% of sessions; ${((fromOthers / before.size) * 100).toFixed(2)}% were not on the removed edge`);
    assert.ok(fromOthers / before.size < 0.05, 'sessions on surviving edges should mostly stay put');
  });
});
