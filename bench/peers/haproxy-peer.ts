import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../infra/consul/dev-agent.js';
import { startPeerProcess, type PeerProcess } from './peer-process.js';

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

export async function startHaproxy(backendUrl: string, threads: number): Promise<PeerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'streamedge-haproxy-'));
  const port = await freePort();
  const config = join(dir, 'haproxy.cfg');
  await writeFile(config, haproxyConfig(port, backendUrl, threads));
  try {
    // -W (master-worker) -db (foreground): the child is the master and stops its workers on SIGTERM.
    const peer = await startPeerProcess('haproxy', HAPROXY_BINARY, ['-W', '-db', '-f', config], port);
    return {
      ...peer,
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
