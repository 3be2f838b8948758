/**
 * Reads the RFC 9211 `Cache-Status` response header the way a viewer's player needs it: did the
 * cache nearest to the viewer (the last list member) answer from storage or forward the request?
 */
export type CacheOutcome = 'hit' | 'miss' | 'unknown';

export interface CacheStatusEntry {
  readonly cache: string;
  readonly params: ReadonlyMap<string, string | true>;
}

/** Splits on `separator` outside double-quoted strings (RFC 8941 sf-string, with `\` escapes). */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted && char === '\\' && i + 1 < text.length) {
      current += char + text[++i]!;
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === separator && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function unquote(value: string): string {
  return value.startsWith('"') && value.endsWith('"') && value.length >= 2
    ? value.slice(1, -1).replace(/\\(.)/g, '$1')
    : value;
}

/** Parses every list member; malformed members (no cache name) are dropped, never thrown on. */
export function parseCacheStatus(header: string | null | undefined): CacheStatusEntry[] {
  if (!header) return [];
  const entries: CacheStatusEntry[] = [];
  for (const member of splitOutsideQuotes(header, ',')) {
    const [name, ...rawParams] = splitOutsideQuotes(member, ';').map((part) => part.trim());
    if (!name) continue;
    const params = new Map<string, string | true>();
    for (const raw of rawParams) {
      const equals = raw.indexOf('=');
      const key = (equals === -1 ? raw : raw.slice(0, equals)).trim().toLowerCase();
      if (!key) continue;
      params.set(key, equals === -1 ? true : unquote(raw.slice(equals + 1).trim()));
    }
    entries.push({ cache: unquote(name), params });
  }
  return entries;
}

/** Outcome at the cache closest to the viewer: `hit` when it answered from storage, `miss` when it forwarded. */
export function cacheOutcome(header: string | null | undefined): CacheOutcome {
  const nearest = parseCacheStatus(header).at(-1);
  if (!nearest) return 'unknown';
  const hit = nearest.params.get('hit');
  if (hit === true || hit === '?1') return 'hit';
  if (nearest.params.has('fwd')) return 'miss';
  return 'unknown';
}
