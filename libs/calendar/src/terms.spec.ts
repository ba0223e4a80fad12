import fc from 'fast-check';
import {
  type IsoDate,
  addCalendarDays,
  addDaysTerm,
  addMonthsTerm,
  backwardTerm,
  compareIsoDate,
  executivityDate,
  isFestivo,
  publicationEnd,
} from './index';

/** Independent reference helpers (UTC epoch arithmetic, not the library under test). */
const DAY_MS = 86_400_000;
const utcMs = (d: IsoDate): number => Date.parse(`${d}T00:00:00Z`);
const plusDays = (d: IsoDate, n: number): IsoDate =>
  new Date(utcMs(d) + n * DAY_MS).toISOString().slice(0, 10);
const daysBetween = (a: IsoDate, b: IsoDate): number => Math.round((utcMs(b) - utcMs(a)) / DAY_MS);
const weekday = (d: IsoDate): number => new Date(utcMs(d)).getUTCDay(); // 0 = Sunday, 6 = Saturday

/** Random calendar dates 2020-2035. */
const isoDateArb = fc
  .integer({ min: utcMs('2020-01-01') / DAY_MS, max: utcMs('2035-12-31') / DAY_MS })
  .map((n) => new Date(n * DAY_MS).toISOString().slice(0, 10));

