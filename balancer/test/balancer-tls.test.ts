import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { createLocalCa, type LocalCa } from '../../infra/tls/local-ca.js';
import { clientTrust } from '../../infra/tls/tls-credentials.js';
import { spawnStreamedge, type StreamedgeProcess } from '../../stack/streamedge-process.js';

// A balancer on HTTPS in front of an edge process on HTTPS (both real processes): every front
// reaches the https edge, trusting it only through --tls-ca.

const MASTER = '#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n360p/index.m3u8\n';
const SEGMENT = Buffer.alloc(32 * 1024, 3);

let scratch: string;
let ca: LocalCa;
let origin: Server;
let edge: StreamedgeProcess;
let edgeSpec: string;
let client: Agent;
const started: StreamedgeProcess[] = [];

async function balancer(mode: string, trust: boolean, extraArgs: readonly string[] = []): Promise<StreamedgeProcess> {
  const running = await spawnStreamedge([
    'balancer', '--port', '0', '--mode', mode, '--edge', edgeSpec, '--id', `balancer-${mode}${trust ? '' : '-untrusting'}`,
    '--tls-cert', ca.certFile, '--tls-key', ca.keyFile, ...(trust ? ['--tls-ca', ca.caCertFile] : []), ...extraArgs,
  ]);
  started.push(running);
  return running;
}

async function get(url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const response = await request(url, { dispatcher: client, headersTimeout: 10_000 });
  return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'streamedge-balancer-tls-'));
  ca = await createLocalCa(join(scratch, 'ca'));
  client = new Agent({ connect: clientTrust(await readFile(ca.caCertFile, 'utf8')) });
  origin = createServer((req, res) => {
    const isMaster = req.url?.endsWith('master.m3u8');
    const body = isMaster ? Buffer.from(MASTER) : SEGMENT;
    res.writeHead(200, { 'content-type': isMaster ? 'application/vnd.apple.mpegurl' : 'video/mp2t', 'cache-control': 'public, max-age=60', 'content-length': String(body.length) });
    res.end(body);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const { port } = origin.address() as { port: number };
  edge = await spawnStreamedge(['edge', '--port', '0', '--workers', '1', '--id', 'edge-1', '--origin', `http://127.0.0.1:${port}`, '--tls-cert', ca.certFile, '--tls-key', ca.keyFile, '--prefetch', '0', '--drain-delay', '0']);
  started.push(edge);
  edgeSpec = `${edge.url};id=edge-1;region=us-east;lat=39.04;lon=-77.49`;
});

after(async () => {
  await Promise.all(started.map((running) => running.stop(5000)));
  origin?.closeAllConnections();
  origin?.close();
  await client?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('balancer on HTTPS with an https edge', () => {
  it('proxy: streams the edge’s response over TLS both ways', async () => {
    const front = await balancer('proxy', true);
    assert.match(front.url, /^https:\/\//);
    const reply = await get(`${front.url}/vod/demo/360p/seg-1.ts`);
    assert.equal(reply.status, 200, reply.body);
    assert.equal(reply.headers['x-served-by'], 'edge-1');
    assert.equal(reply.body.length, SEGMENT.length);
  });

  it('redirect: sends the viewer to the edge’s https URL', async () => {
    const front = await balancer('redirect', true);
    const reply = await get(`${front.url}/vod/demo/360p/seg-1.ts`);
    assert.equal(reply.status, 302);
    assert.equal(reply.headers.location, `${edge.url}/vod/demo/360p/seg-1.ts`);
  });

  it('steering: fetches the master through the https edge and names https pathways', async () => {
    const front = await balancer('steering', true);
    const reply = await get(`${front.url}/vod/demo/master.m3u8`);
    assert.equal(reply.status, 200, reply.body);
    assert.match(reply.body, /#EXT-X-CONTENT-STEERING:SERVER-URI="[^"]+",PATHWAY-ID="edge-1"/);
    assert.ok(reply.body.includes(`${edge.url}/vod/demo/360p/index.m3u8`), reply.body);
  });

  it('without --tls-ca the edge’s certificate is not trusted: no answer from it is relayed', async () => {
    // No periodic probe: it would eject the edge (reason probe-failed) before the request could
    // show the proxy attempt's own certificate error.
    const front = await balancer('proxy', false, ['--probe-interval', '0']);
    const reply = await get(`${front.url}/vod/demo/360p/seg-2.ts`);
    assert.equal(reply.status, 502, reply.body);
    assert.match(reply.body, /edge-1: self-signed certificate/);
    assert.equal(reply.headers['x-served-by'], undefined);
    // The log line may reach the pipe after the response.
    const deadline = Date.now() + 5000;
    while (!/"proxy attempt failed"/.test(front.output()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(front.output(), /"err":"self-signed certificate[^"]*".*"msg":"proxy attempt failed"/);
  });
});
