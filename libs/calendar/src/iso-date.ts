import { DateTime } from 'luxon';

/** A calendar date as a plain string `YYYY-MM-DD` (no time, no zone). */
export type IsoDate = string;

/** Every calendar computation of Iter happens in the Italian legal time zone. */
export const ROME = 'Europe/Rome';

/** Supported years: four-digit years of the proleptic Gregorian calendar. */
export const MIN_YEAR = 1;
export const MAX_YEAR = 9999;

const ISO_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Strict `YYYY-MM-DD` check that is also a real calendar date (no 2026-02-30, no 2026-13-01). */
export function isIsoDate(s: string): boolean {
  return parseFields(s) !== null;
}

function parseFields(s: unknown): { year: number; month: number; day: number } | null {
  if (typeof s !== 'string') return null;
  const m = ISO_DATE_RE.exec(s);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < MIN_YEAR || year > MAX_YEAR) return null;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return { year, month, day };
}

/**
 * Internal: validate an IsoDate and return it as a Luxon DateTime at the start of that day in Rome.
 * Throws a RangeError naming the offending argument.
 */
export function toRomeDay(date: IsoDate, argName = 'date'): DateTime {
  const f = parseFields(date);
  if (!f) {
    throw new RangeError(
      `${argName} must be a valid calendar date in the form YYYY-MM-DD, got ${JSON.stringify(date)}`,
    );
  }
  return DateTime.fromObject(f, { zone: ROME });
}

/** Internal: format a Luxon DateTime as the IsoDate of its (Rome) calendar day, refusing out-of-range results. */
export function fromRomeDay(dt: DateTime): IsoDate {
  const local = dt.setZone(ROME);
  if (!local.isValid || local.year < MIN_YEAR || local.year > MAX_YEAR) {
    throw new RangeError(`date arithmetic left the supported range ${MIN_YEAR}..${MAX_YEAR}`);
  }
  return local.toFormat('yyyy-MM-dd');
}

/** Internal: a term length must be a non-negative integer. */
export function assertCount(n: number, argName: string): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${argName} must be a non-negative integer, got ${String(n)}`);
  }
}

/** Plain calendar arithmetic (days may be negative); no holiday shift of any kind. */
export function addCalendarDays(date: IsoDate, days: number): IsoDate {
  const f = parseFields(date);
  if (!f)
    throw new RangeError(
      `date must be a valid calendar date in the form YYYY-MM-DD, got ${JSON.stringify(date)}`,
    );
  if (typeof days !== 'number' || !Number.isSafeInteger(days)) {
    throw new RangeError(`days must be an integer, got ${String(days)}`);
  }
  // plain proleptic-Gregorian day arithmetic (a calendar date has no time zone); hot path of every timer
  const d = new Date(0);
  d.setUTCFullYear(f.year, f.month - 1, f.day + days);
  const year = d.getUTCFullYear();
  if (year < MIN_YEAR || year > MAX_YEAR) {
    throw new RangeError(`date arithmetic left the supported range ${MIN_YEAR}..${MAX_YEAR}`);
  }
  return `${String(year).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Comparator for IsoDates: negative if a < b, 0 if equal, positive if a > b (usable with Array#sort). */
export function compareIsoDate(a: IsoDate, b: IsoDate): number {
  if (!parseFields(a))
    throw new RangeError(
      `a must be a valid calendar date in the form YYYY-MM-DD, got ${JSON.stringify(a)}`,
    );
  if (!parseFields(b))
    throw new RangeError(
      `b must be a valid calendar date in the form YYYY-MM-DD, got ${JSON.stringify(b)}`,
    );
  // Fixed-width YYYY-MM-DD strings sort chronologically.
  return a < b ? -1 : a > b ? 1 : 0;
}
