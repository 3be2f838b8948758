// Request targets are checked before any filesystem access: the decoded path must be a short list
// of plain names (letters, digits, dot, dash, underscore; never "." or ".."), so no encoding trick
// — %2e%2e, %2f, backslashes, double encoding, NUL — can name a file outside the catalog.

export const MAX_URL_LENGTH = 2048;
export const MAX_PATH_SEGMENTS = 8;
const MAX_SEGMENT_LENGTH = 128;
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export type RequestTarget =
  | { readonly ok: true; readonly segments: readonly string[] }
  | { readonly ok: false; readonly status: 400 | 404 | 414; readonly reason: string };

const reject = (status: 400 | 404 | 414, reason: string): RequestTarget => ({ ok: false, status, reason });

export function parseRequestTarget(rawUrl: string | undefined): RequestTarget {
  if (!rawUrl) return reject(400, 'missing request target');
  if (rawUrl.length > MAX_URL_LENGTH) return reject(414, `URL longer than ${MAX_URL_LENGTH} characters`);
  if (!rawUrl.startsWith('/')) return reject(400, 'request target must be an absolute path');
  const rawPath = rawUrl.split(/[?#]/, 1)[0]!;
  if (rawPath.includes('\\')) return reject(400, 'backslash in path');
  if (rawPath === '/') return { ok: true, segments: [] };

  const rawSegments = rawPath.slice(1).split('/');
  if (rawSegments.length > MAX_PATH_SEGMENTS) return reject(414, `more than ${MAX_PATH_SEGMENTS} path segments`);
  const segments: string[] = [];
  for (const raw of rawSegments) {
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      return reject(400, 'malformed percent-encoding');
    }
    if (name === '') return reject(400, 'empty path segment');
    if (name === '.' || name === '..') return reject(400, 'path traversal');
    if (name.includes('\0')) return reject(400, 'NUL byte in path');
    if (name.includes('/') || name.includes('\\')) return reject(400, 'encoded path separator');
    if (name.includes('%')) return reject(400, 'double percent-encoding');
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(name)) return reject(400, 'control character in path');
    if (name.length > MAX_SEGMENT_LENGTH) return reject(414, `path segment longer than ${MAX_SEGMENT_LENGTH} characters`);
    // Anything else unusual (spaces, dot-files, non-ASCII) cannot exist in the catalog.
    if (!PLAIN_NAME.test(name)) return reject(404, 'not found');
    segments.push(name);
  }
  return { ok: true, segments };
}
