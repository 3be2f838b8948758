// One try at one edge for the proxy fast path: the request head goes out on a pooled raw
// connection, the edge's response head is read and rewritten for the viewer (hop-by-hop fields
// dropped), and the body is piped to the viewer's socket with backpressure, its end found from
// its framing so the edge connection can be reused. It ends like proxy-attempt.ts's undici try,
// so the rules of proxy-retries.ts apply to both.
import type { Socket } from 'node:net';
import type { TurnCorker } from '../../infra/net/turn-corker.js';
import { EdgeConnectError, type EdgeConnectionPool, type EdgeExchange } from './edge-connection-pool.js';
import { ChunkedBodyEnd, parseResponseHead, type EdgeResponseHead } from './edge-response-head.js';
import type { EdgeTarget } from './edge-target.js';
import type { AttemptEnding } from './proxy-attempt.js';
import type { RunningAttempt } from './proxy-retries.js';

export interface RawAttemptOptions {
  readonly viewer: Socket;
  readonly pool: EdgeConnectionPool;
  readonly target: EdgeTarget;
  readonly method: string;
  /** The request head to send, blank line included. */
  readonly requestHead: string;
  /** No body bytes from the edge for this long cuts the response. */
  readonly responseTimeoutMs: number;
  readonly maxHeadBytes: number;
  /** The connection fields a kept-alive response to the viewer carries (`name: value\r\n`…). */
  readonly keepAliveFields: string;
  /** Holds the request head and a small response's one write to the end of the loop's turn. */
  readonly corker: TurnCorker;
  /** Sees the edge's final status; `headers` reads its fields (made only when read). */
  readonly onEdgeHeaders: (status: number, headers: () => Readonly<Record<string, string | string[]>>) => void;
}

export interface RawAttempt extends RunningAttempt {
  /** After `done`: the response was delimited by the edge closing, so the viewer's connection closes too. */
  readonly viewerMustClose: boolean;
  /** The viewer's connection closed (its owner listens, once for every request it carries). */
  viewerClosed(): void;
  /** The viewer's connection took what was queued for it. */
  viewerDrained(): void;
}

// Bodies up to this size go out in one write with their head.
const JOIN_BODY_BYTES = 16 * 1024;
const NO_BYTES = Buffer.alloc(0);

