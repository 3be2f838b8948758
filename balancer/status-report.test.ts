import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EdgeNode } from './discovery/edge-node.js';
import { createSnapshot } from './discovery/edge-snapshot.js';
import { buildStatusReport, mergeWorkerStatus, renderStatusHtml, type StatusReport } from './status-report.js';

const edge: EdgeNode = { id: 'edge-1', url: 'http://127.0.0.1:1', region: 'us-east', lat: 0, lon: 0, weight: 1 };
const edge2: EdgeNode = { ...edge, id: 'edge-2', url: 'http://127.0.0.1:2' };

function workerReport(sessions: Record<string, number>, state: 'healthy' | 'ejected' = 'healthy'): StatusReport {
  const loads = new Map(Object.entries(sessions));
  return buildStatusReport({
    mode: 'proxy',
    balanceFactor: 1.25,
    snapshot: createSnapshot([edge, edge2], 'static'),
    discovery: { source: 'static', reachable: true, lastSuccessAt: Date.now(), lastError: undefined },
    health: () => ({ state, ejections: state === 'ejected' ? 1 : 0 }),
    loads,
    activeSessions: [...loads.values()].reduce((a, b) => a + b, 0),
  });
}

describe('renderStatusHtml', () => {
  it('escapes what comes from outside (Consul errors, edge data)', () => {
    const report = buildStatusReport({
      mode: 'steering',
      balanceFactor: 1.25,
      snapshot: createSnapshot([edge], 'consul'),
      discovery: { source: 'consul', reachable: false, lastSuccessAt: Date.now() - 5_000, lastError: '<script>alert(1)</script>' },
      health: () => ({ state: 'ejected', reason: 'connect-refused', ejections: 1 }),
      loads: new Map([['edge-1', 3]]),
      activeSessions: 3,
      shields: [{ id: 'shield-<b>', region: 'us-east', url: 'http://10.0.0.9:8081' }],
    });
    assert.equal(report.snapshot.stale, true);
    assert.deepEqual(report.shields, [{ id: 'shield-<b>', region: 'us-east', url: 'http://10.0.0.9:8081' }]);
    assert.match(renderStatusHtml(report), /shield-&#60;b&#62;<\/td><td>us-east<\/td><td>http:\/\/10\.0\.0\.9:8081/);
    assert.match(renderStatusHtml(workerReport({})), /no shields/);
    assert.ok(report.snapshot.ageSeconds! >= 5);
    assert.equal(report.edges[0]!.activeSessions, 3);
    const html = renderStatusHtml(report);
    assert.ok(!html.includes('<script>'));
    assert.match(html, /&#60;script&#62;/);
    assert.match(html, /unreachable/);
  });
});

describe('mergeWorkerStatus', () => {
  it('sums active sessions per edge over the workers that answered and keeps the rest from this worker', () => {
    const own = workerReport({ 'edge-1': 2 }, 'ejected');
    const merged = mergeWorkerStatus(own, [workerReport({ 'edge-1': 3, 'edge-2': 1 }), workerReport({ 'edge-2': 4 })], 3);
    assert.equal(merged.activeSessions, 10);
    assert.deepEqual(
      merged.edges.map((status) => [status.id, status.activeSessions, status.health, status.ejections]),
      [
        ['edge-1', 5, 'ejected', 1],
        ['edge-2', 5, 'ejected', 1],
      ],
    );
    assert.deepEqual(merged.workers, { count: 3, answered: 3 });
    assert.equal(merged.snapshot, own.snapshot);
  });

  it('says when a worker did not answer, in the JSON and on the page', () => {
    const merged = mergeWorkerStatus(workerReport({ 'edge-1': 2 }), [workerReport({ 'edge-1': 1 })], 3);
    assert.equal(merged.activeSessions, 3);
    assert.deepEqual(merged.workers, { count: 3, answered: 2 });
    assert.match(renderStatusHtml(merged), /<span class="stale">2 of 3 workers answered<\/span>/);
  });
});
