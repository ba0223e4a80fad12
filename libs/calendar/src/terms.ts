import type { DateTime } from 'luxon';
import { type TermOptions, festivoTest } from './holidays';
import { type IsoDate, assertCount, fromRomeDay, toRomeDay } from './iso-date';

/**
 * Moves a nominal end date forward to the first day that is not festivo (and not a Saturday when
 * `saturdayExtends`): "se il giorno di scadenza è festivo, la scadenza è prorogata di diritto al primo
 * giorno seguente non festivo" (art. 155 c.4 c.p.c.; art. 2963 c.3 c.c.); Saturday only per
 * art. 155 c.5 c.p.c. / art. 52 c.5 c.p.a. The shift applies to peremptory terms too.
 */
function shiftEnd(nominal: DateTime, opts?: TermOptions): IsoDate {
  const festivo = festivoTest(opts);
  const saturdayExtends = opts?.saturdayExtends === true;
  let d = nominal;
  while (festivo(d) || (saturdayExtends && d.weekday === 6)) d = d.plus({ days: 1 });
  return fromRomeDay(d);
}

/**
 * Forward term in days. The starting day is excluded (dies a quo non computatur, art. 155 c.1 c.p.c.),
 * holidays inside the term count (c.3), and the end is shifted off a festivo (c.4) and, if
 * `saturdayExtends`, off a Saturday (c.5). DOMAIN.md §4.3: 60 days from Thu 2026-02-05 → Mon 2026-04-06
 * (Easter Monday) → Tue 2026-04-07.
 */
export function addDaysTerm(start: IsoDate, days: number, opts?: TermOptions): IsoDate {
  const s = toRomeDay(start, 'start');
  assertCount(days, 'days');
  return shiftEnd(s.plus({ days }), opts);
}

/**
 * Forward term in months, ex nominatione dierum (art. 155 c.2 c.p.c.; art. 2963 c.4 c.c.): same day
 * number in the target month, whatever the month lengths; if that month lacks the day, its last day
 * (31 Jan + 1 month = 28 Feb, or 29 Feb in a leap year). Then the same end shift as `addDaysTerm`.
 */
export function addMonthsTerm(start: IsoDate, months: number, opts?: TermOptions): IsoDate {
  const s = toRomeDay(start, 'start');
  assertCount(months, 'months');
  // Luxon clamps to the last day of the target month, which is exactly art. 2963 c.4 c.c.
  return shiftEnd(s.plus({ months }), opts);
}

/**
 * Backward term ("at least N days before", a ritroso, e.g. the council convocation notice):
 * date - N, NEVER shifted, even onto a Sunday or a holiday, because moving it would shorten the
 * protected interval (Cass., DOMAIN.md §4.1).
 */
export function backwardTerm(date: IsoDate, days: number): IsoDate {
  const d = toRomeDay(date);
  assertCount(days, 'days');
  return fromRomeDay(d.minus({ days }));
}

/**
 * Last day of an albo pretorio publication. The publication days INCLUDE the first day
 * (TAR Veneto 678/2020; Cass. 2563/2009), so 15 days from P end on P+14. Not a party's deadline:
 * no holiday shift.
 */
export function publicationEnd(start: IsoDate, days = 15): IsoDate {
  const s = toRomeDay(start, 'start');
  assertCount(days, 'days');
  if (days < 1)
    throw new RangeError(`days must be at least 1 for a publication period, got ${days}`);
  return fromRomeDay(s.plus({ days: days - 1 }));
}

/**
 * Readings of art. 134 c.3 D.Lgs. 267/2000 (TUEL: deliberations are executive "dopo il decimo giorno
 * dalla loro pubblicazione"):
 * - `P_PLUS_10`: publication start + 10;
 * - `P_PLUS_11`: publication start + 11 (the day after the tenth);
 * - `AFTER_PUBLICATION_PLUS_10`: minority view, 10 days after the end of the 15-day publication (P+14+10).
 */
export type ExecutivityReading = 'P_PLUS_10' | 'P_PLUS_11' | 'AFTER_PUBLICATION_PLUS_10';

/**
 * Date on which a deliberation without immediate executivity becomes executive. A legal effect, not a
 * party's deadline: no holiday shift (DOMAIN.md §4.1). The date certified by the segretario always
 * prevails over this computation. DOMAIN.md §4.3: P = 2026-03-27 → 04-06 / 04-07 / 04-20.
 */
export function executivityDate(publicationStart: IsoDate, reading: ExecutivityReading): IsoDate {
  const p = toRomeDay(publicationStart, 'publicationStart');
  switch (reading) {
    case 'P_PLUS_10':
      return fromRomeDay(p.plus({ days: 10 }));
    case 'P_PLUS_11':
      return fromRomeDay(p.plus({ days: 11 }));
    case 'AFTER_PUBLICATION_PLUS_10':
      return fromRomeDay(toRomeDay(publicationEnd(publicationStart)).plus({ days: 10 }));
    default: {
      const unknown: never = reading;
      throw new RangeError(`unknown executivity reading ${JSON.stringify(unknown)}`);
    }
  }
}
