// The cache key is explicit: the normalized path plus only allow-listed query parameters, and for a
// playlist its Low-Latency HLS delivery directives (delivery-directives.ts), checked and in one
// order. Viewer tokens, `region` hints and anything else are dropped, so they can neither split the
// cache (one copy per viewer) nor poison it. The same normalized form is what the edge asks the
// origin for.

import { isPlaylistPath } from '../../infra/hls/child-uri-query.js';
import { normalizePath } from '../../infra/http/request-path.js';
import { DELIVERY_DIRECTIVES, deliveryDirectives } from './delivery-directives.js';

export const MAX_TARGET_LENGTH = 2048;

export type CacheKeyResult =
  /** `key` doubles as the origin-form target the edge requests from the origin. */
  | { readonly ok: true; readonly key: string }
  | { readonly ok: false; readonly status: 400 | 414; readonly reason: string };

export type CacheKeyFunction = (target: string) => CacheKeyResult;

export interface CacheKeyOptions {
  /** Query parameter names that select a different object (kept, sorted); everything else is dropped. */
  readonly allowedQueryParams?: readonly string[];
}

const FAST_PATH = /^\/[A-Za-z0-9\-._~/]*$/;

function bad(reason: string, status: 400 | 414 = 400): CacheKeyResult {
  return { ok: false, status, reason };
}

export function createCacheKeyFunction(options: CacheKeyOptions = {}): CacheKeyFunction {
  const allowed = [...new Set(options.allowedQueryParams ?? [])];
  for (const name of allowed) {
    if (typeof name !== 'string' || name === '' || /[&=#\s]/.test(name)) {
      throw new TypeError(`cache key: allowedQueryParams entries must be plain names, got ${JSON.stringify(name)}`);
    }
  }
  // The delivery directives follow their own rule, whatever the allow-list says.
  const allowedSet = new Set(allowed.filter((name) => !(DELIVERY_DIRECTIVES as readonly string[]).includes(name)));

  return (target) => {
    if (target.length > MAX_TARGET_LENGTH) return bad('request target too long', 414);
    // The hit path: a plain path needs no parsing at all.
    if (FAST_PATH.test(target) && !target.includes('//') && !target.includes('/.')) {
      return { ok: true, key: target };
    }
    if (!target.startsWith('/')) return bad('request target must be a path (origin-form)');
    const hash = target.indexOf('#');
    const withoutFragment = hash === -1 ? target : target.slice(0, hash);
    const question = withoutFragment.indexOf('?');
    const rawPath = question === -1 ? withoutFragment : withoutFragment.slice(0, question);
    const normalized = normalizePath(rawPath);
    if (!normalized.ok) return bad(normalized.reason);
    if (question === -1) return { ok: true, key: normalized.path };
    const params = [...new URLSearchParams(withoutFragment.slice(question + 1))];
    const kept = params.filter(([name]) => allowedSet.has(name));
    kept.sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : av > bv ? 1 : 0) : a < b ? -1 : 1));
    const parts = kept.length > 0 ? [new URLSearchParams(kept).toString()] : [];
    if (isPlaylistPath(normalized.path)) {
      const directives = deliveryDirectives(params);
      if (!directives.ok) return bad(directives.reason);
      if (directives.query !== '') parts.push(directives.query);
    }
    return { ok: true, key: parts.length > 0 ? `${normalized.path}?${parts.join('&')}` : normalized.path };
  };
}
