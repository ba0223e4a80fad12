import ICAL from 'ical.js';
import type { Actor } from '@app/common';
import { startHarness, type Harness } from '../../../test/support/harness';
import { CONVENTION_TEXT, unione } from '../../../test/support/scenario';

/** The in-app inbox (own ente and roles only) and the calendar feed of an ente's open deadlines. */
describe('inbox and calendar feed', () => {
  let h: Harness;
  let id: string;
  const v = unione('valdera');
  const presidente: Actor = {
    subject: 'presidente',
    roles: ['presidente'],
    ente: v.ipa,
    unione: v.ipa,
  };
  const auth = (t: string) => ({ Authorization: `Bearer ${t}` });

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true });
    h.clock.set(new Date('2026-02-02T09:00:00Z'));
    const s = await h.engine.start(
      {
        definition: 'convenzione',
        input: { title: 'Calendario', unione: v.ipa, members: ['c_g254', 'c_b303'] },
      },
      presidente,
    );
    id = s.id;
    await h.engine.dispatch(
      id,
      { type: 'convention.freeze', payload: { text: CONVENTION_TEXT } },
      presidente,
    );
    h.clock.set(new Date('2026-02-05T12:00:00Z'));
    await h.engine.dispatch(
      id,
      { type: 'convention.send', payload: { deliveredAt: '2026-02-05T10:00:00+01:00' } },
      presidente,
    );
  });
  afterAll(async () => h?.close());

  it('the inbox shows only the caller’s own ente’s notices, for its roles', async () => {
    const palaia = await h.token({ roles: ['segretario'], ente: 'c_g254', unione: v.ipa });
    const list = await h.http().get('/v1/notifications').set(auth(palaia)).expect(200);
    const mine = list.body as {
      id: string;
      instanceId: string;
      template: string;
      role: string;
      payload: Record<string, unknown>;
    }[];
    expect(mine.length).toBe(2); // the council's notice and the segretario's
    expect(mine.every((n) => n.instanceId === id && n.template === 'convention.sent')).toBe(true);
    expect(mine.map((n) => n.role).sort()).toEqual(['consiglio', 'segretario']);
    expect(mine[0]!.payload['title']).toBe('Calendario');
    const ids = new Set(mine.map((n) => n.id));
    // Buti's segretario sees Buti's notices, not Palaia's
    const buti = await h.token({ roles: ['segretario'], ente: 'c_b303', unione: v.ipa });
    const theirs = (await h.http().get('/v1/notifications').set(auth(buti)).expect(200)).body as {
      id: string;
    }[];
    expect(theirs.length).toBe(2);
    expect(theirs.some((n) => ids.has(n.id))).toBe(false);
    // another Unione's segretario sees nothing; a platform admin has no inbox
    const other = await h.token({ roles: ['segretario'], ente: 'c_g254', unione: 'u_miracoli' });
    expect((await h.http().get('/v1/notifications').set(auth(other)).expect(200)).body).toEqual([]);
    const admin = await h.token({ roles: ['admin'], ente: null, unione: null });
    expect((await h.http().get('/v1/notifications').set(auth(admin)).expect(200)).body).toEqual([]);
    // reading another ente's notice is a 404, one's own a 204; unread filter
    const first = mine[0]!.id;
    const nf = await h.http().post(`/v1/notifications/${first}/read`).set(auth(buti)).expect(404);
    expect(nf.body.code).toBe('NOTIFICATION_NOT_FOUND');
    await h.http().post(`/v1/notifications/${first}/read`).set(auth(palaia)).expect(204);
    const unread = await h
      .http()
      .get('/v1/notifications?unread=true')
      .set(auth(palaia))
      .expect(200);
    expect(unread.body.map((n: { id: string }) => n.id)).not.toContain(first);
    await h.http().get('/v1/notifications?unread=maybe').set(auth(palaia)).expect(400);
    await h.http().get('/v1/notifications?colour=red').set(auth(palaia)).expect(400);
  });

  it('GET /v1/entes/:code/calendar.ics: the ente’s open deadlines, by bearer token or feed token', async () => {
    const palaia = await h.token({ roles: ['segretario'], ente: 'c_g254', unione: v.ipa });
    const res = await h.http().get('/v1/entes/c_g254/calendar.ics').set(auth(palaia)).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/calendar/);
    const cal = new ICAL.Component(ICAL.parse(res.text));
    const events = cal.getAllSubcomponents('vevent');
    expect(events).toHaveLength(1);
    const start = events[0]!.getFirstPropertyValue('dtstart') as ICAL.Time;
    expect(start.isDate).toBe(true);
    expect(start.toString()).toBe('2026-04-07');
    expect(String(events[0]!.getFirstPropertyValue('summary'))).toContain('Calendario');
    expect(events[0]!.getAllSubcomponents('valarm').length).toBeGreaterThan(0);

    // the Unione's staff may read a member's feed; another comune's segretario may not; no token: 401
    const staff = await h.token({ roles: ['staff'], ente: v.ipa, unione: v.ipa });
    await h.http().get('/v1/entes/c_g254/calendar.ics').set(auth(staff)).expect(200);
    const buti = await h.token({ roles: ['segretario'], ente: 'c_b303', unione: v.ipa });
    expect(
      (await h.http().get('/v1/entes/c_g254/calendar.ics').set(auth(buti)).expect(403)).body.code,
    ).toBe('FORBIDDEN');
    expect((await h.http().get('/v1/entes/c_g254/calendar.ics').expect(401)).body.code).toBe(
      'UNAUTHENTICATED',
    );

    // a feed token a calendar app can subscribe with; a new one replaces it
    await h.http().post('/v1/entes/c_g254/calendar-token').set(auth(buti)).expect(403);
    const issued = await h
      .http()
      .post('/v1/entes/c_g254/calendar-token')
      .set(auth(palaia))
      .expect(200);
    expect(issued.body.url).toContain(`/v1/entes/c_g254/calendar.ics?token=${issued.body.token}`);
    const viaToken = await h
      .http()
      .get(`/v1/entes/c_g254/calendar.ics?token=${issued.body.token}`)
      .expect(200);
    expect(viaToken.text).toContain('DTSTART;VALUE=DATE:20260407');
    const wrong = await h
      .http()
      .get(`/v1/entes/c_g254/calendar.ics?token=${'x'.repeat(32)}`)
      .expect(401);
    expect(wrong.body.code).toBe('UNAUTHENTICATED');
    // Buti's token does not open Palaia's feed
    const butiToken = await h
      .http()
      .post('/v1/entes/c_b303/calendar-token')
      .set(auth(buti))
      .expect(200);
    await h.http().get(`/v1/entes/c_g254/calendar.ics?token=${butiToken.body.token}`).expect(401);
    const rotated = await h
      .http()
      .post('/v1/entes/c_g254/calendar-token')
      .set(auth(palaia))
      .expect(200);
    await h.http().get(`/v1/entes/c_g254/calendar.ics?token=${issued.body.token}`).expect(401);
    await h.http().get(`/v1/entes/c_g254/calendar.ics?token=${rotated.body.token}`).expect(200);
    expect(
      (await h.http().get('/v1/entes/c_g254/calendar.ics?token=short').expect(400)).body.code,
    ).toBe('VALIDATION_FAILED');
    expect(
      (await h.http().get('/v1/entes/c_zzzz/calendar.ics').set(auth(palaia)).expect(422)).body.code,
    ).toBe('ENTE_NOT_FOUND');
  });

  it('an ente of another Unione answers like a missing one, even to a token that names it as its own ente', async () => {
    const m = unione('miracoli');
    const missing = async (method: 'get' | 'post', path: string, token: string) => {
      const res = await h.http()[method](path).set(auth(token)).expect(422);
      expect(res.body).toEqual({
        code: 'ENTE_NOT_FOUND',
        message: `Ente non trovato: ${path.split('/')[3]}`,
        details: { entes: [path.split('/')[3]] },
      });
    };
    const before = await h.ds.query(`SELECT calendar_token FROM ente WHERE codice_ipa = 'c_g254'`);
    // c_g254 is a Valdera comune; the token claims it as its ente under the Unione dei Miracoli
    const mismatched = await h.token({ roles: ['segretario'], ente: 'c_g254', unione: m.ipa });
    const otherStaff = await h.token({ roles: ['staff', 'admin'], ente: m.ipa, unione: m.ipa });
    for (const token of [mismatched, otherStaff]) {
      await missing('get', '/v1/entes/c_g254/calendar.ics', token);
      await missing('post', '/v1/entes/c_g254/calendar-token', token);
      await missing('get', `/v1/entes/${v.ipa}/calendar.ics`, token);
      await missing('get', '/v1/entes/c_zzzz/calendar.ics', token);
    }
    // nothing was rotated: Valdera's subscription still works with its own feed token
    expect(await h.ds.query(`SELECT calendar_token FROM ente WHERE codice_ipa = 'c_g254'`)).toEqual(
      before,
    );
  });
});
