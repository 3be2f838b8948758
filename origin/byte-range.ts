// RFC 9110 §14 byte ranges. Only a single range is served as 206; a multi-range request gets the
// whole object (200), which §14.2 allows and which no HLS player needs otherwise. A syntactically
// invalid Range header is ignored (also allowed), a valid but unsatisfiable one is 416.

export type RangeDecision =
  | { readonly kind: 'full'; readonly reason?: 'multiple ranges' | 'invalid range' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const SPEC = /^(\d{0,15})-(\d{0,15})$/;

export function evaluateRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  const match = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!match) return { kind: 'full', reason: 'invalid range' };
  const specs = match[1]!.split(',').map((part) => part.trim());
  if (specs.length > 1) {
    return specs.every((spec) => SPEC.test(spec)) ? { kind: 'full', reason: 'multiple ranges' } : { kind: 'full', reason: 'invalid range' };
  }
  const parts = SPEC.exec(specs[0]!);
  if (!parts) return { kind: 'full', reason: 'invalid range' };
  const [, first, last] = parts as unknown as [string, string, string];
  if (first === '' && last === '') return { kind: 'full', reason: 'invalid range' };
  if (first === '') {
    // suffix range: the last N bytes
    const length = Number(last);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return { kind: 'full', reason: 'invalid range' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}
