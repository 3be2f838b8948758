// /dashboard/samples against stand-in edges (their /metrics) and a stand-in Prometheus (its
// query_range answers), and the pure reading of an edge's exposition.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROMETHEUS_FILES_DIR } from '../../infra/prometheus/prometheus-config.js';
import { parsePrometheusText } from '../../infra/prometheus/prometheus-text.js';
import { DASHBOARD_RULES, type MetricsSamples, type PrometheusSeries } from '../../infra/prometheus/dashboard-samples.js';
import { edgeCountersFrom } from '../dashboard/edge-samples.js';
import { checkPrometheus, seriesByEdge } from '../dashboard/prometheus-series.js';
import { get } from './http-test-client.js';
import { STAND_IN_MASTER, standInMetrics, startStandInEdge, type StandInEdge } from './stand-in-edge.js';
import { edgeNode, startBalancer } from './test-balancer.js';

async function listening(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('edgeCountersFrom', () => {
  it('reads responses, cacheable, hits, origin bytes, upstream fills and their TTFB histogram from an edge exposition', () => {
    const seen = [
      { path: '/vod/demo-ts/master.m3u8', headers: {} },
      { path: '/vod/demo-ts/240p/seg-00001.ts', headers: {} },
      { path: '/vod/demo-ts/240p/seg-00002.ts', headers: {} },
      { path: '/metrics', headers: {} },
    ];
    const counters = edgeCountersFrom(parsePrometheusText(standInMetrics(seen)));
    assert.ok(counters);
    assert.equal(counters.responses, 4);
    assert.equal(counters.cacheable, 3);
    assert.equal(counters.hits, 2);
    assert.ok(counters.originBytes > 0);
    // +Inf travels as -1 (JSON has no Infinity).
    assert.deepEqual(counters.ttfb, { le: [0.005, 0.01, -1], counts: [0, 1, 1] });
    assert.deepEqual(counters.upstream.origin, { requests: 1, bytes: Buffer.byteLength(STAND_IN_MASTER) });
    assert.equal(edgeCountersFrom(parsePrometheusText('other_metric 1\n')), undefined);
  });

  it('counts requests sent to each tier above the node, and sums their response times; its own workers are no tier', () => {
    const counters = edgeCountersFrom(parsePrometheusText([
      'streamedge_edge_responses_total{cache_status="miss"} 9',
      'streamedge_edge_upstream_tier_fetches_total{tier="shield",result="answered"} 5',
      'streamedge_edge_upstream_tier_fetches_total{tier="shield",result="http-5xx"} 1',
      'streamedge_edge_upstream_tier_fetches_total{tier="shield",result="resumed"} 1',
      'streamedge_edge_upstream_tier_fetches_total{tier="origin",result="failed"} 2',
      'streamedge_edge_upstream_tier_fetches_total{tier="worker",result="answered"} 7',
      'streamedge_edge_upstream_tier_bytes_total{tier="shield"} 5000',
      'streamedge_edge_upstream_tier_bytes_total{tier="worker"} 7000',
      'streamedge_edge_upstream_tier_response_seconds_bucket{tier="shield",le="0.01"} 4',
      'streamedge_edge_upstream_tier_response_seconds_bucket{tier="shield",le="+Inf"} 6',
      'streamedge_edge_upstream_tier_response_seconds_bucket{tier="origin",le="0.01"} 0',
      'streamedge_edge_upstream_tier_response_seconds_bucket{tier="origin",le="+Inf"} 2',
      'streamedge_edge_upstream_tier_response_seconds_bucket{tier="worker",le="0.01"} 7',
      'streamedge_edge_upstream_tier_response_seconds_bucket{tier="worker",le="+Inf"} 7',
      '',
    ].join('\n')));
    assert.ok(counters);
    // A continuation ("resumed") is also counted as the fetch it made ("answered").
    assert.deepEqual(counters.upstream, { sibling: { requests: 0, bytes: 0 }, shield: { requests: 6, bytes: 5000 }, origin: { requests: 2, bytes: 0 } });
    assert.deepEqual(counters.ttfb, { le: [0.01, -1], counts: [4, 8] });
  });
});

describe('/dashboard/samples from the edges\' /metrics', () => {
  let us: StandInEdge, eu: StandInEdge, dead: StandInEdge;
  let hung: Server;
  let hungUrl: string;
  let b: Awaited<ReturnType<typeof startBalancer>>;
  before(async () => {
    [us, eu, dead] = await Promise.all([startStandInEdge('edge-1'), startStandInEdge('edge-3'), startStandInEdge('edge-9')]);
    await dead.kill();
    hung = createServer(() => {});
    hungUrl = await listening(hung);
    const edges = [
      edgeNode(us, 'us-east', 39.04, -77.49),
      edgeNode(eu, 'eu-west', 53.35, -6.26),
      edgeNode(dead, 'eu-west', 53.35, -6.26),
      { id: 'edge-hung', url: hungUrl, region: 'us-east', lat: 39.04, lon: -77.49, weight: 1 },
    ];
    // The dashboard scrapes with the response timeout; a short one keeps the hung edge quick.
    b = await startBalancer('steering', edges, { responseTimeoutMs: 400, probeIntervalMs: 0 });
  });
  after(async () => {
    await b?.close();
    hung?.closeAllConnections();
    hung?.close();
    await Promise.all([us?.kill(), eu?.kill()]);
  });

  it('answers every edge with its place, health and sessions, and counters or the reason there are none', async () => {
    const viewer = await get(`${b.url}/vod/demo-ts/master.m3u8?region=us-east`);
    assert.equal(viewer.status, 200);
    await get(`${us.url}/vod/demo-ts/240p/seg-00001.ts`);

    const startedAt = Date.now();
    const reply = await get(`${b.url}/dashboard/samples`);
    assert.ok(Date.now() - startedAt < 2000, 'a hung edge costs one timeout, not the whole answer');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['cache-control'], 'no-store');
    const samples = JSON.parse(reply.body) as MetricsSamples;
    assert.equal(samples.source, 'metrics');
    assert.ok(Math.abs(samples.at - startedAt) < 2000);
    assert.deepEqual(samples.edges.map((edge) => edge.id), ['edge-1', 'edge-3', 'edge-9', 'edge-hung']);

    const byId = new Map(samples.edges.map((edge) => [edge.id, edge]));
    const served = samples.edges.filter((edge) => edge.activeSessions === 1).map((edge) => edge.id);
    assert.equal(served.length, 1, 'the viewer holds one session on one edge');
    const first = byId.get('edge-1')!;
    assert.deepEqual([first.region, first.lat, first.lon, first.url, first.health], ['us-east', 39.04, -77.49, us.url, 'healthy']);
    assert.ok(first.counters && first.counters.hits >= 1 && first.counters.responses >= first.counters.cacheable);
    assert.ok(byId.get('edge-3')!.counters);
    assert.match(byId.get('edge-9')!.error ?? '', /^\/metrics: /);
    assert.equal(byId.get('edge-9')!.counters, undefined);
    assert.equal(byId.get('edge-hung')!.error, '/metrics timed out after 400 ms');
    assert.deepEqual(samples.shields, [], 'no shield without Consul');
  });

  it('serves /dashboard from the player directory (503 when it is not built)', async () => {
    assert.equal((await get(`${b.url}/dashboard`)).status, 503);
  });
});