export function startRawAttempt(options: RawAttemptOptions): RawAttempt {
  const { viewer, pool, target } = options;
  let settle!: (ending: AttemptEnding) => void;
  const ended = new Promise<AttemptEnding>((resolve) => (settle = resolve));
  let edge: Socket | undefined;
  let finished = false;
  let headersWritten = false;
  let received: Buffer | undefined;
  let head: EdgeResponseHead | undefined;
  let remaining = 0;
  let chunked: ChunkedBodyEnd | undefined;

  const finish = (ending: AttemptEnding, reuse: boolean): void => {
    if (finished) return;
    finished = true;
    if (edge) {
      pool.attach(edge, undefined);
      if (reuse) {
        if (edge.isPaused()) edge.resume();
        pool.release(target, edge);
      } else edge.destroy();
    }
    settle(ending);
  };
  const fail = (error: Error): void => finish(headersWritten ? { kind: 'cut-short', error } : { kind: 'before-headers', error }, false);

  /**
   * Sends body bytes on (after the response head, the first time: `headSource` is the buffer it
   * was read from); finishes the try once the body is complete. True when the viewer's socket
   * still holds bytes of `chunk` (see EdgeExchange.chunk).
   */
  const relay = (chunk: Buffer, headSource?: Buffer): boolean => {
    const framing = head!.framing;
    let end = chunk.length;
    let complete = false;
    if (framing.kind === 'none') {
      end = 0;
      complete = true;
    } else if (framing.kind === 'length') {
      end = Math.min(remaining, chunk.length);
      remaining -= end;
      complete = remaining === 0;
    } else if (chunked) {
      const found = chunked.scan(chunk);
      if (found !== -1) {
        end = found;
        complete = true;
      }
    }
    const body = end === chunk.length ? chunk : chunk.subarray(0, end);
    let flushed = true;
    // Whether bytes of `chunk` itself went to the viewer (a small body is copied out with its head).
    let wroteChunk = false;
    if (headSource) {
      if (body.length <= JOIN_BODY_BYTES) {
        options.corker.cork(viewer);
        flushed = viewer.write(head!.forViewer(headSource, options.keepAliveFields, body));
      } else {
        viewer.cork();
        viewer.write(head!.forViewer(headSource, options.keepAliveFields, NO_BYTES));
        flushed = viewer.write(body);
        viewer.uncork();
        wroteChunk = true;
      }
    } else if (body.length > 0) {
      flushed = viewer.write(body);
      wroteChunk = true;
    }
    const lent = wroteChunk && viewer.writableLength > 0;
    if (complete) {
      // Bytes past the response would be a second, unasked-for answer: that connection is not reused.
      finish({ kind: 'done' }, head!.reusable && end === chunk.length);
      return lent;
    }
    // A viewer reading slower than the edge sends holds the edge's socket until it catches up
    // (the viewer connection guard's write timeout bounds how long).
    if (!flushed) edge!.pause();
    return lent;
  };

  const onChunk = (chunk: Buffer): boolean => {
    if (head) {
      try {
        return relay(chunk);
      } catch (error) {
        fail(error as Error);
        return false;
      }
    }
    received = received ? Buffer.concat([received, chunk]) : chunk;
    let headSource: Buffer;
    for (;;) {
      const parsed = parseResponseHead(received, options.method, options.maxHeadBytes);
      if (parsed.kind === 'incomplete') {
        // The read buffer is the connection's: a head kept for the next read is copied out of it.
        if (received.buffer === chunk.buffer) received = Buffer.from(received);
        return false;
      }
      if (parsed.kind === 'malformed') {
        fail(new Error(parsed.reason));
        return false;
      }
      headSource = received;
      received = received.subarray(parsed.head.length);
      // 1xx interim responses are the connection's business, not the viewer's.
      if (parsed.head.status >= 200) {
        head = parsed.head;
        break;
      }
    }
    const edgeHead = head;
    options.onEdgeHeaders(head.status, () => edgeHead.headers);
    if (head.framing.kind === 'length') remaining = head.framing.bytes;
    else if (head.framing.kind === 'chunked') chunked = new ChunkedBodyEnd();
    else if (head.framing.kind === 'close') attempt.viewerMustClose = true;
    headersWritten = true;
    edge!.setTimeout(options.responseTimeoutMs);
    const body = received;
    received = undefined;
    try {
      return relay(body, headSource);
    } catch (error) {
      fail(error as Error);
      return false;
    }
  };
  const exchange: EdgeExchange = {
    chunk: onChunk,
    ended() {
      if (head?.framing.kind === 'close') finish({ kind: 'done' }, false);
    },
    closed(error) {
      fail(error ?? new EdgeConnectError(`edge ${target.origin} closed the connection ${headersWritten ? 'mid-body' : 'before answering'}`, 'ECONNRESET'));
    },
  };

  const pending = pool.acquire(target);
  pending.then(
    (socket) => {
      if (finished) {
        pool.release(target, socket);
        return;
      }
      edge = socket;
      pool.attach(socket, exchange);
      options.corker.cork(socket);
      socket.write(options.requestHead, 'latin1');
    },
    (error: Error) => fail(error),
  );

  // A plain object, not one with getters: one is made per proxied request.
  const attempt = {
    ended,
    viewerMustClose: false,
    abort(error: Error) {
      if (!edge) pool.cancel(target, pending);
      fail(error);
    },
    viewerClosed() {
      finish({ kind: 'client-closed' }, false);
    },
    viewerDrained() {
      if (edge?.isPaused()) edge.resume();
    },
  };
  return attempt;
}
