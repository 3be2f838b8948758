// `streamedge start` writes where its processes are, so other commands on this machine (the
// drills) can find them — pids change when the stack restarts a service, so it is rewritten then.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StackStateService {
  readonly id: string;
  readonly role: 'origin' | 'shield' | 'edge' | 'balancer';
  readonly url: string;
  readonly pid: number;
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
  return state as StackState;
}
