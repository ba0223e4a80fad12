import Holidays from 'date-holidays';
import fc from 'fast-check';
import { holidayCorrections } from './holidays';
import { addCalendarDays, easterSunday, isFestivo, nationalHolidays } from './index';

describe('Easter (DOMAIN.md §4.2 table)', () => {
  it.each([
    [2025, '2025-04-21'],
    [2026, '2026-04-06'],
    [2027, '2027-03-29'],
    [2028, '2028-04-17'],
    [2029, '2029-04-02'],
    [2030, '2030-04-22'],
  ])('Easter Monday %i is %s and is festivo', (year, monday) => {
    expect(addCalendarDays(easterSunday(year), 1)).toBe(monday);
    expect(isFestivo(monday)).toBe(true);
    expect(nationalHolidays(year)).toContain(monday);
  });

  it('computes known Easter Sundays, including the extreme dates', () => {
    expect(easterSunday(2026)).toBe('2026-04-05');
    expect(easterSunday(2008)).toBe('2008-03-23');
    expect(easterSunday(2038)).toBe('2038-04-25'); // latest possible
    expect(easterSunday(2285)).toBe('2285-03-22'); // earliest possible
  });
});

describe('national holidays (DOMAIN.md §4.2)', () => {
  it('2026 is exactly the statutory list, 4 Oct included (L. 151/2025)', () => {
    expect(nationalHolidays(2026)).toEqual([
      '2026-01-01',
      '2026-01-06',
      '2026-04-06',
      '2026-04-25',
      '2026-05-01',
      '2026-06-02',
      '2026-08-15',
      '2026-10-04',
      '2026-11-01',
      '2026-12-08',
      '2026-12-25',
      '2026-12-26',
    ]);
  });

  it('4 Oct is festivo from 2026 only', () => {
    expect(isFestivo('2025-10-04')).toBe(false); // a Saturday, not yet a holiday
    expect(isFestivo('2026-10-04')).toBe(true);
    expect(isFestivo('2027-10-04')).toBe(true); // a Monday
    expect(nationalHolidays(2025)).not.toContain('2025-10-04');
    expect(nationalHolidays(2025)).toHaveLength(11);
  });

  it.each([
    '2026-01-01',
    '2026-01-06',
    '2026-04-25',
    '2026-05-01',
    '2026-06-02',
    '2026-08-15',
    '2026-11-01',
    '2026-12-08',
    '2026-12-25',
    '2026-12-26',
  ])('%s is festivo', (d) => {
    expect(isFestivo(d)).toBe(true);
  });

  it.each([
    ['San Giuseppe', '2026-03-19'],
    ['Ascensione (Thu, Easter + 39)', '2026-05-14'],
    ['Corpus Domini (Thu, Easter + 60)', '2026-06-04'],
    ['SS. Pietro e Paolo', '2026-06-29'],
    ['4 Nov', '2026-11-04'],
    ['Christmas Eve', '2026-12-24'],
    ['New Year Eve', '2026-12-31'],
  ])('%s (%s) is not festivo (abolished by L. 54/1977 or never a holiday)', (_name, d) => {
    expect(isFestivo(d)).toBe(false);
  });

  it('every Sunday is festivo, Easter Sunday included; Saturday is a working day', () => {
    expect(isFestivo('2026-04-05')).toBe(true); // Easter Sunday
    expect(isFestivo('2026-02-08')).toBe(true); // an ordinary Sunday
    expect(isFestivo('2026-02-07')).toBe(false); // Saturday
    expect(isFestivo('2026-02-07', { saturdayExtends: true })).toBe(false); // still not festivo: it only moves terms
    expect(isFestivo('2026-02-06')).toBe(false); // Friday
  });

  it('the patron saint day is festivo only when the ente opts in via extraHolidays', () => {
    // e.g. SS. Pietro e Paolo for Roma: a local holiday, not a national one.
    expect(isFestivo('2026-06-29')).toBe(false);
    expect(isFestivo('2026-06-29', { extraHolidays: ['2026-06-29'] })).toBe(true);
    expect(isFestivo('2027-06-29', { extraHolidays: ['2026-06-29'] })).toBe(false); // concrete dates, not recurring
    expect(() => isFestivo('2026-06-29', { extraHolidays: ['29-06'] })).toThrow(RangeError);
  });

  it('throws RangeError on an invalid date', () => {
    expect(() => isFestivo('2026-02-29')).toThrow(RangeError);
  });
});

describe('date-holidays corrections', () => {
  it('needs nothing for 2020-2100 with the installed release (4 Oct present from 2026)', () => {
    for (let y = 2020; y <= 2100; y++)
      expect(holidayCorrections(y)).toEqual({ dropped: [], added: [] });
  });

  it('drops the one-off 17 Mar 2011 (DL 5/2011), not on the §4.2 list', () => {
    expect(holidayCorrections(2011)).toEqual({ dropped: ['2011-03-17'], added: [] });
    expect(isFestivo('2011-03-17')).toBe(false);
  });

  it('agrees with the raw library data (public, national) on random dates 1990-2100 (property)', () => {
    const lib = new Holidays('IT', { timezone: 'Europe/Rome' });
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1990-01-01T12:00:00Z'),
          max: new Date('2100-12-31T12:00:00Z'),
          noInvalidDate: true,
        }),
        (d) => {
          const iso = d.toISOString().slice(0, 10);
          if (iso === '2011-03-17') return;
          const raw = lib.isHoliday(new Date(`${iso}T12:00:00+01:00`));
          const rawPublic = Array.isArray(raw) && raw.some((h) => h.type === 'public');
          const sunday = new Date(`${iso}T12:00:00Z`).getUTCDay() === 0;
          expect(isFestivo(iso)).toBe(sunday || rawPublic);
        },
      ),
      { numRuns: 300 },
    );
  });
});
