import { Client } from 'pg';
import request from 'supertest';
import {
  eventually,
  isolatedDatabase,
  startHarness,
  testConfig,
  type Harness,
} from '../../../test/support/harness';
import { pareri, Scenario, sha256, CONVENTION_TEXT, unione } from '../../../test/support/scenario';
import {
  killAllWorkerProcesses,
  spawnWorkerProcess,
  startWorkerProcess,
} from '../../../test/support/worker-process';

/**
 * A worker that stops answering, dies, or runs on a wrong clock (issue 11), as real child processes.
 * Locks are made to happen where the test wants them by holding a row lock from a connection of the
 * test's own (the engine's statements then wait on it), never by touching the shared Postgres.
 */
describe('worker faults', () => {
  const v = unione('valdera');
  let h: Harness;
  let direct: Client;
  let databaseUrl: string;
  const LOCK_TIMEOUT_MS = 1000;

  beforeAll(async () => {
    databaseUrl = await isolatedDatabase();
    h = await startHarness({
      config: testConfig({
        DATABASE_URL: databaseUrl,
        DATABASE_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS),
      }),
    });
    direct = new Client({ connectionString: databaseUrl });
    await direct.connect();
  });
  afterAll(async () => {
    await killAllWorkerProcesses();
    await h?.close();
    await direct?.end();
  });

  // not through `direct`: it holds a transaction, and pg_stat_activity is a snapshot per transaction
  const backends = async (name: string): Promise<{ state: string; wait_event_type: string }[]> =>
    h.ds.query(`SELECT state, wait_event_type FROM pg_stat_activity WHERE application_name = $1`, [
      name,
    ]);

  /** a convention sent to its councils on Tue 10 Feb 2026 (story time): 32 timers, one notice per council */
  async function sentConvention(): Promise<Scenario> {
    const s = new Scenario(h, v.ipa, v.comuni);
    await s.start();
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    return s;
  }

  const earliestDue = async (id: string) =>
    (
      await direct.query<{ due: Date }>(
        `SELECT min(due_at) AS due FROM timer WHERE instance_id = $1 AND status = 'armed'`,
        [id],
      )
    ).rows[0]!.due;

  it('a worker frozen while holding a process: other processes unaffected, that one answers PROCESS_BUSY, then is freed', async () => {
    const other = new Scenario(h, v.ipa, v.comuni);
    await other.start();
    await other.freeze(); // no timers: nothing of the worker's touches it
    const held = await sentConvention();
    const due = await earliestDue(held.id);
    h.clock.set(new Date('2026-02-12T09:00:00Z'));

    // the test holds the timer rows: the worker locks the process, then waits on them
    await direct.query('BEGIN');
    await direct.query(`SELECT id FROM timer WHERE instance_id = $1 FOR UPDATE`, [held.id]);
    const name = 'iter-frozen-worker';
    const w = await startWorkerProcess({
      name,
      databaseUrl,
      redisPrefix: h.config.redisPrefix,
      clockOffsetMs: due.getTime() + 60_000 - Date.now(), // the earliest timers are due for it
      concurrency: 1,
      env: {
        DATABASE_LOCK_TIMEOUT_MS: '60000', // it must wait on the test's lock, not give up
        DATABASE_STATEMENT_TIMEOUT_MS: '120000',
        DATABASE_IDLE_TX_TIMEOUT_MS: '3000',
      },
    });
    await eventually(
      async () => (await backends(name)).some((b) => b.wait_event_type === 'Lock'),
      45_000,
      100,
    );
    w.freeze();
    await direct.query('COMMIT');
    // its statement completed; the frozen process now sits idle in its transaction, holding the process
    await eventually(async () =>
      (await backends(name)).some((b) => b.state === 'idle in transaction'),
    );

    // another process: unaffected
    const sent = await other.send('presidente', v.ipa, 'convention.send', {
      deliveredAt: '2026-02-11T10:00:00+01:00',
    });
    expect(sent.status).toBe(200);
    // the same process: 409 PROCESS_BUSY with Retry-After after the lock timeout, not a hang
    const ente = v.comuni[0]!;
    const deliberation = {
      ente,
      number: '7',
      date: '2026-02-11',
      outcome: 'APPROVED',
      textHash: sha256(CONVENTION_TEXT),
      pareri: pareri('2026-02-11'),
    };
    const busy = await held.send(
      'segretario',
      ente,
      'convention.deliberation.record',
      deliberation,
    );
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe('PROCESS_BUSY');
    expect(Number(busy.headers['retry-after'])).toBeGreaterThan(0);

    // Postgres ends the frozen session after DATABASE_IDLE_TX_TIMEOUT_MS: the process is free again
    await eventually(
      async () => {
        const res = await held.send(
          'segretario',
          ente,
          'convention.deliberation.record',
          deliberation,
        );
        return res.status === 200;
      },
      20_000,
      300,
    );

    // thawed, the worker finds its connection gone, and the timer it held fires once on a retry
    w.thaw();
    await eventually(
      async () => {
        const r = await direct.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM timer WHERE instance_id = $1 AND status = 'armed' AND due_at <= $2`,
          [held.id, new Date(due.getTime() + 60_000)],
        );
        return r.rows[0]!.n === 0;
      },
      60_000,
      300,
    );
    const twice = await direct.query(
      `SELECT timer_id FROM process_event WHERE instance_id = $1 AND timer_id IS NOT NULL
       GROUP BY timer_id HAVING count(*) > 1`,
      [held.id],
    );
    expect(twice.rows).toEqual([]);
    await w.stop();
  }, 180_000);

  it("a killed worker's notices are delivered elsewhere within the configured stall interval", async () => {
    const LOCK_MS = 2000;
    const STALLED_MS = 1000;
    const env = {
      WORKER_LOCK_MS: String(LOCK_MS),
      WORKER_STALLED_CHECK_MS: String(STALLED_MS),
      DATABASE_LOCK_TIMEOUT_MS: '60000',
      DATABASE_STATEMENT_TIMEOUT_MS: '120000',
    };
    const s = await sentConvention(); // its notices wait in Redis: no worker runs yet
    const notices = await direct.query<{ id: string }>(
      `SELECT id FROM outbox WHERE instance_id = $1 AND status = 'pending'`,
      [s.id],
    );
    expect(notices.rows.length).toBeGreaterThan(0);
    // the test holds the rows: worker 1 takes the jobs and waits on them, in flight
    await direct.query('BEGIN');
    await direct.query(`SELECT id FROM outbox WHERE instance_id = $1 FOR UPDATE`, [s.id]);
    const w1 = spawnWorkerProcess({
      name: 'iter-notices-w1',
      databaseUrl,
      redisPrefix: h.config.redisPrefix,
      clockOffsetMs: h.clock.offset,
      env,
    });
    await eventually(
      async () => (await backends('iter-notices-w1')).some((b) => b.wait_event_type === 'Lock'),
      45_000,
      100,
    );
    await w1.kill();
    await direct.query('COMMIT');

    const w2 = await startWorkerProcess({
      name: 'iter-notices-w2',
      databaseUrl,
      redisPrefix: h.config.redisPrefix,
      clockOffsetMs: h.clock.offset,
      env,
    });
    const t0 = Date.now();
    await eventually(
      async () => {
        const r = await direct.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM outbox WHERE instance_id = $1 AND status = 'pending'`,
          [s.id],
        );
        return r.rows[0]!.n === 0;
      },
      60_000,
      100,
    );
    const deliveredAfterMs = Date.now() - t0;
    // BullMQ's defaults (30 s lock, 30 s stalled check) would take ≥ 30 s: the settings are read
    expect(deliveredAfterMs).toBeLessThan(LOCK_MS + 2 * STALLED_MS + 10_000);
    console.log(
      `[notices] a killed worker's notices delivered ${deliveredAfterMs} ms after w2 started`,
    );
    await w2.stop();
  }, 120_000);

  it('a worker whose clock is skewed beyond MAX_CLOCK_SKEW_MS refuses to fire; a right one fires', async () => {
    const s = await sentConvention();
    const due = await earliestDue(s.id);
    const dueCount = async () =>
      (
        await direct.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM timer WHERE instance_id = $1 AND status = 'armed' AND due_at <= $2`,
          [s.id, new Date(due.getTime() + 60_000)],
        )
      ).rows[0]!.n;
    const armedDue = await dueCount();
    expect(armedDue).toBeGreaterThan(0);
    const offset = due.getTime() + 60_000 - Date.now(); // story time: the earliest timers are due

    const skewed = await startWorkerProcess({
      name: 'iter-skewed-worker',
      databaseUrl,
      redisPrefix: h.config.redisPrefix,
      clockOffsetMs: offset,
      systemClockSkewMs: 2 * 86_400_000, // its machine runs two days fast
    });
    const health = await request(`http://127.0.0.1:${skewed.healthPort()}`).get('/health');
    expect(health.status).toBe(503);
    expect(health.body.code).toBe('SERVICE_UNAVAILABLE');
    expect(health.body.details.clock).toMatchObject({ status: 'down', maxSkewMs: 5000 });
    expect(health.body.details.clock.skewMs).toBeGreaterThan(86_400_000);
    expect(skewed.output()).toMatch(/orologio di sistema sfasato/);
    // the due jobs are handed to it (promoted as if their delay had run out): it puts them back, unfired
    const jobs = await h.timersQueue.getJobs(['delayed']);
    const mine = await direct.query<{ id: string }>(
      `SELECT id FROM timer WHERE instance_id = $1 AND status = 'armed' AND due_at <= $2`,
      [s.id, new Date(due.getTime() + 60_000)],
    );
    const ids = new Set(mine.rows.map((r) => r.id));
    for (const j of jobs.filter((j) => ids.has(j.id!))) await j.promote();
    await eventually(async () => {
      const c = await h.timersQueue.getJobCounts('active');
      return /scadenza non eseguita/.test(skewed.output()) && c['active'] === 0;
    });
    expect(await dueCount()).toBe(armedDue);
    const fromTimers = await direct.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM process_event WHERE instance_id = $1 AND timer_id IS NOT NULL`,
      [s.id],
    );
    expect(fromTimers.rows[0]!.n).toBe(0);
    await skewed.stop();

    // a worker with a right clock fires them (nothing was lost)
    const right = await startWorkerProcess({
      name: 'iter-right-worker',
      databaseUrl,
      redisPrefix: h.config.redisPrefix,
      clockOffsetMs: offset,
    });
    await eventually(async () => (await dueCount()) === 0, 30_000, 200);
    await right.stop();
  }, 120_000);
});
