// Confused deputies (issue 11, "Leaks and confused deputies"): a control path spelled another way
// is never forwarded to the origin's own endpoint, the sibling workers' marker header is believed
// only on a worker's private port, and the origin's internal X-Origin-Id never reaches a viewer.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { openRawClient } from '../../infra/testing/raw-client.js';
import { createEdge, type Edge } from '../edge-server.js';
import { SIBLING_HEADER } from '../pipeline/edge-services.js';
import { createUpstreamClient, type UpstreamClient } from '../upstream/upstream-client.js';
import { object, startTestOrigin, type Handler, type TestOrigin } from './test-origin.js';

const silent = pino({ level: 'silent' });

/** Sends one raw request (so no client normalises the target) and returns the status code. */
async function rawStatus(url: string, method: string, target: string, extra = ''): Promise<number> {
  const client = await openRawClient(url);
  client.socket.write(`${method} ${target} HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n${extra}\r\n`);
  await client.closed;
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(client.received().toString('latin1'))?.[1]);
}

function recording(handler: Handler, seen: IncomingHttpHeaders[]): Handler {
  return (req, res) => {
    seen.push(req.headers);
    handler(req, res);
  };
}

describe('internal boundaries', () => {
  let origin: TestOrigin;
  let edge: Edge;
  let url: string;
  before(async () => {
    origin = await startTestOrigin();
    for (const path of ['/metrics', '/metrics/', '/healthz', '/readyz', '/admin/purge']) origin.route(path, object(Buffer.from('origin internals'), 'public, max-age=60'));
    edge = createEdge({ id: 'edge-bounds', logger: silent, cacheBytes: 8 * 1024 * 1024, maxObjectBytes: 1024 * 1024, originUrls: [origin.url], adminToken: 'a-long-admin-token' });
    url = await edge.listen(0, '127.0.0.1');
  });
  after(async () => {
    await edge.close(500);
    await origin.close();
  });

  describe('control paths are matched after normalisation', () => {
    const disguised = ['//metrics', '/%6detrics', '/%6D%65trics?x=1', '/vod/../metrics', '/./metrics', '/metrics/', '//healthz', '/%72eadyz', '//admin/purge', '/metrics#frag'];
    for (const target of disguised) {
      it(`refuses ${target} with 400 and never asks the origin`, async () => {
        assert.equal(await rawStatus(url, 'GET', target), 400);
        assert.equal(await rawStatus(url, 'GET', target), 400, 'again, now that a fast-path lookup could see it');
        assert.equal(origin.total(), 0);
      });
    }
    it('refuses a disguised purge sent with POST', async () => {
      assert.equal(await rawStatus(url, 'POST', '//admin/purge', 'Content-Length: 2\r\n\r\n{}'), 400);
      assert.equal(origin.total(), 0);
    });
    it('still answers the exact spellings itself', async () => {
      assert.equal(await rawStatus(url, 'GET', '/metrics'), 200);
      assert.equal(await rawStatus(url, 'GET', '/healthz?probe=1'), 200);
      assert.equal(origin.total(), 0);
      const metrics = await edge.metrics.registry.metrics();
      assert.match(metrics, /streamedge_edge_rejected_requests_total\{reason="control-path"\} (\d+)/);
    });
  });

  describe('the sibling marker', () => {
    let owner: TestOrigin;
    let ownerClient: UpstreamClient;
    let worker: Edge;
    let workerUrl: string;
    let privateUrl: string;
    const atOrigin: IncomingHttpHeaders[] = [];
    const atOwner: IncomingHttpHeaders[] = [];
    before(async () => {
      owner = await startTestOrigin();
      for (let i = 0; i < 2; i++) {
        origin.route(`/vod/sib/seg-${i}.ts`, recording(object(Buffer.from(`segment ${i}`)), atOrigin));
        owner.route(`/vod/sib/seg-${i}.ts`, recording(object(Buffer.from(`segment ${i}`)), atOwner));
      }
      // The owner worker of every key, as the sibling directory would hand it out.
      ownerClient = createUpstreamClient({ hedgeDelayMs: 0, connectTimeoutMs: 500, headersTimeoutMs: 5000, bodyTimeoutMs: 5000, connectionsPerReplica: 4, ejectAfterFailures: 1, ejectForMs: 5000, userAgent: 'streamedge-sibling/test', extraHeaders: { [SIBLING_HEADER]: 'test' } });
      ownerClient.setReplicas([{ id: 'worker-owner', url: owner.url }]);
      worker = createEdge({ id: 'edge-worker', logger: silent, cacheBytes: 8 * 1024 * 1024, maxObjectBytes: 1024 * 1024, originUrls: [origin.url], siblingFor: () => ownerClient });
      workerUrl = await worker.listen(0, '127.0.0.1');
      privateUrl = await worker.listenPrivate('127.0.0.1');
    });
    after(async () => {
      await worker.close(500);
      await ownerClient.close();
      await owner.close();
    });

    it('from a viewer on the public port, is ignored: the miss still goes to the owner worker, and the marker goes nowhere', async () => {
      const response = await fetch(`${workerUrl}/vod/sib/seg-0.ts`, { headers: { [SIBLING_HEADER]: 'viewer-pretending' } });
      assert.equal(await response.text(), 'segment 0');
      assert.equal(owner.hits.get('/vod/sib/seg-0.ts'), 1);
      assert.equal(origin.hits.get('/vod/sib/seg-0.ts'), undefined);
      assert.equal(atOwner.at(-1)![SIBLING_HEADER], 'test', 'only the sibling client’s own marker');
    });

    it('from a sibling on the private port, is believed: the owner fetches from the origin, without passing the marker on', async () => {
      const response = await fetch(`${privateUrl}/vod/sib/seg-1.ts`, { headers: { [SIBLING_HEADER]: 'worker-2' } });
      assert.equal(await response.text(), 'segment 1');
      assert.equal(owner.hits.get('/vod/sib/seg-1.ts'), undefined);
      assert.equal(origin.hits.get('/vod/sib/seg-1.ts'), 1);
      assert.equal(atOrigin.at(-1)![SIBLING_HEADER], undefined);
    });
  });

  it('puts /metrics behind --metrics-token-file when given (401 without a token, 403 with a wrong one), /healthz stays open', async () => {
    const token = 'metrics-token-0123456789';
    const guarded = createEdge({ id: 'edge-guarded', logger: silent, cacheBytes: 8 * 1024 * 1024, maxObjectBytes: 1024 * 1024, originUrls: [origin.url], metricsToken: token });
    const guardedUrl = await guarded.listen(0, '127.0.0.1');
    try {
      const missing = await fetch(`${guardedUrl}/metrics`);
      assert.equal(missing.status, 401);
      assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer /);
      assert.equal((await fetch(`${guardedUrl}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 403);
      const allowed = await fetch(`${guardedUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(allowed.status, 200);
      assert.match(await allowed.text(), /streamedge_edge_open_connections/);
      assert.equal((await fetch(`${guardedUrl}/healthz`)).status, 200);
      assert.equal(await rawStatus(guardedUrl, 'GET', '//metrics'), 400);
      assert.equal(origin.hits.get('/metrics'), undefined);
    } finally {
      await guarded.close(500);
    }
  });

  it('never lets X-Origin-Id reach a viewer: stored, passed through, refused or forwarded', async () => {
    const id = { 'x-origin-id': 'origin-secret-7' };
    origin.route('/vod/ids/stored.ts', object(Buffer.from('stored'), 'public, max-age=60', id));
    origin.route('/vod/ids/private.ts', object(Buffer.from('private'), 'no-store', id));
    origin.route('/vod/ids/gone.ts', (_req, res) => {
      res.writeHead(404, { ...id, 'content-type': 'text/plain' });
      res.end('gone');
    });
    origin.route('/vod/ids/upload', (_req, res) => {
      res.writeHead(201, { ...id, 'content-length': '0' });
      res.end();
    });
    const answers = [
      await fetch(`${url}/vod/ids/stored.ts`),
      await fetch(`${url}/vod/ids/stored.ts`),
      await fetch(`${url}/vod/ids/stored.ts`, { headers: { range: 'bytes=0-1' } }),
      await fetch(`${url}/vod/ids/private.ts`),
      await fetch(`${url}/vod/ids/gone.ts`),
      await fetch(`${url}/vod/ids/upload`, { method: 'POST', body: 'x' }),
    ];
    assert.deepEqual(answers.map((answer) => answer.status), [200, 200, 206, 200, 404, 201]);
    for (const answer of answers) {
      await answer.arrayBuffer();
      assert.equal(answer.headers.get('x-origin-id'), null);
    }
    // And on the hit fast path, answered from the socket.
    const raw = await openRawClient(url);
    raw.socket.write('GET /vod/ids/stored.ts HTTP/1.1\r\nHost: edge\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 200));
    raw.socket.destroy();
    const head = raw.received().toString('latin1');
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.doesNotMatch(head, /x-origin-id/i);
  });
});
