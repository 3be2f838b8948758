import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideRange } from './byte-range.js';

describe('decideRange', () => {
  const cases: [string | undefined, unknown][] = [
    [undefined, { kind: 'full' }],
    ['bytes=0-99', { kind: 'partial', range: { start: 0, end: 99 } }],
    ['bytes=900-', { kind: 'partial', range: { start: 900, end: 999 } }],
    ['bytes=900-5000', { kind: 'partial', range: { start: 900, end: 999 } }],
    ['bytes=-100', { kind: 'partial', range: { start: 900, end: 999 } }],
    ['bytes=-5000', { kind: 'partial', range: { start: 0, end: 999 } }],
    ['bytes=0-1,5-6', { kind: 'full' }],
    ['bytes=1000-', { kind: 'unsatisfiable', reason: 'range starts past the end' }],
    ['bytes=-0', { kind: 'unsatisfiable', reason: 'empty suffix range' }],
    ['bytes=5-1', { kind: 'unsatisfiable', reason: 'malformed Range' }],
    ['bytes=abc', { kind: 'unsatisfiable', reason: 'malformed Range' }],
    ['items=0-1', { kind: 'unsatisfiable', reason: 'malformed Range' }],
  ];
  for (const [header, expected] of cases) {
    it(String(header), () => assert.deepEqual(decideRange(header, 1000), expected));
  }
});
