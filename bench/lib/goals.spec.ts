import { Report } from './report';

/** The goals table of issue 15: which figure meets which goal, with which bound, and what is said when none does. */
describe('bench goals (issue 15)', () => {
  const all = new Set(['ceiling', 'engine', 'http', 'timers', 'audit', 'scale', 'outage']);

  it('replaces a section’s own target with the goal’s, recognising figures by section and name', () => {
    const r = new Report('abc');
    const p50 = r.add({
      section: '3 http',
      name: 'POST event p50 at 20 req/s',
      value: 4,
      unit: 'ms',
      target: { op: '<=', value: 5 },
    });
    expect(p50).toMatchObject({
      goal: 'http.fixed.p50',
      target: { op: '<=', value: 3 },
      pass: false,
    });
    const hist = r.add({
      section: '5 audit',
      name: 'history read of 500 events p99',
      value: 9.5,
      unit: 'ms',
      target: { op: '<=', value: 20 },
    });
    expect(hist).toMatchObject({ goal: 'history.p99', pass: true });
    // a figure no goal is about keeps its own target
    const other = r.add({
      section: '3 http',
      name: 'POST event p90 at 20 req/s',
      value: 4,
      unit: 'ms',
      target: { op: '<=', value: 5 },
    });
    expect(other.goal).toBeUndefined();
    expect(other.pass).toBe(true);
  });

  it('judges every concurrency of the engine ratio, and names the ones below 50 %', () => {
    const r = new Report('abc');
    for (const [c, v] of [
      [1, 62],
      [8, 49.9],
      [32, 50],
    ] as const)
      r.add({
        section: '2 engine',
        name: `ratio to the minimal transition @${c}`,
        value: v,
        unit: '%',
        goal: 'engine.ratio',
      });
    const rows = r.goals(all).filter((g) => g.goal === 'engine.ratio');
    expect(rows.map((g) => g.result)).toEqual(['PASS', 'MISS', 'PASS']);
  });

  it('converts a bound in seconds to a figure in milliseconds (the burst)', () => {
    const r = new Report('abc');
    const f = r.add({
      section: '4 timers',
      name: 'burst of 10,000 at one instant: last fired after',
      value: 14_000,
      unit: 'ms',
    });
    expect(f).toMatchObject({ goal: 'timers.burst', target: { value: 15_000 }, pass: true });
    // a percentile of the burst's lateness is not "all fired within"
    const p99 = r.add({ section: '4 timers', name: 'burst lateness p99', value: 1, unit: 'ms' });
    expect(p99.goal).toBeUndefined();
  });

  it('does not judge full-size goals in a quick run, and says why a goal has no figure', () => {
    const r = new Report('abc', { quick: true });
    const f = r.add({
      section: '5 audit',
      name: 'verify time per 1,000,000 events (2 worker threads)',
      value: 3,
      unit: 's',
    });
    expect(f.pass).toBeUndefined();
    const rows = r.goals(new Set(['audit']));
    expect(rows.find((g) => g.goal === 'verify.1m')!.result).toBe('not judged (quick sizes)');
    const engine = rows.find((g) => g.goal === 'engine.ratio')!;
    expect(engine).toMatchObject({ result: 'not measured' });
    expect(engine.note).toContain('ceiling and engine not run');
    expect(rows.find((g) => g.goal === 'history.p99')!.note).toBe(
      'no figure in this run names this goal',
    );
  });

  it('refuses a figure naming a goal that does not exist', () => {
    const r = new Report('abc');
    expect(() =>
      r.add({ section: '2 engine', name: 'x', value: 1, unit: '%', goal: 'engine.typo' }),
    ).toThrow(/unknown goal engine\.typo/);
  });
});
