import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch, type Dispatcher } from 'undici';
import { startDevAgent, type DevAgentPorts } from '../infra/consul/dev-agent.js';
import { freePort } from '../infra/runtime/free-ports.js';
import { serviceMallocEnv } from '../infra/runtime/malloc-tuning.js';
import { liveChannelArgs, superviseLiveEncoder, type LiveEncoderSupervisor, type StackLiveChannel } from './live-encoder-supervisor.js';
import { createLocalCa, type LocalCa } from '../infra/tls/local-ca.js';
import { clientTrust } from '../infra/tls/tls-credentials.js';
import { startLocalPrometheus, type LocalPrometheus } from './local-prometheus.js';
import { spawnStreamedge, type StreamedgeProcess } from './streamedge-process.js';
import { startOrphanGuard, type OrphanGuard } from './orphan-guard.js';
import { assertPortsFree, type PortClaim } from './port-check.js';
import { removeStackState, writeStackState } from './stack-state-file.js';
import { DEMO_EDGES, DEMO_ORIGIN_COUNT, SHIPPED_LOCATIONS_FILE, type EdgePlacement, type StackPorts } from './stack-topology.js';

export type ServiceRole = 'origin' | 'shield' | 'edge' | 'balancer';
export type BalancerMode = 'steering' | 'redirect' | 'proxy';

export interface StackService {
  readonly id: string;
  readonly role: ServiceRole;
  /** Base URL from the process's `listening` log line. */
  readonly url: string;
  /** The running process; a new one after the stack restarted the service (`restartAfterMs`). */
  readonly process: StreamedgeProcess;
  /** Where the service's logs go when the stack was given a log directory. */
  readonly logFile: string | undefined;
}

export interface StackEdge extends StackService, EdgePlacement {}

export interface StackConsul {
  readonly url: string;
  readonly ports: DevAgentPorts;
  readonly pid: number | undefined;
  stop(): Promise<void>;
  /** A fresh agent on the same ports; services re-register by themselves. */
  restart(): Promise<void>;
}

export interface LocalStack {
  readonly consulUrl: string;
  readonly consul: StackConsul;
  readonly origins: readonly StackService[];
  readonly edges: readonly StackEdge[];
  /** Shields (`edge --tier shield`), one per region in the demo; none unless asked for. */
  readonly shields: readonly StackEdge[];
  readonly balancer: StackService | undefined;
  readonly balancerUrl: string | undefined;
  /** Every service in start order (origins, shields, edges, balancer). */
  readonly services: readonly StackService[];
  /** The Prometheus scraping them all, when started with `metrics`. */
  readonly prometheus: LocalPrometheus | undefined;
  /** The live channel's encoder, kept running (restarted if it dies), when started with `live`. */
  readonly liveEncoder: LiveEncoderSupervisor | undefined;
  /** With `tlsDir`: the run's CA and server certificate every service uses. */
  readonly ca: LocalCa | undefined;
  /** Reaches the services (trusting the run's CA when there is one), for health probes. */
  readonly dispatcher: Dispatcher;
  /** Prometheus, the live encoder, balancer, edges, origins, then Consul: SIGTERM, SIGKILL after the grace period. */
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** The HLS catalog directory the origins serve. */
  readonly contentDir: string;
  /** Fixed ports (the demo); free loopback ports are picked when omitted (tests). */
  readonly ports?: StackPorts;
  readonly originCount?: number;
  readonly edges?: readonly EdgePlacement[];
  /**
   * Shields to run (default none): edges fill misses from their region's shield, and shields hash
   * keys among themselves, signed with a secret the stack makes for the run.
   */
  readonly shields?: readonly EdgePlacement[];
  /** Start the balancer (default true). */
  readonly balancer?: boolean;
  readonly balancerMode?: BalancerMode;
  readonly locationsFile?: string;
  /** Edge memory cache size, e.g. "256MB" (edge default when omitted). */
  readonly edgeCacheSize?: string;
  /** Worker processes per edge (default 1: several edges already share the machine's cores). */
  readonly edgeWorkers?: number;
  /**
   * Signed URLs: a `kid:secret` file given to every edge and the balancer as `--token-secret-file`,
   * so media requests need a token signed with it (`/catalog.json` and the player stay public).
   */
  readonly tokenSecretFile?: string;
  /**
   * HTTPS everywhere: a CA and a certificate for 127.0.0.1/localhost are made in this directory
   * (infra/tls/local-ca.ts); every service serves TLS with it and trusts the CA (origins for edges,
   * edges for the balancer), and the Consul agent's checks verify it.
   */
  readonly tlsDir?: string;
  /** Extra command-line flags per role, e.g. `{ edge: ['--prefetch', '0'] }`. */
  readonly extraArgs?: Partial<Record<ServiceRole, readonly string[]>>;
  readonly env?: NodeJS.ProcessEnv;
  /** Write each service's log to `<logDir>/<id>.log` instead of keeping it only in memory. */
  readonly logDir?: string;
  /** Bound for each start phase (listening, healthy, passing in Consul). */
  readonly startTimeoutMs?: number;
  readonly stopGraceMs?: number;
  readonly onProgress?: (message: string) => void;
  /** Also run Prometheus with the shipped rules once origins and edges are up, and point the balancer's dashboard at it (see local-prometheus.ts). */
  readonly metrics?: { readonly binary?: string; readonly interval?: string };
  /**
   * Run `streamedge live` for one channel into `<contentDir>/live/<id>/`, supervised; the stack is
   * up once it publishes. `args` are further `streamedge live` flags (renditions, window, preset).
   */
  readonly live?: StackLiveChannel;
  /**
   * Restart an origin, edge or balancer that exits on its own after this many milliseconds, on
   * the same port and flags (as systemd's Restart= does in production); default: never.
   */
  readonly restartAfterMs?: number;
  /** Record the processes here (stack-state-file.ts) for other commands, e.g. `streamedge drill`. */
  readonly stateFile?: string;
}

