import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Agent, fetch as undiciFetch } from 'undici';
import { ensureTestCatalog } from '../origin/test/catalog-fixture.js';
import { freePort } from '../infra/runtime/free-ports.js';
import { isProcessAlive } from '../infra/runtime/process-alive.js';

const CLI = fileURLToPath(new URL('./cli/streamedge.js', import.meta.url));
const SERVICES = ['consul', 'origin-1', 'origin-2', 'shield-us-east', 'shield-eu-west', 'edge-1', 'edge-2', 'edge-3', 'balancer'];

interface RunningStart {
  readonly runner: ChildProcess;
  readonly stdout: () => string;
  readonly exited: Promise<number | null>;
  /** Service id → the URL printed in the start-up table. */
  readonly urls: Map<string, string>;
}

/**
 * The demo needs a block of fixed ports; a random block is retried if something holds it. It stays
 * below Linux's ephemeral range (32768+), where any outgoing connection may take a port between
 * the stack's check and its bind.
 */
async function launchStart(t: TestContext, extraArgs: readonly string[] = []): Promise<RunningStart> {
  // A copy: the stack's live encoder writes its channel into the catalog it is given.
  const contentDir = await mkdtemp(join(tmpdir(), 'streamedge-start-'));
  t.after(() => rm(contentDir, { recursive: true, force: true }));
  await cp(await ensureTestCatalog(), contentDir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const basePort = 20_000 + Math.floor(Math.random() * 12_000);
    // No viewers to move away: edges and shields close at once on stop instead of draining 8 s each.
    const args = ['start', '--content', contentDir, '--base-port', String(basePort), '--consul-port', String(await freePort()), '--health-interval', '300', '--drain-delay', '0', ...extraArgs];
    const runner = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => runner.kill('SIGTERM'));
    let stdout = '';
    let stderr = '';
    runner.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    runner.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => runner.once('exit', (code) => resolve(code)));
    const allHealthy = (): boolean => SERVICES.every((id) => new RegExp(`^\\d\\d:\\d\\d:\\d\\d  ${id} +healthy`, 'm').test(stdout));
    const deadline = Date.now() + 90_000;
    while (!allHealthy() && runner.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (runner.exitCode === 2 && /already in use/.test(stderr) && attempt < 5) continue;
    assert.ok(allHealthy(), `streamedge start did not report every service healthy:\n${stdout}\n${stderr}`);
    const urls = new Map<string, string>();
    for (const match of stdout.matchAll(/^(\S+)\s+(?:consul|origin|shield|edge|balancer)\s+(https?:\/\/\S+)/gm)) urls.set(match[1]!, match[2]!);
    assert.deepEqual([...urls.keys()], SERVICES, stdout);
    const scheme = extraArgs.includes('--tls') ? 'https' : 'http';
    assert.match(stdout, new RegExp(`^edge-3\\s+edge\\s+${scheme}://127\\.0\\.0\\.1:\\d+\\s+eu-west \\(53\\.35, -6\\.26\\)$`, 'm'));
    assert.match(stdout, new RegExp(`player: +${scheme}://127\\.0\\.0\\.1:${basePort}/`));
    assert.match(stdout, /^live-encoder +live +\/live\/channel-1\/ +streamedge live \(pid \d+, ffmpeg \d+\), restarted if it dies$/m);
    return { runner, stdout: () => stdout, exited, urls };
  }
}

/** `streamedge start` with arguments it refuses before starting anything: its exit code and stderr. */
async function runRefused(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const runner = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  runner.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => runner.once('exit', resolve));
  return { code, stderr };
}

async function allRefuse(urls: Iterable<string>, withinMs: number): Promise<string[]> {
  const deadline = Date.now() + withinMs;
  let answering: string[] = [];
  do {
    answering = [];
    for (const url of urls) {
      const answered = await fetch(url, { signal: AbortSignal.timeout(500) }).then(
        async (response) => (await response.body?.cancel(), true),
        () => false,
      );
      if (answered) answering.push(url);
    }
    if (answering.length === 0) return [];
    await new Promise((resolve) => setTimeout(resolve, 200));
  } while (Date.now() < deadline);
  return answering;
}

