// The proxy front's rules for one request, whichever transport carries it (undici under node:http,
// or the raw-socket fast path): which edges are tried and in what order, what each failure before
// headers means for the edge's health and for the next try, and what the viewer gets when no edge
// served it.
import type { EdgeNode } from '../discovery/edge-node.js';
import { blameForStatus, type BlameRecorder } from '../health/blame.js';
import { classifyConnectionError } from '../health/connection-error.js';
import { watchEdgeWait, type EdgeWaitEnd, type EdgeWaitOptions } from '../health/edge-wait.js';
import type { PassiveHealth } from '../health/passive-health.js';
import type { Logger } from '../../infra/runtime/logger.js';
import { UPSTREAM_FAULT_HEADER } from '../../infra/http/upstream-fault.js';
import type { Route, EdgeRouter } from '../selection/edge-router.js';
import type { FrontOutcome } from './front.js';
import type { AttemptEnding } from './proxy-attempt.js';

export interface ProxyRetryOptions extends EdgeWaitOptions {
  readonly health: PassiveHealth;
  readonly maxAttempts: number;
  readonly blame?: BlameRecorder | undefined;
}

/** One try at one edge under way: how it ends, and how to give up on it. */
export interface RunningAttempt {
  readonly ended: Promise<AttemptEnding>;
  abort(error: Error): void;
}

/** What one proxied request needs from its transport. */
export interface ProxyExchange {
  readonly route: Route;
  readonly router: EdgeRouter;
  readonly log: Logger;
  /** The media path, for error answers. */
  readonly path: string;
  /** False for a request with a body: it can be sent once, so it gets one edge. */
  readonly retryable: boolean;
  /** Starts a try at `edge`; `onEdgeHeaders` runs with the edge's final status (and a reader of its headers) before they go out. */
  start(edge: EdgeNode, onEdgeHeaders: (status: number, headers: () => Readonly<Record<string, string | string[] | undefined>>) => void): RunningAttempt;
  /** A short error answer (nothing sent yet). */
  sendError(status: number, reason: string, headers?: Record<string, string>): void;
  /** Ends the viewer's connection at once (a response cut short). */
  cut(): void;
}

/**
 * Proxies one request: a connection failure before the edge sends headers ejects that edge and,
 * for a retryable request, tries the next candidate; so does a slow answer when the edge then
 * fails its /healthz (edge-wait.ts). An edge that passes it is waiting on its origin: it is waited
 * for, up to the longest wait, and never blamed. Once headers are out the response is the edge's,
 * and a body cut short is cut short for the viewer too.
 */
export async function proxyWithRetries(options: ProxyRetryOptions, exchange: ProxyExchange): Promise<FrontOutcome> {
  const { route, router, log } = exchange;
  if (route.candidates.length === 0) {
    exchange.sendError(503, 'no healthy edge available', { 'retry-after': '2' });
    return 'no-edge';
  }
  const tries = exchange.retryable ? options.maxAttempts : 1;
  const failures: string[] = [];
  const edges = route.candidates.slice(0, tries);
  // A pooled connection the edge closed as idle just as it was reused resets before any byte:
  // a GET or HEAD tries that edge once more, on a fresh connection, before the next one.
  let resetRetried = false;
  for (let index = 0; index < edges.length; index++) {
    const edge = edges[index]!;
    if (!options.health.isAvailable(edge.id)) continue;
    router.commit(route, edge);
    let waitEnd: EdgeWaitEnd | undefined;
    const attempt = exchange.start(edge, (status, edgeHeaders) => {
      wait.stop();
      const blame = blameForStatus(status, edgeHeaders);
      if (blame) options.blame?.(blame.party, blame.reason);
      // A 5xx of the edge's own: its /healthz decides whether it stays in.
      if (blame?.party === 'edge') options.health.suspect(edge);
    });
    const wait = watchEdgeWait(options, edge, (end) => {
      waitEnd = end;
      attempt.abort(new Error(end === 'edge-down' ? `edge ${edge.id} failed its health probe` : `edge ${edge.id} sent no headers within ${options.maxWaitMs} ms`));
    });
    const ending = await attempt.ended;
    wait.stop();
    if (ending.kind === 'done') return 'proxied';
    if (ending.kind === 'client-closed') return 'client-closed';
    if (ending.kind === 'cut-short') {
      // A body cut short may be the origin's doing: the edge's /healthz decides whether it is out.
      options.health.suspect(edge);
      log.warn({ edge: edge.id, err: ending.error.message }, 'proxied response cut short');
      exchange.cut();
      return 'upstream-error';
    }
    if (waitEnd === 'waited-too-long') {
      // The edge kept passing its probe: its origin is slow, and another edge would wait on it too.
      options.blame?.('upstream', 'edge-wait');
      log.warn({ edge: edge.id, waitedMs: options.maxWaitMs }, 'edge alive but no headers in the longest wait; origin slow');
      exchange.sendError(504, `edge ${edge.id} is waiting on its origin for ${exchange.path}`, { [UPSTREAM_FAULT_HEADER]: 'edge-wait' });
      return 'upstream-error';
    }
    // Before any byte: a refused connection is the edge's own; a failed probe ejected it already.
    const reason = waitEnd === 'edge-down' ? options.health.health(edge.id).reason : classifyConnectionError(ending.error);
    // A reset after the viewer's request reached the edge may be the edge refusing that request
    // (a malformed body, a viewer that stopped reading): a probe of the edge decides, so one
    // viewer cannot eject an edge that serves everyone else.
    if (reason === 'connection-reset' && waitEnd === undefined) {
      options.health.suspect(edge);
      if (tries > 1 && !resetRetried) {
        resetRetried = true;
        index--;
        continue;
      }
    } else if (reason && waitEnd === undefined) options.health.eject(edge, reason);
    if (reason) options.blame?.('edge', reason);
    log.warn({ edge: edge.id, err: ending.error.message, reason }, 'proxy attempt failed');
    failures.push(`${edge.id}: ${reason ?? ending.error.message}`);
  }
  exchange.sendError(502, `no edge could serve ${exchange.path} (${failures.join('; ')})`);
  return 'upstream-error';
}
