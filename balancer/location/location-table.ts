import { readFile } from 'node:fs/promises';
import { createPrefixTable, parseIpPrefix, type IpAddress, type PrefixTable } from '../../infra/net/ip-prefix-table.js';

/** A place on Earth with the operator's name for it. */
export interface Place {
  readonly region: string;
  readonly lat: number;
  readonly lon: number;
}

/**
 * The operator's map from viewer IP prefixes to places (the way Netflix maps ISP prefixes to caches).
 *
 * File format (JSON):
 * ```json
 * {
 *   "regions":  { "us-east": { "lat": 39.04, "lon": -77.49 } },
 *   "prefixes": [
 *     { "cidr": "127.0.1.0/24", "region": "us-east" },
 *     { "cidr": "2001:db8:2::/48", "region": "eu-west", "lat": 53.35, "lon": -6.26 }
 *   ]
 * }
 * ```
 * `regions` is optional; a prefix without lat/lon takes its region's coordinates. The longest
 * matching prefix wins.
 */
export interface LocationTable {
  lookup(address: IpAddress): Place | undefined;
  /** Coordinates for a region name, from `regions` or the first prefix naming it. */
  regionPlace(region: string): Place | undefined;
  readonly prefixCount: number;
}

export const REGION_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

function checkCoordinate(value: unknown, name: 'lat' | 'lon', where: string): number {
  const limit = name === 'lat' ? 90 : 180;
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > limit) {
    throw new Error(`${where}: "${name}" must be a number from -${limit} to ${limit}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkRegion(value: unknown, where: string): string {
  if (typeof value !== 'string' || !REGION_NAME.test(value)) {
    throw new Error(`${where}: "region" must be a name of letters, digits, ".", "_" or "-", got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Validates a parsed location document; errors name the entry at fault. */
export function buildLocationTable(document: unknown): LocationTable {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new Error('location table must be a JSON object with a "prefixes" list');
  }
  const { regions: rawRegions, prefixes: rawPrefixes } = document as { regions?: unknown; prefixes?: unknown };
  const regions = new Map<string, Place>();
  if (rawRegions !== undefined) {
    if (typeof rawRegions !== 'object' || rawRegions === null || Array.isArray(rawRegions)) {
      throw new Error('"regions" must be an object of region name → {lat, lon}');
    }
    for (const [name, value] of Object.entries(rawRegions as Record<string, unknown>)) {
      const where = `regions.${name}`;
      const entry = (value ?? {}) as { lat?: unknown; lon?: unknown };
      regions.set(name, {
        region: checkRegion(name, where),
        lat: checkCoordinate(entry.lat, 'lat', where),
        lon: checkCoordinate(entry.lon, 'lon', where),
      });
    }
  }
  if (!Array.isArray(rawPrefixes)) throw new Error('"prefixes" must be a list of {cidr, region, lat?, lon?}');
  const entries = rawPrefixes.map((raw: unknown, index) => {
    const where = `prefixes[${index}]`;
    if (typeof raw !== 'object' || raw === null) throw new Error(`${where}: must be an object`);
    const entry = raw as { cidr?: unknown; region?: unknown; lat?: unknown; lon?: unknown };
    if (typeof entry.cidr !== 'string') throw new Error(`${where}: "cidr" must be a string such as 10.0.0.0/8`);
    let prefix;
    try {
      prefix = parseIpPrefix(entry.cidr);
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`);
    }
    const region = checkRegion(entry.region, where);
    const known = regions.get(region);
    const hasOwnPlace = entry.lat !== undefined || entry.lon !== undefined;
    if (!hasOwnPlace && !known) throw new Error(`${where}: needs "lat" and "lon" (region "${region}" is not in "regions")`);
    const place: Place = hasOwnPlace
      ? { region, lat: checkCoordinate(entry.lat, 'lat', where), lon: checkCoordinate(entry.lon, 'lon', where) }
      : known!;
    if (!regions.has(region)) regions.set(region, place);
    return { prefix, value: Object.freeze(place) };
  });
  const table: PrefixTable<Place> = createPrefixTable(entries);
  return {
    lookup: (address) => table.lookup(address),
    regionPlace: (region) => regions.get(region),
    prefixCount: table.size,
  };
}

export async function loadLocationTable(path: string): Promise<LocationTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read location table ${path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new Error(`location table ${path} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return buildLocationTable(document);
  } catch (error) {
    throw new Error(`location table ${path}: ${(error as Error).message}`);
  }
}

export const EMPTY_LOCATION_TABLE: LocationTable = buildLocationTable({ prefixes: [] });
