import request from 'supertest';
import { IterMetrics } from '@app/runtime';
import { WorkerHealthServer } from '../../worker/src/health/worker-health.server';
import {
  eventually,
  isolatedDatabase,
  startHarness,
  testConfig,
  type Harness,
} from '../../../test/support/harness';
import { parsePrometheus, sumOf, has, type Sample } from '../../../test/support/prometheus';
import { Scenario, unione } from '../../../test/support/scenario';

/**
 * /metrics after a scripted scenario (start a convention, send events, one refused, fire a timer, deliver
 * the notices): each series counts what the database says happened. The api and the worker are separate
 * processes in production, each with its own series; here both run in the test process with their own
 * registries, and each is read through its own endpoint.
 */
describe('metrics', () => {
  const v = unione('valdera');
  let h: Harness;
  let workerPort: number;

  beforeAll(async () => {
    h = await startHarness({ worker: true });
    workerPort = h.worker!.get(WorkerHealthServer).port;
  });
  afterAll(async () => h?.close());

  const scrapeApi = async (): Promise<Sample[]> => {
    const res = await h.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(res.text);
  };
  const scrapeWorker = async (): Promise<Sample[]> => {
    const res = await request(`http://127.0.0.1:${workerPort}`).get('/metrics').expect(200);
    return parsePrometheus(res.text);
  };
  const count = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number((await h.ds.query<{ n: string }[]>(sql, params))[0]!.n);

  it('exposes the named series with the counts of what happened', async () => {
    const s = new Scenario(h, v.ipa, v.comuni.slice(0, 2));
    await s.start();
    await s.freeze();
    // refused: the text is frozen already
    const refused = await s.send('presidente', v.ipa, 'convention.freeze', { text: 'altro' });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    // refused before any definition is known: an event type no definition has
    const unknown = await s.send('presidente', v.ipa, 'no.such.event');
    expect(unknown.status).toBe(400);
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');

    // fire the first reminder: the clock moves past it, the reconciler promotes it, the worker fires it
    const first = (
      await h.ds.query<{ id: string; due_at: Date }[]>(
        `SELECT id, due_at FROM timer WHERE instance_id = $1 AND key LIKE 'reminder:%' ORDER BY due_at LIMIT 1`,
        [s.id],
      )
    )[0]!;
    h.clock.set(new Date(first.due_at.getTime() + 1000));
    await h.reconcile();
    await eventually(
      async () =>
        (await count(`SELECT count(*) AS n FROM process_event WHERE timer_id IS NOT NULL`)) > 0,
    );
    // every notice handled (inbox delivered, PEC/e-mail skipped: no SMTP here)
    await eventually(
      async () =>
        (await count(`SELECT count(*) AS n FROM outbox WHERE status IN ('pending', 'sending')`)) ===
        0,
    );
    // the fired timer's own follow-ups settled: nothing active in the queues
    await eventually(async () => (await h.timersQueue.getActiveCount()) === 0);

    // a scrape answers without the queue depths when Redis is slower than the bound (a loaded machine): the next has them
    const api = await eventually(async () => {
      const a = await scrapeApi();
      return sumOf(a, 'iter_queue_up') === 1 && a;
    }, 30_000);
    const worker = await scrapeWorker();
    const both = [...api, ...worker];

    // transitions by definition, event and outcome
    const t = 'iter_transitions_total';
    const def = 'convenzione';
    expect(sumOf(api, t, { definition: def, event: 'start', outcome: 'accepted' })).toBe(1);
    expect(
      sumOf(api, t, { definition: def, event: 'convention.freeze', outcome: 'accepted' }),
    ).toBe(1);
    expect(sumOf(api, t, { definition: def, event: 'convention.send', outcome: 'accepted' })).toBe(
      1,
    );
    expect(
      sumOf(api, t, { definition: def, event: 'convention.freeze', outcome: refused.body.code }),
    ).toBe(1);
    expect(
      sumOf(api, t, { definition: 'unknown', event: 'unknown', outcome: unknown.body.code }),
    ).toBe(1);
    const timerSteps = await count(
      `SELECT count(*) AS n FROM process_event WHERE timer_id IS NOT NULL`,
    );
    expect(timerSteps).toBeGreaterThan(0);
    expect(sumOf(worker, t, { definition: def, outcome: 'accepted' })).toBe(timerSteps);
    // latency: one observation per decided start/event
    expect(sumOf(api, 'iter_transition_duration_seconds_count', { source: 'start' })).toBe(1);
    expect(
      sumOf(api, 'iter_transition_duration_seconds_count', {
        source: 'event',
        result: 'accepted',
      }),
    ).toBe(2);
    expect(
      sumOf(api, 'iter_transition_duration_seconds_count', { source: 'event', result: 'refused' }),
    ).toBe(2);

    // timers: armed, fired (with lateness), cancelled, as the timer table says
    expect(sumOf(both, 'iter_timers_armed_total')).toBe(
      await count(`SELECT count(*) AS n FROM timer`),
    );
    expect(sumOf(worker, 'iter_timers_fired_total', { definition: def })).toBe(timerSteps);
    expect(sumOf(worker, 'iter_timer_lateness_seconds_count', { definition: def })).toBe(
      timerSteps,
    );
    expect(sumOf(both, 'iter_timers_cancelled_total')).toBe(
      await count(`SELECT count(*) AS n FROM timer WHERE status = 'cancelled'`),
    );
    // a job fires its process's due timers (and sweeps others) in batches: at most one job per fired timer
    const firedJobs = sumOf(worker, 'iter_timer_jobs_total', { outcome: 'fired' });
    expect(firedJobs).toBeGreaterThan(0);
    expect(firedJobs).toBeLessThanOrEqual(timerSteps);

    // notifications by channel and outcome, as the outbox says
    const byChannel = await h.ds.query<{ channel: string; status: string; n: string }[]>(
      `SELECT channel, status, count(*) AS n FROM outbox GROUP BY channel, status`,
    );
    expect(byChannel.length).toBeGreaterThan(0);
    for (const r of byChannel) {
      const outcome = r.status === 'delivered' ? 'sent' : r.status;
      expect([
        r.channel,
        outcome,
        sumOf(worker, 'iter_notifications_total', { channel: r.channel, outcome }),
      ]).toEqual([r.channel, outcome, Number(r.n)]);
    }
    expect(
      sumOf(worker, 'iter_notifications_total', { channel: 'inbox', outcome: 'sent' }),
    ).toBeGreaterThan(0);

    // queue depths, read from Redis at scrape time
    expect(sumOf(api, 'iter_queue_up')).toBe(1);
    expect(sumOf(api, 'iter_queue_jobs', { queue: 'timers', state: 'delayed' })).toBe(
      await h.timersQueue.getDelayedCount(),
    );
    expect(sumOf(api, 'iter_queue_jobs', { queue: 'timers', state: 'delayed' })).toBeGreaterThan(0);
    for (const q of ['timers', 'notifications', 'process-effects'])
      for (const state of ['waiting', 'active', 'delayed', 'failed'])
        expect(
          api.some(
            (x) =>
              x.name === 'iter_queue_jobs' &&
              x.labels['queue'] === q &&
              x.labels['state'] === state,
          ),
        ).toBe(true);

    // HTTP: route templates, never ids
    const events = { route: '/v1/processes/:id/events', method: 'POST' };
    expect(
      sumOf(api, 'iter_http_request_duration_seconds_count', { ...events, status: '200' }),
    ).toBe(2);
    expect(
      sumOf(api, 'iter_http_request_duration_seconds_count', {
        route: '/v1/processes',
        method: 'POST',
        status: '201',
      }),
    ).toBe(1);
    expect(api.some((x) => x.labels['route']?.includes(s.id))).toBe(false);

    // the default process metrics (the reconciler's series are counted in the worker's readiness test)
    expect(has(worker, 'process_cpu_user_seconds_total')).toBe(true);
    expect(has(api, 'nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('answers the scrape at once, without the queue depths, when Redis does not answer', async () => {
    const m = h.app.get(IterMetrics);
    const slow = { getJobCounts: () => new Promise<never>(() => undefined) };
    m.watchQueues([{ name: 'timers', queue: slow as never }]);
    try {
      const api = await scrapeApi();
      expect(sumOf(api, 'iter_queue_up')).toBe(0);
      expect(has(api, 'iter_queue_jobs')).toBe(false);
      expect(has(api, 'iter_timers_armed_total')).toBe(true);
    } finally {
      // back to the real queues for whatever runs next
      const q = h.timersQueue;
      m.watchQueues([{ name: 'timers', queue: q }]);
    }
  });
});

describe('metrics protection (METRICS_TOKEN)', () => {
  const token = 'metrics-token-of-this-test-0123456789';
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      config: testConfig({ DATABASE_URL: await isolatedDatabase(), METRICS_TOKEN: token }),
    });
  });
  afterAll(async () => h?.close());

  it('refuses a scrape without the token or with another one, in the JSON error shape', async () => {
    const none = await h.http().get('/metrics').expect(401);
    expect(none.body).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    const wrong = await h
      .http()
      .get('/metrics')
      .set('Authorization', 'Bearer not-the-token-at-all')
      .expect(401);
    expect(wrong.body.code).toBe('UNAUTHENTICATED');
    // an Iter user's token is not the metrics token
    const admin = await h.token({ roles: ['admin'] });
    await h.http().get('/metrics').set('Authorization', `Bearer ${admin}`).expect(401);
  });

  it('answers the Prometheus text with the token', async () => {
    const res = await h.http().get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
    expect(has(parsePrometheus(res.text), 'iter_timers_armed_total')).toBe(true);
  });
});
