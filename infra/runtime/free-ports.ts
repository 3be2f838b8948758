import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

// A port the kernel picks for `listen(0)` comes from the ephemeral range, the same range every
// outgoing connection takes its local port from: between our check and the service's own bind, any
// connect() on the machine may take it (a Consul agent failed to start on exactly that). So ports
// are picked at random below the ephemeral range, where only listeners live.
const FALLBACK_EPHEMERAL_START = 32_768;
const LOWEST_PICKED = 10_000;
const MAX_TRIES = 200;

function ephemeralRangeStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST_PICKED + 1000 ? low : FALLBACK_EPHEMERAL_START;
  } catch {
    return FALLBACK_EPHEMERAL_START;
  }
}

function tryListen(server: Server, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(false);
      else reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}

/**
 * Distinct free loopback TCP ports. All listeners stay open until every port is picked, so two
 * ports of one call are never the same.
 */
export async function freePorts(count: number): Promise<number[]> {
  const end = ephemeralRangeStart();
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let tries = 0; ports.length < count; tries++) {
      if (tries >= MAX_TRIES) throw new Error(`no free loopback port found below ${end} after ${MAX_TRIES} tries`);
      const port = LOWEST_PICKED + Math.floor(Math.random() * (end - LOWEST_PICKED));
      if (ports.includes(port)) continue;
      const server = createServer();
      if (await tryListen(server, port)) {
        servers.push(server);
        ports.push(port);
      }
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}
