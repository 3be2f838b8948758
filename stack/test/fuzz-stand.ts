// A live stand for the fuzzer: a real `streamedge origin` on the shared test catalog, a real
// `streamedge edge` in front of it and, when asked, a real `streamedge balancer` (proxy front, a
// static --edge list) in front of that; then fuzz cases against one of them and the checks after.
import assert from 'node:assert/strict';
import { ensureTestCatalog } from '../../origin/test/catalog-fixture.js';
import { checkAftermath, fetchKnownObjects, type Aftermath } from '../../infra/testing/fuzz-aftermath.js';
import { fuzzCases, type KnownObject } from '../../infra/testing/http-fuzz-cases.js';
import { runFuzz, summarizeFindings, type FuzzReport } from '../../infra/testing/http-fuzzer.js';
import { treeFootprint, type Footprint } from '../../infra/testing/process-footprint.js';
import { spawnStreamedge, type StreamedgeProcess } from '../streamedge-process.js';
import { SHIPPED_LOCATIONS_FILE } from '../stack-topology.js';

export const FUZZ_KNOWN_PATHS = [
  '/vod/demo-ts/master.m3u8',
  '/vod/demo-ts/720p/index.m3u8',
  '/vod/demo-ts/720p/seg-00001.ts',
  '/vod/demo-ts/240p/seg-00000.ts',
  '/vod/demo-fmp4/480p/init.mp4',
  '/vod/demo-fmp4/480p/seg-00002.m4s',
];

// Short header, request and idle timeouts, so unfinished cases end in seconds and idle sockets go
// quickly; a write timeout long enough for a fuzzer starved of CPU on a busy machine (it reads all).
const VIEWER_LIMITS = ['--header-timeout', '1s', '--request-timeout', '3s', '--keep-alive-timeout', '2s', '--write-timeout', '10s'];
const CASE_TIMEOUT_MS = 15_000;
const WARM_UP_REQUESTS = 3_000;

export interface FuzzLiveOptions {
  readonly target: 'edge' | 'balancer';
  readonly seed: number;
  readonly requests: number;
  readonly concurrency: number;
  /** Edge --workers (2 also fuzzes the sibling hand-over between workers). */
  readonly edgeWorkers: number;
  /** Called with each service started, so a caller can guard it against orphaning. */
  readonly onStarted?: (service: StreamedgeProcess) => void;
}

export interface FuzzLiveResult {
  readonly report: FuzzReport;
  readonly baseline: Footprint;
  readonly aftermath: Aftermath;
  /** The tail of the target's log, for a failure message. */
  readonly targetLog: string;
}

export async function fuzzLive(options: FuzzLiveOptions): Promise<FuzzLiveResult> {
  const services: StreamedgeProcess[] = [];
  const start = async (args: string[]): Promise<StreamedgeProcess> => {
    const service = await spawnStreamedge(args, { outputLimit: 256 * 1024 });
    services.push(service);
    options.onStarted?.(service);
    return service;
  };
  try {
    const catalog = await ensureTestCatalog();
    const origin = await spawnStreamedge(['origin', '--port', '0', '--id', 'origin-fuzz', '--content', catalog]);
    services.push(origin);
    options.onStarted?.(origin);
    const edge = await start([
      'edge', '--port', '0', '--id', 'edge-fuzz', '--origin', origin.url, '--workers', String(options.edgeWorkers),
      // Stopped when the run is judged: no viewer to wait for, so no 8 s drain (grace is 5 s).
      '--max-request-body', '64KB', '--drain-delay', '0', ...VIEWER_LIMITS,
    ]);
    const target = options.target === 'edge'
      ? edge
      : await start([
          'balancer', '--port', '0', '--id', 'balancer-fuzz', '--mode', 'proxy', '--locations', SHIPPED_LOCATIONS_FILE,
          '--edge', `${edge.url};id=edge-fuzz;region=us-east;lat=39.04;lon=-77.49`, ...VIEWER_LIMITS,
        ]);
    const known: KnownObject[] = await fetchKnownObjects(origin.url, FUZZ_KNOWN_PATHS);
    // Warm: every known object cached (and each worker's code paths run once) before the baseline.
    for (let round = 0; round < 3; round++) {
      for (const object of known) await (await fetch(`${target.url}${object.path}`)).arrayBuffer();
    }
    // And a short run of other cases first: V8 grows its heap to a working size on the first burst
    // and keeps it (measured: +100 to +140 MB RSS on the balancer), which is sizing, not a leak; a
    // leak keeps growing through the run measured after it.
    const idle = await treeFootprint(target.child.pid!);
    await runFuzz({ url: target.url, cases: fuzzCases(options.seed + 1, known), requests: WARM_UP_REQUESTS, concurrency: options.concurrency, caseTimeoutMs: CASE_TIMEOUT_MS });
    const baseline = { rssBytes: (await treeFootprint(target.child.pid!)).rssBytes, fds: idle.fds };
    const report = await runFuzz({ url: target.url, cases: fuzzCases(options.seed, known), requests: options.requests, concurrency: options.concurrency, caseTimeoutMs: CASE_TIMEOUT_MS });
    const aftermath = await checkAftermath({
      url: target.url, pid: target.child.pid!, baseline, known,
      // Above the keep-alive and request timeouts, so every socket the run left has timed out. RSS:
      // the cache keeps the run's 404s (measured: +40 to +70 MB on an edge).
      settleMs: 10_000, rssSlackBytes: 96 * 2 ** 20, fdSlack: 8,
    });
    return { report, baseline, aftermath, targetLog: target.output().slice(-4000) };
  } finally {
    await Promise.all(services.reverse().map((service) => service.stop(5000)));
  }
}

/** What `npm test` asks of a fuzz run: enough requests, every family, no finding, no after-run problem. */
export function assertFuzzPassed(result: FuzzLiveResult, requests: number): void {
  const { report, baseline, aftermath, targetLog } = result;
  assert.ok(report.requests >= requests, `only ${report.requests} requests sent`);
  assert.equal(report.findings.length, 0, `${summarizeFindings(report.findings)}\n${targetLog}`);
  assert.deepEqual(aftermath.problems, [], `baseline ${JSON.stringify(baseline)}\n${targetLog}`);
  for (const family of ['request-line', 'headers', 'path', 'range', 'conditional', 'body', 'smuggling', 'slow', 'half-close', 'pipeline', 'reset']) {
    assert.ok((report.byFamily[family] ?? 0) > 50, `${family}: ${report.byFamily[family] ?? 0} requests`);
  }
}
