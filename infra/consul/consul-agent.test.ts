import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { listen } from '../runtime/http-lifecycle.js';
import { waitFor } from '../testing/wait-for.js';
import { startDevAgent, type DevAgent } from './dev-agent.js';
import { createServiceRegistration } from './service-registration.js';
import { watchService, type ServiceInstance } from './service-watch.js';

const logger = pino({ level: 'silent' });

describe('Consul registration and watch against a real agent', () => {
  let agent: DevAgent;
  let server: Server;
  let port: number;

  before(async () => {
    agent = await startDevAgent();
    server = createServer((_request, response) => response.end('ok'));
    ({ port } = await listen(server, 0, '127.0.0.1'));
  });
  after(async () => {
    server.close();
    await agent.stop();
  });

  it('registers, drops out on maintenance, survives an agent restart, and deregisters', async () => {
    let latest: readonly ServiceInstance[] = [];
    const watch = watchService({ consul: { url: agent.url }, service: 'test-svc', logger, wait: '2s', onChange: (list) => (latest = list) });
    const registration = createServiceRegistration({
      consul: { url: agent.url },
      name: 'test-svc',
      id: 'test-1',
      address: '127.0.0.1',
      port,
      meta: { region: 'us-east' },
      checkPath: '/healthz',
      checkInterval: '200ms',
      resyncIntervalMs: 200,
      logger,
    });
    try {
      await registration.start();
      const [instance] = await waitFor('passing instance', async () => (latest.length === 1 ? latest : undefined), 10_000, 50);
      assert.deepEqual([instance!.id, instance!.port, instance!.meta.region], ['test-1', port, 'us-east']);
      assert.equal(watch.status.reachable, true);

      await registration.setMaintenance(true, 'draining');
      await waitFor('maintenance removes it', async () => (latest.length === 0 || undefined), 10_000, 50);
      await registration.setMaintenance(false, 'back');
      await waitFor('back after maintenance', async () => (latest.length === 1 || undefined), 10_000, 50);

      await agent.stop();
      await waitFor('watch notices Consul is gone', async () => (!watch.status.reachable || undefined), 10_000, 50);
      assert.equal(watch.instances.length, 1, 'the last good list is kept while Consul is down');

      await agent.restart();
      await waitFor('re-registered after the agent restart', async () => (watch.status.reachable && latest.length === 1) || undefined, 15_000, 50);

      await registration.deregister();
      await waitFor('gone after deregistration', async () => (latest.length === 0 || undefined), 10_000, 50);
    } finally {
      watch.stop();
    }
  });

  it('rejects bad registration options up front', () => {
    const base = { consul: { url: agent.url }, name: 'x', address: '127.0.0.1', checkPath: '/healthz', logger };
    assert.throws(() => createServiceRegistration({ ...base, id: '', port: 1 }), /id must not be empty/);
    assert.throws(() => createServiceRegistration({ ...base, id: 'x', port: 0 }), /port must be 1\.\.65535/);
    assert.throws(() => createServiceRegistration({ ...base, id: 'x', port: 1, consul: { url: 'ftp://x' } }), /must be http/);
  });
});
