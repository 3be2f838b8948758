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
import { createFastPathConnections } from '../../infra/http/fast-path-connections.js';
import type { SimpleRequestHead } from '../../infra/http/request-head.js';
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
  const services = options.services;
  const connections = createFastPathConnections({
    name: 'hit fast path',
    log: services.logger,
    handOver: options.handOver,
    maxHeadBytes: options.maxHeadBytes,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs,
    headersTimeoutMs: options.headersTimeoutMs,
  });
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
  const serve = (socket: Socket, head: SimpleRequestHead): boolean => {
    if (services.state.draining) return false;
    for (const field of FULL_PATH_FIELDS) if (head.headers.has(field)) return false;
    if (controlPathOf(head.target) !== undefined) return false;
    const key = services.cacheKey(head.target);
    if (!key.ok || isDisguisedControlPath(key.key)) return false;
    // Signed URLs: the same check as the filter phase; a refusal, and a playlist (its URIs get
    // the token), are the full path's to answer.
    if (services.urlTokens && (!services.urlTokens.check(head.target, socket.remoteAddress).ok || isPlaylistPath(key.key))) return false;
    // Anything but a fresh entry, an expired one included, is the full path's to handle.
    const lookup = lookupCache(services.store, key.key, Date.now());
    if (lookup.kind !== 'fresh') return false;
    // Its status line is written as 200 below; other stored statuses take the full path.
    if (lookup.entry.status !== 200) return false;
    const startedAt = performance.now();
    const now = Date.now();
    const entry = lookup.entry;
    const responseHead = serialize(plainHitHeaders(services, entry, now));
    if (!responseHead) return false;
    // A viewer that does not take these bytes gets no more answers until it does (writableNeedDrain).
    if (head.method === 'HEAD') socket.write(responseHead);
    else if (entry.body.length <= JOIN_BODY_BYTES) socket.write(Buffer.concat([responseHead, entry.body]));
    else {
      socket.cork();
      socket.write(responseHead);
      socket.write(entry.body);
      socket.uncork();
    }
    const bodyBytes = head.method === 'HEAD' ? 0 : entry.body.length;
    services.metrics.response(FRESH_HIT, bodyBytes);
    services.metrics.fastPathHit();
    if (services.logger.isLevelEnabled('debug')) {
      services.logger.debug({ method: head.method, key: key.key, status: 200, cacheStatus: FRESH_HIT, bytes: bodyBytes, ms: Math.round((performance.now() - startedAt) * 100) / 100, fastPath: true }, 'request');
    }
    prefetchNext(services, key.key);
    return true;
  };

  return {
    accept: (socket) => connections.accept(socket, { serve: (head) => serve(socket, head) }),
    // Every connection here is idle between requests: each ends once what was written has gone out.
    closeAll: () => connections.closeIdle(),
    destroyAll: () => connections.destroyAll(),
  };
}
