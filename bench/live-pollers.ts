// bench:live — LL-HLS viewers following the live edge through a cache: each poller asks for the
// preload-hinted part with a blocking playlist reload (_HLS_msn/_HLS_part), then fetches that part,
// as hls.js does in lowLatencyMode. The streamedge edge and nginx proxy_cache (proxy_cache_lock on,
// the query in the cache key so blocking reloads stay distinct) sit in front of the same origin, in
// alternating rounds. Parts are published by this process through the encoder's own writer (the
// moment each part is listed is known exactly); measured: origin requests per published part, and
// the time from a part's publication at the origin to its delivery to a viewer.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { parseCommandOptions } from '../infra/runtime/command-options.js';
import { CHANNEL_MARKER } from '../origin/live/live-channel-layout.js';
import { openLiveRenditionWriter, writeFileAtomically } from '../origin/live/live-rendition-writer.js';
import { runBenchmark } from './bench-runner.js';
import { startBenchService } from './bench-services.js';
import { scrapeMetric } from './metric-scrape.js';
import { startNginxCache } from './peers/nginx-peer.js';
import { atMost, publishReport, type TargetCheck } from './report.js';
import { alternateRounds, median, percentile } from './wrk-load.js';

const OPTIONS = {
  pollers: { kind: 'integer', description: 'LL-HLS viewers per round', default: 1000, min: 1, max: 5000 },
  rounds: { kind: 'integer', description: 'alternating rounds per contender', default: 3, min: 1, max: 10 },
  'round-seconds': { kind: 'integer', description: 'length of a round', default: 12, min: 3, max: 120 },
  'part-bytes': { kind: 'bytes', description: 'size of each published part', default: 24 * 1024, min: 1024, max: 4 * 1024 * 1024 },
} as const;

const CONTENDERS = ['edge', 'nginx'] as const;
type Contender = (typeof CONTENDERS)[number];
const PART_MS = 334;
const PARTS_PER_SEGMENT = 6;
const RENDITION_PATH = '/live/bench/240p';
const HINT = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-(\d+)\.(\d+)\.m4s"/;

interface RoundResult {
  readonly partsPublished: number;
  readonly originRequests: number;
  /** Publication → delivery, per part fetched, in ms. */
  readonly latencies: readonly number[];
  readonly failures: number;
  /** Failures by reason (status or error), so a report says why. */
  readonly reasons: ReadonlyMap<string, number>;
}

/** A percentile, or NaN for a round that delivered nothing (reported as such, never hidden). */
const percentileOf = (sorted: readonly number[], p: number): number => (sorted.length === 0 ? Number.NaN : percentile(sorted, p));

