// Which endpoint answers a request: CORS and methods first, then media paths to the front,
// steering manifests to the steering front, the fixed endpoints (the dashboard's data among them),
// and the player's and dashboard's files last.
// The parts it routes to are built in balancer-wiring.ts; this file only dispatches.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkBearer } from '../infra/auth/bearer-token.js';
import { withoutTokenParams, type UrlTokenVerifier } from '../infra/auth/url-token.js';
import type { Logger } from '../infra/runtime/logger.js';
import type { ClusterReports } from './balancer-cluster.js';
import type { BalancerMetrics } from './balancer-metrics.js';
import type { CatalogCache } from './catalog-cache.js';
import { DASHBOARD_SAMPLES_PATH, type DashboardData } from './dashboard/dashboard-data.js';
import { UpstreamError } from './fronts/edge-fetch.js';
import type { Front, FrontName } from './fronts/front.js';
import { STEERING_PREFIX, type SteeringFront } from './fronts/steering-front.js';
import type { PassiveHealth } from './health/passive-health.js';
import { sendError, sendJson } from './http-responses.js';
import { ViewerInputError } from './location/viewer-location.js';
import { parseMediaTarget } from './request-target.js';
import type { EdgeRouter } from './selection/edge-router.js';
import { renderStatusHtml, type StatusReport } from './status-report.js';

/** What the endpoints answer from; everything is built once by createBalancer. */
export interface BalancerParts {
  readonly mode: FrontName;
  readonly log: Logger;
  readonly router: EdgeRouter;
  readonly health: PassiveHealth;
  readonly metrics: BalancerMetrics;
  /** The front media requests go to (the steering front in steering mode). */
  readonly front: Front;
  /** Answers steering-manifest requests, whatever the mode. */
  readonly steering: SteeringFront;
  readonly catalog: CatalogCache;
  readonly servePlayer: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<string>;
  /** This process's /status report. */
  readonly status: () => StatusReport;
  /** /dashboard/samples: the operations dashboard's data. */
  readonly dashboard: DashboardData;
  /** With --workers: /metrics and /status answer for the whole cluster through these. */
  readonly cluster?: ClusterReports;
  /** Signed URLs: media paths and steering manifests need a valid token (undefined = not checked). */
  readonly urlTokens?: UrlTokenVerifier | undefined;
  /** /metrics and /status need this bearer token (undefined = open). */
  readonly metricsToken?: string | undefined;
}

/** Endpoints that describe the topology: behind the metrics token when one is set. */
const GUARDED_PATHS: ReadonlySet<string> = new Set(['/metrics', '/status', '/status.html']);

const READ_METHODS = new Set(['GET', 'HEAD']);
const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'X-Streamedge-Region, Range',
  'access-control-max-age': '600',
};

