import { Agent as HttpAgent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import httpProxy from 'http-proxy';
import { UPSTREAM_FAULT_HEADER } from '../../infra/http/upstream-fault.js';
import { classifyConnectionError } from '../health/connection-error.js';
import type { EdgeNode } from '../discovery/edge-node.js';
import type { Front, FrontOutcome, FrontRequest } from './front.js';
import { sendError } from '../http-responses.js';
import { parseIpAddress, prefixContains, type IpPrefix } from '../../infra/net/ip-prefix-table.js';
import type { PassiveHealth } from '../health/passive-health.js';
import { validateEdgeWaitOptions, watchEdgeWait, type EdgeWait, type EdgeWaitEnd } from '../health/edge-wait.js';
import { blameForStatus, type BlameRecorder } from '../health/blame.js';

export interface ProxyFrontOptions {
  readonly health: PassiveHealth;
  readonly trustedProxies: readonly IpPrefix[];
  /** No response headers from the edge within this time: its /healthz decides whether it is at fault. */
  readonly responseTimeoutMs: number;
  /** The longest wait for headers from an edge that keeps passing its /healthz (its origin is slow). */
  readonly maxWaitMs: number;
  readonly maxAttempts: number;
  readonly blame?: BlameRecorder;
}

type Attempt =
  | { readonly kind: 'done' }
  | { readonly kind: 'client-closed' }
  | { readonly kind: 'failed'; readonly error: Error; readonly waitEnd: EdgeWaitEnd | undefined };

/** One attempt's hold on its request to the edge, so a wait that ends can cut it. */
interface InFlight {
  readonly edge: EdgeNode;
  proxyReq?: ClientRequest;
  readonly wait: EdgeWait;
}

const RETRYABLE_METHODS = new Set(['GET', 'HEAD']);

/** X-Forwarded-For/-Proto: appended to when the peer is a trusted proxy, replaced otherwise. */
export function forwardedHeaders(req: IncomingMessage, trusted: readonly IpPrefix[]): { 'x-forwarded-for': string; 'x-forwarded-proto': string } {
  const peer = req.socket.remoteAddress ?? '';
  const peerAddress = parseIpAddress(peer);
  const peerText = peerAddress?.family === 4 ? peer.replace(/^::ffff:/i, '') : peer;
  const fromTrusted = peerAddress !== undefined && trusted.some((prefix) => prefixContains(prefix, peerAddress));
  const priorFor = fromTrusted ? [req.headers['x-forwarded-for']].flat().filter(Boolean).join(', ') : '';
  const priorProto = fromTrusted ? String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim() : '';
  const ownProto = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return {
    'x-forwarded-for': priorFor ? `${priorFor}, ${peerText}` : peerText,
    'x-forwarded-proto': /^https?$/.test(priorProto) ? priorProto : ownProto,
  };
}

/**
 * Streams the edge's response through the balancer. A connection failure before the edge sends
 * headers ejects that edge and, for GET and HEAD, retries the next candidate; so does a slow answer
 * when the edge then fails its /healthz (edge-wait.ts). An edge that passes it is waiting on its
 * origin: it is waited for, up to the longest wait, and never blamed. Once headers are out the
 * response is the edge's, and a body cut short is cut short for the viewer too.
 */
export function createProxyFront(options: ProxyFrontOptions): Front {
  validateEdgeWaitOptions(options);
  // Every socket a burst opened stays pooled (Node keeps only 256 idle by default and closes the
  // rest, so the next burst would pay new connections to the edge).
  const pool = { keepAlive: true, maxSockets: 512, maxFreeSockets: 512, keepAliveMsecs: 1000 };
  const agents = { http: new HttpAgent(pool), https: new HttpsAgent(pool) };
  // The socket idle timeout only backs up the wait's own longest wait (edge-wait.ts), which ends first.
  const proxy = httpProxy.createProxyServer({ xfwd: false, changeOrigin: true, proxyTimeout: options.maxWaitMs + options.responseTimeoutMs });
  const inFlight = new WeakMap<IncomingMessage, InFlight>();
  // A viewer hanging up mid-request is not the edge's fault: nothing to eject.
  proxy.on('econnreset', () => {});
  proxy.on('proxyReq', (proxyReq, req) => {
    const hold = inFlight.get(req);
    if (hold) hold.proxyReq = proxyReq;
  });
  proxy.on('proxyRes', (proxyRes, req, res) => {
    const hold = inFlight.get(req);
    hold?.wait.stop();
    const blame = blameForStatus(proxyRes.statusCode ?? 0, proxyRes.headers);
    if (blame) options.blame?.(blame.party, blame.reason);
    // A 5xx of the edge's own: its /healthz decides whether it stays in.
    if (blame?.party === 'edge' && hold) options.health.suspect(hold.edge);
    const cut = (): void => {
      if (!res.writableFinished) res.destroy();
    };
    proxyRes.once('aborted', cut);
    proxyRes.once('error', cut);
  });

  const attempt = (req: IncomingMessage, res: ServerResponse, edge: EdgeNode): Promise<Attempt> =>
    new Promise((resolve) => {
      let waitEnd: EdgeWaitEnd | undefined;
      const wait = watchEdgeWait(options, edge, (end) => {
        waitEnd = end;
        inFlight.get(req)?.proxyReq?.destroy(new Error(end === 'edge-down' ? `edge ${edge.id} failed its health probe` : `edge ${edge.id} sent no headers within ${options.maxWaitMs} ms`));
      });
      inFlight.set(req, { edge, wait });
      const onClose = (): void => {
        wait.stop();
        resolve(res.writableFinished ? { kind: 'done' } : { kind: 'client-closed' });
      };
      res.once('close', onClose);
      const agent = edge.url.startsWith('https:') ? agents.https : agents.http;
      proxy.web(req, res, { target: edge.url, agent }, (error) => {
        wait.stop();
        res.off('close', onClose);
        resolve({ kind: 'failed', error, waitEnd });
      });
    });

  return {
    name: 'proxy',
    async handle({ req, res, target, router, log }: FrontRequest): Promise<FrontOutcome> {
      const route = router.route(req, target.assetKey);
      if (route.candidates.length === 0) {
        sendError(res, 503, 'no healthy edge available', { 'retry-after': '2' });
        return 'no-edge';
      }
      Object.assign(req.headers, forwardedHeaders(req, options.trustedProxies));
      delete req.headers['x-streamedge-region'];
      req.url = `${target.path}${target.query ? `?${target.query}` : ''}`;
      const retryable = RETRYABLE_METHODS.has(req.method ?? '');
      const failures: string[] = [];
      for (const edge of route.candidates.slice(0, retryable ? options.maxAttempts : 1)) {
        if (!options.health.isAvailable(edge.id)) continue;
        router.commit(route, edge);
        const result = await attempt(req, res, edge);
        if (result.kind === 'done') return 'proxied';
        if (result.kind === 'client-closed') return 'client-closed';
        if (result.waitEnd === 'waited-too-long') {
          // The edge kept passing its probe: its origin is slow, and another edge would wait on it too.
          options.blame?.('upstream', 'edge-wait');
          log.warn({ edge: edge.id, waitedMs: options.maxWaitMs }, 'edge alive but no headers in the longest wait; origin slow');
          sendError(res, 504, `edge ${edge.id} is waiting on its origin for ${target.path}`, { [UPSTREAM_FAULT_HEADER]: 'edge-wait' });
          return 'upstream-error';
        }
        if (res.headersSent) {
          // A body cut short may be the origin's doing: the edge's /healthz decides whether it is out.
          options.health.suspect(edge);
          log.warn({ edge: edge.id, err: result.error.message }, 'proxied body cut short');
          res.destroy();
          return 'upstream-error';
        }
        // Before any byte: a refused or reset connection is the edge's own; a failed probe ejected it already.
        const reason = result.waitEnd === 'edge-down' ? options.health.health(edge.id).reason : classifyConnectionError(result.error);
        if (reason && result.waitEnd === undefined) options.health.eject(edge, reason);
        if (reason) options.blame?.('edge', reason);
        failures.push(`${edge.id}: ${reason ?? result.error.message}`);
        log.warn({ edge: edge.id, err: result.error.message, reason }, 'proxy attempt failed');
      }
      sendError(res, 502, `no edge could serve ${target.path} (${failures.join('; ')})`);
      return 'upstream-error';
    },
    async close() {
      proxy.close();
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
