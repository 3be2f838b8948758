// Consul as production runs it, inside the `--hosts` namespaces: three servers forming a Raft
// cluster, and a client agent on every service host that its service registers with.
import { spawn, type ChildProcess } from 'node:child_process';
import { stopChild } from '../../infra/consul/dev-agent.js';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CONSUL_PORTS, type HostPlan } from './host-plan.js';

export interface ConsulAgentProcess {
  readonly host: HostPlan;
  readonly server: boolean;
  /** The agent's HTTP API as the machine reaches it (servers listen on their host address too). */
  readonly url: string;
  readonly pid: () => number | undefined;
  readonly output: () => string;
  /** SIGKILL (a crash, for drills) or SIGINT (a graceful leave). */
  stop(how?: 'kill' | 'leave'): Promise<void>;
  /** Starts it again with the same data directory, as after a reboot. */
  start(): Promise<void>;
}

export interface ConsulClusterOptions {
  readonly binary: string;
  readonly servers: readonly HostPlan[];
  readonly clients: readonly HostPlan[];
  readonly dataDir: string;
  readonly onSpawn?: (pid: number | undefined) => void;
}

// Raft's timing at its fastest (raft_multiplier 1): a lost leader is replaced within seconds.
const AGENT_CONFIG = 'performance { raft_multiplier = 1 }\ndisable_update_check = true';

function agentArgs(binary: string, host: HostPlan, server: boolean, join: readonly string[], dataDir: string): string[] {
  return [
    'netns', 'exec', host.namespace, binary,
    'agent', `-node=${host.name}`, `-bind=${host.address}`, `-data-dir=${dataDir}`,
    `-client=127.0.0.1${server ? ` ${host.address}` : ''}`,
    ...(server ? ['-server', `-bootstrap-expect=${join.length}`, '-ui'] : []),
    ...join.map((address) => `-retry-join=${address}:${CONSUL_PORTS.serfLan}`),
    '-retry-interval=1s', '-dns-port=-1', '-grpc-port=-1', '-log-level=warn', '-disable-host-node-id', `-hcl=${AGENT_CONFIG}`,
  ];
}

export function startConsulCluster(options: ConsulClusterOptions): ConsulAgentProcess[] {
  const serverAddresses = options.servers.map((server) => server.address);
  const agent = (host: HostPlan, server: boolean): ConsulAgentProcess => {
    let child: ChildProcess | undefined;
    let output = '';
    const dataDir = join(options.dataDir, host.name);
    const start = async (): Promise<void> => {
      await mkdir(dataDir, { recursive: true });
      child = spawn('ip', agentArgs(options.binary, host, server, serverAddresses, dataDir), { stdio: ['ignore', 'pipe', 'pipe'] });
      const collect = (chunk: Buffer): void => {
        output = (output + chunk.toString()).slice(-8000);
      };
      child.stdout!.on('data', collect);
      child.stderr!.on('data', collect);
      options.onSpawn?.(child.pid);
    };
    return {
      host,
      server,
      url: `http://${server ? host.address : '127.0.0.1'}:${CONSUL_PORTS.http}`,
      pid: () => child?.pid,
      output: () => output,
      stop: (how = 'leave') => (child ? stopChild(child, 10_000, how === 'kill' ? 'SIGKILL' : 'SIGINT') : Promise.resolve()),
      start,
    };
  };
  return [...options.servers.map((host) => agent(host, true)), ...options.clients.map((host) => agent(host, false))];
}

/** The current Raft leader's address (`ip:8300`), asked of one server; '' while there is none. */
export async function consulLeader(serverUrl: string): Promise<string> {
  const response = await fetch(`${serverUrl}/v1/status/leader`, { signal: AbortSignal.timeout(2000) });
  if (!response.ok) throw new Error(`Consul ${serverUrl} answered ${response.status} for the leader`);
  return (await response.json()) as string;
}
