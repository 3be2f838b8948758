// Benchmark: how well three edges share one catalog. ≥200 assets with Zipf(0.9) popularity,
// ≥20,000 segment requests from ≥150 concurrent viewers, replayed identically (seeded) under three
// ways of choosing an edge: the balancer's bounded-load consistent hashing (redirect front), and
// client-side round-robin and random for comparison. Reports origin bytes against the single-cache
// ideal (every distinct object fetched once) and per-edge load. Then the tiers (tiered-fill.ts):
// 2 regions × 3 edges without shields, with a shield per region, and with sibling hashing.
// Run: npm run bench:cluster (-- --part tiers for the second half alone)
import { rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { parseCommandOptions } from '../infra/runtime/command-options.js';
import { SHIPPED_LOCATIONS_FILE } from '../stack/stack-topology.js';
import { ensureTestCatalog } from '../origin/test/catalog-fixture.js';
import { runBenchmark, type BenchResources } from './bench-runner.js';
import { startBenchService } from './bench-services.js';
import { originSegmentBytes, originSegmentRequests } from './metric-scrape.js';
import { atMost, publishReport, type TargetCheck } from './report.js';
import { buildSyntheticCatalog } from './synthetic-catalog.js';
import { seededRandom } from '../infra/testing/zipf.js';
import { drain, planSessions, type ViewerSession } from './viewer-sessions.js';
import { compareTierLayouts } from './tiered-fill.js';

const OPTIONS = {
  assets: { kind: 'integer', description: 'assets in the catalog', default: 200, min: 2, max: 5000 },
  segments: { kind: 'integer', description: 'segments per asset', default: 6, min: 1, max: 100 },
  requests: { kind: 'integer', description: 'segment requests per strategy', default: 20_000, min: 100, max: 1_000_000 },
  viewers: { kind: 'integer', description: 'concurrent viewers (every viewing from its own 127.1.x.y address)', default: 160, min: 1, max: 1000 },
  'session-ttl': { kind: 'duration', description: 'balancer --session-ttl: viewings here last well under a second, not minutes', default: 1000, min: 1000 },
  zipf: { kind: 'number', description: 'Zipf exponent of asset popularity', default: 0.9, min: 0, max: 3 },
  seed: { kind: 'integer', description: 'random seed (same sequence for every strategy)', default: 42 },
  rendition: { kind: 'string', description: 'rendition requested', default: '240p', choices: ['240p', '480p', '720p'] },
  'cache-size': { kind: 'string', description: 'cache size per edge (large enough that nothing is evicted)', default: '512MB' },
  part: { kind: 'string', description: 'strategies: 3 edges, three ways of choosing one; tiers: 2 regions × 3 edges without and with shields and sibling hashing', default: 'all', choices: ['all', 'strategies', 'tiers'] },
} as const;

type Strategy = 'bounded-load hashing' | 'round-robin' | 'random';
const STRATEGIES: readonly Strategy[] = ['bounded-load hashing', 'round-robin', 'random'];
const EDGE_IDS = ['edge-1', 'edge-2', 'edge-3'];

interface StrategyOutcome {
  readonly requestsPerEdge: Map<string, number>;
  readonly failed: number;
  readonly originBytes: number;
  readonly originRequests: number;
  readonly seconds: number;
  /** Steady-state samples of the balancer's active sessions per edge, highest max/avg first. */
  readonly sessionSamples: readonly { readonly imbalance: number; readonly counts: readonly number[] }[];
}

async function runStrategy(
  resources: BenchResources,
  strategy: Strategy,
  catalogDir: string,
  sessions: readonly ViewerSession[],
  options: { rendition: string; viewers: number; cacheSize: string; seed: number; sessionTtlMs: number },
): Promise<StrategyOutcome> {
  // A fresh origin, edges and balancer per strategy: every strategy starts with cold caches.
  const stopSteps: (() => Promise<unknown>)[] = [];
  const scoped: BenchResources = { guard: resources.guard, defer: (step) => stopSteps.push(step) };
  try {
    const origin = await startBenchService(scoped, ['origin', '--port', '0', '--id', 'bench-origin', '--content', catalogDir]);
    const edges = await Promise.all(
      EDGE_IDS.map((id) =>
        startBenchService(scoped, ['edge', '--port', '0', '--id', id, '--origin', origin.url, '--cache-size', options.cacheSize, '--workers', '1', '--prefetch', '0']),
      ),
    );
    const edgeByUrl = new Map(edges.map((edge, i) => [edge.url, EDGE_IDS[i]!]));
    const balancer = await startBenchService(scoped, [
      'balancer', '--port', '0', '--mode', 'redirect', '--locations', SHIPPED_LOCATIONS_FILE, '--session-ttl', `${options.sessionTtlMs}ms`,
      ...edges.map((edge, i) => ['--edge', `${edge.url};id=${EDGE_IDS[i]};region=us-east;lat=39.04;lon=-77.49`]).flat(),
    ]);
    const startBytes = await originSegmentBytes(origin.url);
    const startRequests = await originSegmentRequests(origin.url);

    const requestsPerEdge = new Map(EDGE_IDS.map((id) => [id, 0]));
    let failed = 0;
    let roundRobin = 0;
    const random = seededRandom(options.seed + 1);
    let nextSession = 0;
    const started = performance.now();
    const viewer = async (): Promise<void> => {
      while (nextSession < sessions.length) {
        const session = sessions[nextSession++]!;
        const segments = session.asset.segments.get(options.rendition)!;
        const dispatcher = new Agent({ localAddress: session.address, keepAliveTimeout: 10_000 });
        try {
          for (let n = 0; n < session.length; n++) {
            const path = segments[n]!.path;
            let edgeUrl: string;
            if (strategy === 'bounded-load hashing') {
              const redirect = await request(`${balancer.url}${path}`, { dispatcher });
              await redirect.body.dump();
              const location = redirect.headers.location;
              if (redirect.statusCode !== 302 || typeof location !== 'string') throw new Error(`balancer answered ${redirect.statusCode} for ${path}`);
              edgeUrl = new URL(location).origin;
            } else {
              edgeUrl = strategy === 'round-robin' ? edges[roundRobin++ % edges.length]!.url : edges[Math.floor(random() * edges.length)]!.url;
            }
            const response = await request(`${edgeUrl}${path}`, { dispatcher });
            const bytes = await drain(response.body);
            const edgeId = edgeByUrl.get(edgeUrl);
            if (response.statusCode !== 200 || bytes !== segments[n]!.bytes || !edgeId) failed++;
            else requestsPerEdge.set(edgeId, requestsPerEdge.get(edgeId)! + 1);
          }
        } finally {
          await dispatcher.close();
        }
      }
    };
    // What the bound applies to: the balancer's active sessions per edge, sampled in the steady
    // state (one session TTL after the start, while every viewer is still busy), so neither the
    // ramp-up nor the last viewers finishing are read as imbalance.
    const sessionSamples: { imbalance: number; counts: number[] }[] = [];
    const sampleSessions = async (): Promise<void> => {
      if (performance.now() - started < options.sessionTtlMs + 1000 || nextSession >= sessions.length) return;
      const status = (await (await fetch(`${balancer.url}/status`)).json()) as { edges?: { activeSessions?: number }[] };
      const counts = (status.edges ?? []).map((edge) => edge.activeSessions ?? 0);
      const total = counts.reduce((sum, count) => sum + count, 0);
      if (counts.length === EDGE_IDS.length && total > 0) sessionSamples.push({ imbalance: Math.max(...counts) / (total / counts.length), counts });
    };
    const sampler = strategy === 'bounded-load hashing' ? setInterval(() => void sampleSessions().catch(() => {}), 250) : undefined;
    try {
      await Promise.all(Array.from({ length: options.viewers }, viewer));
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      requestsPerEdge,
      failed,
      originBytes: (await originSegmentBytes(origin.url)) - startBytes,
      originRequests: (await originSegmentRequests(origin.url)) - startRequests,
      seconds,
      sessionSamples: sessionSamples.sort((a, b) => b.imbalance - a.imbalance),
    };
  } finally {
    for (const step of stopSteps.reverse()) await step();
  }
}

await runBenchmark('cluster-efficiency', async (resources) => {
  const options = parseCommandOptions('bench:cluster', 'Cluster cache efficiency of edge-selection strategies.', OPTIONS, process.argv.slice(2));
  const catalogDir = join(tmpdir(), `streamedge-bench-cluster-catalog-${process.pid}`);
  resources.defer(() => rm(catalogDir, { recursive: true, force: true }));
  console.log(`preparing ${options.assets} assets × ${options.segments} segments (real HLS, hard-linked)…`);
  const assets = await buildSyntheticCatalog({
    sourceDir: await ensureTestCatalog(),
    sourceAsset: 'demo-ts',
    dir: catalogDir,
    assetCount: options.assets,
    segmentsPerRendition: options.segments,
  });
  const sessions = planSessions(assets, options.rendition, options.requests, options.zipf, options.seed);
  const distinct = new Map<string, number>();
  for (const session of sessions) {
    for (const segment of session.asset.segments.get(options.rendition)!.slice(0, session.length)) distinct.set(segment.path, segment.bytes);
  }
  const idealBytes = [...distinct.values()].reduce((sum, bytes) => sum + bytes, 0);
  console.log(`${sessions.length} viewing sessions, ${options.requests} segment requests, ${distinct.size} distinct segments (${(idealBytes / 1e6).toFixed(1)} MB ideal)`);

  const rows: (string | number)[][] = [];
  const targets: TargetCheck[] = [];
  for (const strategy of options.part === 'tiers' ? [] : STRATEGIES) {
    console.log(`running ${strategy}…`);
    const outcome = await runStrategy(resources, strategy, catalogDir, sessions, {
      rendition: options.rendition,
      viewers: options.viewers,
      cacheSize: options['cache-size'],
      seed: options.seed,
      sessionTtlMs: options['session-ttl'],
    });
    const loads = [...outcome.requestsPerEdge.values()];
    const average = loads.reduce((sum, load) => sum + load, 0) / loads.length;
    const imbalance = Math.max(...loads) / average;
    const overIdeal = outcome.originBytes / idealBytes;
    const worst = outcome.sessionSamples[0];
    const middle = outcome.sessionSamples[Math.floor(outcome.sessionSamples.length / 2)];
    const sessionImbalance = worst?.imbalance;
    const sessionCell = worst && middle ? `${worst.imbalance.toFixed(2)} (${worst.counts.join(' / ')}); median ${middle.imbalance.toFixed(2)} of ${outcome.sessionSamples.length}` : '-';
    rows.push([strategy, outcome.originBytes / 1e6, overIdeal, outcome.originRequests, loads.join(' / '), imbalance, sessionCell, outcome.failed, options.requests / outcome.seconds]);
    if (strategy === 'bounded-load hashing') {
      targets.push(atMost('origin bytes / single-cache ideal (bounded-load hashing)', Number(overIdeal.toFixed(3)), 1.1));
      targets.push(atMost('max / average segment requests per edge (bounded-load hashing)', Number(imbalance.toFixed(3)), 1.25));
      if (sessionImbalance !== undefined) targets.push(atMost('max / average active sessions per edge, worst sample (bounded-load hashing)', Number(sessionImbalance.toFixed(3)), 1.25));
      targets.push(atMost('failed or short segment responses (bounded-load hashing)', outcome.failed, 0));
    }
  }
  const tiers = options.part === 'strategies'
    ? undefined
    : await compareTierLayouts(resources, catalogDir, sessions, {
        rendition: options.rendition,
        viewers: options.viewers,
        cacheSize: options['cache-size'],
        sessionTtlMs: options['session-ttl'],
        idealBytes,
        requests: options.requests,
      });
  await publishReport({
    benchmark: 'cluster-efficiency',
    settings: { ...options, cores: availableParallelism(), sessions: sessions.length, distinctSegments: distinct.size, idealBytes },
    tables: [
      {
        title: `${options.requests} segment requests over ${options.assets} assets, Zipf(${options.zipf}), 3 edges`,
        columns: ['strategy', 'origin MB', '× ideal', 'origin reqs', 'requests per edge', 'max/avg', 'sessions max/avg: worst; median', 'failed', 'req/s'],
        rows,
      },
      ...(tiers ? [tiers.table] : []),
    ].filter((table) => table.rows.length > 0),
    targets: [...targets, ...(tiers?.targets ?? [])],
    notes: [
      ...(tiers?.notes ?? []),
      'Load is reported two ways: segment requests served per edge over the run, and the balancer\'s active (viewer, asset) sessions per edge (what bounded load caps), sampled every 250 ms in the steady state.',
      `Every viewing is a distinct viewer (its own client address); ${options.viewers} watch at once. The balancer runs with --session-ttl ${options['session-ttl']} ms because these viewings last well under a second.`,
    ],
  });
});
