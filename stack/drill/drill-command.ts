// `streamedge drill <scenario>`: runs one failure drill against a running system and prints its
// verdict; exit code 0 only when every threshold held.
import { readFileSync } from 'node:fs';
import { checkedToken } from '../../infra/consul/consul-connection.js';
import { HelpRequested, OptionError, formatUsage, parseCommandOptions } from '../../infra/runtime/command-options.js';
import { DEMO_BASE_PORT } from '../stack-topology.js';
import { defaultStackStateFile } from '../stack-state-file.js';
import { DrillSetupError } from './drill-fault.js';
import { createDrillProgress } from './drill-progress.js';
import { DrillAborted, runDrill } from './drill-run.js';
import { DRILL_SCENARIOS, findScenario, hostsRegion, type DrillScenario } from './drill-scenarios.js';
import { createDrillTarget, drillTargetFromStateFile, type DrillTarget } from './drill-target.js';
import { renderVerdict, type DrillThresholds } from './drill-verdict.js';
import { DEFAULT_VIEWER_BEHAVIOUR } from './synthetic-viewer.js';

const KILL_SCENARIOS = DRILL_SCENARIOS.filter((scenario) => scenario.kills).map((scenario) => scenario.name).join(', ');

const SPECS = {
  stack: { kind: 'string', description: `state file of a stack on this machine (default: the one \`streamedge start\` writes, ${defaultStackStateFile(DEMO_BASE_PORT)})` },
  balancer: { kind: 'url', description: 'balancer of a deployment reached by URL (with --consul; signal scenarios need --stack)' },
  consul: { kind: 'url', description: 'Consul agent HTTP API of that deployment' },
  'consul-token-file': { kind: 'string', description: 'file holding a Consul ACL token that may read services and write streamedge-origin (relay scenarios)' },
  target: { kind: 'string', multiple: true, description: 'service id to fault, repeatable (default: the edge most viewers watch from / the first origin); consul-down: edges killed while Consul hangs; cold-herd, live-storm: origins made --origin-delay slow under the crowd' },
  viewers: { kind: 'integer', min: 1, max: 1000, description: 'synthetic viewers (default per scenario)' },
  media: { kind: 'string', description: 'what they watch, e.g. live/channel-1 or vod/demo-ts (default per scenario)' },
  rendition: { kind: 'string', description: 'fixed rendition, e.g. 480p', default: '240p' },
  warmup: { kind: 'duration', description: 'viewers watch this long before the fault (default per scenario)' },
  'fault-time': { kind: 'duration', min: 100, description: 'how long a SIGSTOP, relay fault or crash loop stays in, or a crowd watches (default per scenario); a process killed once or drained is back when its supervisor restarts it' },
  'crash-loop': { kind: 'boolean', description: `${KILL_SCENARIOS}: kill the targets again each time their supervisor restarts them, until --fault-time is over (a service that crashes on start-up)` },
  settle: { kind: 'duration', description: 'viewers watch this long after recovery (default per scenario)' },
  'recover-timeout': { kind: 'duration', min: 100, description: 'bound on waiting for the system to report itself well after the restore (default: 30 s, or the recover threshold when longer)' },
  'restart-timeout': { kind: 'duration', min: 100, default: '30s', description: 'bound on waiting for a supervisor to restart a killed or drained process' },
  'origin-delay': { kind: 'duration', default: '3s', description: 'origin-slow (and cold-herd, live-storm with --target): how late the relayed replica answers' },
  region: { kind: 'string', description: 'region-cut: the region whose link is cut (default: a region without the balancer, eu-west in the demo)' },
  'viewer-region': { kind: 'string', description: 'hosts mode: the synthetic viewers connect from this region\'s viewer address (default: region-cut\'s region, else the machine\'s default, the first region)' },
  'relay-host': { kind: 'string', default: '127.0.0.1', description: 'origin-slow/-corrupt: address the fault relay listens on (the edges must reach it)' },
  buffer: { kind: 'number', min: 1, max: 120, default: DEFAULT_VIEWER_BEHAVIOUR.maxBufferSeconds, description: "viewer's forward buffer in seconds" },
  'request-timeout': { kind: 'duration', min: 100, default: `${DEFAULT_VIEWER_BEHAVIOUR.requestTimeoutMs / 1000}s`, description: "bound on each viewer request (headers and body)" },
  attempts: { kind: 'integer', min: 1, max: 20, default: DEFAULT_VIEWER_BEHAVIOUR.maxAttempts, description: 'attempts per object (failing over to the next pathway) before it counts as lost' },
  'pathway-penalty': { kind: 'duration', min: 100, default: `${DEFAULT_VIEWER_BEHAVIOUR.pathwayPenaltyMs / 1000}s`, description: 'how long a viewer leaves a pathway (edge) that failed' },
  'max-stall-p99': { kind: 'duration', description: 'threshold: p99 of stall time per viewer' },
  'max-stall': { kind: 'duration', description: 'threshold: the longest stall time of any viewer' },
  'max-startup-p99': { kind: 'duration', description: 'threshold: p99 of time to first segment' },
  'max-failed': { kind: 'integer', min: 0, description: 'threshold: failed viewer requests (retried or not)' },
  'max-failed-segments': { kind: 'integer', min: 0, description: 'threshold: failed segment loads (a player\'s failed fragment loads), retried or not' },
  'max-lost': { kind: 'integer', min: 0, description: 'threshold: objects every attempt failed for' },
  'max-corrupt': { kind: 'integer', min: 0, description: 'threshold: segments whose bytes did not match their ETag' },
  'max-detect': { kind: 'duration', description: 'threshold: fault → the system reports it' },
  'max-recover': { kind: 'duration', description: 'threshold: fault restored → the system reports itself well' },
  'max-origin-ratio': { kind: 'number', min: 0, description: 'threshold: origin requests ÷ viewer requests' },
  'max-stayed': { kind: 'integer', min: 0, description: 'threshold: viewers still on a cut edge when the fault is restored (region-cut)' },
  browser: { kind: 'boolean', description: 'add one real viewer: headless Chromium playing the player page (needs playwright-core, a dev dependency)' },
  chromium: { kind: 'string', default: '/usr/bin/chromium', description: 'Chromium binary for --browser' },
  json: { kind: 'boolean', description: 'print the result as JSON (no progress line)' },
} as const;

