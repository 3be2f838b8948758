// bench:live — LL-HLS viewers following the live edge through a cache: each poller asks for the
// preload-hinted part with a blocking playlist reload (_HLS_msn/_HLS_part), then fetches that part,
// as hls.js does in lowLatencyMode. The streamedge edge and nginx proxy_cache (proxy_cache_lock on,
// the query in the cache key so blocking reloads stay distinct) sit in front of the same origin, in
// alternating rounds. The pollers run in client worker threads (own event loop each, one raw
// keep-alive socket per poller), so the main thread only publishes parts through the encoder's own
// writer and notes the moment each playlist naming a part was written; optionally the client and
// the servers are pinned to separate CPUs, the same for both contenders. Measured: origin requests per published part,
// the time from a part's publication at the origin to its delivery to a viewer, and the client's
// own lag, so that a round where the client fell behind is reported as such.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseCommandOptions } from '../infra/runtime/command-options.js';
import { CHANNEL_MARKER } from '../origin/live/live-channel-layout.js';
import { openLiveRenditionWriter, writeFileAtomically } from '../origin/live/live-rendition-writer.js';
import { runBenchmark } from './bench-runner.js';
import { startBenchService } from './bench-services.js';
import type { PollerWorkerTask } from './live-poller-worker.js';
import { describeReasons, liveRoundFigures, longestPublicationGap, splitPollers, type LiveRoundFigures, type PollerWorkerRecord } from './live-round-figures.js';
import { scrapeMetric } from './metric-scrape.js';
import { startNginxCache } from './peers/nginx-peer.js';
import { atMost, publishReport, type TargetCheck } from './report.js';
import { alternateRounds, median, percentile } from './wrk-load.js';
import { treeCpuSeconds } from './process-cpu.js';
import { treeSchedStat } from './scheduler-wait.js';
import { checkPinning, pinProcessTree } from './cpu-pinning.js';

const OPTIONS = {
  pollers: { kind: 'integer', description: 'LL-HLS viewers per round', default: 1000, min: 1, max: 5000 },
  'client-workers': { kind: 'integer', description: 'client worker threads the pollers are spread over', default: 2, min: 1, max: 16 },
  rounds: { kind: 'integer', description: 'alternating rounds per contender', default: 3, min: 1, max: 10 },
  'round-seconds': { kind: 'integer', description: 'length of a round', default: 12, min: 3, max: 120 },
  'part-bytes': { kind: 'bytes', description: 'size of each published part', default: 24 * 1024, min: 1024, max: 4 * 1024 * 1024 },
  'client-cpus': { kind: 'string', description: 'pin the client (this process: publisher and client workers) to these CPUs, e.g. 0 (taskset; with --server-cpus)' },
  'server-cpus': { kind: 'string', description: 'pin the origin, edge and nginx to these CPUs, e.g. 1 (taskset; with --client-cpus)' },
} as const;

const CONTENDERS = ['edge', 'nginx'] as const;
type Contender = (typeof CONTENDERS)[number];
const PART_MS = 334;
const PARTS_PER_SEGMENT = 6;
const RENDITION_PATH = '/live/bench/240p';
const REQUEST_TIMEOUT_MS = 15_000;

interface RoundResult extends LiveRoundFigures {
  readonly partsPublished: number;
  readonly originRequests: number;
  /** The longest time between two publications in the round (ms), the origin's side of a stall. */
  readonly longestPublicationGapMs: number;
  /** CPU seconds over the round: this process (client workers and publisher), the contender's tree, the origin. */
  readonly cpuSeconds: { readonly client: number; readonly contender: number; readonly origin: number };
  /** Seconds the contender's threads were runnable but waited for a CPU (the machine's load, not their work). */
  readonly contenderWaitSeconds: number;
  readonly seconds: number;
}

/** CPU seconds (user + system) this process used since `before`. */
const cpuSecondsSince = (before: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
};

/** Runs one client worker to the end of its round; its record, or an error if it failed. */
const runPollerWorker = (task: PollerWorkerTask): Promise<PollerWorkerRecord> =>
  new Promise((resolveRecord, reject) => {
    const worker = new Worker(new URL('./live-poller-worker.js', import.meta.url), { workerData: task });
    let record: PollerWorkerRecord | undefined;
    worker.once('message', (message: PollerWorkerRecord) => (record = message));
    worker.once('error', reject);
    worker.once('exit', (code) => (record ? resolveRecord(record) : reject(new Error(`client worker exited with ${code} before reporting`))));
  });

