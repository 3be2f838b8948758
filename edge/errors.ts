/** Where a failure came from; "serve stale?" and "try the next replica?" decide from it. */
export type ErrorSource = 'upstream' | 'downstream' | 'internal';

export interface EdgeErrorOptions {
  readonly source: ErrorSource;
  /** True when the same request may succeed against another replica or a little later. */
  readonly retryable: boolean;
  /** The HTTP status a viewer gets when nothing better (stale) can be served. */
  readonly status: number;
  /** A short printable name reused in logs and metric labels, e.g. `connect`, `timeout`, `length-mismatch`. */
  readonly reason: string;
  /** The edge's own refusal (e.g. origin fetches saturated): seconds a viewer is told to wait (Retry-After). */
  readonly retryAfterSeconds?: number;
  readonly cause?: unknown;
}

export class EdgeError extends Error {
  readonly source: ErrorSource;
  readonly retryable: boolean;
  readonly status: number;
  readonly reason: string;
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, options: EdgeErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EdgeError';
    this.source = options.source;
    this.retryable = options.retryable;
    this.status = options.status;
    this.reason = options.reason;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** ECONNRESET on an upstream socket, renamed so undici fails the response it cut (upstream-client.ts). */
export const UPSTREAM_RESET_CODE = 'ECONNRESET_UPSTREAM';

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', UPSTREAM_RESET_CODE, 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** Classifies whatever an upstream fetch threw (undici or socket errors) as an upstream EdgeError. */
export function upstreamError(error: unknown, replica?: string): EdgeError {
  if (error instanceof EdgeError) return error;
  const code = (error as { code?: string } | null)?.code ?? '';
  const message = (error as Error | null)?.message ?? String(error);
  const where = replica ? ` (${replica})` : '';
  if (TIMEOUT_CODES.has(code)) {
    return new EdgeError(`origin timed out${where}: ${message}`, { source: 'upstream', retryable: true, status: 504, reason: 'timeout', cause: error });
  }
  if (CONNECT_CODES.has(code) || code === 'UND_ERR_SOCKET' || code.startsWith('UND_ERR_')) {
    return new EdgeError(`origin unreachable${where}: ${message}`, { source: 'upstream', retryable: true, status: 502, reason: 'connect', cause: error });
  }
  return new EdgeError(`origin failed${where}: ${message}`, { source: 'upstream', retryable: true, status: 502, reason: 'error', cause: error });
}
