import { join } from 'node:path';
import type { CachePeerOptions } from './cache-peer-options.js';
import type { ConfiguredPeer } from './peer-process.js';
import { startUnprivilegedPeer, type PeerBinary } from './unprivileged-peer.js';

export const VARNISHD: PeerBinary = {
  path: process.env.VARNISHD_BIN || '/usr/sbin/varnishd',
  debianPackage: 'varnish',
  overrideVariable: 'VARNISHD_BIN',
};

/**
 * An honest caching reverse proxy: Varnish's built-in VCL decides what is cacheable and for how
 * long from the origin's Cache-Control (this VCL overrides only the cache key, which drops the
 * query string like the nginx peer's `$uri` key, and adds a Cache-Status header). Varnish
 * coalesces concurrent misses on one object by default, its answer to the thundering herd.
 */
export function varnishVcl(originUrl: string): string {
  const origin = new URL(originUrl);
  if (origin.protocol !== 'http:' || !origin.port) throw new TypeError(`varnishVcl: origin must be http://host:port, got ${originUrl}`);
  return `vcl 4.1;

backend origin {
  .host = "${origin.hostname}";
  .port = "${origin.port}";
  .connect_timeout = 5s;
  .first_byte_timeout = 30s;
  .between_bytes_timeout = 30s;
}

sub vcl_hash {
  hash_data(regsub(req.url, "\\?.*$", ""));
  return (lookup);
}

sub vcl_deliver {
  if (obj.hits > 0) {
    set resp.http.Cache-Status = "varnish; hit";
  } else {
    set resp.http.Cache-Status = "varnish; fwd=miss";
  }
}
`;
}

/** varnishd in the foreground with a malloc store of the cache size, one thread pool per worker and no management port. */
export function varnishArgs(dir: string, port: number, options: CachePeerOptions): string[] {
  return [
    '-F',
    '-n', join(dir, 'work'),
    '-a', `127.0.0.1:${port}`,
    '-f', join(dir, 'default.vcl'),
    '-s', `malloc,${Math.max(1, Math.floor(options.cacheBytes / 1048576))}M`,
    '-T', 'none',
    '-p', `thread_pools=${options.workers}`,
  ];
}

export function startVarnish(options: CachePeerOptions): Promise<ConfiguredPeer> {
  return startUnprivilegedPeer({
    name: 'varnish',
    binary: VARNISHD,
    files: () => ({ 'default.vcl': varnishVcl(options.originUrl) }),
    args: (dir, port) => varnishArgs(dir, port, options),
  });
}
