import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BenchReport, LoadRounds } from './report.js';
import { chartsFor, latencyChart, originBytesChart, renderReportHtml, rssChart, summaryTable, throughputChart, type BenchRun, type BenchSuite } from './report-html.js';
import type { LoadResult } from './wrk-load.js';

function load(requestsPerSecond: number, p50: number): LoadResult {
  return { requests: requestsPerSecond * 5, requestsPerSecond, megabytesPerSecond: requestsPerSecond / 1000, latencyP50Ms: p50, latencyP90Ms: p50 * 2, latencyP99Ms: p50 * 4, latencyMaxMs: p50 * 10, errors: 0 };
}

const LOAD_ROUNDS: LoadRounds[] = [
  { object: 'segment', contender: 'edge', rounds: [load(100, 1), load(300, 3), load(200, 2)] },
  { object: 'segment', contender: 'varnish', rounds: [load(150, 1.5)] },
  { object: 'playlist', contender: 'edge', rounds: [load(1000, 0.5)] },
  { object: 'playlist', contender: 'varnish', rounds: [load(2000, 0.25)] },
];

const EDGE_REPORT: BenchReport = {
  benchmark: 'edge-vs-nginx',
  settings: { rounds: 3 },
  tables: [{ title: 'Cache hits', columns: ['object / contender', 'req/s'], rows: [['segment edge', 200]] }],
  targets: [
    { name: 'hit ratio', measured: 0.8, target: '≥ 1', met: false },
    { name: 'herd origin requests', measured: 1, target: '≤ 1', met: true },
  ],
  notes: ['noisy <machine>'],
  loadRounds: LOAD_ROUNDS,
};

const CLUSTER_REPORT: BenchReport = {
  benchmark: 'cluster-efficiency',
  settings: { idealBytes: 50e6 },
  tables: [{ title: 'strategies', columns: ['strategy', 'origin MB', '× ideal'], rows: [['bounded-load hashing', 52, 1.04], ['random', 120, 2.4]] }],
  targets: [],
};

const EDGE_RUN: BenchRun = {
  benchmark: 'edge-vs-nginx',
  args: ['--rounds', '3'],
  exitCode: 0,
  seconds: 61.2,
  report: EDGE_REPORT,
  rss: [{ label: 'edge bench-edge pid 7', points: [[0, 50 * 1024 * 1024], [1, 60 * 1024 * 1024]] }],
};

describe('benchmark HTML report', () => {
  it('charts median req/s per object (group) and contender (bar)', () => {
    const chart = throughputChart('edge-vs-nginx', LOAD_ROUNDS);
    assert.deepEqual(chart.groups, ['segment', 'playlist']);
    assert.deepEqual(chart.series, [{ name: 'edge', values: [200, 1000] }, { name: 'varnish', values: [150, 2000] }]);
  });

  it('charts p50/p90/p99/max per contender on one object, medians of the rounds', () => {
    const chart = latencyChart('edge-vs-nginx', LOAD_ROUNDS, 'segment');
    assert.deepEqual(chart.groups, ['edge', 'varnish']);
    assert.deepEqual(chart.series.map((series) => [series.name, ...series.values]), [['p50', 2, 1.5], ['p90', 4, 3], ['p99', 8, 6], ['max', 20, 15]]);
  });

  it('fails clearly when a contender has no rounds for an object', () => {
    assert.throws(() => throughputChart('x', [...LOAD_ROUNDS, { object: 'other', contender: 'edge', rounds: [load(1, 1)] }]), /no load rounds for varnish on other/);
  });

  it('charts origin bytes per balancing strategy against the single-cache ideal', () => {
    const chart = originBytesChart(CLUSTER_REPORT)!;
    assert.deepEqual(chart.groups, ['bounded-load hashing', 'random']);
    assert.deepEqual(chart.series, [{ name: 'origin MB', values: [52, 120] }]);
    assert.deepEqual(chart.reference, { value: 50, label: 'single-cache ideal 50.0 MB' });
    assert.equal(originBytesChart(EDGE_REPORT), undefined);
  });

  it('charts RSS in MB over seconds, one line per process', () => {
    assert.deepEqual(rssChart(EDGE_RUN).series, [{ name: 'edge bench-edge pid 7', points: [[0, 50], [1, 60]] }]);
  });

  it('draws throughput, one latency chart per object and RSS for the edge; origin bytes for the cluster', () => {
    assert.equal(chartsFor(EDGE_RUN).length, 1 + 2 + 1);
    const cluster = chartsFor({ benchmark: 'cluster-efficiency', args: [], exitCode: 0, seconds: 1, report: CLUSTER_REPORT, rss: [] });
    assert.equal(cluster.length, 1);
    assert.match(cluster[0]!, /bytes fetched from the origin/);
  });

  it('draws the time series a report carries (the soak), after its other charts', () => {
    const soak: BenchRun = {
      benchmark: 'soak',
      args: ['--minutes', '2'],
      exitCode: 0,
      seconds: 150,
      report: {
        benchmark: 'soak',
        settings: {},
        tables: [],
        targets: [],
        timeSeries: [{ title: 'soak: RSS per process', xUnit: 's', yUnit: 'MB', series: [{ name: 'edge-1 pid 9', points: [[0, 50], [2, 51]] }], bands: [{ from: 1, to: 1.5, label: 'edge-kill' }] }],
      },
      rss: [],
    };
    const charts = chartsFor(soak);
    assert.equal(charts.length, 1);
    assert.match(charts[0]!, /soak: RSS per process/);
    assert.match(charts[0]!, /<rect class="band"/);
  });

  it('summarises each run: completed or failed, duration, targets met and the missed ones', () => {
    const suite: BenchSuite = {
      startedAt: '2026-12-03T12:00:00.000Z',
      command: 'npm run bench',
      quick: false,
      machine: '2 cores',
      notes: [],
      runs: [EDGE_RUN, { benchmark: 'proxy-overhead', args: [], exitCode: 1, failure: 'exit code 1', seconds: 3, rss: [] }],
    };
    assert.deepEqual(summaryTable(suite).rows, [
      ['edge-vs-nginx', 'completed', 61, '1/2', 'hit ratio: 0.80 (≥ 1)'],
      ['proxy-overhead', 'FAILED (exit code 1)', 3, '0/0', ''],
    ]);
    const html = renderReportHtml(suite);
    assert.match(html, /^<!doctype html>/);
    assert.equal(html.match(/<svg /g)!.length, 4);
    assert.match(html, /<td>MISSED<\/td>/);
    assert.match(html, /Did not complete: exit code 1/);
    assert.match(html, /noisy &#60;machine&#62;/);
    assert.doesNotMatch(html, /<script/);
  });
});
