import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../infra/runtime/free-ports.js';
import { consulVerdict } from './health-monitor.js';
import { assertPortsFree, PortInUseError } from './port-check.js';
import { isProcessAlive } from '../infra/runtime/process-alive.js';
import { portsFromBase } from './stack-topology.js';


test('portsFromBase lays out the demo ports of CONTRACTS.md', () => {
  assert.deepEqual(portsFromBase(8080, 8500, 3, 2), { consul: 8500, balancer: 8080, edges: [8081, 8082, 8083], origins: [8091, 8092], shields: [] });
  assert.deepEqual(portsFromBase(8080, 8500, 3, 2, 2).shields, [8101, 8102]);
  assert.throws(() => portsFromBase(65520, 8500, 3, 2, 2), RangeError);
  assert.doesNotThrow(() => portsFromBase(65520, 8500, 3, 2));
  assert.throws(() => portsFromBase(65530, 8500, 3, 2), RangeError);
  assert.throws(() => portsFromBase(8080, 8500, 10, 2), RangeError);
});

test('assertPortsFree names the taken port and its service', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const { port } = blocker.address() as { port: number };
  await assert.rejects(assertPortsFree([{ port, service: 'edge-2' }]), (error: unknown) => {
    assert.ok(error instanceof PortInUseError);
    assert.match(error.message, new RegExp(`port ${port} \\(edge-2\\)`));
    return true;
  });
  await assert.rejects(assertPortsFree([{ port: 1, service: 'a' }, { port: 1, service: 'b' }]), /assigned to both a and b/);
});

test('streamedge start refuses a taken port before doing any work, naming the port, service and flag', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const { port } = blocker.address() as { port: number };
  const cli = fileURLToPath(new URL('./cli/streamedge.js', import.meta.url));
  const contentDir = join(tmpdir(), `streamedge-start-test-${process.pid}`);
  const child = spawn(process.execPath, [cli, 'start', '--base-port', String(port), '--consul-port', String(await freePort()), '--content', contentDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 2, stderr);
  assert.match(stderr, new RegExp(`--base-port: port ${port} \\(balancer\\) on 127\\.0\\.0\\.1 is already in use`));
  assert.equal(existsSync(contentDir), false, 'content was generated although start could not run');
});

test('consulVerdict: worst check wins, maintenance is named', () => {
  assert.equal(consulVerdict([{ CheckID: 'serfHealth', Status: 'passing' }, { CheckID: 'service:edge-1', Status: 'passing' }]), 'passing');
  assert.equal(consulVerdict([{ CheckID: 'serfHealth', Status: 'passing' }, { CheckID: 'service:edge-1', Status: 'critical' }]), 'critical');
  assert.equal(consulVerdict([{ CheckID: 'service:edge-1', Status: 'warning' }]), 'warning');
  assert.equal(consulVerdict([{ CheckID: '_service_maintenance:edge-1', Status: 'critical' }]), 'maintenance');
});

test('the orphan guard stops a runner\'s children when the runner is SIGKILLed', async (t) => {
  const runner = spawn(process.execPath, [fileURLToPath(new URL('./test/orphan-guard-fixture.js', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let childPid = 0;
  t.after(() => {
    runner.kill('SIGKILL');
    if (childPid && isProcessAlive(childPid)) process.kill(childPid, 'SIGKILL');
  });
  childPid = await new Promise<number>((resolve, reject) => {
    runner.stdout!.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { childPid: number }).childPid));
    runner.once('exit', () => reject(new Error('runner exited early')));
  });
  assert.ok(isProcessAlive(childPid));
  runner.kill('SIGKILL');
  const deadline = Date.now() + 8000;
  while (isProcessAlive(childPid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(isProcessAlive(childPid), false, 'the child outlived its SIGKILLed runner');
});
