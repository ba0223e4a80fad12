import type { Actor } from '@app/common';
import { verifyChain } from '@app/engine';
import { eventually, startHarness, type Harness } from '../../../test/support/harness';
import { CONVENTION_TEXT, unione } from '../../../test/support/scenario';
import {
  backendsGone,
  errorLines,
  killAllWorkerProcesses,
  rolledBackTransactions,
  startWorkerProcess,
} from '../../../test/support/worker-process';

/**
 * Two real worker processes consume the same queues at once and both run the reconciler (every second)
 * over the same ~500 due timers: each timer fires once.
 *
 * The unique index on process_event.timer_id is dropped in this test's own database: a double
 * application would then show up as two audit events instead of being refused by the index, so what is
 * proven is that the engine refuses it by the timer row's state (under the instance row lock).
 * The second worker's clock runs SKEW_MS ahead of the first's (both long past every due date), so
 * occurred_at − recorded_at of each audit event tells which process fired it.
 */
describe('two workers at once (real processes, Redis, Postgres)', () => {
  const CONVENTIONS = 16; // 8 entes × (1 deadline + 3 reminders) × 16 = 512 timers, all due at once
  const SKEW_MS = 10 * 60_000;
  let h: Harness;
  const v = unione('valdera');
  const entes = 1 + v.comuni.length;
  const presidente: Actor = {
    subject: 'presidente',
    roles: ['presidente'],
    ente: v.ipa,
    unione: v.ipa,
  };

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true }); // no in-process worker, no reconciler: only the children
    await h.ds.query(`DROP INDEX process_event_timer_uq`);
  });
  afterAll(async () => {
    await killAllWorkerProcesses();
    await h?.close();
  });

  /** conventions sent to their councils on Thu 5 Feb 2026: every ente gets a 60-day term and 3 reminders */
  async function openConventions(n: number): Promise<string[]> {
    h.clock.set(new Date('2026-02-02T09:00:00Z'));
    const ids = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const started = await h.engine.start(
          {
            definition: 'convenzione',
            input: { title: `Two workers ${i}`, unione: v.ipa, members: v.comuni },
          },
          presidente,
        );
        await h.engine.dispatch(
          started.id,
          { type: 'convention.freeze', payload: { text: CONVENTION_TEXT } },
          presidente,
        );
        return started.id;
      }),
    );
    h.clock.set(new Date('2026-02-05T12:00:00Z'));
    await Promise.all(
      ids.map((id) =>
        h.engine.dispatch(
          id,
          { type: 'convention.send', payload: { deliveredAt: '2026-02-05T10:00:00+01:00' } },
          presidente,
        ),
      ),
    );
    return ids;
  }

  it('~500 due timers, two workers and two reconcilers: each timer fires once and both workers fire some', async () => {
    const t0 = Date.now();
    const ids = await openConventions(CONVENTIONS);
    const timers: { id: string }[] = await h.ds.query(
      `SELECT id FROM timer WHERE status = 'armed' ORDER BY id`,
    );
    expect(timers).toHaveLength(CONVENTIONS * entes * 4);

    // both workers start (and reconcile) while the queue is paused, so the burst reaches two idle workers at once
    await h.timersQueue.pause();
    h.clock.set(new Date('2026-04-09T08:00:00Z')); // every deadline and reminder is due
    const offset = h.clock.offset;
    const common = {
      databaseUrl: h.config.databaseUrl,
      redisPrefix: h.config.redisPrefix,
      reconcileIntervalMs: 1000,
    };
    const [a, b] = await Promise.all([
      startWorkerProcess({ ...common, name: 'iter-two-a', clockOffsetMs: offset }),
      startWorkerProcess({ ...common, name: 'iter-two-b', clockOffsetMs: offset + SKEW_MS }),
    ]);
    const setupMs = Date.now() - t0;
    const rollbacksBefore = await rolledBackTransactions(h.ds);
    expect(await h.timersQueue.getJobCounts('paused', 'wait')).toMatchObject({
      paused: timers.length,
    }); // promoted by the start-up reconciliations

    const t1 = Date.now();
    await h.timersQueue.resume();
    await eventually(
      async () => {
        const armed: { n: number }[] = await h.ds.query(
          `SELECT count(*)::int AS n FROM timer WHERE status = 'armed'`,
        );
        const c = await h.timersQueue.getJobCounts(
          'active',
          'wait',
          'prioritized',
          'paused',
          'delayed',
        );
        return armed[0]!.n === 0 && Object.values(c).every((n) => n === 0);
      },
      60_000,
      100,
    );
    const burstMs = Date.now() - t1;
    const exits = await Promise.all([a.stop(), b.stop()]); // SIGTERM: a clean shutdown, not the SIGKILL fallback
    expect(exits.every((e) => e.signal === 'SIGTERM' || e.code === 0)).toBe(true);
    await Promise.all([backendsGone(h.ds, 'iter-two-a'), backendsGone(h.ds, 'iter-two-b')]);

    // none lost
    const rows: { id: string; kind: string; status: string }[] = await h.ds.query(
      `SELECT id, kind, status FROM timer ORDER BY id`,
    );
    expect(rows.map((r) => r.id)).toEqual(timers.map((t) => t.id));
    expect(rows.filter((r) => r.status !== 'fired' && r.status !== 'cancelled')).toEqual([]);
    expect(rows.filter((r) => r.kind === 'deadline').every((r) => r.status === 'fired')).toBe(true);

    // no double fire: one audit event per fired row, none for a cancelled one (no unique index to help)
    const perTimer: { timer_id: string; n: number; skews: number[] }[] = await h.ds.query(
      `SELECT timer_id, count(*)::int AS n, array_agg(extract(epoch FROM occurred_at - recorded_at) * 1000)::float8[] AS skews
       FROM process_event WHERE timer_id IS NOT NULL GROUP BY timer_id`,
    );
    expect(perTimer.filter((r) => r.n !== 1)).toEqual([]);
    const fired = rows
      .filter((r) => r.status === 'fired')
      .map((r) => r.id)
      .sort();
    expect(perTimer.map((r) => r.timer_id).sort()).toEqual(fired);
    const deadlines: { instance_id: string; n: number; distinct_timers: number }[] =
      await h.ds.query(
        `SELECT instance_id, count(*)::int AS n, count(DISTINCT timer_id)::int AS distinct_timers FROM process_event
       WHERE type = 'convention.deadline.expire' GROUP BY instance_id`,
      );
    expect(deadlines).toHaveLength(CONVENTIONS);
    expect(deadlines.every((d) => d.n === entes && d.distinct_timers === entes)).toBe(true);
    for (const id of ids) expect(await verifyChain(h.ds, id)).toMatchObject({ valid: true });

    // no statement failed anywhere (no duplicate key, no deadlock) and no worker logged an error
    expect(await rolledBackTransactions(h.ds)).toBe(rollbacksBefore);
    expect(errorLines(a.output())).toEqual([]);
    expect(errorLines(b.output())).toEqual([]);

    // both workers fired timers, and both reconcilers ran over the armed timers
    const skews = perTimer.map((r) => r.skews[0]!);
    const byA = skews.filter((s) => Math.abs(s - offset) < SKEW_MS / 2).length;
    const byB = skews.filter((s) => Math.abs(s - (offset + SKEW_MS)) < SKEW_MS / 2).length;
    expect(byA + byB).toBe(perTimer.length);
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
    const reconciled = (out: string) =>
      out.split('\n').filter((l) => l.includes('[reconciler] armed timers'));
    expect(reconciled(a.output()).length).toBeGreaterThan(0);
    expect(reconciled(b.output()).length).toBeGreaterThan(0);

    console.log(
      `[two-workers] setup ${setupMs} ms (worker start ${await a.started} / ${await b.started} ms); burst of ${timers.length} ` +
        `done in ${burstMs} ms: fired ${fired.length} (a ${byA}, b ${byB}), cancelled ${rows.length - fired.length}; ` +
        `reconciler runs with armed timers: a ${reconciled(a.output()).length}, b ${reconciled(b.output()).length}\n` +
        [...reconciled(a.output()).slice(0, 3), ...reconciled(b.output()).slice(0, 3)].join('\n'),
    );
  }, 120_000);

  it('the same due timer fired by 8 concurrent transactions is applied once, refused by its row state', async () => {
    const [id] = await openConventions(1);
    const [deadline] = await h.ds.query<{ id: string }[]>(
      `SELECT id FROM timer WHERE instance_id = $1 AND kind = 'deadline' AND status = 'armed' LIMIT 1`,
      [id],
    );
    h.clock.set(new Date('2026-04-09T08:00:00Z'));
    const before = await rolledBackTransactions(h.ds);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => h.engine.fireTimer(deadline!.id)),
    );
    expect(results.filter((r) => r === 'fired')).toHaveLength(1);
    expect(results.filter((r) => r === 'stale')).toHaveLength(7);
    const events: { n: number }[] = await h.ds.query(
      `SELECT count(*)::int AS n FROM process_event WHERE timer_id = $1`,
      [deadline!.id],
    );
    expect(events[0]!.n).toBe(1);
    expect(await rolledBackTransactions(h.ds)).toBe(before);
    expect(await verifyChain(h.ds, id!)).toMatchObject({ valid: true });
  });
});
