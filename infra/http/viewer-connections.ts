// Bounds on viewers' connections, shared by the edge and the balancer: node:http's header,
// request and keep-alive timeouts, a write timeout (a viewer that stops reading is cut, so its
// socket and the response's buffers are released), and caps on open connections per process and
// per client address. A refused connection gets a canned 503 with Retry-After at accept, before
// any request parsing.
import type { ServerOptions } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { OptionError } from '../runtime/command-options.js';

export interface ViewerConnectionLimits {
  /** A request head must arrive in full within this long (node:http `headersTimeout`). */
  readonly headersTimeoutMs: number;
  /** A whole request (head and body) must arrive within this long (node:http `requestTimeout`). */
  readonly requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** A response that makes no progress (the viewer stopped reading) for this long is cut. */
  readonly writeTimeoutMs: number;
  /** Open viewer connections per process; beyond it, new ones are refused. */
  readonly maxConnections: number;
  /** Open viewer connections per client address per process; beyond it, new ones are refused. */
  readonly maxConnectionsPerIp: number;
}

export const DEFAULT_VIEWER_LIMITS: ViewerConnectionLimits = {
  headersTimeoutMs: 15_000,
  requestTimeoutMs: 30_000,
  // Above common load balancers' 60 s, so they close first.
  keepAliveTimeoutMs: 65_000,
  writeTimeoutMs: 30_000,
  maxConnections: 20_000,
  // Households and carrier NAT put many players behind one address; each opens a few connections.
  maxConnectionsPerIp: 500,
};

/** Why a connection was refused at accept (a metric label). */
export type ConnectionRejectReason = 'max-connections' | 'max-connections-per-ip';

/** Fills in the defaults and validates each limit, naming the bad one (`TypeError`). */
export function viewerLimits(given: Partial<ViewerConnectionLimits> = {}, owner = 'viewer connections'): ViewerConnectionLimits {
  const limits = { ...DEFAULT_VIEWER_LIMITS, ...stripUndefined(given) };
  for (const name of ['headersTimeoutMs', 'requestTimeoutMs', 'keepAliveTimeoutMs', 'writeTimeoutMs'] as const) {
    const value = limits[name];
    if (!Number.isInteger(value) || value < 50) throw new TypeError(`${owner}: ${name} must be an integer ≥ 50, got ${value}`);
  }
  for (const name of ['maxConnections', 'maxConnectionsPerIp'] as const) {
    const value = limits[name];
    if (!Number.isInteger(value) || value < 1) throw new TypeError(`${owner}: ${name} must be an integer ≥ 1, got ${value}`);
  }
  // node:http refuses a request timeout below the header timeout.
  if (limits.requestTimeoutMs < limits.headersTimeoutMs) throw new TypeError(`${owner}: requestTimeoutMs (${limits.requestTimeoutMs}) must be ≥ headersTimeoutMs (${limits.headersTimeoutMs})`);
  return limits;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** How often a timeout is checked: a quarter of it, between 50 ms and 1 s. */
function checkEvery(timeoutMs: number): number {
  return Math.max(50, Math.min(1_000, Math.floor(timeoutMs / 4)));
}

/** node:http server options carrying the limits' timeouts. */
export function viewerServerOptions(limits: ViewerConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // node:http checks header and request timeouts only this often (default 30 s).
    connectionsCheckingInterval: checkEvery(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs)),
  };
}

/**
 * A viewer that half-closes its connection once it has sent its requests (RFC 9112 §9.6) still gets
 * every answer, then the close: node:http's default ends the connection at the client's FIN,
 * cutting a response being streamed.
 */