test('the services of streamedge start --metrics, Prometheus too, die with it even when it is SIGKILLed', { timeout: 150_000 }, async (t) => {
  const started = await launchStart(t, ['--metrics', '--metrics-interval', '1s']);
  const prometheus = /^prometheus +prometheus +(http:\/\/127\.0\.0\.1:\d+)/m.exec(started.stdout())?.[1];
  assert.ok(prometheus, started.stdout());
  assert.match(started.stdout(), new RegExp(`^prometheus: +${prometheus}/alerts`, 'm'));
  const ready = await fetch(`${prometheus}/-/ready`);
  assert.equal(ready.status, 200);
  await ready.body?.cancel();
  const encoderPids = /streamedge live \(pid (\d+), ffmpeg (\d+)\)/.exec(started.stdout())!.slice(1).map(Number);
  started.runner.kill('SIGKILL');
  await started.exited;
  // The orphan guard sends SIGTERM (SIGKILL after 5 s): edges drain, so allow for their drain delay.
  assert.deepEqual(await allRefuse([...started.urls.values(), prometheus], 15_000), [], 'services outlived their SIGKILLed runner');
  // The guard stops the encoder the same way (its ffmpeg after it), which can outlast the services.
  const encoderDeadline = Date.now() + 15_000;
  while (encoderPids.some(isProcessAlive) && Date.now() < encoderDeadline) await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(encoderPids.filter(isProcessAlive), [], 'the live encoder or its ffmpeg outlived the SIGKILLed runner');
});

test('streamedge start --metrics without Prometheus stops at once and says how to install it', async () => {
  const { code, stderr } = await runRefused(['start', '--metrics', '--prometheus', '/nonexistent/prometheus']);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /--metrics: \/nonexistent\/prometheus is not installed; install Debian's package: apt-get install --no-install-recommends prometheus/);
});

test('streamedge start --tls: every service on HTTPS with the run’s CA, Consul checks passing over https', { timeout: 150_000 }, async (t) => {
  const started = await launchStart(t, ['--tls']);
  const caFile = /^TLS CA: +(\S+ca\.pem) /m.exec(started.stdout())?.[1];
  assert.ok(caFile, started.stdout());
  assert.match(started.stdout(), /--ignore-certificate-errors-spki-list=[A-Za-z0-9+/]{43}=/);
  const trusting = new Agent({ connect: { ca: await readFile(caFile, 'utf8') } });
  t.after(() => trusting.close());
  for (const id of ['origin-1', 'edge-1', 'balancer']) {
    const url = started.urls.get(id)!;
    assert.match(url, /^https:\/\//);
    const health = await undiciFetch(`${url}/healthz`, { dispatcher: trusting });
    assert.equal(health.status, 200, id);
    await health.body?.cancel();
  }
  const master = await undiciFetch(`${started.urls.get('balancer')!}/vod/demo-ts/master.m3u8`, { dispatcher: trusting });
  assert.equal(master.status, 200);
  assert.match(await master.text(), /https:\/\/127\.0\.0\.1:\d+\/vod\/demo-ts\//, 'pathways name https edges');
  // Consul's own https checks (verifying the run's certificate) pass for every origin and edge.
  assert.doesNotMatch(started.stdout(), /critical/);
  // The live encoder's channel plays through the https balancer and edges too.
  const live = await undiciFetch(`${started.urls.get('balancer')!}/live/channel-1/master.m3u8`, { dispatcher: trusting });
  assert.equal(live.status, 200);
  assert.match(await live.text(), /^#EXTM3U/);
  // A client without the CA is refused: the certificate is checked.
  await assert.rejects(fetch(`${started.urls.get('balancer')!}/healthz`));
  // The drills' state file records the https URLs, and says drills need a stack without --tls.
  const stateFile = /^drills: +streamedge drill needs a stack started without --tls .*processes recorded in (\S+)\)$/m.exec(started.stdout())?.[1];
  assert.ok(stateFile, started.stdout());
  const state = JSON.parse(await readFile(stateFile, 'utf8')) as { balancerUrl: string; services: { id: string; url: string }[] };
  assert.equal(state.balancerUrl, started.urls.get('balancer'));
  assert.deepEqual(state.services.map((service) => service.url), SERVICES.slice(1).map((id) => started.urls.get(id)));
  started.runner.kill('SIGTERM');
  assert.equal(await started.exited, 0, started.stdout());
  await assert.rejects(readFile(stateFile), /ENOENT/, 'the state file is removed when the stack stops');
});

test('streamedge start --tls --hosts is refused, naming --tls', async () => {
  const { code, stderr } = await runRefused(['start', '--tls', '--hosts']);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /--tls: is not available with --hosts/);
});

test('streamedge start --drain-delay --hosts is refused, naming --drain-delay', async () => {
  const { code, stderr } = await runRefused(['start', '--drain-delay', '0', '--hosts']);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /--drain-delay: is not available with --hosts/);
});

