import { UnrecoverableError, Worker } from 'bullmq';
import type { Actor } from '@app/common';
import {
  BullJobScheduler,
  QueueName,
  Reconciler,
  redisConnection,
  type JobSchedulerPort,
} from '@app/scheduling';
import { startHarness, type Harness } from '../../../test/support/harness';
import { CONVENTION_TEXT, unione } from '../../../test/support/scenario';

/**
 * The reconciler against real Postgres and Redis: batched (one SQL read per 5,000 armed timers, one
 * pipelined look-up of the due ones, addBulk), by the database's clock, and it removes what it re-added
 * for timers cancelled between its read and its add.
 */
describe('Reconciler', () => {
  let h: Harness;
  const v = unione('valdera');
  const presidente: Actor = {
    subject: 'presidente',
    roles: ['presidente'],
    ente: v.ipa,
    unione: v.ipa,
  };
  const ids: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true });
    h.clock.set(new Date('2026-02-02T09:00:00Z'));
    for (let i = 0; i < 5; i++) {
      const p = await h.engine.start(
        { definition: 'convenzione', input: { title: `R ${i}`, unione: v.ipa, members: v.comuni } },
        presidente,
      );
      await h.engine.dispatch(
        p.id,
        { type: 'convention.freeze', payload: { text: CONVENTION_TEXT } },
        presidente,
      );
      ids.push(p.id);
    }
    h.clock.set(new Date('2026-02-05T12:00:00Z'));
    for (const id of ids) {
      await h.engine.dispatch(
        id,
        { type: 'convention.send', payload: { deliveredAt: '2026-02-05T10:00:00+01:00' } },
        presidente,
      );
    }
    // the sends' own enqueues run after they answer: done before the tests empty the queue
    await h.engine.settled();
  });
  afterAll(async () => {
    await h?.close();
  });

  const armed = async (): Promise<string[]> =>
    (
      await h.ds.query<{ id: string }[]>(`SELECT id FROM timer WHERE status = 'armed' ORDER BY id`)
    ).map((r) => r.id);
  const jobIds = async (states: ('delayed' | 'wait')[]) =>
    (await h.timersQueue.getJobs(states)).map((j) => j.id!).sort();

  it('re-enqueues every armed timer after Redis lost everything, and promotes the due ones', async () => {
    const rows = await armed();
    expect(rows.length).toBe(5 * 8 * 4);
    await h.timersQueue.obliterate({ force: true });
    const first = await h.app.get(Reconciler).run();
    expect(first.armedTimers).toBe(rows.length);
    expect(await jobIds(['delayed'])).toEqual(rows);

    // the story moves past the first reminders: their jobs still wait in the delayed set (computed
    // against the earlier clock); one pass promotes exactly the ones the database says are due
    const due: { id: string }[] = await h.ds.query(
      `SELECT id FROM timer WHERE status = 'armed' AND due_at = (SELECT min(due_at) FROM timer)`,
    );
    const firstDue: Date = (await h.ds.query(`SELECT min(due_at) AS d FROM timer`))[0].d;
    h.clock.set(new Date(firstDue.getTime() + 1000));
    const second = await h.app.get(Reconciler).run();
    expect(second.dueTimersPromoted).toBe(due.length);
    expect(await jobIds(['wait'])).toEqual(due.map((d) => d.id).sort());
  });

  it('removes the job it re-added for a timer cancelled between its read and its add', async () => {
    await h.timersQueue.obliterate({ force: true });
    const rows = await armed();
    const victim = rows[3]!;
    const inner = h.app.get(BullJobScheduler);
    // a transition cancels a timer while the reconciler is between its SQL read and its addBulk
    const racing: JobSchedulerPort = {
      enqueueTimers: async (timers) => {
        await h.ds.query(
          `UPDATE timer SET status = 'cancelled', cancelled_at = now() WHERE id = $1`,
          [victim],
        );
        await inner.enqueueTimers(timers);
      },
      removeTimers: (x) => inner.removeTimers(x),
      enqueueNotifications: (x) => inner.enqueueNotifications(x),
    };
    const r = await new Reconciler(h.ds, racing, h.timersQueue, h.clock).run();
    expect(r.leftoversRemoved).toBe(1);
    const jobs = await jobIds(['delayed', 'wait']);
    expect(jobs).not.toContain(victim);
    expect(jobs).toEqual(rows.filter((id) => id !== victim));
  });

  it('reads in batches: one SQL read and one comparison per batch, whatever the number of due timers', async () => {
    await h.timersQueue.obliterate({ force: true });
    const queries: string[] = [];
    const counting = new Proxy(h.ds, {
      get(target, prop, receiver) {
        if (prop === 'query')
          return (sql: string, params?: unknown[]) => {
            queries.push(sql);
            return target.query(sql, params);
          };
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const rows = await armed();
    const r = await new Reconciler(
      counting,
      h.app.get(BullJobScheduler),
      h.timersQueue,
      h.clock,
      50,
    ).run();
    expect(r.armedTimers).toBe(rows.length);
    const batches = Math.ceil(rows.length / 50);
    // per batch: the read and the comparison; then the empty read that ends the loop, and the outbox reads
    expect(queries.filter((q) => /FROM timer WHERE status = 'armed'/.test(q))).toHaveLength(
      batches + 1,
    );
    expect(queries.filter((q) => /status <> 'armed'/.test(q))).toHaveLength(batches);
  });

  it('runFor: enqueues only the given rows that are still armed (what one process skipped)', async () => {
    await h.timersQueue.obliterate({ force: true });
    const rows = await armed();
    const [cancelled] = await h.ds.query<{ id: string }[]>(
      `SELECT id FROM timer WHERE status = 'cancelled' LIMIT 1`,
    );
    const given = [...rows.slice(0, 5), cancelled!.id];
    const r = await h.app.get(Reconciler).runFor(given, []);
    expect(r.armedTimers).toBe(5);
    expect(await jobIds(['delayed', 'wait'])).toEqual(rows.slice(0, 5).sort());
    expect((await h.app.get(Reconciler).runFor([], [])).armedTimers).toBe(0);
  });

  it('retries the failed jobs (kept for the dashboard) of timers still armed: a kept id would block the re-add', async () => {
    await h.timersQueue.obliterate({ force: true });
    await h.app.get(Reconciler).run();
    const waiting = await jobIds(['wait']);
    expect(waiting.length).toBeGreaterThan(0); // the due ones (the clock is past the first reminders)
    // every attempt fails: the jobs stay in the failed set (KEEP_FAILED), not removed
    const failing = new Worker(
      QueueName.Timers,
      () => Promise.reject(new UnrecoverableError('Postgres down for good')),
      { connection: redisConnection(h.config.redisUrl), prefix: h.config.redisPrefix },
    );
    try {
      for (let i = 0; i < 600 && (await h.timersQueue.getFailedCount()) < waiting.length; i++)
        await new Promise((r) => setTimeout(r, 50));
    } finally {
      await failing.close();
    }
    expect((await h.timersQueue.getJobs(['failed'])).map((j) => j.id!).sort()).toEqual(waiting);
    const r = await h.app.get(Reconciler).run();
    expect(r.failedRetried).toBe(waiting.length);
    expect(await h.timersQueue.getFailedCount()).toBe(0);
    expect(await jobIds(['wait'])).toEqual(waiting);
  });
});
