// The tier half of bench:cluster: 2 regions × 3 edges behind the balancer (redirect front, bounded
// loads, every viewer placed by a ?region= hint, half in each region), replaying the same Zipf
// sessions under three layouts — edges straight to the origin; with one shield per region (shields
// hashing keys among themselves); and with sibling hashing among each region's edges on top. Each
// layout runs on its own Consul dev agent with cold caches. Reports origin bytes against the
// single-cache ideal, edge load, and each layout's time to first byte on an edge miss.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startDevAgent } from '../infra/consul/dev-agent.js';
import { waitFor } from '../infra/testing/wait-for.js';
import type { BenchResources } from './bench-runner.js';
import { startBenchService } from './bench-services.js';
import { originSegmentBytes, originSegmentRequests, scrapeMetric } from './metric-scrape.js';
import { atMost, type BenchTable, type TargetCheck } from './report.js';
import { drain, type ViewerSession } from './viewer-sessions.js';

export type TierLayout = 'no shields' | 'shields' | 'shields + sibling hashing';
export const TIER_LAYOUTS: readonly TierLayout[] = ['no shields', 'shields', 'shields + sibling hashing'];

const REGIONS = [
  { region: 'us-east', lat: '39.04', lon: '-77.49' },
  { region: 'eu-west', lat: '53.35', lon: '-6.26' },
] as const;
const EDGES_PER_REGION = 3;

export interface TierRunOptions {
  readonly rendition: string;
  readonly viewers: number;
  readonly cacheSize: string;
  readonly sessionTtlMs: number;
  readonly idealBytes: number;
  readonly requests: number;
}

