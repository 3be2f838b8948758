import { randomBytes } from 'node:crypto';
import type { EdgeFetcher } from './edge-fetch.js';
import { UpstreamError } from './edge-fetch.js';
import { UPSTREAM_FAULT_HEADER } from '../../infra/http/upstream-fault.js';
import type { EdgeRouter } from '../selection/edge-router.js';
import type { Front, FrontOutcome, FrontRequest } from './front.js';
import { sendError, sendJson } from '../http-responses.js';
import { PlaylistError, rewriteMasterPlaylist } from '../steering/master-playlist-rewrite.js';
import type { PassiveHealth } from '../health/passive-health.js';
import { parseMediaTarget, type MediaTarget } from '../request-target.js';
import type { SessionTracker } from '../selection/session-tracker.js';
import { buildSteeringManifest, demotionsFromReport, issuedPathwayReport, parseViewerReport, SteeringQueryError, type SlownessPolicy } from '../steering/steering-manifest.js';
import type { Logger } from '../../infra/runtime/logger.js';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface SteeringFrontOptions {
  readonly fetcher: EdgeFetcher;
  readonly health: PassiveHealth;
  readonly sessions: SessionTracker;
  /** Non-master media requests (a player without steering support, a direct link) are redirected. */
  readonly fallback: Front;
  /** Steering manifest TTL in seconds: how often players come back for a new priority. */
  readonly ttlSeconds: number;
  /** When a viewer's throughput report makes a pathway slow for it (relative to its other pathways). */
  readonly slowness: SlownessPolicy;
  /** How long a viewer's report keeps a pathway demoted. */
  readonly demotionMs: number;
  /** Pathways written into a master playlist (best first); bounds the playlist size. */
  readonly maxPathways: number;
}

const MAX_MASTER_BYTES = 1024 * 1024;
const SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/;
export const STEERING_PREFIX = '/steering/';

function steeringUri(target: MediaTarget, sessionId: string, hintedRegion: string | undefined, tokenQuery: string): string {
  const query = new URLSearchParams({ session: sessionId });
  if (hintedRegion) query.set('region', hintedRegion);
  for (const [name, value] of new URLSearchParams(tokenQuery)) query.set(name, value);
  return `${STEERING_PREFIX}${target.kind}/${target.asset}?${query}`;
}

export interface SteeringFront extends Front {
  /** GET /steering/<kind>/<asset>?session=…: this viewer's current pathway priority. */
  handleManifest(req: IncomingMessage, res: ServerResponse, router: EdgeRouter, log: Logger, tokenQuery: string): FrontOutcome;
}

/**
 * HLS content steering: the master playlist, fetched through the best edge, gets one pathway per
 * candidate edge; the steering manifest then tells this viewer, every TTL seconds, which pathway
 * to use, so hls.js moves by itself when an edge dies or the balancer changes its mind.
 */
