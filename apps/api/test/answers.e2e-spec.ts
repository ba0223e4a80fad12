import { Scenario, unione } from '../../../test/support/scenario';
import { startHarness, type Harness } from '../../../test/support/harness';

/**
 * Issue 10, "Answers", over HTTP against the real server: what a client is told is true. Rome dates at the
 * Rome/UTC boundary, `in_force` and `participants`, allowedEvents after the convention is in force, plain
 * validation messages, and no weak ETag on an error.
 */
describe('answers that are true (e2e)', () => {
  let h: Harness;
  const v = unione('valdera');
  const [c1, c2] = v.comuni as [string, string];

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  const types = (body: { allowedEvents: { type: string }[] }) =>
    body.allowedEvents.map((e) => e.type);

  it('deliveredAt "2026-03-10" after a freeze at 09:00 Rome that day is accepted; at 00:30 Rome "today" too', async () => {
    const s = new Scenario(h, v.ipa, [c1, c2]);
    await s.start();
    h.clock.set(new Date('2026-03-10T08:00:00Z')); // 09:00 in Rome
    await s.ok('presidente', v.ipa, 'convention.freeze', { text: 'Testo della convenzione' });
    h.clock.set(new Date('2026-03-10T09:00:00Z'));
    const sent = await s.send('presidente', v.ipa, 'convention.send', {
      deliveredAt: '2026-03-10',
    });
    expect(sent.status).toBe(200);
    expect(sent.body.data.entes[1].deadline.date).toBe('2026-05-09');

    const t = new Scenario(h, v.ipa, [c1, c2]);
    await t.start();
    h.clock.set(new Date('2026-03-10T08:00:00Z'));
    await t.ok('presidente', v.ipa, 'convention.freeze', { text: 'Testo della convenzione' });
    // 00:30 on 11 March in Rome is 23:30 UTC on 10 March
    h.clock.set(new Date('2026-03-10T23:30:00Z'));
    const tomorrow = await t.send('presidente', v.ipa, 'convention.send', {
      deliveredAt: '2026-03-12',
    });
    expect(tomorrow.status).toBe(422);
    expect(tomorrow.body.details.rule).toBe('DELIVERY_IN_FUTURE');
    expect(tomorrow.headers['etag']).toBeUndefined();
    const today = await t.send('presidente', v.ipa, 'convention.send', {
      deliveredAt: '2026-03-11',
    });
    expect(today.status).toBe(200);
  });

  it('in force: status in_force, participants listed, nobody offered a second signature', async () => {
    const s = new Scenario(h, v.ipa, [c1, c2]);
    await s.start();
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    h.clock.set(new Date('2026-02-20T17:00:00Z'));
    await s.approve(v.ipa, '201', '2026-02-20', { ie: true });
    await s.approve(c1, '202', '2026-02-20', { ie: true });
    await s.approve(c2, '203', '2026-02-20', { ie: true });
    // 00:30 on 23 February in Rome (23:30 UTC on the 22nd): "today" in Rome is a valid signing date
    h.clock.set(new Date('2026-02-22T23:30:00Z'));
    for (const e of [c1, c2, v.ipa]) await s.sign(e, '2026-02-23');
    const read = await s.get();
    expect(read.body).toMatchObject({ state: 'IN_FORCE', status: 'in_force' });
    expect(read.body.data.participants).toEqual([v.ipa, c1, c2]);
    expect(types(read.body)).not.toContain('convention.sign');
    expect(types(read.body)).not.toContain('convention.adhesion.accept');
    const sindaco = await s.get('sindaco', c1);
    expect(types(sindaco.body)).not.toContain('convention.sign');
    const again = await s.send('sindaco', c1, 'convention.sign', {
      ente: c1,
      signedAt: '2026-02-23',
      signatureType: 'FIRMA_DIGITALE',
      digitalSignature: true,
    });
    expect(again.status).toBe(422);
    expect(again.body.details.rule).toBe('ALREADY_SIGNED');
    // the three signatures (23:30 UTC on the 22nd) are on the 23rd in Rome
    const auth = { Authorization: `Bearer ${await s.as('presidente')}` };
    const signed = await h
      .http()
      .get(`/v1/processes/${s.id}/history?type=convention.sign`)
      .set(auth);
    expect(signed.status).toBe(200);
    expect((signed.body as { occurredAt: string }[]).map((e) => e.occurredAt.slice(0, 16))).toEqual(
      Array(3).fill('2026-02-22T23:30'),
    );
    expect(read.body.data.entes[1].signature.signedAt).toBe('2026-02-22T23:00:00.000Z');
    // the list filter knows in_force too
    const listed = await h
      .http()
      .get('/v1/processes?status=in_force')
      .set('Authorization', `Bearer ${await s.as('presidente')}`);
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).toContain(s.id);
  });

  it('validation says what is wrong in plain words; errors carry no ETag, a process its version', async () => {
    const s = new Scenario(h, v.ipa, [c1, c2]);
    const created = await s.start();
    expect(created.headers['etag']).toBe('"1"');
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    const bad = await s.send('segretario', c1, 'convention.deliberation.record', {
      ente: c1,
      date: '20/02/2026',
      outcome: 'APPROVED',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect(bad.body.details.fields).toEqual(
      expect.arrayContaining([
        { field: 'payload.number', errors: ['required'] },
        { field: 'payload.date', errors: ['must be a date YYYY-MM-DD not after today in Rome'] },
      ]),
    );
    expect(bad.headers['etag']).toBeUndefined();
    const conflict = await s.send('presidente', v.ipa, 'convention.freeze', { text: 'x' });
    expect(conflict.status).toBe(409);
    expect(conflict.headers['etag']).toBeUndefined();
    const missing = await h
      .http()
      .get('/v1/processes/00000000-0000-4000-8000-000000000000')
      .set('Authorization', `Bearer ${await s.as('presidente')}`);
    expect(missing.status).toBe(404);
    expect(missing.headers['etag']).toBeUndefined();
    const read = await s.get();
    expect(read.headers['etag']).toBe(`"${read.body.version}"`);
  });
});
