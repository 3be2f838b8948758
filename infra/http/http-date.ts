// RFC 9110 §5.6.7 HTTP-date, parsed strictly: IMF-fixdate, and the two obsolete forms a recipient
// must still accept (RFC 850, asctime). Anything else is invalid — never guessed at by Date.parse,
// so an unparsable Expires reads as "already expired" instead of as some date.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = MONTHS.join('|');
const DAY = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
const DAY_LONG = 'Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

// Sun, 06 Nov 1994 08:49:37 GMT
const IMF_FIXDATE = new RegExp(`^(?:${DAY}), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`);
// Sunday, 06-Nov-94 08:49:37 GMT
const RFC_850 = new RegExp(`^(?:${DAY_LONG}), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`);
// Sun Nov  6 08:49:37 1994
const ASCTIME = new RegExp(`^(?:${DAY}) (${MONTH}) ([ \\d]\\d) ${TIME} (\\d{4})$`);

/**
 * Epoch milliseconds of an HTTP-date, or undefined when `value` is not one. `now` settles the
 * century of a two-digit RFC 850 year: a date more than 50 years in the future is read as the most
 * recent past year with the same last two digits (§5.6.7).
 */
export function parseHttpDate(value: string | readonly string[] | undefined, now = Date.now()): number | undefined {
  if (typeof value !== 'string') return undefined;
  // Surrounding whitespace is not part of a field value (RFC 9110 §5.5).
  const text = value.trim();
  let match = IMF_FIXDATE.exec(text);
  if (match) return timestamp(Number(match[3]), match[2]!, Number(match[1]), match.slice(4, 7));
  match = RFC_850.exec(text);
  if (match) return timestamp(fullYear(Number(match[3]), now), match[2]!, Number(match[1]), match.slice(4, 7));
  match = ASCTIME.exec(text);
  if (match) return timestamp(Number(match[6]), match[1]!, Number(match[2]!.trim()), match.slice(3, 6));
  return undefined;
}

/** The IMF-fixdate form of a time (what a recipient generates, §5.6.7). */
export function formatHttpDate(time: number): string {
  return new Date(Math.floor(time / 1000) * 1000).toUTCString();
}

function fullYear(twoDigits: number, now: number): number {
  const thisYear = new Date(now).getUTCFullYear();
  let year = Math.floor(thisYear / 100) * 100 + twoDigits;
  if (year > thisYear + 50) year -= 100;
  return year;
}

function timestamp(year: number, monthName: string, day: number, clock: readonly (string | undefined)[]): number | undefined {
  const month = MONTHS.indexOf(monthName);
  const [hour, minute, second] = clock.map(Number) as [number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  // A leap second (60) is allowed by the grammar; it reads as the next second.
  if (day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 60) return undefined;
  return Date.UTC(year, month, day, hour, minute, second);
}
