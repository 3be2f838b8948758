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

const HOSTS = {
  regions: [{ name: 'eu-west', routerNamespace: 'se-gw-eu-west', viewerAddress: '10.77.102.2' }],
  services: [{ id: 'edge-1', region: 'eu-west', namespace: 'se-edge-1' }],
};

test('a stack state file reads back as written, and is gone after removal', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stack-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'stack.json');
  await writeStackState(file, STATE);
  assert.deepEqual(await readStackState(file), STATE);
  await writeStackState(file, { ...STATE, hosts: HOSTS });
  assert.deepEqual(await readStackState(file), { ...STATE, hosts: HOSTS }, 'a hosts stack records where its services run');
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
    [{ ...STATE, services: [{ id: 'edge-1', role: 'router', url: 'http://x', pid: 3 }] }, /service entry .* is malformed/],
    [{ ...STATE, balancerUrl: 'not a url' }, /balancerUrl/],
    [{ ...STATE, hosts: { regions: HOSTS.regions } }, /hosts needs regions and services/],
    [{ ...STATE, hosts: { ...HOSTS, regions: [{ ...HOSTS.regions[0], viewerAddress: '10.77.300.2' }] } }, /hosts region .* is malformed/],
    [{ ...STATE, hosts: { ...HOSTS, regions: [{ ...HOSTS.regions[0], routerNamespace: 'se gw; rm' }] } }, /hosts region .* is malformed/],
    [{ ...STATE, hosts: { ...HOSTS, services: [{ id: 'edge-9', region: 'eu-west', namespace: 'se-edge-9' }] } }, /hosts service .* is malformed/],
    [{ ...STATE, hosts: { ...HOSTS, services: [{ id: 'edge-1', region: 'mars', namespace: 'se-edge-1' }] } }, /hosts service .* is malformed/],
  ];
  for (const [content, expected] of cases) {
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
    await assert.rejects(readStackState(file), expected);
  }
});
