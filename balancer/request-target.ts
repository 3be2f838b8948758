// The only request paths the fronts act on are the shared origin/edge path space
// (/vod/<asset>/…, /live/<channel>/…). Anything else, or anything odd, is refused before any
// edge is chosen, so a redirect or proxy target can never be steered by the viewer.

export type AssetKind = 'vod' | 'live';

export interface MediaTarget {
  readonly kind: AssetKind;
  readonly asset: string;
  /** What hashing keys on: `vod/<asset>` or `live/<channel>`. */
  readonly assetKey: string;
  /** The normalized path, e.g. /vod/demo-ts/720p/index.m3u8 */
  readonly path: string;
  readonly isMaster: boolean;
  /** The query string as received (without `?`), minus the balancer's own `region` hint. */
  readonly query: string;
}

export type TargetResult = { readonly target: MediaTarget } | { readonly status: 400 | 404 | 414; readonly reason: string };

export const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const SEGMENT = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,254}$/;
const MAX_URL_LENGTH = 2048;
const MAX_DEPTH = 6;

/** Validates a request-target (origin-form only) naming a media object. */
export function parseMediaTarget(rawUrl: string): TargetResult {
  if (rawUrl.length > MAX_URL_LENGTH) return { status: 414, reason: 'request target too long' };
  if (!rawUrl.startsWith('/') || rawUrl.startsWith('//')) return { status: 400, reason: 'request target must be an absolute path' };
  const question = rawUrl.indexOf('?');
  const path = question === -1 ? rawUrl : rawUrl.slice(0, question);
  const rawQuery = question === -1 ? '' : rawUrl.slice(question + 1);
  if (/[%\\]/.test(path)) return { status: 400, reason: 'encoded or backslash characters are not allowed in media paths' };
  const segments = path.split('/').slice(1);
  if (segments.some((segment) => segment === '.' || segment === '..')) return { status: 400, reason: 'path traversal is not allowed' };
  if (segments.length > MAX_DEPTH || segments.some((segment) => !SEGMENT.test(segment))) {
    return { status: 400, reason: 'malformed media path' };
  }
  const [kind, asset, ...rest] = segments;
  if ((kind !== 'vod' && kind !== 'live') || rest.length === 0) return { status: 404, reason: 'not a media path (expected /vod/<asset>/… or /live/<channel>/…)' };
  if (!ASSET_NAME.test(asset!)) return { status: 400, reason: 'malformed asset name' };
  // Most media requests carry no query: nothing to parse then.
  let query = '';
  if (rawQuery !== '') {
    try {
      const params = new URLSearchParams(rawQuery);
      params.delete('region');
      query = params.toString();
    } catch {
      return { status: 400, reason: 'malformed query string' };
    }
  }
  return {
    target: {
      kind,
      asset: asset!,
      assetKey: `${kind}/${asset}`,
      path,
      isMaster: rest.length === 1 && rest[0] === 'master.m3u8',
      query,
    },
  };
}