const THRESHOLD_FLAGS: readonly [keyof typeof SPECS, keyof DrillThresholds, string][] = [
  ['max-stall-p99', 'maxStallP99Ms', 'stall p99'],
  ['max-stall', 'maxStallMs', 'stall max'],
  ['max-startup-p99', 'maxStartupP99Ms', 'startup p99'],
  ['max-failed', 'maxFailed', 'failed'],
  ['max-failed-segments', 'maxFailedSegments', 'failed segments'],
  ['max-lost', 'maxLost', 'lost'],
  ['max-corrupt', 'maxCorrupt', 'corrupt'],
  ['max-detect', 'maxDetectMs', 'detect'],
  ['max-recover', 'maxRecoverMs', 'recover'],
  ['max-origin-ratio', 'maxOriginRatio', 'origin ratio'],
  ['max-stayed', 'maxStayed', 'viewers left on the cut edges'],
];

const DEFAULT_RECOVER_TIMEOUT_MS = 30_000;

function thresholdSummary(scenario: DrillScenario): string {
  return THRESHOLD_FLAGS.flatMap(([, key, label]) => {
    const value = scenario.thresholds[key];
    if (value === undefined) return [];
    return [`${label} ≤ ${key.endsWith('Ms') ? `${value / 1000} s` : value}`];
  }).join(', ');
}