/** The request listener: routes each request to its endpoint; a failure becomes a 4xx or 500 answer. */
export function createBalancerRoutes(parts: BalancerParts): (req: IncomingMessage, res: ServerResponse) => void {
  const { log, router, health, metrics, front, steering, catalog, servePlayer, status, dashboard } = parts;
  const clusterStatus = async (): Promise<StatusReport> => (parts.cluster ? parts.cluster.status(status()) : status());

  /** Signed URLs: the token's parameters to carry on ('' without a verifier), or undefined once refused with 403. */
  const checkToken = (req: IncomingMessage, res: ServerResponse, target: string): string | undefined => {
    if (!parts.urlTokens) return '';
    const check = parts.urlTokens.check(target, req.socket.remoteAddress);
    if (check.ok) return check.tokenQuery;
    sendError(res, 403, check.reason);
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawUrl = req.url ?? '';
    if (!rawUrl.startsWith('/')) {
      sendError(res, 400, 'request target must be an absolute path');
      return;
    }
    const path = rawUrl.split('?', 1)[0]!;
    const isMedia = path.startsWith('/vod/') || path.startsWith('/live/');
    if (isMedia && parts.mode === 'proxy') {
      // The edge answers CORS preflights itself.
      if (!READ_METHODS.has(req.method ?? '') && req.method !== 'OPTIONS') {
        sendError(res, 405, 'method not allowed', { allow: 'GET, HEAD, OPTIONS' });
        return;
      }
    } else {
      for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value);
      if (req.method === 'OPTIONS') {
        res.writeHead(204);
        res.end();
        return;
      }
      if (!READ_METHODS.has(req.method ?? '')) {
        sendError(res, 405, 'method not allowed', { allow: 'GET, HEAD, OPTIONS' });
        return;
      }
    }

    if (isMedia) {
      const parsed = parseMediaTarget(rawUrl);
      if (!('target' in parsed)) {
        sendError(res, parsed.status, parsed.reason);
        metrics.request(front.name, 'bad-request');
        return;
      }
      const tokenQuery = checkToken(req, res, rawUrl);
      if (tokenQuery === undefined) {
        metrics.request(front.name, 'token-refused');
        return;
      }
      const outcome = await front.handle({ req, res, target: parsed.target, router, log, tokenQuery });
      metrics.request(front.name, outcome);
      return;
    }
    if (path.startsWith(STEERING_PREFIX)) {
      // A steering manifest is in the scope of its title's master playlist.
      const question = rawUrl.indexOf('?');
      const tokenQuery = checkToken(req, res, `/${path.slice(STEERING_PREFIX.length)}/master.m3u8${question === -1 ? '' : rawUrl.slice(question)}`);
      if (tokenQuery === undefined) {
        metrics.request('steering', 'token-refused');
        return;
      }
      metrics.request('steering', steering.handleManifest(req, res, router, log, tokenQuery));
      return;
    }
    if (parts.metricsToken !== undefined && GUARDED_PATHS.has(path)) {
      const check = checkBearer(req.headers.authorization, parts.metricsToken);
      if (check === 'missing') {
        sendError(res, 401, 'unauthorized: send Authorization: Bearer <token>', { 'www-authenticate': 'Bearer realm="streamedge-metrics"' });
        return;
      }
      if (check === 'wrong') {
        sendError(res, 403, 'forbidden: wrong token');
        return;
      }
    }
    switch (path) {
      case '/healthz':
        res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
        res.end('ok\n');
        return;
      case '/readyz': {
        const ready = router.snapshot.edges.some((edge) => health.isAvailable(edge.id));
        sendError(res, ready ? 200 : 503, ready ? 'ready' : 'no healthy edge');
        return;
      }
      case '/metrics': {
        let answer;
        try {
          answer = parts.cluster ? await parts.cluster.metrics() : { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
        } catch (error) {
          // A scrape that fails is visible in Prometheus; one worker's share passed off as the cluster's is not.
          sendError(res, 503, `metrics unavailable: ${(error as Error).message}`);
          return;
        }
        res.writeHead(200, { 'content-type': answer.contentType, 'cache-control': 'no-store' });
        res.end(answer.body);
        return;
      }
      case '/status':
      case '/status.html': {
        const wantsHtml = path === '/status.html' || (/\btext\/html\b/.test(req.headers.accept ?? '') && !/\bapplication\/json\b/.test(req.headers.accept ?? ''));
        const report = await clusterStatus();
        if (!wantsHtml) {
          sendJson(res, 200, report, { vary: 'Accept' });
        } else {
          const html = renderStatusHtml(report);
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store', vary: 'Accept' });
          res.end(req.method === 'HEAD' ? undefined : html);
        }
        metrics.request('status', 'served');
        return;
      }
      case '/catalog.json': {
        try {
          const route = router.route(req, 'catalog');
          const answer = await catalog.get(route.candidates);
          res.writeHead(200, {
            'content-type': 'application/json; charset=utf-8',
            'content-length': answer.body.length,
            'cache-control': 'public, max-age=5',
            'x-streamedge-edge': answer.edgeId,
            ...(answer.stale ? { warning: '110 - "stale catalog: no edge answered"' } : {}),
          });
          res.end(req.method === 'HEAD' ? undefined : answer.body);
          metrics.request('catalog', answer.stale ? 'stale' : 'served');
        } catch (error) {
          if (error instanceof ViewerInputError) throw error;
          sendError(res, error instanceof UpstreamError ? error.status : 502, `catalog unavailable: ${(error as Error).message}`);
          metrics.request('catalog', 'upstream-error');
        }
        return;
      }
      case DASHBOARD_SAMPLES_PATH:
        metrics.request('dashboard', await dashboard.answer(req, res, await clusterStatus()));
        return;
    }
    if (path === '/' || path === '/index.html' || path === '/dashboard' || path.startsWith('/assets/')) {
      metrics.request('player', await servePlayer(req, res, path));
      return;
    }
    sendError(res, 404, 'not found');
  };


  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof ViewerInputError) {
        sendError(res, error.status, error.message);
        metrics.request(front.name, 'bad-request');
        return;
      }
      log.error({ err: error, url: withoutTokenParams(req.url ?? '').slice(0, 200) }, 'request failed');
      sendError(res, 500, 'internal error');
    });
  };
}
