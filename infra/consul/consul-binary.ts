import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

// Consul 1.17 and later (and 1.16.4+) are released under the Business Source License, which is not
// open source; 1.16.3 is the newest release the Go module proxy serves whose LICENSE is MPL-2.0.
export const CONSUL_VERSION = '1.16.3';
export const CONSUL_LICENSE = 'Mozilla Public License, version 2.0';

export type ProgressReporter = (line: string) => void;

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findOnPath(command: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && (await isExecutable(join(dir, command)))) return join(dir, command);
  }
  return undefined;
}

export function consulCacheDir(): string {
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cacheHome, 'streamedge', `consul-${CONSUL_VERSION}`);
}

function run(command: string, args: readonly string[], cwd: string, progress: ProgressReporter): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) progress(`  ${line.trim()}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (error) => reject(new Error(`could not run ${command}: ${error.message}`)));
    child.once('exit', (code) => {
      if (code === 0) resolve(tail.trim());
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${tail}`));
    });
  });
}

/** Refuses to build a module whose LICENSE is not the pinned open-source one. */
async function requireOpenSourceLicence(moduleDir: string): Promise<void> {
  const licence = await readFile(join(moduleDir, 'LICENSE'), 'utf8').catch(() => '');
  if (!licence.includes(CONSUL_LICENSE)) {
    throw new Error(`Consul ${CONSUL_VERSION} in ${moduleDir} is not under the ${CONSUL_LICENSE}; refusing to build it`);
  }
}

/** Builds the pinned Consul with Go through the module proxy; a wrapper module is needed
 * because Consul's own go.mod has replace directives, which `go install pkg@version` rejects. */
async function buildWithGo(target: string, progress: ProgressReporter): Promise<void> {
  const go = await findOnPath('go');
  if (!go) {
    throw new Error(
      `no Consul agent found: set CONSUL_BIN, put "consul" on PATH, or install Go so streamedge can build Consul ${CONSUL_VERSION}`,
    );
  }
  await mkdir(consulCacheDir(), { recursive: true });
  const workDir = await mkdtemp(join(consulCacheDir(), 'build-'));
  try {
    await writeFile(join(workDir, 'go.mod'), 'module streamedge.local/consul-build\n\ngo 1.22\n');
    progress(`building Consul ${CONSUL_VERSION} with ${go} (once; a few minutes)…`);
    await run(go, ['get', `github.com/hashicorp/consul@v${CONSUL_VERSION}`], workDir, progress);
    const listed = await run(go, ['list', '-m', '-f', '{{.Dir}}', 'github.com/hashicorp/consul'], workDir, () => {});
    await requireOpenSourceLicence(listed.split('\n').at(-1) ?? '');
    const partial = join(workDir, 'consul');
    await run(go, ['build', '-trimpath', '-ldflags=-s -w', '-o', partial, 'github.com/hashicorp/consul'], workDir, progress);
    await rename(partial, target);
    progress(`Consul ${CONSUL_VERSION} built: ${target}`);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * Finds a Consul agent binary: $CONSUL_BIN, then `consul` on PATH, then the cached build, else
 * builds one into the user's cache directory (outside the repository).
 */
export async function obtainConsulBinary(progress: ProgressReporter = () => {}): Promise<string> {
  const fromEnv = process.env.CONSUL_BIN;
  if (fromEnv) {
    if (await isExecutable(fromEnv)) return fromEnv;
    throw new Error(`CONSUL_BIN is set to "${fromEnv}", which is not an executable file`);
  }
  const onPath = await findOnPath('consul');
  if (onPath) return onPath;
  const cached = join(consulCacheDir(), 'consul');
  if (await isExecutable(cached)) return cached;
  await buildWithGo(cached, progress);
  return cached;
}
