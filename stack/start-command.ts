import { spawn } from 'node:child_process';
import { access, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ASSET_MARKER } from '../origin/catalog-generator.js';
import { DEMO_ASSETS } from '../origin/renditions.js';
import { OptionError, parseCommandOptions } from '../infra/runtime/command-options.js';
import { readTokenKeyFile } from '../infra/auth/token-key-files.js';
import { signUrlToken, type UrlTokenKey } from '../infra/auth/url-token.js';
import { waitForShutdownSignal } from '../infra/runtime/http-lifecycle.js';
import { LiveInputError, resolveLiveInput } from '../origin/live/live-input.js';
import { monitorStackHealth } from './health-monitor.js';
import { ffmpegPidOf, type LiveEncoderSupervisor } from './live-encoder-supervisor.js';
import { originIdsFor, stackPortClaims, startLocalStack, type LocalStack } from './local-stack.js';
import { assertPrometheusInstalled, DEBIAN_PROMETHEUS, PrometheusMissingError } from './local-prometheus.js';
import { assertPortsFree, PortInUseError } from './port-check.js';
import { assertCanMakeHosts } from './hosts/host-network.js';
import { runHostsStack } from './hosts/hosts-start.js';
import { defaultStackStateFile } from './stack-state-file.js';
import { DEMO_BASE_PORT, DEMO_CONSUL_PORT, DEMO_EDGES, DEMO_ORIGIN_COUNT, DEMO_SHIELDS, portsFromBase } from './stack-topology.js';
import { alignColumns } from './text-columns.js';

const CLI = fileURLToPath(new URL('./cli/streamedge.js', import.meta.url));

/** The demo's live channel: a generated test pattern and tone, the UTC clock burnt in. */
export const DEMO_LIVE_CHANNEL = 'channel-1';
const DEMO_LIVE_INPUT = 'lavfi:testsrc2=size=854x480:rate=30';

const SPECS = {
  content: { kind: 'string', description: 'HLS catalog directory (generated first when missing)', default: './content' },
  'consul-port': { kind: 'port', description: 'HTTP port of the Consul dev agent', default: DEMO_CONSUL_PORT },
  'base-port': { kind: 'port', description: 'balancer port; edges listen on the next ports, origins from base+11', default: DEMO_BASE_PORT },
  mode: { kind: 'string', description: 'balancer front', default: 'steering', choices: ['steering', 'redirect', 'proxy'] },
  'cache-size': { kind: 'bytes', description: 'edge memory cache size per process, e.g. 256MB (edge default when omitted)', min: 1024 * 1024 },
  'log-dir': { kind: 'string', description: 'directory for the services\' logs (default: a new temporary directory)' },
  'health-interval': { kind: 'duration', description: 'how often to check every service', default: 2000, min: 200 },
  // Edges, then shields, drain on stop: 16 s by default, which a stack without viewers can skip.
  'drain-delay': { kind: 'duration', description: 'the edges\' and shields\' --drain-delay: how long they keep serving in Consul maintenance when the stack stops (their default 8s when omitted)', min: 0 },
  metrics: { kind: 'boolean', description: 'also run Prometheus on a free port, scraping every service with the rules in infra/prometheus/' },
  prometheus: { kind: 'string', description: 'the Prometheus server binary for --metrics (Debian package prometheus)', default: DEBIAN_PROMETHEUS },
  'metrics-interval': { kind: 'duration', description: 'Prometheus scrape and rule evaluation interval for --metrics', default: '5s', min: 100 },
  'live-input': {
    kind: 'string',
    description: 'what the live channel /live/channel-1/ encodes: a video file (looped) or lavfi:<filter graph>',
    default: DEMO_LIVE_INPUT,
  },
  hosts: {
    kind: 'boolean',
    description: 'every service on its own network-namespace host: 3 Consul servers, a Consul client agent per host, 2 regions joined by a delaying WAN, a shield per region, and Prometheus (needs root; Ctrl-C removes them all)',
  },
  'wan-delay': { kind: 'duration', description: 'one-way delay between the regions in --hosts mode', default: '40ms', min: 0, max: 10_000 },
  tls: {
    kind: 'boolean',
    description: 'HTTPS everywhere: a CA and a certificate for 127.0.0.1/localhost are made for this run (openssl) under the log directory; the CA path is printed',
  },
  'token-secret-file': {
    kind: 'string',
    description: 'signed URLs: a kid:secret file given to every edge and the balancer; a signed player URL is printed (never the secret)',
  },
} as const;

