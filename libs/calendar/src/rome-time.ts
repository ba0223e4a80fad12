import { DateTime } from 'luxon';
import {
  type IsoDate,
  MAX_YEAR,
  MIN_YEAR,
  ROME,
  fromRomeDay,
  isIsoDate,
  toRomeDay,
} from './iso-date';

/**
 * The last instant of a Rome calendar day, 23:59:59.999 local time (+01:00 in winter, +02:00 in summer,
 * whatever the DST changes of that day). A term "expires" at the end of its last day.
 */
export function endOfDayRome(date: IsoDate): Date {
  return new Date(
    cached(endOfDayCache, date, () => toRomeDay(date).endOf('day').toJSDate().getTime()),
  );
}

/*
 * Pure functions of their arguments, called for every ente on every transition (timers, rules): memoised,
 * since Luxon's zone arithmetic costs tens of microseconds a call. Bounded: a full cache is simply cleared.
 */
const CACHE_LIMIT = 20_000;
const endOfDayCache = new Map<string, number>();
const atTimeCache = new Map<string, number>();
function cached<K, V>(cache: Map<K, V>, key: K, compute: () => V): V {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const value = compute();
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}

/**
 * The instant of a wall-clock time on a Rome calendar day (e.g. reminders at 09:00).
 * On DST days Luxon resolves a non-existent local time (02:00-02:59 on the last Sunday of March)
 * by moving it forward one hour, and an ambiguous one (02:00-02:59 on the last Sunday of October)
 * to its second occurrence (+01:00).
 */
export function atRomeTime(date: IsoDate, hour: number, minute = 0): Date {
  return new Date(
    cached(atTimeCache, `${date}|${hour}|${minute}`, () => computeAtRomeTime(date, hour, minute)),
  );
}

function computeAtRomeTime(date: IsoDate, hour: number, minute: number): number {
  const day = toRomeDay(date);
  if (typeof hour !== 'number' || !Number.isInteger(hour) || hour < 0 || hour > 23) {
    throw new RangeError(`hour must be an integer between 0 and 23, got ${String(hour)}`);
  }
  if (typeof minute !== 'number' || !Number.isInteger(minute) || minute < 0 || minute > 59) {
    throw new RangeError(`minute must be an integer between 0 and 59, got ${String(minute)}`);
  }
  return DateTime.fromObject(
    { year: day.year, month: day.month, day: day.day, hour, minute },
    { zone: ROME },
  ).toMillis();
}

/** The Rome calendar date of an instant (e.g. a PEC delivery receipt timestamp). */
export function toRomeDate(instant: Date): IsoDate {
  if (!(instant instanceof Date) || Number.isNaN(instant.getTime())) {
    throw new RangeError(`instant must be a valid Date, got ${String(instant)}`);
  }
  const ms = instant.getTime();
  // every step is dated at a new millisecond, so a cache by instant never hits: Rome's UTC offset is
  // cached by hour instead (it changes on an hour boundary, 01:00 UTC), and the date is read off the
  // shifted instant; an hour whose two ends disagree (none since 1893) is left to Luxon
  const offset = cached(romeHourOffsetCache, Math.floor(ms / HOUR_MS), () => hourOffset(ms));
  if (offset === null) return fromRomeDay(DateTime.fromJSDate(instant, { zone: ROME }));
  const shifted = new Date(ms + Math.round(offset * 60_000));
  const year = shifted.getUTCFullYear();
  // outside the supported years fromRomeDay refuses the date with its own message
  if (year < MIN_YEAR || year > MAX_YEAR) {
    return fromRomeDay(DateTime.fromJSDate(instant, { zone: ROME }));
  }
  return shifted.toISOString().slice(0, 10);
}

const HOUR_MS = 3_600_000;
/** Rome's UTC offset (minutes) over a whole UTC hour, or null when it changes within it */
const romeHourOffsetCache = new Map<number, number | null>();
function hourOffset(ms: number): number | null {
  const start = Math.floor(ms / HOUR_MS) * HOUR_MS;
  const first = DateTime.fromMillis(start, { zone: ROME }).offset;
  const last = DateTime.fromMillis(start + HOUR_MS - 1, { zone: ROME }).offset;
  return first === last ? first : null;
}

/** `YYYY-MM-DD` alone: a calendar date, read as a date in Rome (never as midnight UTC). */
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
/** `YYYY-MM-DDTHH:mm[:ss[.sss]]Z`, hours 00–23 (the date part is checked by isIsoDate) */
const UTC_INSTANT = /^(\d{4}-\d{2}-\d{2})T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,3})?)?Z$/;
/** an explicit offset or `Z` at the end of an ISO 8601 date-time */
const HAS_OFFSET = /T.*(Z|[+-]\d{2}(:?\d{2})?)$/i;

/** Whether an ISO 8601 value is a calendar date only (`YYYY-MM-DD`), not an instant. */
export function isDateOnly(value: string): boolean {
  return DATE_ONLY.test(value);
}

/**
 * The instant of an ISO 8601 value given by a user: with an offset (`Z`, `+01:00`) it is that instant; without
 * one it is a wall-clock time in Rome; a date alone is the start of that day in Rome.
 */
export function instantInRome(value: string): Date {
  // the common case, an instant in UTC as Iter writes them (toISOString): no zone to resolve, so the platform's
  // parser reads it exactly — once the date is known to be a real one (Date.parse would roll 30 February over)
  const utc = typeof value === 'string' ? UTC_INSTANT.exec(value) : null;
  if (utc && isIsoDate(utc[1]!)) return new Date(Date.parse(value));
  const dt = HAS_OFFSET.test(value)
    ? DateTime.fromISO(value, { setZone: true })
    : DateTime.fromISO(value, { zone: ROME });
  if (!dt.isValid)
    throw new RangeError(`not an ISO 8601 date or date-time: ${JSON.stringify(value)}`);
  return dt.toJSDate();
}

/**
 * The Rome calendar date of an ISO 8601 value: a date alone is already one (`2026-03-10` is 10 March in Rome,
 * whatever the hour in UTC), an instant is converted (`2026-03-09T23:30:00Z` is 10 March in Rome).
 */
export function romeDateOf(value: string): IsoDate {
  // a real calendar date is its own Rome date; an invalid one is refused by toRomeDay with its message
  if (isDateOnly(value)) return isIsoDate(value) ? value : fromRomeDay(toRomeDay(value, 'value'));
  return toRomeDate(instantInRome(value));
}
