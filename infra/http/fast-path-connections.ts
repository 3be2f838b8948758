// The connections of a fast path (the edge's hits, the balancer's proxied GETs): each is read with
// the fast path's own listeners, its requests answered one at a time in order by the fast path's
// serve(), until a request it does not answer; then node:http takes the connection over, unread
// bytes first. What a connection holds is bounded here: a head's worth of unread bytes (more
// pauses reading), node:http's header timeout until the first request, its keep-alive timeout
// after; a viewer that stops reading gets nothing more until it drains.
import type { Socket } from 'node:net';
import type { Logger } from '../runtime/logger.js';
import { nextRequest, type SimpleRequestHead } from './request-head.js';

/** What a fast path does with one connection's requests. */
export interface FastPathHandlers {
  /**
   * Answers `head`: false when node:http must (it takes the connection, this request's bytes
   * first); true once the answer is written; or a promise of an answer under way, which says
   * whether the connection must close after it. The next request waits for it.
   */
  serve(head: SimpleRequestHead): boolean | Promise<{ readonly close: boolean }>;
  /** The viewer took what was queued for it. */
  drained?(): void;
  /** The connection closed. */
  closed?(): void;
}

export interface FastPathConnectionsOptions {
  /** For logs: which fast path failed. */
  readonly name: string;
  readonly log: Logger;
  /** node:http's connection handler: takes over a socket (unread bytes already put back). */
  readonly handOver: (socket: Socket) => void;
  /** Longest request head read here; a longer one goes to node:http, which applies its own limit. */
  readonly maxHeadBytes: number;
  /** An idle kept-alive connection is closed after this long (node:http's keepAliveTimeout). */
  readonly keepAliveTimeoutMs: number;
  /** A new connection's first request head must arrive within this long (node:http's headersTimeout). */
  readonly headersTimeoutMs: number;
}

export interface FastPathConnections {
  /** Serves a newly accepted connection with `handlers`. */
  accept(socket: Socket, handlers: FastPathHandlers): void;
  /** Shutdown: ends idle connections now and busy ones once their response is out; no more requests are answered. */
  closeIdle(): void;
  /** Shutdown past its grace period: cuts them. */
  destroyAll(): void;
}

type ConnectionListeners = readonly (readonly [string, ((chunk: Buffer) => void) | (() => void)])[];

export function createFastPathConnections(options: FastPathConnectionsOptions): FastPathConnections {
  if (!Number.isInteger(options.maxHeadBytes) || options.maxHeadBytes < 1024) throw new TypeError(`maxHeadBytes must be an integer ≥ 1024, got ${options.maxHeadBytes}`);
  if (!(options.keepAliveTimeoutMs > 0)) throw new TypeError(`keepAliveTimeoutMs must be > 0, got ${options.keepAliveTimeoutMs}`);
  if (!(options.headersTimeoutMs > 0)) throw new TypeError(`headersTimeoutMs must be > 0, got ${options.headersTimeoutMs}`);
  const { log } = options;
  let closing = false;
  // Every connection served here, with whether an answer is under way on it.
  const connections = new Map<Socket, { busy: boolean }>();

  return {
    accept(socket, handlers) {
      let pending: Buffer = Buffer.alloc(0);
      let previous: SimpleRequestHead | undefined;
      let clientEnded = false;
      let waitingForDrain = false;
      let keptAlive = false;
      const state = { busy: false };

      const release = (): void => {
        connections.delete(socket);
        for (const [event, listener] of listeners) socket.off(event, listener);
        socket.setTimeout(0);
      };
      const handOver = (): void => {
        release();
        if (socket.readableEnded) {
          // The client sent its last bytes and ended its side (a pipelining client that half-closes):
          // nothing can be put back in an ended stream, so node:http is given what it would have
          // read, those bytes and then the end.
          options.handOver(socket);
          if (pending.length > 0) socket.emit('data', pending);
          socket.emit('end');
          return;
        }
        // Unread bytes go back in front of the stream for node:http's parser.
        if (pending.length > 0) socket.unshift(pending);
        if (socket.isPaused()) socket.resume();
        options.handOver(socket);
      };
      const failed = (error: unknown): void => {
        log.error({ err: (error as Error).stack ?? String(error) }, `${options.name} failed; closing the connection`);
        socket.destroy();
      };
      // Served once: from now on a kept-alive connection, idle between requests. Set once, not per
      // request: the idle timer is refreshed by every read and write anyway.
      const keepAlive = (): void => {
        if (keptAlive) return;
        keptAlive = true;
        socket.setTimeout(options.keepAliveTimeoutMs);
      };
      const answerPending = (): void => {
        while (!state.busy && !waitingForDrain && !socket.destroyed) {
          // A viewer not reading what it was sent gets nothing more until it does, and node:http
          // takes the connection only once it has (a reply it writes and closes with must not cut
          // a response still queued here).
          if (socket.writableNeedDrain) {
            waitingForDrain = true;
            return;
          }
          if (closing) return void socket.end();
          const next = nextRequest(pending, options.maxHeadBytes, clientEnded, previous);
          if (next === 'wait') return;
          if (next === 'end') return void socket.end();
          if (next === 'hand-over') return handOver();
          const answer = handlers.serve(next);
          if (answer === false) return handOver();
          pending = pending.subarray(next.length);
          previous = next;
          if (answer === true) {
            keepAlive();
            continue;
          }
          state.busy = true;
          answer.then(({ close }) => {
            state.busy = false;
            if (socket.destroyed) return;
            if (close) return void socket.end();
            keepAlive();
            if (socket.isPaused()) socket.resume();
            answerSafely();
          }, failed);
        }
      };
      const answerSafely = (): void => {
        try {
          answerPending();
        } catch (error) {
          failed(error);
        }
      };
      const onData = (chunk: Buffer): void => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        if (!state.busy && !waitingForDrain) answerSafely();
        // Reading stops only when a client pipelines more than a head's worth while its responses
        // are under way: pausing after every large response would cost two epoll changes each.
        else if (pending.length > options.maxHeadBytes) socket.pause();
      };
      const onEnd = (): void => {
        clientEnded = true;
        answerSafely();
      };
      const onDrain = (): void => {
        handlers.drained?.();
        if (!waitingForDrain) return;
        waitingForDrain = false;
        if (socket.isPaused()) socket.resume();
        answerSafely();
      };
      // While an answer is under way, its own bounds (the connection guard's write timeout, an
      // upstream's wait) time the request; the idle timer fires again after its last write.
      const onIdle = (): void => {
        if (!state.busy) socket.destroy();
      };
      // Resets and the like end in 'close'; there is no one left to answer.
      const onError = (): void => {};
      const onClose = (): void => {
        release();
        handlers.closed?.();
      };

      connections.set(socket, state);
      const listeners: ConnectionListeners = [
        ['data', onData], ['end', onEnd], ['drain', onDrain], ['timeout', onIdle], ['error', onError], ['close', onClose],
      ];
      for (const [event, listener] of listeners) socket.on(event, listener);
      // Until its first request is in, a connection has node:http's header timeout; a head that
      // arrives in part is handed over at once, and node:http times the rest.
      socket.setTimeout(options.headersTimeoutMs);
    },
    closeIdle() {
      closing = true;
      for (const [socket, state] of connections) if (!state.busy) socket.end();
    },
    destroyAll() {
      for (const socket of connections.keys()) socket.destroy();
    },
  };
}
