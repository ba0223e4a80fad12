import { Client } from 'pg';
import request from 'supertest';
import {
  eventually,
  isolatedDatabase,
  startHarness,
  testConfig,
  type Harness,
} from '../../../test/support/harness';
import { PgProxy } from '../../../test/support/faults';
import { Scenario, unione } from '../../../test/support/scenario';
import {
  errorLines,
  killAllWorkerProcesses,
  startWorkerProcess,
  type WorkerProcess,
} from '../../../test/support/worker-process';

/**
 * Postgres stopped, then frozen (issue 11), through a TCP proxy of the test's own in front of the shared
 * server (which is never touched): `down` cuts every connection and refuses new ones, `frozen` holds every
 * byte. The api answers 503 DATABASE_UNAVAILABLE with Retry-After (never a 500, never a hang), /health
 * names what is down and since when, the outage is logged once, and api and worker recover by themselves.
 */
describe('Postgres down or frozen', () => {
  const v = unione('valdera');
  const proxy = new PgProxy();
  let h: Harness;
  let worker: WorkerProcess;
  let direct: Client;
  let s: Scenario;
  const DB_ENV = {
    DATABASE_CONNECT_TIMEOUT_MS: '1000',
    DATABASE_STATEMENT_TIMEOUT_MS: '2000',
    DATABASE_LOCK_TIMEOUT_MS: '1000',
    HEALTH_PROBE_INTERVAL_MS: '500',
  };

  beforeAll(async () => {
    await proxy.listen();
    const databaseUrl = await isolatedDatabase();
    direct = new Client({ connectionString: databaseUrl });
    await direct.connect();
    const config = testConfig({ DATABASE_URL: proxy.url(databaseUrl), ...DB_ENV });
    h = await startHarness({ config });
    s = new Scenario(h, v.ipa, v.comuni);
    await s.start();
    await s.freeze();
    worker = await startWorkerProcess({
      name: 'iter-pg-outage-worker',
      databaseUrl: proxy.url(databaseUrl),
      redisPrefix: config.redisPrefix,
      clockOffsetMs: h.clock.offset,
      // reconcilers every second: a run during the outage must report it to the monitor, not log an error
      env: { ...DB_ENV, RECONCILE_INTERVAL_MS: '1000' },
    });
  }, 120_000);

  afterAll(async () => {
    await proxy.setMode('pass');
    await killAllWorkerProcesses();
    await h?.close();
    await direct?.end();
    await proxy.close();
  });

  const workerHealth = async (path = '/health') =>
    request(`http://127.0.0.1:${worker.healthPort()}`).get(path).timeout(10_000);

  it('stopped: 503 DATABASE_UNAVAILABLE with Retry-After, /health says since when; both recover', async () => {
    await proxy.setMode('down');
    const presidente = await s.as('presidente');
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2
          ? h
              .http()
              .get(`/v1/processes/${s.id}`)
              .set('Authorization', `Bearer ${presidente}`)
              .timeout(15_000)
          : h
              .http()
              .post(`/v1/processes/${s.id}/events`)
              .set('Authorization', `Bearer ${presidente}`)
              .send({
                type: 'convention.send',
                payload: { deliveredAt: '2026-02-05T10:00:00+01:00' },
              })
              .timeout(15_000),
      ),
    );
    for (const res of answers) {
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        code: 'DATABASE_UNAVAILABLE',
        details: { dependency: 'postgres' },
      });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    // the calendar feed read by its token: a database that is down is not a bad token (401)
    const feed = await h
      .http()
      .get('/v1/entes/c_g254/calendar.ics?token=abcdefghijklmnopqrstuvwxyz012345')
      .timeout(15_000);
    expect([feed.status, feed.body.code]).toEqual([503, 'DATABASE_UNAVAILABLE']);
    const health = await h.http().get('/health').timeout(15_000);
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      details: { postgres: { status: 'down' }, redis: { status: 'up' } },
    });
    expect(health.body.message).toMatch(/postgres/);
    expect(Date.parse(health.body.details.postgres.since)).toBeLessThanOrEqual(Date.now());
    expect((await h.http().get('/health/live')).status).toBe(200);
    expect((await h.http().get('/health/ready').timeout(15_000)).status).toBe(503);
    // the worker sees it too
    await eventually(async () => (await workerHealth()).status === 503, 15_000, 200);
    expect((await workerHealth()).body.details.postgres.status).toBe('down');
    // long enough for the worker's reconcilers (every second here) to run during the outage
    await new Promise((r) => setTimeout(r, 2500));
    // no event was written by the refused writes
    const events = await direct.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM process_event WHERE instance_id = $1`,
      [s.id],
    );
    expect(events.rows[0]!.n).toBe(2);

    await proxy.setMode('pass');
    // the api recovers by itself: reads, then a write, answer again
    await eventually(async () => (await s.get()).status === 200, 15_000, 200);
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    expect((await h.http().get('/health')).status).toBe(200);
    // the worker recovers by itself: it delivers the notices of that write
    await eventually(
      async () => {
        const r = await direct.query<{ pending: number; all: number }>(
          `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*)::int AS all
           FROM outbox WHERE instance_id = $1`,
          [s.id],
        );
        return r.rows[0]!.all > 0 && r.rows[0]!.pending === 0;
      },
      30_000,
      200,
    );
    await eventually(async () => (await workerHealth()).status === 200, 15_000, 200);
    // logged once per outage, not once per request or per job: one line when it starts, one when it ends
    const out = worker.output();
    expect(out.match(/PostgreSQL non raggiungibile/g)).toHaveLength(1);
    expect(out.match(/PostgreSQL di nuovo raggiungibile/g)).toHaveLength(1);
    expect(errorLines(out).filter((l) => !/PostgreSQL non raggiungibile/.test(l))).toEqual([]);
  }, 120_000);

  it('frozen: requests answer 503 within a bounded time, and everything resumes after', async () => {
    await proxy.setMode('frozen');
    const presidente = await s.as('presidente');
    const answers = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          h
            .http()
            .get(`/v1/processes/${s.id}`)
            .set('Authorization', `Bearer ${presidente}`)
            .timeout(15_000), // the bound: connect 1 s, statement 2 s + 1 s on the client
      ),
    );
    for (const res of answers) {
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('DATABASE_UNAVAILABLE');
      expect(res.headers['retry-after']).toBeDefined();
    }
    await proxy.setMode('pass');
    await eventually(async () => (await s.get()).status === 200, 20_000, 200);
    const res = await s.send('segretario', v.comuni[0]!, 'convention.council.convene', {
      ente: v.comuni[0],
      date: '2026-02-20',
    });
    expect([200, 400, 409, 422]).toContain(res.status); // answered by the engine, whatever the rules say
  }, 120_000);
});
