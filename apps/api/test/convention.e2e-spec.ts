import { pareri, Scenario, sha256, unione } from '../../../test/support/scenario';
import { startHarness, type Harness } from '../../../test/support/harness';

/** DOMAIN.md §6.1: the Valdera happy path through the API, and the refusals a segretario meets. */
describe('convention approval, Valdera (e2e)', () => {
  let h: Harness;
  const v = unione('valdera');

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it('runs from the frozen text to the convention in force with 7 comuni, 3 of them with IE', async () => {
    const s = new Scenario(h, v.ipa, v.comuni);
    await s.start();
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    h.clock.set(new Date('2026-03-10T09:00:00Z'));
    const [a, b, c, ...others] = v.comuni as [string, string, string, ...string[]];
    await s.approve(a, '10', '2026-03-02', { ie: true });
    await s.approve(b, '11', '2026-03-03', { ie: true });
    await s.approve(c, '12', '2026-03-04', { ie: true });
    for (const [i, e] of others.entries()) await s.approve(e, String(20 + i), '2026-03-05');
    const unioneDelib = await s.approve(v.ipa, '35', '2026-03-06');
    expect(unioneDelib.body.state).toBe('APPROVED_ALL');

    // signing before every deliberation is executive is refused
    const early = await s.send('sindaco', a, 'convention.sign', {
      ente: a,
      signedAt: '2026-03-10T08:00:00Z',
      signatureType: 'FIRMA_DIGITALE',
      digitalSignature: true,
    });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('TRANSITION_NOT_ALLOWED');

    h.clock.set(new Date('2026-03-25T09:00:00Z'));
    for (const e of [...others, v.ipa]) await s.certify(e, '2026-03-09', '2026-03-20');
    const ready = await s.get();
    expect(ready.body.state).toBe('READY_TO_SIGN');
    const pontedera = ready.body.data.entes.find((e: { ente: string }) => e.ente === 'c_g843');
    expect(pontedera.executivity).toMatchObject({
      computedOn: '2026-03-20',
      certifiedOn: '2026-03-20',
      publicationEnd: '2026-03-23',
    });

    // a signature without firma digitale is void (art. 15 c.2-bis L. 241/1990)
    const void_ = await s.send('sindaco', a, 'convention.sign', {
      ente: a,
      signedAt: '2026-03-25T08:00:00Z',
      signatureType: 'FEA',
      digitalSignature: false,
    });
    expect(void_.status).toBe(422);
    expect(void_.body.details.rule).toBe('DIGITAL_SIGNATURE_REQUIRED');

    for (const e of [...v.comuni, v.ipa]) await s.sign(e, '2026-03-25T08:00:00Z');
    const done = await s.get();
    expect(done.body).toMatchObject({ state: 'IN_FORCE', status: 'in_force' });
    expect(done.body.data.inForceFrom).toBe('2026-03-25');
    // only the expiry of the 5-year term remains armed (day after 24 Mar 2031, 00:00 Rome)
    expect(done.body.timers).toEqual([
      { key: 'expiry:2031-03-24', kind: 'deadline', dueAt: '2031-03-24T23:00:00.000Z' },
    ]);
    const verify = await h
      .http()
      .get(`/v1/processes/${s.id}/history/verify`)
      .set('Authorization', `Bearer ${await s.as('auditor')}`);
    expect(verify.body).toMatchObject({ valid: true, events: 1 + 2 + 8 + 5 + 8 });
  });

  it('refuses a deliberation dated in the future or with a number already used, writing nothing', async () => {
    const s = new Scenario(h, v.ipa, v.comuni.slice(0, 2));
    await s.start();
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    const ente = v.comuni[0]!;
    const before = await s.eventCount();
    const future = await s.send('segretario', ente, 'convention.deliberation.record', {
      ente,
      number: '7',
      date: '2026-02-11',
      outcome: 'APPROVED',
      textHash: sha256('CONVENZIONE'),
    });
    expect(future.status).toBe(422);
    expect(future.body.details.rule).toBe('DELIBERATION_DATE_IN_FUTURE');
    await s.ok('segretario', ente, 'convention.deliberation.record', {
      ente,
      number: '7',
      date: '2026-02-09',
      outcome: 'SEDUTA_DESERTA',
    });
    const reused = await s.send('segretario', ente, 'convention.deliberation.record', {
      ente,
      number: '7',
      date: '2026-02-10',
      outcome: 'RINVIATA',
    });
    expect(reused.status).toBe(422);
    expect(reused.body.details.rule).toBe('DELIBERATION_NUMBER_USED');
    const wrongText = await s.send('segretario', ente, 'convention.deliberation.record', {
      ente,
      number: '8',
      date: '2026-02-10',
      outcome: 'APPROVED',
      textHash: sha256('un altro testo'),
      pareri: pareri('2026-02-01'),
    });
    expect(wrongText.status).toBe(422);
    expect(wrongText.body.details.rule).toBe('TEXT_HASH_MISMATCH');
    const ieMinority = await s.send('segretario', ente, 'convention.deliberation.record', {
      ente,
      number: '8',
      date: '2026-02-10',
      outcome: 'APPROVED',
      textHash: (await s.get()).body.data.text.sha256,
      pareri: pareri('2026-02-01'),
      immediatamenteEseguibile: true,
      ieVotes: { favorevoli: 6, contrari: 0, astenuti: 0, presenti: 6, assegnati: 13 },
    });
    expect(ieMinority.status).toBe(422);
    expect(ieMinority.body.details.rule).toBe('IE_MAJORITY_NOT_REACHED');
    expect(await s.eventCount()).toBe(before + 1);
  });

  it('fails the convention when a council rejects it under UNANIMITY', async () => {
    const s = new Scenario(h, v.ipa, v.comuni.slice(0, 2));
    await s.start();
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    const res = await s.ok('segretario', v.comuni[1]!, 'convention.deliberation.record', {
      ente: v.comuni[1],
      number: '3',
      date: '2026-02-09',
      outcome: 'REJECTED',
      pareri: pareri('2026-02-01'),
    });
    expect(res.body).toMatchObject({ state: 'FAILED', status: 'failed' });
    expect(res.body.allowedEvents).toEqual([]);
  });

  it('refuses members that do not belong to the unione and unknown entes', async () => {
    const s = new Scenario(h, v.ipa, ['c_b865']); // Casalbordino is in the Unione dei Miracoli
    await expect(s.start()).rejects.toThrow(/422.*NOT_A_MEMBER/);
    const t = new Scenario(h, v.ipa, ['c_z999']);
    await expect(t.start()).rejects.toThrow(/422.*ENTE_NOT_FOUND/);
  });
});

