import { Client } from 'pg';
import { verifyChain } from '@app/engine';
import { eventually, startHarness, type Harness } from '../../../test/support/harness';
import { Scenario, unione } from '../../../test/support/scenario';
import {
  backendsGone,
  errorLines,
  killAllWorkerProcesses,
  spawnWorkerProcess,
  startWorkerProcess,
} from '../../../test/support/worker-process';

/**
 * Issue 12: when a convention enters IN_FORCE, Iter opens the RTD appointment by itself, exactly once — also
 * when the worker is killed between starting the RTD process and marking the effect done. The test holds a
 * SHARE lock on process_link, so the worker's start transaction stops right after it inserted the RTD
 * instance (its link insert waits); the worker is SIGKILLed there. Postgres rolls the half-done start back;
 * a second worker carries the effect out; one RTD process, one link, the effect done.
 */
describe('the RTD opened by itself when the worker is killed in the middle of the start', () => {
  let h: Harness;
  const br = unione('bassa-reggiana');

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true }); // no in-process worker: only the children
  });
  afterAll(async () => {
    await killAllWorkerProcesses();
    await h?.close();
  });

  const count = async (sql: string, params: unknown[] = []) =>
    (await h.ds.query<{ n: number }[]>(sql, params))[0]!.n;

  it('starts one RTD process, linked once, after a SIGKILL between start and done', async () => {
    const entes = [br.ipa, ...br.comuni];
    const s = new Scenario(h, br.ipa, br.comuni);
    await s.start();
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    h.clock.set(new Date('2026-03-10T09:00:00Z'));
    for (const [i, e] of entes.entries())
      await s.approve(e, String(40 + i), '2026-03-02', { ie: true });
    h.clock.set(new Date('2026-03-12T09:00:00Z'));
    for (const e of entes) await s.sign(e, '2026-03-12T08:00:00Z');
    expect((await s.get()).body.state).toBe('IN_FORCE');
    // the effect was written in the IN_FORCE step's transaction; nobody has carried it out yet
    const [effect]: { id: string; status: string; event_seq: number }[] = await h.ds.query(
      `SELECT id, status, event_seq FROM process_effect WHERE instance_id = $1`,
      [s.id],
    );
    expect(effect).toMatchObject({ status: 'pending' });
    const inForceStep: { type: string }[] = await h.ds.query(
      `SELECT type FROM process_event WHERE instance_id = $1 AND seq = $2`,
      [s.id, effect!.event_seq],
    );
    expect(inForceStep[0]!.type).toBe('convention.sign');

    // hold the link table: the worker's start transaction will wait right after inserting the RTD instance
    const blocker = new Client({ connectionString: h.config.databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE process_link IN SHARE MODE');
    const rtdRows = `SELECT count(*)::int AS n FROM process_instance WHERE definition_key = 'rtd'`;
    try {
      const w1 = spawnWorkerProcess({
        name: 'iter-rtd-w1',
        databaseUrl: h.config.databaseUrl,
        redisPrefix: h.config.redisPrefix,
        clockOffsetMs: h.clock.offset,
      });
      await eventually(
        async () =>
          (await count(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'iter-rtd-w1' AND wait_event_type = 'Lock'`,
          )) > 0,
        30_000,
        20,
      );
      // the RTD instance row exists in w1's open transaction only
      const waiting: { query: string }[] = await h.ds.query(
        `SELECT query FROM pg_stat_activity WHERE application_name = 'iter-rtd-w1' AND wait_event_type = 'Lock'`,
      );
      expect(waiting[0]!.query).toContain('INSERT INTO process_link');
      await w1.kill();
      expect(errorLines(w1.output())).toEqual([]);
    } finally {
      // a backend blocked on a lock notices its dead client only once it gets the lock: release it now;
      // it then finds the socket closed and Postgres rolls its open transaction back (COMMIT never came)
      await blocker.query('COMMIT');
      await blocker.end();
    }
    await backendsGone(h.ds, 'iter-rtd-w1');
    // Postgres rolled the half-done start back: no RTD, the effect still pending
    expect(await count(rtdRows)).toBe(0);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM process_effect WHERE id = $1 AND status = 'pending'`,
        [effect!.id],
      ),
    ).toBe(1);

    // a second worker carries it out (start-up reconciliation, or the dead worker's job after its lock expires)
    const w2 = await startWorkerProcess({
      name: 'iter-rtd-w2',
      databaseUrl: h.config.databaseUrl,
      redisPrefix: h.config.redisPrefix,
      clockOffsetMs: h.clock.offset,
    });
    await eventually(
      async () =>
        (await count(
          `SELECT count(*)::int AS n FROM process_effect WHERE id = $1 AND status = 'done'`,
          [effect!.id],
        )) === 1,
      60_000,
      100,
    );
    // let any duplicate job (the dead worker's stalled one) run too: it must find the row done
    await new Promise((r) => setTimeout(r, 1500));
    await w2.stop();
    await backendsGone(h.ds, 'iter-rtd-w2');
    expect(errorLines(w2.output())).toEqual([]);

    expect(await count(rtdRows)).toBe(1);
    const links: { to_instance: string }[] = await h.ds.query(
      `SELECT to_instance FROM process_link WHERE from_instance = $1`,
      [s.id],
    );
    expect(links).toHaveLength(1);
    const rtd = await h
      .http()
      .get(`/v1/processes/${links[0]!.to_instance}`)
      .set('Authorization', `Bearer ${await s.as('presidente')}`);
    expect(rtd.body).toMatchObject({ state: 'VACANT', businessKey: `rtd:${s.id}` });
    expect(await verifyChain(h.ds, links[0]!.to_instance)).toMatchObject({
      valid: true,
      events: 1,
    });
  }, 120_000);
});
