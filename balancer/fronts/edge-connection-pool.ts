// Kept-alive plain-TCP connections to http edges for the proxy fast path: at most a fixed number
// per edge (more requests wait in a queue), connecting bounded by the connect timeout, idle ones
// closed after the keep-alive time. A connection is lent for one exchange at a time.
//
// Each connection reads into a buffer of its own, reused from read to read (node's default
// allocates 64 KiB per read, which at segment rates is most of the proxy's garbage). A buffer
// grows while reads fill it, so a segment crosses in a few large reads, within a budget for the
// whole pool; once its bytes are lent to a write still under way, the next read gets a new one.
import { connect, type Socket } from 'node:net';
import type { EdgeTarget } from './edge-target.js';

export interface EdgeConnectionPoolOptions {
  readonly maxConnectionsPerEdge: number;
  readonly connectTimeoutMs: number;
  /** An idle connection is closed after this long (below the edge's own keep-alive timeout). */
  readonly idleTimeoutMs: number;
  /** Read buffers of all connections together grow no further than this (each has at least 16 KiB). */
  readonly readBufferBudgetBytes: number;
}

/** One exchange's side of a lent connection (listeners stay on the socket for its whole life). */
export interface EdgeExchange {
  /**
   * Takes the connection's bytes. `chunk` is valid during the call only; returns true when its
   * memory is still referenced afterwards (a write not yet flushed), so the connection reads on
   * into a new buffer.
   */
  chunk(chunk: Buffer): boolean;
  /** The edge ended its side of the connection. */
  ended(): void;
  /** The connection closed; `error` is what broke it, if anything did. */
  closed(error: Error | undefined): void;
}

const MIN_READ_BUFFER_BYTES = 16 * 1024;
const MAX_READ_BUFFER_BYTES = 256 * 1024;

/** A connection failure, coded like node's and undici's so health/connection-error.ts reads it. */
export class EdgeConnectError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'EdgeConnectError';
  }
}

interface Waiter {
  resolve(socket: Socket): void;
  reject(error: Error): void;
}

interface ConnectionState {
  exchange: EdgeExchange | undefined;
  lastError: Error | undefined;
  buffer: Buffer;
  /** The buffer's bytes are lent to a write: the next read needs another. */
  lent: boolean;
  /** The last read filled the buffer: a larger one would have taken more. */
  filled: boolean;
}

interface EdgePool {
  readonly idle: Socket[];
  readonly waiters: Waiter[];
  open: number;
}

export interface EdgeConnectionPool {
  /** A connected socket to `target`, idle-reused (most recently used first) or new. */
  acquire(target: EdgeTarget): Promise<Socket>;
  /** Gives back a socket whose exchange ended cleanly at a message boundary. */
  release(target: EdgeTarget, socket: Socket): void;
  /** Who takes `socket`'s bytes and end from now on; undefined between exchanges, when any byte breaks the connection. */
  attach(socket: Socket, exchange: EdgeExchange | undefined): void;
  /** Abandons a request that waits for a connection (its viewer left or its wait ended). */
  cancel(target: EdgeTarget, pending: Promise<Socket>): void;
  readonly stats: { readonly open: number; readonly queued: number; readonly readBufferBytes: number };
  close(): void;
}

