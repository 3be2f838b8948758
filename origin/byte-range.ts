// The origin's Range policy (RFC 9110 §14): a single range is served as 206; a multi-range request
// gets the whole object (200), which §14.2 allows and which no HLS player needs otherwise. A
// malformed Range header is ignored (also allowed); a valid but unsatisfiable one is 416.
import { parseByteRanges, resolveByteRange } from '../infra/http/byte-range.js';

export type RangeDecision =
  | { readonly kind: 'full'; readonly reason?: 'multiple ranges' | 'invalid range' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

export function evaluateRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  const specs = parseByteRanges(header);
  if (!specs) return { kind: 'full', reason: 'invalid range' };
  if (specs.length > 1) return { kind: 'full', reason: 'multiple ranges' };
  const range = resolveByteRange(specs[0]!, size);
  return range ? { kind: 'partial', ...range } : { kind: 'unsatisfiable' };
}