test('streamedge start --tls --metrics is refused, naming --tls', async () => {
  const { code, stderr } = await runRefused(['start', '--tls', '--metrics', '--prometheus', process.execPath]);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /--tls: cannot be combined with --metrics yet/);
});

// One run for two stories (a stack start costs ~20 s): the demo topology with a signing key, which
// must not change how the stack starts, reports health and stops.
test('streamedge start --token-secret-file runs the demo topology: media needs a token, the printed signed URLs play, the secret is never printed, and SIGTERM stops everything', { timeout: 150_000 }, async (t) => {
  const secret = 'start-test-secret-0123456789abcdef';
  const keyDir = await mkdtemp(join(tmpdir(), 'streamedge-start-key-'));
  t.after(() => rm(keyDir, { recursive: true, force: true }));
  const keyFile = join(keyDir, 'url-token.key');
  await writeFile(keyFile, `k1:${secret}\n`, { mode: 0o600 });
  const started = await launchStart(t, ['--token-secret-file', keyFile]);
  const balancer = started.urls.get('balancer')!;
  const master = /^ {2}master: +(http:\/\/\S+)$/m.exec(started.stdout())?.[1];
  const player = /^ {2}player: +(http:\/\/\S+)$/m.exec(started.stdout())?.[1];
  assert.ok(master && player, started.stdout());
  assert.ok(master.startsWith(`${balancer}/vod/demo-ts/master.m3u8?st=`), master);
  assert.equal(new URL(player).searchParams.get('src'), master);
  assert.ok(!started.stdout().includes(secret), 'the secret is not printed');

  const unsigned = await fetch(`${balancer}/vod/demo-ts/master.m3u8`);
  assert.deepEqual([unsigned.status, (await unsigned.text()).trim()], [403, 'token missing']);
  const edge = await fetch(`${started.urls.get('edge-1')!}/vod/demo-ts/master.m3u8`);
  assert.deepEqual([edge.status, (await edge.text()).trim()], [403, 'token missing'], 'the edges have the key too');
  const signed = await fetch(master);
  assert.equal(signed.status, 200);
  assert.match(await signed.text(), /^#EXTM3U/);
  const catalog = await fetch(`${balancer}/catalog.json`);
  assert.equal(catalog.status, 200, 'the catalog stays public');
  await catalog.body?.cancel();
  const stoppingAt = Date.now();
  started.runner.kill('SIGTERM');
  assert.equal(await started.exited, 0, started.stdout());
  // Edges then shields, each draining its default 8 s, would take 16 s.
  assert.ok(Date.now() - stoppingAt < 8000, `--drain-delay 0: stopped in ${Date.now() - stoppingAt} ms`);
  assert.match(started.stdout(), /SIGTERM: stopping the live encoder, balancer, edges, origins, Consul…\nstopped\n/);
  assert.deepEqual(await allRefuse(started.urls.values(), 2000), [], 'services still answering after streamedge start stopped');
});

test('streamedge start --token-secret-file with a bad key file stops at once naming the flag', async (t) => {
  const keyDir = await mkdtemp(join(tmpdir(), 'streamedge-start-key-'));
  t.after(() => rm(keyDir, { recursive: true, force: true }));
  const keyFile = join(keyDir, 'short.key');
  await writeFile(keyFile, 'k1:short\n');
  const { code, stderr } = await runRefused(['start', '--token-secret-file', keyFile]);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /--token-secret-file: .*short\.key: the secret must be at least 16 bytes/);
});
