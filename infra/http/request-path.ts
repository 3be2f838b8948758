// A request path in normal form (RFC 3986 §6.2.2: percent-decoded once, dot and empty segments
// removed, re-encoded), the one form the edge's cache key, the path it fetches and a signed URL's
// scope are all judged in.

/**
 * Characters that never belong in a path we fetch: controls (NUL included) and backslash, raw or
 * percent-encoded; an encoded `/` is refused too, so a viewer cannot reach a path the origin's
 * router never intended.
 */
export function hasForbiddenCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x5c) return true;
  }
  return false;
}

/** Normalizes a request path: percent-decoding, no `.`/`..` segments, no empty segments. */
export function normalizePath(rawPath: string): { ok: true; path: string } | { ok: false; reason: string } {
  if (!rawPath.startsWith('/')) return { ok: false, reason: 'path must start with /' };
  if (hasForbiddenCharacter(rawPath)) return { ok: false, reason: 'path contains a forbidden character' };
  const segments: string[] = [];
  for (const rawSegment of rawPath.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(rawSegment);
    } catch {
      return { ok: false, reason: 'malformed percent-encoding' };
    }
    if (hasForbiddenCharacter(segment) || segment.includes('/')) return { ok: false, reason: 'path contains a forbidden character' };
    if (segment === '..') return { ok: false, reason: 'path traversal' };
    if (segment === '' || segment === '.') continue;
    segments.push(encodeURIComponent(segment).replace(/%40/g, '@').replace(/%3A/gi, ':').replace(/%2C/gi, ','));
  }
  // Keep a trailing slash: `/a/` and `/a` may be different objects.
  const trailing = rawPath.length > 1 && rawPath.endsWith('/') && segments.length > 0 ? '/' : '';
  return { ok: true, path: `/${segments.join('/')}${trailing}` };
}