export function createSteeringFront(options: SteeringFrontOptions): SteeringFront {
  return {
    name: 'steering',
    async handle(request: FrontRequest): Promise<FrontOutcome> {
      const { req, res, target, router, tokenQuery } = request;
      if (!target.isMaster) return options.fallback.handle(request);
      const sessionId = randomBytes(12).toString('base64url');
      const route = router.route(req, target.assetKey, sessionId);
      if (route.candidates.length === 0) {
        sendError(res, 503, 'no healthy edge available', { 'retry-after': '2' });
        return 'no-edge';
      }
      let response;
      try {
        // The viewer's token goes along: an edge with the same keys checks it too.
        response = await options.fetcher.fetch(route.candidates, tokenQuery === '' ? target.path : `${target.path}?${tokenQuery}`, MAX_MASTER_BYTES);
      } catch (error) {
        if (!(error instanceof UpstreamError)) throw error;
        sendError(res, error.status, error.message, error.upstreamFault === undefined ? {} : { [UPSTREAM_FAULT_HEADER]: error.upstreamFault });
        return error.status === 503 ? 'no-edge' : 'upstream-error';
      }
      if (response.status !== 200) {
        sendError(res, response.status === 404 ? 404 : 502, response.status === 404 ? `unknown asset ${target.assetKey}` : `edge answered ${response.status}`);
        return response.status === 404 ? 'upstream-4xx' : 'upstream-error';
      }
      const served = response.edge;
      const pathways = [served, ...route.candidates.filter((edge) => edge !== served && options.health.isAvailable(edge.id))].slice(0, options.maxPathways);
      let playlist: string;
      try {
        playlist = rewriteMasterPlaylist({
          master: response.body.toString('utf8'),
          masterPath: target.path,
          pathways: pathways.map((edge) => ({ id: edge.id, baseUrl: edge.url })),
          steeringUri: steeringUri(target, sessionId, route.viewer.source === 'hint' ? route.viewer.place?.region : undefined, tokenQuery),
          childQuery: tokenQuery,
        });
      } catch (error) {
        if (!(error instanceof PlaylistError)) throw error;
        sendError(res, 502, `edge ${served.id} served an unusable master playlist: ${error.message}`);
        return 'upstream-error';
      }
      const session = router.commit(route, served);
      session.pathways = pathways.map((edge) => edge.id);
      session.advertised = served.id;
      res.writeHead(200, {
        'content-type': 'application/vnd.apple.mpegurl',
        'content-length': Buffer.byteLength(playlist),
        // Per viewer: its own session and pathway order.
        'cache-control': 'no-store',
        'x-streamedge-edge': served.id,
      });
      res.end(req.method === 'HEAD' ? undefined : playlist);
      return 'steered';
    },

    handleManifest(req, res, router, _log, tokenQuery) {
      const url = new URL(req.url ?? '/', 'http://balancer.invalid');
      const parsed = parseMediaTarget(`/${url.pathname.slice(STEERING_PREFIX.length)}/master.m3u8`);
      if (!('target' in parsed)) {
        sendError(res, parsed.status, parsed.reason);
        return 'bad-request';
      }
      const target = parsed.target;
      const sessionIds = url.searchParams.getAll('session');
      if (sessionIds.length !== 1 || !SESSION_ID.test(sessionIds[0]!)) {
        sendError(res, 400, 'steering manifest needs one well-formed "session" parameter');
        return 'bad-request';
      }
      const sessionId = sessionIds[0]!;
      let report;
      try {
        report = parseViewerReport(url.searchParams);
      } catch (error) {
        if (!(error instanceof SteeringQueryError)) throw error;
        sendError(res, 400, error.message);
        return 'bad-request';
      }
      const known = options.sessions.get(sessionId);
      report = issuedPathwayReport(report, (pathway) => (known?.pathways ? known.pathways.includes(pathway) : router.snapshot.byId.has(pathway)));
      const now = Date.now();
      const context = { advertised: known?.advertised, report, history: known?.throughput ?? new Map(), now };
      for (const demotion of demotionsFromReport(context, options.slowness)) {
        options.sessions.demote(sessionId, demotion.edgeId, options.demotionMs);
        const edge = router.snapshot.byId.get(demotion.edgeId);
        if (edge && demotion.reason === 'viewer-moved-away') options.health.suspect(edge);
      }
      const route = router.route(req, target.assetKey, sessionId);
      const inPlaylist = known?.pathways;
      const priority = route.candidates.filter((edge) => !inPlaylist || inPlaylist.includes(edge.id));
      const best = priority[0];
      if (!best) {
        sendError(res, 503, 'no healthy edge available', { 'retry-after': String(options.ttlSeconds) });
        return 'no-edge';
      }
      const session = router.commit(route, best);
      session.pathways = inPlaylist ?? route.candidates.map((edge) => edge.id);
      session.advertised = best.id;
      // Only pathways of its playlist: a viewer cannot grow this map with made-up ids.
      if (report.pathway !== undefined && report.throughput && session.pathways.includes(report.pathway)) {
        session.throughput.set(report.pathway, { bps: report.throughput, at: now });
      }
      const reloadUri = steeringUri(target, sessionId, route.viewer.source === 'hint' ? route.viewer.place?.region : undefined, tokenQuery);
      sendJson(res, 200, buildSteeringManifest(priority.map((edge) => edge.id), options.ttlSeconds, reloadUri));
      return 'steering-manifest';
    },
  };
}
