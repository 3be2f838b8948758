// The shield tier with real processes: `streamedge origin` replicas, shields (`edge --tier shield`)
// and edges in two regions, found through a real Consul agent; and, for faults the real processes
// never produce (a shield dying mid-body, a shield serving bytes that do not match their ETag),
// edges and shields on static lists with a scripted origin or shield.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDevAgent, type DevAgent } from '../../infra/consul/dev-agent.js';
import { sumMetric } from '../../infra/prometheus/prometheus-text.js';
import { waitFor } from '../../infra/testing/wait-for.js';
import { spawnStreamedge, type StreamedgeProcess } from '../../stack/streamedge-process.js';
import { ensureTestCatalog } from '../../origin/test/catalog-fixture.js';
import { object, sha256Etag, startTestOrigin, type Handler, type TestOrigin } from './test-origin.js';

interface Fetched {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes: Buffer;
}

async function get(url: string): Promise<Fetched> {
  const response = await fetch(url);
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sumMetric(await (await fetch(`${url}/metrics`)).text(), name, labels);
}

async function passingIds(consul: DevAgent, service: string): Promise<string[]> {
  const entries = (await (await fetch(`${consul.url}/v1/health/service/${service}?passing=true`)).json()) as { Service: { ID: string } }[];
  return entries.map((entry) => entry.Service.ID).sort();
}

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Every object of one title: master, three media playlists, three segments each. */
const TITLE = ['/vod/demo-fmp4/master.m3u8', ...['240p', '480p', '720p'].flatMap((rendition) => [
  `/vod/demo-fmp4/${rendition}/index.m3u8`,
  `/vod/demo-fmp4/${rendition}/init.mp4`,
  ...[0, 1, 2].map((n) => `/vod/demo-fmp4/${rendition}/seg-${String(n).padStart(5, '0')}.m4s`),
])];

