import {
  daysBetween,
  daysLeftLabel,
  formatDate,
  formatInstant,
  romeDayRange,
  romeLocalDateTime,
  romeLocalToInstant,
  romeOffsetMinutes,
  romeToday,
} from './dates';

describe('console dates (Europe/Rome)', () => {
  it('a calendar date is the Rome date, whatever the UTC date', () => {
    // 23:30 UTC on 31 December is already 1 January in Rome
    expect(romeToday(new Date('2026-12-31T23:30:00Z'))).toBe('2027-01-01');
    expect(romeToday(new Date('2026-07-01T21:59:00Z'))).toBe('2026-07-01');
    expect(romeToday(new Date('2026-07-01T22:00:00Z'))).toBe('2026-07-02');
  });

  it('Rome is UTC+1 in winter and UTC+2 in summer', () => {
    expect(romeOffsetMinutes(new Date('2026-01-15T12:00:00Z'))).toBe(60);
    expect(romeOffsetMinutes(new Date('2026-07-15T12:00:00Z'))).toBe(120);
  });

  it('a Rome local date-time becomes an instant with the offset of that day', () => {
    expect(romeLocalToInstant('2026-02-10T10:30')).toBe('2026-02-10T10:30:00+01:00');
    expect(romeLocalToInstant('2026-08-10T10:30')).toBe('2026-08-10T10:30:00+02:00');
    // the day summer time starts (29 March 2026, 02:00 → 03:00) and the day it ends (25 October)
    expect(romeLocalToInstant('2026-03-29T12:00')).toBe('2026-03-29T12:00:00+02:00');
    expect(romeLocalToInstant('2026-03-29T01:00')).toBe('2026-03-29T01:00:00+01:00');
    expect(romeLocalToInstant('2026-10-25T12:00')).toBe('2026-10-25T12:00:00+01:00');
    expect(() => romeLocalToInstant('2026-02-10')).toThrow();
  });

  it('round-trips: the local time of an instant reads back as the same instant', () => {
    for (const iso of ['2026-01-05T08:15:00Z', '2026-06-30T16:45:00Z', '2026-12-31T23:59:00Z']) {
      const local = romeLocalDateTime(new Date(iso));
      expect(Date.parse(romeLocalToInstant(local))).toBe(Date.parse(iso));
    }
  });

  it('counts calendar days and says them in Italian', () => {
    expect(daysBetween('2026-03-29', '2026-03-30')).toBe(1); // across the DST change
    expect(daysBetween('2026-04-07', '2026-04-01')).toBe(-6);
    expect(daysLeftLabel(0)).toBe('scade oggi');
    expect(daysLeftLabel(1)).toBe('manca 1 giorno');
    expect(daysLeftLabel(12)).toBe('mancano 12 giorni');
    expect(daysLeftLabel(-1)).toBe('scaduto da 1 giorno');
    expect(daysLeftLabel(-3)).toBe('scaduto da 3 giorni');
    expect(daysLeftLabel(null)).toBe('—');
  });

  it('formats dates and instants the Italian way', () => {
    expect(formatDate('2026-04-07')).toBe('7 aprile 2026');
    expect(formatDate(null)).toBe('—');
    expect(formatInstant('2026-02-10T09:00:00Z')).toBe('10 febbraio 2026, 10:00');
  });

  it('a range of Rome days covers both whole days, to the last millisecond (the API filters are inclusive)', () => {
    expect(romeDayRange('2026-03-01', '2026-03-29')).toEqual({
      from: '2026-03-01T00:00:00+01:00',
      to: '2026-03-29T23:59:59.999+02:00',
    });
    expect(romeDayRange('', '2026-12-01')).toEqual({ to: '2026-12-01T23:59:59.999+01:00' });
    expect(romeDayRange('', '')).toEqual({});
  });
});
