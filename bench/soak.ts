// Benchmark: a soak. The local stack of `streamedge start` (Consul, a live encoder, 2 origins, a
// shield per region, 3 edges and the balancer; a service that exits is restarted) runs for
// --minutes under synthetic viewers, with drills of `streamedge drill` spaced through the run.
// Every service's resident memory, V8 heap, open fds, open connections and event-loop delay are
// sampled from its /metrics, and the viewers' time to headers. Targets (issue 15): after the
// warm-up, growth < 5 % per process (fds counted without the connections open on the process),
// and no failed viewer request outside the injected faults; exit code 3 when one is missed. Run: npm run bench:soak -- --minutes 10
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { OptionError, parseCommandOptions } from '../infra/runtime/command-options.js';
import { waitFor } from '../infra/testing/wait-for.js';
import { ensureTestCatalog } from '../origin/test/catalog-fixture.js';
import { DrillAborted, runDrill } from '../stack/drill/drill-run.js';
import { DRILL_SCENARIOS, findScenario } from '../stack/drill/drill-scenarios.js';
import { drillTargetFromStateFile, type DrillTarget } from '../stack/drill/drill-target.js';
import { DEFAULT_VIEWER_BEHAVIOUR, type ViewerRequest } from '../stack/drill/synthetic-viewer.js';
import { startLocalStack } from '../stack/local-stack.js';
import { DEMO_LIVE_CHANNEL, RESTART_AFTER_MS } from '../stack/start-command.js';
import { DEMO_SHIELDS } from '../stack/stack-topology.js';
import { runBenchmark, TARGET_MISSED_EXIT_CODE } from './bench-runner.js';
import { publishReport } from './report.js';
import { faultWindow, type RequestFailureFacts, type SoakRequest } from './soak/fault-windows.js';
import { startProcessSampler } from './soak/process-sampler.js';
import { defaultWarmupMs, planSoak, type SoakPlan } from './soak/soak-plan.js';
import { soakReport, type SoakDrill } from './soak/soak-report.js';
import { startSoakViewers } from './soak/soak-viewers.js';
import { primeStack } from './soak/stack-readiness.js';

const OPTIONS = {
  minutes: { kind: 'integer', required: true, min: 1, max: 240, description: 'how long the viewers watch (starting and stopping the stack comes on top, about a minute)' },
  viewers: { kind: 'integer', default: 20, min: 1, max: 200, description: 'synthetic viewers, spread over the media and both regions' },
  media: { kind: 'string', multiple: true, default: [`live/${DEMO_LIVE_CHANNEL}`, 'vod/demo-ts'], description: 'what the viewers watch, taken in turn (live/<id> or vod/<asset>)' },
  drill: {
    kind: 'string',
    multiple: true,
    default: ['edge-kill', 'origin-slow', 'edge-drain'],
    choices: DRILL_SCENARIOS.filter((scenario) => !scenario.needsHosts).map((scenario) => scenario.name),
    description: 'drills spaced between the first and the last compared interval, in this order (each needs 40 s; those that do not fit are left out)',
  },
  ramp: { kind: 'duration', default: '10s', min: 0, max: 60_000, description: 'the viewers arrive evenly over this long (an audience does not arrive in one millisecond; herds are the cold-herd drill\'s)' },
  warmup: { kind: 'duration', min: 0, description: 'time before the first compared interval (default: a fifth of the run, from 75 s to 2 min, at most half of it)' },
  'sample-interval': { kind: 'duration', default: '2s', min: 500, max: 60_000, description: "how often every service's /metrics is scraped (and the viewers' p99 time to headers bucketed)" },
  'log-dir': { kind: 'string', description: "write each service's log to <dir>/<service>.log and keep it after the run (default: logs are kept in memory only)" },
  'cache-size': { kind: 'bytes', default: '4MB', min: 2 * 1024 * 1024, description: "the edges', shields' and origins' caches: small, so that they are full before the warm-up ends" },
} as const;

