import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, testConfig, type Harness } from '../../../test/support/harness';
import { Scenario, unione } from '../../../test/support/scenario';

/**
 * The console's edge in the API: the single-page app served at `/` with its fallback, the development sign-in,
 * the session cookie (httpOnly, SameSite=Strict) accepted by the guard, CSRF protection of cookie writes, and
 * "da fare" (/v1/todo).
 */
const CSRF = { 'X-Requested-With': 'iter-console' };
const sessionCookie = (setCookie: string[] | string | undefined): string => {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const c = all.find((x) => x.startsWith('iter_session='));
  if (!c) throw new Error(`no session cookie in ${JSON.stringify(setCookie)}`);
  return c;
};

describe('console: static app, sign-in and session', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iter-console-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><title>Iter</title><div id="root"></div>',
    );
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log("iter")');
    process.env['ITER_CONSOLE_DIR'] = dir;
    h = await startHarness({ isolatedDb: false });
  });
  afterAll(async () => {
    delete process.env['ITER_CONSOLE_DIR'];
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the app at / and at deep links; the API paths stay the API’s', async () => {
    for (const path of ['/', '/procedimenti/0b6f3c1e-8f4a-4c39-9d6e-2f1a9b7c5d11', '/accedi']) {
      const res = await h.http().get(path).expect(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.text).toContain('<div id="root">');
    }
    const asset = await h.http().get('/assets/index-abc123.js').expect(200);
    expect(asset.headers['cache-control']).toMatch(/immutable/);
    await h.http().get('/assets/missing.js').expect(404);
    await h.http().get('/favicon.png').expect(404);
    const api = await h.http().get('/v1/processes').expect(401);
    expect(api.body.code).toBe('UNAUTHENTICATED');
    await h.http().get('/v1/nothing-here').expect(404);
    expect((await h.http().get('/docs-json').expect(200)).body.openapi).toBeDefined();
    expect((await h.http().get('/auth/nothing').expect(404)).body.code).toBeDefined();
  });

  it('development sign-in: the fixture users, a session cookie the page cannot read', async () => {
    expect((await h.http().get('/auth/config').expect(200)).body).toEqual({
      devSignIn: true,
      oidc: false,
    });
    const users = (await h.http().get('/auth/dev/users').expect(200)).body as { id: string }[];
    expect(users.map((u) => u.id)).toEqual(
      expect.arrayContaining(['presidente.u_valdera', 'segretario.c_g843', 'sindaco.c_g843']),
    );

    // without the console's header the sign-in is refused (a cross-site form cannot set it)
    const csrf = await h
      .http()
      .post('/auth/dev/login')
      .send({ user: 'segretario.c_g843' })
      .expect(403);
    expect(csrf.body.details.rule).toBe('CSRF_HEADER_REQUIRED');
    expect(csrf.headers['set-cookie']).toBeUndefined();
    const unknown = await h
      .http()
      .post('/auth/dev/login')
      .set(CSRF)
      .send({ user: 'segretario.c_zzzz' })
      .expect(400);
    expect(unknown.body.code).toBe('VALIDATION_FAILED');
    await h
      .http()
      .post('/auth/dev/login')
      .set(CSRF)
      .send({ user: 'segretario.c_g843', role: 'admin' })
      .expect(400);

    const res = await h
      .http()
      .post('/auth/dev/login')
      .set(CSRF)
      .send({ user: 'segretario.c_g843' })
      .expect(200);
    const cookie = sessionCookie(res.headers['set-cookie']);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/Secure/); // development over http; production sets Secure
    const jar = cookie.split(';')[0]!;
    const me = await h.http().get('/auth/me').set('Cookie', jar).expect(200);
    expect(me.body).toMatchObject({
      subject: 'segretario.c_g843',
      roles: ['segretario'],
      ente: 'c_g843',
      unione: 'u_valdera',
    });
    const list = await h.http().get('/v1/processes').set('Cookie', jar).expect(200);
    expect(list.headers['vary']).toMatch(/Cookie/);
  });

  it('a write with the session cookie needs the console’s header; nothing is written without it', async () => {
    const login = await h
      .http()
      .post('/auth/dev/login')
      .set(CSRF)
      .send({ user: 'presidente.u_valdera' })
      .expect(200);
    const jar = sessionCookie(login.headers['set-cookie']).split(';')[0]!;
    const body = {
      definition: 'convenzione',
      businessKey: 'csrf-check',
      input: { title: 'CSRF', unione: 'u_valdera', members: ['c_g843'] },
    };
    const refused = await h.http().post('/v1/processes').set('Cookie', jar).send(body).expect(403);
    expect(refused.body.details.rule).toBe('CSRF_HEADER_REQUIRED');
    const rows: unknown[] = await h.ds.query(
      `SELECT 1 FROM process_instance WHERE business_key = 'csrf-check'`,
    );
    expect(rows).toHaveLength(0);
    await h.http().post('/v1/processes').set('Cookie', jar).set(CSRF).send(body).expect(201);
  });

  it('a forged, tampered or foreign cookie is refused; sign-out clears it', async () => {
    const apiToken = await h.token({ roles: ['admin'], sub: 'x' });
    for (const value of ['garbage', apiToken, `${apiToken.slice(0, -4)}AAAA`]) {
      const res = await h.http().get('/auth/me').set('Cookie', `iter_session=${value}`).expect(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    }
    const out = await h.http().post('/auth/logout').set(CSRF).expect(204);
    expect(sessionCookie(out.headers['set-cookie'])).toMatch(/Max-Age=0/);
    await h.http().post('/auth/logout').expect(403);
  });

  it('OIDC sign-in answers 403 when no provider is configured', async () => {
    const res = await h.http().get('/auth/login').expect(403);
    expect(res.body.details.rule).toBe('OIDC_NOT_CONFIGURED');
  });
});

