import { Agent as HttpAgent, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import httpProxy from 'http-proxy';
import { clientTrust } from '../../infra/tls/tls-credentials.js';
import { classifyConnectionError } from '../health/connection-error.js';
import type { EdgeNode } from '../discovery/edge-node.js';
import type { Front, FrontOutcome, FrontRequest } from './front.js';
import { sendError } from '../http-responses.js';
import { parseIpAddress, prefixContains, type IpPrefix } from '../location/ip-prefix-table.js';
import type { PassiveHealth } from '../health/passive-health.js';

export interface ProxyFrontOptions {
  readonly health: PassiveHealth;
  readonly trustedProxies: readonly IpPrefix[];
  /** No response headers from the edge within this time counts as a failed attempt. */
  readonly responseTimeoutMs: number;
  readonly maxAttempts: number;
  /** Extra CA (PEM) trusted for https edges, beside the system roots. */
  readonly edgeCa?: string | undefined;
}

type Attempt = { readonly kind: 'done' } | { readonly kind: 'client-closed' } | { readonly kind: 'failed'; readonly error: Error };

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
 * Streams the edge's response through the balancer. A connection failure or a timeout before the
 * edge sends headers ejects that edge and, for GET and HEAD, retries the next candidate; once
 * headers are out the response is the edge's, and a body cut short is cut short for the viewer too.
 */
export function createProxyFront(options: ProxyFrontOptions): Front {
  // Every socket a burst opened stays pooled (Node keeps only 256 idle by default and closes the
  // rest, so the next burst would pay new connections to the edge).
  const pool = { keepAlive: true, maxSockets: 512, maxFreeSockets: 512, keepAliveMsecs: 1000 };
  const agents = { http: new HttpAgent(pool), https: new HttpsAgent({ ...pool, ...clientTrust(options.edgeCa) }) };
  const proxy = httpProxy.createProxyServer({ xfwd: false, changeOrigin: true, proxyTimeout: options.responseTimeoutMs });
  // A viewer hanging up mid-request is not the edge's fault: nothing to eject.
  proxy.on('econnreset', () => {});
  proxy.on('proxyRes', (proxyRes, _req, res) => {
    const cut = (): void => {
      if (!res.writableFinished) res.destroy();
    };
    proxyRes.once('aborted', cut);
    proxyRes.once('error', cut);
  });

  const attempt = (req: IncomingMessage, res: ServerResponse, edge: EdgeNode): Promise<Attempt> =>
    new Promise((resolve) => {
      const onClose = (): void => resolve(res.writableFinished ? { kind: 'done' } : { kind: 'client-closed' });
      res.once('close', onClose);
      const agent = edge.url.startsWith('https:') ? agents.https : agents.http;
      proxy.web(req, res, { target: edge.url, agent }, (error) => {
        res.off('close', onClose);
        resolve({ kind: 'failed', error });
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
        const startedAt = Date.now();
        const result = await attempt(req, res, edge);
        if (result.kind === 'done') return 'proxied';
        if (result.kind === 'client-closed') return 'client-closed';
        // http-proxy reports its own timeout as a hung-up socket; the clock tells them apart.
        const timedOut = !res.headersSent && Date.now() - startedAt >= options.responseTimeoutMs;
        const reason = timedOut ? 'response-timeout' : classifyConnectionError(result.error);
        if (reason) options.health.eject(edge, reason);
        failures.push(`${edge.id}: ${reason ?? result.error.message}`);
        log.warn({ edge: edge.id, err: result.error.message, reason }, 'proxy attempt failed');
        if (res.headersSent) {
          res.destroy();
          return 'upstream-error';
        }
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
