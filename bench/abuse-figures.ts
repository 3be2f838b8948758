// Figures for issue 11's closing note, against a live origin and edge: (a) 2,000 sockets that
// connect, send nothing, half a head or a whole request, and never read: how long each stays open
// against the configured timeouts, and the edge's RSS and fds before, at the peak and after;
// (b) a junk-URL flood of made-up segment names: origin requests against --new-keys-per-second.
// Run: npm run bench:abuse
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandOptions } from '../infra/runtime/command-options.js';
import { openRawClient, type RawClient } from '../infra/testing/raw-client.js';
import { treeFootprint } from '../infra/testing/process-footprint.js';
import { ensureTestCatalog } from '../origin/test/catalog-fixture.js';
import { runBenchmark } from './bench-runner.js';
import { startBenchService } from './bench-services.js';
import { scrapeMetric } from './metric-scrape.js';
import { atMost, publishReport } from './report.js';

const OPTIONS = {
  sockets: { kind: 'integer', description: 'silent sockets opened at once', default: 2000, min: 1, max: 20_000 },
  'junk-requests': { kind: 'integer', description: 'made-up segment URLs requested', default: 50_000, min: 1, max: 10_000_000 },
  concurrency: { kind: 'integer', description: 'junk requests in flight', default: 64, min: 1, max: 1000 },
  'header-timeout': { kind: 'integer', description: 'edge --header-timeout, ms', default: 2000, min: 50 },
  'write-timeout': { kind: 'integer', description: 'edge --write-timeout, ms', default: 3000, min: 50 },
  'new-keys-per-second': { kind: 'integer', description: 'edge --new-keys-per-second', default: 200, min: 1 },
} as const;

const MB = 2 ** 20;
type Kind = 'nothing' | 'half head' | 'whole request, never read';
const KINDS: readonly Kind[] = ['nothing', 'half head', 'whole request, never read'];

