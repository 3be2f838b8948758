/** Parsed directives of a Cache-Control or CDN-Cache-Control field: name → value (`true` when bare). */
export type Directives = ReadonlyMap<string, string | true>;

export const NO_DIRECTIVES: Directives = new Map();

/**
 * Parses `max-age=60, private="x, y", no-store` into directives. Names are case-insensitive; quoted
 * values may contain commas; the first occurrence of a repeated directive wins.
 */
export function parseCacheControl(field: string | readonly string[] | undefined): Directives {
  if (field === undefined) return NO_DIRECTIVES;
  const text = typeof field === 'string' ? field : field.join(',');
  if (text.trim() === '') return NO_DIRECTIVES;
  const directives = new Map<string, string | true>();
  for (const element of splitList(text)) {
    const eq = element.indexOf('=');
    const name = (eq === -1 ? element : element.slice(0, eq)).trim().toLowerCase();
    if (name === '' || directives.has(name)) continue;
    if (eq === -1) {
      directives.set(name, true);
      continue;
    }
    const raw = element.slice(eq + 1).trim();
    const quoted = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"');
    directives.set(name, quoted ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
  }
  return directives;
}

// RFC 8941 Dictionary syntax, for CDN-Cache-Control (RFC 9213 §2.1).
const SF_KEY = String.raw`[a-z*][a-z0-9_\-.*]*`;
const SF_BARE_ITEM = [
  String.raw`-?\d{1,12}\.\d{1,3}`,
  String.raw`-?\d{1,15}`,
  String.raw`"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"`,
  "[A-Za-z*][!#$%&'*+\\-.^_`|~0-9A-Za-z:/]*",
  String.raw`:[A-Za-z0-9+/=]*:`,
  String.raw`\?[01]`,
].join('|');
const SF_PARAMETERS = String.raw`(?:; *${SF_KEY}(?:=(?:${SF_BARE_ITEM}))?)*`;
const SF_INNER_LIST = String.raw`\((?: *(?:${SF_BARE_ITEM})${SF_PARAMETERS})*(?: *)\)`;
const SF_MEMBER = String.raw`${SF_KEY}(?:=(?:(?:${SF_BARE_ITEM})|${SF_INNER_LIST}))?${SF_PARAMETERS}`;
const SF_DICTIONARY = new RegExp(String.raw`^${SF_MEMBER}(?:[ \t]*,[ \t]*${SF_MEMBER})*$`);

/**
 * Whether a field value parses as an RFC 8941 Dictionary (lower-case keys, well-formed items, no
 * empty members). RFC 9213 §2.1: a CDN-Cache-Control that fails to parse is ignored.
 */
export function isStructuredDictionary(field: string | readonly string[]): boolean {
  const text = (typeof field === 'string' ? field : field.join(', ')).replace(/^ +| +$/g, '');
  return text !== '' && SF_DICTIONARY.test(text);
}

const MAX_DELTA_SECONDS = 2 ** 31;

/**
 * A delta-seconds value (RFC 9111 §1.2.2): digits only, clamped to 2^31. Anything else is invalid
 * and yields undefined, which callers treat conservatively.
 */
export function deltaSeconds(value: string | true | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined;
  return Math.min(Number(value), MAX_DELTA_SECONDS);
}

/** Splits a comma-separated list, keeping commas inside quoted strings; drops empty elements. */
function splitList(text: string): string[] {
  const elements: string[] = [];
  let current = '';
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '"') {
      inQuotes = !inQuotes;
    } else if (char === '\\' && inQuotes && i + 1 < text.length) {
      current += char + text[++i]!;
      continue;
    } else if (char === ',' && !inQuotes) {
      if (current.trim() !== '') elements.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  if (current.trim() !== '') elements.push(current);
  return elements;
}
