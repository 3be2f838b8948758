import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SoakRequest } from './fault-windows.js';
import type { ProcessFigures, ProcessSeries } from './process-sampler.js';
import { planSoak } from './soak-plan.js';
import { soakReport, type SoakResult } from './soak-report.js';

const MB = 1024 * 1024;
const PLAN = planSoak(120_000, 30_000, ['edge-kill']);

/** Open fds and the connections among them at a second. */
type FdsAt = (second: number) => { readonly openFds: number; readonly openConnections: number };

/** A sample every 2 s over [fromS, toS], RSS from `rssMb(second)`, a full GC every 20 s leaving `oldMb(second)`, fds from `fds(second)`, the other figures flat. */
function process(label: string, fromS: number, toS: number, rssMb: (second: number) => number, oldMb: (second: number) => number = () => 12, fds: FdsAt = () => ({ openFds: 30, openConnections: 10 })): ProcessSeries {
  const samples = [];
  for (let second = fromS; second <= toS; second += 2) {
    const majorGcs = Math.floor(second / 20);
    // Between full GCs the old generation fills with garbage; right after one it holds what is kept.
    const oldGenerationBytes = (oldMb(second) + (second % 20) * 0.5) * MB;
    const figures: ProcessFigures = { rssBytes: rssMb(second) * MB, heapUsedBytes: 20 * MB, heapTotalBytes: 30 * MB, externalBytes: 2 * MB, oldGenerationBytes, majorGcs, ...fds(second), eventLoopP99Ms: 11 };
    samples.push({ atMs: second * 1000, figures });
  }
  const [service, , pid] = label.split(' ');
  return { label, service: service!, role: 'edge', pid: Number(pid), samples };
}

const requests: SoakRequest[] = [
  { endedAtMs: 10_000, ttfbMs: 4, ok: true },
  { endedAtMs: 50_000, ttfbMs: undefined, ok: false }, // in the edge-kill window
  { endedAtMs: 70_000, ttfbMs: 800, ok: false }, // after it: a failure the target counts
  { endedAtMs: 110_000, ttfbMs: 6, ok: true },
];

const FAILURES: SoakRequest[] = [
  { endedAtMs: 4_900, ttfbMs: undefined, ok: false, failure: { kind: 'master', service: 'balancer', path: '/vod/a/master.m3u8', reason: 'no answer within 4000 ms' } },
  { endedAtMs: 9_700, ttfbMs: undefined, ok: false, failure: { kind: 'master', service: 'balancer', path: '/live/c/master.m3u8', reason: 'no answer within 4000 ms' } },
  { endedAtMs: 50_000, ttfbMs: undefined, ok: false, failure: { kind: 'segment', service: 'edge-1', path: '/vod/a/240p/seg-1.ts', reason: 'fetch failed: ECONNREFUSED' } },
  { endedAtMs: 70_000, ttfbMs: 3, ok: false, failure: { kind: 'playlist', service: 'edge-2', path: '/live/c/240p/index.m3u8', reason: '503' } },
  { endedAtMs: 80_000, ttfbMs: 3, ok: false },
  { endedAtMs: 81_000, ttfbMs: 3, ok: true },
];

const RESULT: SoakResult = {
  plan: PLAN,
  settings: { minutes: 2 },
  sampleIntervalMs: 2000,
  processes: [
    process('edge-2 pid 11', 0, 120, () => 80),
    process('edge-3 pid 12', 0, 120, (second) => (second > 60 ? 90 : 80), (second) => 12 + second / 10),
    process('edge-1 pid 10', 0, 48, () => 80), // killed by the drill
  ],
  requests,
  drills: [
    { scenario: 'edge-kill', plannedAtMs: 48_000, outcome: 'ran', window: { label: 'edge-kill', fromMs: 48_000, toMs: 62_000 }, pass: false, failedChecks: ['stall max'], detectMs: 300, recoverMs: 5200 },
  ],
};

