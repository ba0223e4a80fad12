import fc from 'fast-check';
import { addCalendarDays, compareIsoDate, isIsoDate } from './index';

describe('isIsoDate', () => {
  it.each(['2026-02-05', '2028-02-29', '2000-02-29', '0001-01-01', '9999-12-31'])(
    'accepts %s',
    (s) => {
      expect(isIsoDate(s)).toBe(true);
    },
  );

  it.each([
    '2026-02-29', // not a leap year
    '1900-02-29', // century, not a leap year
    '2026-02-30',
    '2026-04-31',
    '2026-13-01',
    '2026-00-10',
    '2026-01-00',
    '2026-1-05',
    '26-01-05',
    '2026-01-05T00:00:00',
    '2026-01-05 ',
    ' 2026-01-05',
    '2026-W05',
    '20260105',
    '0000-01-01',
    '',
  ])('rejects %j', (s) => {
    expect(isIsoDate(s)).toBe(false);
  });
});

describe('addCalendarDays', () => {
  it('does plain arithmetic in both directions, across months, years and DST changes', () => {
    expect(addCalendarDays('2026-01-31', 1)).toBe('2026-02-01');
    expect(addCalendarDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addCalendarDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(addCalendarDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addCalendarDays('2026-03-28', 2)).toBe('2026-03-30'); // across spring forward
    expect(addCalendarDays('2026-10-24', 2)).toBe('2026-10-26'); // across fall back
    expect(addCalendarDays('2026-02-05', 0)).toBe('2026-02-05');
  });

  it('never shifts onto a working day', () => {
    expect(addCalendarDays('2026-04-05', 1)).toBe('2026-04-06'); // Easter Monday, kept
  });

  it('throws RangeError on bad input', () => {
    expect(() => addCalendarDays('2026-02-30', 1)).toThrow(RangeError);
    expect(() => addCalendarDays('2026-02-01', 1.5)).toThrow(RangeError);
    expect(() => addCalendarDays('2026-02-01', Number.NaN)).toThrow(RangeError);
    expect(() => addCalendarDays('9999-12-31', 1)).toThrow(RangeError);
  });

  it('agrees with UTC epoch arithmetic (property)', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1990-01-01'), max: new Date('2050-12-31'), noInvalidDate: true }),
        fc.integer({ min: -5000, max: 5000 }),
        (d, n) => {
          const start = d.toISOString().slice(0, 10);
          const expected = new Date(
            Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) + n * 86_400_000,
          )
            .toISOString()
            .slice(0, 10);
          expect(addCalendarDays(start, n)).toBe(expected);
          expect(addCalendarDays(addCalendarDays(start, n), -n)).toBe(start);
        },
      ),
    );
  });
});

describe('compareIsoDate', () => {
  it('orders chronologically', () => {
    expect(compareIsoDate('2026-02-05', '2026-04-07')).toBeLessThan(0);
    expect(compareIsoDate('2026-04-07', '2026-02-05')).toBeGreaterThan(0);
    expect(compareIsoDate('2026-04-07', '2026-04-07')).toBe(0);
    expect(['2027-01-01', '2026-12-31', '2026-01-10'].sort(compareIsoDate)).toEqual([
      '2026-01-10',
      '2026-12-31',
      '2027-01-01',
    ]);
  });

  it('throws RangeError on an invalid date', () => {
    expect(() => compareIsoDate('2026-02-05', '2026-2-5')).toThrow(RangeError);
    expect(() => compareIsoDate('x', '2026-02-05')).toThrow(/YYYY-MM-DD/);
  });
});
