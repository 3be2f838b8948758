import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { startConfiguredPeer, type ConfiguredPeer } from './peer-process.js';

export const NGINX_BINARY = process.env.NGINX_BIN || '/usr/sbin/nginx';

export interface NginxCacheOptions {
  /** The origin nginx caches in front of, e.g. http://127.0.0.1:8091 */
  readonly originUrl: string;
  readonly cacheBytes: number;
  readonly workers?: number;
  /** Keep the query string in the cache key (LL-HLS blocking reloads differ only by it). */
  readonly cacheKeyWithQuery?: boolean;
  /** Serve HTTPS with this certificate and key (HTTP/1.1 and h2 by ALPN, like the edge). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

/**
 * The peer an operator would reach for: Debian's nginx with proxy_cache (and proxy_cache_lock, its
 * answer to the thundering herd) in front of the same origin process, tuned as a production config
 * would be (sendfile, upstream keep-alive, no access log, cache key without the query string unless
 * asked for).
 */
export function nginxCacheConfig(prefix: string, port: number, options: NginxCacheOptions): string {
  const origin = new URL(options.originUrl);
  // TLS as an operator would tune it: a shared session cache, TLS 1.2 and 1.3.
  const tls = options.tls
    ? `
    ssl_certificate ${options.tls.certFile};
    ssl_certificate_key ${options.tls.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 1h;`
    : '';
  return `worker_processes ${options.workers ?? availableParallelism()};
user root;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 100000;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy_temp;
  fastcgi_temp_path ${prefix}/fastcgi_temp;
  uwsgi_temp_path ${prefix}/uwsgi_temp;
  scgi_temp_path ${prefix}/scgi_temp;
  proxy_cache_path ${prefix}/cache levels=1:2 keys_zone=hls:32m max_size=${Math.floor(options.cacheBytes / 1048576)}m inactive=1h use_temp_path=off;
  upstream origin {
    server ${origin.host};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port}${options.tls ? ' ssl http2' : ''} reuseport backlog=4096;${tls}
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache hls;
      proxy_cache_key $uri${options.cacheKeyWithQuery ? '$is_args$args' : ''};
      proxy_cache_lock on;
      proxy_cache_lock_timeout 30s;
      proxy_cache_lock_age 30s;
      proxy_cache_revalidate on;
      proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
      add_header Cache-Status "nginx; $upstream_cache_status";
    }
  }
}
`;
}

/** Starts nginx in the foreground (`daemon off`, master process on) with its own temp prefix. */
export async function startNginxCache(options: NginxCacheOptions): Promise<ConfiguredPeer> {
  const peer = await startConfiguredPeer(
    'nginx',
    NGINX_BINARY,
    'nginx.conf',
    (prefix, port) => nginxCacheConfig(prefix, port, options),
    (prefix, config) => ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', config, '-g', 'daemon off; master_process on;'],
  );
  return options.tls ? { ...peer, url: peer.url.replace(/^http:/, 'https:') } : peer;
}
