import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatHttpDate, parseHttpDate } from './http-date.js';

const NOW = Date.UTC(2026, 0, 1);
const at = (iso: string): number => Date.parse(iso);

describe('HTTP-date, strictly (RFC 9110 §5.6.7)', () => {
  const cases: [string, string | undefined, number | undefined][] = [
    ['IMF-fixdate', 'Sun, 06 Nov 1994 08:49:37 GMT', at('1994-11-06T08:49:37Z')],
    ['IMF-fixdate with surrounding whitespace', '  Sun, 06 Nov 1994 08:49:37 GMT ', at('1994-11-06T08:49:37Z')],
    ['obsolete RFC 850', 'Sunday, 06-Nov-94 08:49:37 GMT', at('1994-11-06T08:49:37Z')],
    ['RFC 850: a year more than 50 years ahead is the past century', 'Thursday, 01-Jan-80 00:00:00 GMT', at('1980-01-01T00:00:00Z')],
    ['RFC 850: a year up to 50 years ahead stays in this century', 'Monday, 01-Jan-35 00:00:00 GMT', at('2035-01-01T00:00:00Z')],
    ['RFC 850: a year at the 50-year boundary', 'Monday, 01-Jan-76 00:00:00 GMT', at('2076-01-01T00:00:00Z')],
    ['RFC 850: one past the 50-year boundary', 'Monday, 01-Jan-77 00:00:00 GMT', at('1977-01-01T00:00:00Z')],
    ['asctime, one-digit day', 'Sun Nov  6 08:49:37 1994', at('1994-11-06T08:49:37Z')],
    ['asctime, two-digit day', 'Sun Nov 16 08:49:37 1994', at('1994-11-16T08:49:37Z')],
    ['leap second reads as the next second', 'Wed, 31 Dec 2025 23:59:60 GMT', at('2026-01-01T00:00:00Z')],
    ['invalid: 0', '0', undefined],
    ['invalid: -1', '-1', undefined],
    ['invalid: empty', '', undefined],
    ['invalid: ISO 8601', '2026-01-01T00:00:00Z', undefined],
    ['invalid: not GMT', 'Sun, 06 Nov 1994 08:49:37 PST', undefined],
    ['invalid: UTC instead of GMT', 'Sun, 06 Nov 1994 08:49:37 UTC', undefined],
    ['invalid: lower-case month', 'Sun, 06 nov 1994 08:49:37 GMT', undefined],
    ['invalid: one-digit day in IMF-fixdate', 'Sun, 6 Nov 1994 08:49:37 GMT', undefined],
    ['invalid: 31 November', 'Sun, 31 Nov 1994 08:49:37 GMT', undefined],
    ['invalid: 29 February in a common year', 'Tue, 29 Feb 2022 00:00:00 GMT', undefined],
    ['valid: 29 February in a leap year', 'Thu, 29 Feb 2024 00:00:00 GMT', at('2024-02-29T00:00:00Z')],
    ['invalid: hour 24', 'Sun, 06 Nov 1994 24:00:00 GMT', undefined],
    ['invalid: minute 60', 'Sun, 06 Nov 1994 08:60:00 GMT', undefined],
    ['invalid: day name missing', '06 Nov 1994 08:49:37 GMT', undefined],
    ['invalid: long day name in IMF-fixdate', 'Sunday, 06 Nov 1994 08:49:37 GMT', undefined],
    ['invalid: trailing text', 'Sun, 06 Nov 1994 08:49:37 GMT junk', undefined],
    ['absent', undefined, undefined],
  ];
  for (const [name, value, expected] of cases) {
    it(`${name}: ${JSON.stringify(value)}`, () => assert.equal(parseHttpDate(value, NOW), expected));
  }
  it('a repeated field (an array) is not a date', () => assert.equal(parseHttpDate(['Sun, 06 Nov 1994 08:49:37 GMT'], NOW), undefined));
  it('formats IMF-fixdate, whole seconds, and parses back', () => {
    const time = at('2026-03-04T05:06:07.890Z');
    assert.equal(formatHttpDate(time), 'Wed, 04 Mar 2026 05:06:07 GMT');
    assert.equal(parseHttpDate(formatHttpDate(time), NOW), at('2026-03-04T05:06:07Z'));
  });
});
