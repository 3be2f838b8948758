// RFC 9110 §14 byte ranges, shared by the origin and the edge: parsing, resolving against a size,
// and one decision both servers act on. The one place they differ is a malformed header (the origin
// ignores it, the edge refuses it), so the decision names it and leaves that to the caller.

/** One range-spec as written: `first-last`, `first-` or the suffix form `-last`. */
export interface ByteRangeSpec {
  readonly first: number | undefined;
  readonly last: number | undefined;
}

/** An inclusive byte range within an object of known size. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

const SPEC = /^(\d{0,15})-(\d{0,15})$/;

/** The range-specs of a `bytes=` Range header, or undefined when the header is malformed. */
export function parseByteRanges(header: string): ByteRangeSpec[] | undefined {
  const match = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!match) return undefined;
  const specs: ByteRangeSpec[] = [];
  for (const part of match[1]!.split(',')) {
    const parts = SPEC.exec(part.trim());
    if (!parts || (parts[1] === '' && parts[2] === '')) return undefined;
    const first = parts[1] === '' ? undefined : Number(parts[1]);
    const last = parts[2] === '' ? undefined : Number(parts[2]);
    if (first !== undefined && last !== undefined && last < first) return undefined;
    specs.push({ first, last });
  }
  return specs;
}

/** The bytes a spec selects in an object of `size` bytes, or undefined when unsatisfiable. */
export function resolveByteRange(spec: ByteRangeSpec, size: number): ByteRange | undefined {
  if (spec.first === undefined) {
    const suffix = spec.last ?? 0;
    if (suffix === 0 || size === 0) return undefined;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  if (spec.first >= size) return undefined;
  return { start: spec.first, end: spec.last === undefined ? size - 1 : Math.min(spec.last, size - 1) };
}

/** What a Range header asks of an object of known size. */
export type RangeDecision =
  /** No Range, or several ranges: the whole object (§14.2 allows it, and HLS players never need more). */
  | { readonly kind: 'full'; readonly reason?: 'multiple ranges' }
  | { readonly kind: 'partial'; readonly range: ByteRange }
  | { readonly kind: 'unsatisfiable'; readonly reason: 'empty suffix range' | 'range starts past the end' }
  | { readonly kind: 'malformed' };

/** Syntax check before the size is known (an edge miss): a malformed Range is refused at once. */
export function isWellFormedRange(header: string): boolean {
  return parseByteRanges(header) !== undefined;
}

export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  const specs = parseByteRanges(header);
  if (!specs) return { kind: 'malformed' };
  if (specs.length > 1) return { kind: 'full', reason: 'multiple ranges' };
  const spec = specs[0]!;
  const range = resolveByteRange(spec, size);
  if (range) return { kind: 'partial', range };
  return { kind: 'unsatisfiable', reason: spec.first === undefined ? 'empty suffix range' : 'range starts past the end' };
}

/** What a 206's `Content-Range: bytes first-last/complete-length` says (RFC 9110 §14.4). */
export interface ContentRange extends ByteRange {
  readonly completeLength: number;
}

/**
 * A single-part Content-Range with a known complete length, or undefined: an unknown length (`*`),
 * an unsatisfied-range form, another unit or a range outside the length says too little to keep.
 */
export function parseContentRange(value: string | undefined): ContentRange | undefined {
  const match = /^\s*bytes\s+(\d{1,15})-(\d{1,15})\/(\d{1,15})\s*$/i.exec(value ?? '');
  if (!match) return undefined;
  const [start, end, completeLength] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (end < start || end >= completeLength) return undefined;
  return { start, end, completeLength };
}
