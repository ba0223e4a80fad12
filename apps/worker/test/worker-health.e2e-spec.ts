import { Client } from 'pg';
import request from 'supertest';
import { WorkerHealthServer } from '../src/health/worker-health.server';
import {
  eventually,
  isolatedDatabase,
  startHarness,
  testConfig,
  type Harness,
} from '../../../test/support/harness';
import {
  startPrivateRedis,
  stopPrivateRedises,
  type PrivateRedis,
} from '../../../test/support/faults';
import { parsePrometheus, sumOf } from '../../../test/support/prometheus';
import { Scenario, unione } from '../../../test/support/scenario';
import { killAllWorkerProcesses, startWorkerProcess } from '../../../test/support/worker-process';

/**
 * Liveness and readiness of the worker (and of the api where they share the rule): ready needs Postgres,
 * Redis (the worker only: the api keeps answering without it) and every migration applied.
 */
describe('worker readiness: its Redis', () => {
  const v = unione('valdera');
  let h: Harness;
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    h = await startHarness({
      config: testConfig({ DATABASE_URL: await isolatedDatabase(), REDIS_URL: redis.url }),
    });
  });
  afterAll(async () => {
    await killAllWorkerProcesses();
    await h?.close();
    await stopPrivateRedises();
  });

  it('fails while its (private) Redis is stopped and recovers when it is back; the reconciler runs are counted', async () => {
    // a convention sent to its councils: armed timers for the worker's reconciler to enqueue
    const s = new Scenario(h, v.ipa, v.comuni.slice(0, 2));
    await s.start();
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    const armed = Number(
      (
        await h.ds.query<{ n: string }[]>(`SELECT count(*) AS n FROM timer WHERE status = 'armed'`)
      )[0]!.n,
    );
    expect(armed).toBeGreaterThan(0);

    const w = await startWorkerProcess({
      databaseUrl: h.config.databaseUrl,
      redisPrefix: h.config.redisPrefix,
      redisUrl: redis.url,
      clockOffsetMs: h.clock.offset,
      reconcileIntervalMs: 600_000,
      name: 'iter-ready-worker',
      env: { HEALTH_PROBE_INTERVAL_MS: '300' },
    });
    const health = () => request(`http://127.0.0.1:${w.healthPort()}`);
    const ready = await health().get('/health/ready').expect(200);
    expect(ready.body.details).toMatchObject({
      postgres: { status: 'up' },
      redis: { status: 'up' },
      migrations: { status: 'up' },
    });

    await redis.stop();
    const down = await eventually(async () => {
      const r = await health().get('/health/ready');
      return r.status === 503 && r;
    });
    expect(down.body).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      details: { redis: { status: 'down' }, postgres: { status: 'up' } },
    });
    expect(down.headers['retry-after']).toBe('5');
    await health().get('/health/live').expect(200); // alive: restarting it would not bring Redis back
    // the metrics still answer, without the queue depths
    const during = parsePrometheus((await health().get('/metrics').expect(200)).text);
    expect(sumOf(during, 'iter_queue_up')).toBe(0);

    await redis.start();
    await eventually(async () => (await health().get('/health/ready')).status === 200, 30_000);
    // Redis came back empty: the worker reconciled (start-up pass + recovery pass), each enqueuing every armed timer
    const after = await eventually(async () => {
      const m = parsePrometheus((await health().get('/metrics').expect(200)).text);
      // (a scrape on a loaded machine may miss the queue depths' bound: the next one has them)
      return (
        sumOf(m, 'iter_reconciler_runs_total', { trigger: 'recovery', result: 'ok' }) >= 1 &&
        sumOf(m, 'iter_queue_up') === 1 &&
        m
      );
    }, 30_000);
    const okRuns = sumOf(after, 'iter_reconciler_runs_total', { result: 'ok' });
    expect(sumOf(after, 'iter_reconciler_runs_total', { trigger: 'interval', result: 'ok' })).toBe(
      1,
    );
    expect(sumOf(after, 'iter_reconciler_enqueued_total', { kind: 'timer' })).toBe(armed * okRuns);
    expect(sumOf(after, 'iter_queue_up')).toBe(1);
    await w.stop();
  });
});

describe('readiness: pending migrations (api and worker)', () => {
  let h: Harness;
  let direct: Client;
  let last: { id: number; timestamp: string; name: string };

  beforeAll(async () => {
    const url = await isolatedDatabase();
    direct = new Client({ connectionString: url });
    await direct.connect();
    // a database migrated minus the last migration (as far as the migrations table says)
    last = (
      await direct.query<{ id: number; timestamp: string; name: string }>(
        `DELETE FROM migrations WHERE id = (SELECT max(id) FROM migrations) RETURNING id, timestamp, name`,
      )
    ).rows[0]!;
    h = await startHarness({ worker: true, config: testConfig({ DATABASE_URL: url }) });
  });
  afterAll(async () => {
    await h?.close();
    await direct?.end();
  });

  it('is not ready while a migration is pending, and becomes ready once it is applied', async () => {
    const worker = () => request(`http://127.0.0.1:${h.worker!.get(WorkerHealthServer).port}`);
    for (const probe of [() => h.http(), worker]) {
      const r = await probe().get('/health/ready').expect(503);
      expect(r.body).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        details: {
          migrations: { status: 'down', pending: [last.name] },
          postgres: { status: 'up' },
        },
      });
      await probe().get('/health/live').expect(200);
    }
    // `iter migrate` applies it (here: its row written back)
    await direct.query(`INSERT INTO migrations (id, timestamp, name) VALUES ($1, $2, $3)`, [
      last.id,
      last.timestamp,
      last.name,
    ]);
    for (const probe of [() => h.http(), worker]) {
      const ok = await eventually(async () => {
        const r = await probe().get('/health/ready');
        return r.status === 200 && r;
      });
      expect(ok.body.details.migrations).toMatchObject({ status: 'up' });
    }
  });
});
