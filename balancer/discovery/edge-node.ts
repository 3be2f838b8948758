import { REGION_NAME } from '../location/location-table.js';

/** One edge as the balancer sees it: immutable, validated, ready for selection. */
export interface EdgeNode {
  readonly id: string;
  /** Public base URL viewers use (http or https, no trailing slash, no query). */
  readonly url: string;
  readonly region: string;
  readonly lat: number;
  readonly lon: number;
  /** Relative capacity, 1 by default; hashing and bounded load scale with it. */
  readonly weight: number;
}

export const EDGE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export type EdgeParseResult = { readonly edge: EdgeNode } | { readonly reason: string };

function parseCoordinate(text: string | undefined, name: 'lat' | 'lon'): number | string {
  const limit = name === 'lat' ? 90 : 180;
  if (text === undefined || text.trim() === '') return `missing ${name}`;
  const value = Number(text);
  if (!Number.isFinite(value) || Math.abs(value) > limit) return `${name} must be a number from -${limit} to ${limit}, got "${text}"`;
  return value;
}

export function normalizeEdgeUrl(text: string | undefined): string | { reason: string } {
  if (text === undefined || text === '') return { reason: 'missing url' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { reason: `url is not an absolute URL: "${text}"` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { reason: `url must be http or https, got "${text}"` };
  if (url.search || url.hash || url.username || url.password) return { reason: `url must not carry a query, fragment or credentials: "${text}"` };
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Validates the fields common to every discovery source; the reason names what is wrong. */
export function buildEdgeNode(fields: Readonly<Record<string, string | undefined>>): EdgeParseResult {
  const { id, region } = fields;
  if (id === undefined || !EDGE_ID.test(id)) return { reason: `id must be 1-64 letters, digits, ".", "_" or "-", got "${id ?? ''}"` };
  if (region === undefined || !REGION_NAME.test(region)) return { reason: `region must be a simple name, got "${region ?? ''}"` };
  const lat = parseCoordinate(fields.lat, 'lat');
  if (typeof lat === 'string') return { reason: lat };
  const lon = parseCoordinate(fields.lon, 'lon');
  if (typeof lon === 'string') return { reason: lon };
  const url = normalizeEdgeUrl(fields.url);
  if (typeof url !== 'string') return url;
  let weight = 1;
  if (fields.weight !== undefined && fields.weight !== '') {
    weight = Number(fields.weight);
    if (!Number.isFinite(weight) || weight <= 0 || weight > 1000) return { reason: `weight must be a number in (0, 1000], got "${fields.weight}"` };
  }
  return { edge: Object.freeze({ id, url, region, lat, lon, weight }) };
}

/**
 * A static edge from the command line:
 * `http://127.0.0.1:8081;id=edge-1;region=us-east;lat=39.04;lon=-77.49[;weight=2]`.
 */
export function parseStaticEdgeSpec(spec: string): EdgeParseResult {
  const [url, ...pairs] = spec.split(';');
  const fields: Record<string, string> = { url: url!.trim() };
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq === -1 ? '' : pair.slice(0, eq).trim();
    if (!['id', 'region', 'lat', 'lon', 'weight'].includes(key)) {
      return { reason: `unexpected "${pair}" (expected id=, region=, lat=, lon=, weight=)` };
    }
    if (key in fields) return { reason: `"${key}" given twice` };
    fields[key] = pair.slice(eq + 1).trim();
  }
  return buildEdgeNode(fields);
}