/** Like the shipped systemd units' RestartSec: a service that exits comes back after this long. */
export const RESTART_AFTER_MS = 2000;

/** How long the printed signed URL stays valid. */
const HINT_TOKEN_TTL_MS = 2 * 3_600_000;

/** The signed master URL of the first demo title and a player URL that plays it (the token, never the secret). */
export function signedHint(key: UrlTokenKey, balancerUrl: string, nowMs = Date.now()): { master: string; player: string } {
  const prefix = `/vod/${DEMO_ASSETS[0]!.id}/`;
  const query = signUrlToken(key, { prefix, expires: Math.floor((nowMs + HINT_TOKEN_TTL_MS) / 1000) });
  const master = `${balancerUrl}${prefix}master.m3u8?${query}`;
  return { master, player: `${balancerUrl}/?src=${encodeURIComponent(master)}` };
}

/** The catalog is there when every demo asset's marker (written last by the generator) is. */
async function catalogPresent(dir: string): Promise<boolean> {
  const present = await Promise.all(DEMO_ASSETS.map((asset) => access(join(dir, 'vod', asset.id, ASSET_MARKER)).then(() => true, () => false)));
  return present.every(Boolean);
}

/** Runs `streamedge content`, which shows its own progress and skips assets already built. */
function generateContent(dir: string): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, 'content', '--content', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolveRun() : reject(new Error(`streamedge content exited with ${code ?? signal}; the catalog in ${dir} is incomplete`)),
    );
  });
}

function liveRow(supervisor: LiveEncoderSupervisor): string[] {
  const encoder = supervisor.current();
  const pids = encoder ? `pid ${encoder.child.pid}, ffmpeg ${ffmpegPidOf(encoder.output()) ?? '?'}` : 'not running';
  return ['live-encoder', 'live', `/live/${DEMO_LIVE_CHANNEL}/`, `streamedge live (${pids}), restarted if it dies`];
}

async function ensureCatalog(contentDir: string, given: string): Promise<void> {
  if (await catalogPresent(contentDir)) {
    console.log(`content: ${contentDir} (run \`streamedge content --content ${given}\` to rebuild it)`);
  } else {
    console.log(`content: ${contentDir} is missing the demo catalog; generating it with ffmpeg (once)`);
    await generateContent(contentDir);
  }
}

/** --hosts makes its own addresses, ports and Consul cluster: flags for the single-host layout do not apply. */
function assertHostsOptions(options: { 'token-secret-file'?: string; 'log-dir'?: string; 'drain-delay'?: number; tls?: boolean }): void {
  // The hosts' Consul agents and Prometheus would need the run's CA and https checks and targets.
  if (options.tls) throw new OptionError('--tls', 'is not available with --hosts');
  for (const flag of ['token-secret-file', 'log-dir', 'drain-delay'] as const) {
    if (options[flag] !== undefined) throw new OptionError(`--${flag}`, 'is not available with --hosts');
  }
  try {
    assertCanMakeHosts();
  } catch (error) {
    throw new OptionError('--hosts', (error as Error).message);
  }
}

