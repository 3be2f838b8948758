// Benchmark: the streamedge edge against Debian nginx proxy_cache in front of the SAME origin
// process, alternating rounds with the same wrk client: cache hits (a ~700 KB segment, a ~1 KB
// playlist; the edge also with --disable-fast-hits, to show what its hit fast path is worth), a
// cold herd of concurrent viewers on one uncached segment, the miss path (distinct uncached
// playlists and segments, each fetched once), and the edge's RSS once its cache has been filled
// past its size. With --tls, both serve HTTPS with the same certificate (a local CA made for the
// run) and only hits are measured: that is where TLS costs; the origin stays http.
// Run: npm run bench:edge [-- --round-seconds 5 …] [-- --tls]
import { readFile, rm } from 'node:fs/promises';
import { Agent } from 'undici';
import { createLocalCa } from '../infra/tls/local-ca.js';
import { clientTrust } from '../infra/tls/tls-credentials.js';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandOptions } from '../infra/runtime/command-options.js';
import { ensureTestCatalog } from '../origin/test/catalog-fixture.js';
import { fetchAll, startBenchService } from './bench-services.js';
import { runBenchmark } from './bench-runner.js';
import { runHerd, type HerdResult } from './herd-client.js';
import { runMisses, type MissResult } from './miss-client.js';
import { startNginxCache } from './peers/nginx-peer.js';
import { startTrafficServer } from './peers/trafficserver-peer.js';
import { startVarnish } from './peers/varnish-peer.js';
import { originSegmentRequests } from './metric-scrape.js';
import { treeCpuSeconds } from './process-cpu.js';
import { treeRss } from '../infra/testing/process-footprint.js';
import { atLeast, atMost, publishReport, type LoadRounds, type TargetCheck } from './report.js';
import { buildSyntheticCatalog } from './synthetic-catalog.js';
import { alternateRounds, median, runWrk, type LoadResult } from './wrk-load.js';

const OPTIONS = {
  rounds: { kind: 'integer', description: 'alternating rounds per contender and object', default: 2, min: 1, max: 10 },
  'round-seconds': { kind: 'integer', description: 'seconds per load round', default: 5, min: 1, max: 60 },
  connections: { kind: 'integer', description: 'wrk connections', default: 32, min: 1, max: 1000 },
  'herd-clients': { kind: 'integer', description: 'concurrent viewers in a cold herd', default: 500, min: 1, max: 2000 },
  'herd-rounds': { kind: 'integer', description: 'cold herds per contender', default: 3, min: 1, max: 10 },
  'miss-rounds': { kind: 'integer', description: 'alternating miss rounds per contender and object kind', default: 3, min: 1, max: 10 },
  'miss-objects': { kind: 'integer', description: 'uncached objects per miss round (fewer if the catalog runs out)', default: 200, min: 10, max: 2000 },
  'miss-concurrency': { kind: 'integer', description: 'keep-alive viewers fetching uncached objects', default: 8, min: 1, max: 256 },
  workers: { kind: 'integer', description: 'edge workers and nginx worker_processes', default: availableParallelism(), min: 1, max: 64 },
  'cache-size': { kind: 'bytes', description: 'edge and nginx cache size', default: 256 * 1024 * 1024 },
  tls: { kind: 'boolean', description: 'edge and nginx serve HTTPS (same certificate; ECDSA P-256); hits only' },
} as const;

type Contender = 'edge' | 'nginx';
const CONTENDERS: readonly Contender[] = ['edge', 'nginx'];
// Hits also measure the edge with its hit fast path off, to show what the fast path is worth.
type HitContender = Contender | OtherPeer | 'edge without fast hits';
const HIT_CONTENDERS: readonly HitContender[] = ['edge', 'nginx', 'varnish', 'trafficserver', 'edge without fast hits'];
// Varnish and Traffic Server take part in hits and herds; targets stay against nginx.
type OtherPeer = 'varnish' | 'trafficserver';
const OTHER_PEERS: readonly OtherPeer[] = ['varnish', 'trafficserver'];
const HERD_CONTENDERS: readonly (Contender | OtherPeer)[] = [...CONTENDERS, ...OTHER_PEERS];
const MB = 1024 * 1024;
const MISS_ASSETS_FROM = 40;
// What each contender's Cache-Status says for a response fetched from the origin and stored.
const IS_MISS: Record<Contender, (cacheStatus: string) => boolean> = {
  edge: (cacheStatus) => cacheStatus.includes('fwd=miss'),
  nginx: (cacheStatus) => cacheStatus.includes('MISS'),
};

