import type { Figure, Target } from './report';

/**
 * The goals of issue 15, each on one figure of the report. A section names the goal a figure measures with
 * `report.add({ …, goal: '<id>' })`; figures from before the goals existed are also recognised by their section
 * and name (`match`), so a section need not know this list. The goal's target replaces the figure's own: the
 * report judges a figure against one bound only, the issue's.
 */
export interface Goal {
  id: string;
  /** the row of issue 15's table this goal belongs to */
  figure: string;
  /** the goal as the issue states it */
  text: string;
  /** the bound on the figure's value (in `unit`); none: the goal is to show the figure */
  target?: Target;
  unit?: string;
  /** judged only on the full run's sizes (quick mode measures too few items for the bound to mean anything) */
  fullOnly?: boolean;
  /** the sections that measure it (to say why a goal has no figure in this run) */
  sections: string[];
  match?: (f: Figure) => boolean;
}

export const GOALS: Goal[] = [
  {
    id: 'reference.minimal',
    figure: 'minimal durable transition from Node (5 round trips, 600 B head)',
    text: 'the reference of every engine ratio (shown)',
    sections: ['ceiling'],
  },
  {
    id: 'reference.iter-sql',
    figure: 'Iter’s own transition SQL',
    text: 'shown next to the reference',
    sections: ['ceiling'],
  },
  {
    id: 'engine.ratio',
    figure: 'engine dispatch',
    text: '≥ 50 % of the minimal transition at every concurrency',
    target: { op: '>=', value: 50 },
    unit: '%',
    sections: ['ceiling', 'engine'],
  },
  {
    id: 'http.fixed.p50',
    figure: 'HTTP POST …/events at 20 req/s, p50',
    text: 'p50 ≤ 3 ms',
    target: { op: '<=', value: 3 },
    unit: 'ms',
    sections: ['http'],
    match: (f) => f.section === '3 http' && /^POST event p50 at \d+ req\/s$/.test(f.name),
  },
  {
    id: 'http.fixed.p99',
    figure: 'HTTP POST …/events at 20 req/s, p99',
    text: 'p99 ≤ 10 ms',
    target: { op: '<=', value: 10 },
    unit: 'ms',
    sections: ['http'],
    match: (f) => f.section === '3 http' && /^POST event p99 at \d+ req\/s$/.test(f.name),
  },
  {
    id: 'http.saturated.ratio',
    figure: 'HTTP saturated',
    text: '≥ 80 % of the engine’s own figure',
    target: { op: '>=', value: 80 },
    unit: '%',
    sections: ['engine', 'http'],
  },
  {
    id: 'timers.spread.p99',
    figure: '10,000 deadlines due over 60 s, one worker: lateness p99',
    text: 'p99 ≤ 250 ms',
    target: { op: '<=', value: 250 },
    unit: 'ms',
    sections: ['timers'],
    match: (f) =>
      f.section.startsWith('4 ') && /lateness p99/.test(f.name) && !/burst/i.test(f.name),
  },
  {
    id: 'timers.burst',
    figure: '10,000 deadlines due at the same instant: all fired within',
    text: '≤ 15 s',
    target: { op: '<=', value: 15 },
    unit: 's',
    fullOnly: true,
    sections: ['timers'],
    // the time by which the last of them fired (not a percentile of their lateness)
    match: (f) =>
      f.section.startsWith('4 ') &&
      /burst/i.test(f.name) &&
      !/\bp\d+\b/.test(f.name) &&
      (f.unit === 's' || f.unit === 'ms'),
  },
  {
    id: 'history.p99',
    figure: 'history of 500 events, p99',
    text: 'p99 ≤ 10 ms',
    target: { op: '<=', value: 10 },
    unit: 'ms',
    sections: ['audit'],
    match: (f) => f.section.startsWith('5 ') && /^history read of 500 events p99$/.test(f.name),
  },
  {
    id: 'verify.1m',
    figure: 'verify 1,000,000 events',
    text: '≤ 30 s',
    target: { op: '<=', value: 30 },
    unit: 's',
    fullOnly: true,
    sections: ['audit'],
    // the time per 1,000,000 events: the run verifies every chain of its database (other sections' copies too, so
    // more or fewer than 1,000,000 events), and verification is linear in the events (chains are independent)
    match: (f) =>
      f.section.startsWith('5 ') &&
      /^verify time per 1,000,000 events\b/.test(f.name) &&
      f.unit === 's',
  },
  {
    id: 'scale.slowdown',
    figure: '100,000 instances vs 1,000',
    text: '≤ 5 % slower',
    target: { op: '<=', value: 5 },
    unit: '%',
    fullOnly: true,
    sections: ['scale'],
  },
  {
    id: 'outage.redis-down',
    figure: 'write latency with Redis down',
    text: 'shown',
    sections: ['outage'],
    match: (f) => f.section.startsWith('7 ') && /Redis stopped/.test(f.name) && f.unit === 'ms',
  },
];

/** the goal a figure measures: named by the section, or recognised */
export function goalOf(f: Pick<Figure, 'goal' | 'section' | 'name' | 'unit'>): Goal | undefined {
  if (f.goal) {
    const g = GOALS.find((x) => x.id === f.goal);
    if (!g) throw new Error(`figure ${f.name}: unknown goal ${f.goal}`);
    return g;
  }
  return GOALS.find((g) => g.match?.(f as Figure));
}

/** a bound in seconds or milliseconds expressed in the figure's own unit */
export function targetIn(g: Goal, unit: string): Target | undefined {
  if (!g.target) return undefined;
  if (g.unit === unit || g.unit === undefined) return g.target;
  if (g.unit === 's' && unit === 'ms') return { ...g.target, value: g.target.value * 1000 };
  if (g.unit === 'ms' && unit === 's') return { ...g.target, value: g.target.value / 1000 };
  throw new Error(`goal ${g.id} is in ${g.unit}, the figure in ${unit}`);
}

export type GoalResult = 'PASS' | 'MISS' | 'shown' | 'not judged (quick sizes)' | 'not measured';

export interface GoalRow {
  goal: string;
  figure: string;
  /** the report figure (empty when not measured) */
  measured: string;
  value: number | null;
  unit: string;
  text: string;
  result: GoalResult;
  note: string;
}

/** One row per figure that measures a goal (a goal measured at several concurrencies has several). */
export function goalRows(figures: Figure[], opts: { quick: boolean; sections: Set<string> }) {
  const rows: GoalRow[] = [];
  for (const g of GOALS) {
    const figs = figures.filter((f) => f.goal === g.id);
    if (!figs.length) {
      const missing = g.sections.filter((s) => !opts.sections.has(s));
      rows.push({
        goal: g.id,
        figure: g.figure,
        measured: '',
        value: null,
        unit: g.unit ?? '',
        text: g.text,
        result: 'not measured',
        note: missing.length
          ? `section ${missing.join(' and ')} not run`
          : 'no figure in this run names this goal',
      });
      continue;
    }
    for (const f of figs) {
      const judged = f.pass !== undefined && !(g.fullOnly && opts.quick);
      rows.push({
        goal: g.id,
        figure: g.figure,
        measured: f.name,
        value: f.value,
        unit: f.unit,
        text: g.text,
        result: judged
          ? f.pass
            ? 'PASS'
            : 'MISS'
          : g.target
            ? 'not judged (quick sizes)'
            : 'shown',
        note: f.note ?? '',
      });
    }
  }
  return rows;
}
