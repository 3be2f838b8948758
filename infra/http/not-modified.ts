// RFC 9110 §13.2.2: whether a GET/HEAD's conditionals make the answer 304, shared by the origin
// (its own files) and the edge (what it holds in cache), so both servers agree.
import { ifNoneMatchMatches } from './entity-tag.js';
import { parseHttpDate } from './http-date.js';

export interface ConditionalFields {
  readonly 'if-none-match'?: string | undefined;
  readonly 'if-modified-since'?: string | undefined;
}

/**
 * If-None-Match, when sent, decides alone (weak comparison); otherwise If-Modified-Since, when it
 * is a valid HTTP-date, against the representation's modification time (epoch ms, compared at
 * one-second resolution). No usable modification time never matches.
 */
export function isNotModified(fields: ConditionalFields, etag: string | undefined, lastModified: number | undefined): boolean {
  const ifNoneMatch = fields['if-none-match'];
  if (ifNoneMatch !== undefined) return ifNoneMatchMatches(ifNoneMatch, etag);
  const since = parseHttpDate(fields['if-modified-since']);
  if (since === undefined || lastModified === undefined) return false;
  return Math.floor(lastModified / 1000) * 1000 <= since;
}
