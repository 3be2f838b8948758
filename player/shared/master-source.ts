/** The player page's `?src=`: a master playlist URL to play instead of a catalog title (e.g. a signed URL). */
export class MasterSourceError extends Error {
  override readonly name = 'MasterSourceError';
}

const MAX_SOURCE_CHARS = 4096;

/**
 * Validates an untrusted `src` against the page's URL: a path on the page's origin or an absolute
 * http(s) URL (https only when the page itself is https: no mixed content), no user:password@,
 * naming a `.m3u8`. The query (a signed URL's token) is kept as given. Anything else — javascript:,
 * data:, blob:, a protocol-relative or malformed URL — throws.
 */
export function masterUrlFromSource(src: string, pageUrl: URL): URL {
  if (src === '' || src.length > MAX_SOURCE_CHARS) throw new MasterSourceError('src: expected a master playlist URL');
  if ([...src].some((char) => char < ' ' || char === '\u007f' || char === '\\')) throw new MasterSourceError('src: control characters or backslashes are not allowed');
  if (src.startsWith('//')) throw new MasterSourceError('src: a protocol-relative URL is not allowed');
  let url: URL;
  try {
    url = new URL(src, pageUrl.origin);
  } catch {
    throw new MasterSourceError('src: not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MasterSourceError(`src: only http and https URLs are played, not ${url.protocol}`);
  if (pageUrl.protocol === 'https:' && url.protocol !== 'https:') throw new MasterSourceError('src: an https page plays https URLs only');
  if (url.username !== '' || url.password !== '') throw new MasterSourceError('src: credentials in the URL are not allowed');
  if (!url.pathname.endsWith('.m3u8')) throw new MasterSourceError('src: expected a .m3u8 playlist');
  url.hash = '';
  return url;
}