describe('soak report', () => {
  const report = soakReport(RESULT, ['a note']);

  it('judges each process\'s RSS, heap and fds growth against 5 %, and no failed request outside fault windows', () => {
    const byName = new Map(report.targets.map((target) => [target.name, target]));
    assert.deepEqual(byName.get('edge-2 pid 11: RSS growth %'), { name: 'edge-2 pid 11: RSS growth %', measured: 0, target: '< 5', met: true });
    assert.deepEqual(byName.get('edge-3 pid 12: RSS growth %'), { name: 'edge-3 pid 12: RSS growth %', measured: 12.5, target: '< 5', met: false });
    assert.equal(byName.get('edge-3 pid 12: open fds beyond connections growth %')?.met, true);
    assert.deepEqual(byName.get('failed viewer requests outside fault windows'), { name: 'failed viewer requests outside fault windows', measured: 1, target: '≤ 0', met: false });
    // The killed process lived too briefly after its warm-up to be judged: no target, a note instead.
    assert.ok(![...byName.keys()].some((name) => name.startsWith('edge-1')));
    assert.ok(report.notes?.some((note) => /^edge-1 pid 10 not judged: sampled for 18 s after its warm-up/.test(note)));
    assert.equal(report.targets.length, 2 * 3 + 1);
  });

  it('tables each process and figure with start, end, growth and result; event-loop delay is reported, not judged', () => {
    const growth = report.tables[0]!;
    assert.deepEqual(growth.columns, ['process', 'figure', 'start', 'end', 'growth', 'result']);
    assert.deepEqual(growth.rows.find((row) => row[0] === 'edge-3 pid 12' && row[1] === 'RSS MB'), ['edge-3 pid 12', 'RSS MB', 80, 90, '+12.5 %', 'FAIL']);
    assert.deepEqual(growth.rows.find((row) => row[0] === 'edge-2 pid 11' && row[1] === 'event-loop delay p99 ms'), ['edge-2 pid 11', 'event-loop delay p99 ms', 11, 11, '+0 %', 'reported']);
    assert.match(String(growth.rows.find((row) => row[0] === 'edge-1 pid 10')![5]), /^not judged: /);
  });

  it('counts the viewers\' requests inside fault windows apart from the rest, per interval too', () => {
    const [, , requestTable, intervalTable, drillTable] = report.tables;
    assert.deepEqual(requestTable!.rows, [
      ['outside fault windows', 3, 1, 800],
      ['during fault windows', 1, 1, ''],
      ['all', 4, 2, 800],
    ]);
    assert.deepEqual(intervalTable!.rows.map((row) => [row[0], row[3], row[4], row[5], row[7]]), [
      ['warm-up', 1, 0, 0, ''],
      ['interval 1', 0, 0, 0, ''],
      ['interval 2', 1, 0, 1, 'edge-kill'],
      ['interval 3', 1, 1, 0, ''],
      ['interval 4', 0, 0, 0, ''],
      ['interval 5', 1, 0, 0, ''],
    ]);
    assert.deepEqual(drillTable!.rows, [['edge-kill', 48, '48–62', 'FAIL', 0.3, 5.2, 'stall max']]);
  });

  it('reports the old generation right after full GCs, the first after the warm-up against the last, apart from the judged medians', () => {
    const table = report.tables[1]!;
    assert.deepEqual(table.columns, ['process', 'full GCs', 'first MB', 'last MB', 'change', 'at']);
    // Full GCs at 40, 60, 80, 100 and 120 s (after the 30 s warm-up); sampled right after, at those seconds.
    assert.deepEqual(table.rows, [
      ['edge-2 pid 11', 5, 12, 12, '+0 %', '40 s → 120 s'],
      ['edge-3 pid 12', 5, 16, 24, '+50 %', '40 s → 120 s'],
      ['edge-1 pid 10', 1, 12, '', '', 'fewer than 2 full GCs after its warm-up'],
    ]);
  });

  it('names every failed request by when, what, where and why', () => {
    const failures = soakReport({ ...RESULT, requests: FAILURES }, []).tables.at(-1)!;
    assert.deepEqual(failures.columns, ['when', 'request', 'service', 'reason', 'failed', 'first s', 'last s', 'example path']);
    assert.deepEqual(failures.rows, [
      ['during a fault', 'segment', 'edge-1', 'fetch failed: ECONNREFUSED', 1, 50, 50, '/vod/a/240p/seg-1.ts'],
      ['outside faults', 'master', 'balancer', 'no answer within 4000 ms', 2, 4.9, 9.7, '/vod/a/master.m3u8'],
      ['outside faults', 'playlist', 'edge-2', '503', 1, 70, 70, '/live/c/240p/index.m3u8'],
      ['outside faults', '?', '?', 'not told', 1, 80, 80, ''],
    ]);
  });

  it('charts RSS, heap, fds, event-loop delay and p99 time to headers over time, fault windows shaded', () => {
    const charts = report.timeSeries ?? [];
    assert.deepEqual(charts.map((chart) => chart.yUnit), [
      'RSS MB',
      'V8 heap used MB',
      'V8 old generation MB',
      'V8 heap total MB',
      'external memory MB',
      'open fds fds',
      'open connections connections',
      'open fds beyond connections fds',
      'event-loop delay p99 ms',
      'p99 time to headers ms',
    ]);
    for (const chart of charts) assert.deepEqual(chart.bands, [{ from: 48, to: 62, label: 'edge-kill' }]);
    assert.deepEqual(charts[0]!.markers, [{ at: 30, label: 'warm-up ends' }, { at: 102, label: 'last interval' }]);
    assert.equal(charts[0]!.series.length, 3);
    // Only requests that got headers are timed: 2 s buckets ending at 12, 72 and 112 s.
    assert.deepEqual(charts.at(-1)!.series[0]!.points, [[12, 4], [72, 800], [112, 6]]);
    const connections = charts.find((chart) => chart.yUnit === 'open connections connections')!;
    assert.deepEqual(connections.series[0]!.points[0], [0, 10]);
  });

  it('judges open fds without the connections open on the process: viewers a drill moved bring theirs, a leak grows beyond them', () => {
    // From 60 s on, 8 more viewer connections: 8 more fds with them (30 → 38, +27 % raw).
    const moved: FdsAt = (second) => (second < 60 ? { openFds: 30, openConnections: 10 } : { openFds: 38, openConnections: 18 });
    // 3 fds more with no connection to hold them: 20 → 23 beyond connections, +15 %.
    const leaking: FdsAt = (second) => (second < 60 ? { openFds: 30, openConnections: 10 } : { openFds: 33, openConnections: 10 });
    // Connections that close while fds stay open are a leak too: 20 → 25 beyond them, with the raw count flat.
    const kept: FdsAt = (second) => (second < 60 ? { openFds: 30, openConnections: 10 } : { openFds: 30, openConnections: 5 });
    const judged = soakReport(
      { ...RESULT, processes: [process('edge-2 pid 11', 0, 120, () => 80, undefined, moved), process('edge-3 pid 12', 0, 120, () => 80, undefined, leaking), process('shield-us-east pid 13', 0, 120, () => 80, undefined, kept)] },
      [],
    );
    const byName = new Map(judged.targets.map((target) => [target.name, target]));
    assert.deepEqual(byName.get('edge-2 pid 11: open fds beyond connections growth %'), { name: 'edge-2 pid 11: open fds beyond connections growth %', measured: 0, target: '< 5', met: true });
    assert.deepEqual(byName.get('edge-3 pid 12: open fds beyond connections growth %'), { name: 'edge-3 pid 12: open fds beyond connections growth %', measured: 15, target: '< 5', met: false });
    assert.deepEqual(byName.get('shield-us-east pid 13: open fds beyond connections growth %'), { name: 'shield-us-east pid 13: open fds beyond connections growth %', measured: 25, target: '< 5', met: false });
    // The raw fds are no target of their own: only reported, beside the connections.
    assert.ok(![...byName.keys()].some((name) => name.endsWith(': open fds growth %')));
    const rows = judged.tables[0]!.rows.filter((row) => row[0] === 'edge-2 pid 11' && String(row[1]).startsWith('open '));
    assert.deepEqual(rows, [
      ['edge-2 pid 11', 'open fds fds', 30, 38, '+26.7 %', 'reported'],
      ['edge-2 pid 11', 'open connections connections', 10, 18, '+80 %', 'reported'],
      ['edge-2 pid 11', 'open fds beyond connections fds', 20, 20, '+0 %', 'pass'],
    ]);
  });
});
