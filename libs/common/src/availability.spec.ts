import { Availability } from './availability';

describe('Availability', () => {
  it('logs an outage once when it starts and once when it ends, and remembers since when', () => {
    const lines: string[] = [];
    let now = Date.parse('2026-12-01T10:00:00Z');
    const a = new Availability(
      'postgres',
      { error: (m) => lines.push(`E ${m}`), log: (m) => lines.push(`L ${m}`) },
      () => new Date(now),
    );
    expect(a.current.status).toBe('up');
    now += 1000;
    for (let i = 0; i < 50; i++) a.markDown('ECONNREFUSED');
    expect(a.current).toEqual({
      status: 'down',
      since: '2026-12-01T10:00:01.000Z',
      error: 'ECONNREFUSED',
    });
    now += 12_500;
    a.markUp();
    a.markUp();
    expect(a.current).toEqual({ status: 'up', since: '2026-12-01T10:00:13.500Z' });
    expect(lines).toEqual([
      'E PostgreSQL non raggiungibile (ECONNREFUSED): guasto in corso',
      'L PostgreSQL di nuovo raggiungibile dopo 12.5 s',
    ]);
  });

  it('tells its listeners of each change, not of each report', () => {
    const a = new Availability('redis');
    const seen: string[] = [];
    a.onChange((s) => seen.push(s.status));
    a.markDown('x');
    a.markDown('y');
    a.markUp();
    a.markUp();
    expect(seen).toEqual(['down', 'up']);
  });
});