const OUTPUT_TAIL_CHARS = 256 * 1024;

function validate(options: LocalStackOptions): void {
  if (typeof options.contentDir !== 'string' || options.contentDir === '') throw new TypeError('local stack: contentDir must be a directory path');
  const originCount = options.originCount ?? DEMO_ORIGIN_COUNT;
  if (!Number.isInteger(originCount) || originCount < 1) throw new TypeError(`local stack: originCount must be a whole number ≥ 1, got ${originCount}`);
  const edges = options.edges ?? DEMO_EDGES;
  if (new Set(edges.map((edge) => edge.id)).size !== edges.length) throw new TypeError('local stack: edge ids must be unique');
  const shields = options.shields ?? [];
  if (new Set([...edges, ...shields].map((node) => node.id)).size !== edges.length + shields.length) throw new TypeError('local stack: edge and shield ids must be unique');
  if (options.ports && (options.ports.edges.length !== edges.length || options.ports.origins.length !== originCount || options.ports.shields.length !== shields.length)) {
    throw new TypeError(`local stack: ports lists ${options.ports.edges.length} edges, ${options.ports.origins.length} origins and ${options.ports.shields.length} shields; the topology has ${edges.length}, ${originCount} and ${shields.length}`);
  }
  if (options.edgeWorkers !== undefined && (!Number.isInteger(options.edgeWorkers) || options.edgeWorkers < 1)) {
    throw new TypeError(`local stack: edgeWorkers must be a whole number ≥ 1, got ${options.edgeWorkers}`);
  }
}

/** Thrown by a wait's check when waiting longer cannot help (the process is gone). */
export class StopWaiting extends Error {}