function summary(): string {
  const width = Math.max(...DRILL_SCENARIOS.map((scenario) => scenario.name.length));
  return [
    'Runs a failure drill against a running system — by default the local stack of `streamedge start`',
    '(found through its state file; a killed or drained service is restarted by it, as systemd does in',
    'production). Synthetic viewers play one rendition in real time with content-steering failover; the',
    'fault goes in, is restored, and a verdict table says what the viewers felt and what the services',
    'counted. Exit code 0 only when every threshold holds, 1 when one fails, 2 for a bad option or target.',
    '',
    'Scenarios (default thresholds; every one can be overridden with the --max-* flags):',
    ...DRILL_SCENARIOS.flatMap((scenario) => [
      `  ${scenario.name.padEnd(width)}  ${scenario.summary}`,
      `  ${''.padEnd(width)}  ${scenario.defaults.viewers} viewers; ${thresholdSummary(scenario)}; also every viewer must play`,
    ]),
    '',
    'Against a stack of `streamedge start --hosts` (every service in its own network namespace, as root): region-cut,',
    `and also ${DRILL_SCENARIOS.filter((s) => s.inHostsMode && !s.needsHosts).map((s) => s.name).join(', ')} (signals go to the pids in its state file; a killed service is`,
    'restarted in its namespace; consul-down hangs the Consul client agent on the balancer\'s host). Not there:',
    `${DRILL_SCENARIOS.filter((s) => !s.inHostsMode).map((s) => s.name).join(', ')} (the hosts cannot reach a fault relay on this machine). --viewer-region places the`,
    'synthetic viewers in a region (they connect from its viewer address; a --browser viewer sends ?region=).',
    '',
    'Hooks: signal scenarios (edge-kill, edge-drain, origin-down, consul-down) send SIGKILL/SIGTERM/SIGSTOP+SIGCONT',
    'to processes on this machine, so they need --stack. origin-slow and origin-corrupt work on any deployment:',
    'a fault relay (on --relay-host) is registered in Consul as a streamedge-origin instance and the real replica',
    'is put in maintenance; restoring ends maintenance and deregisters the relay.',
  ].join('\n');
}

function thresholdsFrom(scenario: DrillScenario, options: Record<string, unknown>): DrillThresholds {
  const thresholds: Record<string, number> = { ...scenario.thresholds } as Record<string, number>;
  for (const [flag, key] of THRESHOLD_FLAGS) {
    const value = options[flag];
    if (typeof value === 'number') thresholds[key] = value;
  }
  return thresholds as DrillThresholds;
}

