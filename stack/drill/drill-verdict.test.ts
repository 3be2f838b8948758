import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeDrill, percentile, renderVerdict, type DrillMeasurements } from './drill-verdict.js';
import type { ViewerStats } from './synthetic-viewer.js';

function viewer(id: string, stallMs: number, extra: Partial<ViewerStats> = {}): ViewerStats {
  return {
    id, startupMs: 100, stallMs, stalls: stallMs > 0 ? 1 : 0, stalled: false, requests: 20, failed: 0, failedSegments: 0, retried: 0, lost: 0, corrupt: 0,
    segments: 10, skippedSegments: 0, pathwaySwitches: 0, pathway: 'edge-1', firstFailureAt: undefined, lastFailureAt: undefined, ...extra,
  };
}

function measured(viewers: ViewerStats[], extra: Partial<DrillMeasurements> = {}): DrillMeasurements {
  return {
    scenario: 'edge-kill', fault: 'SIGKILL edge-1', detects: 'balancer notices', media: 'live/channel-1 (240p)', viewers, durationMs: 20_000,
    faultHeldMs: 3000, detectMs: 200, recoverMs: 900, originRequests: 10, originAttempts: 12, originAttemptsBy: 'edges', edgeResponses: 60, edgeMisses: 5, ...extra,
  };
}

test('percentiles are nearest-rank', () => {
  assert.equal(percentile([], 99), 0);
  assert.equal(percentile([5], 50), 5);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50), 5);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99), 10);
});

test('a drill passes only when every stated threshold holds; an absent one is not checked', () => {
  const viewers = [viewer('a', 0), viewer('b', 300), viewer('c', 1500, { failed: 2, retried: 2 })];
  const pass = judgeDrill(measured(viewers), { maxStallMs: 2000, maxLost: 0, maxDetectMs: 5000 });
  assert.equal(pass.pass, true);
  assert.deepEqual(pass.stallMs, { p50: 300, p99: 1500, max: 1500 });
  assert.equal(pass.totals.failed, 2);
  assert.deepEqual(pass.checks.map((check) => check.name), ['stall max', 'lost objects', 'time to detect', 'viewers that played']);

  const fail = judgeDrill(measured(viewers), { maxStallMs: 1000 });
  assert.equal(fail.pass, false);
  assert.deepEqual(fail.checks.filter((check) => !check.pass).map((check) => check.name), ['stall max']);
  assert.match(renderVerdict(measured(viewers), fail), /stall per viewer max\s+1500 ms\s+≤ 1000 ms\s+FAIL/);
  assert.match(renderVerdict(measured(viewers), fail), /verdict: FAIL \(stall max\)/);
  assert.match(renderVerdict(measured(viewers), fail), /origin attempts \(edges \/metrics\)\s+12\n/);
  assert.match(renderVerdict(measured(viewers, { originAttemptsBy: 'edges + shields' }), fail), /origin attempts \(edges \+ shields \/metrics\)\s+12\n/);
});

test('a fault never detected, a viewer that never played, or no viewer at all fails', () => {
  assert.equal(judgeDrill(measured([viewer('a', 0)], { detectMs: undefined }), { maxDetectMs: 5000 }).pass, false);
  assert.equal(judgeDrill(measured([viewer('a', 0), viewer('b', 0, { segments: 0, startupMs: undefined })]), {}).pass, false);
  assert.equal(judgeDrill(measured([]), {}).pass, false);
});

test('a region cut judges whether its viewers were on the cut edges, left them, and lost no segment', () => {
  const viewers = [viewer('a', 800, { failed: 1, retried: 1 }), viewer('b', 0, { failed: 1, failedSegments: 1, retried: 1 })];
  const thresholds = { maxStallMs: 4000, maxFailedSegments: 0, maxStayed: 0 };
  const cut = measured(viewers, { scenario: 'region-cut', onFaultAtInject: 2, stayedOnFault: 0 });
  const verdict = judgeDrill(cut, thresholds);
  assert.deepEqual(verdict.checks.filter((check) => !check.pass).map((check) => check.name), ['failed segment loads']);
  assert.equal(verdict.totals.failedSegments, 1);
  const table = renderVerdict(cut, verdict);
  assert.match(table, /of which segment loads\s+1\s+≤ 0\s+FAIL/);
  assert.match(table, /viewers on the faulted edges at inject\s+2\s+≥ 1\s+pass/);
  assert.match(table, /viewers left on the faulted edges\s+0\s+≤ 0\s+pass/);

  const stayed = judgeDrill(measured([viewer('a', 0)], { onFaultAtInject: 1, stayedOnFault: 1 }), thresholds);
  assert.deepEqual(stayed.checks.filter((check) => !check.pass).map((check) => check.name), ['viewers left on the fault']);
  // Nobody watched from the cut edges: the drill moved no one and shows nothing.
  const nobody = judgeDrill(measured([viewer('a', 0)], { onFaultAtInject: 0, stayedOnFault: 0 }), thresholds);
  assert.deepEqual(nobody.checks.filter((check) => !check.pass).map((check) => check.name), ['viewers on the fault when it went in']);
});
