import fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  addCalendarDays,
  atRomeTime,
  endOfDayRome,
  instantInRome,
  isDateOnly,
  romeDateOf,
  toRomeDate,
} from './index';

describe('endOfDayRome', () => {
  it('winter day: 23:59:59.999+01:00', () => {
    expect(endOfDayRome('2026-02-05').toISOString()).toBe('2026-02-05T22:59:59.999Z');
  });

  it('summer day: 23:59:59.999+02:00', () => {
    expect(endOfDayRome('2026-04-07').toISOString()).toBe('2026-04-07T21:59:59.999Z');
  });

  it('spring forward 2026-03-29 ends in summer time (+02:00)', () => {
    expect(endOfDayRome('2026-03-29').toISOString()).toBe('2026-03-29T21:59:59.999Z');
    expect(endOfDayRome('2026-03-28').toISOString()).toBe('2026-03-28T22:59:59.999Z');
  });

  it('fall back 2026-10-25 ends in winter time (+01:00)', () => {
    expect(endOfDayRome('2026-10-25').toISOString()).toBe('2026-10-25T22:59:59.999Z');
    expect(endOfDayRome('2026-10-24').toISOString()).toBe('2026-10-24T21:59:59.999Z');
  });

  it('round-trips through toRomeDate, and one millisecond later is the next Rome day', () => {
    for (const d of [
      '2026-03-28',
      '2026-03-29',
      '2026-10-24',
      '2026-10-25',
      '2026-12-31',
      '2028-02-29',
    ]) {
      const eod = endOfDayRome(d);
      expect(toRomeDate(eod)).toBe(d);
      expect(toRomeDate(new Date(eod.getTime() + 1))).toBe(addCalendarDays(d, 1));
    }
  });

  it('throws RangeError on an invalid date', () => {
    expect(() => endOfDayRome('2026-10-32')).toThrow(RangeError);
  });
});

