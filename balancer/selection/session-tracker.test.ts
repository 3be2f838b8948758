import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EdgeNode } from '../discovery/edge-node.js';
import { createSessionTracker, demotedLast, isDemoted } from './session-tracker.js';

const edge = (id: string, region = 'us-east'): EdgeNode => ({ id, url: `http://${id}.test`, region, lat: 0, lon: 0, weight: 1 });

describe('createSessionTracker', () => {
  it('counts sessions per edge, moves them on reassignment, and forgets idle ones', () => {
    let now = 1_000;
    const tracker = createSessionTracker({ ttlMs: 30_000, maxSessions: 100, now: () => now });
    tracker.assign('viewer-a', 'vod/x', 'edge-1');
    tracker.assign('viewer-b', 'vod/x', 'edge-1');
    tracker.assign('viewer-c', 'vod/y', 'edge-2');
    assert.deepEqual([...tracker.loads()].sort(), [['edge-1', 2], ['edge-2', 1]]);
    tracker.assign('viewer-b', 'vod/x', 'edge-2');
    assert.deepEqual([...tracker.loads()].sort(), [['edge-1', 1], ['edge-2', 2]]);
    now += 20_000;
    tracker.assign('viewer-a', 'vod/x', 'edge-1'); // still watching
    now += 15_000;
    assert.deepEqual([...tracker.loads()], [['edge-1', 1]]);
    assert.equal(tracker.size, 1);
    assert.equal(tracker.get('viewer-b'), undefined);
  });

  it('drops the oldest sessions beyond maxSessions', () => {
    const tracker = createSessionTracker({ ttlMs: 60_000, maxSessions: 3 });
    for (const viewer of ['a', 'b', 'c', 'd', 'e']) tracker.assign(viewer, 'vod/x', 'edge-1');
    assert.equal(tracker.size, 3);
    assert.equal(tracker.loads().get('edge-1'), 3);
    assert.equal(tracker.get('a'), undefined);
    assert.ok(tracker.get('e'));
  });

  it('a session remembers at most maxDemotedPerSession demoted edges, the oldest making way, and forgets expired ones', () => {
    let now = 1_000;
    const tracker = createSessionTracker({ ttlMs: 60_000, maxSessions: 10, maxDemotedPerSession: 3, now: () => now });
    tracker.assign('viewer', 'vod/a', 'edge-1');
    for (let i = 0; i < 1000; i++) tracker.demote('viewer', `made-up-${i}`, 30_000);
    const session = tracker.get('viewer')!;
    assert.deepEqual([...session.demoted.keys()], ['made-up-997', 'made-up-998', 'made-up-999']);
    now += 30_001;
    tracker.demote('viewer', 'edge-2', 30_000);
    assert.deepEqual([...session.demoted.keys()], ['edge-2'], 'expired demotions are dropped');
    tracker.demote('nobody', 'edge-2', 30_000);
    assert.equal(tracker.get('nobody'), undefined);
  });

  it('validates its options', () => {
    assert.throws(() => createSessionTracker({ ttlMs: 1, maxSessions: 1, maxDemotedPerSession: 0 }), /maxDemotedPerSession/);
    assert.throws(() => createSessionTracker({ ttlMs: 0, maxSessions: 1 }), /ttlMs/);
    assert.throws(() => createSessionTracker({ ttlMs: 1, maxSessions: 0 }), /maxSessions/);
  });
});

describe('demotedLast', () => {
  const candidates = [edge('edge-1'), edge('edge-2'), edge('edge-3'), edge('edge-9', 'eu-west')];
  const tracker = createSessionTracker({ ttlMs: 60_000, maxSessions: 10 });
  it('moves edges the viewer reported to the back while the demotion lasts', () => {
    const session = tracker.assign('z', 'vod/x', 'edge-1');
    tracker.demote('z', 'edge-1', 10_000);
    assert.equal(isDemoted(session, 'edge-1', Date.now()), true);
    assert.deepEqual(demotedLast(candidates, session, Date.now()).map((e) => e.id), ['edge-2', 'edge-3', 'edge-9', 'edge-1']);
    assert.equal(isDemoted(session, 'edge-1', Date.now() + 20_000), false);
    assert.deepEqual(demotedLast(candidates, session, Date.now() + 20_000).map((e) => e.id), ['edge-1', 'edge-2', 'edge-3', 'edge-9']);
  });
  it('without a session keeps the candidate order', () => {
    assert.deepEqual(demotedLast(candidates, undefined, 0), candidates);
    assert.equal(isDemoted(undefined, 'edge-1', 0), false);
  });
});
