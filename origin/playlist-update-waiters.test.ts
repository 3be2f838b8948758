import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPlaylistUpdateWaiters } from './playlist-update-waiters.js';

const work = await mkdtemp(join(tmpdir(), 'streamedge-waiters-'));
after(() => rm(work, { recursive: true, force: true }));

test('waiters on one playlist share its polling: each change is read once and settles whoever it satisfies', async () => {
  const path = join(work, 'index.m3u8');
  await writeFile(path, 'v1');
  const held: number[] = [];
  const outcomes: string[] = [];
  const waiters = createPlaylistUpdateWaiters({ maxHeld: 5, pollMs: 10, onHeld: (delta) => held.push(delta), onOutcome: (outcome) => outcomes.push(outcome) });
  const never = new AbortController().signal;
  const present = waiters.waitFor(path, (text) => text === 'v1', 1000, never);
  const second = waiters.waitFor(path, (text) => text === 'v2', 1000, never);
  const third = waiters.waitFor(path, (text) => text === 'v3', 150, never);
  assert.equal(await present, 'ready', 'the version already written satisfies a new waiter');
  assert.equal(waiters.held(), 2);
  await writeFile(path, 'v2');
  assert.equal(await second, 'ready');
  assert.equal(await third, 'timeout');
  assert.equal(waiters.held(), 0);
  assert.deepEqual(outcomes.sort(), ['ready', 'ready', 'timeout']);
  assert.equal(held.reduce((total, delta) => total + delta, 0), 0);
});

test('a full table refuses at once; abort and close let holds go', async () => {
  const path = join(work, 'other.m3u8');
  await writeFile(path, 'v1');
  const waiters = createPlaylistUpdateWaiters({ maxHeld: 2, pollMs: 10 });
  const leaving = new AbortController();
  const first = waiters.waitFor(path, () => false, 10_000, leaving.signal);
  const second = waiters.waitFor(path, () => false, 10_000, new AbortController().signal);
  assert.equal(await waiters.waitFor(path, () => false, 10_000, leaving.signal), 'full');
  leaving.abort();
  assert.equal(await first, 'aborted');
  await sleep(20);
  waiters.close();
  assert.equal(await second, 'aborted');
  assert.equal(waiters.held(), 0);
  assert.throws(() => createPlaylistUpdateWaiters({ maxHeld: -1, pollMs: 10 }), /maxHeld/);
  assert.throws(() => createPlaylistUpdateWaiters({ maxHeld: 1, pollMs: 0 }), /pollMs/);
});
