import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceInstance } from '../../infra/consul/service-watch.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { UpstreamReplica } from './upstream-client.js';
import { lingeringReplicas, rankShields, staticShieldReplicas } from './shield-source.js';

const shield = (id: string, region: string, lat: number | undefined, lon: number | undefined): ServiceInstance => ({
  id,
  address: '127.0.0.1',
  port: 9000,
  tags: [],
  meta: { region, tier: 'shield', url: `http://${id}.internal:8081/`, ...(lat === undefined ? {} : { lat: String(lat), lon: String(lon) }) },
});

describe('shield ranking', () => {
  it('puts the edge\'s own region first, then other regions nearest first, unplaced ones last', () => {
    const ranked = rankShields(
      [shield('s-tokyo', 'ap-ne', 35.7, 139.7), shield('s-us-1', 'us-east', 39, -77), shield('s-eu', 'eu-west', 53.3, -6.3), shield('s-us-2', 'us-east', 39, -77), shield('s-x', 'nowhere', undefined, undefined)],
      { region: 'us-east', lat: 39.04, lon: -77.49 },
    );
    assert.deepEqual(ranked.map((replica) => [replica.id, replica.rank, replica.url]), [
      ['s-tokyo', 2, 'http://s-tokyo.internal:8081'],
      ['s-us-1', 0, 'http://s-us-1.internal:8081'],
      ['s-eu', 1, 'http://s-eu.internal:8081'],
      ['s-us-2', 0, 'http://s-us-2.internal:8081'],
      ['s-x', 3, 'http://s-x.internal:8081'],
    ]);
  });

  it('takes a static list of http(s) URLs, and refuses any other scheme', () => {
    assert.deepEqual(staticShieldReplicas(['http://127.0.0.1:9001/']), [{ id: 'shield-1@127.0.0.1:9001', url: 'http://127.0.0.1:9001' }]);
    assert.throws(() => staticShieldReplicas(['ftp://x']), /http\(s\)/);
  });

  it('keeps a shield Consul stops listing for the linger time, then drops it', async () => {
    const applied: string[][] = [];
    const lingering = lingeringReplicas(150, (replicas) => applied.push(replicas.map((replica) => replica.id)));
    const a: UpstreamReplica = { id: 'a', url: 'http://a' };
    const b: UpstreamReplica = { id: 'b', url: 'http://b' };
    lingering.update([a, b]);
    lingering.update([a]);
    assert.deepEqual(applied.at(-1), ['a', 'b'], 'b lingers');
    lingering.update([a, b]);
    lingering.update([a]);
    await sleep(250);
    assert.deepEqual(applied.at(-1), ['a'], 'b dropped once the linger time passed');
    lingering.stop();
  });
});
