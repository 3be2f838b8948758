// The running system a drill works on: the balancer viewers start from, the Consul agent that
// lists origins and edges, and — only when the stack runs on this machine and recorded itself in
// a state file — the pids that signal faults need. A deployment elsewhere is reached by URL alone.
import { isProcessAlive } from '../../infra/runtime/process-alive.js';
import { readStackState, type StackStateHosts } from '../stack-state-file.js';

export interface TargetService {
  readonly id: string;
  readonly role: 'origin' | 'edge' | 'shield';
  readonly url: string;
}

export interface DrillTarget {
  readonly balancerUrl: string;
  readonly consulUrl: string;
  /** Consul ACL token (X-Consul-Token) for catalog reads and the relay's registration. */
  readonly consulToken: string | undefined;
  /** The state file this target came from; undefined for a deployment reached by URL. */
  readonly stateFile: string | undefined;
  /** A stack of `streamedge start --hosts`: its regions and where each service runs; else undefined. */
  readonly hosts: StackStateHosts | undefined;
  /** Origins, edges or shields Consul lists now (any health), with the URL each serves on. */
  services(role: TargetService['role']): Promise<TargetService[]>;
  /** Current pid of a stack process ('consul' or a service id); rereads the state file. */
  pidOf(id: string): Promise<number | undefined>;
  /** Consul's HTTP API, with the token. */
  consul(path: string, init?: RequestInit): Promise<Response>;
}

const SERVICE_NAMES = { origin: 'streamedge-origin', edge: 'streamedge-edge', shield: 'streamedge-shield' } as const;

interface CatalogEntry {
  readonly ServiceID?: string;
  readonly ServiceAddress?: string;
  readonly Address?: string;
  readonly ServicePort?: number;
  readonly ServiceMeta?: Record<string, string>;
}

export interface TargetOptions {
  readonly balancerUrl: string;
  readonly consulUrl: string;
  readonly consulToken?: string;
  readonly stateFile?: string;
  readonly hosts?: StackStateHosts;
}

function checkedUrl(name: string, value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw new TypeError(`drill target: ${name} must be an http(s) URL, got "${value}"`);
  return value.replace(/\/+$/, '');
}

export function createDrillTarget(options: TargetOptions): DrillTarget {
  const balancerUrl = checkedUrl('balancer', options.balancerUrl);
  const consulUrl = checkedUrl('consul', options.consulUrl);
  const consul = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${consulUrl}${path}`, {
      ...init,
      headers: { ...(options.consulToken ? { 'X-Consul-Token': options.consulToken } : {}), ...(init.headers as Record<string, string> | undefined) },
      signal: init.signal ?? AbortSignal.timeout(3000),
    });
  return {
    balancerUrl,
    consulUrl,
    consulToken: options.consulToken,
    stateFile: options.stateFile,
    hosts: options.hosts,
    consul,
    async services(role) {
      const response = await consul(`/v1/catalog/service/${SERVICE_NAMES[role]}`);
      if (!response.ok) throw new Error(`Consul answered ${response.status} for the ${role} catalog`);
      const entries = (await response.json()) as CatalogEntry[];
      return entries.flatMap((entry) => {
        if (!entry.ServiceID) return [];
        const advertised = entry.ServiceMeta?.url;
        const url = advertised && URL.canParse(advertised) ? new URL(advertised).origin : `http://${entry.ServiceAddress || entry.Address}:${entry.ServicePort}`;
        return [{ id: entry.ServiceID, role, url }];
      });
    },
    async pidOf(id) {
      if (options.stateFile === undefined) return undefined;
      const state = await readStackState(options.stateFile);
      if (id === 'consul') return state.consul.pid;
      return state.services.find((service) => service.id === id)?.pid;
    },
  };
}

/** A target from `streamedge start`'s state file: its balancer, its Consul, its pids. */
export async function drillTargetFromStateFile(stateFile: string, consulToken?: string): Promise<DrillTarget> {
  const state = await readStackState(stateFile);
  // A runner killed outright cannot remove its file; its pids may belong to anyone by now.
  if (!isProcessAlive(state.supervisorPid)) throw new Error(`stack state ${stateFile} is stale: the stack that wrote it (pid ${state.supervisorPid}) is gone`);
  if (state.balancerUrl === undefined) throw new Error(`stack state ${stateFile}: the stack runs no balancer`);
  // Viewers, probes and fault relays speak plain http; the run's private CA is trusted nowhere here.
  if (new URL(state.balancerUrl).protocol === 'https:') throw new Error(`stack state ${stateFile}: the stack runs on HTTPS (start --tls); drills need a stack started without --tls`);
  return createDrillTarget({
    balancerUrl: state.balancerUrl,
    consulUrl: state.consul.url,
    stateFile,
    ...(state.hosts ? { hosts: state.hosts } : {}),
    ...(consulToken ? { consulToken } : {}),
  });
}