const SUMMARY = 'Soak: the local stack under synthetic viewers for --minutes, drills interleaved; per-process growth and failed viewer requests judged. Exit code 3 when a target is missed.';
const MEDIA = /^(live|vod)\/[A-Za-z0-9_-]{1,64}$/;
/** The live channel as the drills' tests encode it: one small rendition, cheap to encode beside everything else. */
const LIVE_CHANNEL = { id: DEMO_LIVE_CHANNEL, input: 'lavfi:testsrc2=size=426x240:rate=30', args: ['--rendition', '240p', '--preset', 'ultrafast'] };
const RENDITION = '240p';
/** Each drill's own viewers, beside the soak's: enough for its verdict, few enough to leave the soak's load alone. */
const DRILL_VIEWERS = 4;
const PROGRESS_EVERY_MS = 30_000;
/** How long the stack may take to play each title once before the soak gives up on it. */
const READINESS_TIMEOUT_MS = 120_000;

/** Waits `ms`, or less when `signal` aborts first. */
const sleep = (ms: number, signal?: AbortSignal): Promise<void> => delay(Math.max(0, ms), undefined, { signal }).catch(() => {});

/** Runs the planned drills in turn, each at its time; the soak's end aborts one still running (its fault is undone). */
async function runDrills(plan: SoakPlan, target: DrillTarget, startedAt: number, signal: AbortSignal, onDrill: (name: string | undefined) => void): Promise<SoakDrill[]> {
  const drills: SoakDrill[] = [];
  const sinceStart = (at: number): number => at - startedAt;
  for (const planned of plan.drills) {
    await sleep(startedAt + planned.atMs - Date.now(), signal);
    if (signal.aborted) break;
    const lateMs = Date.now() - startedAt - planned.atMs;
    if (lateMs > planned.slotMs) {
      drills.push({ scenario: planned.scenario, plannedAtMs: planned.atMs, outcome: 'skipped', reason: `the drill before ran ${Math.round(lateMs / 1000)} s into its slot` });
      continue;
    }
    const scenario = findScenario(planned.scenario)!;
    const began = Date.now();
    onDrill(scenario.name);
    try {
      const result = await runDrill({
        scenario,
        target,
        viewers: DRILL_VIEWERS,
        warmupMs: 3000,
        faultMs: scenario.defaults.faultMs,
        settleMs: 2000,
        recoverTimeoutMs: Math.max(30_000, scenario.thresholds.maxRecoverMs ?? 0),
        media: scenario.defaults.media,
        rendition: RENDITION,
        thresholds: scenario.thresholds,
        chosen: [],
        originDelayMs: 3000,
        relayHost: '127.0.0.1',
        restartTimeoutMs: 30_000,
        viewer: DEFAULT_VIEWER_BEHAVIOUR,
        signal,
      });
      const { injectedAt, recoveredAt } = result.timeline;
      drills.push({
        scenario: scenario.name,
        plannedAtMs: planned.atMs,
        outcome: 'ran',
        window: faultWindow(scenario.name, sinceStart(injectedAt), recoveredAt === undefined ? undefined : sinceStart(recoveredAt), sinceStart(Date.now()), DEFAULT_VIEWER_BEHAVIOUR.requestTimeoutMs),
        pass: result.verdict.pass,
        failedChecks: result.verdict.checks.filter((check) => !check.pass).map((check) => check.name),
        ...(result.measurements.detectMs === undefined ? {} : { detectMs: result.measurements.detectMs }),
        ...(result.measurements.recoverMs === undefined ? {} : { recoverMs: result.measurements.recoverMs }),
      });
    } catch (error) {
      // Where its fault went in is unknown: all the time it ran counts as a fault window.
      drills.push({
        scenario: scenario.name,
        plannedAtMs: planned.atMs,
        outcome: 'failed',
        reason: error instanceof DrillAborted ? 'cut short by the end of the soak' : (error as Error).message,
        window: faultWindow(`${scenario.name} (failed)`, sinceStart(began), undefined, sinceStart(Date.now()), DEFAULT_VIEWER_BEHAVIOUR.requestTimeoutMs),
      });
    } finally {
      onDrill(undefined);
    }
  }
  for (const planned of plan.drills.slice(drills.length)) drills.push({ scenario: planned.scenario, plannedAtMs: planned.atMs, outcome: 'skipped', reason: 'the soak ended first' });
  return drills;
}

