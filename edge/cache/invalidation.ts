// RFC 9111 §4.4: a non-error response to an unsafe request invalidates what the cache holds for the
// target URI, and for the URIs in Location and Content-Location when they share its origin (a
// response may not invalidate another site's objects). Pure: the caller maps the targets to keys.
import type { ResponseHeaders } from './freshness.js';

/** Whether the answer to an unsafe request invalidates stored responses: a 2xx or 3xx. */
export function invalidatesStored(status: number): boolean {
  return status >= 200 && status < 400;
}

/**
 * The request targets (path and query) an answer to the unsafe request at `requestUrl` (its
 * effective URI) invalidates: its own, then Location and Content-Location when same-origin.
 */
export function invalidatedTargets(requestUrl: URL, headers: ResponseHeaders): string[] {
  const targets = [requestUrl.pathname + requestUrl.search];
  for (const name of ['location', 'content-location'] as const) {
    const value = headers[name];
    if (typeof value !== 'string' || value.trim() === '') continue;
    let resolved: URL;
    try {
      resolved = new URL(value.trim(), requestUrl);
    } catch {
      continue;
    }
    if (resolved.origin !== requestUrl.origin) continue;
    const target = resolved.pathname + resolved.search;
    if (!targets.includes(target)) targets.push(target);
  }
  return targets;
}
