// Benchmark: the cost of the balancer's proxy front. The same wrk client fetches the same cached
// object straight from an edge, through the balancer in proxy mode, and through Debian HAProxy
// proxying to the same edge, in alternating rounds. Run: npm run bench:proxy
import { rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandOptions } from '../infra/runtime/command-options.js';
import { SHIPPED_LOCATIONS_FILE } from '../stack/stack-topology.js';
import { ensureTestCatalog } from '../origin/test/catalog-fixture.js';
import { runBenchmark } from './bench-runner.js';
import { treeCpuSeconds } from './process-cpu.js';
import { fetchAll, startBenchService } from './bench-services.js';
import { startHaproxy } from './peers/haproxy-peer.js';
import { atLeast, publishReport, type TargetCheck } from './report.js';
import { buildSyntheticCatalog } from './synthetic-catalog.js';
import { alternateRounds, median, runWrk } from './wrk-load.js';

const OPTIONS = {
  rounds: { kind: 'integer', description: 'alternating rounds per path and object', default: 2, min: 1, max: 10 },
  'round-seconds': { kind: 'integer', description: 'seconds per load round', default: 5, min: 1, max: 60 },
  connections: { kind: 'integer', description: 'wrk connections', default: 32, min: 1, max: 1000 },
  workers: { kind: 'integer', description: 'balancer --workers and HAProxy nbthread (kept equal)', default: 2, min: 1, max: 64 },
} as const;

// Issue 15: the proxy front at ≥ 0.6× HAProxy's req/s, HAProxy with nbthread = balancer workers.
const VERSUS_HAPROXY_TARGET = 0.6;

type Path = 'direct to edge' | 'balancer proxy' | 'haproxy';
const PATHS: readonly Path[] = ['direct to edge', 'balancer proxy', 'haproxy'];