async function targetFrom(options: { stack?: string; balancer?: string; consul?: string; 'consul-token-file'?: string }): Promise<DrillTarget> {
  let token: string | undefined;
  if (options['consul-token-file'] !== undefined) {
    let raw: string;
    try {
      raw = readFileSync(options['consul-token-file'], 'utf8');
    } catch (error) {
      throw new OptionError('--consul-token-file', `cannot read ${options['consul-token-file']}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    token = checkedToken('--consul-token-file', raw);
  }
  if ((options.balancer === undefined) !== (options.consul === undefined)) {
    throw new OptionError(options.balancer === undefined ? '--balancer' : '--consul', 'a deployment reached by URL needs both --balancer and --consul');
  }
  if (options.balancer !== undefined && options.consul !== undefined) {
    return createDrillTarget({ balancerUrl: options.balancer, consulUrl: options.consul, ...(token ? { consulToken: token } : {}), ...(options.stack ? { stateFile: options.stack } : {}) });
  }
  const stateFile = options.stack ?? defaultStackStateFile(DEMO_BASE_PORT);
  try {
    return await drillTargetFromStateFile(stateFile, token);
  } catch (error) {
    throw new OptionError('--stack', `${(error as Error).message}; or point the drill at a deployment with --balancer and --consul`);
  }
}

/** Checks the hosts-mode flags against the target; returns where the viewers stand, if in a region. */
function regionsFrom(scenario: DrillScenario, target: DrillTarget, options: { region?: string; 'viewer-region'?: string }): { name: string; viewerAddress: string } | undefined {
  if (scenario.needsHosts && !target.hosts) {
    throw new OptionError(scenario.name, 'needs a stack of `streamedge start --hosts` (run as root; its state file names the regions and their routers)');
  }
  if (target.hosts && !scenario.inHostsMode) throw new OptionError(scenario.name, 'does not run against a hosts stack: its hosts cannot reach a fault relay on this machine');
  if (options.region !== undefined && scenario.name !== 'region-cut') throw new OptionError('--region', 'is for region-cut (use --viewer-region to place the viewers)');
  try {
    if (options['viewer-region'] !== undefined) return hostsRegion(target, options['viewer-region'], '--viewer-region');
    // Viewers of the region that is cut: they are the ones who must move.
    if (scenario.name === 'region-cut') return hostsRegion(target, options.region, '--region');
  } catch (error) {
    throw new OptionError(options['viewer-region'] !== undefined ? '--viewer-region' : '--region', (error as Error).message);
  }
  return undefined;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') throw new HelpRequested(formatUsage('drill <scenario>', summary(), SPECS));
  const scenario = findScenario(name);
  if (!scenario) throw new OptionError(name, `unknown scenario (one of: ${DRILL_SCENARIOS.map((s) => s.name).join(', ')})`);
  const options = parseCommandOptions(`drill ${name}`, summary(), SPECS, rest);
  if (options['crash-loop'] && !scenario.kills) throw new OptionError('--crash-loop', `kills a restarted process again: only for ${KILL_SCENARIOS}`);
  const twice = options.target.find((id, i) => options.target.indexOf(id) !== i);
  if (twice !== undefined) throw new OptionError('--target', `${twice} given twice`);
  const target = await targetFrom(options);
  if (scenario.needsLocalProcesses && target.stateFile === undefined) {
    throw new OptionError('--stack', `${scenario.name} signals processes on this machine: it needs the stack's state file, not only --balancer and --consul`);
  }
  const viewerRegion = regionsFrom(scenario, target, options);

  const thresholds = thresholdsFrom(scenario, options);
  const controller = new AbortController();
  const interrupt = (): void => controller.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const progress = options.json ? undefined : createDrillProgress(scenario.name, process.stderr);
  try {
    const result = await runDrill({
      scenario,
      target,
      viewers: options.viewers ?? scenario.defaults.viewers,
      warmupMs: options.warmup ?? scenario.defaults.warmupMs,
      faultMs: options['fault-time'] ?? scenario.defaults.faultMs,
      settleMs: options.settle ?? scenario.defaults.settleMs,
      recoverTimeoutMs: options['recover-timeout'] ?? Math.max(DEFAULT_RECOVER_TIMEOUT_MS, thresholds.maxRecoverMs ?? 0),
      media: options.media ?? scenario.defaults.media,
      rendition: options.rendition,
      thresholds,
      chosen: options.target,
      originDelayMs: options['origin-delay'],
      relayHost: options['relay-host'],
      restartTimeoutMs: options['restart-timeout'],
      region: options.region,
      crashLoop: options['crash-loop'],
      ...(viewerRegion ? { viewerRegion } : {}),
      viewer: {
        maxBufferSeconds: options.buffer,
        requestTimeoutMs: options['request-timeout'],
        maxAttempts: options.attempts,
        pathwayPenaltyMs: options['pathway-penalty'],
      },
      ...(options.browser ? { browser: { chromiumPath: options.chromium } } : {}),
      signal: controller.signal,
      onProgress: (status) => progress?.update(status),
    });
    progress?.done();
    if (options.json) {
      console.log(JSON.stringify({ scenario: scenario.name, pass: result.verdict.pass, thresholds: result.thresholds, verdict: result.verdict, measurements: result.measurements }, null, 2));
    } else {
      console.log(renderVerdict(result.measurements, result.verdict));
    }
    return result.verdict.pass ? 0 : 1;
  } catch (error) {
    progress?.done();
    if (error instanceof DrillAborted) {
      console.error(`streamedge drill ${scenario.name}: interrupted; the fault was undone`);
      return 130;
    }
    if (error instanceof DrillSetupError) {
      console.error(`streamedge drill ${scenario.name}: ${error.message}`);
      return 2;
    }
    throw error;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}
