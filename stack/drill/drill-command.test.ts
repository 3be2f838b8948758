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

test('drill --help names every scenario with its thresholds, and says which run against a hosts stack', async () => {
  const { code, stdout } = await drill(['--help']);
  assert.equal(code, 0);
  for (const name of ['edge-kill', 'edge-drain', 'origin-down', 'origin-slow', 'origin-corrupt', 'consul-down', 'cold-herd', 'live-storm', 'region-cut']) {
    assert.match(stdout, new RegExp(`^  ${name} `, 'm'));
  }
  assert.match(stdout, /edge-kill .*\n.*20 viewers; stall p99 ≤ 1 s, stall max ≤ 2 s, lost ≤ 0, corrupt ≤ 0, detect ≤ 5 s, recover ≤ 15 s/);
  assert.match(stdout, /region-cut .*\n.*20 viewers; stall max ≤ 4 s, failed segments ≤ 0, lost ≤ 0, corrupt ≤ 0, detect ≤ 10 s, recover ≤ 45 s, viewers left on the cut edges ≤ 0/);
  assert.match(stdout, /Against a stack of `streamedge start --hosts`.*region-cut,\nand also edge-kill, edge-drain, origin-down, consul-down, cold-herd, live-storm/);
  assert.match(stdout, /Not there:\norigin-slow, origin-corrupt/);
  assert.match(stdout, /--max-stall-p99 <duration>/);
  assert.match(stdout, /--crash-loop +edge-kill, origin-down: kill the targets again each time their supervisor restarts them/);
});

test('bad drills are refused before anything runs, naming the reason (exit 2)', async (t) => {
  // A state file left by a stack that is gone (a pid no process has: above the kernel's pid_max).
  const dir = await mkdtemp(join(tmpdir(), 'drill-command-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stale = join(dir, 'stack.json');
  const local = { version: 1, supervisorPid: process.pid, restartAfterMs: 2000, consul: { url: 'http://127.0.0.1:9', pid: undefined }, balancerUrl: 'http://127.0.0.1:9', services: [] } as const;
  await writeStackState(stale, { ...local, supervisorPid: 2 ** 22 + 1 });
  // A live stack (this process stands in for its runner) started with --tls.
  const overTls = join(dir, 'tls-stack.json');
  await writeStackState(overTls, { ...local, balancerUrl: 'https://127.0.0.1:9' });
  // Live stacks (this test's own pid as their supervisor): one single-host, one in hosts mode.
  const single = join(dir, 'single.json');
  await writeStackState(single, local);
  const hosts = join(dir, 'hosts.json');
  await writeStackState(hosts, {
    ...local,
    services: [{ id: 'balancer', role: 'balancer', url: 'http://10.77.1.5:8080', pid: process.pid }],
    hosts: {
      regions: [{ name: 'us-east', routerNamespace: 'se-gw-us-east', viewerAddress: '10.77.101.2' }, { name: 'eu-west', routerNamespace: 'se-gw-eu-west', viewerAddress: '10.77.102.2' }],
      services: [{ id: 'balancer', region: 'us-east', namespace: 'se-balancer' }],
    },
  });
  const cases: [string[], RegExp][] = [
    [['edge-kill', '--stack', stale], /--stack: stack state .* is stale: the stack that wrote it \(pid 4194305\) is gone/],
    [['edge-kill', '--stack', overTls], /--stack: stack state .*tls-stack\.json: the stack runs on HTTPS \(start --tls\); drills need a stack started without --tls/],
    [['no-such-drill'], /no-such-drill: unknown scenario \(one of: edge-kill/],
    [['region-cut', '--stack', single], /region-cut: needs a stack of `streamedge start --hosts`/],
    [['region-cut', '--stack', hosts, '--region', 'mars'], /--region: --region mars: the hosts stack has regions us-east, eu-west/],
    [['edge-kill', '--stack', hosts, '--viewer-region', 'mars'], /--viewer-region: --viewer-region mars: the hosts stack has regions us-east, eu-west/],
    [['edge-kill', '--stack', single, '--viewer-region', 'eu-west'], /--viewer-region: --viewer-region needs a stack of `streamedge start --hosts`/],
    [['edge-kill', '--stack', hosts, '--region', 'eu-west'], /--region: is for region-cut/],
    [['origin-slow', '--stack', hosts], /origin-slow: does not run against a hosts stack/],
    [['edge-kill', '--balancer', 'http://127.0.0.1:9'], /--consul: a deployment reached by URL needs both --balancer and --consul/],
    [['edge-kill', '--stack', '/nonexistent/stack.json'], /--stack: no stack state at \/nonexistent\/stack.json/],
    [['edge-kill', '--balancer', 'http://127.0.0.1:9', '--consul', 'http://127.0.0.1:9'], /edge-kill signals processes on this machine: it needs the stack's state file/],
    [['edge-kill', '--viewers', '0'], /--viewers: expected a number from 1 to 1000, got 0/],
    [['edge-drain', '--stack', single, '--crash-loop'], /--crash-loop: kills a restarted process again: only for edge-kill, origin-down/],
    [['consul-down', '--stack', single, '--crash-loop'], /--crash-loop: kills a restarted process again: only for edge-kill, origin-down/],
    [['edge-kill', '--stack', single, '--target', 'edge-1', '--target', 'edge-1'], /--target: edge-1 given twice/],
    [['origin-slow', '--consul-token-file', '/nonexistent/token', '--balancer', 'http://127.0.0.1:9', '--consul', 'http://127.0.0.1:9'], /--consul-token-file: cannot read/],
  ];
  for (const [args, expected] of cases) {
    const { code, stderr } = await drill(args);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, expected);
  }
});