await runBenchmark('live-pollers', async (resources) => {
  const options = parseCommandOptions('bench:live', 'LL-HLS pollers (blocking reloads + preload-hinted parts) through the edge vs nginx proxy_cache.', OPTIONS, process.argv.slice(2));
  if ((options['client-cpus'] === undefined) !== (options['server-cpus'] === undefined)) throw new Error('bench:live: --client-cpus and --server-cpus go together');
  // Checked before anything starts, so a bad CPU list costs nothing.
  const pinning = options['client-cpus'] !== undefined && options['server-cpus'] !== undefined ? checkPinning(options['client-cpus'], options['server-cpus']) : undefined;
  const content = await mkdtemp(join(tmpdir(), 'streamedge-bench-live-'));
  resources.defer(() => rm(content, { recursive: true, force: true }));
  const dir = join(content, 'live', 'bench', '240p');
  await mkdir(dir, { recursive: true });
  await writeFileAtomically(join(content, 'live', 'bench', CHANNEL_MARKER), JSON.stringify({ id: 'bench', title: 'bench', format: 'fmp4', lowLatency: true }));
  const writer = await openLiveRenditionWriter({ dir, targetDuration: 2, windowSize: 12, partTargetMs: PART_MS });
  await writer.publishInit(randomBytes(1200));

  // The publisher: a part every PART_MS, as the encoder does. A part is available at the origin once
  // the playlist naming it is written, so that moment (after publishPart) is its publication time.
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
  const pids: Record<Contender | 'origin', number> = { edge: edge.child.pid!, nginx: nginx.child.pid!, origin: origin.child.pid! };
  if (pinning) {
    for (const pid of Object.values(pids)) await pinProcessTree(pid, pinning.servers);
    // This process last: the servers were spawned from it before, and the client workers it starts inherit its CPUs.
    await pinProcessTree(process.pid, pinning.client);
    console.log(`pinned: client on CPU ${pinning.client.join(',')}, origin, edge and nginx on CPU ${pinning.servers.join(',')}`);
  }
  const shares = splitPollers(options.pollers, options['client-workers']);
  console.log(
    `origin ${origin.url}  edge ${edge.url}  nginx ${nginx.url}: ${options.pollers} pollers over ${shares.length} client workers, ${options.rounds} × ${options['round-seconds']} s per contender`,
  );

  const originRequests = async (): Promise<number> =>
    (await scrapeMetric(origin.url, 'streamedge_origin_requests_total', { kind: 'live-playlist' })) + (await scrapeMetric(origin.url, 'streamedge_origin_requests_total', { kind: 'live-segment' }));

  const runRound = async (contender: Contender, round: number): Promise<RoundResult> => {
    const startedAt = Date.now();
    const endAt = startedAt + options['round-seconds'] * 1000;
    const requestsBefore = await originRequests();
    const partsBefore = published;
    const clientCpuBefore = process.cpuUsage();
    const [contenderCpuBefore, originCpuBefore] = [await treeCpuSeconds(pids[contender]), await treeCpuSeconds(pids.origin)];
    const contenderWaitBefore = (await treeSchedStat(pids[contender])).waitMs;
    // Viewers join over one part interval, not in one instant.
    const records = await Promise.all(
      shares.map((pollers) =>
        runPollerWorker({ url: `${base[contender]}${RENDITION_PATH}`, pollers, joinSpreadMs: PART_MS, endAt, partMs: PART_MS, partBytes: options['part-bytes'], requestTimeoutMs: REQUEST_TIMEOUT_MS }),
      ),
    );
    const result: RoundResult = {
      ...liveRoundFigures(publishedAt, records, PART_MS),
      partsPublished: published - partsBefore,
      originRequests: (await originRequests()) - requestsBefore,
      longestPublicationGapMs: longestPublicationGap(publishedAt, startedAt),
      cpuSeconds: {
        client: cpuSecondsSince(clientCpuBefore),
        contender: (await treeCpuSeconds(pids[contender])) - contenderCpuBefore,
        origin: (await treeCpuSeconds(pids.origin)) - originCpuBefore,
      },
      contenderWaitSeconds: ((await treeSchedStat(pids[contender])).waitMs - contenderWaitBefore) / 1000,
      seconds: (Date.now() - startedAt) / 1000,
    };
    const cpu = `CPU s client ${result.cpuSeconds.client.toFixed(1)} / ${contender} ${result.cpuSeconds.contender.toFixed(1)} / origin ${result.cpuSeconds.origin.toFixed(1)} over ${result.seconds.toFixed(1)} s; waited for a CPU: client workers ${(result.clientThreads.waitMs / 1000).toFixed(1)} s (ran ${(result.clientThreads.runMs / 1000).toFixed(1)} s), ${contender} ${result.contenderWaitSeconds.toFixed(1)} s`;
    const why = describeReasons(result.reasons);
    const worst = result.worstPart ? `; ${result.worstPart.failures} failed on ${result.worstPart.uri}, first ${result.worstPart.msAfterPublication} ms after its publication` : '';
    console.log(
      `round ${round + 1} ${contender}: ${result.latencies.length} parts delivered, p50 ${percentile(result.latencies, 50)} ms, p99 ${percentile(result.latencies, 99)} ms, ` +
        `${(result.originRequests / result.partsPublished).toFixed(2)} origin requests per part, ${result.failures} failures${why ? ` (${why})` : ''}${worst}; ` +
        `client: reloads issued late ${(result.lateReloadShare * 100).toFixed(1)} %, issue lag p99 ${percentile(result.issueLags, 99)} ms, loop delay p99 ${result.loopDelayP99Ms.toFixed(0)} ms, ${result.connectionsOpened} connections opened; ${cpu}` +
        `${result.clientBehind ? ` — CLIENT BEHIND (${result.clientBehind}): latency not the server's` : ''}; longest gap between publications ${result.longestPublicationGapMs} ms`,
    );
    return result;
  };

  const rounds = await alternateRounds(options.rounds, CONTENDERS, runRound);
  const perPart = (result: RoundResult): number => result.originRequests / result.partsPublished;
  const summary = (contender: Contender): { perPart: number; p50: number; p99: number; failures: number } => {
    const results = rounds.get(contender)!;
    return {
      perPart: median(results.map(perPart)),
      p50: median(results.map((result) => percentile(result.latencies, 50))),
      p99: median(results.map((result) => percentile(result.latencies, 99))),
      failures: results.reduce((total, result) => total + result.failures, 0),
    };
  };
  const figures = new Map(CONTENDERS.map((contender) => [contender, summary(contender)]));
  const roundRows = Array.from({ length: options.rounds }, (_, round) =>
    CONTENDERS.map((contender) => {
      const result = rounds.get(contender)![round]!;
      return [
        `${round + 1} ${contender}`, perPart(result), result.latencies.length, percentile(result.latencies, 50), percentile(result.latencies, 99),
        `${result.failures}${result.failures ? ` (${describeReasons(result.reasons)})` : ''}`, result.longestPublicationGapMs,
        `${(result.lateReloadShare * 100).toFixed(1)} % / ${percentile(result.issueLags, 99)} ms`, result.loopDelayP99Ms, result.connectionsOpened,
        `${result.cpuSeconds.client.toFixed(1)} / ${result.cpuSeconds.contender.toFixed(1)} / ${result.cpuSeconds.origin.toFixed(1)}`,
        `${(result.clientThreads.waitMs / 1000).toFixed(1)} / ${result.contenderWaitSeconds.toFixed(1)}`, result.clientBehind ?? 'kept up',
      ];
    }),
  ).flat();
  const behindRounds = [...rounds.values()].flat().filter((result) => result.clientBehind).length;
  const ratio = figures.get('edge')!.p99 / figures.get('nginx')!.p99;
  const targets: TargetCheck[] = [
    atMost('origin requests per part and rendition (edge)', figures.get('edge')!.perPart, 2),
    atMost('p99 publication → delivery, edge/nginx', ratio, 0.5),
    // A latency ratio over the few parts a failing contender delivered would flatter it.
    atMost('failed poller requests (edge)', figures.get('edge')!.failures, 0),
    // Latency read while the client lagged is the client's: the ratio above stands only with this met.
    atMost('rounds where the client fell behind', behindRounds, 0),
  ];
  await publishReport({
    benchmark: 'live-pollers',
    settings: { ...options, partMs: PART_MS, pinned: pinning ? `client CPU ${pinning.client.join(',')}, servers CPU ${pinning.servers.join(',')}` : 'no' },
    tables: [
      {
        title: `LL-HLS: ${options.pollers} pollers over ${shares.length} client workers (blocking reload + preload-hinted part), one rendition, every round`,
        columns: ['round', 'origin req/part', 'parts delivered', 'p50 ms', 'p99 ms', 'failures', 'longest publication gap ms', 'reloads late / issue lag p99', 'client loop p99 ms', 'connections opened', 'CPU s client / contender / origin', 'CPU wait s client workers / contender', 'client'],
        rows: roundRows,
      },
      {
        title: 'median of rounds',
        columns: ['contender', 'origin req/part', 'p50 ms', 'p99 ms', 'failures'],
        rows: [...CONTENDERS.map((contender) => { const figure = figures.get(contender)!; return [contender, figure.perPart, figure.p50, figure.p99, figure.failures]; }), ['edge/nginx p99', '', '', ratio, '']],
      },
    ],
    targets,
    notes: [
      'an origin request per part is at least two: the blocking playlist reload that announces it and the part itself',
      'latency is from the moment the publisher wrote the playlist naming the part to the moment a viewer has its bytes',
      'each poller keeps one raw keep-alive connection (status line + Content-Length framing; anything else is a failure): connections opened above the poller count are reconnects after closes or failures',
      'CPU wait s: time the client workers\' threads and the contender\'s threads were runnable but no CPU was free (Linux schedstat): a client behind while waiting far longer than it ran lacked CPU, not speed',
      'CPU s: this process (client workers and publisher), the contender\'s process tree and the origin over the round; a client near a whole core of its own is near its limit',
      'issue lag: how long a reload\'s part had already been published when a poller asked for it (includes the server\'s slowness on that poller\'s previous requests); client loop delay: the worst client worker\'s event-loop delay p99, the client\'s own',
    ],
  });
});