describe('atRomeTime', () => {
  it('09:00 Rome in winter and in summer', () => {
    expect(atRomeTime('2026-02-05', 9).toISOString()).toBe('2026-02-05T08:00:00.000Z');
    expect(atRomeTime('2026-04-07', 9, 30).toISOString()).toBe('2026-04-07T07:30:00.000Z');
  });

  it('on DST days', () => {
    expect(atRomeTime('2026-03-29', 9).toISOString()).toBe('2026-03-29T07:00:00.000Z');
    expect(atRomeTime('2026-10-25', 9).toISOString()).toBe('2026-10-25T08:00:00.000Z');
    expect(atRomeTime('2026-03-29', 0).toISOString()).toBe('2026-03-28T23:00:00.000Z');
    // 02:30 does not exist on 2026-03-29: moved forward to 03:30+02:00.
    expect(atRomeTime('2026-03-29', 2, 30).toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });

  it('throws RangeError on bad hour or minute', () => {
    expect(() => atRomeTime('2026-02-05', 24)).toThrow(RangeError);
    expect(() => atRomeTime('2026-02-05', -1)).toThrow(RangeError);
    expect(() => atRomeTime('2026-02-05', 9.5)).toThrow(RangeError);
    expect(() => atRomeTime('2026-02-05', 9, 60)).toThrow(RangeError);
    expect(() => atRomeTime('2026-02-30', 9)).toThrow(RangeError);
  });
});

describe('toRomeDate', () => {
  it('uses the Rome calendar day, not the UTC one', () => {
    expect(toRomeDate(new Date('2026-02-05T23:30:00Z'))).toBe('2026-02-06'); // 00:30 Rome
    expect(toRomeDate(new Date('2026-07-01T22:00:00Z'))).toBe('2026-07-02'); // 00:00 Rome (CEST)
    expect(toRomeDate(new Date('2026-07-01T21:59:59.999Z'))).toBe('2026-07-01');
  });

  it('throws RangeError on an invalid Date', () => {
    expect(() => toRomeDate(new Date('nope'))).toThrow(RangeError);
  });

  it('is the day Luxon reads in Europe/Rome, at every millisecond around the DST changes', () => {
    const luxon = (ms: number) =>
      DateTime.fromMillis(ms, { zone: 'Europe/Rome' }).toFormat('yyyy-MM-dd');
    // the changes of 2026 and 1970 (01:00 UTC, and Italy's older rules at local midnight): an hour each side
    for (const change of ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '1970-05-30T23:00:00Z']) {
      const at = Date.parse(change);
      for (let ms = at - 3_600_000; ms <= at + 3_600_000; ms += 4_999) {
        expect(toRomeDate(new Date(ms))).toBe(luxon(ms));
      }
      for (const ms of [at - 1, at, at + 1]) expect(toRomeDate(new Date(ms))).toBe(luxon(ms));
    }
    // any instant from 1893 (before: local mean time, not a whole-hour offset) to 2100
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1850, 0, 1), max: Date.UTC(2100, 0, 1) }), (ms) =>
        expect(toRomeDate(new Date(ms))).toBe(luxon(ms)),
      ),
      { numRuns: 5000 },
    );
  });

  it('round-trips any day at any Rome time (property)', () => {
    const dayArb = fc
      .integer({ min: Date.UTC(2020, 0, 1) / 86_400_000, max: Date.UTC(2035, 11, 31) / 86_400_000 })
      .map((n) => new Date(n * 86_400_000).toISOString().slice(0, 10));
    fc.assert(
      fc.property(
        dayArb,
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        (d, h, m) => {
          expect(toRomeDate(atRomeTime(d, h, m))).toBe(d);
          expect(toRomeDate(endOfDayRome(d))).toBe(d);
          expect(atRomeTime(d, h, m).getTime()).toBeLessThanOrEqual(endOfDayRome(d).getTime());
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('romeDateOf / instantInRome / isDateOnly: user values read in Rome', () => {
  it('a date alone is that Rome date, never midnight UTC', () => {
    expect(isDateOnly('2026-03-10')).toBe(true);
    expect(isDateOnly('2026-03-10T00:00:00Z')).toBe(false);
    expect(romeDateOf('2026-03-10')).toBe('2026-03-10');
    // its instant is the start of that day in Rome: 23:00Z the day before in winter, 22:00Z in summer
    expect(instantInRome('2026-03-10').toISOString()).toBe('2026-03-09T23:00:00.000Z');
    expect(instantInRome('2026-07-10').toISOString()).toBe('2026-07-09T22:00:00.000Z');
  });

  it('an instant with an offset is that instant; its Rome date may be the next UTC day', () => {
    expect(instantInRome('2026-03-09T23:30:00Z').toISOString()).toBe('2026-03-09T23:30:00.000Z');
    expect(romeDateOf('2026-03-09T23:30:00Z')).toBe('2026-03-10');
    expect(romeDateOf('2026-03-10T00:30:00+01:00')).toBe('2026-03-10');
    expect(romeDateOf('2026-07-09T22:30:00.000Z')).toBe('2026-07-10');
  });

  it('a date-time without offset is Rome wall-clock time, across DST', () => {
    expect(instantInRome('2026-03-10T00:30:00').toISOString()).toBe('2026-03-09T23:30:00.000Z');
    expect(instantInRome('2026-03-29T03:30:00').toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(romeDateOf('2026-10-25T00:30:00')).toBe('2026-10-25');
  });

  it('refuses what is not ISO 8601', () => {
    expect(() => instantInRome('10/03/2026')).toThrow(RangeError);
    expect(() => romeDateOf('2026-02-30')).toThrow(RangeError);
    // the UTC fast path checks the date first: Date.parse alone would roll these over
    expect(() => instantInRome('2026-02-30T10:00:00Z')).toThrow(RangeError);
    expect(() => romeDateOf('2026-02-29T10:00:00.000Z')).toThrow(RangeError);
    // an instant whose Rome date leaves the supported years
    expect(() => romeDateOf('9999-12-31T23:30:00Z')).toThrow(RangeError);
    expect(romeDateOf('9999-12-31T22:30:00Z')).toBe('9999-12-31');
  });

  it('answers exactly as Luxon reads the value in Europe/Rome, valid or not (property)', () => {
    // the reading before the fast paths (UTC instants by Date.parse, a real date as itself)
    const luxonInstant = (value: string): string => {
      const dt = /T.*(Z|[+-]\d{2}(:?\d{2})?)$/i.test(value)
        ? DateTime.fromISO(value, { setZone: true })
        : DateTime.fromISO(value, { zone: 'Europe/Rome' });
      if (!dt.isValid) return 'RangeError';
      return dt.toJSDate().toISOString();
    };
    const outcome = (f: () => Date | string): string => {
      try {
        const v = f();
        return typeof v === 'string' ? v : v.toISOString();
      } catch (err) {
        return (err as Error).name;
      }
    };
    const two = (n: number) => String(n).padStart(2, '0');
    const value = fc
      .record({
        // 9999-12-31 late in the evening UTC is year 10000 in Rome: refused, the case below
        year: fc.integer({ min: 1, max: 9998 }),
        month: fc.integer({ min: 0, max: 13 }),
        day: fc.integer({ min: 0, max: 32 }),
        hour: fc.integer({ min: 0, max: 25 }),
        minute: fc.integer({ min: 0, max: 60 }),
        second: fc.option(fc.integer({ min: 0, max: 60 })),
        ms: fc.option(fc.integer({ min: 0, max: 9999 })),
        zone: fc.constantFrom('Z', 'z', '+01:00', '-05:30', '', 'date-only'),
      })
      .map((v) => {
        const date = `${String(v.year).padStart(4, '0')}-${two(v.month)}-${two(v.day)}`;
        if (v.zone === 'date-only') return date;
        const sec = v.second === null ? '' : `:${two(v.second)}${v.ms === null ? '' : `.${v.ms}`}`;
        return `${date}T${two(v.hour)}:${two(v.minute)}${sec}${v.zone}`;
      });
    const instants = fc
      .integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) })
      .map((ms) => new Date(ms).toISOString());
    fc.assert(
      fc.property(fc.oneof(value, instants), (v) => {
        expect(outcome(() => instantInRome(v))).toBe(luxonInstant(v));
        const date = luxonInstant(v) === 'RangeError' ? 'RangeError' : outcome(() => romeDateOf(v));
        if (date !== 'RangeError')
          expect(date).toBe(
            DateTime.fromISO(luxonInstant(v)).setZone('Europe/Rome').toFormat('yyyy-MM-dd'),
          );
        else expect(outcome(() => romeDateOf(v))).toBe('RangeError');
      }),
      { numRuns: 5_000 },
    );
  });
});