export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      if (error instanceof StopWaiting) throw error;
      lastError = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${what} within ${timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ''}`);
}

export function originIdsFor(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `origin-${i + 1}`);
}

/** Which service each fixed port is for, so a clash can name both. */
export function stackPortClaims(ports: StackPorts, edges: readonly EdgePlacement[], originIds: readonly string[], withBalancer: boolean, shields: readonly EdgePlacement[] = []): PortClaim[] {
  return [
    { port: ports.consul, service: 'consul' },
    ...(withBalancer ? [{ port: ports.balancer, service: 'balancer' }] : []),
    ...edges.map((edge, i) => ({ port: ports.edges[i]!, service: edge.id })),
    ...originIds.map((id, i) => ({ port: ports.origins[i]!, service: id })),
    ...shields.map((shield, i) => ({ port: ports.shields[i]!, service: shield.id })),
  ];
}

/** Like Promise.all, but waits for every task, so nothing is still starting when cleanup runs. */
async function settleAll<T>(tasks: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

/** Without a dispatcher, undici's global one (plain http, or https trusted by the system roots). */
export async function isHealthy(url: string, dispatcher?: Dispatcher): Promise<boolean> {
  const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000), ...(dispatcher ? { dispatcher } : {}) });
  await response.body?.cancel();
  return response.ok;
}

/** Service IDs Consul currently lists as passing for a service name. */
export async function passingServiceIds(consulUrl: string, service: string): Promise<string[]> {
  const response = await fetch(`${consulUrl}/v1/health/service/${encodeURIComponent(service)}?passing=true`, {
    signal: AbortSignal.timeout(2000),
  });
  if (!response.ok) throw new Error(`Consul answered ${response.status} for ${service}`);
  const entries = (await response.json()) as { Service?: { ID?: string } }[];
  return entries.flatMap((entry) => (entry.Service?.ID ? [entry.Service.ID] : []));
}

export async function waitForPassing(consulUrl: string, service: string, ids: readonly string[], timeoutMs: number): Promise<void> {
  await waitUntil(`Consul did not list ${ids.join(', ')} as passing ${service}`, timeoutMs, async () => {
    const passing = new Set(await passingServiceIds(consulUrl, service));
    return ids.every((id) => passing.has(id));
  });
}

/**
 * Starts a real Consul dev agent, origin replicas, edges and the balancer as child processes of
 * the `streamedge` CLI, and resolves once every one is healthy and the origins and edges pass
 * their Consul checks. Whatever was started is stopped again if any step fails.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  validate(options);
  const edgePlacements = options.edges ?? DEMO_EDGES;
  const shieldPlacements = options.shields ?? [];
  const originIds = originIdsFor(options.originCount ?? DEMO_ORIGIN_COUNT);
  const withBalancer = options.balancer ?? true;
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const graceMs = options.stopGraceMs ?? 10_000;
  const progress = options.onProgress ?? (() => {});
  const tokenArgs = options.tokenSecretFile === undefined ? [] : ['--token-secret-file', options.tokenSecretFile];
  const ca = options.tlsDir === undefined ? undefined : await createLocalCa(options.tlsDir);
  const scheme = ca ? 'https' : 'http';
  const serveTlsArgs = ca ? ['--tls-cert', ca.certFile, '--tls-key', ca.keyFile] : [];
  const trustArgs = ca ? ['--tls-ca', ca.caCertFile] : [];
  const dispatcher: Dispatcher = new Agent({ connect: clientTrust(ca ? readFileSync(ca.caCertFile, 'utf8') : undefined) });

  if (options.ports) await assertPortsFree(stackPortClaims(options.ports, edgePlacements, originIds, withBalancer, shieldPlacements));
  const portFor = async (list: 'edges' | 'origins' | 'shields', index: number): Promise<number> => options.ports?.[list][index] ?? (await freePort());
  // The secret that signs hops between peer shields lives only as long as the run.
  const secretDir = shieldPlacements.length > 0 ? await mkdtemp(join(tmpdir(), 'streamedge-stack-')) : undefined;
  const peerArgs = secretDir === undefined ? [] : ['--sibling-secret-file', join(secretDir, 'sibling.secret')];

  const guard: OrphanGuard = startOrphanGuard();
  const logStreams: WriteStream[] = [];
  const started: StackService[] = [];
  let agent: Awaited<ReturnType<typeof startDevAgent>> | undefined;
  let prometheus: LocalPrometheus | undefined;
  let stopping = false;
  let recordState: () => Promise<void> = async () => {};
  let liveStarting: Promise<LiveEncoderSupervisor> | undefined;
  let liveMetricsPort: number | undefined;

  const logTo = (name: string): WriteStream | undefined => {
    if (!options.logDir) return undefined;
    const stream = createWriteStream(join(options.logDir, `${name}.log`), { flags: 'a' });
    logStreams.push(stream);
    return stream;
  };

  const spawnService = async (id: string, role: ServiceRole, args: readonly string[]): Promise<StackService> => {
    const log = logTo(id);
    const logFile = log ? join(options.logDir!, `${id}.log`) : undefined;
    const command = role === 'shield' ? ['edge', '--tier', 'shield'] : [role];
    const spawnOnce = async (): Promise<StreamedgeProcess> => {
      const spawned = await spawnStreamedge([...command, ...args, ...(options.extraArgs?.[role] ?? [])], {
        // As the deploy units run them (infra/runtime/malloc-tuning.ts says why).
        env: { ...serviceMallocEnv({ ...process.env, ...options.env }), ...options.env },
        startTimeoutMs: timeoutMs,
        outputLimit: OUTPUT_TAIL_CHARS,
        onOutput: log ? (chunk) => log.write(chunk) : undefined,
      });
      guard.watch(spawned.child.pid);
      return spawned;
    };
    let running = await spawnOnce();
    const service: StackService = { id, role, url: running.url, get process() { return running; }, logFile };
    started.push(service);
    const superviseRestarts = (): void => {
      const { restartAfterMs } = options;
      if (restartAfterMs === undefined) return;
      void running.exited.then(async (code) => {
        if (stopping) return;
        guard.forget(running.child.pid);
        progress(`${id} exited (${code}); restarting in ${restartAfterMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, restartAfterMs));
        if (stopping) return;
        try {
          running = await spawnOnce();
          // stopAll may have run while it started; it stops only what it saw.
          if (stopping) {
            await running.stop(graceMs);
            guard.forget(running.child.pid);
            return;
          }
          superviseRestarts();
          progress(`${id} restarted (pid ${running.child.pid})`);
          await recordState();
        } catch (error) {
          progress(`${id} did not restart: ${(error as Error).message}`);
        }
      });
    };
    superviseRestarts();
    await waitUntil(`${id} did not answer /healthz with 200`, timeoutMs, () => {
      const { exitCode, signalCode } = running.child;
      if (exitCode !== null || signalCode !== null) throw new StopWaiting(`${id} exited (${exitCode ?? signalCode}) before it was healthy:\n${running.output()}`);
      return isHealthy(service.url, dispatcher);
    });
    progress(`${id} healthy at ${service.url}`);
    return service;
  };

  const stopAll = async (): Promise<void> => {
    stopping = true;
    if (options.stateFile) await removeStackState(options.stateFile);
    if (prometheus) {
      await prometheus.stop();
      guard.forget(prometheus.pid);
    }
    const live = await liveStarting?.catch(() => undefined);
    await live?.stop(graceMs);
    const stopRole = (role: ServiceRole): Promise<unknown> =>
      Promise.all(
        started
          .filter((service) => service.role === role)
          .map(async (service) => {
            await service.process.stop(graceMs);
            guard.forget(service.process.child.pid);
          }),
      );
    await stopRole('balancer');
    await stopRole('edge');
    await stopRole('shield');
    await stopRole('origin');
    if (agent) {
      await agent.stop();
      guard.forget(agent.pid);
    }
    await guard.close();
    await dispatcher.close();
    await Promise.all(logStreams.map((stream) => new Promise((resolve) => stream.end(resolve))));
    if (secretDir) await rm(secretDir, { recursive: true, force: true });
  };

  try {
    if (options.logDir) await mkdir(options.logDir, { recursive: true });
    if (options.live) {
      // Encodes while the rest starts; the stack is up only once the channel publishes.
      const liveLog = logTo('live-encoder');
      progress(`starting live encoder for /live/${options.live.id}/`);
      liveMetricsPort = await freePort();
      liveStarting = superviseLiveEncoder({
        args: liveChannelArgs(options.live, options.contentDir, liveMetricsPort),
        env: options.env,
        startTimeoutMs: timeoutMs,
        outputLimit: OUTPUT_TAIL_CHARS,
        onOutput: liveLog ? (chunk) => liveLog.write(chunk) : undefined,
        onStarted: (encoder, ffmpegPid) => {
          guard.watch(encoder.child.pid);
          guard.watch(ffmpegPid);
          void encoder.exited.then(() => [encoder.child.pid, ffmpegPid].forEach((pid) => guard.forget(pid)));
        },
        onProgress: progress,
      });
      liveStarting.catch(() => {});
    }
    progress('starting Consul dev agent');
    agent = await startDevAgent({ httpPort: options.ports?.consul, startTimeoutMs: timeoutMs, ...(ca ? { checkCaFile: ca.caCertFile } : {}) });
    guard.watch(agent.pid);
    const consulUrl = agent.url;
    progress(`consul leader elected at ${consulUrl}`);

    const origins = await settleAll(
      originIds.map(async (id, i) =>
        spawnService(id, 'origin', ['--id', id, '--port', String(await portFor('origins', i)), '--content', options.contentDir, '--consul', consulUrl, ...serveTlsArgs]),
      ),
    );
    await waitForPassing(consulUrl, 'streamedge-origin', originIds, timeoutMs);

    if (secretDir) await writeFile(join(secretDir, 'sibling.secret'), randomBytes(32).toString('hex'), { mode: 0o600 });
    const nodeArgs = (placement: EdgePlacement, port: number): string[] => [
      '--id', placement.id, '--port', String(port), '--consul', consulUrl,
      '--region', placement.region, '--lat', String(placement.lat), '--lon', String(placement.lon),
      '--url', `${scheme}://127.0.0.1:${port}`, '--workers', String(options.edgeWorkers ?? 1),
      ...serveTlsArgs, ...trustArgs,
      ...(options.edgeCacheSize ? ['--cache-size', options.edgeCacheSize] : []),
      ...peerArgs,
    ];
    // Shields first, so edges find them at once (the shield takes no viewer token: edges check it).
    const shields = await settleAll(
      shieldPlacements.map(async (placement, i): Promise<StackEdge> => Object.assign(await spawnService(placement.id, 'shield', nodeArgs(placement, await portFor('shields', i))), placement)),
    );
    if (shields.length > 0) await waitForPassing(consulUrl, 'streamedge-shield', shieldPlacements.map((shield) => shield.id), timeoutMs);

    const edges = await settleAll(
      edgePlacements.map(async (placement, i): Promise<StackEdge> =>
        // Assigned, not spread: the service's `process` getter must stay live across restarts.
        Object.assign(await spawnService(placement.id, 'edge', [...nodeArgs(placement, await portFor('edges', i)), ...tokenArgs]), placement),
      ),
    );
    await waitForPassing(consulUrl, 'streamedge-edge', edgePlacements.map((edge) => edge.id), timeoutMs);

    const liveEncoder = await liveStarting;
    if (liveEncoder) progress(`live encoder publishing /live/${options.live!.id}/master.m3u8`);

    // Prometheus starts before the balancer, whose port it already knows, so the balancer's
    // /dashboard can plot the recording rules (--prometheus) from its first page.
    const balancerPort = withBalancer ? (options.ports?.balancer ?? (await freePort())) : undefined;
    if (options.metrics) {
      progress('starting Prometheus');
      prometheus = await startLocalPrometheus({
        ...options.metrics,
        consulUrl,
        balancers: balancerPort === undefined ? [] : [{ id: 'balancer', url: `http://127.0.0.1:${balancerPort}` }],
        liveEncoders: liveMetricsPort === undefined ? [] : [{ id: options.live!.id, url: `http://127.0.0.1:${liveMetricsPort}` }],
        startTimeoutMs: timeoutMs,
      });
      guard.watch(prometheus.pid);
      progress(`prometheus ready at ${prometheus.url} in ${prometheus.readyAfterMs} ms`);
    }

    const balancer = balancerPort === undefined
      ? undefined
      : await spawnService('balancer', 'balancer', [
          '--port', String(balancerPort), '--consul', consulUrl,
          '--mode', options.balancerMode ?? 'steering', '--locations', options.locationsFile ?? SHIPPED_LOCATIONS_FILE,
          ...(prometheus ? ['--prometheus', prometheus.url] : []),
          ...tokenArgs, ...serveTlsArgs, ...trustArgs,
        ]);

    const consulAgent = agent;
    const consul: StackConsul = {
      url: consulUrl,
      ports: consulAgent.ports,
      get pid() {
        return consulAgent.pid;
      },
      stop: async () => {
        guard.forget(consulAgent.pid);
        await consulAgent.stop();
      },
      restart: async () => {
        guard.forget(consulAgent.pid);
        await consulAgent.restart();
        guard.watch(consulAgent.pid);
      },
    };
    const services = [...origins, ...shields, ...edges, ...(balancer ? [balancer] : [])];
    const { stateFile } = options;
    if (stateFile) {
      recordState = () =>
        writeStackState(stateFile, {
          version: 1,
          supervisorPid: process.pid,
          restartAfterMs: options.restartAfterMs,
          consul: { url: consulUrl, pid: consulAgent.pid },
          balancerUrl: balancer?.url,
          services: services.map((service) => ({ id: service.id, role: service.role, url: service.url, pid: service.process.child.pid! })),
        });
      await recordState();
    }
    let stopped: Promise<void> | undefined;
    return {
      consulUrl,
      consul,
      origins,
      edges,
      shields,
      balancer,
      balancerUrl: balancer?.url,
      services,
      prometheus,
      liveEncoder,
      ca,
      dispatcher,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
