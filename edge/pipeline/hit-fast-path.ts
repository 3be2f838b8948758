// The hit fast path: most requests an edge sees are plain GETs of fresh cached objects on
// kept-alive connections, and for small objects node:http's per-request machinery (request and
// response objects, header validation, events) costs more than the hit itself. Each connection
// starts here: a request in the simple shape (request-head.ts) for a fresh entry, with no
// conditional or range, is answered straight from the socket with exactly the headers the full
// path would send. Anything else — a refused signed URL or a tokened playlist, a miss, a stale entry, a Range, If-None-Match or
// If-Modified-Since, a control endpoint, a partial or unusual head, draining — hands the
// connection, with every unread byte, to node:http for the rest of its life, where the named
// phases of request-phases.ts run.
import type { Socket } from 'node:net';
import { isPlaylistPath } from '../../infra/hls/child-uri-query.js';
import { fastPathExits, type ConnectionListeners } from '../../infra/http/fast-path-connection.js';
import { nextRequest, type SimpleRequestHead } from '../../infra/http/request-head.js';
import { controlPathOf, isDisguisedControlPath } from './control-endpoints.js';
import { lookupCache } from './cache-lookup.js';
import type { EdgeServices } from './edge-services.js';
import { plainHitHeaders } from './responses.js';
import { prefetchNext } from './segment-prefetch.js';
import { cacheStatusOf } from './serve-outcome.js';

export interface HitFastPathOptions {
  readonly services: EdgeServices;
  /** node:http's connection handler: takes over a socket (unread bytes already put back). */
  readonly handOver: (socket: Socket) => void;
  /** Longest request head answered here; a longer one goes to node:http, which applies its own limit. */
  readonly maxHeadBytes: number;
  /** An idle kept-alive connection is closed after this long (node:http's keepAliveTimeout). */
  readonly keepAliveTimeoutMs: number;
  /** A new connection's first request head must arrive within this long (node:http's headersTimeout). */
  readonly headersTimeoutMs: number;
}

export interface HitFastPath {
  /** Serves a newly accepted connection. */
  accept(socket: Socket): void;
  /** Shutdown: ends every connection served here once the response being written has gone out. */
  closeAll(): void;
  /** Shutdown past its grace period: cuts them. */
  destroyAll(): void;
}

// Conditional and partial requests take the full path (304, 206, 416 decisions live there).
const FULL_PATH_FIELDS = ['range', 'if-range', 'if-none-match', 'if-modified-since'] as const;
// Bodies up to this size are copied behind their header block so a response is one plain write;
// the copy is per response, so the cache never holds a second copy of a body.
const JOIN_BODY_BYTES = 16 * 1024;
const FRESH_HIT = cacheStatusOf('fresh');
// Header names and values are written as latin1; node:http would refuse CR, LF and other controls.
const SAFE_FIELD = /^[\t\x20-\x7e\x80-\xff]*$/;

