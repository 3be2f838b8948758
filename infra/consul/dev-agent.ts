import { spawn, type ChildProcess } from 'node:child_process';
import { freePorts } from '../runtime/free-ports.js';
import { obtainConsulBinary } from './consul-binary.js';

export interface DevAgentPorts {
  readonly http: number;
  readonly serfLan: number;
  readonly serfWan: number;
  readonly server: number;
}

export interface DevAgent {
  /** Base URL of the agent's HTTP API, e.g. http://127.0.0.1:8500 */
  readonly url: string;
  readonly ports: DevAgentPorts;
  /** Process id of the running agent (changes on restart), e.g. for an orphan guard. */
  readonly pid: number | undefined;
  /** Stops the agent (SIGINT, then SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** Starts a fresh agent on the same ports: registrations are lost, as after a real restart. */
  restart(): Promise<void>;
}

export interface DevAgentOptions {
  readonly binary?: string;
  /** Fixed HTTP port (e.g. 8500 for the local demo); free ports are picked otherwise. */
  readonly httpPort?: number;
  readonly startTimeoutMs?: number;
  /** Turns ACLs on, denying by default, with this bootstrap (management) token; the agent uses it too. */
  readonly aclManagementToken?: string;
}

async function waitForLeader(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`consul agent exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`${url}/v1/status/leader`, { signal: AbortSignal.timeout(1000) });
      const leader = (await response.json()) as string;
      if (response.ok && leader) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`consul agent did not elect a leader within ${timeoutMs} ms:\n${output()}`);
}

/** Stops a Consul agent: SIGINT makes it leave the cluster gracefully, SIGKILL follows after `graceMs`. */
export function stopChild(child: ChildProcess, graceMs = 5000, signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** HCL that turns ACLs on with default deny, as a production cluster has them. */
function aclConfig(managementToken: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(managementToken)) throw new TypeError('aclManagementToken: letters, digits and dashes only');
  return `acl {\n enabled = true\n default_policy = "deny"\n enable_token_persistence = false\n tokens {\n  initial_management = "${managementToken}"\n  agent = "${managementToken}"\n }\n}`;
}

/** Runs a real `consul agent -dev` on loopback, on free ports, and waits until it has a leader. */
export async function startDevAgent(options: DevAgentOptions = {}): Promise<DevAgent> {
  const binary = options.binary ?? (await obtainConsulBinary((line) => console.error(line)));
  const [http, serfLan, serfWan, server] = await freePorts(4);
  const ports: DevAgentPorts = { http: options.httpPort ?? http!, serfLan: serfLan!, serfWan: serfWan!, server: server! };
  const url = `http://127.0.0.1:${ports.http}`;
  let child: ChildProcess;

  const launch = async (): Promise<void> => {
    let output = '';
    child = spawn(
      binary,
      [
        'agent', '-dev', '-bind=127.0.0.1', '-client=127.0.0.1', `-node=streamedge-dev-${ports.http}`,
        `-http-port=${ports.http}`, '-dns-port=-1', '-grpc-port=-1', '-grpc-tls-port=-1',
        `-serf-lan-port=${ports.serfLan}`, `-serf-wan-port=${ports.serfWan}`, `-server-port=${ports.server}`,
        '-log-level=warn', '-disable-host-node-id',
        ...(options.aclManagementToken !== undefined ? [`-hcl=${aclConfig(options.aclManagementToken)}`] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-8000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    await waitForLeader(url, child, () => output, options.startTimeoutMs ?? 30_000).catch(async (error) => {
      await stopChild(child);
      throw error;
    });
  };

  await launch();
  return {
    url,
    ports,
    get pid() {
      return child.pid;
    },
    stop: () => stopChild(child),
    restart: async () => {
      await stopChild(child);
      await launch();
    },
  };
}
