// `streamedge start --metrics`: a real Prometheus (Debian's binary) on a free loopback port, running
// the shipped scrape configuration and rules against the local system. Debian's build has no Consul
// discovery, so Consul's catalog reaches it through the http_sd bridge; storage is a temporary
// directory removed on stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startConsulTargetsServer } from '../infra/prometheus/consul-targets.js';
import { PROMETHEUS_FILES_DIR, withHttpDiscovery } from '../infra/prometheus/prometheus-config.js';
import { freePort } from '../infra/runtime/free-ports.js';

/** Where Debian's `prometheus` package puts the server. */
export const DEBIAN_PROMETHEUS = '/usr/bin/prometheus';

export class PrometheusMissingError extends Error {
  constructor(readonly binary: string) {
    super(`${binary} is not installed; install Debian's package: apt-get install --no-install-recommends prometheus`);
    this.name = 'PrometheusMissingError';
  }
}

export async function assertPrometheusInstalled(binary: string = DEBIAN_PROMETHEUS): Promise<void> {
  await access(binary, constants.X_OK).catch(() => {
    throw new PrometheusMissingError(binary);
  });
}

export interface LocalPrometheusOptions {
  readonly consulUrl: string;
  /** Balancers to scrape (they do not register in Consul). */
  readonly balancers: readonly { readonly id: string; readonly url: string }[];
  /** Live encoders to scrape (`streamedge live --metrics-port`; they do not register in Consul either). */
  readonly liveEncoders?: readonly { readonly id: string; readonly url: string }[];
  readonly binary?: string;
  /** Scrape, rule evaluation and discovery refresh interval, as Prometheus writes it (default "5s"). */
  readonly interval?: string;
  readonly startTimeoutMs?: number;
  /** Address to serve on (default 127.0.0.1); `--hosts` mode uses one its hosts can reach. */
  readonly listenHost?: string;
}

export interface LocalPrometheus {
  readonly url: string;
  readonly pid: number | undefined;
  /** From spawning the process to its /-/ready answering 200. */
  readonly readyAfterMs: number;
  /** SIGTERM (SIGKILL after 5 s), then the bridge closes and the temporary storage is removed. */
  stop(): Promise<void>;
}

function exitOf(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startLocalPrometheus(options: LocalPrometheusOptions): Promise<LocalPrometheus> {
  const binary = options.binary ?? DEBIAN_PROMETHEUS;
  await assertPrometheusInstalled(binary);
  const interval = options.interval ?? '5s';
  const dir = await mkdtemp(join(tmpdir(), 'streamedge-prometheus-'));
  const bridge = await startConsulTargetsServer({ consul: { url: options.consulUrl } }).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  let child: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (child) {
      const exited = exitOf(child);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await bridge.close();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const shipped = await readFile(join(PROMETHEUS_FILES_DIR, 'prometheus.yml'), 'utf8');
    await writeFile(
      join(dir, 'prometheus.yml'),
      withHttpDiscovery(shipped, { targetsUrl: (service) => `${bridge.url}/targets/${service}`, refreshInterval: interval, interval }),
    );
    await symlink(join(PROMETHEUS_FILES_DIR, 'rules'), join(dir, 'rules'));
    const fileTargets = (services: readonly { readonly id: string; readonly url: string }[]): string =>
      JSON.stringify(services.map((service) => ({ targets: [new URL(service.url).host], labels: { id: service.id } })));
    await writeFile(join(dir, 'streamedge-balancers.json'), fileTargets(options.balancers));
    await writeFile(join(dir, 'streamedge-live.json'), fileTargets(options.liveEncoders ?? []));

    const port = await freePort();
    const host = options.listenHost ?? '127.0.0.1';
    const url = `http://${host}:${port}`;
    const startedAt = Date.now();
    let output = '';
    const spawned = spawn(
      binary,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=${host}:${port}`, '--storage.tsdb.retention.time=1d', '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = spawned;
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-8000);
    };
    spawned.stdout!.on('data', collect);
    spawned.stderr!.on('data', collect);
    const deadline = startedAt + (options.startTimeoutMs ?? 30_000);
    for (;;) {
      if (spawned.exitCode !== null || spawned.signalCode !== null) throw new Error(`prometheus exited (${spawned.exitCode ?? spawned.signalCode}) before it was ready:\n${output}`);
      const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) }).then(
        async (response) => (await response.body?.cancel(), response.ok),
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`prometheus was not ready within ${options.startTimeoutMs ?? 30_000} ms:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { url, pid: spawned.pid, readyAfterMs: Date.now() - startedAt, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
