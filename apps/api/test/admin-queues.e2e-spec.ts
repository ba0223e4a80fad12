import { UnrecoverableError, Worker } from 'bullmq';
import { JobName, QueueName, redisConnection } from '@app/scheduling';
import { eventually, startHarness, type Harness } from '../../../test/support/harness';

const CSRF = { 'X-Requested-With': 'iter-console' };

/**
 * The queue dashboard (bull-board) at /admin/queues: admins only, by bearer token or by the console's
 * session cookie; refusals in the API's JSON error shape; failed jobs are kept and can be retried.
 */
describe('/admin/queues', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  const bearer = async (roles: ('admin' | 'segretario' | 'auditor')[]) => ({
    Authorization: `Bearer ${await h.token({ roles, ente: roles.includes('segretario') ? 'c_g843' : null, unione: roles.includes('segretario') ? 'u_valdera' : null })}`,
  });
  const cookieOf = async (user: string): Promise<string> => {
    const res = await h.http().post('/auth/dev/login').set(CSRF).send({ user }).expect(200);
    const all = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    return all.find((c) => c.startsWith('iter_session='))!.split(';')[0]!;
  };

  it('refuses an unauthenticated request (401) and a non-admin (403), as JSON', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const none = await h.http().get(path).expect(401);
      expect(none.body).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(none.headers['content-type']).toMatch(/application\/json/);
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
      const bad = await h.http().get(path).set('Authorization', 'Bearer not.a.token').expect(401);
      expect(bad.body.code).toBe('UNAUTHENTICATED');
      for (const roles of [['segretario'], ['auditor']] as const) {
        const other = await h
          .http()
          .get(path)
          .set(await bearer([...roles]))
          .expect(403);
        expect(other.body).toMatchObject({ code: 'FORBIDDEN' });
      }
    }
    const segretario = await cookieOf('segretario.c_g843');
    const refused = await h.http().get('/admin/queues').set('Cookie', segretario).expect(403);
    expect(refused.body.code).toBe('FORBIDDEN');
    // an Unione's own admin: the queues hold every Unione's jobs
    const valderaAdmin = await h.token({
      roles: ['admin'],
      ente: 'u_valdera',
      unione: 'u_valdera',
    });
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const tenant = await h
        .http()
        .get(path)
        .set('Authorization', `Bearer ${valderaAdmin}`)
        .expect(403);
      expect(tenant.body.code).toBe('FORBIDDEN');
    }
  });

  it('serves the dashboard and its API to an admin, by bearer token or console session', async () => {
    const page = await h
      .http()
      .get('/admin/queues')
      .set(await bearer(['admin']))
      .expect(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const api = await h
      .http()
      .get('/admin/queues/api/queues')
      .set(await bearer(['admin']))
      .expect(200);
    const names = (api.body.queues as { name: string }[]).map((q) => q.name).sort();
    expect(names).toEqual(
      [QueueName.Notifications, QueueName.ProcessEffects, QueueName.Timers].sort(),
    );

    const admin = (await h.http().get('/auth/dev/users').expect(200)).body as {
      id: string;
      roles: string[];
    }[];
    const adminId = admin.find((u) => u.roles.includes('admin'))!.id;
    const jar = await cookieOf(adminId);
    await h.http().get('/admin/queues/api/queues').set('Cookie', jar).expect(200);
  });

  it('keeps a failed job, and an admin retries it (cookie writes only from the same origin)', async () => {
    const jobId = '0b5c3a52-6a0e-4c7e-9d38-3f1c0e0a7b11';
    await h.timersQueue.add(
      JobName.TimerFired,
      { timerId: jobId },
      { jobId, removeOnFail: { count: 10 } },
    );
    const failing = new Worker(
      QueueName.Timers,
      () => Promise.reject(new UnrecoverableError('Postgres down for good')),
      { connection: redisConnection(h.config.redisUrl), prefix: h.config.redisPrefix },
    );
    try {
      await eventually(async () => (await h.timersQueue.getJobState(jobId)) === 'failed');
    } finally {
      await failing.close();
    }
    const failed = await h
      .http()
      .get(`/admin/queues/api/queues?activeQueue=${QueueName.Timers}&status=failed&page=1`)
      .set(await bearer(['admin']))
      .expect(200);
    const timers = (
      failed.body.queues as { name: string; jobs: { id: string; failedReason: string }[] }[]
    ).find((q) => q.name === QueueName.Timers)!;
    expect(timers.jobs.map((j) => j.id)).toContain(jobId);

    const retry = `/admin/queues/api/queues/${QueueName.Timers}/${jobId}/retry`;
    const adminId = (
      (await h.http().get('/auth/dev/users').expect(200)).body as { id: string; roles: string[] }[]
    ).find((u) => u.roles.includes('admin'))!.id;
    const jar = await cookieOf(adminId);
    const crossSite = await h
      .http()
      .put(retry)
      .set('Cookie', jar)
      .set('Origin', 'https://evil.example')
      .expect(403);
    expect(crossSite.body.details.rule).toBe('SAME_ORIGIN_REQUIRED');
    expect(await h.timersQueue.getJobState(jobId)).toBe('failed');
    await h.http().put(retry).set('Cookie', jar).set('Sec-Fetch-Site', 'same-origin').expect(204);
    expect(await h.timersQueue.getJobState(jobId)).toBe('waiting');
  });
});