describe('/dashboard/samples with --prometheus', () => {
  const asked: URLSearchParams[] = [];
  let prometheus: Server;
  let prometheusUrl: string;
  let edge: StandInEdge;
  let b: Awaited<ReturnType<typeof startBalancer>>;
  before(async () => {
    prometheus = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://prometheus');
      res.setHeader('content-type', 'application/json');
      if (url.pathname === '/api/v1/status/buildinfo') return void res.end(JSON.stringify({ status: 'success', data: { version: '2.42.0' } }));
      if (url.pathname !== '/api/v1/query_range') return void res.writeHead(404).end('{}');
      asked.push(url.searchParams);
      if (url.searchParams.get('query') === DASHBOARD_RULES.ttfbP99) {
        res.statusCode = 422;
        return void res.end(JSON.stringify({ status: 'error', errorType: 'execution', error: 'query timed out' }));
      }
      const start = Number(url.searchParams.get('start'));
      res.end(JSON.stringify({
        status: 'success',
        data: { resultType: 'matrix', result: [{ metric: { id: 'edge-1', region: 'us-east' }, values: [[start, '3.5'], [start + 4, 'NaN']] }] },
      }));
    });
    prometheusUrl = await listening(prometheus);
    edge = await startStandInEdge('edge-1');
    b = await startBalancer('steering', [edgeNode(edge, 'us-east', 39.04, -77.49)], { prometheusUrl, probeIntervalMs: 0 });
  });
  after(async () => {
    await b?.close();
    prometheus?.close();
    await edge?.kill();
  });

  it('plots each recording rule per edge over the asked window, naming the query that failed', async () => {
    const reply = await get(`${b.url}/dashboard/samples?window=960`);
    assert.equal(reply.status, 200);
    const answer = JSON.parse(reply.body) as PrometheusSeries;
    assert.equal(answer.source, 'prometheus');
    assert.equal(answer.range.end - answer.range.start, 960);
    assert.equal(answer.range.step, 4);
    assert.deepEqual(answer.edges.map((e) => [e.id, e.health]), [['edge-1', 'healthy']]);
    assert.deepEqual(answer.series.requests, { 'edge-1': [[answer.range.start, 3.5], [answer.range.start + 4, null]] });
    assert.deepEqual(answer.series.ttfbP99, {});
    assert.deepEqual(answer.errors, { ttfbP99: 'Prometheus: query timed out' });
    assert.deepEqual(asked.map((params) => params.get('query')).sort(), Object.values(DASHBOARD_RULES).sort());
    // The tier view reads the nodes' own counters (no recording rule covers the shields).
    assert.equal(edge.seen.filter((request) => request.path === '/metrics').length, 1, 'each edge scraped once per answer');
    assert.equal(answer.scraped.edges[0]!.id, 'edge-1');
    assert.ok(answer.scraped.edges[0]!.counters);
  });

  it('refuses a window outside 60 s … 1 day', async () => {
    for (const window of ['10', 'abc', '100000']) assert.equal((await get(`${b.url}/dashboard/samples?window=${window}`)).status, 400);
  });

  it('checkPrometheus accepts a Prometheus and names anything else', async () => {
    assert.equal(await checkPrometheus(prometheusUrl, 1000), '2.42.0');
    await assert.rejects(checkPrometheus(edge.url, 1000), /did not answer \/api\/v1\/status\/buildinfo as Prometheus does \(HTTP 404\)/);
  });

  it('seriesByEdge refuses what is not a matrix', () => {
    assert.throws(() => seriesByEdge({ status: 'success', data: { resultType: 'vector', result: [] } }), /expected a matrix/);
    assert.throws(() => seriesByEdge(undefined), /not a success answer/);
  });
});

describe('DASHBOARD_RULES', () => {
  it('names only rules the shipped recording rules record', async () => {
    const rules = await readFile(join(PROMETHEUS_FILES_DIR, 'rules', 'streamedge-recording.yml'), 'utf8');
    const recorded = new Set([...rules.matchAll(/^\s*- record: (\S+)$/gm)].map((match) => match[1]!));
    for (const rule of Object.values(DASHBOARD_RULES)) assert.ok(recorded.has(rule), `${rule} is not recorded`);
  });
});