await runBenchmark('edge-vs-nginx', async (resources) => {
  const options = parseCommandOptions('bench:edge', 'Edge vs nginx proxy_cache on the same origin.', OPTIONS, process.argv.slice(2));
  const rendition = '720p';
  console.log('preparing catalog (real HLS from the shared test catalog, hard-linked under many asset names)…');
  const catalogDir = join(tmpdir(), `streamedge-bench-edge-catalog-${process.pid}`);
  resources.defer(() => rm(catalogDir, { recursive: true, force: true }));
  const assets = await buildSyntheticCatalog({
    sourceDir: await ensureTestCatalog(),
    sourceAsset: 'demo-ts',
    dir: catalogDir,
    // Assets past MISS_ASSETS_FROM are touched only by the miss rounds, so each of their objects is cold once.
    assetCount: 400,
    segmentsPerRendition: 30,
  });

  const ca = options.tls ? await createLocalCa(join(catalogDir, '.tls')) : undefined;
  const tlsArgs = ca ? ['--tls-cert', ca.certFile, '--tls-key', ca.keyFile] : [];
  const dispatcher = ca ? new Agent({ connect: clientTrust(await readFile(ca.caCertFile, 'utf8')) }) : undefined;
  if (dispatcher) resources.defer(() => dispatcher.close());
  const origin = await startBenchService(resources, ['origin', '--port', '0', '--id', 'bench-origin', '--content', catalogDir]);
  const edge = await startBenchService(resources, [
    'edge', ...tlsArgs, '--port', '0', '--id', 'bench-edge', '--origin', origin.url,
    '--cache-size', String(options['cache-size']), '--workers', String(options.workers),
    // nginx does not prefetch; with prefetch on, the origin count of a herd would include the next segments.
    '--prefetch', '0',
    // Nothing steers viewers here, so the end of the run need not wait for them to move away.
    '--drain-delay', '0',
  ]);
  const edgeWithoutFastHits = await startBenchService(resources, [
    'edge', ...tlsArgs, '--port', '0', '--id', 'bench-edge-http', '--origin', origin.url, '--cache-size', '64MB',
    '--workers', String(options.workers), '--prefetch', '0', '--drain-delay', '0', '--disable-fast-hits',
  ]);
  const nginx = await startNginxCache({ originUrl: origin.url, cacheBytes: options['cache-size'], workers: options.workers, ...(ca ? { tls: { certFile: ca.certFile, keyFile: ca.keyFile } } : {}) });
  resources.guard.watch(nginx.child.pid);
  resources.defer(() => nginx.stop());
  // Over TLS the hits are edge against nginx only: Varnish does not terminate TLS itself.
  const hitPeers: readonly OtherPeer[] = ca ? [] : OTHER_PEERS;
  const hitContenders = HIT_CONTENDERS.filter((contender) => !(OTHER_PEERS as readonly string[]).includes(contender) || (hitPeers as readonly string[]).includes(contender));
  const cachePeerOptions = { originUrl: origin.url, cacheBytes: options['cache-size'], workers: options.workers };
  const otherPeers = { varnish: await startVarnish(cachePeerOptions), trafficserver: await startTrafficServer(cachePeerOptions) };
  for (const peer of Object.values(otherPeers)) {
    resources.guard.watch(peer.child.pid);
    resources.defer(() => peer.stop());
  }
  const base: Record<HitContender, string> = {
    edge: edge.url, nginx: nginx.url, varnish: otherPeers.varnish.url, trafficserver: otherPeers.trafficserver.url, 'edge without fast hits': edgeWithoutFastHits.url,
  };
  console.log(`origin ${origin.url}  edge ${edge.url} (${options.workers} workers)  nginx ${nginx.url} (${options.workers} workers)`);
  console.log(`varnish ${otherPeers.varnish.url} (${options.workers} thread pools)  trafficserver ${otherPeers.trafficserver.url} (${options.workers} threads)`);

  // --- hits -------------------------------------------------------------------------------
  const hot = assets[0]!;
  const segment = hot.segments.get(rendition)![1]!;
  const playlistPath = `/vod/${hot.id}/${rendition}/index.m3u8`;
  const objects = [
    { name: `segment (${Math.round(segment.bytes / 1024)} KB)`, path: segment.path },
    { name: 'playlist', path: playlistPath },
  ];
  const hitRows: (string | number)[][] = [];
  const targets: TargetCheck[] = [];
  const loadRounds: LoadRounds[] = [];
  for (const object of objects) {
    for (const contender of hitContenders) await fetchAll([`${base[contender]}${object.path}`, `${base[contender]}${object.path}`], 1, {}, dispatcher);
    const sizes = await fetchAll(hitContenders.map((contender) => `${base[contender]}${object.path}`), 1, {}, dispatcher);
    console.log(`hits: ${object.name} ${object.path} (${sizes[0]} bytes), ${options.rounds} × ${options['round-seconds']} s per contender`);
    const rounds = await alternateRounds(options.rounds, hitContenders, (contender) =>
      runWrk({ url: `${base[contender]}${object.path}`, connections: options.connections, durationSeconds: options['round-seconds'] }),
    );
    const summary = (results: readonly LoadResult[]): { rps: number; mbps: number; p99: number; errors: number } => ({
      rps: median(results.map((result) => result.requestsPerSecond)),
      mbps: median(results.map((result) => result.megabytesPerSecond)),
      p99: median(results.map((result) => result.latencyP99Ms)),
      errors: results.reduce((sum, result) => sum + result.errors, 0),
    });
    const summaries = new Map(hitContenders.map((contender) => [contender, summary(rounds.get(contender)!)]));
    for (const contender of hitContenders) loadRounds.push({ object: object.name, contender, rounds: rounds.get(contender)! });
    const nginxSummary = summaries.get('nginx')!;
    const ratio = summaries.get('edge')!.rps / nginxSummary.rps;
    for (const [contender, stats] of summaries) {
      const perRound = rounds.get(contender)!.map((result) => Math.round(result.requestsPerSecond)).join(' / ');
      hitRows.push([`${object.name} ${contender}`, stats.rps, stats.mbps, stats.p99, stats.errors, perRound]);
    }
    for (const contender of ['edge', 'edge without fast hits'] as const) {
      const stats = summaries.get(contender)!;
      hitRows.push([`${object.name} ${contender}/nginx`, stats.rps / nginxSummary.rps, stats.mbps / nginxSummary.mbps, '', '', '']);
    }
    for (const peer of hitPeers) {
      const stats = summaries.get(peer)!;
      hitRows.push([`${object.name} edge/${peer}`, summaries.get('edge')!.rps / stats.rps, summaries.get('edge')!.mbps / stats.mbps, '', '', '']);
    }
    // Over TLS both pay the same cipher work per byte, so the target is 0.8 for every object.
    const target = ca ? 0.8 : object.path.endsWith('.ts') ? 1.0 : 0.8;
    targets.push(atLeast(`${ca ? 'TLS ' : ''}hit req/s ratio, ${object.name}`, Number(ratio.toFixed(3)), target));
  }
  const hitTable = { title: `Cache hits${ca ? ' over TLS (HTTP/1.1, TLS 1.3, ECDSA P-256)' : ''} (median of rounds)`, columns: ['object / contender', 'req/s', 'MB/s', 'p99 ms', 'errors', 'req/s per round'], rows: hitRows };
  const noisy = 'A shared 2-core machine: client, servers and origin compete for CPU; figures are noisy.';
  if (ca) {
    await publishReport({
      benchmark: 'edge-vs-nginx-tls',
      settings: { ...options, cores: availableParallelism(), segmentBytes: segment.bytes, client: 'wrk -t1 (HTTPS, HTTP/1.1, keep-alive)' },
      tables: [hitTable],
      targets,
      notes: [
        'Both serve the same certificate and key; wrk offers no ALPN, so both speak HTTP/1.1 and the edge answers on its hit fast path over the TLS socket.',
        'Cold herd, misses and RSS are not repeated over TLS: they measure the cache and the origin path, which TLS does not change.',
        noisy,
      ],
    });
    return;
  }

  // --- cold herd ----------------------------------------------------------------------------
  const herdRows: (string | number)[][] = [];
  const herdResults = new Map<Contender | OtherPeer, (HerdResult & { originRequests: number })[]>(HERD_CONTENDERS.map((name) => [name, []]));
  for (let round = 0; round < options['herd-rounds']; round++) {
    // Each round a segment neither cache has seen; both contenders get the same path.
    const cold = assets[1 + round]!.segments.get(rendition)![2]!;
    const order = round % 2 === 0 ? HERD_CONTENDERS : [...HERD_CONTENDERS].reverse();
    for (const contender of order) {
      const before = await originSegmentRequests(origin.url);
      const result = await runHerd(`${base[contender]}${cold.path}`, options['herd-clients'], cold.bytes);
      const originRequests = (await originSegmentRequests(origin.url)) - before;
      herdResults.get(contender)!.push({ ...result, originRequests });
      herdRows.push([`${contender} round ${round + 1}`, result.ok, result.failed + result.wrongLength, originRequests, result.ttfbP50Ms, result.ttfbP99Ms, result.completeP99Ms]);
    }
  }
  const worstOrigin = Math.max(...herdResults.get('edge')!.map((result) => result.originRequests));
  const edgeHerdP99 = median(herdResults.get('edge')!.map((result) => result.ttfbP99Ms));
  const nginxHerdP99 = median(herdResults.get('nginx')!.map((result) => result.ttfbP99Ms));
  herdRows.push(['p99 TTFB edge/nginx (median of rounds)', '', '', '', '', edgeHerdP99 / nginxHerdP99, '']);
  for (const peer of OTHER_PEERS) {
    herdRows.push([`p99 TTFB edge/${peer} (median of rounds)`, '', '', '', '', edgeHerdP99 / median(herdResults.get(peer)!.map((result) => result.ttfbP99Ms)), '']);
  }
  targets.push(atMost('cold herd: origin requests per herd (edge, worst round)', worstOrigin, 1));
  targets.push(atMost('cold herd: failed or short responses (edge)', herdResults.get('edge')!.reduce((sum, r) => sum + r.failed + r.wrongLength, 0), 0));

  // --- misses ------------------------------------------------------------------------------
  const missAssets = assets.slice(MISS_ASSETS_FROM);
  // CPU per miss counts the cache's processes only (the origin is shared): the steadier figure on a busy machine.
  const serverPid: Record<Contender, number> = { edge: edge.child.pid!, nginx: nginx.child.pid! };
  const missKinds = [
    { name: 'playlist', paths: missAssets.flatMap((asset) => [...asset.segments.keys()].map((name) => `/vod/${asset.id}/${name}/index.m3u8`)) },
    { name: 'segment 240p', paths: missAssets.flatMap((asset) => asset.segments.get('240p')!.map((entry) => entry.path)) },
  ];
  const missRows: (string | number)[][] = [];
  for (const kind of missKinds) {
    // Every round of every contender gets its own never-requested objects.
    const perRound = Math.min(options['miss-objects'], Math.floor(kind.paths.length / (options['miss-rounds'] * CONTENDERS.length)));
    console.log(`misses: ${kind.name}, ${options['miss-rounds']} rounds × ${perRound} uncached objects per contender, ${options['miss-concurrency']} viewers`);
    let slice = 0;
    const rounds = await alternateRounds(options['miss-rounds'], CONTENDERS, async (contender) => {
      const paths = kind.paths.slice(slice * perRound, ++slice * perRound);
      const cpuBefore = await treeCpuSeconds(serverPid[contender]);
      const result = await runMisses(paths.map((path) => `${base[contender]}${path}`), options['miss-concurrency'], IS_MISS[contender]);
      return { ...result, cpuMsPerMiss: ((await treeCpuSeconds(serverPid[contender])) - cpuBefore) * 1000 / paths.length };
    });
    const medianOf = (contender: Contender, pick: (result: MissResult & { cpuMsPerMiss: number }) => number): number => median(rounds.get(contender)!.map(pick));
    for (const contender of CONTENDERS) {
      const results = rounds.get(contender)!;
      missRows.push([
        `${kind.name} ${contender}`,
        medianOf(contender, (result) => result.perSecond),
        medianOf(contender, (result) => result.latencyP50Ms),
        medianOf(contender, (result) => result.latencyP99Ms),
        medianOf(contender, (result) => result.cpuMsPerMiss),
        results.reduce((sum, result) => sum + result.failed, 0),
        results.map((result) => `${Math.round(result.perSecond)}/s p50 ${result.latencyP50Ms.toFixed(1)} cpu ${result.cpuMsPerMiss.toFixed(2)}`).join(' · '),
      ]);
    }
    missRows.push([
      `${kind.name} edge/nginx`,
      medianOf('edge', (result) => result.perSecond) / medianOf('nginx', (result) => result.perSecond),
      medianOf('edge', (result) => result.latencyP50Ms) / medianOf('nginx', (result) => result.latencyP50Ms),
      medianOf('edge', (result) => result.latencyP99Ms) / medianOf('nginx', (result) => result.latencyP99Ms),
      medianOf('edge', (result) => result.cpuMsPerMiss) / medianOf('nginx', (result) => result.cpuMsPerMiss),
      '',
      '',
    ]);
    targets.push(atMost(`misses: failed or not a miss (edge, ${kind.name})`, rounds.get('edge')!.reduce((sum, result) => sum + result.failed, 0), 0));
  }

  // --- RSS with the cache filled past its size --------------------------------------------------
  const distinct = assets.slice(10).flatMap((asset) => asset.segments.get(rendition)!.map((entry) => entry.path));
  const fillTarget = options['cache-size'] * 1.5;
  const fillPaths: string[] = [];
  let fillBytes = 0;
  for (const path of distinct) {
    if (fillBytes >= fillTarget) break;
    fillPaths.push(path);
    fillBytes += segment.bytes;
  }
  console.log(`filling every cache with ${fillPaths.length} distinct segments (~${Math.round(fillBytes / MB)} MB), then ${options['round-seconds']} s of hit load`);
  const peakEdgeRss = new Map<number, number>();
  const sampleRss = async (): Promise<void> => {
    for (const entry of await treeRss(edge.child.pid!)) peakEdgeRss.set(entry.pid, Math.max(peakEdgeRss.get(entry.pid) ?? 0, entry.rssBytes));
  };
  const sampler = setInterval(() => void sampleRss(), 250);
  try {
    await fetchAll(fillPaths.map((path) => `${edge.url}${path}`), 8);
    await fetchAll(fillPaths.map((path) => `${nginx.url}${path}`), 8);
    for (const peer of OTHER_PEERS) await fetchAll(fillPaths.map((path) => `${otherPeers[peer].url}${path}`), 8);
    // Sustained load over the filled cache: the most recently filled (resident) objects.
    await runWrk({ url: `${edge.url}${fillPaths.at(-1)}`, connections: options.connections, durationSeconds: options['round-seconds'] });
    await sampleRss();
  } finally {
    clearInterval(sampler);
  }
  const limit = 1.1 * options['cache-size'] + 80 * MB;
  const nginxRss = await treeRss(nginx.child.pid!);
  const rssRows: (string | number)[][] = [
    ...[...peakEdgeRss].map(([pid, rss]) => [`edge pid ${pid}${pid === edge.child.pid ? ' (primary)' : ''}`, rss / MB, limit / MB]),
    ...nginxRss.map((entry) => [`nginx pid ${entry.pid}${entry.pid === nginx.child.pid ? ' (master)' : ''}`, entry.rssBytes / MB, '']),
    ...(await Promise.all(OTHER_PEERS.map(async (peer) => (await treeRss(otherPeers[peer].child.pid!)).map((entry) => [`${peer} pid ${entry.pid}`, entry.rssBytes / MB, ''])))).flat(),
  ];
  targets.push(atMost('edge peak RSS per process (MB)', Math.round(Math.max(...peakEdgeRss.values()) / MB), Math.round(limit / MB)));

  await publishReport({
    benchmark: 'edge-vs-nginx',
    settings: { ...options, cores: availableParallelism(), segmentBytes: segment.bytes, client: 'wrk -t1' },
    tables: [
      hitTable,
      { title: `Cold herd: ${options['herd-clients']} concurrent viewers on one uncached segment`, columns: ['contender', 'ok', 'failed/short', 'origin reqs', 'TTFB p50 ms', 'TTFB p99 ms', 'complete p99 ms'], rows: herdRows },
      { title: `Miss path: distinct uncached objects, ${options['miss-concurrency']} keep-alive viewers (median of rounds)`, columns: ['object / contender', 'misses/s', 'p50 ms', 'p99 ms', 'server CPU ms/miss', 'failed', 'per round'], rows: missRows },
      { title: `RSS after filling a ${Math.round(options['cache-size'] / MB)} MB cache to 1.5× and hit load (MB)`, columns: ['process', 'peak RSS', 'limit'], rows: rssRows },
    ],
    targets,
    loadRounds,
    notes: [
      'Varnish (built-in VCL: freshness from the origin\'s Cache-Control; malloc store of the cache size) and Traffic Server (remap, HTTP cache on, RAM cache of the cache size, read-while-writer) run as nobody; all caches are filled in the RSS step, then only the edge takes the hit load.',
      'nginx caches on disk (page cache, not counted in its RSS); the edge caches in its heap, so their RSS is not comparable.',
      'Misses: no target is set; the edge/nginx ratios are what the edge\'s RFC 9111 rules (request forwarding, storability, Vary, Age) cost per miss against nginx on the same origin. With --workers > 1 a miss on a worker that does not own the key also crosses to the owner (one origin request per node).',
      noisy,
    ],
  });
});