describe('addDaysTerm', () => {
  it('DOMAIN.md §4.3: 60 days from Thu 2026-02-05 → nominal Mon 2026-04-06 (Easter Monday) → Tue 2026-04-07', () => {
    expect(addCalendarDays('2026-02-05', 60)).toBe('2026-04-06');
    expect(addDaysTerm('2026-02-05', 60)).toBe('2026-04-07');
    expect(addDaysTerm('2026-02-05', 60, { saturdayExtends: true })).toBe('2026-04-07');
  });

  it('excludes the starting day and keeps a working end day', () => {
    expect(addDaysTerm('2026-02-05', 1)).toBe('2026-02-06'); // Fri
    expect(addDaysTerm('2026-02-05', 0)).toBe('2026-02-05');
    expect(addDaysTerm('2026-02-05', 0, { saturdayExtends: true })).toBe('2026-02-05');
  });

  it('a Saturday end stays put for administrative terms, moves to Monday with saturdayExtends', () => {
    expect(addDaysTerm('2026-02-05', 2)).toBe('2026-02-07'); // Sat
    expect(addDaysTerm('2026-02-05', 2, { saturdayExtends: true })).toBe('2026-02-09'); // Mon
  });

  it('a Sunday end moves to Monday', () => {
    expect(addDaysTerm('2026-02-05', 3)).toBe('2026-02-09');
  });

  it('Sat 2026-10-03 with saturdayExtends lands on Mon 5 Oct (Sun 4 Oct is Sunday and San Francesco)', () => {
    expect(addDaysTerm('2026-09-23', 10)).toBe('2026-10-03');
    expect(addDaysTerm('2026-09-23', 10, { saturdayExtends: true })).toBe('2026-10-05');
    expect(addDaysTerm('2026-09-24', 10)).toBe('2026-10-05');
  });

  it('chains consecutive holidays: Christmas, Santo Stefano and the Sunday', () => {
    // Longest possible shift: Sat 2023-12-23 → Sun 24 → Mon 25 → Tue 26 → Wed 27 with saturdayExtends.
    expect(addDaysTerm('2023-12-22', 1, { saturdayExtends: true })).toBe('2023-12-27');
    expect(addDaysTerm('2023-12-22', 1)).toBe('2023-12-23');
    // Fri 2027-12-24 + 1 → Sat 25 Dec (holiday) → Sun 26 Dec (holiday) → Mon 27 Dec.
    expect(addDaysTerm('2027-12-24', 1)).toBe('2027-12-27');
    // Thu 2026-12-24 + 1 → Fri 25 → Sat 26 (Santo Stefano) → Sun 27 → Mon 28.
    expect(addDaysTerm('2026-12-24', 1)).toBe('2026-12-28');
  });

  it('2 Jun and 25 Apr move the end', () => {
    expect(addDaysTerm('2026-06-01', 1)).toBe('2026-06-03'); // Tue 2 Jun → Wed 3 Jun
    expect(addDaysTerm('2025-04-24', 1)).toBe('2025-04-26'); // Fri 25 Apr 2025 → Sat 26 (administrative)
    expect(addDaysTerm('2025-04-24', 1, { saturdayExtends: true })).toBe('2025-04-28');
  });

  it('honours an ente patron saint day only when opted in', () => {
    const patron = { extraHolidays: ['2026-06-29'] as const }; // e.g. SS. Pietro e Paolo in Roma (Mon)
    expect(addDaysTerm('2026-06-19', 10)).toBe('2026-06-29');
    expect(addDaysTerm('2026-06-19', 10, patron)).toBe('2026-06-30');
  });

  it('throws RangeError on invalid input', () => {
    expect(() => addDaysTerm('2026-02-30', 10)).toThrow(RangeError);
    expect(() => addDaysTerm('2026-02-05', -1)).toThrow(RangeError);
    expect(() => addDaysTerm('2026-02-05', 1.5)).toThrow(/non-negative integer/);
    expect(() => addDaysTerm('2026-02-05', Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => addDaysTerm('2026-02-05', 1, { extraHolidays: ['2026-6-29'] })).toThrow(
      RangeError,
    );
  });
});

describe('addMonthsTerm (ex nominatione dierum)', () => {
  it('31 Jan + 1 month → last day of February', () => {
    expect(addMonthsTerm('2026-01-31', 1)).toBe('2026-02-28'); // Sat, administrative: stays
    expect(addMonthsTerm('2028-01-31', 1)).toBe('2028-02-29'); // Tue, leap year
  });

  it('applies the same end shift', () => {
    expect(addMonthsTerm('2026-01-31', 1, { saturdayExtends: true })).toBe('2026-03-02');
    expect(addMonthsTerm('2026-03-06', 1)).toBe('2026-04-07'); // 6 Apr = Easter Monday
    expect(addMonthsTerm('2025-12-25', 12)).toBe('2026-12-28'); // Fri 25, Sat 26, Sun 27
  });

  it('ignores month lengths', () => {
    expect(addMonthsTerm('2026-02-05', 2)).toBe('2026-04-07'); // nominal 5 Apr = Easter Sunday, 6 Apr Easter Monday
    expect(addMonthsTerm('2026-03-31', 1)).toBe('2026-04-30');
    expect(addMonthsTerm('2026-08-31', 6)).toBe('2027-03-01'); // nominal Sun 28 Feb 2027
    expect(addMonthsTerm('2026-02-05', 0)).toBe('2026-02-05');
  });

  it('throws RangeError on invalid input', () => {
    expect(() => addMonthsTerm('2026-01-32', 1)).toThrow(RangeError);
    expect(() => addMonthsTerm('2026-01-31', -1)).toThrow(RangeError);
    expect(() => addMonthsTerm('2026-01-31', 0.5)).toThrow(RangeError);
  });
});

describe('backwardTerm (a ritroso)', () => {
  it('is never shifted, not even onto a Sunday or a holiday', () => {
    expect(backwardTerm('2026-02-13', 5)).toBe('2026-02-08'); // Sunday
    expect(backwardTerm('2026-04-11', 5)).toBe('2026-04-06'); // Easter Monday
    expect(backwardTerm('2026-10-09', 5)).toBe('2026-10-04'); // Sunday and San Francesco
    expect(backwardTerm('2026-03-01', 1)).toBe('2026-02-28');
    expect(backwardTerm('2026-02-13', 0)).toBe('2026-02-13');
  });

  it('throws RangeError on invalid input', () => {
    expect(() => backwardTerm('2026-02-13', -5)).toThrow(RangeError);
    expect(() => backwardTerm('13/02/2026', 5)).toThrow(RangeError);
  });
});

describe('publication and executivity (DOMAIN.md §4.3, Alvito)', () => {
  it('publication from Fri 2026-03-27 ends Fri 2026-04-10 (first day included)', () => {
    expect(publicationEnd('2026-03-27')).toBe('2026-04-10');
    expect(publicationEnd('2026-03-27', 15)).toBe('2026-04-10');
    expect(publicationEnd('2026-03-27', 1)).toBe('2026-03-27');
    expect(publicationEnd('2026-03-27', 30)).toBe('2026-04-25'); // a holiday, not shifted
  });

  it('executive on 04-06 (P+10), 04-07 (P+11), 04-20 (minority reading), without holiday shift', () => {
    expect(executivityDate('2026-03-27', 'P_PLUS_10')).toBe('2026-04-06'); // Easter Monday, kept
    expect(executivityDate('2026-03-27', 'P_PLUS_11')).toBe('2026-04-07');
    expect(executivityDate('2026-03-27', 'AFTER_PUBLICATION_PLUS_10')).toBe('2026-04-20');
    expect(executivityDate('2026-09-24', 'P_PLUS_10')).toBe('2026-10-04'); // Sunday + San Francesco, kept
  });

  it('throws RangeError on invalid input', () => {
    expect(() => publicationEnd('2026-03-27', 0)).toThrow(RangeError);
    expect(() => publicationEnd('2026-03-27', -15)).toThrow(RangeError);
    expect(() => executivityDate('2026-02-29', 'P_PLUS_10')).toThrow(RangeError);
    expect(() => executivityDate('2026-03-27', 'P_PLUS_12' as never)).toThrow(RangeError);
  });
});

describe('term properties', () => {
  const daysArb = fc.integer({ min: 0, max: 400 });
  const optsArb = fc.record({ saturdayExtends: fc.boolean() });

  it('addDaysTerm: not festivo, >= nominal, at most 3 (4 with Saturdays) days later, first acceptable day', () => {
    fc.assert(
      fc.property(isoDateArb, daysArb, optsArb, (start, days, opts) => {
        const nominal = plusDays(start, days);
        const end = addDaysTerm(start, days, opts);
        expect(isFestivo(end)).toBe(false);
        if (opts.saturdayExtends) expect(weekday(end)).not.toBe(6);
        const shift = daysBetween(nominal, end);
        expect(shift).toBeGreaterThanOrEqual(0);
        // Worst cases: Sun 24 Dec → Mon 25 → Tue 26 → Wed 27 (3 days); with saturdayExtends,
        // Sat 23 Dec 2023 → Sun 24 → Mon 25 → Tue 26 → Wed 27 (4 days).
        expect(shift).toBeLessThanOrEqual(opts.saturdayExtends ? 4 : 3);
        // Minimality: every skipped day was festivo (or a Saturday when saturdayExtends).
        for (let i = 0; i < shift; i++) {
          const skipped = plusDays(nominal, i);
          expect(isFestivo(skipped) || (opts.saturdayExtends && weekday(skipped) === 6)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('addDaysTerm: saturdayExtends never ends earlier; a later start never ends earlier', () => {
    fc.assert(
      fc.property(isoDateArb, daysArb, fc.integer({ min: 0, max: 30 }), (start, days, delay) => {
        const admin = addDaysTerm(start, days);
        const litigation = addDaysTerm(start, days, { saturdayExtends: true });
        expect(compareIsoDate(admin, litigation)).toBeLessThanOrEqual(0);
        expect(
          compareIsoDate(admin, addDaysTerm(plusDays(start, delay), days)),
        ).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('addDaysTerm with extraHolidays never ends on one of them', () => {
    fc.assert(
      fc.property(
        isoDateArb,
        daysArb,
        fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 4 }),
        (start, days, offsets) => {
          const nominal = plusDays(start, days);
          const extraHolidays = offsets.map((o) => plusDays(nominal, o));
          const end = addDaysTerm(start, days, { extraHolidays });
          expect(extraHolidays).not.toContain(end);
          expect(isFestivo(end, { extraHolidays })).toBe(false);
          expect(compareIsoDate(end, addDaysTerm(start, days))).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });

  it('addMonthsTerm: same day number or the month end, then the minimal shift', () => {
    fc.assert(
      fc.property(isoDateArb, fc.integer({ min: 0, max: 36 }), optsArb, (start, months, opts) => {
        const [y, m, d] = start.split('-').map(Number) as [number, number, number];
        const idx = y * 12 + (m - 1) + months;
        const ty = Math.floor(idx / 12);
        const tm = (idx % 12) + 1;
        const lastDay = new Date(Date.UTC(ty, tm, 0)).getUTCDate();
        const nominal = `${ty}-${String(tm).padStart(2, '0')}-${String(Math.min(d, lastDay)).padStart(2, '0')}`;
        const end = addMonthsTerm(start, months, opts);
        expect(isFestivo(end)).toBe(false);
        if (opts.saturdayExtends) expect(weekday(end)).not.toBe(6);
        const shift = daysBetween(nominal, end);
        expect(shift).toBeGreaterThanOrEqual(0);
        expect(shift).toBeLessThanOrEqual(opts.saturdayExtends ? 4 : 3);
        for (let i = 0; i < shift; i++) {
          const skipped = plusDays(nominal, i);
          expect(isFestivo(skipped) || (opts.saturdayExtends && weekday(skipped) === 6)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('backwardTerm is exact arithmetic, whatever the day it lands on', () => {
    fc.assert(
      fc.property(isoDateArb, daysArb, (date, days) => {
        const back = backwardTerm(date, days);
        expect(back).toBe(plusDays(date, -days));
        expect(daysBetween(back, date)).toBe(days);
      }),
      { numRuns: 500 },
    );
  });

  it('publication and executivity are exact offsets from P', () => {
    fc.assert(
      fc.property(isoDateArb, fc.integer({ min: 1, max: 60 }), (p, n) => {
        expect(publicationEnd(p, n)).toBe(plusDays(p, n - 1));
        expect(executivityDate(p, 'P_PLUS_10')).toBe(plusDays(p, 10));
        expect(executivityDate(p, 'P_PLUS_11')).toBe(plusDays(p, 11));
        expect(executivityDate(p, 'AFTER_PUBLICATION_PLUS_10')).toBe(plusDays(p, 24));
      }),
      { numRuns: 300 },
    );
  });
});
