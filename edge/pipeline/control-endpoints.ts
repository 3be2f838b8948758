// /healthz, /readyz, /metrics and POST /admin/purge: answered before the cache is consulted.
import { checkBearer } from '../../infra/auth/bearer-token.js';
import { hasForbiddenCharacter } from '../../infra/http/request-path.js';
import { MAX_TARGET_LENGTH } from '../cache/cache-key.js';
import type { EdgeServices, PurgeRequest } from './edge-services.js';
import type { RequestContext } from './request-context.js';
import { account, sendJson, sendText } from './responses.js';

const MAX_PURGE_BODY = 64 * 1024;

const CONTROL_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/admin/purge']);

/** The control endpoint a request target names (its path, query ignored), if any. */
export function controlPathOf(target: string): string | undefined {
  const question = target.indexOf('?');
  const path = question === -1 ? target : target.slice(0, question);
  return CONTROL_PATHS.has(path) ? path : undefined;
}

/**
 * A control endpoint spelled another way (`//metrics`, `/%6detrics`, `/x/../metrics`,
 * `/metrics/`): the cache key it normalises to (cache-key.ts), with or without one trailing slash,
 * names a control path. Refused, never forwarded: the origin's own /metrics is not the viewers'.
 */
export function isDisguisedControlPath(key: string): boolean {
  const question = key.indexOf('?');
  const path = question === -1 ? key : key.slice(0, question);
  return CONTROL_PATHS.has(path) || (path.endsWith('/') && CONTROL_PATHS.has(path.slice(0, -1)));
}

/** False once a request without the right bearer token has been answered 401 or 403. */
function authorized(services: EdgeServices, ctx: RequestContext, expected: string, realm: string): boolean {
  const check = checkBearer(ctx.req.headers.authorization, expected);
  if (check === 'missing') {
    sendText(services, ctx, 401, 'unauthorized: send Authorization: Bearer <token>', ['www-authenticate', `Bearer realm="${realm}"`]);
    return false;
  }
  if (check === 'wrong') {
    sendText(services, ctx, 403, 'forbidden: wrong token');
    return false;
  }
  return true;
}

function readBody(ctx: RequestContext, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    ctx.req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        ctx.req.removeAllListeners('data');
        ctx.req.resume();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    ctx.req.on('end', () => resolve(Buffer.concat(chunks)));
    ctx.req.on('error', reject);
  });
}

/** Validates a purge body: `{"key": "/path"}` or `{"prefix": "/path/"}`, exactly one of them. */
export function parsePurgeRequest(services: EdgeServices, text: string): PurgeRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'body is not valid JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'body must be a JSON object';
  const { key, prefix } = value as { key?: unknown; prefix?: unknown };
  if ((key === undefined) === (prefix === undefined)) return 'give exactly one of "key" or "prefix"';
  const target = key ?? prefix;
  if (typeof target !== 'string' || !target.startsWith('/')) return '"key"/"prefix" must be a string starting with /';
  if (key !== undefined) {
    const normalized = services.cacheKey(target);
    if (!normalized.ok) return `bad key: ${normalized.reason}`;
    return { key: normalized.key };
  }
  if (target.length > MAX_TARGET_LENGTH || hasForbiddenCharacter(target)) return 'bad prefix';
  return { prefix: target };
}

async function purge(services: EdgeServices, ctx: RequestContext): Promise<void> {
  if (services.adminToken === undefined) {
    sendText(services, ctx, 404, 'not found (admin endpoints are disabled: no --admin-token configured)');
    return;
  }
  if (ctx.req.method !== 'POST') {
    sendText(services, ctx, 405, 'method not allowed: use POST', ['allow', 'POST']);
    return;
  }
  if (!authorized(services, ctx, services.adminToken, 'streamedge-admin')) return;
  const body = await readBody(ctx, MAX_PURGE_BODY);
  if (body === 'too-large') {
    ctx.res.shouldKeepAlive = false;
    sendText(services, ctx, 413, `purge body larger than ${MAX_PURGE_BODY} bytes`);
    return;
  }
  const request = parsePurgeRequest(services, body.toString('utf8'));
  if (typeof request === 'string') {
    sendText(services, ctx, 400, `bad purge request: ${request}`);
    return;
  }
  const purged = await services.purge(request);
  services.metrics.purged.inc(purged);
  services.logger.info({ ...request, purged }, 'purged');
  sendJson(services, ctx, 200, { ...request, purged });
}

/** Answers a control endpoint; the path is one controlPathOf returned. */
export function handleControl(services: EdgeServices, ctx: RequestContext, path: string): void {
  ctx.outcome = 'answered-here';
  const fail = (error: unknown): void => {
    services.logger.error({ err: (error as Error).message, path }, 'control endpoint failed');
    if (!ctx.res.headersSent) sendText(services, ctx, 500, 'internal error');
    else ctx.res.destroy();
  };
  if (path === '/admin/purge') {
    purge(services, ctx).catch(fail);
    return;
  }
  if (ctx.req.method !== 'GET' && ctx.req.method !== 'HEAD') {
    sendText(services, ctx, 405, 'method not allowed', ['allow', 'GET, HEAD']);
    return;
  }
  if (path === '/healthz') {
    sendJson(services, ctx, 200, { status: 'ok', id: services.id });
  } else if (path === '/readyz') {
    const reason = services.state.draining ? 'draining' : services.hasOrigins() ? undefined : 'no origin replica known';
    sendJson(services, ctx, reason ? 503 : 200, reason ? { status: 'unavailable', id: services.id, reason } : { status: 'ready', id: services.id });
  } else if (services.metricsToken === undefined || authorized(services, ctx, services.metricsToken, 'streamedge-metrics')) {
    services.metricsText().then(({ contentType, body }) => {
      const bytes = Buffer.from(body);
      ctx.res.writeHead(200, [...services.commonHeaders, 'content-type', contentType, 'content-length', String(bytes.length), 'cache-control', 'no-store']);
      ctx.res.end(ctx.head ? undefined : bytes);
      account(services, ctx);
    }, fail);
  }
}
