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
 * A burst of deadlines due at the same instant (every Rome deadline ends at 23:59:59): conventions whose 8
 * entes were sent the text the same day, fired by two real worker processes at once, after Redis lost every
 * job (the workers' start-up reconciliation re-creates them from the timer rows).
 *
 * Batched firing (Engine.fireDue): each job fires the due timers of its process in one transaction and then
 * sweeps other processes with due timers (FOR UPDATE SKIP LOCKED). What must hold: each timer fires once
 * (the unique index on process_event.timer_id is dropped here, so a double application would show as two
 * events instead of being refused by the index), every deadline fires, and a process's due deadlines are
 * applied together, in ONE transaction (its events share the inserting transaction id, xmin).
 */
describe('a burst of deadlines due at the same instant, two workers (real processes)', () => {
  const CONVENTIONS = 48; // 8 entes × 1 deadline × 48 = 384 timers, all due at 23:59:59.999 on 7 April 2026
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

  it('every deadline fires once, each process in one transaction, both workers take part', async () => {
    // sent to the councils on Thu 5 Feb 2026, no reminders: each ente gets its 60-day term, all ending together
    h.clock.set(new Date('2026-02-02T09:00:00Z'));
    const ids = await Promise.all(
      Array.from({ length: CONVENTIONS }, async (_, i) => {
        const started = await h.engine.start(
          {
            definition: 'convenzione',
            input: {
              title: `Burst ${i}`,
              unione: v.ipa,
              members: v.comuni,
              policy: { reminderDaysBefore: [] },
            },
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
    const timers: { id: string; due_at: Date }[] = await h.ds.query(
      `SELECT id, due_at FROM timer WHERE status = 'armed' ORDER BY id`,
    );
    expect(timers).toHaveLength(CONVENTIONS * entes);
    expect(new Set(timers.map((t) => t.due_at.toISOString()))).toEqual(
      new Set(['2026-04-07T21:59:59.999Z']), // one instant: 23:59:59.999 in Rome
    );

    // Redis loses every job; the queue is paused so that the burst reaches two idle workers at once
    await h.timersQueue.obliterate({ force: true });
    await h.timersQueue.pause();
    h.clock.set(new Date('2026-04-08T08:00:00Z'));
    const offset = h.clock.offset;
    const common = {
      databaseUrl: h.config.databaseUrl,
      redisPrefix: h.config.redisPrefix,
      reconcileIntervalMs: 1000,
      startTimeoutMs: 180_000, // ts-node start-up on a busy 2-core machine
    };
    const [a, b] = await Promise.all([
      startWorkerProcess({ ...common, name: 'iter-burst-a', clockOffsetMs: offset }),
      startWorkerProcess({ ...common, name: 'iter-burst-b', clockOffsetMs: offset + SKEW_MS }),
    ]);
    // the start-up reconciliations re-created every job from the rows, due now
    expect(await h.timersQueue.getJobCounts('paused', 'wait')).toMatchObject({
      paused: timers.length,
    });
    const rollbacksBefore = await rolledBackTransactions(h.ds);
    await h.timersQueue.resume();
    await eventually(
      async () => {
        const armed: { n: number }[] = await h.ds.query(
          `SELECT count(*)::int AS n FROM timer WHERE status = 'armed'`,
        );
        const c = await h.timersQueue.getJobCounts('active', 'wait', 'prioritized', 'paused');
        return armed[0]!.n === 0 && Object.values(c).every((n) => n === 0);
      },
      90_000,
      100,
    );
    const exits = await Promise.all([a.stop(), b.stop()]);
    expect(exits.every((e) => e.signal === 'SIGTERM' || e.code === 0)).toBe(true);
    await Promise.all([backendsGone(h.ds, 'iter-burst-a'), backendsGone(h.ds, 'iter-burst-b')]);

    // none lost, none armed anew: every deadline fired
    const rows: { id: string; status: string }[] = await h.ds.query(
      `SELECT id, status FROM timer ORDER BY id`,
    );
    expect(rows.map((r) => r.id)).toEqual(timers.map((t) => t.id));
    expect(rows.filter((r) => r.status !== 'fired')).toEqual([]);

    // none twice: one audit event per timer (no unique index to help)
    const perTimer: { timer_id: string; n: number; skew: number }[] = await h.ds.query(
      `SELECT timer_id, count(*)::int AS n, max(extract(epoch FROM occurred_at - recorded_at) * 1000)::float8 AS skew
       FROM process_event WHERE timer_id IS NOT NULL GROUP BY timer_id`,
    );
    expect(perTimer.filter((r) => r.n !== 1)).toEqual([]);
    expect(perTimer.map((r) => r.timer_id).sort()).toEqual(rows.map((r) => r.id).sort());

    // batched: the 8 deadlines of a process were applied by ONE transaction (same xmin), in due order
    const perInstance: { instance_id: string; events: number; transactions: number }[] =
      await h.ds.query(
        `SELECT instance_id, count(*)::int AS events, count(DISTINCT xmin::text)::int AS transactions
         FROM process_event WHERE type = 'convention.deadline.expire' GROUP BY instance_id`,
      );
    expect(perInstance).toHaveLength(CONVENTIONS);
    expect(perInstance.filter((r) => r.events !== entes || r.transactions !== 1)).toEqual([]);
    for (const id of ids) expect(await verifyChain(h.ds, id)).toMatchObject({ valid: true });

    // no statement failed anywhere (no duplicate key, no deadlock, no lock timeout), no error logged
    expect(await rolledBackTransactions(h.ds)).toBe(rollbacksBefore);
    expect(errorLines(a.output())).toEqual([]);
    expect(errorLines(b.output())).toEqual([]);

    // both workers fired timers
    const byA = perTimer.filter((r) => Math.abs(r.skew - offset) < SKEW_MS / 2).length;
    const byB = perTimer.filter((r) => Math.abs(r.skew - (offset + SKEW_MS)) < SKEW_MS / 2).length;
    expect(byA + byB).toBe(perTimer.length);
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
    console.log(
      `[timer-burst] ${timers.length} deadlines of ${CONVENTIONS} processes due at one instant: fired by a ${byA}, b ${byB}, ` +
        `${CONVENTIONS} transactions`,
    );
  }, 480_000);
});
