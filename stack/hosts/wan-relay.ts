// The WAN between the regions of `--hosts` mode, in user space (tc netem does not exist on these
// kernels). Each region's router runs one relay. A connection to the other region ends at it (the
// router holds those addresses as its own, see host-network.ts), so the connection's own local
// address is where the client meant to go. The relay passes it, delayed, to the other router's
// relay over the WAN link, naming the destination and the client in one header line; that relay
// dials the destination from the client's own address (which is local there too), so servers see
// — and the balancer places — the real viewer.
// Every chunk, each way, and the handshake arrive `delayMs` late: a round trip costs twice that.
import { createServer, connect, isIPv4, type Server, type Socket } from 'node:net';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface WanRelayOptions {
  /** Ports whose connections to the other region are carried (they listen on every address). */
  readonly ports: readonly number[];
  /** One-way delay added to each direction. */
  readonly delayMs: number;
  /** Where this relay takes connections from the other relay. */
  readonly transit: Endpoint;
  /** The other region's relay. */
  readonly peer: Endpoint;
  /** Where a connection goes; by default where the client sent it (its local address and port). */
  readonly destination?: (socket: Socket) => Endpoint;
  /** Dial from the client's address (true in a router, where it is local); false in tests on loopback. */
  readonly keepClientAddress?: boolean;
  readonly maxConnections?: number;
  readonly connectTimeoutMs?: number;
  /** Bytes waiting out the delay in one direction before the sender is paused. */
  readonly maxQueuedBytes?: number;
}

export interface WanRelay {
  readonly openConnections: () => number;
  close(): Promise<void>;
}

const DEFAULTS = { maxConnections: 4096, connectTimeoutMs: 5000, maxQueuedBytes: 4 * 1024 * 1024 };
const MAX_HEADER_BYTES = 64;

function checkEndpoint(name: string, endpoint: Endpoint): void {
  if (!isIPv4(endpoint.host) || !Number.isInteger(endpoint.port) || endpoint.port < 1 || endpoint.port > 65535) {
    throw new RangeError(`${name} must be an IPv4 address and TCP port, got ${endpoint.host}:${endpoint.port}`);
  }
}

/** Copies `from` to `to`, each chunk and the end `delayMs` late, pausing `from` while too much waits. */
function delayedPipe(from: Socket, to: Socket, delayMs: number, maxQueuedBytes: number): void {
  let queued = 0;
  from.on('data', (chunk: Buffer) => {
    queued += chunk.length;
    if (queued > maxQueuedBytes) from.pause();
    setTimeout(() => {
      queued -= chunk.length;
      if (!to.destroyed) to.write(chunk);
      if (queued <= maxQueuedBytes && from.isPaused()) from.resume();
    }, delayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
}

/** Joins two sockets: each end is carried `delayMs` late; a reset on one side resets the other. */
function join(a: Socket, b: Socket, delayMs: number, maxQueuedBytes: number): void {
  const reset = (): void => {
    setTimeout(() => {
      a.destroy();
      b.destroy();
    }, delayMs);
  };
  a.on('error', reset);
  b.on('error', reset);
  delayedPipe(a, b, delayMs, maxQueuedBytes);
  delayedPipe(b, a, delayMs, maxQueuedBytes);
}

interface RelayHeader {
  readonly destination: Endpoint;
  readonly client: string;
  readonly rest: Buffer;
}

/** Reads the `<destination ip> <port> <client ip>` line a relay sends first; undefined when it is not one. */
function readHeader(socket: Socket, timeoutMs: number): Promise<RelayHeader | undefined> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const done = (result: RelayHeader | undefined): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      resolve(result);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const newline = received.indexOf(0x0a);
      if (newline === -1) {
        if (received.length > MAX_HEADER_BYTES) done(undefined);
        return;
      }
      const [host = '', port, client = ''] = received.subarray(0, newline).toString('latin1').split(' ');
      const destination = { host, port: Number(port) };
      const valid = isIPv4(host) && isIPv4(client) && Number.isInteger(destination.port) && destination.port > 0 && destination.port < 65536;
      done(valid ? { destination, client, rest: received.subarray(newline + 1) } : undefined);
    };
    socket.on('data', onData);
  });
}

async function listen(server: Server, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}

export async function startWanRelay(options: WanRelayOptions): Promise<WanRelay> {
  if (options.ports.length === 0 || options.ports.some((port) => !Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new RangeError(`ports must be TCP ports, got ${options.ports.join(',')}`);
  }
  if (!Number.isInteger(options.delayMs) || options.delayMs < 0 || options.delayMs > 10_000) throw new RangeError(`delayMs must be 0…10000, got ${options.delayMs}`);
  checkEndpoint('transit', options.transit);
  checkEndpoint('peer', options.peer);
  const settings = { ...DEFAULTS, ...options };
  const destinationOf = options.destination ?? ((socket: Socket) => ({ host: socket.localAddress!, port: socket.localPort! }));
  const open = new Set<Socket>();
  const admit = (socket: Socket): boolean => {
    if (open.size >= settings.maxConnections) {
      socket.destroy();
      return false;
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => {});
    return true;
  };
  const dial = (endpoint: Endpoint, localAddress: string | undefined, then: (socket: Socket) => void, fail: () => void): void => {
    const socket = connect({ ...endpoint, ...(localAddress ? { localAddress } : {}), allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => socket.destroy(), settings.connectTimeoutMs);
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      then(socket);
    });
  };

  // A client on this side: carried to the other relay, the handshake a WAN delay late.
  const intercept = (client: Socket): void => {
    if (!admit(client)) return;
    client.pause();
    const { host, port } = destinationOf(client);
    dial(
      options.peer,
      undefined,
      (wan) => {
        wan.write(`${host} ${port} ${client.remoteAddress?.replace(/^::ffff:/, '')}\n`);
        // Joined now, so nothing the far side does is missed; the client (paused) waits out the handshake.
        join(client, wan, settings.delayMs, settings.maxQueuedBytes);
        setTimeout(() => client.resume(), settings.delayMs);
      },
      () => setTimeout(() => client.destroy(), settings.delayMs),
    );
  };

  // The other relay's connection: dial where it says, no further delay.
  const arrive = (wan: Socket): void => {
    if (!admit(wan)) return;
    void readHeader(wan, settings.connectTimeoutMs).then((header) => {
      if (!header) {
        wan.destroy();
        return;
      }
      dial(
        header.destination,
        options.keepClientAddress === false ? undefined : header.client,
        (target) => {
          if (header.rest.length > 0) target.write(header.rest);
          join(wan, target, 0, settings.maxQueuedBytes);
          wan.resume();
        },
        () => wan.destroy(),
      );
    });
  };

  const servers: Server[] = [];
  try {
    for (const port of options.ports) {
      const server = createServer({ allowHalfOpen: true, noDelay: true }, intercept);
      servers.push(server);
      await listen(server, port, '0.0.0.0');
    }
    const transit = createServer({ allowHalfOpen: true, noDelay: true }, arrive);
    servers.push(transit);
    await listen(transit, options.transit.port, options.transit.host);
  } catch (error) {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    throw error;
  }
  return {
    openConnections: () => open.size,
    close: async () => {
      for (const socket of open) socket.destroy();
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    },
  };
}
