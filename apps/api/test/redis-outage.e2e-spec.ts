import type { Actor } from '@app/common';
import {
  eventually,
  isolatedDatabase,
  startHarness,
  testConfig,
  type Harness,
} from '../../../test/support/harness';
import {
  percentile,
  startPrivateRedis,
  stopPrivateRedises,
  type PrivateRedis,
} from '../../../test/support/faults';
import { CONVENTION_TEXT, unione } from '../../../test/support/scenario';
import {
  errorLines,
  killAllWorkerProcesses,
  startWorkerProcess,
  type WorkerProcess,
} from '../../../test/support/worker-process';

/**
 * Redis stopped, then frozen, for 10 s each under a steady stream of writes (issue 11). A PRIVATE Redis
 * (a child redis-server): the machine's Redis is shared and never touched. The api runs in this process,
 * the worker as a real child process.
 *
 * Every write is answered within a bound (a correctness bound, generous for a loaded 2-core machine: the
 * post-commit enqueue is bounded by ENQUEUE_TIMEOUT_MS and skipped altogether while Redis is known down),
 * committed once, and once Redis is back every armed timer has its one delayed job (job id = row id) and
 * every notice is delivered: the reconciler enqueues what the outage skipped.
 */
describe('Redis down or frozen under a stream of writes', () => {
  const ANSWER_BOUND_MS = 3000;
  const OUTAGE_MS = 10_000;
  const EVERY_MS = 200; // 5 writes per second, plus a read each
  const CONVENTIONS = 170; // enough for both streams (~ (2 + 10 + 3) s × 5 / s each, and some slack)
  const v = unione('valdera');
  const presidente: Actor = {
    subject: 'presidente',
    roles: ['presidente'],
    ente: v.ipa,
    unione: v.ipa,
  };
  let redis: PrivateRedis;
  let h: Harness;
  let worker: WorkerProcess;
  let token: string;
  const frozen: string[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const config = testConfig({
      DATABASE_URL: await isolatedDatabase(),
      REDIS_URL: redis.url,
      HEALTH_PROBE_INTERVAL_MS: '500',
    });
    h = await startHarness({ config });
    token = await h.token({ roles: ['presidente'], ente: v.ipa, unione: v.ipa, sub: 'presidente' });
    // conventions frozen an hour ago, ready to be sent to their councils (each send: 32 timers, 8 notices)
    h.clock.set(new Date(Date.now() - 3600_000));
    for (let i = 0; i < CONVENTIONS; i += 10) {
      const ids = await Promise.all(
        Array.from({ length: Math.min(10, CONVENTIONS - i) }, async (_, j) => {
          const p = await h.engine.start(
            {
              definition: 'convenzione',
              input: { title: `Outage ${i + j}`, unione: v.ipa, members: v.comuni },
            },
            presidente,
          );
          await h.engine.dispatch(
            p.id,
            { type: 'convention.freeze', payload: { text: CONVENTION_TEXT } },
            presidente,
          );
          return p.id;
        }),
      );
      frozen.push(...ids);
    }
    h.clock.set(new Date());
    worker = await startWorkerProcess({
      name: 'iter-redis-outage-worker',
      databaseUrl: config.databaseUrl,
      redisPrefix: config.redisPrefix,
      redisUrl: redis.url,
      clockOffsetMs: 0,
      reconcileIntervalMs: 600_000, // only the start-up pass and the recovery after the outage
      env: { HEALTH_PROBE_INTERVAL_MS: '500' },
    });
  }, 120_000);

  afterAll(async () => {
    await killAllWorkerProcesses();
    await h?.close();
    await stopPrivateRedises();
  });

  interface Answer {
    id: string;
    kind: 'write' | 'read';
    status: number;
    ms: number;
    at: number;
  }

  /** a write (send a frozen convention to its councils) and a read every EVERY_MS while `fault` runs */
  async function streamDuring(fault: () => Promise<void>): Promise<Answer[]> {
    const answers: Answer[] = [];
    const inFlight: Promise<void>[] = [];
    let stop = false;
    const t0 = Date.now();
    const loop = (async () => {
      while (!stop) {
        const id = frozen.shift();
        if (!id) throw new Error('out of frozen conventions');
        const started = Date.now();
        inFlight.push(
          h
            .http()
            .post(`/v1/processes/${id}/events`)
            .set('Authorization', `Bearer ${token}`)
            .send({
              type: 'convention.send',
              payload: { deliveredAt: new Date(Date.now() - 1800_000).toISOString() },
            })
            .timeout(30_000)
            .then((res) => {
              answers.push({
                id,
                kind: 'write',
                status: res.status,
                ms: Date.now() - started,
                at: started - t0,
              });
            }),
          h
            .http()
            .get(`/v1/processes/${id}`)
            .set('Authorization', `Bearer ${token}`)
            .timeout(30_000)
            .then((res) => {
              answers.push({
                id,
                kind: 'read',
                status: res.status,
                ms: Date.now() - started,
                at: started - t0,
              });
            }),
        );
        await new Promise((r) => setTimeout(r, EVERY_MS));
      }
    })();
    await new Promise((r) => setTimeout(r, 2000));
    await fault();
    await new Promise((r) => setTimeout(r, 3000));
    stop = true;
    await loop;
    await Promise.all(inFlight);
    return answers;
  }

  async function expectEveryJobOnce(sent: string[]): Promise<void> {
    // committed once: one convention.send event per write
    const events: { instance_id: string; n: number }[] = await h.ds.query(
      `SELECT instance_id, count(*)::int AS n FROM process_event
       WHERE type = 'convention.send' AND instance_id = ANY($1) GROUP BY instance_id`,
      [sent],
    );
    expect(events).toHaveLength(sent.length);
    expect(events.filter((e) => e.n !== 1)).toEqual([]);

    // every armed timer has its delayed job, and no delayed job is left without an armed row
    await eventually(
      async () => {
        const armed: { id: string }[] = await h.ds.query(
          `SELECT id FROM timer WHERE status = 'armed' ORDER BY id`,
        );
        const jobs = await h.timersQueue.getJobs(['delayed', 'wait', 'prioritized', 'active']);
        const jobIds = new Set(jobs.map((j) => j.id!));
        const armedIds = new Set(armed.map((a) => a.id));
        const missing = armed.filter((a) => !jobIds.has(a.id)).length;
        const orphans = [...jobIds].filter((id) => !armedIds.has(id)).length;
        return missing === 0 && orphans === 0 && jobs.length === armed.length;
      },
      60_000,
      500,
    );
    // every notice delivered, once
    await eventually(
      async () => {
        // the inbox rows are delivered once; PEC/e-mail rows are `skipped` here (no SMTP configured in this test:
        // docs/notifications.md), never pending, sending or dead
        const rows: { status: string; attempts: number; channel: string }[] = await h.ds.query(
          `SELECT status, attempts, channel FROM outbox WHERE instance_id = ANY($1)`,
          [sent],
        );
        const inbox = rows.filter((r) => r.channel === 'inbox');
        return (
          inbox.length >= sent.length &&
          inbox.every((r) => r.status === 'delivered' && r.attempts === 1) &&
          rows.every((r) => r.status === 'delivered' || r.status === 'skipped')
        );
      },
      60_000,
      500,
    );
  }

  function expectAnsweredWithinBound(answers: Answer[], label: string): string[] {
    const writes = answers.filter((a) => a.kind === 'write');
    const reads = answers.filter((a) => a.kind === 'read');
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(answers.filter((a) => a.ms >= ANSWER_BOUND_MS)).toEqual([]);
    const during = writes.filter((a) => a.at >= 2000 && a.at < 2000 + OUTAGE_MS);
    expect(during.length).toBeGreaterThan(20);
    console.log(
      `[${label}] ${writes.length} writes, ${reads.length} reads; write ms p50 ${percentile(
        writes.map((a) => a.ms),
        50,
      )} p99 ${percentile(
        writes.map((a) => a.ms),
        99,
      )} max ${Math.max(...writes.map((a) => a.ms))}; during the outage p50 ${percentile(
        during.map((a) => a.ms),
        50,
      )} p99 ${percentile(
        during.map((a) => a.ms),
        99,
      )}; slowest ${JSON.stringify(
        [...answers]
          .sort((a, b) => b.ms - a.ms)
          .slice(0, 3)
          .map((a) => ({ kind: a.kind, ms: a.ms, at: a.at })),
      )}`,
    );
    return writes.map((a) => a.id);
  }

  it('stopped for 10 s: every write answered at once, committed once, every job enqueued once after', async () => {
    let health: { status: number; body: Record<string, any> } | null = null;
    const answers = await streamDuring(async () => {
      await redis.stop();
      await new Promise((r) => setTimeout(r, OUTAGE_MS / 2));
      const res = await h.http().get('/health');
      health = { status: res.status, body: res.body };
      await new Promise((r) => setTimeout(r, OUTAGE_MS / 2));
      await redis.start(); // empty: every job enqueued before the outage is gone too
    });
    const sent = expectAnsweredWithinBound(answers, 'redis stopped');
    // /health said which dependency was down, and since when
    expect(health!.status).toBe(503);
    expect(health!.body).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      details: { postgres: { status: 'up' }, redis: { status: 'down' } },
    });
    expect(Date.parse(health!.body.details.redis.since)).toBeLessThan(Date.now());
    await expectEveryJobOnce(sent);
    const ready = await h.http().get('/health');
    expect(ready.status).toBe(200);
    expect(errorLines(worker.output()).filter((l) => !/Redis non raggiungibile/.test(l))).toEqual(
      [],
    );
  }, 180_000);

  it('frozen (SIGSTOP) for 10 s: the same', async () => {
    const answers = await streamDuring(async () => {
      redis.freeze();
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      redis.thaw();
    });
    const sent = expectAnsweredWithinBound(answers, 'redis frozen');
    await expectEveryJobOnce(sent);
  }, 180_000);
});
