/** The origin's `/catalog.json`, as served to the player by the balancer (see CONTRACTS: Paths). */
export interface CatalogAsset {
  readonly id: string;
  readonly title: string;
  readonly kind: 'vod' | 'live';
  readonly format: 'ts' | 'fmp4';
  /** Same-origin absolute path of the master playlist, e.g. `/vod/demo-ts/master.m3u8`. */
  readonly path: string;
}

export class CatalogError extends Error {
  override readonly name = 'CatalogError';
}

const KINDS = new Set(['vod', 'live']);
const FORMATS = new Set(['ts', 'fmp4']);
// A master playlist path on the balancer: absolute, no scheme/authority, no dot segments.
const MASTER_PATH = /^\/(?!\/)(?:[A-Za-z0-9._~-]+\/)*[A-Za-z0-9._~-]+\.m3u8$/;

function requireString(record: Record<string, unknown>, field: string, where: string): string {
  const value = record[field];
  if (typeof value !== 'string' || value.trim() === '') throw new CatalogError(`${where}: "${field}" must be a non-empty string`);
  return value;
}

/** Validates untrusted catalog JSON; throws a CatalogError naming the first bad field. */
export function parseCatalog(json: unknown): CatalogAsset[] {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { assets?: unknown }).assets)) {
    throw new CatalogError('catalog: expected an object with an "assets" array');
  }
  const seen = new Set<string>();
  return (json as { assets: unknown[] }).assets.map((raw, index) => {
    const where = `catalog asset #${index}`;
    if (typeof raw !== 'object' || raw === null) throw new CatalogError(`${where}: expected an object`);
    const record = raw as Record<string, unknown>;
    const id = requireString(record, 'id', where);
    const title = requireString(record, 'title', where);
    const kind = requireString(record, 'kind', where);
    const format = requireString(record, 'format', where);
    const path = requireString(record, 'path', where);
    if (!KINDS.has(kind)) throw new CatalogError(`${where}: "kind" must be vod or live, got ${JSON.stringify(kind)}`);
    if (!FORMATS.has(format)) throw new CatalogError(`${where}: "format" must be ts or fmp4, got ${JSON.stringify(format)}`);
    if (!MASTER_PATH.test(path) || path.split('/').some((segment) => segment === '.' || segment === '..')) {
      throw new CatalogError(`${where}: "path" must be a same-origin .m3u8 path, got ${JSON.stringify(path)}`);
    }
    if (seen.has(id)) throw new CatalogError(`${where}: duplicate id ${JSON.stringify(id)}`);
    seen.add(id);
    return { id, title, kind: kind as CatalogAsset['kind'], format: format as CatalogAsset['format'], path };
  });
}

/**
 * The master playlist URL for an asset, on the page's own origin (the balancer). The viewer's
 * `region` hint, if the page was opened with one, travels along so the balancer can honour it.
 */
export function masterUrlFor(asset: CatalogAsset, pageUrl: URL): URL {
  const url = new URL(asset.path, pageUrl.origin);
  const region = pageUrl.searchParams.get('region');
  if (region) url.searchParams.set('region', region);
  return url;
}