export function createHitFastPath(options: HitFastPathOptions): HitFastPath {
  if (!Number.isInteger(options.maxHeadBytes) || options.maxHeadBytes < 1024) throw new TypeError(`maxHeadBytes must be an integer ≥ 1024, got ${options.maxHeadBytes}`);
  if (!(options.keepAliveTimeoutMs > 0)) throw new TypeError(`keepAliveTimeoutMs must be > 0, got ${options.keepAliveTimeoutMs}`);
  if (!(options.headersTimeoutMs > 0)) throw new TypeError(`headersTimeoutMs must be > 0, got ${options.headersTimeoutMs}`);
  const services = options.services;
  const keepAlive = ['connection', 'keep-alive', 'keep-alive', `timeout=${Math.floor(options.keepAliveTimeoutMs / 1000)}`];
  // Keyed by the per-entry, per-second header array that plainHitHeaders returns (which carries
  // the stored Date and the current Age, so the bytes are the same for that second).
  const serialized = new WeakMap<readonly string[], Buffer>();

  /** The response head for a plain hit, or undefined if a header could not be written safely. */
  const serialize = (headers: readonly string[]): Buffer | undefined => {
    const known = serialized.get(headers);
    if (known) return known;
    let text = 'HTTP/1.1 200 OK\r\n';
    const all = [...headers, ...keepAlive];
    for (let i = 0; i < all.length; i += 2) {
      const name = all[i]!;
      const value = all[i + 1]!;
      if (!SAFE_FIELD.test(name) || !SAFE_FIELD.test(value)) return undefined;
      text += `${name}: ${value}\r\n`;
    }
    const head = Buffer.from(`${text}\r\n`, 'latin1');
    serialized.set(headers, head);
    return head;
  };

  /** Writes a fresh hit for `head`; false when the full path must answer it. */
  const serve = (socket: Socket, head: SimpleRequestHead): { served: false } | { served: true; flushed: boolean } => {
    if (services.state.draining) return { served: false };
    for (const field of FULL_PATH_FIELDS) if (head.headers.has(field)) return { served: false };
    if (controlPathOf(head.target) !== undefined) return { served: false };
    const key = services.cacheKey(head.target);
    if (!key.ok || isDisguisedControlPath(key.key)) return { served: false };
    // Signed URLs: the same check as the filter phase; a refusal, and a playlist (its URIs get
    // the token), are the full path's to answer.
    if (services.urlTokens && (!services.urlTokens.check(head.target, socket.remoteAddress).ok || isPlaylistPath(key.key))) return { served: false };
    // Anything but a fresh entry, an expired one included, is the full path's to handle.
    const lookup = lookupCache(services.store, key.key, Date.now());
    if (lookup.kind !== 'fresh') return { served: false };
    // Its status line is written as 200 below; other stored statuses take the full path.
    if (lookup.entry.status !== 200) return { served: false };
    const startedAt = performance.now();
    const now = Date.now();
    const entry = lookup.entry;
    const responseHead = serialize(plainHitHeaders(services, entry, now));
    if (!responseHead) return { served: false };
    let flushed: boolean;
    if (head.method === 'HEAD') flushed = socket.write(responseHead);
    else if (entry.body.length <= JOIN_BODY_BYTES) flushed = socket.write(Buffer.concat([responseHead, entry.body]));
    else {
      socket.cork();
      socket.write(responseHead);
      flushed = socket.write(entry.body);
      socket.uncork();
    }
    const bodyBytes = head.method === 'HEAD' ? 0 : entry.body.length;
    services.metrics.response(FRESH_HIT, bodyBytes);
    services.metrics.fastPathHit();
    if (services.logger.isLevelEnabled('debug')) {
      services.logger.debug({ method: head.method, key: key.key, status: 200, cacheStatus: FRESH_HIT, bytes: bodyBytes, ms: Math.round((performance.now() - startedAt) * 100) / 100, fastPath: true }, 'request');
    }
    prefetchNext(services, key.key);
    return { served: true, flushed };
  };

  // Every connection served here, with how to end it at shutdown.
  const connections = new Map<Socket, () => void>();

  return {
    accept(socket) {
      let pending: Buffer = Buffer.alloc(0);
      let waitingForDrain = false;
      let clientEnded = false;
      let keptAlive = false;
      let previous: SimpleRequestHead | undefined;

      const { release, handOver } = fastPathExits(socket, () => listeners, () => pending, () => connections.delete(socket), options.handOver);
      const answerPending = (): void => {
        while (!waitingForDrain && !socket.destroyed) {
          const next = nextRequest(pending, options.maxHeadBytes, clientEnded, previous);
          if (next === 'wait') return;
          if (next === 'end') return void socket.end();
          if (next === 'hand-over') return handOver();
          const outcome = serve(socket, next);
          if (!outcome.served) return handOver();
          pending = pending.subarray(next.length);
          previous = next;
          // Served once: from now on the connection is a kept-alive one, idle between requests.
          if (!keptAlive) {
            keptAlive = true;
            socket.setTimeout(options.keepAliveTimeoutMs);
          }
          // A client that does not read its responses gets no more until it does.
          if (!outcome.flushed) waitingForDrain = true;
        }
      };
      const answerSafely = (): void => {
        try {
          answerPending();
        } catch (error) {
          services.logger.error({ err: (error as Error).stack ?? String(error) }, 'hit fast path failed; closing the connection');
          socket.destroy();
        }
      };
      const onData = (chunk: Buffer): void => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        if (!waitingForDrain) answerSafely();
        // Reading stops only when a client pipelines more than a head's worth while its responses
        // queue: pausing after every large response would cost two epoll changes each.
        else if (pending.length > options.maxHeadBytes) socket.pause();
      };
      const onEnd = (): void => {
        clientEnded = true;
        answerSafely();
      };
      const onDrain = (): void => {
        if (!waitingForDrain) return;
        waitingForDrain = false;
        if (socket.isPaused()) socket.resume();
        answerSafely();
      };
      const onIdle = (): void => {
        socket.destroy();
      };
      // Resets and the like end in 'close'; there is no one left to answer.
      const onError = (): void => {};

      connections.set(socket, () => {
        // Responses already written still go out; requests not yet answered are not.
        socket.off('data', onData);
        socket.end();
      });
      const listeners: ConnectionListeners = [
        ['data', onData], ['end', onEnd], ['drain', onDrain], ['timeout', onIdle], ['error', onError], ['close', release],
      ];
      for (const [event, listener] of listeners) socket.on(event, listener);
      // Until its first request is in, a connection has node:http's header timeout; a head that
      // arrives in part is handed over at once, and node:http times the rest. A response the viewer
      // stops reading is cut by the connection guard's write timeout (infra/http/viewer-connections.ts).
      socket.setTimeout(options.headersTimeoutMs);
    },
    closeAll() {
      for (const end of connections.values()) end();
    },
    destroyAll() {
      for (const socket of connections.keys()) socket.destroy();
    },
  };
}