await runBenchmark('abuse-figures', async (resources) => {
  const options = parseCommandOptions('bench:abuse', 'Silent sockets and a junk-URL flood against a live edge.', OPTIONS, process.argv.slice(2));
  const catalog = await ensureTestCatalog();
  const scratch = join(tmpdir(), `streamedge-bench-abuse-${process.pid}`);
  resources.defer(() => rm(scratch, { recursive: true, force: true }));
  const origin = await startBenchService(resources, ['origin', '--port', '0', '--id', 'abuse-origin', '--content', catalog]);
  const keepAliveMs = 5000;
  const edge = await startBenchService(resources, [
    'edge', '--port', '0', '--id', 'abuse-edge', '--origin', origin.url, '--workers', '1', '--prefetch', '0',
    '--header-timeout', `${options['header-timeout']}ms`, '--request-timeout', `${2 * options['header-timeout']}ms`,
    '--keep-alive-timeout', `${keepAliveMs}ms`, '--write-timeout', `${options['write-timeout']}ms`,
    '--new-keys-per-second', String(options['new-keys-per-second']), '--negative-ttl', '2s',
  ]);
  const segment = '/vod/demo-ts/720p/seg-00001.ts';
  await (await fetch(`${edge.url}${segment}`)).arrayBuffer();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const pid = edge.child.pid!;
  const baseline = await treeFootprint(pid);

  // (a) Silent sockets, spread over 127.0.0.x so the per-address cap (500) admits them all.
  const clients: { kind: Kind; client: RawClient }[] = [];
  for (let i = 0; i < options.sockets; i++) {
    const kind = KINDS[i % KINDS.length]!;
    // A paused socket never sees the server's FIN (nor libuv a reset), so only the never-reading kind
    // is paused; its close is timed from the edge's own count of open connections.
    const neverReads = kind === 'whole request, never read';
    const client = await openRawClient(edge.url, { paused: neverReads, localAddress: `127.0.0.${10 + (i % 20)}` });
    if (kind === 'half head') client.socket.write(`GET ${segment} HTTP/1.1\r\nHost: ab`);
    if (kind === 'whole request, never read') client.socket.write(`GET ${segment} HTTP/1.1\r\nHost: abuse\r\n\r\n`);
    clients.push({ kind, client });
  }
  const opened = performance.now();
  let peak = await treeFootprint(pid);
  const sampling = setInterval(() => void treeFootprint(pid).then((now) => (peak = now.rssBytes > peak.rssBytes ? now : peak)), 200);
  const openConnections = (): Promise<number> => scrapeMetric(edge.url, 'streamedge_edge_open_connections');
  const readers = clients.filter(({ kind }) => kind !== 'whole request, never read');
  const readerTimes = Promise.all(readers.map(async ({ kind, client }) => ({ kind, ms: await client.closed })));
  // The scrape's own connection is the one left.
  while ((await openConnections()) > 1 && performance.now() - opened < 120_000) await new Promise((resolve) => setTimeout(resolve, 50));
  const allClosedMs = performance.now() - opened;
  const closeTimes = [
    ...(await readerTimes),
    ...clients.filter(({ kind }) => kind === 'whole request, never read').map(({ kind }) => ({ kind, ms: allClosedMs })),
  ];
  clearInterval(sampling);
  for (const { client } of clients) client.socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const afterSockets = await treeFootprint(pid);
  const limitFor = (kind: Kind): number => (kind === 'whole request, never read' ? options['write-timeout'] : options['header-timeout']);
  const socketRows = KINDS.map((kind) => {
    const times = closeTimes.filter((entry) => entry.kind === kind).map((entry) => entry.ms);
    return [kind, times.length, Math.max(...times), Math.min(...times), limitFor(kind)];
  });

  // (b) Junk-URL flood: every URL a made-up segment name, nothing cached for any of them.
  const originBefore = await scrapeMetric(origin.url, 'streamedge_origin_requests_total');
  const statuses = new Map<string, number>();
  let next = 0;
  const floodStarted = performance.now();
  const worker = async (): Promise<void> => {
    while (next < options['junk-requests']) {
      const index = next++;
      // A failed request (a reset kept-alive connection) is counted, not fatal: the figure is the origin's load.
      const status = await fetch(`${edge.url}/vod/demo-ts/720p/junk-${index}-${Math.random().toString(36).slice(2)}.ts`, { signal: AbortSignal.timeout(30_000) })
        .then(async (response) => (await response.arrayBuffer(), String(response.status)))
        .catch(() => 'failed');
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const floodSeconds = (performance.now() - floodStarted) / 1000;
  const originRequests = (await scrapeMetric(origin.url, 'streamedge_origin_requests_total')) - originBefore;
  const rate = options['new-keys-per-second'];
  const allowed = rate * floodSeconds + 2 * rate;
  const afterFlood = await treeFootprint(pid);

  const maxClose = (kind: Kind): number => Math.max(...closeTimes.filter((entry) => entry.kind === kind).map((entry) => entry.ms));
  await publishReport({
    benchmark: 'abuse-figures',
    settings: { ...options, keepAliveMs, edgeWorkers: 1 },
    tables: [
      { title: `(a) ${options.sockets} sockets that never read: time to close (ms)`, columns: ['sent', 'sockets', 'max ms', 'min ms', 'timeout ms'], rows: socketRows },
      { title: '(a) all closed, as the edge counts them', columns: ['ms'], rows: [[allClosedMs]] },
      {
        title: '(a) edge footprint',
        columns: ['moment', 'RSS MB', 'fds'],
        rows: [
          ['baseline', baseline.rssBytes / MB, baseline.fds],
          ['peak (sockets open)', peak.rssBytes / MB, peak.fds],
          ['2 s after the last close', afterSockets.rssBytes / MB, afterSockets.fds],
          ['after the junk flood', afterFlood.rssBytes / MB, afterFlood.fds],
        ],
      },
      {
        title: `(b) junk-URL flood: ${options['junk-requests']} made-up segment names`,
        columns: ['seconds', 'origin requests', 'origin req/s', 'allowed (rate × s + burst)', 'statuses'],
        rows: [[floodSeconds, originRequests, originRequests / floodSeconds, Math.round(allowed), JSON.stringify(Object.fromEntries(statuses))]],
      },
    ],
    targets: [
      atMost('max close, nothing sent (ms)', maxClose('nothing'), options['header-timeout'] + 1000),
      atMost('max close, half head (ms)', maxClose('half head'), options['header-timeout'] + 1000),
      atMost('max close, never read (ms)', maxClose('whole request, never read'), Math.max(options['write-timeout'], keepAliveMs) + 1000),
      atMost('all closed after (ms)', allClosedMs, Math.max(options['write-timeout'], keepAliveMs) + 2000),
      atMost('RSS after the sockets − baseline (MB)', (afterSockets.rssBytes - baseline.rssBytes) / MB, 32),
      atMost('fds after the sockets − baseline', afterSockets.fds - baseline.fds, 4),
      atMost('origin requests in the flood', originRequests, Math.round(allowed)),
    ],
    notes: [
      'A whole request never read is closed by the write timeout (its ~700 KB response does not fit the socket buffers); its time is when the edge counted its last viewer connection closed (an upper bound for each).',
      'Margins: 1 s over a timeout for the server\'s timeout check interval and a busy machine.',
    ],
  });
});