function listenTable(stack: LocalStack, mode: string): string {
  const rows: string[][] = [
    ['service', 'role', 'listens on', 'where'],
    ['consul', 'consul', stack.consulUrl, 'dev agent, UI at /ui'],
    ...stack.services.map((service) => {
      const edge = [...stack.edges, ...stack.shields].find((candidate) => candidate.id === service.id);
      const where = edge ? `${edge.region} (${edge.lat}, ${edge.lon})` : service.role === 'balancer' ? `${mode} front` : '';
      return [service.id, service.role, service.url, where];
    }),
    ...(stack.liveEncoder ? [liveRow(stack.liveEncoder)] : []),
    ...(stack.prometheus ? [['prometheus', 'prometheus', stack.prometheus.url, 'targets from Consul, rules from infra/prometheus/rules']] : []),
  ];
  return alignColumns(rows).join('\n');
}

export async function main(argv: readonly string[]): Promise<void> {
  const options = parseCommandOptions(
    'start',
    'Run the whole local system: a Consul dev agent, a live encoder, 2 origin replicas, a shield and edges in each of 2 regions (3 edges) and the balancer. Ctrl-C stops everything.',
    SPECS,
    argv,
  );
  if (options.hosts) assertHostsOptions(options);
  // Prometheus would need the run's CA and https targets from Consul: not wired up yet.
  if (options.tls && options.metrics) throw new OptionError('--tls', 'cannot be combined with --metrics yet (Prometheus would scrape https targets without the run\'s CA)');
  // Before anything starts or is generated: Prometheus is a system package.
  if (options.metrics || options.hosts) {
    await assertPrometheusInstalled(options.prometheus).catch((error: unknown) => {
      throw error instanceof PrometheusMissingError ? new OptionError(options.hosts ? '--hosts' : '--metrics', error.message) : error;
    });
  }
  // A bad key file stops here, naming the flag, before anything starts.
  const tokenSecretFile = options['token-secret-file'] === undefined ? undefined : resolve(options['token-secret-file']);
  const tokenKey = tokenSecretFile === undefined ? undefined : readTokenKeyFile('--token-secret-file', tokenSecretFile);
  await resolveLiveInput(options['live-input']).catch((error: unknown) => {
    throw error instanceof LiveInputError ? new OptionError('--live-input', error.message) : error;
  });
  const contentDir = resolve(options.content);
  const live = { id: DEMO_LIVE_CHANNEL, input: options['live-input'], args: ['--title', 'Live channel 1 (encoded now)', '--low-latency'] };
  if (options.hosts) {
    await ensureCatalog(contentDir, options.content);
    await runHostsStack({
      contentDir,
      mode: options.mode as 'steering' | 'redirect' | 'proxy',
      wanDelayMs: options['wan-delay'],
      ...(options['cache-size'] === undefined ? {} : { edgeCacheSize: String(options['cache-size']) }),
      healthIntervalMs: options['health-interval'],
      prometheusBinary: options.prometheus,
      metricsInterval: `${options['metrics-interval']}ms`,
      live,
      restartAfterMs: RESTART_AFTER_MS,
      stateFile: defaultStackStateFile(options['base-port']),
    });
    return;
  }
  const ports = portsFromBase(options['base-port'], options['consul-port'], DEMO_EDGES.length, DEMO_ORIGIN_COUNT, DEMO_SHIELDS.length);
  const logDir = options['log-dir'] ? resolve(options['log-dir']) : await mkdtemp(join(tmpdir(), 'streamedge-stack-'));
  const drainArgs = options['drain-delay'] === undefined ? [] : ['--drain-delay', `${options['drain-delay']}ms`];

  // Fail fast, before minutes of encoding, if a port is taken; the flag to change is named.
  try {
    await assertPortsFree(stackPortClaims(ports, DEMO_EDGES, originIdsFor(DEMO_ORIGIN_COUNT), true, DEMO_SHIELDS));
  } catch (error) {
    if (!(error instanceof PortInUseError)) throw error;
    throw new OptionError(error.claim.service === 'consul' ? '--consul-port' : '--base-port', error.message);
  }

  await ensureCatalog(contentDir, options.content);

  // A signal during start-up (Ctrl-C also reaches the children) stops whatever has started.
  const signal = waitForShutdownSignal();
  const starting = startLocalStack({
    contentDir,
    ports,
    shields: DEMO_SHIELDS,
    balancerMode: options.mode as 'steering' | 'redirect' | 'proxy',
    edgeCacheSize: options['cache-size'] === undefined ? undefined : String(options['cache-size']),
    logDir,
    live,
    restartAfterMs: RESTART_AFTER_MS,
    stateFile: defaultStackStateFile(options['base-port']),
    extraArgs: { edge: drainArgs, shield: drainArgs },
    ...(tokenSecretFile === undefined ? {} : { tokenSecretFile }),
    // Per run, beside the logs: the CA's key never outlives the run's directory.
    ...(options.tls ? { tlsDir: join(logDir, 'tls') } : {}),
    onProgress: (message) => console.log(`  ${message}`),
    ...(options.metrics ? { metrics: { binary: options.prometheus, interval: `${options['metrics-interval']}ms` } } : {}),
  });
  const outcome = await Promise.race([
    starting.then((started) => ({ stack: started }), (error: unknown) => ({ error })),
    signal.then((received) => ({ signal: received })),
  ]);
  if ('signal' in outcome) {
    console.log(`\n${outcome.signal}: stopping what has started…`);
    await starting.then((started) => started.stop(), () => {});
    return;
  }
  if ('error' in outcome) throw outcome.error;
  const { stack } = outcome;

  const balancerUrl = stack.balancerUrl!;
  console.log(`\n${listenTable(stack, options.mode)}\n`);
  console.log(`logs:        ${logDir}/<service>.log`);
  console.log(`player:      ${balancerUrl}/`);
  if (stack.ca) {
    console.log(`TLS CA:      ${stack.ca.caCertFile}   (trust it for this run only, e.g. curl --cacert ${stack.ca.caCertFile} ${balancerUrl}/status)`);
    console.log(`  chromium:  --ignore-certificate-errors-spki-list=${stack.ca.spkiSha256}   (pins this run's server key)`);
  }
  if (tokenKey) {
    const hint = signedHint(tokenKey, balancerUrl);
    console.log(`signed URLs: media needs a token; valid for 2 h (other titles: streamedge sign --secret-file ${options['token-secret-file']} --path /vod/<asset>/ --base-url ${balancerUrl})`);
    console.log(`  master:    ${hint.master}`);
    console.log(`  player:    ${hint.player}`);
  }
  console.log(`status:      ${balancerUrl}/status`);
  const drills = stack.ca ? 'streamedge drill needs a stack started without --tls' : 'streamedge drill --help';
  console.log(`drills:      ${drills}   (a service that exits is restarted after ${RESTART_AFTER_MS / 1000} s; processes recorded in ${defaultStackStateFile(options['base-port'])})`);
  if (stack.prometheus) console.log(`prometheus:  ${stack.prometheus.url}/alerts   (rules: ${stack.prometheus.url}/rules, targets: ${stack.prometheus.url}/targets)`);
  console.log(`as eu-west:  curl ${stack.ca ? `--cacert ${stack.ca.caCertFile} ` : ''}--interface 127.0.2.1 ${balancerUrl}/vod/demo-ts/master.m3u8   (127.0.1.x → us-east)`);
  console.log('\nhealth (a line per service whenever it changes; Ctrl-C stops everything):');
  const monitor = monitorStackHealth(stack, options['health-interval'], (line) => console.log(line));

  const received = await signal;
  monitor.stop();
  console.log(`\n${received}: stopping ${stack.prometheus ? 'Prometheus, ' : ''}the live encoder, balancer, edges, origins, Consul…`);
  await stack.stop();
  console.log('stopped');
}
