import IORedis from 'ioredis';
import { SYSTEM_ACTOR, type Actor } from '@app/common';
import { Engine, type JobScheduler } from '@app/engine';
import { defaultRegistry } from '@app/workflows';
import { eventually, startHarness, type Harness } from '../../../test/support/harness';
import { CONVENTION_TEXT, unione } from '../../../test/support/scenario';

/** Timers end to end: Postgres rows + BullMQ delayed jobs + the real worker + the reconciler. */
describe('timers (real worker, Redis, Postgres)', () => {
  let h: Harness;
  const v = unione('valdera');
  const presidente: Actor = {
    subject: 'presidente',
    roles: ['presidente'],
    ente: v.ipa,
    unione: v.ipa,
  };

  beforeAll(async () => {
    h = await startHarness({ worker: true, isolatedDb: true });
  });
  afterAll(async () => h.close());

  async function openConvention(engine: Engine, members = v.comuni): Promise<string> {
    h.clock.set(new Date('2026-02-02T09:00:00Z'));
    const started = await engine.start(
      { definition: 'convenzione', input: { title: 'Timers', unione: v.ipa, members } },
      presidente,
    );
    await engine.dispatch(
      started.id,
      { type: 'convention.freeze', payload: { text: CONVENTION_TEXT } },
      presidente,
    );
    h.clock.set(new Date('2026-02-05T12:00:00Z'));
    await engine.dispatch(
      started.id,
      { type: 'convention.send', payload: { deliveredAt: '2026-02-05T10:00:00+01:00' } },
      presidente,
    );
    return started.id;
  }

  const armed = (id: string) =>
    h.ds.query<{ id: string; key: string; due_at: Date; status: string }[]>(
      `SELECT id, key, due_at, status FROM timer WHERE instance_id = $1 ORDER BY due_at, key`,
      [id],
    );
  const events = (id: string, type?: string) =>
    h.ds.query<{ seq: number; type: string; actor_role: string; timer_id: string | null }[]>(
      `SELECT seq, type, actor_role, timer_id FROM process_event WHERE instance_id = $1 ${type ? 'AND type = $2' : ''} ORDER BY seq`,
      type ? [id, type] : [id],
    );

  it('a crash between commit and enqueue loses no job: the reconciler enqueues it and the worker fires it', async () => {
    const broken: JobScheduler = {
      enqueueTimers: () => Promise.reject(new Error('process died before enqueue')),
      removeTimers: () => Promise.reject(new Error('died')),
      enqueueNotifications: () => Promise.reject(new Error('died')),
    };
    const crashing = new Engine(h.ds, defaultRegistry(), broken, h.clock);
    const id = await openConvention(crashing, v.comuni.slice(0, 2));
    const timers = await armed(id);
    expect(timers.length).toBe(3 * 4); // unione + 2 comuni: a deadline and 3 reminders each
    for (const t of timers) expect(await h.timersQueue.getJob(t.id)).toBeUndefined();

    await h.reconcile();
    for (const t of timers) expect(await h.timersQueue.getJob(t.id)).toBeDefined();

    // the first reminder (T-15 at 09:00 Rome) falls due: move the clock past it, reconcile promotes it
    const first = timers.find((t) => t.key.startsWith('reminder:'))!;
    h.clock.set(new Date(first.due_at.getTime() + 1000));
    await h.reconcile();
    const fired = await eventually(
      async () =>
        (await events(id, 'convention.reminder')).length >= 3 && events(id, 'convention.reminder'),
    );
    expect(fired.every((e) => e.actor_role === 'system' && e.timer_id !== null)).toBe(true);
    const rows = await armed(id);
    expect(rows.filter((r) => r.status === 'fired')).toHaveLength(3);
  });

  it('a deadline fires end to end and stalls the convention under UNANIMITY, audited as a system step', async () => {
    const id = await openConvention(h.engine, v.comuni.slice(0, 1));
    const deadline = (await armed(id)).find((t) => t.key === `deadline:${v.comuni[0]}`)!;
    expect(deadline.due_at.toISOString()).toBe('2026-04-07T21:59:59.999Z'); // Tue 7 Apr 2026, 23:59:59.999 Rome
    h.clock.set(new Date('2026-04-08T08:00:00Z'));
    await h.reconcile();
    await eventually(async () => (await events(id, 'convention.deadline.expire')).length === 2);
    const view = await h.engine.viewOf(id, presidente);
    expect(view.state).toBe('STALLED');
    expect(view.allowedEvents.map((e) => e.type)).toContain('convention.deadline.extend');
  });

  it('a transition that cancels a timer makes its job a no-op', async () => {
    const id = await openConvention(h.engine, v.comuni.slice(0, 1));
    const ente = v.comuni[0]!;
    const segretario: Actor = { subject: 'seg', roles: ['segretario'], ente, unione: v.ipa };
    await h.engine.dispatch(
      id,
      {
        type: 'convention.deliberation.record',
        payload: {
          ente,
          number: '5',
          date: '2026-02-05',
          outcome: 'APPROVED',
          pareri: [
            { type: 'TECNICO', outcome: 'FAVOREVOLE', signer: 'Resp. ICT', date: '2026-02-04' },
          ],
          textHash:
            (await h.engine.viewOf(id, presidente)).data['text'] &&
            ((await h.engine.viewOf(id, presidente)).data['text'] as { sha256: string }).sha256,
        },
      },
      segretario,
    );
    const rows = await armed(id);
    const cancelled = rows.filter((r) => r.key.endsWith(ente) || r.key.includes(`:${ente}:`));
    expect(cancelled.length).toBe(4);
    expect(cancelled.every((r) => r.status === 'cancelled')).toBe(true);
    h.clock.set(new Date('2026-04-08T08:00:00Z'));
    const before = (await events(id)).length;
    for (const r of cancelled) expect(await h.engine.fireTimer(r.id)).toBe('stale');
    expect((await events(id)).length).toBe(before);
  });

  it('after Redis loses everything, 1,000+ armed timers each fire at most once and none is left armed', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 32; i++) ids.push(await openConvention(h.engine)); // 8 entes × 4 timers × 32 = 1,024
    const all: { id: string }[] = await h.ds.query(
      `SELECT id FROM timer WHERE instance_id = ANY($1) AND status = 'armed'`,
      [ids],
    );
    expect(all.length).toBe(1024);
    // Redis loses every key of this run (a FLUSHALL limited to our prefix, so parallel runs survive)
    const redis = new IORedis(h.config.redisUrl);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(
        cursor,
        'MATCH',
        `${h.config.redisPrefix}:*`,
        'COUNT',
        1000,
      );
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
    h.clock.set(new Date('2026-04-09T08:00:00Z')); // every reminder and deadline is now due
    await h.reconcile();
    await eventually(
      async () => {
        const left: { n: number }[] = await h.ds.query(
          `SELECT count(*)::int AS n FROM timer WHERE instance_id = ANY($1) AND status = 'armed'`,
          [ids],
        );
        return left[0]!.n === 0;
      },
      60000,
      200,
    );
    const perTimer: { timer_id: string; n: number }[] = await h.ds.query(
      `SELECT timer_id, count(*)::int AS n FROM process_event WHERE instance_id = ANY($1) AND timer_id IS NOT NULL GROUP BY timer_id`,
      [ids],
    );
    expect(perTimer.every((r) => r.n === 1)).toBe(true);
    const deadlines: { n: number }[] = await h.ds.query(
      `SELECT count(*)::int AS n FROM process_event WHERE instance_id = ANY($1) AND type = 'convention.deadline.expire'`,
      [ids],
    );
    expect(deadlines[0]!.n).toBe(32 * 8); // every deadline fired exactly once
  });

  it('refuses a timer event sent over HTTP or by a person', async () => {
    const id = await openConvention(h.engine, v.comuni.slice(0, 1));
    await expect(
      h.engine.dispatch(
        id,
        {
          type: 'convention.deadline.expire',
          payload: { ente: v.comuni[0], dueAt: '2026-04-07T21:59:59.999Z' },
        },
        presidente,
      ),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(SYSTEM_ACTOR.roles).toEqual(['system']);
  });
});
