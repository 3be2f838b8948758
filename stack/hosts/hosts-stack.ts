// `streamedge start --hosts`: the local system with every service on its own "host" (a network
// namespace with its own address), three Consul servers and a Consul client agent per host, two
// regions on two subnets joined by a WAN that adds latency, a shield per region the region's edges
// fill from (each filling from the origins itself). Everything it makes it removes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { passingServiceIds, isHealthy, StopWaiting, waitForPassing, waitUntil, type StackService } from '../local-stack.js';
import { startLocalPrometheus, type LocalPrometheus } from '../local-prometheus.js';
import { freePort } from '../../infra/runtime/free-ports.js';
import { liveChannelArgs, superviseLiveEncoder, type LiveEncoderSupervisor, type StackLiveChannel } from '../live-encoder-supervisor.js';
import { startOrphanGuard } from '../orphan-guard.js';
import { spawnStreamedge } from '../streamedge-process.js';
import { DEMO_EDGES, DEMO_ORIGIN_COUNT, type EdgePlacement } from '../stack-topology.js';
import { removeStackState, writeStackState } from '../stack-state-file.js';
import { consulLeader, startConsulCluster, type ConsulAgentProcess } from './consul-cluster.js';
import { HOSTS_SHIELDS, hostsLocationTable, planHosts, wanPorts, CONSUL_PORTS, WAN_TRANSIT_PORT, type HostPlan, type HostsPlan } from './host-plan.js';
import { assertCanMakeHosts, makeHostNetwork, removeHostNetwork, setRegionLink } from './host-network.js';

const RELAY_SCRIPT = fileURLToPath(new URL('./wan-relay-process.js', import.meta.url));
const DEMO_REGIONS = [
  { name: 'us-east', lat: 39.04, lon: -77.49 },
  { name: 'eu-west', lat: 53.35, lon: -6.26 },
];
const OUTPUT_TAIL_CHARS = 256 * 1024;

export interface HostsStackOptions {
  readonly contentDir: string;
  readonly consulBinary: string;
  /** One-way delay between the regions (a round trip costs twice this). */
  readonly wanDelayMs?: number;
  readonly edges?: readonly EdgePlacement[];
  /** Shields (`edge --tier shield`), each on a host of its region; default one per region. */
  readonly shields?: readonly EdgePlacement[];
  readonly originCount?: number;
  readonly edgeCacheSize?: string;
  readonly balancerMode?: 'steering' | 'redirect' | 'proxy';
  /** Extra command-line flags per role, e.g. `{ balancer: ['--steering-ttl', '4s'] }`. */
  readonly extraArgs?: Partial<Record<'origin' | 'shield' | 'edge' | 'balancer', readonly string[]>>;
  readonly startTimeoutMs?: number;
  readonly onProgress?: (message: string) => void;
  /** Also run Prometheus (on the machine, reachable from the hosts) and point the balancer's dashboard at it. */
  readonly metrics?: { readonly binary?: string; readonly interval?: string };
  /** A live channel encoded on the machine into the content directory every origin host serves (shared storage). */
  readonly live?: StackLiveChannel;
  /** Restart a service that exits on its own after this many milliseconds, in its namespace (systemd's Restart=); default: never. */
  readonly restartAfterMs?: number;
  /** Record the processes, regions and namespaces here (stack-state-file.ts) for `streamedge drill`. */
  readonly stateFile?: string;
}

export interface HostService extends StackService {
  readonly host: HostPlan;
}