interface LayoutOutcome {
  readonly originBytes: number;
  readonly originRequests: number;
  readonly requestsPerEdge: Map<string, number>;
  readonly failed: number;
  /** Why requests failed (status or error), and the tiers that passed fetches on, with reasons. */
  readonly failures: Map<string, number>;
  readonly fallbacks: string;
  readonly seconds: number;
  /** Time to first byte of segment requests the edge missed (ms), and of those every tier missed. */
  readonly edgeMissTtfb: number[];
  readonly fullMissTtfb: number[];
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function runLayout(resources: BenchResources, layout: TierLayout, catalogDir: string, sessions: readonly ViewerSession[], options: TierRunOptions): Promise<LayoutOutcome> {
  const stopSteps: (() => Promise<unknown>)[] = [];
  const scoped: BenchResources = { guard: resources.guard, defer: (step) => stopSteps.push(step) };
  const secretDir = await mkdtemp(join(tmpdir(), 'streamedge-bench-tiers-'));
  try {
    const consul = await startDevAgent();
    stopSteps.push(() => consul.stop());
    const secretFile = join(secretDir, 'sibling.secret');
    await writeFile(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    const shared = ['--port', '0', '--consul', consul.url, '--workers', '1', '--prefetch', '0', '--drain-delay', '0', '--cache-size', options.cacheSize];
    const peers = layout === 'no shields' ? [] : ['--sibling-secret-file', secretFile];
    const origin = await startBenchService(scoped, ['origin', '--port', '0', '--id', 'bench-origin', '--content', catalogDir, '--consul', consul.url]);
    const shields = layout === 'no shields' ? [] : await Promise.all(REGIONS.map(({ region, lat, lon }) =>
      startBenchService(scoped, ['edge', '--tier', 'shield', '--id', `shield-${region}`, '--region', region, '--lat', lat, '--lon', lon, ...shared, ...peers])));
    const edgeIds: string[] = [];
    const edges = await Promise.all(REGIONS.flatMap(({ region, lat, lon }) => Array.from({ length: EDGES_PER_REGION }, (_, i) => {
      const id = `edge-${region}-${i + 1}`;
      edgeIds.push(id);
      return startBenchService(scoped, ['edge', '--id', id, '--region', region, '--lat', lat, '--lon', lon, ...shared, ...peers, ...(layout === 'shields + sibling hashing' ? ['--sibling-hashing'] : [])]);
    })));
    const edgeByUrl = new Map(edges.map((edge, i) => [edge.url, edgeIds[i]!]));
    const balancer = await startBenchService(scoped, ['balancer', '--port', '0', '--mode', 'redirect', '--consul', consul.url, '--session-ttl', `${options.sessionTtlMs}ms`]);
    await waitFor(`${layout}: the balancer sees every edge, edges their shields and siblings, shields each other`, async () => {
      const status = (await (await fetch(`${balancer.url}/status`)).json()) as { edges?: { healthy?: boolean }[] };
      if ((status.edges ?? []).length !== edges.length) return undefined;
      for (const edge of edges) {
        if ((await scrapeMetric(edge.url, 'streamedge_edge_shields')) !== shields.length) return undefined;
        if (layout === 'shields + sibling hashing' && (await scrapeMetric(edge.url, 'streamedge_edge_peers')) !== EDGES_PER_REGION - 1) return undefined;
      }
      for (const shield of shields) if ((await scrapeMetric(shield.url, 'streamedge_edge_peers')) !== shields.length - 1) return undefined;
      return true;
    }, 60_000, 250);
    const startBytes = await originSegmentBytes(origin.url);
    const startRequests = await originSegmentRequests(origin.url);

    const requestsPerEdge = new Map(edgeIds.map((id) => [id, 0]));
    const edgeMissTtfb: number[] = [];
    const fullMissTtfb: number[] = [];
    let failed = 0;
    const failures = new Map<string, number>();
    const failure = (why: string): void => {
      failed++;
      failures.set(why, (failures.get(why) ?? 0) + 1);
    };
    let nextSession = 0;
    const started = performance.now();
    const viewer = async (): Promise<void> => {
      while (nextSession < sessions.length) {
        const index = nextSession++;
        const session = sessions[index]!;
        const region = REGIONS[index % REGIONS.length]!.region;
        const segments = session.asset.segments.get(options.rendition)!;
        const dispatcher = new Agent({ localAddress: session.address, keepAliveTimeout: 10_000 });
        try {
          for (let n = 0; n < session.length; n++) {
            const path = segments[n]!.path;
            const redirect = await request(`${balancer.url}${path}?region=${region}`, { dispatcher });
            const refusal = redirect.statusCode === 302 ? '' : (await redirect.body.text()).slice(0, 80);
            if (redirect.statusCode === 302) await redirect.body.dump();
            const location = redirect.headers.location;
            if (redirect.statusCode !== 302 || typeof location !== 'string') {
              failure(`balancer ${redirect.statusCode} ${refusal}`);
              continue;
            }
            const edgeUrl = new URL(location).origin;
            const sent = performance.now();
            let response: Awaited<ReturnType<typeof request>>;
            let bytes: number;
            try {
              response = await request(`${edgeUrl}${path}`, { dispatcher });
              bytes = await drain(response.body);
            } catch (error) {
              failure((error as Error).message);
              continue;
            }
            const ttfb = performance.now() - sent;
            const edgeId = edgeByUrl.get(edgeUrl);
            if (response.statusCode !== 200 || bytes !== segments[n]!.bytes || !edgeId) {
              failure(response.statusCode !== 200 ? `status ${response.statusCode} ${String(response.headers['cache-status'] ?? '')}` : 'short body');
              continue;
            }
            requestsPerEdge.set(edgeId, requestsPerEdge.get(edgeId)! + 1);
            const members = String(response.headers['cache-status'] ?? '').split(', ');
            if (!members.at(-1)!.includes('fwd=miss')) continue;
            edgeMissTtfb.push(ttfb);
            if (members.every((member) => member.includes('fwd=miss'))) fullMissTtfb.push(ttfb);
          }
        } finally {
          await dispatcher.close();
        }
      }
    };
    await Promise.all(Array.from({ length: options.viewers }, viewer));
    const seconds = (performance.now() - started) / 1000;
    const metricsOf = async (url: string): Promise<string> => (await fetch(`${url}/metrics`)).text();
    const fallbackLines = (await Promise.all([...shields, ...edges].map((node) => metricsOf(node.url)))).flatMap((text) => text.split('\n').filter((line) => line.startsWith('streamedge_edge_upstream_fallbacks_total')));
    const fallbackTotals = new Map<string, number>();
    for (const line of fallbackLines) {
      const [labels, value] = line.split(' ');
      fallbackTotals.set(labels!, (fallbackTotals.get(labels!) ?? 0) + Number(value));
    }
    return {
      failures,
      fallbacks: [...fallbackTotals].map(([labels, value]) => `${labels.replace('streamedge_edge_upstream_fallbacks_total', '')} ${value}`).join('; ') || 'none',
      originBytes: (await originSegmentBytes(origin.url)) - startBytes,
      originRequests: (await originSegmentRequests(origin.url)) - startRequests,
      requestsPerEdge,
      failed,
      seconds,
      edgeMissTtfb,
      fullMissTtfb,
    };
  } finally {
    for (const step of stopSteps.reverse()) await step();
    await rm(secretDir, { recursive: true, force: true });
  }
}

/** Runs every layout in turn; the table, targets and notes for the report. */
export async function compareTierLayouts(resources: BenchResources, catalogDir: string, sessions: readonly ViewerSession[], options: TierRunOptions): Promise<{ table: BenchTable; targets: TargetCheck[]; notes: string[] }> {
  const rows: (string | number)[][] = [];
  const targets: TargetCheck[] = [];
  const missP50 = new Map<TierLayout, number>();
  const missP99 = new Map<TierLayout, number>();
  const notes: string[] = [];
  for (const layout of TIER_LAYOUTS) {
    console.log(`running 2 regions × ${EDGES_PER_REGION} edges, ${layout}…`);
    const outcome = await runLayout(resources, layout, catalogDir, sessions, options);
    const loads = [...outcome.requestsPerEdge.values()];
    const imbalance = Math.max(...loads) / (loads.reduce((sum, load) => sum + load, 0) / loads.length);
    const overIdeal = outcome.originBytes / options.idealBytes;
    // The hop's cost shows on misses every tier missed (with shields) against edge misses without them.
    const misses = layout === 'no shields' ? outcome.edgeMissTtfb : outcome.fullMissTtfb;
    missP50.set(layout, percentile(misses, 50));
    missP99.set(layout, percentile(misses, 99));
    rows.push([
      layout, outcome.originBytes / 1e6, overIdeal, outcome.originRequests, loads.join(' / '), imbalance,
      `${percentile(outcome.edgeMissTtfb, 50).toFixed(1)} / ${percentile(outcome.edgeMissTtfb, 99).toFixed(1)} (${outcome.edgeMissTtfb.length})`,
      layout === 'no shields' ? '-' : `${percentile(outcome.fullMissTtfb, 50).toFixed(1)} / ${percentile(outcome.fullMissTtfb, 99).toFixed(1)} (${outcome.fullMissTtfb.length})`,
      outcome.failed, options.requests / outcome.seconds,
    ]);
    // Without shields the figure is today's, reported in the table; the target is the shield tier's.
    if (layout !== 'no shields') targets.push(atMost(`origin bytes / single-cache ideal, 2 regions × 3 edges, ${layout}`, Number(overIdeal.toFixed(3)), 1.02));
    targets.push(atMost(`max / average segment requests per edge, ${layout}`, Number(imbalance.toFixed(3)), 1.25));
    targets.push(atMost(`failed or short segment responses, ${layout}`, outcome.failed, 0));
    notes.push(`${layout}: failures ${outcome.failed === 0 ? 'none' : [...outcome.failures].map(([why, count]) => `${why} ×${count}`).join('; ')}; tier fallbacks ${outcome.fallbacks}`);
  }
  notes.push(
    `Shield hop on a miss (time to first byte, ms): p50 ${(missP50.get('shields')! - missP50.get('no shields')!).toFixed(1)}, p99 ${(missP99.get('shields')! - missP99.get('no shields')!).toFixed(1)} — a miss at edge and shields with the shield tier, against an edge miss straight to the origin without it (same machine, same run).`,
    'Layouts run on their own Consul dev agent with cold caches; viewers alternate between the two regions by ?region= hint; --prefetch 0 so origin bytes are the viewers\' own misses.',
  );
  return {
    table: {
      title: `${options.requests} segment requests, 2 regions × ${EDGES_PER_REGION} edges, balancer redirect front`,
      columns: ['layout', 'origin MB', '× ideal', 'origin reqs', 'requests per edge', 'max/avg', 'edge-miss TTFB p50 / p99 ms (n)', 'all-tier-miss TTFB p50 / p99 ms (n)', 'failed', 'req/s'],
      rows,
    },
    targets,
    notes,
  };
}
