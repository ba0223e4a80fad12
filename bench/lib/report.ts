import { goalOf, goalRows, targetIn, type GoalRow } from './goals';
import { round } from './stats';

export interface Target {
  op: '>=' | '<=' | '==';
  value: number;
}

export interface Figure {
  section: string;
  name: string;
  value: number;
  unit: string;
  target?: Target;
  /** true/false against the target; undefined when the figure has none */
  pass?: boolean;
  /** what else a reader needs to interpret the figure (rows in the tables, pool size…) */
  note?: string;
  /** the issue-15 goal this figure measures (an id of GOALS in ./goals); its target replaces `target` */
  goal?: string;
}

const fmt = (v: number, unit: string): string => {
  if (!Number.isFinite(v)) return String(v);
  if (unit === '%') return `${round(v, 1)}`;
  if (unit === 'ms') return v >= 100 ? v.toFixed(0) : v.toFixed(2);
  if (unit === 's') return v.toFixed(2);
  if (unit === 'MB') return v.toFixed(0);
  return Math.round(v).toLocaleString('en-US');
};

const opText = (t: Target): string => (t.op === '==' ? '=' : t.op === '>=' ? '≥' : '≤');

/** Every figure of one run: printed as a table with its target and PASS/MISS, written as JSON. */
export class Report {
  readonly figures: Figure[] = [];
  readonly details: Record<string, unknown> = {};

  constructor(
    readonly commit: string,
    readonly opts: { quick: boolean } = { quick: false },
  ) {}

  add(input: Omit<Figure, 'pass'>): Figure {
    const f = { ...input };
    const goal = goalOf(f);
    if (goal) {
      f.goal = goal.id;
      // one bound per figure, the issue's; a bound for the full sizes judges nothing in a quick run
      const t = goal.fullOnly && this.opts.quick ? undefined : targetIn(goal, f.unit);
      if (t) f.target = t;
      else delete f.target;
    }
    const fig: Figure = { ...f, value: round(f.value, 3) };
    if (f.target) {
      const v = f.value;
      fig.pass =
        Number.isFinite(v) &&
        (f.target.op === '>='
          ? v >= f.target.value
          : f.target.op === '<='
            ? v <= f.target.value
            : v === f.target.value);
    }
    this.figures.push(fig);
    return fig;
  }

  detail(key: string, value: unknown): void {
    this.details[key] = value;
  }

  /** issue 15's goals: figure, goal, PASS/MISS (or why not judged), note */
  goals(sections: Set<string>): GoalRow[] {
    return goalRows(this.figures, { quick: this.opts.quick, sections });
  }

  goalsTable(sections: Set<string>): string {
    const rows = this.goals(sections).map((r) => [
      r.figure,
      r.measured,
      r.value === null ? '—' : `${fmt(r.value, r.unit)} ${r.unit}`,
      r.text,
      r.result,
      r.note,
    ]);
    return textTable(
      ['issue 15 figure', 'measured as', 'value', 'goal', 'result', 'note'],
      rows,
      [2],
    );
  }

  get misses(): Figure[] {
    return this.figures.filter((f) => f.pass === false);
  }

  table(): string {
    // by section number, in the order measured within a section
    const sorted = this.figures
      .map((f, i) => ({ f, i }))
      .sort((a, b) => a.f.section.localeCompare(b.f.section) || a.i - b.i);
    const rows = sorted.map(({ f }) => [
      f.section,
      f.name,
      fmt(f.value, f.unit),
      f.unit,
      f.target ? `${opText(f.target)} ${fmt(f.target.value, f.unit)}` : '',
      f.pass === undefined ? '' : f.pass ? 'PASS' : 'MISS',
      this.commit,
      f.note ?? '',
    ]);
    const head = ['section', 'figure', 'value', 'unit', 'target', 'result', 'commit', 'note'];
    return textTable(head, rows, [2]);
  }
}

function textTable(head: string[], rows: string[][], rightAligned: number[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const right = new Set(rightAligned);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
