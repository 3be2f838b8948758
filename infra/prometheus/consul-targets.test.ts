import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startDevAgent, type DevAgent } from '../consul/dev-agent.js';
import { createServiceRegistration } from '../consul/service-registration.js';
import { startConsulTargetsServer, type ConsulTargetsServer } from './consul-targets.js';

describe('the Consul → http_sd bridge, against a real Consul agent', () => {
  let agent: DevAgent;
  let bridge: ConsulTargetsServer;
  before(async () => {
    agent = await startDevAgent();
    bridge = await startConsulTargetsServer({ consul: { url: agent.url } });
    // Listed in the catalog whatever its check says: Prometheus scrapes it and records `up`.
    await createServiceRegistration({
      consul: { url: agent.url },
      name: 'streamedge-edge',
      id: 'edge-7',
      address: '127.0.0.1',
      port: 8081,
      tags: ['edge'],
      meta: { region: 'eu-west', url: 'http://edge-7.example.net:8081' },
      checkPath: '/healthz',
      logger: pino({ level: 'silent' }),
    }).start();
  });
  after(async () => {
    await bridge?.close();
    await agent?.stop();
  });

  it('GET /targets/<service> lists the catalog in http_sd format with the labels consul_sd_configs gives', async () => {
    const response = await fetch(`${bridge.url}/targets/streamedge-edge`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), [
      {
        targets: ['127.0.0.1:8081'],
        labels: {
          __meta_consul_address: '127.0.0.1',
          __meta_consul_dc: 'dc1',
          __meta_consul_node: `streamedge-dev-${agent.ports.http}`,
          __meta_consul_service: 'streamedge-edge',
          __meta_consul_service_address: '127.0.0.1',
          __meta_consul_service_id: 'edge-7',
          __meta_consul_service_port: '8081',
          __meta_consul_tags: ',edge,',
          __meta_consul_service_metadata_region: 'eu-west',
          __meta_consul_service_metadata_url: 'http://edge-7.example.net:8081',
        },
      },
    ]);
    assert.deepEqual(await (await fetch(`${bridge.url}/targets/streamedge-origin`)).json(), []);
  });

  it('answers 404 outside /targets/<service>, and 502 while Consul is down so Prometheus keeps its last list', async () => {
    assert.equal((await fetch(`${bridge.url}/targets/../v1/kv`)).status, 404);
    assert.equal((await fetch(`${bridge.url}/`)).status, 404);
    await agent.stop();
    const response = await fetch(`${bridge.url}/targets/streamedge-edge`);
    assert.equal(response.status, 502);
    assert.match(await response.text(), /^Consul catalog: /);
  });
});