export function createEdgeConnectionPool(options: EdgeConnectionPoolOptions): EdgeConnectionPool {
  for (const name of ['maxConnectionsPerEdge', 'connectTimeoutMs', 'idleTimeoutMs', 'readBufferBudgetBytes'] as const) {
    if (!Number.isInteger(options[name]) || options[name] < 1) throw new TypeError(`createEdgeConnectionPool: ${name} must be an integer ≥ 1, got ${options[name]}`);
  }
  const pools = new Map<string, EdgePool>();
  const waiting = new WeakMap<Promise<Socket>, Waiter>();
  const connections = new WeakMap<Socket, ConnectionState>();
  let readBufferBytes = 0;
  let closed = false;

  /** The buffer the connection's next read goes to. */
  const nextReadBuffer = (state: ConnectionState): Buffer => {
    const size = state.buffer.length;
    const grown = Math.min(MAX_READ_BUFFER_BYTES, size * 2);
    if (state.filled && grown > size && readBufferBytes + grown - size <= options.readBufferBudgetBytes) {
      readBufferBytes += grown - size;
      state.buffer = Buffer.allocUnsafe(grown);
    } else if (state.lent) state.buffer = Buffer.allocUnsafe(size);
    state.lent = false;
    return state.buffer;
  };

  const poolOf = (target: EdgeTarget): EdgePool => {
    let pool = pools.get(target.origin);
    if (!pool) {
      pool = { idle: [], waiters: [], open: 0 };
      pools.set(target.origin, pool);
    }
    return pool;
  };

  const open = (target: EdgeTarget, pool: EdgePool): Promise<Socket> => {
    pool.open++;
    return new Promise((resolve, reject) => {
      const state: ConnectionState = { exchange: undefined, lastError: undefined, buffer: Buffer.allocUnsafe(MIN_READ_BUFFER_BYTES), lent: false, filled: false };
      readBufferBytes += MIN_READ_BUFFER_BYTES;
      const socket = connect({
        host: target.hostname,
        port: target.port,
        noDelay: true,
        onread: {
          buffer: () => nextReadBuffer(state),
          // `buffer` is state.buffer, the one nextReadBuffer gave.
          callback: (bytes) => {
            state.filled = bytes === state.buffer.length;
            if (!state.exchange) {
              // An edge speaking out of turn: the next exchange could not tell its answer apart.
              socket.destroy(new EdgeConnectError(`${target.origin} sent bytes on an idle connection`, 'ECONNRESET'));
              return false;
            }
            if (state.exchange.chunk(state.buffer.subarray(0, bytes))) state.lent = true;
            return true;
          },
        },
      });
      connections.set(socket, state);
      const timer = setTimeout(() => socket.destroy(new EdgeConnectError(`connecting to ${target.origin} took over ${options.connectTimeoutMs} ms`, 'ETIMEDOUT')), options.connectTimeoutMs);
      const onError = (error: Error): void => {
        clearTimeout(timer);
        reject(error);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        // Errors end in 'close', which tells the exchange what broke.
        socket.on('error', (error) => (state.lastError = error));
        socket.on('end', () => state.exchange?.ended());
        // Idle past the keep-alive time, or an edge silent for the response timeout mid-body.
        socket.on('timeout', () => socket.destroy(new EdgeConnectError(`no bytes from ${target.origin} in time`, 'ESOCKETTIMEDOUT')));
        resolve(socket);
      });
      socket.once('close', () => {
        pool.open--;
        readBufferBytes -= state.buffer.length;
        const index = pool.idle.indexOf(socket);
        if (index !== -1) pool.idle.splice(index, 1);
        // A freed slot goes to the longest waiter.
        const waiter = pool.waiters.shift();
        if (waiter) open(target, pool).then(waiter.resolve, waiter.reject);
        state.exchange?.closed(state.lastError);
      });
    });
  };

  return {
    acquire(target) {
      if (closed) return Promise.reject(new EdgeConnectError('balancer is closing', 'ECONNREFUSED'));
      const pool = poolOf(target);
      const socket = pool.idle.pop();
      if (socket) {
        socket.setTimeout(0);
        return Promise.resolve(socket);
      }
      if (pool.open < options.maxConnectionsPerEdge) return open(target, pool);
      let waiter!: Waiter;
      const pending = new Promise<Socket>((resolve, reject) => (waiter = { resolve, reject }));
      pool.waiters.push(waiter);
      waiting.set(pending, waiter);
      return pending;
    },
    release(target, socket) {
      const pool = poolOf(target);
      if (closed || socket.destroyed) {
        socket.destroy();
        return;
      }
      const waiter = pool.waiters.shift();
      if (waiter) {
        waiter.resolve(socket);
        return;
      }
      socket.setTimeout(options.idleTimeoutMs);
      pool.idle.push(socket);
    },
    attach(socket, exchange) {
      const state = connections.get(socket);
      if (state) state.exchange = exchange;
    },
    cancel(target, pending) {
      const waiter = waiting.get(pending);
      if (!waiter) return;
      const pool = poolOf(target);
      const index = pool.waiters.indexOf(waiter);
      if (index !== -1) pool.waiters.splice(index, 1);
    },
    get stats() {
      let open = 0;
      let queued = 0;
      for (const pool of pools.values()) {
        open += pool.open;
        queued += pool.waiters.length;
      }
      return { open, queued, readBufferBytes };
    },
    close() {
      closed = true;
      for (const pool of pools.values()) {
        for (const socket of pool.idle) socket.destroy();
        for (const waiter of pool.waiters.splice(0)) waiter.reject(new EdgeConnectError('balancer is closing', 'ECONNREFUSED'));
      }
    },
  };
}
