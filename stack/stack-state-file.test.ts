import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readStackState, removeStackState, writeStackState, type StackState } from './stack-state-file.js';

const STATE: StackState = {
  version: 1,
  supervisorPid: 100,
  restartAfterMs: 2000,
  consul: { url: 'http://127.0.0.1:8500', pid: 101 },
  balancerUrl: 'http://127.0.0.1:8080',
  services: [{ id: 'edge-1', role: 'edge', url: 'http://127.0.0.1:8081', pid: 102 }],
};

test('a stack state file reads back as written, and is gone after removal', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stack-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'stack.json');
  await writeStackState(file, STATE);
  assert.deepEqual(await readStackState(file), STATE);
  await removeStackState(file);
  await assert.rejects(readStackState(file), /no stack state at .*is `streamedge start` running/);
});

test('a malformed state file is refused, naming the bad field', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stack-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'stack.json');
  const cases: [unknown, RegExp][] = [
    ['not json', /unreadable stack state/],
    [{ ...STATE, version: 2 }, /not a version 1 state file/],
    [{ ...STATE, supervisorPid: -1 }, /supervisorPid/],
    [{ ...STATE, consul: { url: 'nope' } }, /consul.url/],
    [{ ...STATE, services: [{ id: 'edge-1', role: 'shield', url: 'http://x', pid: 3 }] }, /service entry .* is malformed/],
    [{ ...STATE, balancerUrl: 'not a url' }, /balancerUrl/],
  ];
  for (const [content, expected] of cases) {
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
    await assert.rejects(readStackState(file), expected);
  }
});