export interface HostsStack {
  readonly plan: HostsPlan;
  /** A Consul server's HTTP API as the machine reaches it (the first one). */
  readonly consulUrl: string;
  readonly consulAgents: readonly ConsulAgentProcess[];
  readonly balancerUrl: string;
  /** Current services (a host brought back gets a new process). */
  readonly services: readonly HostService[];
  /** Milliseconds from the call to every service passing in Consul. */
  readonly startedInMs: number;
  readonly prometheus: LocalPrometheus | undefined;
  /** The Consul server that leads now, or undefined while none does. */
  leader(): Promise<ConsulAgentProcess | undefined>;
  /** A region's datacenter link goes down (its hosts are cut off) or comes back. */
  setRegionLink(region: string, up: boolean): Promise<void>;
  /** Kills everything on a host (its service and Consul agent), as a power cut would; it stays down until startHost. */
  killHost(name: string): Promise<void>;
  /** Starts a killed host's Consul agent and service again. */
  startHost(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startHostsStack(options: HostsStackOptions): Promise<HostsStack> {
  assertCanMakeHosts();
  const begun = Date.now();
  const plan = planHosts({ edges: options.edges ?? DEMO_EDGES, shields: options.shields ?? HOSTS_SHIELDS, regions: DEMO_REGIONS, originCount: options.originCount ?? DEMO_ORIGIN_COUNT });
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const progress = options.onProgress ?? (() => {});
  const stateDir = await mkdtemp(join(tmpdir(), 'streamedge-hosts-'));
  const guard = startOrphanGuard();
  const relays: ChildProcess[] = [];
  const services: HostService[] = [];
  let agents: ConsulAgentProcess[] = [];
  let prometheus: LocalPrometheus | undefined;
  let live: LiveEncoderSupervisor | undefined;
  let stopping = false;
  let networkMade = false;
  /** Hosts killed on purpose (killHost): their service is not restarted until startHost. */
  const held = new Set<string>();
  let recordState = async (): Promise<void> => {};

  const stopAll = async (): Promise<void> => {
    stopping = true;
    if (options.stateFile) await removeStackState(options.stateFile);
    await prometheus?.stop();
    await live?.stop();
    const byRole = (role: string): Promise<unknown> => Promise.all(services.filter((service) => service.role === role).map((service) => service.process.stop(10_000)));
    await byRole('balancer');
    await byRole('edge');
    await byRole('shield');
    await byRole('origin');
    await Promise.all(agents.filter((agent) => !agent.server).map((agent) => agent.stop('leave')));
    await Promise.all(agents.filter((agent) => agent.server).map((agent) => agent.stop('leave')));
    for (const relay of relays) relay.kill('SIGTERM');
    await guard.close();
    // Only what this run made: a run refused because another is active must not tear that one down.
    if (networkMade) await removeHostNetwork(plan);
    await rm(stateDir, { recursive: true, force: true });
  };

  let balancerArgs: string[] = [];
  const startService = async (host: HostPlan): Promise<HostService> => {
    const port = host.role === 'edge' ? plan.ports.edge : host.role === 'shield' ? plan.ports.shield : host.role === 'origin' ? plan.ports.origin : plan.ports.balancer;
    const url = `http://${host.address}:${port}`;
    // Every service talks to the Consul agent on its own host, as in production.
    const common = ['--host', '0.0.0.0', '--port', String(port), '--consul', `http://127.0.0.1:${CONSUL_PORTS.http}`];
    const cacheNode = (): string[] => [...common, '--id', host.name, '--url', url, '--region', host.region, '--lat', String(host.placement!.lat), '--lon', String(host.placement!.lon),
      '--workers', '1', ...(options.edgeCacheSize ? ['--cache-size', options.edgeCacheSize] : [])];
    const args =
      host.role === 'origin'
        ? ['origin', ...common, '--id', host.name, '--url', url, '--content', options.contentDir]
        : host.role === 'edge'
          ? ['edge', ...cacheNode()]
          : host.role === 'shield'
            ? // No --sibling-secret-file: the shields do not hash keys across the WAN. With it, a region
              // cut leaves the other region's fills of the keys the cut shield owns waiting for the
              // peer hop's headers timeout (2 × --origin-timeout): the region-cut test then stalled
              // its viewer 4957 ms, over its 4 s limit.
              ['edge', '--tier', 'shield', ...cacheNode()]
            : ['balancer', ...common, '--mode', options.balancerMode ?? 'steering', '--locations', join(stateDir, 'locations.json'), ...balancerArgs];
    args.push(...(options.extraArgs?.[host.role as 'origin' | 'shield' | 'edge' | 'balancer'] ?? []));
    const running = await spawnStreamedge(args, { netns: host.namespace, startTimeoutMs: timeoutMs, outputLimit: OUTPUT_TAIL_CHARS });
    guard.watch(running.child.pid);
    const service: HostService = { id: host.name, role: host.role as HostService['role'], url, process: running, logFile: undefined, host };
    void running.exited.then((code) => {
      guard.forget(running.child.pid);
      return restartIfWanted(service, code);
    });
    await waitUntil(`${host.name} did not answer /healthz with 200`, timeoutMs, () => {
      if (running.child.exitCode !== null || running.child.signalCode !== null) throw new StopWaiting(`${host.name} exited before it was healthy:\n${running.output()}`);
      return isHealthy(url);
    });
    return service;
  };

  /** A service of the running stack that exited on its own comes back on its host, as systemd would bring it. */
  const restartIfWanted = async (service: HostService, code: number | NodeJS.Signals): Promise<void> => {
    const { restartAfterMs } = options;
    const current = (): boolean => !stopping && !held.has(service.id) && services.includes(service);
    if (restartAfterMs === undefined || !current()) return;
    progress(`${service.id} exited (${code}); restarting in ${restartAfterMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, restartAfterMs));
    if (!current()) return;
    try {
      const next = await startService(service.host);
      // stop() or killHost() may have come while it started: they act on what they saw.
      if (!current()) {
        await next.process.stop(10_000);
        return;
      }
      services[services.indexOf(service)] = next;
      progress(`${service.id} restarted (pid ${next.process.child.pid}) in ${service.host.namespace}`);
      await recordState();
    } catch (error) {
      progress(`${service.id} did not restart: ${(error as Error).message}`);
    }
  };

  try {
    progress(`making ${plan.hosts.length} hosts and 2 region routers (network namespaces ${plan.prefix}*)`);
    await makeHostNetwork(plan);
    networkMade = true;
    await writeFile(join(stateDir, 'locations.json'), JSON.stringify(hostsLocationTable(plan), null, 2));

    for (const region of plan.regions) {
      const peer = plan.regions.find((candidate) => candidate !== region)!;
      const args = [String(options.wanDelayMs ?? 40), wanPorts(plan).join(','), `${region.wanAddress}:${WAN_TRANSIT_PORT}`, `${peer.wanAddress}:${WAN_TRANSIT_PORT}`];
      const relay = spawn('ip', ['netns', 'exec', region.routerNamespace, process.execPath, RELAY_SCRIPT, ...args], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      relays.push(relay);
      guard.watch(relay.pid);
      await new Promise<void>((resolve, reject) => {
        relay.stdout!.once('data', () => resolve());
        relay.once('exit', (code) => reject(new Error(`the WAN relay in ${region.routerNamespace} exited (${code})`)));
      });
    }

    const servers = plan.hosts.filter((host) => host.role === 'consul-server');
    const clients = plan.hosts.filter((host) => host.role !== 'consul-server');
    agents = startConsulCluster({ binary: options.consulBinary, servers, clients, dataDir: join(stateDir, 'consul'), onSpawn: (pid) => guard.watch(pid) });
    await Promise.all(agents.map((agent) => agent.start()));
    const consulUrl = agents[0]!.url;
    await waitUntil('the Consul servers did not elect a leader', timeoutMs, async () => (await consulLeader(consulUrl)) !== '').catch((error: Error) => {
      throw new Error(`${error.message}\n${agents.filter((agent) => agent.server).map((agent) => `${agent.host.name}:\n${agent.output()}`).join('\n')}`);
    });
    await waitUntil('not every Consul agent joined', timeoutMs, async () => {
      const nodes = (await (await fetch(`${consulUrl}/v1/catalog/nodes`, { signal: AbortSignal.timeout(2000) })).json()) as unknown[];
      return nodes.length === plan.hosts.length;
    });
    progress(`consul: 3 servers (leader ${await consulLeader(consulUrl)}) and ${clients.length} client agents`);

    const start = async (role: HostPlan['role']): Promise<void> => {
      const hosts = plan.hosts.filter((host) => host.role === role);
      const started = await Promise.allSettled(hosts.map(startService));
      for (const result of started) if (result.status === 'fulfilled') services.push(result.value);
      const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
      for (const host of hosts) progress(`${host.name} healthy at http://${host.address} (${host.region}, namespace ${host.namespace})`);
    };
    // The encoder and Prometheus both run outside the namespaces: its /metrics is on loopback.
    const liveMetricsPort = options.live ? await freePort() : undefined;
    if (options.live) {
      live = await superviseLiveEncoder({
        args: liveChannelArgs(options.live, options.contentDir, liveMetricsPort!),
        startTimeoutMs: timeoutMs,
        outputLimit: OUTPUT_TAIL_CHARS,
        onStarted: (encoder, ffmpegPid) => {
          guard.watch(encoder.child.pid);
          guard.watch(ffmpegPid);
          void encoder.exited.then(() => [encoder.child.pid, ffmpegPid].forEach((pid) => guard.forget(pid)));
        },
        onProgress: progress,
      });
      progress(`live encoder publishing /live/${options.live.id}/master.m3u8`);
    }
    await start('origin');
    await waitForPassing(consulUrl, 'streamedge-origin', plan.hosts.filter((host) => host.role === 'origin').map((host) => host.name), timeoutMs);
    // Shields before edges, so an edge's first misses already go through its region's shield.
    await start('shield');
    await waitForPassing(consulUrl, 'streamedge-shield', plan.hosts.filter((host) => host.role === 'shield').map((host) => host.name), timeoutMs);
    await start('edge');
    await waitForPassing(consulUrl, 'streamedge-edge', plan.hosts.filter((host) => host.role === 'edge').map((host) => host.name), timeoutMs);
    const balancerHost = plan.hosts.find((host) => host.role === 'balancer')!;
    if (options.metrics) {
      prometheus = await startLocalPrometheus({
        ...options.metrics,
        consulUrl,
        balancers: [{ id: balancerHost.name, url: `http://${balancerHost.address}:${plan.ports.balancer}` }],
        liveEncoders: liveMetricsPort === undefined ? [] : [{ id: options.live!.id, url: `http://127.0.0.1:${liveMetricsPort}` }],
        listenHost: plan.regions[0]!.viewerAddress,
        startTimeoutMs: timeoutMs,
      });
      guard.watch(prometheus.pid);
      progress(`prometheus ready at ${prometheus.url}`);
    }
    balancerArgs = prometheus ? ['--prometheus', prometheus.url] : [];
    await start('balancer');
    const balancerUrl = services.find((service) => service.role === 'balancer')!.url;
    await waitUntil('the balancer did not find a healthy edge (/readyz)', timeoutMs, async () => (await fetch(`${balancerUrl}/readyz`, { signal: AbortSignal.timeout(1000) })).ok);
    const startedInMs = Date.now() - begun;
    const { stateFile } = options;
    if (stateFile) {
      // The drills' consul-down hangs the agent the balancer reads from: the one on its own host.
      const balancerAgent = agents.find((agent) => agent.host === balancerHost)!;
      recordState = () =>
        writeStackState(stateFile, {
          version: 1,
          supervisorPid: process.pid,
          restartAfterMs: options.restartAfterMs,
          consul: { url: consulUrl, pid: balancerAgent.pid() },
          balancerUrl,
          services: services.map((service) => ({ id: service.id, role: service.role, url: service.url, pid: service.process.child.pid! })),
          hosts: {
            regions: plan.regions.map((region) => ({ name: region.name, routerNamespace: region.routerNamespace, viewerAddress: region.viewerAddress })),
            services: services.map((service) => ({ id: service.id, region: service.host.region, namespace: service.host.namespace })),
          },
        });
      await recordState();
    }

    let stopping: Promise<void> | undefined;
    const hostNamed = (name: string): HostPlan => {
      const host = plan.hosts.find((candidate) => candidate.name === name);
      if (!host) throw new RangeError(`no host "${name}"`);
      return host;
    };
    return {
      plan,
      consulUrl,
      get consulAgents() {
        return agents;
      },
      balancerUrl,
      get services() {
        return services;
      },
      startedInMs,
      prometheus,
      async leader() {
        for (const agent of agents.filter((candidate) => candidate.server)) {
          const address = await consulLeader(agent.url).catch(() => '');
          if (address) return agents.find((candidate) => candidate.server && `${candidate.host.address}:${CONSUL_PORTS.server}` === address);
        }
        return undefined;
      },
      setRegionLink: (region, up) => setRegionLink(plan, region, up),
      async killHost(name) {
        const host = hostNamed(name);
        held.add(name);
        const service = services.find((candidate) => candidate.id === name);
        if (service) await service.process.kill();
        await agents.find((agent) => agent.host === host)?.stop('kill');
      },
      async startHost(name) {
        const host = hostNamed(name);
        await agents.find((agent) => agent.host === host)?.start();
        held.delete(name);
        const index = services.findIndex((candidate) => candidate.id === name);
        if (index !== -1) services[index] = await startService(host);
        await recordState();
        if (index !== -1 && host.role !== 'balancer') {
          const service = host.role === 'edge' ? 'streamedge-edge' : host.role === 'shield' ? 'streamedge-shield' : 'streamedge-origin';
          await waitUntil(`${name} did not pass in Consul again`, timeoutMs, async () => (await passingServiceIds(consulUrl, service)).includes(name));
        }
      },
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