export function answerHalfClosedClients(server: NetServer): void {
  (server as NetServer & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
}

/**
 * Takes node:http's own connection handler out of a server and returns it, so each connection can
 * be admitted by a guard first (and, on the edge, served by the hit fast path). The server still
 * listens, counts every connection (so close() waits for them) and enforces its timeouts on those
 * it serves. A TLS server (https, http2) serves on `secureConnection`, once the handshake is done:
 * its `connection` handler is the TLS layer's and stays.
 */
export function takeConnectionHandler(server: NetServer, event: 'connection' | 'secureConnection' = 'connection'): (socket: Socket) => void {
  const handlers = server.listeners(event);
  if (handlers.length !== 1) throw new Error(`expected node:http's one ${event} handler, found ${handlers.length}`);
  const serveHttp = handlers[0] as (this: NetServer, socket: Socket) => void;
  server.removeListener(event, serveHttp);
  return (socket) => serveHttp.call(server, socket);
}

/**
 * A TLS server admits a connection to the guard only once its handshake is done, so connections
 * still in their handshake would be unbounded: the listener itself caps every open socket at the
 * guard's limit. Beyond it the kernel's connection is closed at once (no 503 can be written before
 * a handshake), counted as refused for max-connections.
 */
export function capTlsHandshakes(server: NetServer, limits: ViewerConnectionLimits, observer: Pick<ViewerConnectionObserver, 'onReject'>): void {
  server.maxConnections = limits.maxConnections;
  server.on('drop', () => observer.onReject('max-connections'));
}

export interface ViewerConnectionObserver {
  onReject(reason: ConnectionRejectReason): void;
  onWriteTimeout(): void;
}

export interface ViewerConnectionGuard {
  /** Counts a newly accepted connection; false when it was refused (answered 503 and closed). */
  admit(socket: Socket): boolean;
  /** Connections admitted and not yet closed. */
  readonly open: number;
  /** Stops the write-timeout checks (the connections themselves are the server's to close). */
  stop(): void;
}

// Written before the request is read: a client that has not sent its head yet still gets it.
const REFUSED_BODY = 'too many connections\n';
const REFUSED = Buffer.from(
  `HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${REFUSED_BODY.length}\r\n\r\n${REFUSED_BODY}`,
  'latin1',
);
// A closing connection's unread bytes (a refused client's request, a body nobody read) are read and
// dropped until the client has been quiet this long (at most LINGER_MAX_MS): closing a socket with
// unread bytes makes the kernel reset the connection and drop the answer's tail still on its way
// (RFC 9112 §9.6).
export const LINGER_MS = 1_000;
const LINGER_MAX_MS = 5_000;

/**
 * Ends the socket after what is queued, reads and drops whatever the client still sends, and
 * destroys it once the client closes too, goes quiet for LINGER_MS, or LINGER_MAX_MS has passed.
 */
export function lingeringClose(socket: Socket, last?: string | Buffer): void {
  socket.on('error', () => {});
  if (last === undefined) socket.end();
  else socket.end(last);
  const deadline = Date.now() + LINGER_MAX_MS;
  let timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.on('data', () => {
    clearTimeout(timer);
    timer = setTimeout(() => socket.destroy(), Math.max(0, Math.min(LINGER_MS, deadline - Date.now())));
    timer.unref();
  });
  socket.resume();
  socket.once('close', () => clearTimeout(timer));
}

interface WriteProgress {
  /** Bytes whose writes completed, and bytes libuv still holds: either changing is progress. */
  done: number;
  queued: number;
  since: number;
}

type WithHandle = { _handle?: { writeQueueSize?: number } | null; _parent?: WithHandle | null };

/**
 * The write-progress counters of a socket (libuv's queue shrinks while one large write goes out).
 * A TLS socket's own queue holds the whole encrypted write until it completes; the TCP socket under
 * it (`_parent`) shows the kernel taking bytes.
 */
function progressOf(socket: Socket): { done: number; queued: number } {
  const own = socket as unknown as WithHandle;
  const queued = (own._handle?.writeQueueSize ?? 0) + (own._parent?._handle?.writeQueueSize ?? 0);
  return { done: socket.bytesWritten - socket.writableLength, queued };
}

/**
 * Resets a connection (RST). A TLS socket's handle is the TLS layer, which Node cannot reset
 * (ERR_INVALID_HANDLE_TYPE): the TCP socket under it (`_parent`) is reset instead.
 */
function resetConnection(socket: Socket): void {
  const tcp = (socket as unknown as { _parent?: Socket | null })._parent;
  if (tcp && !tcp.destroyed) {
    tcp.resetAndDestroy();
    socket.destroy();
  } else {
    socket.resetAndDestroy();
  }
}

export function createViewerConnectionGuard(limits: ViewerConnectionLimits, observer: ViewerConnectionObserver): ViewerConnectionGuard {
  const sockets = new Map<Socket, WriteProgress>();
  const perAddress = new Map<string, number>();

  const refuse = (socket: Socket, reason: ConnectionRejectReason): false => {
    observer.onReject(reason);
    lingeringClose(socket, REFUSED);
    return false;
  };

  const checkWrites = (): void => {
    const now = Date.now();
    for (const [socket, progress] of sockets) {
      if (socket.writableLength === 0) {
        progress.since = now;
        continue;
      }
      const current = progressOf(socket);
      if (current.done !== progress.done || current.queued !== progress.queued) {
        progress.done = current.done;
        progress.queued = current.queued;
        progress.since = now;
      } else if (now - progress.since >= limits.writeTimeoutMs) {
        observer.onWriteTimeout();
        // A reset, not a close: the kernel drops the unsent bytes too instead of holding them for
        // a peer that is not reading.
        resetConnection(socket);
      }
    }
  };
  const timer = setInterval(checkWrites, checkEvery(limits.writeTimeoutMs));
  timer.unref();

  return {
    admit(socket) {
      const address = socket.remoteAddress;
      if (address === undefined) {
        // Already gone.
        socket.destroy();
        return false;
      }
      if (sockets.size >= limits.maxConnections) return refuse(socket, 'max-connections');
      const fromAddress = perAddress.get(address) ?? 0;
      if (fromAddress >= limits.maxConnectionsPerIp) return refuse(socket, 'max-connections-per-ip');
      perAddress.set(address, fromAddress + 1);
      sockets.set(socket, { ...progressOf(socket), since: Date.now() });
      // node:http closes after a response that ends the connection with destroySoon(), at once
      // even when the client is still sending a body nobody read.
      socket.destroySoon = () => lingeringClose(socket);
      socket.once('close', () => {
        sockets.delete(socket);
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left === 0) perAddress.delete(address);
        else perAddress.set(address, left);
      });
      return true;
    },
    get open() {
      return sockets.size;
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/** The command-line flags of the limits (edge and balancer), defaults from DEFAULT_VIEWER_LIMITS. */
export const VIEWER_CONNECTION_OPTIONS = {
  'header-timeout': { kind: 'duration', min: 50, default: DEFAULT_VIEWER_LIMITS.headersTimeoutMs, description: "a viewer's request head must arrive in full within this (else 408 and close)" },
  'request-timeout': { kind: 'duration', min: 50, default: DEFAULT_VIEWER_LIMITS.requestTimeoutMs, description: "a viewer's whole request, body included, must arrive within this (≥ --header-timeout)" },
  'keep-alive-timeout': { kind: 'duration', min: 50, default: DEFAULT_VIEWER_LIMITS.keepAliveTimeoutMs, description: 'an idle kept-alive viewer connection is closed after this' },
  'write-timeout': { kind: 'duration', min: 50, default: DEFAULT_VIEWER_LIMITS.writeTimeoutMs, description: 'a response the viewer stops reading (no progress for this long) is cut and its buffers released' },
  'max-connections': { kind: 'integer', min: 1, default: DEFAULT_VIEWER_LIMITS.maxConnections, description: 'open viewer connections per process; more are refused (503, Retry-After)' },
  'max-connections-per-ip': { kind: 'integer', min: 1, default: DEFAULT_VIEWER_LIMITS.maxConnectionsPerIp, description: 'open viewer connections per client address per process; more are refused (503, Retry-After)' },
} as const;

export interface ViewerConnectionFlags {
  readonly 'header-timeout': number;
  readonly 'request-timeout': number;
  readonly 'keep-alive-timeout': number;
  readonly 'write-timeout': number;
  readonly 'max-connections': number;
  readonly 'max-connections-per-ip': number;
}

/** The limits the flags give; a bad combination is an error naming the flag. */
export function viewerLimitsFromFlags(flags: ViewerConnectionFlags): ViewerConnectionLimits {
  if (flags['request-timeout'] < flags['header-timeout']) throw new OptionError('--request-timeout', 'must be at least --header-timeout');
  return viewerLimits({
    headersTimeoutMs: flags['header-timeout'],
    requestTimeoutMs: flags['request-timeout'],
    keepAliveTimeoutMs: flags['keep-alive-timeout'],
    writeTimeoutMs: flags['write-timeout'],
    maxConnections: flags['max-connections'],
    maxConnectionsPerIp: flags['max-connections-per-ip'],
  });
}
