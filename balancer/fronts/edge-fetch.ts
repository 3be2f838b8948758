import { Agent, request } from 'undici';
import { clientTrust } from '../../infra/tls/tls-credentials.js';
import { withoutTokenParams } from '../../infra/auth/url-token.js';
import type { EdgeNode } from '../discovery/edge-node.js';
import { classifyConnectionError } from '../health/connection-error.js';
import type { PassiveHealth } from '../health/passive-health.js';
import { blameForStatus, type BlamedParty, type BlameRecorder } from '../health/blame.js';
import { validateEdgeWaitOptions, watchEdgeWait, type EdgeWaitEnd } from '../health/edge-wait.js';

/** A failure fetching through edges: where it came from and whether another edge may help. */
export class UpstreamError extends Error {
  readonly source = 'upstream';
  constructor(
    message: string,
    readonly status: number,
    readonly retryable: boolean,
    /** Set when the fault lies upstream of the edges (their origin), for the viewer's answer. */
    readonly upstreamFault?: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export interface EdgeResponse {
  readonly edge: EdgeNode;
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** Edges tried before this one, with what went wrong. */
  readonly failures: readonly { edgeId: string; reason: string }[];
}

/** One connection pool to every edge, shared by fetches and liveness probes. */
export function createEdgeAgent(connectTimeoutMs: number, responseTimeoutMs: number, edgeCa?: string): Agent {
  return new Agent({
    // https edges: the system roots and --tls-ca; certificates are always verified.
    connect: { timeout: connectTimeoutMs, ...clientTrust(edgeCa) },
    headersTimeout: responseTimeoutMs,
    bodyTimeout: responseTimeoutMs,
    keepAliveTimeout: 4_000,
  });
}

export interface EdgeFetcherOptions {
  readonly health: PassiveHealth;
  readonly agent: Agent;
  /** No headers by then: the edge's /healthz decides whether it is at fault (edge-wait.ts); also bounds reading a body. */
  readonly responseTimeoutMs: number;
  /** The longest wait for headers from an edge that keeps passing its /healthz (its origin is slow). */
  readonly maxWaitMs: number;
  /** At most this many candidates are tried per request. */
  readonly maxAttempts: number;
  readonly blame?: BlameRecorder;
}

export interface EdgeFetcher {
  /**
   * GETs `path` from the first candidate that answers; 4xx answers are final, 5xx and connection
   * failures move on. An edge is ejected only for its own failings (health/blame.ts).
   */
  fetch(candidates: readonly EdgeNode[], path: string, maxBytes: number): Promise<EdgeResponse>;
}

type Attempt = { readonly response: EdgeResponse } | { readonly failure: string };

export function createEdgeFetcher(options: EdgeFetcherOptions): EdgeFetcher {
  validateEdgeWaitOptions(options);
  const agent = options.agent;
  const blame = (party: BlamedParty, reason: string): void => options.blame?.(party, reason);

  const attempt = async (edge: EdgeNode, path: string, maxBytes: number, failures: EdgeResponse['failures']): Promise<Attempt> => {
    const controller = new AbortController();
    let waitEnd: EdgeWaitEnd | undefined;
    const wait = watchEdgeWait(options, edge, (end) => {
      waitEnd = end;
      controller.abort(new Error(end));
    });
    let bodyTimer: NodeJS.Timeout | undefined;
    try {
      const response = await request(`${edge.url}${path}`, {
        method: 'GET',
        dispatcher: agent,
        headers: { accept: '*/*' },
        signal: controller.signal,
        // The wait above decides about slow headers; this only backs it up.
        headersTimeout: options.maxWaitMs + options.responseTimeoutMs,
      });
      wait.stop();
      bodyTimer = setTimeout(() => controller.abort(new Error('body too slow')), options.responseTimeoutMs);
      const declared = Number(response.headers['content-length'] ?? 0);
      if (declared > maxBytes) {
        response.body.destroy();
        return { failure: 'too-large' };
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) break;
        chunks.push(chunk as Buffer);
      }
      if (size > maxBytes) {
        response.body.destroy();
        return { failure: 'too-large' };
      }
      const verdict = blameForStatus(response.statusCode, () => response.headers);
      if (verdict) {
        blame(verdict.party, verdict.reason);
        // A 5xx of the edge's own: its /healthz decides whether it stays in.
        if (verdict.party === 'edge') options.health.suspect(edge);
      }
      if (response.statusCode >= 500) return { failure: `status ${response.statusCode}${verdict?.party === 'upstream' ? ` (upstream: ${verdict.reason})` : ''}` };
      return { response: { edge, status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks), failures } };
    } catch (error) {
      wait.stop();
      if (waitEnd === 'waited-too-long') {
        // The edge kept passing its probe: its origin is slow, and another edge would wait on it too.
        blame('upstream', 'edge-wait');
        throw new UpstreamError(`edge ${edge.id} is waiting on its origin for ${withoutTokenParams(path)}`, 504, false, 'edge-wait');
      }
      // A failed probe already ejected the edge; a refused or reset connection is the edge's own.
      const reason = waitEnd === 'edge-down' ? options.health.health(edge.id).reason ?? 'probe-failed' : classifyConnectionError(error);
      if (reason && waitEnd === undefined) options.health.eject(edge, reason);
      if (reason) blame('edge', reason);
      return { failure: reason ?? (error as Error).message };
    } finally {
      clearTimeout(bodyTimer);
    }
  };

  return {
    async fetch(candidates, path, maxBytes) {
      const failures: { edgeId: string; reason: string }[] = [];
      for (const edge of candidates.slice(0, options.maxAttempts)) {
        if (!options.health.isAvailable(edge.id)) continue;
        const result = await attempt(edge, path, maxBytes, failures);
        if ('response' in result) return result.response;
        failures.push({ edgeId: edge.id, reason: result.failure });
      }
      const detail = failures.map((failure) => `${failure.edgeId}: ${failure.reason}`).join('; ');
      throw new UpstreamError(failures.length ? `no edge could serve ${withoutTokenParams(path)} (${detail})` : 'no healthy edge available', failures.length ? 502 : 503, true);
    },
  };
}
