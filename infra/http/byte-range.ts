// RFC 9110 §14 byte ranges, shared by the origin and the edge. Parsing and resolving against a size
// live here; what to do with a malformed or multi-range header is each server's policy.

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