await runBenchmark('proxy-overhead', async (resources) => {
  const options = parseCommandOptions('bench:proxy', 'Balancer proxy front vs direct and vs HAProxy.', OPTIONS, process.argv.slice(2));
  const catalogDir = join(tmpdir(), `streamedge-bench-proxy-catalog-${process.pid}`);
  resources.defer(() => rm(catalogDir, { recursive: true, force: true }));
  const [asset] = await buildSyntheticCatalog({ sourceDir: await ensureTestCatalog(), sourceAsset: 'demo-ts', dir: catalogDir, assetCount: 1, segmentsPerRendition: 30 });

  const origin = await startBenchService(resources, ['origin', '--port', '0', '--id', 'bench-origin', '--content', catalogDir]);
  const edge = await startBenchService(resources, ['edge', '--port', '0', '--id', 'edge-1', '--origin', origin.url, '--workers', '1']);
  const balancer = await startBenchService(resources, [
    'balancer', '--port', '0', '--mode', 'proxy', '--workers', String(options.workers), '--locations', SHIPPED_LOCATIONS_FILE,
    '--edge', `${edge.url};id=edge-1;region=us-east;lat=39.04;lon=-77.49`,
  ]);
  const haproxy = await startHaproxy(edge.url, options.workers);
  resources.guard.watch(haproxy.child.pid);
  resources.defer(() => haproxy.stop());
  const base: Record<Path, string> = { 'direct to edge': edge.url, 'balancer proxy': balancer.url, haproxy: haproxy.url };
  // Whose CPU each path costs: the proxy in front (none when direct) and the edge behind it.
  const proxyPid: Record<Path, number | undefined> = { 'direct to edge': undefined, 'balancer proxy': balancer.child.pid, haproxy: haproxy.child.pid };
  const edgePid = edge.child.pid!;
  const cpuSince = async (pid: number | undefined): Promise<() => Promise<number>> => {
    if (pid === undefined) return async () => 0;
    const before = await treeCpuSeconds(pid);
    return async () => (await treeCpuSeconds(pid)) - before;
  };

  const segment = asset!.segments.get('720p')![1]!;
  const objects = [
    { name: `segment (${Math.round(segment.bytes / 1024)} KB)`, path: segment.path },
    { name: 'playlist (~1 KB)', path: `/vod/${asset!.id}/720p/index.m3u8` },
  ];
  const rows: (string | number)[][] = [];
  // Every round's figures, not only the medians: on a shared machine one round can be an outlier.
  const roundRows: (string | number)[][] = [];
  const targets: TargetCheck[] = [];
  for (const object of objects) {
    await fetchAll(PATHS.map((path) => `${base[path]}${object.path}`), 1);
    console.log(`${object.name}: ${options.rounds} × ${options['round-seconds']} s per path`);
    const rounds = await alternateRounds(options.rounds, PATHS, async (path) => {
      const [proxyCpu, edgeCpu] = await Promise.all([cpuSince(proxyPid[path]), cpuSince(edgePid)]);
      const load = await runWrk({ url: `${base[path]}${object.path}`, connections: options.connections, durationSeconds: options['round-seconds'] });
      const perThousand = async (cpu: () => Promise<number>): Promise<number> => ((await cpu()) * 1e6) / Math.max(1, load.requests);
      return { ...load, proxyCpuMsPer1k: await perThousand(proxyCpu), edgeCpuMsPer1k: await perThousand(edgeCpu) };
    });
    const rps = new Map(PATHS.map((path) => [path, median(rounds.get(path)!.map((result) => result.requestsPerSecond))]));
    for (const path of PATHS) {
      const results = rounds.get(path)!;
      rows.push([
        `${object.name} ${path}`,
        rps.get(path)!,
        median(results.map((result) => result.megabytesPerSecond)),
        median(results.map((result) => result.latencyP99Ms)),
        results.reduce((sum, result) => sum + result.errors, 0),
        rps.get(path)! / rps.get('direct to edge')!,
        path === 'direct to edge' ? '' : median(results.map((result) => result.proxyCpuMsPer1k)),
        median(results.map((result) => result.edgeCpuMsPer1k)),
      ]);
    }
    const versusHaproxy = rps.get('balancer proxy')! / rps.get('haproxy')!;
    rows.push([`${object.name} balancer/haproxy`, versusHaproxy, '', '', '', '', '', '']);
    for (let round = 0; round < options.rounds; round++) {
      const [direct, balancerRound, haproxyRound] = PATHS.map((path) => rounds.get(path)![round]!.requestsPerSecond);
      const cpu = (path: Path): number => rounds.get(path)![round]!.proxyCpuMsPer1k;
      roundRows.push([`${object.name} round ${round + 1}`, direct!, balancerRound!, haproxyRound!, balancerRound! / haproxyRound!, cpu('balancer proxy'), cpu('haproxy')]);
    }
    targets.push(atLeast(`${object.name}: balancer ÷ haproxy req/s (median)`, versusHaproxy, VERSUS_HAPROXY_TARGET));
  }
  await publishReport({
    benchmark: 'proxy-overhead',
    settings: { ...options, cores: availableParallelism(), client: 'wrk -t1' },
    tables: [
      { title: 'Proxy front overhead (median of rounds)', columns: ['object / path', 'req/s', 'MB/s', 'p99 ms', 'errors', '÷ direct', 'proxy CPU ms/1k req', 'edge CPU ms/1k req'], rows },
      {
        title: 'Every round (req/s; proxy CPU in ms per 1000 requests, user + system, all its processes)',
        columns: ['object / round', 'direct', 'balancer', 'haproxy', 'balancer ÷ haproxy', 'balancer CPU', 'haproxy CPU'],
        rows: roundRows,
      },
    ],
    targets,
    notes: [
      'On a small shared machine the client, the proxies and the edge compete for CPU: read the ratios, not the absolute figures.',
      'CPU per 1000 requests is steadier than req/s when other work shares the machine; it is what a proxy costs per request.',
    ],
  });
});
