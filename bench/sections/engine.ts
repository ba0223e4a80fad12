import { VersionConflictError } from '@app/common';
import type { Engine } from '@app/engine';
import { takeFresh, type BenchContext } from '../lib/context';
import { closedLoop, Exhausted, type LoopResult } from '../lib/load';
import { fmtInt } from '../lib/stats';
import {
  countRows,
  createConventions,
  InstancePool,
  nextActNumber,
  PRESIDENTE,
  rinviata,
  romeToday,
  segretario,
  VALDERA,
} from '../lib/world';

/** Make sure the working set holds at least n fresh conventions (created through the engine, outside any measurement). */
export async function ensureFresh(ctx: BenchContext, n: number, label: string): Promise<void> {
  const missing = n - ctx.fresh.length;
  if (missing <= 0) return;
  const { ids, seconds } = await createConventions(ctx.world, missing, {
    label,
    progress: ctx.progress,
  });
  ctx.fresh.push(...ids);
  ctx.progress.log(
    `setup: ${missing} conventions started, frozen and sent in ${seconds.toFixed(1)} s (${fmtInt((3 * missing) / seconds)} transitions/s, 8 at a time)`,
  );
}

/** instances a closed loop may use up: the ceiling bounds the engine's rate, with some margin */
function instancesFor(
  ctx: BenchContext,
  rate: number,
  budget: number,
  concurrency: number,
): number {
  const seconds = (ctx.sizes.loopMs + ctx.sizes.warmupMs) / 1000;
  return Math.ceil((rate * seconds * 1.15) / budget) + concurrency * 2;
}

/** closed loop of RINVIATA dispatches over many instances (no two callers on one instance at a time) */
export async function dispatchLoop(
  ctx: BenchContext,
  engine: Engine,
  concurrency: number,
  label: string,
  expectedRate: number,
  cap = Infinity,
): Promise<LoopResult> {
  const n = Math.min(cap, instancesFor(ctx, expectedRate, ctx.sizes.budget, concurrency));
  await ensureFresh(ctx, n, label);
  const pool = new InstancePool(takeFresh(ctx, n), ctx.sizes.budget, romeToday());
  return closedLoop({
    label,
    concurrency,
    durationMs: ctx.sizes.loopMs,
    warmupMs: ctx.sizes.warmupMs,
    progress: ctx.progress,
    op: async () => {
      const lease = pool.take();
      if (!lease) throw new Exhausted('instance pool');
      const { req, actor } = pool.next(lease);
      try {
        await engine.dispatch(lease.id, req, actor);
      } finally {
        pool.give(lease);
      }
    },
  });
}

const errorsOf = (r: LoopResult) => Object.values(r.errors).reduce((a, b) => a + b, 0);

/**
 * 2. Engine: Engine.dispatch (constructed directly, real BullJobScheduler so the outbox jobs are enqueued after
 * commit as in the api) of RINVIATA deliberation records at 1, 8, 32 concurrent callers over many instances;
 * the pool has as many connections as callers (capped at 32), like the ceiling; each level's rate as a share of
 * the minimal durable transition (the goal: at least 50 % at every concurrency) and of Iter's own SQL. Then one hot instance with
 * 8 and 32 writers sending If-Match.
 */
