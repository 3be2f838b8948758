import { Agent, request } from 'undici';
import { clientTrust } from '../../infra/tls/tls-credentials.js';
import { withoutTokenParams } from '../../infra/auth/url-token.js';
import type { EdgeNode } from '../discovery/edge-node.js';
import { classifyConnectionError } from '../health/connection-error.js';
import type { PassiveHealth } from '../health/passive-health.js';

/** A failure fetching through edges: where it came from and whether another edge may help. */
export class UpstreamError extends Error {
  readonly source = 'upstream';
  constructor(
    message: string,
    readonly status: number,
    readonly retryable: boolean,
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
  readonly responseTimeoutMs: number;
  /** At most this many candidates are tried per request. */
  readonly maxAttempts: number;
}

export interface EdgeFetcher {
  /** GETs `path` from the first candidate that answers; 4xx answers are final, 5xx and connection failures move on. */
  fetch(candidates: readonly EdgeNode[], path: string, maxBytes: number): Promise<EdgeResponse>;
}

export function createEdgeFetcher(options: EdgeFetcherOptions): EdgeFetcher {
  const agent = options.agent;
  return {
    async fetch(candidates, path, maxBytes) {
      const failures: { edgeId: string; reason: string }[] = [];
      for (const edge of candidates.slice(0, options.maxAttempts)) {
        if (!options.health.isAvailable(edge.id)) continue;
        try {
          const response = await request(`${edge.url}${path}`, {
            method: 'GET',
            dispatcher: agent,
            headers: { accept: '*/*' },
            signal: AbortSignal.timeout(options.responseTimeoutMs * 2),
          });
          const declared = Number(response.headers['content-length'] ?? 0);
          if (declared > maxBytes) {
            response.body.destroy();
            failures.push({ edgeId: edge.id, reason: 'too-large' });
            continue;
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
            failures.push({ edgeId: edge.id, reason: 'too-large' });
            continue;
          }
          if (response.statusCode >= 500) {
            failures.push({ edgeId: edge.id, reason: `status ${response.statusCode}` });
            continue;
          }
          return { edge, status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks), failures };
        } catch (error) {
          const reason = classifyConnectionError(error);
          if (reason) options.health.eject(edge, reason);
          failures.push({ edgeId: edge.id, reason: reason ?? (error as Error).message });
        }
      }
      const detail = failures.map((failure) => `${failure.edgeId}: ${failure.reason}`).join('; ');
      throw new UpstreamError(failures.length ? `no edge could serve ${withoutTokenParams(path)} (${detail})` : 'no healthy edge available', failures.length ? 502 : 503, true);
    },
  };
}