describe('deliberation numbers across processes (e2e)', () => {
  let h: Harness;
  const v = unione('valdera');
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it('refuses a number the comune already used for a council deliberation of the same year in another process', async () => {
    const first = new Scenario(h, v.ipa, v.comuni.slice(0, 2));
    await first.start(undefined, 'numbers-1');
    await first.freeze();
    await first.sendToCouncils('2026-02-05T10:00:00+01:00');
    await first.approve(v.comuni[0]!, '48', '2026-02-09');
    const second = new Scenario(h, v.ipa, v.comuni.slice(0, 2));
    await second.start(undefined, 'numbers-2');
    await second.freeze();
    await second.sendToCouncils('2026-02-05T10:00:00+01:00');
    const before = await second.eventCount();
    const reused = await second.send('segretario', v.comuni[0]!, 'convention.deliberation.record', {
      ente: v.comuni[0],
      number: '48/2026',
      date: '2026-02-09',
      outcome: 'RINVIATA',
    });
    expect(reused.status).toBe(422);
    expect(reused.body.details.rule).toBe('DELIBERATION_NUMBER_USED');
    expect(await second.eventCount()).toBe(before);
    // another comune, or the same number in another year, is fine
    await second.ok('segretario', v.comuni[1]!, 'convention.deliberation.record', {
      ente: v.comuni[1],
      number: '48',
      date: '2026-02-09',
      outcome: 'RINVIATA',
    });
  });
});
