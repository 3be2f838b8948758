import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EdgeNode } from '../discovery/edge-node.js';
import type { PassiveHealth } from './passive-health.js';
import { validateEdgeWaitOptions, watchEdgeWait, type EdgeWaitEnd } from './edge-wait.js';

const edge: EdgeNode = { id: 'edge-1', url: 'http://127.0.0.1:1', region: 'r', lat: 0, lon: 0, weight: 1 };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Health whose probe answers from `alive()`; counts the probes. */
function health(alive: () => boolean): PassiveHealth & { probes: number } {
  const stub = {
    probes: 0,
    async confirm() {
      stub.probes++;
      return alive();
    },
  };
  return stub as unknown as PassiveHealth & { probes: number };
}

describe('watchEdgeWait', () => {
  it('probes nothing while headers come within the response timeout', async () => {
    const h = health(() => true);
    const ends: EdgeWaitEnd[] = [];
    const wait = watchEdgeWait({ health: h, responseTimeoutMs: 50, maxWaitMs: 200 }, edge, (end) => ends.push(end));
    await sleep(20);
    wait.stop();
    await sleep(250);
    assert.equal(h.probes, 0);
    assert.deepEqual(ends, []);
    assert.equal(wait.stalled, false);
  });

  it('ends with edge-down as soon as the edge fails its probe', async () => {
    const h = health(() => false);
    const ends: EdgeWaitEnd[] = [];
    const wait = watchEdgeWait({ health: h, responseTimeoutMs: 30, maxWaitMs: 1_000 }, edge, (end) => ends.push(end));
    await sleep(80);
    assert.deepEqual(ends, ['edge-down']);
    assert.equal(wait.stalled, true);
    assert.equal(h.probes, 1);
  });

  it('keeps waiting on an edge that passes its probe, asking again, until the longest wait', async () => {
    const h = health(() => true);
    const ends: EdgeWaitEnd[] = [];
    watchEdgeWait({ health: h, responseTimeoutMs: 30, maxWaitMs: 200 }, edge, (end) => ends.push(end));
    await sleep(150);
    assert.deepEqual(ends, []);
    assert.ok(h.probes >= 3, `${h.probes} probes`);
    await sleep(100);
    assert.deepEqual(ends, ['waited-too-long']);
  });

  it('notices an edge that dies while it is waited on', async () => {
    let alive = true;
    const h = health(() => alive);
    const ends: EdgeWaitEnd[] = [];
    watchEdgeWait({ health: h, responseTimeoutMs: 30, maxWaitMs: 1_000 }, edge, (end) => ends.push(end));
    await sleep(50);
    alive = false;
    await sleep(60);
    assert.deepEqual(ends, ['edge-down']);
  });

  it('refuses a longest wait shorter than the response timeout', () => {
    assert.throws(() => validateEdgeWaitOptions({ health: health(() => true), responseTimeoutMs: 500, maxWaitMs: 100 }), /maxWaitMs/);
  });
});
