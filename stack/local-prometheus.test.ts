import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetricsSamples } from '../infra/prometheus/dashboard-samples.js';
import { waitFor } from '../infra/testing/wait-for.js';
import { startLiveStack } from './test/live-stack-fixture.js';
import { isProcessAlive } from '../infra/runtime/process-alive.js';
import { PrometheusMissingError, startLocalPrometheus } from './local-prometheus.js';
import { QUICK_STOP_ARGS } from './test/quick-stop-fixture.js';

interface Target {
  readonly labels: Record<string, string>;
  readonly health: string;
  readonly scrapeUrl: string;
}

async function prometheusApi<T>(base: string, path: string): Promise<T> {
  const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(2000) });
  const body = (await response.json()) as { status: string; data: T; error?: string };
  assert.equal(body.status, 'success', `${path}: ${body.error ?? ''}`);
  return body.data;
}

async function instantQuery(base: string, query: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  return (await prometheusApi<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(base, `/api/v1/query?query=${encodeURIComponent(query)}`)).result;
}

test('with metrics the local stack runs Prometheus: it finds edges and origins in Consul, scrapes them all and the live encoder, and the rules record', { timeout: 120_000 }, async (t) => {
  const { stack } = await startLiveStack(t, 'streamedge-prometheus-stack-', (_dir, contentDir) => ({
    contentDir,
    live: { id: 'channel-1', input: 'lavfi:testsrc2=size=320x180:rate=30', args: ['--rendition', '144p', '--preset', 'ultrafast'] },
    originCount: 1,
    edges: [
      { id: 'edge-1', region: 'us-east', lat: 39.04, lon: -77.49 },
      { id: 'edge-3', region: 'eu-west', lat: 53.35, lon: -6.26 },
    ],
    edgeCacheSize: '64MB',
    metrics: { interval: '1s' },
    extraArgs: QUICK_STOP_ARGS,
  }));
  const prometheus = stack.prometheus;
  assert.ok(prometheus, 'no Prometheus with metrics');
  t.diagnostic(`prometheus ready ${prometheus.readyAfterMs} ms after spawn`);

  const discoveredAt = Date.now();
  const targets = await waitFor(
    'every service scraped and up',
    async () => {
      const { activeTargets } = await prometheusApi<{ activeTargets: Target[] }>(prometheus.url, '/api/v1/targets?state=active');
      return activeTargets.length === 5 && activeTargets.every((target) => target.health === 'up') ? activeTargets : undefined;
    },
    30_000,
    250,
  );
  t.diagnostic(`${targets.length} targets up ${Date.now() - discoveredAt} ms after Prometheus was ready`);
  const byId = new Map(targets.map((target) => [target.labels.id, target]));
  assert.deepEqual([...byId.keys()].sort(), ['balancer', 'channel-1', 'edge-1', 'edge-3', 'origin-1']);
  assert.equal(byId.get('edge-1')!.labels.job, 'streamedge-edge');
  assert.equal(byId.get('edge-1')!.labels.region, 'us-east');
  assert.equal(byId.get('edge-3')!.labels.region, 'eu-west');
  assert.equal(byId.get('edge-3')!.scrapeUrl, `${stack.edges[1]!.url}/metrics`);
  assert.equal(byId.get('origin-1')!.labels.job, 'streamedge-origin');
  assert.equal(byId.get('balancer')!.labels.job, 'streamedge-balancer');
  assert.equal(byId.get('channel-1')!.labels.job, 'streamedge-live');
  // The encoder publishes: the age StreamedgeLiveChannelStalled reads stays below a few segments.
  const age = await waitFor('the live encoder scraped', async () => (await instantQuery(prometheus.url, 'streamedge_live_last_publish_age_seconds{job="streamedge-live", rendition="144p"}'))[0], 10_000, 250);
  assert.ok(Number(age.value[1]) < 6, `publish age ${age.value[1]} s`);

  // Once scraped, a miss then hits on edge-1, so its request rate and hit ratio have something to
  // show; recording rules evaluate every second.
  for (let i = 0; i < 5; i++) {
    const response = await fetch(`${stack.edges[0]!.url}/vod/demo-ts/master.m3u8`);
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  const rate = await waitFor(

    'a request rate recorded for edge-1',
    async () => (await instantQuery(prometheus.url, 'id_region:streamedge_edge_responses:rate1m{id="edge-1"} > 0'))[0],
    20_000,
    250,
  );
  assert.equal(rate.metric.region, 'us-east');
  // The request rate also counts health checks, so it can be recorded before the viewer requests
  // are in two scrapes: the hit ratio is then 0 for a moment. Waited for, then judged as before.
  let ratio: Awaited<ReturnType<typeof instantQuery>> = [];
  await waitFor('a hit ratio above 0.5 recorded for edge-1', async () => {
    ratio = await instantQuery(prometheus.url, 'id_region:streamedge_edge_hit_ratio:rate5m{id="edge-1"}');
    return Number(ratio[0]?.value[1]) > 0.5 ? true : undefined;
  }, 20_000, 250).catch(() => undefined);
  assert.ok(Number(ratio[0]?.value[1]) > 0.5, `hit ratio of edge-1: ${JSON.stringify(ratio)}`);
  // The balancer's dashboard plots the same recording rules, read from this Prometheus (its window
  // ends on a whole second, so it may trail the instant query by one evaluation).
  type Samples = { source: string; series: Record<string, Record<string, [number, number | null][]>>; errors: Record<string, string>; scraped: MetricsSamples };
  const samples = await waitFor(
    'edge-1 requests on the dashboard',
    async () => {
      const body = (await (await fetch(`${stack.balancerUrl}/dashboard/samples?window=60`)).json()) as Samples;
      return body.series.requests?.['edge-1']?.some(([, value]) => value !== null && value > 0) ? body : undefined;
    },
    10_000,
    250,
  );
  assert.equal(samples.source, 'prometheus');
  assert.deepEqual(samples.errors, {});
  // The tier view's counters come from the edges themselves beside Prometheus's series.
  assert.deepEqual(samples.scraped.edges.filter((edge) => edge.counters === undefined), []);
  assert.ok(samples.scraped.edges.find((edge) => edge.id === 'edge-1')!.counters!.upstream.origin.requests >= 1, 'edge-1 filled from the origins');
  // Every alert rule is loaded and, with everything up, none fires.
  const { groups } = await prometheusApi<{ groups: { rules: { type: string; name: string; state?: string }[] }[] }>(prometheus.url, '/api/v1/rules');
  const alerts = groups.flatMap((group) => group.rules).filter((rule) => rule.type === 'alerting');
  assert.ok(alerts.length >= 8, alerts.map((rule) => rule.name).join(', '));
  assert.deepEqual(alerts.filter((rule) => rule.state === 'firing').map((rule) => rule.name), []);

  const pid = prometheus.pid!;
  await stack.stop();
  assert.equal(isProcessAlive(pid), false, 'prometheus outlived stop()');
  await assert.rejects(fetch(`${prometheus.url}/-/ready`, { signal: AbortSignal.timeout(1000) }));
});

test('a missing Prometheus binary is a clear start-up error', async () => {
  await assert.rejects(
    startLocalPrometheus({ consulUrl: 'http://127.0.0.1:9', balancers: [], binary: '/nonexistent/prometheus' }),
    (error: unknown) => error instanceof PrometheusMissingError && /apt-get install --no-install-recommends prometheus/.test(error.message),
  );
});
