import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blameForStatus } from './blame.js';

describe('blameForStatus', () => {
  it('blames nobody for a success, a 4xx or a deliberate refusal with Retry-After', () => {
    assert.equal(blameForStatus(200, () => ({})), undefined);
    assert.equal(blameForStatus(404, () => ({})), undefined);
    assert.equal(blameForStatus(503, () => ({ 'retry-after': '1' })), undefined);
  });

  it('reads the headers only for a 5xx', () => {
    let reads = 0;
    const readHeaders = () => {
      reads++;
      return {};
    };
    blameForStatus(200, readHeaders);
    blameForStatus(404, readHeaders);
    assert.equal(reads, 0);
    blameForStatus(502, readHeaders);
    assert.equal(reads, 1);
  });

  it('blames upstream when the edge names a fault upstream of it', () => {
    assert.deepEqual(blameForStatus(504, () => ({ 'streamedge-upstream-fault': 'timeout' })), { party: 'upstream', reason: 'timeout' });
    assert.deepEqual(blameForStatus(502, () => ({ 'streamedge-upstream-fault': ['connect', 'x'] })), { party: 'upstream', reason: 'connect' });
    assert.equal(blameForStatus(502, () => ({ 'streamedge-upstream-fault': 'a'.repeat(200) }))!.reason.length, 40, 'a label of bounded length');
  });

  it('blames the edge for a 5xx of its own', () => {
    assert.deepEqual(blameForStatus(500, () => ({})), { party: 'edge', reason: 'status-500' });
    assert.deepEqual(blameForStatus(502, () => ({ 'streamedge-upstream-fault': '' })), { party: 'edge', reason: 'status-502' });
  });
});
