// The Low-Latency HLS delivery directives a viewer adds to a media playlist request
// (draft-pantos-hls-rfc8216bis §6.2.5): `_HLS_msn`, `_HLS_part` (a blocking reload: the origin holds
// the request until that segment or part exists) and `_HLS_skip` (a delta update). Each selects a
// different playlist, so they belong in the cache key of a playlist, checked and in one order:
// then a thousand viewers asking for the same next part share one cache key, one flight and one
// held origin request. A value the origin would refuse is refused here and never forwarded.

/** The directives, in the order the cache key (and the origin request) carries them. */
export const DELIVERY_DIRECTIVES = ['_HLS_msn', '_HLS_part', '_HLS_skip'] as const;

const NON_NEGATIVE_INTEGER = /^\d{1,15}$/;
const SKIP_VALUES: ReadonlySet<string> = new Set(['YES', 'v2']);

export type DeliveryDirectivesResult =
  /** `query`: the directives present, canonical (`_HLS_msn=5&_HLS_part=2`), '' when none. */
  | { readonly ok: true; readonly query: string }
  | { readonly ok: false; readonly reason: string };

function isDirective(name: string): name is (typeof DELIVERY_DIRECTIVES)[number] {
  return (DELIVERY_DIRECTIVES as readonly string[]).includes(name);
}

/** Checks and orders the delivery directives among a playlist request's query parameters (others are ignored). */
export function deliveryDirectives(params: Iterable<[string, string]>): DeliveryDirectivesResult {
  const found = new Map<string, string>();
  for (const [name, value] of params) {
    if (!isDirective(name)) continue;
    if (found.has(name)) return { ok: false, reason: `${name} given more than once` };
    if (name === '_HLS_skip' ? !SKIP_VALUES.has(value) : !NON_NEGATIVE_INTEGER.test(value)) {
      return { ok: false, reason: `${name} must be ${name === '_HLS_skip' ? 'YES or v2' : 'an integer ≥ 0'}, got ${JSON.stringify(value.slice(0, 20))}` };
    }
    // Leading zeros name the same number: one spelling, one key.
    found.set(name, name === '_HLS_skip' ? value : String(Number(value)));
  }
  // §6.2.5.2: a part without its media sequence number is a client error.
  if (found.has('_HLS_part') && !found.has('_HLS_msn')) return { ok: false, reason: '_HLS_part needs _HLS_msn' };
  const query = DELIVERY_DIRECTIVES.flatMap((name) => (found.has(name) ? [`${name}=${found.get(name)!}`] : [])).join('&');
  return { ok: true, query };
}

/** Whether a cache key asks for a blocking reload (`_HLS_msn`): the origin may hold it until that segment or part exists. */
export function isBlockingReloadKey(key: string): boolean {
  return /[?&]_HLS_msn=/.test(key);
}
