import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What a request asked for; the label on every origin metric and log line. */
export type RouteKind =
  | 'vod-playlist'
  | 'vod-segment'
  | 'live-playlist'
  | 'live-segment'
  | 'catalog'
  | 'health'
  | 'metrics'
  | 'invalid'
  | 'not-found';

export interface OriginMetrics {
  readonly registry: Registry;
  observe(kind: RouteKind, status: number, bytes: number, seconds: number): void;
  /** LL-HLS requests held for a playlist update: +1 when held, -1 when let go. */
  held(delta: 1 | -1): void;
  /** How a hold ended: ready, timeout, aborted (client left), or full (refused at the cap). */
  holdEnded(outcome: string): void;
}

/** `openConnections`: the server's accepted connections still open, read at each scrape. */
export function createOriginMetrics(openConnections: () => number): OriginMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Every connection holds an fd: a soak tells fds that grow with connections from a leak by this.
  new Gauge({
    name: 'streamedge_origin_open_connections',
    help: 'Client connections (edges, shields, health checks) open on this origin',
    registers: [registry],
    collect() {
      this.set(openConnections());
    },
  });
  const requests = new Counter({
    name: 'streamedge_origin_requests_total',
    help: 'Requests answered, by route kind and status code',
    labelNames: ['kind', 'status'] as const,
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'streamedge_origin_response_bytes_total',
    help: 'Body bytes sent, by route kind',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'streamedge_origin_request_duration_seconds',
    help: 'Time from request to the end of the response, by route kind',
    labelNames: ['kind'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const heldNow = new Gauge({
    name: 'streamedge_origin_held_requests',
    help: 'LL-HLS requests (blocking playlist reloads, preload-hinted parts) held until the playlist updates',
    registers: [registry],
  });
  const holds = new Counter({
    name: 'streamedge_origin_held_requests_total',
    help: 'Held LL-HLS requests by how the hold ended (ready, timeout, aborted, full = refused at the cap)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  return {
    registry,
    held: (delta) => heldNow.inc(delta),
    holdEnded: (outcome) => holds.inc({ outcome }),
    observe(kind, status, sent, seconds) {
      requests.inc({ kind, status: String(status) });
      bytes.inc({ kind }, sent);
      latency.observe({ kind }, seconds);
    },
  };
}
