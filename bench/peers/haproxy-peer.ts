import { startConfiguredPeer, type ConfiguredPeer } from './peer-process.js';

export const HAPROXY_BINARY = process.env.HAPROXY_BIN || '/usr/sbin/haproxy';

/** Debian's HAProxy as a plain HTTP reverse proxy to one backend, with keep-alive both ways. */
export function haproxyConfig(port: number, backendUrl: string, threads: number): string {
  const backend = new URL(backendUrl);
  return `global
  nbthread ${threads}
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  option forwardfor
frontend viewers
  bind 127.0.0.1:${port}
  default_backend edge
backend edge
  http-reuse always
  server edge ${backend.hostname}:${backend.port}
`;
}

export function startHaproxy(backendUrl: string, threads: number): Promise<ConfiguredPeer> {
  // -W (master-worker) -db (foreground): the child is the master and stops its workers on SIGTERM.
  return startConfiguredPeer(
    'haproxy',
    HAPROXY_BINARY,
    'haproxy.cfg',
    (_dir, port) => haproxyConfig(port, backendUrl, threads),
    (_dir, config) => ['-W', '-db', '-f', config],
  );
}