describe('shield tier', () => {
  const processes: StreamedgeProcess[] = [];
  const origins: TestOrigin[] = [];
  let consul: DevAgent;
  let secretDir: string;
  let secretFile: string;
  before(async () => {
    consul = await startDevAgent();
    secretDir = await mkdtemp(join(tmpdir(), 'streamedge-shield-test-'));
    secretFile = join(secretDir, 'sibling.secret');
    await writeFile(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  });
  after(async () => {
    await Promise.all(processes.map((process) => process.kill()));
    await Promise.all(origins.map((origin) => origin.close()));
    await consul?.stop();
    await rm(secretDir, { recursive: true, force: true });
  });

  const spawn = async (args: string[]): Promise<StreamedgeProcess> => {
    const started = await spawnStreamedge(args);
    processes.push(started);
    return started;
  };

  it('a title asked for at once on every edge of two regions costs the origins one request per object', async () => {
    const content = await ensureTestCatalog();
    const replicas = await Promise.all(['origin-s1', 'origin-s2'].map((id) => spawn(['origin', '--content', content, '--port', '0', '--id', id, '--consul', consul.url])));
    const regions = [
      { region: 'us-east', lat: '39.04', lon: '-77.49' },
      { region: 'eu-west', lat: '53.35', lon: '-6.26' },
    ];
    // A hedge is a second origin request on purpose (a slow first answer on a loaded test machine): off here.
    const common = ['--port', '0', '--consul', consul.url, '--workers', '1', '--sibling-secret-file', secretFile, '--hedge-delay', '0'];
    const shields = await Promise.all(regions.map(({ region, lat, lon }) => spawn(['edge', '--tier', 'shield', '--id', `shield-${region}`, '--region', region, '--lat', lat, '--lon', lon, ...common])));
    const edges = await Promise.all(
      regions.flatMap(({ region, lat, lon }) => [1, 2].map((n) => spawn(['edge', '--id', `edge-${region}-${n}`, '--region', region, '--lat', lat, '--lon', lon, ...common]))),
    );
    await waitFor('origins and shields passing', async () => ((await passingIds(consul, 'streamedge-origin')).length === 2 && (await passingIds(consul, 'streamedge-shield')).length === 2 ? true : undefined), 20_000);
    for (const node of [...shields, ...edges]) await waitFor('ready', async () => ((await fetch(`${node.url}/readyz`)).status === 200 ? true : undefined), 20_000);
    await waitFor('every edge knows both shields, every shield its peer', async () => {
      for (const edge of edges) if ((await metric(edge.url, 'streamedge_edge_shields')) !== 2) return undefined;
      for (const shield of shields) if ((await metric(shield.url, 'streamedge_edge_peers')) !== 1) return undefined;
      return true;
    }, 20_000);
    // Shields are a service of their own: the balancer's list (streamedge-edge) never holds one.
    assert.deepEqual(await passingIds(consul, 'streamedge-shield'), ['shield-eu-west', 'shield-us-east']);
    await waitFor('edges passing', async () => ((await passingIds(consul, 'streamedge-edge')).length === 4 ? true : undefined), 20_000);
    assert.ok((await passingIds(consul, 'streamedge-edge')).every((id) => id.startsWith('edge-')));
    const shieldMeta = (await (await fetch(`${consul.url}/v1/catalog/service/streamedge-shield`)).json()) as { ServiceMeta: Record<string, string> }[];
    assert.ok(shieldMeta.every((entry) => entry.ServiceMeta.tier === 'shield'));
    // The balancer shows the tier on /status, and selects among edges only.
    const balancer = await spawn(['balancer', '--port', '0', '--consul', consul.url]);
    const status = await waitFor('the balancer sees 4 edges and 2 shields', async () => {
      const report = (await (await fetch(`${balancer.url}/status`)).json()) as { edges: { id: string }[]; shields: { id: string; region: string }[] };
      return report.edges.length === 4 && report.shields.length === 2 ? report : undefined;
    }, 20_000);
    assert.deepEqual(status.shields.map((shield) => [shield.id, shield.region]), [['shield-eu-west', 'eu-west'], ['shield-us-east', 'us-east']]);
    assert.ok(status.edges.every((edge) => edge.id.startsWith('edge-')));

    const originRequests = async (): Promise<number> => (await Promise.all(replicas.map((origin) => metric(origin.url, 'streamedge_origin_requests_total', { kind: 'vod-segment' }).then(async (segments) => segments + (await metric(origin.url, 'streamedge_origin_requests_total', { kind: 'vod-playlist' })))))).reduce((a, b) => a + b, 0);
    const before = await originRequests();
    const answers = await Promise.all(edges.flatMap((edge) => TITLE.map(async (path) => ({ edge, path, answer: await get(`${edge.url}${path}`) }))));
    const direct = new Map(await Promise.all(TITLE.map(async (path) => [path, sha((await get(`${replicas[0]!.url}${path}`)).bytes)] as const)));
    for (const { edge, path, answer } of answers) {
      assert.equal(answer.status, 200, `${edge.url}${path}: ${answer.bytes.toString().slice(0, 200)}`);
      assert.equal(sha(answer.bytes), direct.get(path), path);
      // RFC 9211: the hops nearest the origin first, this edge's own member last.
      const members = answer.headers.get('cache-status')!.split(', ');
      assert.ok(members.length >= 2, `${path}: ${answer.headers.get('cache-status')}`);
      assert.match(members.at(-1)!, /^streamedge-edge-/);
      assert.ok(members.slice(0, -1).every((member) => member.startsWith('streamedge-shield-')), answer.headers.get('cache-status')!);
    }
    // Hedging asks a second replica on purpose; it is held off here so the count is the tier's alone.
    assert.equal((await Promise.all([...shields, ...edges].map((node) => metric(node.url, 'streamedge_edge_origin_hedges_total')))).reduce((a, b) => a + b, 0), 0);
    // One origin request per object of the title (the direct reads above are TITLE.length more).
    assert.equal((await originRequests()) - before, TITLE.length * 2, `origin requests: one per object (plus the test's own direct reads)\n${[...shields, ...edges].map((node) => node.output().split('\n').filter((line) => /warn|tier|peers changed|shields changed/.test(line)).join('\n')).join('\n')}`);
    // Some object was owned by the other region's shield: three hops in its Cache-Status.
    assert.ok(answers.some(({ answer }) => answer.headers.get('cache-status')!.split(', ').length === 3));
    for (const edge of edges) assert.ok((await metric(edge.url, 'streamedge_edge_upstream_tier_fetches_total', { tier: 'shield', result: 'answered' })) > 0);
  });

  it('with --sibling-hashing a region\'s edges ask the key\'s owner edge first, and a forged hop header is ignored', async () => {
    // Runs after the first test: its origins and shields (other regions, a fallback here) are still up.
    const common = ['--port', '0', '--consul', consul.url, '--workers', '1', '--prefetch', '0', '--region', 'ap-south', '--lat', '19.08', '--lon', '72.88', '--sibling-secret-file', secretFile, '--sibling-hashing'];
    const [first, second] = await Promise.all(['edge-sib-1', 'edge-sib-2'].map((id) => spawn(['edge', '--id', id, ...common])));
    for (const edge of [first!, second!]) {
      await waitFor('siblings known', async () => ((await metric(edge.url, 'streamedge_edge_peers')) === 1 && (await fetch(`${edge.url}/readyz`)).status === 200 ? true : undefined), 20_000);
    }
    const viaSibling: string[] = [];
    for (const path of TITLE) {
      const answer = await get(`${first!.url}${path}`);
      assert.equal(answer.status, 200);
      const members = answer.headers.get('cache-status')!.split(', ');
      assert.match(members.at(-1)!, /^streamedge-edge-sib-1; /);
      if (members.at(-2)?.startsWith('streamedge-edge-sib-2; ')) viaSibling.push(path);
    }
    // Rendezvous hashing over two edges: some keys are owned by each.
    assert.ok(viaSibling.length > 0 && viaSibling.length < TITLE.length, `${viaSibling.length} of ${TITLE.length} via the sibling`);
    // The owner kept what it fetched for its sibling: a hit there.
    for (const path of viaSibling) assert.match((await get(`${second!.url}${path}`)).headers.get('cache-status')!, /^streamedge-edge-sib-2; hit/);
    assert.ok((await metric(second!.url, 'streamedge_edge_peer_hops_total', { result: 'believed' })) >= viaSibling.length);
    // A viewer's made-up hop header is not believed (and changes nothing).
    const forged = await fetch(`${first!.url}${TITLE[0]}`, { headers: { 'x-streamedge-hop': 'edge-sib-2 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
    assert.equal(forged.status, 200);
    await forged.arrayBuffer();
    assert.equal(await metric(first!.url, 'streamedge_edge_peer_hops_total', { result: 'refused' }), 1);
  });

  it('a shield killed mid-body: the edge continues from the origin, and no viewer gets a failed or short response', async () => {
    const body = randomBytes(512 * 1024);
    const origin = await startTestOrigin();
    origins.push(origin);
    origin.route('/vod/slow/seg-00000.ts', dribbling(body, 16 * 1024, 40));
    const shield = await spawn(['edge', '--tier', 'shield', '--id', 'shield-kill', '--port', '0', '--origin', origin.url, '--workers', '1', '--prefetch', '0']);
    const edge = await spawn(['edge', '--id', 'edge-kill', '--port', '0', '--origin', origin.url, '--shield', shield.url, '--workers', '1', '--prefetch', '0']);
    const viewers = Array.from({ length: 3 }, () => get(`${edge.url}/vod/slow/seg-00000.ts`));
    // The shield is streaming the body to the edge when it dies.
    await waitFor('the shield has sent part of the body', async () => ((await metric(edge.url, 'streamedge_edge_inflight_fetches')) === 1 && origin.total() >= 1 ? true : undefined), 5_000, 20);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await shield.kill();
    for (const answer of await Promise.all(viewers)) {
      assert.equal(answer.status, 200);
      assert.equal(answer.bytes.length, body.length);
      assert.equal(sha(answer.bytes), sha(body));
    }
    // The rest came from the origin as a range, and the object was stored whole.
    assert.ok([...origin.hits.keys()].length >= 1);
    assert.equal(await metric(edge.url, 'streamedge_edge_upstream_tier_fetches_total', { tier: 'origin', result: 'resumed' }), 1);
    const hit = await get(`${edge.url}/vod/slow/seg-00000.ts`);
    assert.match(hit.headers.get('cache-status')!, /^streamedge-edge-kill; hit/);
    assert.equal(sha(hit.bytes), sha(body));
    // With its shield gone, a new object goes straight to the origin.
    origin.route('/vod/slow/seg-00001.ts', object(body.subarray(0, 1000)));
    const next = await get(`${edge.url}/vod/slow/seg-00001.ts`);
    assert.equal(next.status, 200);
    assert.ok(next.bytes.equals(body.subarray(0, 1000)));
  });

  it('a shield serving bytes that do not match their ETag: it is ejected and the fill fetched again from the origin, never storing the bad bytes', async () => {
    const good = randomBytes(64 * 1024);
    const origin = await startTestOrigin();
    const badShield = await startTestOrigin();
    origins.push(origin, badShield);
    origin.route('/vod/bad/seg-00000.ts', object(good));
    const corrupt = Buffer.from(good);
    corrupt[1000] = corrupt[1000]! ^ 0xff;
    badShield.route('/vod/bad/seg-00000.ts', (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp2t', etag: sha256Etag(good), 'cache-control': 'public, max-age=60', 'content-length': String(corrupt.length) });
      res.end(corrupt);
    });
    const edge = await spawn(['edge', '--id', 'edge-corrupt', '--port', '0', '--origin', origin.url, '--shield', badShield.url, '--workers', '1', '--prefetch', '0']);

    // The first viewer is cut before the last byte: never a complete-looking 200 with wrong bytes.
    await assert.rejects(get(`${edge.url}/vod/bad/seg-00000.ts`));
    assert.equal(await metric(edge.url, 'streamedge_edge_integrity_failures_total', { reason: 'etag-mismatch' }), 1);
    assert.equal(await metric(edge.url, 'streamedge_edge_tier_ejections_total', { reason: 'integrity' }), 1);
    assert.equal(await metric(edge.url, 'streamedge_edge_integrity_refetches_total', { tier: 'shield' }), 1);
    // The fill went on around the ejected shield to the origin and stored the right bytes: the next viewer hits.
    await waitFor('the fill fetched again from the origin', async () => (origin.hits.get('/vod/bad/seg-00000.ts') === 1 ? true : undefined), 5_000, 20);
    const second = await get(`${edge.url}/vod/bad/seg-00000.ts`);
    assert.equal(second.status, 200);
    assert.ok(second.bytes.equals(good));
    assert.match(second.headers.get('cache-status')!, /^streamedge-edge-corrupt; hit/);
    assert.equal(origin.hits.get('/vod/bad/seg-00000.ts'), 1);
    assert.equal(badShield.hits.get('/vod/bad/seg-00000.ts'), 1);
    // A new object skips the ejected shield too.
    origin.route('/vod/bad/seg-00001.ts', object(good));
    badShield.route('/vod/bad/seg-00001.ts', object(good));
    assert.ok((await get(`${edge.url}/vod/bad/seg-00001.ts`)).bytes.equals(good));
    assert.equal(badShield.hits.get('/vod/bad/seg-00001.ts'), undefined);
  });
});

/** Serves `body` in `chunk`-byte pieces every `everyMs`, with `bytes=N-` ranges, like a slow origin. */
function dribbling(body: Buffer, chunk: number, everyMs: number): Handler {
  const etag = sha256Etag(body);
  return (req, res) => {
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const headers = { 'content-type': 'video/mp2t', etag, 'cache-control': 'public, max-age=60', 'content-length': String(body.length - start) };
    res.writeHead(range ? 206 : 200, range ? { ...headers, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : headers);
    let at = start;
    const timer = setInterval(() => {
      if (at >= body.length) {
        clearInterval(timer);
        res.end();
        return;
      }
      res.write(body.subarray(at, at + chunk));
      at += chunk;
    }, everyMs);
    res.on('close', () => clearInterval(timer));
  };
}
