import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startDevAgent, type DevAgent } from '../infra/consul/dev-agent.js';
import { spawnStreamedge } from '../stack/streamedge-process.js';
import { waitFor } from '../infra/testing/wait-for.js';
import { ensureTestCatalog } from './test/catalog-fixture.js';

interface HealthEntry {
  Service: { ID: string; Port: number; Meta: Record<string, string> };
  Checks: { Status: string }[];
}

let consul: DevAgent;

before(async () => {
  consul = await startDevAgent();
});

after(() => consul?.stop());

async function originHealth(): Promise<HealthEntry[]> {
  const response = await fetch(`${consul.url}/v1/health/service/streamedge-origin`);
  assert.equal(response.status, 200);
  return (await response.json()) as HealthEntry[];
}

test('an origin registers in a real Consul agent with a passing HTTP check and deregisters on SIGTERM', async () => {
  const content = await ensureTestCatalog();
  const origin = await spawnStreamedge(['origin', '--content', content, '--port', '0', '--id', 'origin-consul-test', '--consul', consul.url]);
  try {
    const entry = await waitFor('a passing streamedge-origin', async () =>
      (await originHealth()).find((e) => e.Service.ID === 'origin-consul-test' && e.Checks.every((check) => check.Status === 'passing')),
      15_000,
      200,
    );
    assert.equal(entry.Service.Port, Number(new URL(origin.url).port));
    assert.equal(entry.Service.Meta.url, origin.url);
    assert.ok(entry.Checks.length >= 2, 'the node check and the service HTTP check');

    assert.equal(await origin.stop(), 0);
    assert.deepEqual(
      (await originHealth()).map((e) => e.Service.ID),
      [],
      'deregistered before exiting',
    );
  } finally {
    await origin.kill();
  }
});

test('an unreachable Consul is a startup error, not a silent origin', async () => {
  const content = await ensureTestCatalog();
  await assert.rejects(
    spawnStreamedge(['origin', '--content', content, '--port', '0', '--consul', 'http://127.0.0.1:1']),
    /could not register with Consul at http:\/\/127\.0\.0\.1:1/,
  );
});
