// RFC 9110 §8.8.3 entity-tags, shared by the origin (answering conditional requests) and the edge
// (answering them from cache): one comparison, so both servers agree on what "not modified" means.

/** True for a syntactically valid entity-tag (§8.8.3), weak or strong. */
export function isValidEtag(value: string): boolean {
  return /^(W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/.test(value);
}

function opaqueTag(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/**
 * If-None-Match uses the weak comparison (RFC 9110 §13.1.2): `*` matches any current entity, and
 * W/"x" matches "x". No header, or no current entity-tag, never matches.
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string | undefined): boolean {
  if (header === undefined || etag === undefined) return false;
  if (header.trim() === '*') return true;
  const wanted = opaqueTag(etag);
  for (const candidate of header.split(',')) {
    if (opaqueTag(candidate.trim()) === wanted) return true;
  }
  return false;
}
