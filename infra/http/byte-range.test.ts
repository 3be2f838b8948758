import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideRange, parseContentRange, type RangeDecision } from './byte-range.js';

describe('decideRange (RFC 9110 §14), for an object of 1000 bytes', () => {
  const cases: [string | undefined, RangeDecision][] = [
    [undefined, { kind: 'full' }],
    ['bytes=0-99', { kind: 'partial', range: { start: 0, end: 99 } }],
    ['bytes=100-', { kind: 'partial', range: { start: 100, end: 999 } }],
    ['bytes=900-', { kind: 'partial', range: { start: 900, end: 999 } }],
    ['bytes=900-5000', { kind: 'partial', range: { start: 900, end: 999 } }],
    ['bytes=-100', { kind: 'partial', range: { start: 900, end: 999 } }],
    ['bytes=-5000', { kind: 'partial', range: { start: 0, end: 999 } }],
    ['BYTES = 5-5', { kind: 'partial', range: { start: 5, end: 5 } }],
    ['bytes=0-1,5-6', { kind: 'full', reason: 'multiple ranges' }],
    ['bytes=0-1,5-9', { kind: 'full', reason: 'multiple ranges' }],
    ['bytes=1000-', { kind: 'unsatisfiable', reason: 'range starts past the end' }],
    ['bytes=1000-2000', { kind: 'unsatisfiable', reason: 'range starts past the end' }],
    ['bytes=-0', { kind: 'unsatisfiable', reason: 'empty suffix range' }],
    ['bytes=5-1', { kind: 'malformed' }],
    ['bytes=abc', { kind: 'malformed' }],
    ['bytes=a-b', { kind: 'malformed' }],
    ['bytes=-', { kind: 'malformed' }],
    ['items=0-1', { kind: 'malformed' }],
    ['bytes=0-1,x', { kind: 'malformed' }],
    ['bytes=99999999999999999999-', { kind: 'malformed' }],
  ];
  for (const [header, expected] of cases) {
    it(String(header), () => assert.deepEqual(decideRange(header, 1000), expected));
  }
  it('nothing is satisfiable in an empty object', () => {
    assert.deepEqual(decideRange('bytes=0-', 0), { kind: 'unsatisfiable', reason: 'range starts past the end' });
    assert.deepEqual(decideRange('bytes=-1', 0), { kind: 'unsatisfiable', reason: 'empty suffix range' });
  });
});

describe('parseContentRange (RFC 9110 §14.4)', () => {
  const cases: [string | undefined, ReturnType<typeof parseContentRange>][] = [
    ['bytes 0-99/1000', { start: 0, end: 99, completeLength: 1000 }],
    ['bytes 999-999/1000', { start: 999, end: 999, completeLength: 1000 }],
    ['Bytes 5-9/10', { start: 5, end: 9, completeLength: 10 }],
    // Nothing to keep: unknown length, the unsatisfied form, a range past the length or backwards, other units.
    ['bytes 0-99/*', undefined],
    ['bytes */1000', undefined],
    ['bytes 0-1000/1000', undefined],
    ['bytes 9-5/10', undefined],
    ['items 0-1/2', undefined],
    ['bytes 0-1/2, 4-5/6', undefined],
    [undefined, undefined],
  ];
  for (const [value, expected] of cases) {
    it(String(value), () => assert.deepEqual(parseContentRange(value), expected));
  }
});
