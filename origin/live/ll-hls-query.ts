// LL-HLS delivery directives of a media playlist request (draft-pantos-hls-rfc8216bis §6.2.5):
// _HLS_msn and _HLS_part ask for a blocking reload, _HLS_skip for a delta update. Anything
// malformed is refused with 400, as §6.2.5.2 asks of a server that supports them.

export interface DeliveryDirectives {
  readonly msn: number | undefined;
  readonly part: number | undefined;
  readonly skip: boolean;
}

export type DirectivesResult = { readonly ok: true; readonly directives: DeliveryDirectives } | { readonly ok: false; readonly reason: string };

const MSN = /^(0|[1-9]\d{0,14})$/;
const PART = /^(0|[1-9]\d{0,5})$/;

export function parseDeliveryDirectives(query: URLSearchParams): DirectivesResult {
  const single = (name: string): string | undefined | null => {
    const values = query.getAll(name);
    return values.length > 1 ? null : values[0];
  };
  const msn = single('_HLS_msn');
  const part = single('_HLS_part');
  const skip = single('_HLS_skip');
  if (msn === null || part === null || skip === null) return { ok: false, reason: 'an _HLS_ directive is given more than once' };
  if (msn !== undefined && !MSN.test(msn)) return { ok: false, reason: `bad _HLS_msn "${msn.slice(0, 20)}": a whole number` };
  if (part !== undefined && !PART.test(part)) return { ok: false, reason: `bad _HLS_part "${part.slice(0, 20)}": a whole number below 1000000` };
  if (part !== undefined && msn === undefined) return { ok: false, reason: '_HLS_part needs _HLS_msn' };
  if (skip !== undefined && skip !== 'YES' && skip !== 'v2') return { ok: false, reason: `bad _HLS_skip "${skip.slice(0, 20)}": YES or v2` };
  return { ok: true, directives: { msn: msn === undefined ? undefined : Number(msn), part: part === undefined ? undefined : Number(part), skip: skip !== undefined } };
}
