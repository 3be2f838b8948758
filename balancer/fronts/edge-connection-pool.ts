// Kept-alive plain-TCP connections to http edges for the proxy fast path: at most a fixed number
// per edge (more requests wait in a queue), connecting bounded by the connect timeout, idle ones
// closed after the keep-alive time. A connection is lent for one exchange at a time.
import { connect, type Socket } from 'node:net';
import type { EdgeTarget } from './edge-target.js';

export interface EdgeConnectionPoolOptions {
  readonly maxConnectionsPerEdge: number;
  readonly connectTimeoutMs: number;
  /** An idle connection is closed after this long (below the edge's own keep-alive timeout). */
  readonly idleTimeoutMs: number;
}

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
  /** Abandons a request that waits for a connection (its viewer left or its wait ended). */
  cancel(target: EdgeTarget, pending: Promise<Socket>): void;
  readonly stats: { readonly open: number; readonly queued: number };
  close(): void;
}

export function createEdgeConnectionPool(options: EdgeConnectionPoolOptions): EdgeConnectionPool {
  for (const name of ['maxConnectionsPerEdge', 'connectTimeoutMs', 'idleTimeoutMs'] as const) {
    if (!Number.isInteger(options[name]) || options[name] < 1) throw new TypeError(`createEdgeConnectionPool: ${name} must be an integer ≥ 1, got ${options[name]}`);
  }
  const pools = new Map<string, EdgePool>();
  const waiting = new WeakMap<Promise<Socket>, Waiter>();
  let closed = false;

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
      const socket = connect({ host: target.hostname, port: target.port, noDelay: true });
      const timer = setTimeout(() => socket.destroy(new EdgeConnectError(`connecting to ${target.origin} took over ${options.connectTimeoutMs} ms`, 'ETIMEDOUT')), options.connectTimeoutMs);
      const onError = (error: Error): void => {
        clearTimeout(timer);
        reject(error);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        // Errors end in 'close'; an exchange listens for its own.
        socket.on('error', () => {});
        // Idle past the keep-alive time, or an edge silent for the response timeout mid-body.
        socket.on('timeout', () => socket.destroy(new EdgeConnectError(`no bytes from ${target.origin} in time`, 'ESOCKETTIMEDOUT')));
        resolve(socket);
      });
      socket.once('close', () => {
        pool.open--;
        const index = pool.idle.indexOf(socket);
        if (index !== -1) pool.idle.splice(index, 1);
        // A freed slot goes to the longest waiter.
        const waiter = pool.waiters.shift();
        if (waiter) open(target, pool).then(waiter.resolve, waiter.reject);
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
      return { open, queued };
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
