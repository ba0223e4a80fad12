import type { BenchContext } from '../lib/context';
import type { LoopResult } from '../lib/load';
import { fmtInt } from '../lib/stats';
import { countRows } from '../lib/world';
import { dispatchLoop, ensureFresh } from './engine';
import { fillTo, instanceCount } from './fill';

/**
 * 6. Scale: the engine figure at 8 concurrent callers with `target` instances in the tables. The run's own
 * conventions are created through the engine first (they count); the rest are copies of a real one (instance row
 * and its three audit events, by bulk SQL: fill.ts), so the tables and their indexes have the size a real
 * deployment would have. The large point also reports its slowdown against the small one (issue 15: ≤ 5 %).
 */
export async function scalePoint(
  ctx: BenchContext,
  target: number,
  fillerTemplate: string,
): Promise<void> {
  const { world, sizes, report, progress } = ctx;
  const guess = ctx.engineRate.get(8) ?? ctx.probeRate;
  const wanted =
    Math.ceil((guess * 1.3 * (sizes.loopMs + sizes.warmupMs)) / 1000 / sizes.budget) + 16;
  const have = await instanceCount(world.ds);
  // the run's instances, but never more than the point allows
  const own = Math.min(wanted, Math.max(16, target - have + ctx.fresh.length));
  await ensureFresh(ctx, own, `scale ${fmtInt(target)}`);
  const added = await fillTo(world.ds, fillerTemplate, target, progress);
  const rows = await countRows(world.ds);
  progress.log(
    `scale: ${fmtInt(rows.instances)} instances (${fmtInt(added)} copies added), ${fmtInt(rows.events)} events, ${fmtInt(rows.timers)} timers, ${fmtInt(rows.outbox)} outbox rows`,
  );
  const ds = await world.dataSource(8);
  const r = await dispatchLoop(
    ctx,
    world.engine(ds),
    8,
    `scale ${fmtInt(target)} instances`,
    guess * 1.3,
    own,
  );
  await ds.destroy();
  progress.log(
    `scale @${fmtInt(rows.instances)} instances: ${fmtInt(r.rate)}/s at 8, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms${r.exhausted ? ' (instance pool ran out: shorter window)' : ''}`,
  );
  const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
  report.add({
    section: '6 scale',
    name: `dispatch/s @8 with ${fmtInt(target)} instances`,
    value: r.rate,
    unit: '/s',
    note: `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms; ${fmtInt(rows.instances)} instances, ${fmtInt(rows.events)} events${errors ? `; ${errors} errors!` : ''}`,
  });
  const scale =
    (ctx.report.details['scale'] as
      Record<string, { rows: unknown; result: LoopResult }> | undefined) ?? {};
  // the goal: with 100 times the instances, at most 5 % slower than the small point measured earlier in this run
  const smaller = Object.entries(scale)
    .map(([n, p]) => ({ n: Number(n), rate: p.result.rate }))
    .filter((p) => p.n < target)
    .sort((a, b) => a.n - b.n)[0];
  if (smaller && smaller.rate > 0) {
    report.add({
      section: '6 scale',
      name: `slowdown with ${fmtInt(target)} instances vs ${fmtInt(smaller.n)}`,
      value: (100 * (smaller.rate - r.rate)) / smaller.rate,
      unit: '%',
      goal: 'scale.slowdown',
      note: `${fmtInt(r.rate)} vs ${fmtInt(smaller.rate)} /s at 8 callers (negative: faster)`,
    });
  }
  scale[String(target)] = { rows, result: r };
  report.detail('scale', scale);
}
