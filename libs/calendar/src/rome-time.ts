import { DateTime } from 'luxon';
import { type IsoDate, ROME, fromRomeDay, toRomeDay } from './iso-date';

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
const romeDateCache = new Map<number, IsoDate>();
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
  return cached(romeDateCache, instant.getTime(), () =>
    fromRomeDay(DateTime.fromJSDate(instant, { zone: ROME })),
  );
}
