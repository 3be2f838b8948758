/** An inclusive byte range within an object of known size. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export type RangeDecision =
  | { readonly kind: 'full' } // no Range, or one the edge chooses to ignore (several ranges)
  | { readonly kind: 'partial'; readonly range: ByteRange }
  | { readonly kind: 'unsatisfiable'; readonly reason: string };

const SPEC = /^(\d*)-(\d*)$/;

/** Syntax check before the size is known (a miss): a malformed Range is rejected at once. */
export function isWellFormedRange(header: string): boolean {
  const match = /^bytes=(.+)$/i.exec(header.trim());
  if (!match) return false;
  return match[1]!.split(',').every((part) => {
    const spec = SPEC.exec(part.trim());
    return spec !== null && (spec[1] !== '' || spec[2] !== '') && (spec[1] === '' || spec[2] === '' || Number(spec[1]) <= Number(spec[2]));
  });
}

/**
 * RFC 9110 §14: one `bytes=` range is served as 206; several are answered with the whole object
 * (allowed, and what HLS players never need); a malformed or unsatisfiable one is 416.
 */
export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  if (!isWellFormedRange(header)) return { kind: 'unsatisfiable', reason: 'malformed Range' };
  const specs = header.trim().slice(6).split(',');
  if (specs.length > 1) return { kind: 'full' };
  const [, first, last] = SPEC.exec(specs[0]!.trim())!;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable', reason: 'empty suffix range' };
    return { kind: 'partial', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(first);
  if (start >= size) return { kind: 'unsatisfiable', reason: 'range starts past the end' };
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: 'partial', range: { start, end } };
}
