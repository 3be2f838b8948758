// The edge's Range policy (RFC 9110 §14): one range is served as 206 from the cached object; several
// are answered with the whole object (allowed, and what HLS players never need); a malformed Range
// is refused with 416 before any origin work, since the edge cannot pass a broken header on.
import { parseByteRanges, resolveByteRange, type ByteRange } from '../../infra/http/byte-range.js';

export type RangeDecision =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly range: ByteRange }
  | { readonly kind: 'unsatisfiable'; readonly reason: string };

/** Syntax check before the size is known (a miss): a malformed Range is rejected at once. */
export function isWellFormedRange(header: string): boolean {
  return parseByteRanges(header) !== undefined;
}

export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  const specs = parseByteRanges(header);
  if (!specs) return { kind: 'unsatisfiable', reason: 'malformed Range' };
  if (specs.length > 1) return { kind: 'full' };
  const spec = specs[0]!;
  const range = resolveByteRange(spec, size);
  if (range) return { kind: 'partial', range };
  return { kind: 'unsatisfiable', reason: spec.first === undefined ? 'empty suffix range' : 'range starts past the end' };
}
