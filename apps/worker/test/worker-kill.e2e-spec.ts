import type { Actor } from '@app/common';
import { verifyChain } from '@app/engine';
import { eventually, startHarness, type Harness } from '../../../test/support/harness';
import { CONVENTION_TEXT, unione } from '../../../test/support/scenario';
import {
  backendsGone,
  errorLines,
  killAllWorkerProcesses,
  rolledBackTransactions,
  spawnWorkerProcess,
  startWorkerProcess,
} from '../../../test/support/worker-process';

/**
 * A real worker process is killed with SIGKILL while it works through a burst of due timers. Another one
 * starts: its start-up reconciliation re-enqueues what Redis misses, BullMQ's stalled-job check gives it
 * the jobs the dead one held. Nothing may be lost, nothing applied twice.
 *
 * The second worker's clock runs SKEW_MS ahead of the first one's (both long past every due date), so
 * occurred_at − recorded_at of each audit event tells which process fired it.
 */
describe('a worker killed with SIGKILL in the middle of a burst of due timers', () => {
  const CONVENTIONS = 30; // 8 entes × (1 deadline + 3 reminders) × 30 = 960 timers, all due at once
  // each job fires its process's due timers in one transaction, then sweeps others (Engine.fireDue): the
  // kill cuts a batch short
  const KILL_AFTER = 150; // audit events with a timer_id written before the kill
  const SKEW_MS = 10 * 60_000;
  let h: Harness;
  const v = unione('valdera');
  const presidente: Actor = {
    subject: 'presidente',
    roles: ['presidente'],
    ente: v.ipa,
    unione: v.ipa,
  };

  const count = async (sql: string, params: unknown[] = []) =>
    (await h.ds.query<{ n: number }[]>(sql, params))[0]!.n;

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true }); // no in-process worker, no reconciler: only the children
  });
  afterAll(async () => {
    await killAllWorkerProcesses();
    await h?.close();
  });

  it('loses no timer and applies none twice; the audit chains stay valid', async () => {
    const t0 = Date.now();
    // 30 conventions sent to their councils on Thu 5 Feb 2026: every ente gets a 60-day term and 3 reminders
    h.clock.set(new Date('2026-02-02T09:00:00Z'));
    const ids = await Promise.all(
      Array.from({ length: CONVENTIONS }, async (_, i) => {
        const started = await h.engine.start(
          {
            definition: 'convenzione',
            input: { title: `Burst ${i}`, unione: v.ipa, members: v.comuni },
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
    const timers: { id: string; instance_id: string; kind: string }[] = await h.ds.query(
      `SELECT id, instance_id, kind FROM timer WHERE status = 'armed' ORDER BY id`,
    );
    const entes = 1 + v.comuni.length;
    expect(timers).toHaveLength(CONVENTIONS * entes * 4);
    const setupMs = Date.now() - t0;

    // every deadline and reminder is now due; the jobs still wait in the delayed set (60 days of real time)
    h.clock.set(new Date('2026-04-09T08:00:00Z'));
    const offset = h.clock.offset;
    const fromTimers = () =>
      count(`SELECT count(*)::int AS n FROM process_event WHERE timer_id IS NOT NULL`);

    // worker 1: its start-up reconciliation promotes the due jobs, the burst starts; SIGKILL in the middle of it
    const w1 = spawnWorkerProcess({
      name: 'iter-kill-w1',
      databaseUrl: h.config.databaseUrl,
      redisPrefix: h.config.redisPrefix,
      clockOffsetMs: offset,
    });
    const tSpawn = Date.now();
    // mid-batch: the kill lands while one of w1's transactions has written rows (a process's timers being fired)
    const writing = async () =>
      count(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'iter-kill-w1' AND backend_xid IS NOT NULL`,
      );
    await eventually(
      async () => (await fromTimers()) >= KILL_AFTER && (await writing()) > 0,
      60_000,
      5,
    );
    await w1.kill();
    const killedAfterMs = Date.now() - tSpawn;
    const atKill = await fromTimers();
    const armedAtKill = await count(`SELECT count(*)::int AS n FROM timer WHERE status = 'armed'`);
    const orphans = await h.timersQueue.getJobs(['active']);
    const orphanIds = orphans.map((j) => j.id!);
    // orphaned jobs whose transaction had committed before the kill: the dangerous ones, a re-run must be a no-op
    const committedOrphans: { n: number }[] = await h.ds.query(
      `SELECT count(*)::int AS n FROM timer WHERE id = ANY($1) AND status <> 'armed'`,
      [orphanIds],
    );
    expect(armedAtKill).toBeGreaterThan(0); // killed in the middle of the burst, not after it
    expect(orphanIds.length).toBeGreaterThan(0); // jobs in flight stay active in Redis, locked by a dead process

    // the dead worker's open transactions were rolled back by Postgres: count failures only from here on
    await backendsGone(h.ds, 'iter-kill-w1');
    const rollbacksBefore = await rolledBackTransactions(h.ds);

    // worker 2: start-up reconciliation; the dead worker's active jobs come back through BullMQ's stalled
    // check (lock 30 s, checked every 30 s: that is most of this test's duration)
    const w2 = await startWorkerProcess({
      name: 'iter-kill-w2',
      databaseUrl: h.config.databaseUrl,
      redisPrefix: h.config.redisPrefix,
      clockOffsetMs: offset + SKEW_MS,
      startTimeoutMs: 180_000, // ts-node start-up on a busy 2-core machine
    });
    const tW2 = Date.now();
    let onlyOrphansLeftMs: number | null = null; // the rest of the burst is done, the dead worker's jobs still held
    await eventually(
      async () => {
        const armed = await count(`SELECT count(*)::int AS n FROM timer WHERE status = 'armed'`);
        const armedOrphans = await count(
          `SELECT count(*)::int AS n FROM timer WHERE status = 'armed' AND id = ANY($1)`,
          [orphanIds],
        );
        if (onlyOrphansLeftMs === null && armed === armedOrphans)
          onlyOrphansLeftMs = Date.now() - tW2;
        const c = await h.timersQueue.getJobCounts('active', 'wait', 'prioritized', 'paused');
        return armed === 0 && Object.values(c).every((n) => n === 0);
      },
      150_000,
      200,
    );
    const recoveredInMs = Date.now() - tW2;
    const exit = await w2.stop(); // SIGTERM: Nest's shutdown hooks close the BullMQ workers, then re-raise it
    expect(exit.signal === 'SIGTERM' || exit.code === 0).toBe(true);
    await backendsGone(h.ds, 'iter-kill-w2');

    // none lost: every row fired or cancelled
    const rows: { id: string; instance_id: string; key: string; kind: string; status: string }[] =
      await h.ds.query(`SELECT id, instance_id, key, kind, status FROM timer ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual(timers.map((t) => t.id)); // no timer was armed anew
    expect(rows.filter((r) => r.status !== 'fired' && r.status !== 'cancelled')).toEqual([]);

    // none applied twice: a fired row has exactly one audit event, a cancelled one none
    const perTimer: { timer_id: string; n: number; skew: number }[] = await h.ds.query(
      `SELECT timer_id, count(*)::int AS n, max(extract(epoch FROM occurred_at - recorded_at) * 1000)::float8 AS skew
       FROM process_event WHERE timer_id IS NOT NULL GROUP BY timer_id`,
    );
    expect(perTimer.filter((r) => r.n !== 1)).toEqual([]);
    const fired = rows
      .filter((r) => r.status === 'fired')
      .map((r) => r.id)
      .sort();
    expect(perTimer.map((r) => r.timer_id).sort()).toEqual(fired);
    // no statement failed while worker 2 re-ran the dead worker's jobs: the engine refused the fired rows
    // by their state, not by the unique index on process_event.timer_id
    expect(await rolledBackTransactions(h.ds)).toBe(rollbacksBefore);
    expect(errorLines(w1.output())).toEqual([]);
    expect(errorLines(w2.output())).toEqual([]);

    // each convention: its 8 deadlines fired once each; reminders fired or cancelled by their deadline
    const deadlines: { instance_id: string; n: number; distinct_timers: number }[] =
      await h.ds.query(
        `SELECT instance_id, count(*)::int AS n, count(DISTINCT timer_id)::int AS distinct_timers FROM process_event
       WHERE type = 'convention.deadline.expire' GROUP BY instance_id`,
      );
    expect(deadlines).toHaveLength(CONVENTIONS);
    expect(deadlines.every((d) => d.n === entes && d.distinct_timers === entes)).toBe(true);
    expect(rows.filter((r) => r.kind === 'deadline').every((r) => r.status === 'fired')).toBe(true);

    // batched and atomic: a process's due deadlines were applied by one transaction (the one the kill cut short
    // was rolled back whole, and its process fired again later by one transaction)
    const transactions: { instance_id: string; n: number }[] = await h.ds.query(
      `SELECT instance_id, count(DISTINCT xmin::text)::int AS n FROM process_event
       WHERE type = 'convention.deadline.expire' GROUP BY instance_id`,
    );
    expect(transactions.filter((t) => t.n !== 1)).toEqual([]);

    // the audit chains are intact
    for (const id of ids) expect(await verifyChain(h.ds, id)).toMatchObject({ valid: true });

    // both processes fired timers: the kill really split the burst
    const byW1 = perTimer.filter((r) => Math.abs(r.skew - offset) < SKEW_MS / 2).length;
    const byW2 = perTimer.filter((r) => Math.abs(r.skew - (offset + SKEW_MS)) < SKEW_MS / 2).length;
    expect(byW1 + byW2).toBe(perTimer.length);
    expect(byW1).toBeGreaterThanOrEqual(atKill);
    expect(byW2).toBeGreaterThan(0);

    // re-firing a fired or cancelled timer is refused by its row, without an error and without an event
    const sample = [
      ...rows.filter((r) => r.status === 'fired').slice(0, 20),
      ...rows.filter((r) => r.status === 'cancelled').slice(0, 10),
    ];
    for (const r of sample) expect(await h.engine.fireTimer(r.id)).toBe('stale');
    expect(await fromTimers()).toBe(perTimer.length);

    // leftovers: delayed jobs of rows no longer armed (cancelled while the dead worker could not remove them) are harmless no-ops
    const leftovers = await h.timersQueue.getJobs(['delayed']);
    const leftoverRows: { n: number }[] = await h.ds.query(
      `SELECT count(*)::int AS n FROM timer WHERE id = ANY($1) AND status = 'armed'`,
      [leftovers.map((j) => j.id!)],
    );
    expect(leftoverRows[0]!.n).toBe(0);

    console.log(
      `[worker-kill] setup ${setupMs} ms; worker 1 killed ${killedAfterMs} ms after spawn with ${atKill} timer events written, ` +
        `${armedAtKill} rows armed, ${orphanIds.length} jobs orphaned in 'active' (${committedOrphans[0]!.n} already committed); ` +
        `worker 2 (start ${await w2.started} ms): only the dead worker's jobs left after ${onlyOrphansLeftMs} ms, all done after ${recoveredInMs} ms; fired ${fired.length} ` +
        `(w1 ${byW1}, w2 ${byW2}), cancelled ${rows.length - fired.length}; delayed leftovers ${leftovers.length}`,
    );
  }, 240_000);
});
