import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeStackState } from '../stack-state-file.js';

const CLI = fileURLToPath(new URL('../cli/streamedge.js', import.meta.url));

async function drill(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'drill', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

test('drill --help names every scenario with its thresholds, and says region-cut needs the hosts mode', async () => {
  const { code, stdout } = await drill(['--help']);
  assert.equal(code, 0);
  for (const name of ['edge-kill', 'edge-drain', 'origin-down', 'origin-slow', 'origin-corrupt', 'consul-down', 'cold-herd', 'live-storm']) {
    assert.match(stdout, new RegExp(`^  ${name} `, 'm'));
  }
  assert.match(stdout, /edge-kill .*\n.*20 viewers; stall p99 ≤ 1 s, stall max ≤ 2 s, lost ≤ 0, corrupt ≤ 0, detect ≤ 5 s, recover ≤ 15 s/);
  assert.match(stdout, /region-cut +not available: it needs the hosts mode/);
  assert.match(stdout, /--max-stall-p99 <duration>/);
});

test('bad drills are refused before anything runs, naming the reason (exit 2)', async (t) => {
  // A state file left by a stack that is gone (a pid no process has: above the kernel's pid_max).
  const dir = await mkdtemp(join(tmpdir(), 'drill-command-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stale = join(dir, 'stack.json');
  await writeStackState(stale, { version: 1, supervisorPid: 2 ** 22 + 1, restartAfterMs: 2000, consul: { url: 'http://127.0.0.1:9', pid: undefined }, balancerUrl: 'http://127.0.0.1:9', services: [] });
  const cases: [string[], RegExp][] = [
    [['edge-kill', '--stack', stale], /--stack: stack state .* is stale: the stack that wrote it \(pid 4194305\) is gone/],
    [['no-such-drill'], /no-such-drill: unknown scenario \(one of: edge-kill/],
    [['region-cut'], /region-cut: needs the hosts mode/],
    [['edge-kill', '--balancer', 'http://127.0.0.1:9'], /--consul: a deployment reached by URL needs both --balancer and --consul/],
    [['edge-kill', '--stack', '/nonexistent/stack.json'], /--stack: no stack state at \/nonexistent\/stack.json/],
    [['edge-kill', '--balancer', 'http://127.0.0.1:9', '--consul', 'http://127.0.0.1:9'], /edge-kill signals processes on this machine: it needs the stack's state file/],
    [['edge-kill', '--viewers', '0'], /--viewers: expected a number from 1 to 1000, got 0/],
    [['origin-slow', '--consul-token-file', '/nonexistent/token', '--balancer', 'http://127.0.0.1:9', '--consul', 'http://127.0.0.1:9'], /--consul-token-file: cannot read/],
  ];
  for (const [args, expected] of cases) {
    const { code, stderr } = await drill(args);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, expected);
  }
});
