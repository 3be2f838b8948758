import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { CachePeerOptions } from './cache-peer-options.js';
import type { ConfiguredPeer } from './peer-process.js';
import { startUnprivilegedPeer, type PeerBinary } from './unprivileged-peer.js';

export const TRAFFIC_SERVER: PeerBinary = {
  path: process.env.TRAFFIC_SERVER_BIN || '/usr/bin/traffic_server',
  debianPackage: 'trafficserver',
  overrideVariable: 'TRAFFIC_SERVER_BIN',
};
/** The package's own configuration, copied as the base (body factory, ip_allow, …) and then overridden. */
const PACKAGE_CONFIG_DIR = process.env.TRAFFIC_SERVER_CONFIG_DIR || '/etc/trafficserver';
const MB = 1024 * 1024;

/**
 * An honest caching reverse proxy: remap to the origin, HTTP cache on with Traffic Server's default
 * freshness rules (it honours the origin's Cache-Control), a RAM cache of the cache size over a disk
 * cache, and the settings ATS documents against the thundering herd (read-while-writer with open-read
 * retries). Threads = the edge's workers; no access log (the nginx peer has none either).
 */
export function trafficServerRecords(port: number, options: CachePeerOptions): string {
  const settings: [string, 'INT' | 'STRING' | 'FLOAT', string | number][] = [
    ['proxy.config.http.server_ports', 'STRING', `${port}:ip-in=127.0.0.1`],
    ['proxy.config.admin.user_id', 'STRING', '#-1'],
    ['proxy.config.reverse_proxy.enabled', 'INT', 1],
    ['proxy.config.url_remap.remap_required', 'INT', 1],
    ['proxy.config.url_remap.pristine_host_hdr', 'INT', 0],
    ['proxy.config.http.cache.http', 'INT', 1],
    ['proxy.config.exec_thread.autoconfig', 'INT', 0],
    ['proxy.config.exec_thread.limit', 'INT', options.workers],
    ['proxy.config.cache.ram_cache.size', 'INT', options.cacheBytes],
    ['proxy.config.cache.enable_read_while_writer', 'INT', 1],
    ['proxy.config.http.cache.max_open_read_retries', 'INT', 5],
    ['proxy.config.http.cache.open_read_retry_time', 'INT', 10],
    ['proxy.config.http.background_fill_active_timeout', 'INT', 0],
    ['proxy.config.http.background_fill_completed_threshold', 'FLOAT', '0.000000'],
    ['proxy.config.http.keep_alive_no_activity_timeout_in', 'INT', 120],
    ['proxy.config.log.logging_enabled', 'INT', 0],
  ];
  return `${settings.map(([name, type, value]) => `CONFIG ${name} ${type} ${value}`).join('\n')}\n`;
}

/** Every request on the peer's port goes to the origin. */
export function trafficServerRemap(port: number, originUrl: string): string {
  const origin = new URL(originUrl);
  if (origin.protocol !== 'http:' || !origin.port) throw new TypeError(`trafficServerRemap: origin must be http://host:port, got ${originUrl}`);
  return `map http://127.0.0.1:${port}/ http://${origin.hostname}:${origin.port}/\n`;
}

/** A runroot (ATS's sandbox layout): configuration, cache, logs and runtime files all under `dir`. */
export function trafficServerRunroot(dir: string): string {
  const paths: Record<string, string> = {
    prefix: dir,
    exec_prefix: '/usr',
    bindir: '/usr/bin',
    sbindir: '/usr/sbin',
    sysconfdir: join(dir, 'etc'),
    datadir: join(dir, 'share'),
    includedir: '/usr/include',
    libdir: '/usr/lib/trafficserver',
    libexecdir: '/usr/lib/trafficserver/modules',
    localstatedir: join(dir, 'var'),
    runtimedir: join(dir, 'run'),
    logdir: join(dir, 'log'),
    cachedir: join(dir, 'cache'),
  };
  return `${Object.entries(paths).map(([key, value]) => `${key}: ${value}`).join('\n')}\n`;
}

async function packageConfig(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[relative(dir, path)] = await readFile(path, 'utf8');
  }
  return files;
}

export function trafficServerFiles(dir: string, port: number, options: CachePeerOptions, base: Readonly<Record<string, string>>): Record<string, string> {
  const etc = (name: string): string => join('etc', name);
  return {
    ...Object.fromEntries(Object.entries(base).map(([name, text]) => [etc(name), text])),
    [etc('records.config')]: trafficServerRecords(port, options),
    [etc('remap.config')]: trafficServerRemap(port, options.originUrl),
    [etc('storage.config')]: `${join(dir, 'cache')} ${Math.ceil(options.cacheBytes / MB)}M\n`,
    'runroot.yaml': trafficServerRunroot(dir),
  };
}

export function startTrafficServer(options: CachePeerOptions): Promise<ConfiguredPeer> {
  return startUnprivilegedPeer({
    name: 'trafficserver',
    binary: TRAFFIC_SERVER,
    directories: ['cache', 'log', 'run', 'var'],
    files: async (dir, port) => trafficServerFiles(dir, port, options, await packageConfig(PACKAGE_CONFIG_DIR)),
    args: (dir) => [`--run-root=${join(dir, 'runroot.yaml')}`],
  });
}