describe('console: the development sign-in is off without the development secret', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      isolatedDb: false,
      config: testConfig({ JWT_SECRET: 'a-real-secret-of-at-least-32-characters!!' }),
    });
  });
  afterAll(() => h.close());

  it('hides the page and refuses the sign-in', async () => {
    expect((await h.http().get('/auth/config').expect(200)).body.devSignIn).toBe(false);
    expect((await h.http().get('/auth/dev/users').expect(403)).body.details.rule).toBe(
      'DEV_SIGN_IN_DISABLED',
    );
    const res = await h
      .http()
      .post('/auth/dev/login')
      .set(CSRF)
      .send({ user: 'presidente.u_valdera' })
      .expect(403);
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});

describe('da fare (/v1/todo)', () => {
  let h: Harness;
  let a: Scenario;
  let b: Scenario;
  beforeAll(async () => {
    h = await startHarness();
    const v = unione('valdera');
    // two conventions sent ten days apart: the first one's councils have the earlier deadline
    a = new Scenario(h, v.ipa, v.comuni);
    await a.start(undefined, 'todo-a');
    await a.freeze();
    await a.sendToCouncils('2026-02-09T10:00:00Z');
    b = new Scenario(h, v.ipa, ['c_g843', 'c_a864']);
    await b.start(undefined, 'todo-b');
    await b.freeze();
    h.clock.set(new Date('2026-02-20T09:00:00Z'));
    await b.ok('presidente', v.ipa, 'convention.send', { deliveredAt: '2026-02-19T10:00:00Z' });
    await a.approve('c_a864', '11', '2026-02-20');
  });
  afterAll(() => h.close());

  const todo = async (role: Parameters<Scenario['as']>[0], ente: string) =>
    (
      await h
        .http()
        .get('/v1/todo')
        .set('Authorization', `Bearer ${await a.as(role, ente)}`)
        .expect(200)
    ).body as {
      id: string;
      actions: { type: string; entes?: string[] }[];
      deadline: string | null;
      daysLeft: number | null;
      overdue: boolean;
      pendingEntes: { ente: string; status: string; deadline: string | null }[];
    }[];

  it('a segretario sees what its ente must do, by when and how many days are left, most urgent first', async () => {
    h.clock.set(new Date('2026-02-25T09:00:00Z'));
    const items = await todo('segretario', 'c_g843');
    expect(items.map((i) => i.id)).toEqual([a.id, b.id]);
    const first = items[0]!;
    expect(first.actions.map((x) => x.type)).toContain('convention.deliberation.record');
    for (const x of first.actions) expect(x.entes).toEqual(['c_g843']);
    // 60 days from the PEC receipt of 9 February 2026: 10 April (Rome), 44 days after 25 February
    expect(first.deadline).toBe('2026-04-10');
    expect(first.daysLeft).toBe(44);
    expect(first.overdue).toBe(false);
  });

  it('an ente that has done its part shows where it stands', async () => {
    const items = await todo('segretario', 'c_a864');
    // Bientina recorded its deliberation in A (its executivity is still to certify); B is still to deliberate
    const b1 = items.find((i) => i.id === b.id)!;
    expect(b1.actions.map((x) => x.type)).toContain('convention.deliberation.record');
    const a1 = items.find((i) => i.id === a.id)!;
    // its council voted: the term to deliberate no longer counts for it
    expect(a1.pendingEntes.find((p) => p.ente === 'c_a864')).toMatchObject({
      status: 'APPROVED',
      deadline: null,
    });
    expect(a1.pendingEntes.find((p) => p.ente === 'c_g843')?.deadline).toBe('2026-04-10');
  });

  it('the presidente sees the Unione’s processes with the entes still pending; late ones are overdue', async () => {
    h.clock.set(new Date('2026-04-15T09:00:00Z'));
    const items = await todo('presidente', 'u_valdera');
    const ia = items.find((i) => i.id === a.id)!;
    expect(ia.pendingEntes.map((p) => p.ente)).toEqual(
      expect.arrayContaining(['c_g843', 'c_b303']),
    );
    expect(ia.daysLeft).toBeLessThan(0);
    expect(ia.overdue).toBe(true);
  });

  it('nobody else’s processes: another Unione, or a platform admin, has nothing to do here', async () => {
    const other = await h.token({
      roles: ['segretario'],
      ente: 'c_a244',
      unione: 'u_valle_di_comino',
    });
    expect(
      (await h.http().get('/v1/todo').set('Authorization', `Bearer ${other}`).expect(200)).body,
    ).toEqual([]);
    const admin = await h.token({ roles: ['admin'], unione: null });
    expect(
      (await h.http().get('/v1/todo').set('Authorization', `Bearer ${admin}`).expect(200)).body,
    ).toEqual([]);
    await h.http().get('/v1/todo').expect(401);
  });
});