const clock = (ms: number): string => `${Math.floor(ms / 60_000)}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;

await runBenchmark('soak', async (resources) => {
  const options = parseCommandOptions('bench:soak', SUMMARY, OPTIONS, process.argv.slice(2));
  for (const media of options.media) if (!MEDIA.test(media)) throw new OptionError('--media', `expected live/<id> or vod/<asset>, got "${media}"`);
  const durationMs = options.minutes * 60_000;
  const warmupMs = options.warmup ?? defaultWarmupMs(durationMs);
  if (warmupMs >= durationMs) throw new OptionError('--warmup', `must be shorter than the run (${options.minutes} min)`);
  if (options.ramp >= warmupMs) throw new OptionError('--ramp', `must be shorter than the warm-up (${warmupMs / 1000} s): every viewer watches through the compared intervals`);
  const plan = planSoak(durationMs, warmupMs, options.drill);
  console.log(`soak: ${options.minutes} min, warm-up ${warmupMs / 1000} s, ${options.viewers} viewers; drills ${plan.drills.map((drill) => `${drill.scenario} at ${clock(drill.atMs)}`).join(', ') || 'none'}${plan.dropped.length > 0 ? ` (left out: ${plan.dropped.join(', ')})` : ''}`);

  const dir = await mkdtemp(join(tmpdir(), 'streamedge-soak-'));
  resources.defer(() => rm(dir, { recursive: true, force: true }));
  // A copy of the shared test catalog: the stack's live encoder writes its channel into it.
  const contentDir = join(dir, 'content');
  await cp(await ensureTestCatalog(), contentDir, { recursive: true });
  const stateFile = join(dir, 'stack.json');
  const cacheArgs = ['--max-object-size', String(options['cache-size'])];
  const stack = await startLocalStack({
    contentDir,
    shields: DEMO_SHIELDS,
    edgeCacheSize: String(options['cache-size']),
    // Origins keep small files with their hashes (default 256 MB): the live channel's segments fill it for over an hour.
    extraArgs: { edge: cacheArgs, shield: cacheArgs, origin: ['--cache-size', String(options['cache-size'])] },
    live: LIVE_CHANNEL,
    restartAfterMs: RESTART_AFTER_MS,
    stateFile,
    ...(options['log-dir'] === undefined ? {} : { logDir: options['log-dir'] }),
    onProgress: (message) => console.log(`  ${message}`),
  });
  resources.defer(() => stack.stop());
  await waitFor('a full live window (6 segments)', async () => {
    const playlist = await (await fetch(`${stack.origins[0]!.url}/live/${DEMO_LIVE_CHANNEL}/${RENDITION}/index.m3u8`)).text();
    return (playlist.match(/^seg-\d+\.ts$/gm) ?? []).length >= 6 ? true : undefined;
  }, 60_000, 500);
  const target = await drillTargetFromStateFile(stateFile);
  const readiness = await primeStack({ balancerUrl: stack.balancerUrl!, media: options.media, rendition: RENDITION, timeoutMs: READINESS_TIMEOUT_MS });
  console.log(`soak: the stack played each title from each region in ${(readiness.tookMs / 1000).toFixed(1)} s (${readiness.requests} requests, ${readiness.failed} failed); the viewers start now`);

  const serviceAt = new Map(stack.services.map((service) => [new URL(service.url).host, service.id]));
  const failureFacts = (request: ViewerRequest): RequestFailureFacts => {
    const url = new URL(request.url);
    return { kind: request.kind, service: serviceAt.get(url.host) ?? url.host, path: url.pathname, reason: request.failure ?? 'failed' };
  };

  const soakOver = new AbortController();
  const startedAt = Date.now();
  const requests: SoakRequest[] = [];
  const viewers = startSoakViewers({
    balancerUrl: stack.balancerUrl!,
    count: options.viewers,
    media: options.media,
    rendition: RENDITION,
    rampMs: options.ramp,
    onRequest: (request) => requests.push({ endedAtMs: request.endedAt - startedAt, ttfbMs: request.ttfbMs, ok: request.ok, ...(request.ok ? {} : { failure: failureFacts(request) }) }),
  });
  resources.defer(() => Promise.all(viewers.map((viewer) => viewer.stop())));
  const sampler = startProcessSampler(stack.services, options['sample-interval'], startedAt);
  resources.defer(() => sampler.stop());
  // Runs first on an interruption: a drill in progress undoes its fault before the stack stops.
  resources.defer(async () => soakOver.abort());

  let drilling: string | undefined;
  const drills = runDrills(plan, target, startedAt, soakOver.signal, (name) => (drilling = name));
  const progress = setInterval(() => {
    const failed = requests.filter((request) => !request.ok).length;
    console.log(`soak ${clock(Date.now() - startedAt)} / ${clock(durationMs)}: ${requests.length} viewer requests, ${failed} failed${drilling ? `; drill ${drilling} running` : ''}`);
  }, PROGRESS_EVERY_MS);
  await sleep(durationMs);
  clearInterval(progress);
  soakOver.abort();
  const drillRuns = await drills;
  // The last sample while the viewers still watch: their connections closing is not a change in the services.
  const processes = await sampler.stop();
  await Promise.all(viewers.map((viewer) => viewer.stop()));

  const report = soakReport(
    {
      plan,
      settings: { readiness, minutes: options.minutes, viewers: options.viewers, rampMs: options.ramp, media: options.media, rendition: RENDITION, drills: options.drill, drillViewers: DRILL_VIEWERS, cacheSize: options['cache-size'], cores: availableParallelism() },
      sampleIntervalMs: options['sample-interval'],
      processes,
      requests,
      drills: drillRuns,
    },
    [
      'The stack is `streamedge start`\'s on free ports: a Consul dev agent, a live encoder (one 240p rendition), 2 origins, a shield per region, 3 edges and the balancer (steering front); a service that exits is restarted after 2 s.',
      `Viewers: the drills' synthetic viewers (${RENDITION}, ${DEFAULT_VIEWER_BEHAVIOUR.maxBufferSeconds} s buffer, ${DEFAULT_VIEWER_BEHAVIOUR.requestTimeoutMs / 1000} s request timeout, failover to the next steering pathway), the media taken in turn, every other pair from us-east (127.0.1.x) or eu-west (127.0.2.x) addresses, arriving evenly over the first ${options.ramp / 1000} s.`,
      'Growth per process: the median of its last interval against the median of its first interval after its warm-up (a process restarted by a drill has its own, from its first sample). Medians, as a single heap sample lands anywhere in a GC cycle; after the warm-up, as caches filling and V8 sizing its heap are not leaks.',
      `Edges, shields and origins run with a ${Math.round(options['cache-size'] / 1024 / 1024)} MB cache; the live channel adds about 50 KB a second, so the default 4 MB is full within the first minute and growth after the warm-up is not a cache filling.`,
      `A fault window runs from the fault's injection until the system reported itself well (or the drill ended), plus the viewers' ${DEFAULT_VIEWER_BEHAVIOUR.requestTimeoutMs / 1000} s request timeout. Viewer requests ending inside one are counted apart from the target.`,
      'Open fds are judged without the connections open on the process\'s server (its own open-connection gauge in /metrics, read in the same scrape): viewers open those, limits and timeouts bound them, and a drill moves them between processes; a leak is fds that grow beyond them. The raw fd count and the connections are reported and charted beside it.',
      "Figures from each service's /metrics (prom-client's default metrics and the service's open-connection gauge); event-loop delay is the p99 over each sample interval.",
      `Before the viewers and the clock start, the stack plays each title once from each region until a segment arrives (its processes have served no viewer before: cold code, empty caches): ${(readiness.tookMs / 1000).toFixed(1)} s, ${readiness.requests} requests, ${readiness.failed} failed. Those requests are not in the figures.`,
      'This machine is shared with other work (builds, tests, other benchmarks): latency and event-loop delay move with its load.',
    ],
  );
  await publishReport(report);
  if (report.targets.some((check) => !check.met)) process.exitCode = TARGET_MISSED_EXIT_CODE;
});
