import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EdgeNode } from './edge-node.js';
import { createSnapshot } from './edge-snapshot.js';
import { buildStatusReport, renderStatusHtml } from './status-report.js';

const edge: EdgeNode = { id: 'edge-1', url: 'http://127.0.0.1:1', region: 'us-east', lat: 0, lon: 0, weight: 1 };

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
    });
    assert.equal(report.snapshot.stale, true);
    assert.ok(report.snapshot.ageSeconds! >= 5);
    assert.equal(report.edges[0]!.activeSessions, 3);
    const html = renderStatusHtml(report);
    assert.ok(!html.includes('<script>'));
    assert.match(html, /&#60;script&#62;/);
    assert.match(html, /unreachable/);
  });
});
