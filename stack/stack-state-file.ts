// `streamedge start` writes where its processes are, so other commands on this machine (the
// drills) can find them — pids change when the stack restarts a service, so it is rewritten then.
// `--hosts` adds where each service runs (region, namespace), which older readers ignore.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StackStateService {
  readonly id: string;
  readonly role: 'origin' | 'shield' | 'edge' | 'balancer';
  readonly url: string;
  readonly pid: number;
}

/** A region of `streamedge start --hosts`: its router (whose bridge a region cut takes down) and viewers' address. */
export interface StackStateRegion {
  readonly name: string;
  readonly routerNamespace: string;
  /** The machine's own address in this region: a connection from it is a viewer of the region. */
  readonly viewerAddress: string;
}

/** Where a service of a hosts stack runs. */
export interface StackStateHost {
  readonly id: string;
  readonly region: string;
  readonly namespace: string;
}

export interface StackStateHosts {
  readonly regions: readonly StackStateRegion[];
  readonly services: readonly StackStateHost[];
}

export interface StackState {
  readonly version: 1;
  /** The process running the stack (it restarts services that exit). */
  readonly supervisorPid: number;
  /** Milliseconds after which the stack restarts a service that exited; undefined: never. */
  readonly restartAfterMs: number | undefined;
  readonly consul: { readonly url: string; readonly pid: number | undefined };
  readonly balancerUrl: string | undefined;
  readonly services: readonly StackStateService[];
  /** Only for `streamedge start --hosts`: regions and where each service runs. */
  readonly hosts?: StackStateHosts;
}

/** Where `streamedge start --base-port N` records its stack. */
export function defaultStackStateFile(basePort: number): string {
  return join(tmpdir(), `streamedge-stack-${basePort}.json`);
}

/** Written whole under a temporary name and renamed, so a reader never sees half a file. */
export async function writeStackState(file: string, state: StackState): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temporary, file);
}

export async function removeStackState(file: string): Promise<void> {
  await rm(file, { force: true });
}

const ROLES = new Set(['origin', 'shield', 'edge', 'balancer']);

function isPid(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) > 0;
}

const NAME = /^[a-z0-9-]{1,40}$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

function checkHosts(hosts: unknown, services: readonly StackStateService[], bad: (what: string) => Error): void {
  const block = hosts as Partial<StackStateHosts> | null;
  if (typeof block !== 'object' || block === null || !Array.isArray(block.regions) || !Array.isArray(block.services)) throw bad('hosts needs regions and services lists');
  for (const region of block.regions as StackStateRegion[]) {
    if (!NAME.test(String(region?.name)) || !NAME.test(String(region?.routerNamespace)) || !IPV4.test(String(region?.viewerAddress))) {
      throw bad(`hosts region ${JSON.stringify(region).slice(0, 120)} is malformed`);
    }
  }
  const regions = new Set(block.regions.map((region) => region.name));
  const ids = new Set(services.map((service) => service.id));
  for (const host of block.services as StackStateHost[]) {
    if (!ids.has(String(host?.id)) || !regions.has(String(host?.region)) || !NAME.test(String(host?.namespace))) {
      throw bad(`hosts service ${JSON.stringify(host).slice(0, 120)} is malformed (its id must be a service, its region one of the regions)`);
    }
  }
}

/** Reads and checks a state file; every malformed field is named. */
export async function readStackState(file: string): Promise<StackState> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `no stack state at ${file} (is \`streamedge start\` running?)` : `unreadable stack state ${file}: ${(error as Error).message}`);
  }
  const state = parsed as Partial<StackState>;
  const bad = (what: string): Error => new Error(`stack state ${file}: ${what}`);
  if (typeof state !== 'object' || state === null || state.version !== 1) throw bad('not a version 1 state file');
  if (!isPid(state.supervisorPid)) throw bad('supervisorPid is not a pid');
  if (typeof state.consul?.url !== 'string' || !URL.canParse(state.consul.url)) throw bad('consul.url is not a URL');
  if (state.consul.pid !== undefined && !isPid(state.consul.pid)) throw bad('consul.pid is not a pid');
  if (!Array.isArray(state.services)) throw bad('services is not a list');
  for (const service of state.services as StackStateService[]) {
    if (typeof service?.id !== 'string' || !ROLES.has(service.role) || !URL.canParse(service.url) || !isPid(service.pid)) {
      throw bad(`service entry ${JSON.stringify(service).slice(0, 120)} is malformed`);
    }
  }
  if (state.balancerUrl !== undefined && !URL.canParse(state.balancerUrl)) throw bad('balancerUrl is not a URL');
  if (state.hosts !== undefined) checkHosts(state.hosts, state.services, bad);
  return state as StackState;
}