export async function engineSection(ctx: BenchContext): Promise<void> {
  const { world, sizes, report, progress } = ctx;
  const ds = await world.dataSource(32);
  const engine = world.engine(ds);
  const results: LoopResult[] = [];
  let lastRate = 0;
  for (const c of sizes.levels) {
    const ceiling = ctx.ceiling.get(c) ?? Number.NaN;
    const rows = await countRows(world.ds);
    const expected = Math.min(
      Number.isNaN(ceiling) ? Infinity : ceiling,
      lastRate > 0 ? lastRate * 3 : ctx.probeRate * 1.5,
    );
    const r = await dispatchLoop(ctx, engine, c, `engine dispatch`, expected);
    lastRate = r.rate;
    ctx.engineRate.set(c, r.rate);
    results.push(r);
    const ratio = (100 * r.rate) / ceiling;
    const ofIterSql = (100 * r.rate) / (ctx.iterSql.get(c) ?? Number.NaN);
    progress.log(
      `engine @${c}: ${fmtInt(r.rate)}/s (${ratio.toFixed(0)}% of the minimal transition, ${ofIterSql.toFixed(0)}% of Iter's SQL), p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, errors ${JSON.stringify(r.errors)}, CPU ${r.cpuMsPerOp} ms per dispatch`,
    );
    const note = `${fmtInt(rows.instances)} instances, ${fmtInt(rows.events)} events in the tables`;
    report.add({
      section: '2 engine',
      name: `dispatch transitions/s @${c}`,
      value: r.rate,
      unit: '/s',
      note: errorsOf(r) ? `${errorsOf(r)} errors!` : note,
    });
    report.add({
      section: '2 engine',
      name: `dispatch p50 @${c}`,
      value: r.latency.p50,
      unit: 'ms',
    });
    report.add({
      section: '2 engine',
      name: `dispatch p99 @${c}`,
      value: r.latency.p99,
      unit: 'ms',
    });
    if (!Number.isNaN(ratio)) {
      report.add({
        section: '2 engine',
        name: `ratio to the minimal transition @${c}`,
        value: ratio,
        unit: '%',
        goal: 'engine.ratio',
        note: `${fmtInt(r.rate)} / ${fmtInt(ceiling)} /s`,
      });
    }
    if (!Number.isNaN(ofIterSql)) {
      report.add({
        section: '2 engine',
        name: `ratio to Iter's own SQL @${c}`,
        value: ofIterSql,
        unit: '%',
        note: `${fmtInt(r.rate)} / ${fmtInt(ctx.iterSql.get(c)!)} /s`,
      });
    }
    if (r.exhausted) progress.log(`warning: the instance pool ran out during engine @${c}`);
  }

  const hot: Record<string, unknown> = {};
  for (const writers of [8, 32]) {
    const h = await hotInstance(ctx, engine, writers);
    hot[`writers${writers}`] = h;
    report.add({
      section: '2 engine',
      name: `hot instance committed/s, ${writers} writers`,
      value: h.committedPerSecond,
      unit: '/s',
      note: `If-Match; p99 ${h.result.latency.p99} ms`,
    });
    report.add({
      section: '2 engine',
      name: `hot instance refused stale, ${writers} writers`,
      value: h.stale,
      unit: 'requests',
      note: `${h.staleShare.toFixed(0)}% of ${fmtInt(h.attempts)} attempts, 409 VERSION_CONFLICT`,
    });
  }
  await ds.destroy();

  // the api's own configuration: DATABASE_POOL_SIZE=8 whatever the number of callers
  let r8: LoopResult | null = null;
  if (sizes.enginePool8) {
    const ds8 = await world.dataSource(8);
    r8 = await dispatchLoop(
      ctx,
      world.engine(ds8),
      32,
      'engine dispatch (pool 8)',
      lastRate * 1.5 || 3000,
    );
    ctx.engineRateApiPool = r8.rate;
    progress.log(
      `engine @32 over a pool of 8: ${fmtInt(r8.rate)}/s, p99 ${r8.latency.p99} ms, CPU ${r8.cpuMsPerOp} ms per dispatch`,
    );
    report.add({
      section: '2 engine',
      name: 'dispatch/s @32, pool 8 (api default)',
      value: r8.rate,
      unit: '/s',
      note: `p50 ${r8.latency.p50} ms, p99 ${r8.latency.p99} ms; ${Math.round((100 * r8.rate) / (ctx.ceiling.get(32) ?? Number.NaN))}% of the minimal transition @32`,
    });

    await ds8.destroy();
  }
  report.detail('engine', { levels: results, pool8At32: r8, hot });
}

/**
 * One hot instance: `writers` callers each read the version (GET), then dispatch with If-Match; a stale one is
 * refused (409 VERSION_CONFLICT), re-reads and tries again. After `hotBudget` commits the writers all move on to
 * a fresh instance, so the snapshot stays the size of the others while the contention stays on one row.
 */
async function hotInstance(ctx: BenchContext, engine: Engine, writers: number) {
  const { sizes, progress } = ctx;
  // one row at a time: the commit rate cannot beat a single caller's
  const n = instancesFor(ctx, (ctx.engineRate.get(1) ?? ctx.probeRate) * 1.5, sizes.hotBudget, 1);
  await ensureFresh(ctx, n, 'hot instance');
  const ids = takeFresh(ctx, n);
  const date = romeToday();
  let idx = 0;
  let commits = 0;
  let rereads = 0;
  const known: ({ id: string; version: number } | null)[] = Array.from(
    { length: writers },
    () => null,
  );
  const r = await closedLoop({
    label: `hot instance, ${writers} writers`,
    concurrency: writers,
    durationMs: sizes.loopMs,
    warmupMs: sizes.warmupMs,
    progress,
    op: async (w) => {
      if (commits >= sizes.hotBudget) {
        idx++;
        commits = 0;
      }
      const id = ids[idx];
      if (id === undefined) throw new Exhausted('hot instances');
      let k = known[w];
      if (!k || k.id !== id) {
        const view = await engine.viewOf(id, PRESIDENTE);
        rereads++;
        k = known[w] = { id, version: view.version };
      }
      const ente = VALDERA.entes[w % VALDERA.entes.length]!;
      try {
        const view = await engine.dispatch(
          id,
          rinviata(ente, nextActNumber(), date),
          segretario(ente),
          { expectedVersion: k.version },
        );
        k.version = view.version;
        if (ids[idx] === id) commits++;
      } catch (err) {
        if (err instanceof VersionConflictError) known[w] = null;
        throw err;
      }
    },
  });
  const stale = r.errors['VERSION_CONFLICT'] ?? 0;
  const attempts = r.ok + errorsOf(r);
  const other = errorsOf(r) - stale;
  progress.log(
    `hot instance, ${writers} writers: ${fmtInt(r.rate)} committed/s, ${fmtInt(stale)} refused stale of ${fmtInt(attempts)} attempts` +
      `${other ? `, ${other} other errors ${JSON.stringify(r.errors)}` : ''}, ${idx + 1} instances used`,
  );
  return {
    result: r,
    committedPerSecond: r.rate,
    stale,
    attempts,
    staleShare: attempts ? (100 * stale) / attempts : 0,
    rereads,
    instancesUsed: idx + 1,
  };
}
