import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../infra/runtime/free-ports.js';

export interface PeerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(): Promise<void>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Runs a peer server (nginx, HAProxy) in the foreground as a child and waits until its port
 * accepts connections; stop() sends SIGTERM, then SIGKILL after a grace period.
 */
export async function startPeerProcess(
  name: string,
  command: string,
  args: readonly string[],
  port: number,
  spawnOptions: Pick<SpawnOptions, 'uid' | 'gid' | 'env' | 'cwd'> = {},
): Promise<PeerProcess> {
  const child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-16_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (error) => (output += `\n${error.message}`));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} (${command}) did not start listening on port ${port}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface ConfiguredPeer extends PeerProcess {
  /** The peer's private temporary directory (config, cache, logs), removed on stop. */
  readonly dir: string;
}

/**
 * Runs `start` with a new temporary directory and a free port for one peer; the directory goes
 * away when the peer stops or fails to start.
 */
export async function startInPeerDirectory(name: string, start: (dir: string, port: number) => Promise<PeerProcess>): Promise<ConfiguredPeer> {
  const dir = await mkdtemp(join(tmpdir(), `streamedge-${name}-`));
  try {
    const peer = await start(dir, await freePort());
    return {
      ...peer,
      dir,
      stop: async () => {
        await peer.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Starts a peer from a config file written into its own temporary directory on a free port. */
export function startConfiguredPeer(
  name: string,
  command: string,
  configFile: string,
  configFor: (dir: string, port: number) => string,
  argsFor: (dir: string, configPath: string) => readonly string[],
): Promise<ConfiguredPeer> {
  return startInPeerDirectory(name, async (dir, port) => {
    const configPath = join(dir, configFile);
    await writeFile(configPath, configFor(dir, port));
    return startPeerProcess(name, command, argsFor(dir, configPath), port);
  });
}