await runBenchmark('live-pollers', async (resources) => {
  const options = parseCommandOptions('bench:live', 'LL-HLS pollers (blocking reloads + preload-hinted parts) through the edge vs nginx proxy_cache.', OPTIONS, process.argv.slice(2));
  const content = await mkdtemp(join(tmpdir(), 'streamedge-bench-live-'));
  resources.defer(() => rm(content, { recursive: true, force: true }));
  const dir = join(content, 'live', 'bench', '240p');
  await mkdir(dir, { recursive: true });
  await writeFileAtomically(join(content, 'live', 'bench', CHANNEL_MARKER), JSON.stringify({ id: 'bench', title: 'bench', format: 'fmp4', lowLatency: true }));
  const writer = await openLiveRenditionWriter({ dir, targetDuration: 2, windowSize: 12, partTargetMs: PART_MS });
  await writer.publishInit(randomBytes(1200));

  // The publisher: a part every PART_MS, as the encoder does; its publication time by URI.
  const publishedAt = new Map<string, number>();
  let published = 0;
  const publishNext = async (): Promise<void> => {
    const index = published++;
    const part = await writer.publishPart(randomBytes(options['part-bytes']), { startMs: index * PART_MS, durationMs: PART_MS, independent: index % PARTS_PER_SEGMENT === 0 }, Date.now());
    publishedAt.set(part.uri, Date.now());
  };
  for (let i = 0; i < PARTS_PER_SEGMENT * 3; i++) await publishNext();
  let publishing = Promise.resolve();
  const publisher = setInterval(() => {
    publishing = publishing.then(publishNext);
  }, PART_MS);
  resources.defer(async () => {
    clearInterval(publisher);
    await publishing;
  });

  const origin = await startBenchService(resources, ['origin', '--port', '0', '--id', 'bench-origin', '--content', content]);
  const edge = await startBenchService(resources, [
    // The edge keys playlists on the delivery directives by itself (edge/cache/delivery-directives.ts).
    'edge', '--port', '0', '--id', 'bench-edge', '--origin', origin.url, '--workers', '1', '--prefetch', '0', '--drain-delay', '0',
    // Every poller comes from 127.0.0.1, standing for as many viewers' addresses: the per-address cap
    // (abuse protection; nginx here has none) must not refuse them.
    '--max-connections-per-ip', String(options.pollers + 16),
  ]);
  const nginx = await startNginxCache({ originUrl: origin.url, cacheBytes: 256 * 1024 * 1024, workers: 1, cacheKeyWithQuery: true });
  resources.guard.watch(nginx.child.pid);
  resources.defer(() => nginx.stop());
  const base: Record<Contender, string> = { edge: edge.url, nginx: nginx.url };
  // One connection per poller: a held blocking reload occupies its connection.
  const agent = new Agent({ connections: options.pollers + 16, pipelining: 1, headersTimeout: 20_000, bodyTimeout: 20_000 });
  resources.defer(() => agent.close());
  console.log(`origin ${origin.url}  edge ${edge.url}  nginx ${nginx.url}: ${options.pollers} pollers, ${options.rounds} × ${options['round-seconds']} s per contender`);

  const originRequests = async (): Promise<number> =>
    (await scrapeMetric(origin.url, 'streamedge_origin_requests_total', { kind: 'live-playlist' })) + (await scrapeMetric(origin.url, 'streamedge_origin_requests_total', { kind: 'live-segment' }));

  const runRound = async (contender: Contender): Promise<RoundResult> => {
    const url = `${base[contender]}${RENDITION_PATH}`;
    const endAt = Date.now() + options['round-seconds'] * 1000;
    const latencies: number[] = [];
    let failures = 0;
    const reasons = new Map<string, number>();
    const get = async (target: string): Promise<{ status: number; text: string }> => {
      const response = await fetch(target, { dispatcher: agent, signal: AbortSignal.timeout(15_000) });
      return { status: response.status, text: await response.text() };
    };
    const poller = async (): Promise<void> => {
      let hint: RegExpExecArray | null = null;
      while (Date.now() < endAt) {
        try {
          const playlist = await get(`${url}/index.m3u8${hint ? `?_HLS_msn=${hint[1]}&_HLS_part=${hint[2]}` : ''}`);
          if (playlist.status !== 200) throw new Error(`playlist ${playlist.status} ${playlist.text.trim().slice(0, 60)}`);
          const wanted = hint;
          hint = HINT.exec(playlist.text);
          if (!wanted) continue;
          const name = `seg-${wanted[1]}.${wanted[2]}.m4s`;
          const part = await get(`${url}/${name}`);
          const publishTime = publishedAt.get(name);
          if (part.status !== 200 || publishTime === undefined) throw new Error(`part ${name} ${part.status} ${part.status === 200 ? '' : part.text.trim().slice(0, 60)}`);
          latencies.push(Date.now() - publishTime);
        } catch (error) {
          failures++;
          const reason = (error as Error).name === 'TimeoutError' ? 'client timeout' : (error as Error).message.replace(/seg-\d+\.\d+\.m4s/, 'seg-N.K.m4s');
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
          hint = null;
          await new Promise((resolveWait) => setTimeout(resolveWait, PART_MS));
        }
      }
    };
    const requestsBefore = await originRequests();
    const partsBefore = published;
    // Viewers join over one part interval, not in one instant.
    await Promise.all(Array.from({ length: options.pollers }, (_, i) => new Promise((resolveStart) => setTimeout(resolveStart, (i * PART_MS) / options.pollers)).then(poller)));
    const result = { partsPublished: published - partsBefore, originRequests: (await originRequests()) - requestsBefore, latencies: latencies.sort((a, b) => a - b), failures, reasons };
    const why = [...reasons].map(([reason, count]) => `${reason} × ${count}`).join(', ');
    console.log(`${contender}: ${result.latencies.length} parts delivered, p50 ${percentileOf(result.latencies, 50)} ms, p99 ${percentileOf(result.latencies, 99)} ms, ${(result.originRequests / result.partsPublished).toFixed(2)} origin requests per part, ${failures} failures${why ? ` (${why})` : ''}`);
    return result;
  };

  const rounds = await alternateRounds(options.rounds, CONTENDERS, runRound);
  const summary = (contender: Contender): { perPart: number; p50: number; p99: number; failures: number } => {
    const results = rounds.get(contender)!;
    return {
      perPart: median(results.map((result) => result.originRequests / result.partsPublished)),
      p50: median(results.map((result) => percentileOf(result.latencies, 50))),
      p99: median(results.map((result) => percentileOf(result.latencies, 99))),
      failures: results.reduce((total, result) => total + result.failures, 0),
    };
  };
  const figures = new Map(CONTENDERS.map((contender) => [contender, summary(contender)]));
  const rows = CONTENDERS.map((contender) => {
    const figure = figures.get(contender)!;
    const perRound = rounds.get(contender)!.map((result) => `${percentileOf(result.latencies, 99)} ms / ${(result.originRequests / result.partsPublished).toFixed(2)}`).join(', ');
    return [contender, figure.perPart, figure.p50, figure.p99, figure.failures, perRound];
  });
  const ratio = figures.get('edge')!.p99 / figures.get('nginx')!.p99;
  const targets: TargetCheck[] = [
    atMost('origin requests per part and rendition (edge)', figures.get('edge')!.perPart, 2),
    atMost('p99 publication → delivery, edge/nginx', ratio, 0.5),
    // A latency ratio over the few parts a failing contender delivered would flatter it.
    atMost('failed poller requests (edge)', figures.get('edge')!.failures, 0),
  ];
  await publishReport({
    benchmark: 'live-pollers',
    settings: { ...options, partMs: PART_MS },
    tables: [
      {
        title: `LL-HLS: ${options.pollers} pollers (blocking reload + preload-hinted part), one rendition (median of rounds)`,
        columns: ['contender', 'origin req/part', 'p50 ms', 'p99 ms', 'failures', 'per round: p99 / origin req per part'],
        rows: [...rows, ['edge/nginx p99', '', '', ratio, '', '']],
      },
    ],
    targets,
    notes: [
      'an origin request per part is at least two: the blocking playlist reload that announces it and the part itself',
      'latency is from the moment the playlist naming the part was written to the moment a viewer has its bytes',
    ],
  });
});
