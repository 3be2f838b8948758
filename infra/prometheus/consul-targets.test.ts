import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startConsulTargetsServer } from './consul-targets.js';

const EDGE = {
  Node: 'host-7', Address: '10.0.1.7', Datacenter: 'dc1', ServiceName: 'streamedge-edge', ServiceID: 'edge-7',
  ServiceAddress: '127.0.0.1', ServicePort: 8081, ServiceTags: ['edge'], ServiceMeta: { region: 'eu-west', url: 'http://edge-7.example.net:8081' },
};

test('GET /targets/<service> lists the catalog in http_sd format with the labels consul_sd_configs gives', async (t) => {
  let answer: { status: number; body: unknown } = { status: 200, body: [EDGE] };
  const consul = createServer((request, response) => {
    assert.equal(request.url, '/v1/catalog/service/streamedge-edge');
    response.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => consul.listen(0, '127.0.0.1', resolve));
  t.after(() => consul.close());
  const bridge = await startConsulTargetsServer({ consulUrl: `http://127.0.0.1:${(consul.address() as AddressInfo).port}` });
  t.after(() => bridge.close());

  const response = await fetch(`${bridge.url}/targets/streamedge-edge`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), [
    {
      targets: ['127.0.0.1:8081'],
      labels: {
        __meta_consul_address: '10.0.1.7',
        __meta_consul_dc: 'dc1',
        __meta_consul_node: 'host-7',
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

  // Consul failing is a 5xx, so Prometheus keeps its last good list; other paths are 404.
  answer = { status: 500, body: 'no leader' };
  assert.equal((await fetch(`${bridge.url}/targets/streamedge-edge`)).status, 502);
  assert.equal((await fetch(`${bridge.url}/targets/../v1/kv`)).status, 404);
  assert.equal((await fetch(`${bridge.url}/`)).status, 404);
});
