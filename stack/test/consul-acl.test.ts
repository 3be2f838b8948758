// A Consul cluster with ACLs on and default deny, as production runs it: every role gets a token
// from the shipped policy (infra/consul/acl/) and nothing more, and the system still works end to
// end; a role without the right token is refused, loudly.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startDevAgent, type DevAgent } from '../../infra/consul/dev-agent.js';
import { startConsulTargetsServer } from '../../infra/prometheus/consul-targets.js';
import { freePorts } from '../../infra/runtime/free-ports.js';
import { waitFor } from '../../infra/testing/wait-for.js';
import { ensureTestCatalog } from '../../origin/test/catalog-fixture.js';
import { spawnStreamedge, type StreamedgeProcess } from '../streamedge-process.js';

// Compiled location: dist/stack/test/ → the shipped policies in the source tree.
const POLICY_DIR = fileURLToPath(new URL('../../../infra/consul/acl/', import.meta.url));
const ROLES = ['origin', 'edge', 'balancer', 'prometheus'] as const;
type Role = (typeof ROLES)[number];

describe('a Consul cluster with ACLs (default deny) and one token per role', () => {
  const management = randomUUID();
  let agent: DevAgent;
  let scratch: string;
  let catalog: string;
  const tokenFiles = {} as Record<Role, string>;
  const processes: StreamedgeProcess[] = [];

  const consulApi = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${agent.url}${path}`, {
      method,
      headers: { 'x-consul-token': management },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const passing = async (service: string): Promise<string[]> =>
    ((await consulApi('GET', `/v1/health/service/${service}?passing=true`)) as { Service: { ID: string } }[]).map((entry) => entry.Service.ID);
  const start = async (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<StreamedgeProcess> => {
    const service = await spawnStreamedge(args, { env: { CONSUL_HTTP_TOKEN: '', CONSUL_HTTP_TOKEN_FILE: '', ...env } });
    processes.push(service);
    return service;
  };

  before(async () => {
    const [catalogDir, started, dir] = await Promise.all([
      ensureTestCatalog(),
      startDevAgent({ aclManagementToken: management }),
      mkdtemp(join(tmpdir(), 'streamedge-acl-')),
    ]);
    agent = started;
    scratch = dir;
    catalog = catalogDir;
    for (const role of ROLES) {
      const rules = await readFile(join(POLICY_DIR, `${role}-policy.hcl`), 'utf8');
      await consulApi('PUT', '/v1/acl/policy', { Name: `streamedge-${role}`, Rules: rules });
      const token = (await consulApi('PUT', '/v1/acl/token', { Description: `streamedge ${role}`, Policies: [{ Name: `streamedge-${role}` }] })) as { SecretID: string };
      tokenFiles[role] = join(scratch, `${role}.token`);
      await writeFile(tokenFiles[role], `${token.SecretID}\n`, { mode: 0o600 });
    }
  });

  after(async () => {
    await Promise.all(processes.map((service) => service.stop()));
    await agent?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('origin, edge and balancer register and discover each other with their own tokens only', async () => {
    const [originPort, edgePort] = await freePorts(2);
    await start(['origin', '--id', 'origin-1', '--port', String(originPort), '--content', catalog, '--consul', agent.url, '--consul-token-file', tokenFiles.origin]);
    // The environment forms: Consul's own variable, and the STREAMEDGE_ form of the flag.
    await start(['edge', '--id', 'edge-1', '--port', String(edgePort), '--workers', '1', '--region', 'us-east', '--consul', agent.url], {
      CONSUL_HTTP_TOKEN_FILE: tokenFiles.edge,
    });
    const balancer = await start(['balancer', '--port', '0', '--consul', agent.url], { STREAMEDGE_CONSUL_TOKEN_FILE: tokenFiles.balancer });

    await waitFor('origin and edge passing', async () => ((await passing('streamedge-origin')).includes('origin-1') && (await passing('streamedge-edge')).includes('edge-1')) || undefined, 20_000);
    const master = await waitFor(
      'a master playlist through the balancer',
      async () => {
        const response = await fetch(`${balancer.url}/vod/demo-ts/master.m3u8`);
        return response.ok ? response.text() : undefined;
      },
      20_000,
    );
    assert.match(master, /#EXT-X-CONTENT-STEERING/);
    assert.match(master, new RegExp(`http://127\\.0\\.0\\.1:${edgePort}/vod/demo-ts/`));
    const segmentList = await fetch(`http://127.0.0.1:${edgePort}/vod/demo-ts/240p/index.m3u8`);
    assert.equal(segmentList.status, 200, 'the edge found the origin through Consul with its read-only origin access');

    const prometheusToken = (await readFile(tokenFiles.prometheus, 'utf8')).trim();
    const bridge = await startConsulTargetsServer({ consul: { url: agent.url, token: prometheusToken } });
    try {
      for (const [service, id] of [['streamedge-edge', 'edge-1'], ['streamedge-origin', 'origin-1']]) {
        const groups = (await (await fetch(`${bridge.url}/targets/${service}`)).json()) as { labels: Record<string, string> }[];
        assert.deepEqual(groups.map((group) => group.labels.__meta_consul_service_id), [id], `Prometheus's token reads ${service}`);
      }
    } finally {
      await bridge.close();
    }
  });

  it('refuses an origin without a token at start-up, with the reason', async () => {
    const [port] = await freePorts(1);
    await assert.rejects(
      start(['origin', '--id', 'origin-anonymous', '--port', String(port), '--content', catalog, '--consul', agent.url]),
      /could not register with Consul at http:\/\/127\.0\.0\.1:\d+: 403 Permission denied: anonymous token lacks permission 'service:write' .*--consul-token-file/,
    );
  });

  it('gives a balancer holding the wrong role no edges to send viewers to', async () => {
    const balancer = await start(['balancer', '--port', '0', '--consul', agent.url, '--consul-token-file', tokenFiles.origin]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const ready = await fetch(`${balancer.url}/readyz`);
    assert.equal(ready.status, 503, 'no edge is visible with an origin token');
    const status = (await (await fetch(`${balancer.url}/status`, { headers: { accept: 'application/json' } })).json()) as { edges: unknown[] };
    assert.deepEqual(status.edges, []);
    assert.match(balancer.output(), /ACLs hid entries from this token/);
  });

  it('keeps every token out of the logs', async () => {
    const secrets = await Promise.all(ROLES.map(async (role) => (await readFile(tokenFiles[role], 'utf8')).trim()));
    assert.ok(processes.length >= 4);
    for (const service of processes) {
      assert.ok(service.output().length > 0);
      for (const secret of [management, ...secrets]) assert.ok(!service.output().includes(secret), 'a Consul token reached a log');
    }
  });
});
