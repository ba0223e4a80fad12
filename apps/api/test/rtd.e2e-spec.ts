import { ProcessEffectRunner } from '@app/engine';
import { eventually, startHarness, type Harness } from '../../../test/support/harness';
import { Scenario, unione } from '../../../test/support/scenario';
import {
  ALL_DECLARATIONS,
  CF_FIRST,
  CF_SECOND,
  candidatePayload,
  decreePayload,
} from '../../../test/factories/rtd.factory';

/**
 * The RTD appointment (issue 12, DOMAIN.md §3) over HTTP against the real server, with the real worker:
 * the convention's IN_FORCE step writes a startProcess effect, the worker opens the RTD process by itself;
 * Bassa Reggiana appoints its RTD and replaces it with no gap, IPA confirmed for all 9 entes; the 6-month
 * IPA re-check fires (injectable clock, Engine.fireTimer = the worker's code); the Unione dei Miracoli's
 * RTD serves its participants while the NON_ADERENTE comune gets its own-RTD task; a recesso reaches the RTD
 * on its effective date; starts and decrees refused with stable codes.
 */
describe('RTD appointment (e2e)', () => {
  let h: Harness;
  const br = unione('bassa-reggiana');
  const m = unione('miracoli');

  beforeAll(async () => {
    h = await startHarness({ worker: true });
  });
  afterAll(async () => h.close());

  async function toInForce(s: Scenario, entes: string[], policy?: Record<string, unknown>) {
    await s.start(policy);
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    h.clock.set(new Date('2026-03-10T09:00:00Z'));
    for (const [i, e] of entes.entries())
      await s.approve(e, String(40 + i), '2026-03-02', { ie: true });
    h.clock.set(new Date('2026-03-12T09:00:00Z'));
    for (const e of entes) await s.sign(e, '2026-03-12T08:00:00Z');
  }

  /** the RTD process the worker opened for a convention (through the link shown on the convention) */
  async function rtdOf(s: Scenario): Promise<Scenario> {
    const link = await eventually(async () => {
      const res = await s.get();
      return (res.body.links as { relation: string; instanceId: string }[] | undefined)?.find(
        (l) => l.relation === 'rtd',
      );
    });
    const r = new Scenario(h, s.unioneIpa, s.members);
    r.id = link.instanceId;
    return r;
  }

  const appointeeToken = (cf: string, unioneIpa: string) =>
    h.token({ roles: ['appointee'], ente: unioneIpa, unione: unioneIpa, sub: cf });

  async function sendAs(
    r: Scenario,
    token: string,
    type: string,
    payload: Record<string, unknown>,
  ) {
    return h
      .http()
      .post(`/v1/processes/${r.id}/events`)
      .set('Authorization', `Bearer ${token}`)
      .send({ type, payload });
  }

  async function fire(instanceId: string, key: string): Promise<string> {
    const rows: { id: string }[] = await h.ds.query(
      `SELECT id FROM timer WHERE instance_id = $1 AND key = $2 AND status = 'armed'`,
      [instanceId, key],
    );
    if (!rows[0]) throw new Error(`no armed timer ${key}`);
    const out = await h.engine.fireTimer(rows[0].id);
    return typeof out === 'string' ? out : `early ${out.early.toISOString()}`;
  }

  async function confirmIpa(r: Scenario, entes: string[], on: string) {
    for (const e of entes)
      await r.ok('segretario', e, 'rtd.ipa.confirm', {
        ente: e,
        registeredOn: on,
        reference: `uo_rtd_${e}`,
      });
  }

  it('refuses an RTD start while the convention is not in force, or for no convention', async () => {
    const s = new Scenario(h, br.ipa, br.comuni);
    await s.start(undefined, 'br-draft');
    const token = await s.as('presidente');
    const draft = await h
      .http()
      .post('/v1/processes')
      .set('Authorization', `Bearer ${token}`)
      .send({ definition: 'rtd', input: { convention: s.id } });
    expect(draft.status).toBe(422);
    expect(draft.body).toMatchObject({
      code: 'RULE_VIOLATION',
      details: { rule: 'CONVENTION_NOT_IN_FORCE', conventionState: 'DRAFT' },
    });
    const none = await h
      .http()
      .post('/v1/processes')
      .set('Authorization', `Bearer ${token}`)
      .send({ definition: 'rtd', input: { convention: '3f1c2a6e-0000-4000-8000-000000000000' } });
    expect(none.status).toBe(422);
    expect(none.body.details.rule).toBe('PREREQUISITE_NOT_FOUND');
    const bad = await h
      .http()
      .post('/v1/processes')
      .set('Authorization', `Bearer ${token}`)
      .send({ definition: 'rtd', input: { convention: 'not-a-uuid', extra: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    const rtds: { n: number }[] = await h.ds.query(
      `SELECT count(*)::int AS n FROM process_instance WHERE definition_key = 'rtd' AND business_key = $1`,
      [`rtd:${s.id}`],
    );
    expect(rtds[0]!.n).toBe(0);
  });

  it('Bassa Reggiana: the RTD opens by itself once the convention is in force, is appointed, then replaced with no gap; IPA for all 9 entes; the 6-month re-check fires', async () => {
    const entes = [br.ipa, ...br.comuni];
    expect(entes).toHaveLength(9);
    const s = new Scenario(h, br.ipa, br.comuni);
    await toInForce(s, entes);
    expect((await s.get()).body.state).toBe('IN_FORCE');

    // opened by itself, exactly once, and linked both ways
    const r = await rtdOf(s);
    const rtdView = await r.get();
    expect(rtdView.body).toMatchObject({
      definition: { key: 'rtd', version: 1 },
      state: 'VACANT',
      businessKey: `rtd:${s.id}`,
      links: [{ relation: 'rtd', direction: 'from', instanceId: s.id, definition: 'convenzione' }],
    });
    expect(rtdView.body.data.entes.map((e: { ente: string }) => e.ente)).toEqual(entes);
    expect(rtdView.body.data.vacancy).toMatchObject({ since: '2026-03-12', reason: 'AVVIO' });
    const convView = await s.get();
    expect(convView.body.links).toEqual([
      expect.objectContaining({
        relation: 'rtd',
        direction: 'to',
        instanceId: r.id,
        state: 'VACANT',
      }),
    ]);
    const effects: { status: string; kind: string }[] = await h.ds.query(
      `SELECT status, kind FROM process_effect WHERE instance_id = $1`,
      [s.id],
    );
    expect(effects).toEqual([{ status: 'done', kind: 'startProcess' }]);
    // a second start for the same convention is refused: one RTD process per convention
    const again = await h
      .http()
      .post('/v1/processes')
      .set('Authorization', `Bearer ${await s.as('presidente')}`)
      .send({ definition: 'rtd', input: { convention: s.id } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ALREADY_EXISTS');
    // the vacancy alert went out at once to the Unione
    const inbox = await h
      .http()
      .get('/v1/notifications')
      .set('Authorization', `Bearer ${await s.as('presidente')}`);
    expect(inbox.body.map((n: { template: string }) => n.template)).toContain('rtd.vacancy');

    // a candidate without the declarations: the decree is refused, naming the requirement
    h.clock.set(new Date('2026-03-20T09:00:00Z'));
    await r.ok(
      'staff',
      br.ipa,
      'rtd.candidate.select',
      candidatePayload({ declarations: { incompatibilita: true } }),
    );
    const before = r.version;
    const refused = await r.send(
      'presidente',
      br.ipa,
      'rtd.decree.issue',
      decreePayload(
        { act: { type: 'DECRETO', number: '3', date: '2026-03-20' }, startDate: '2026-04-01' },
        entes,
      ),
    );
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({
      code: 'RULE_VIOLATION',
      details: { rule: 'RTD_REQUIREMENT_MISSING', requirement: 'dichiarazioni.inconferibilita' },
    });
    expect((await r.get()).body.version).toBe(before);
    // a codice fiscale that is not a person's is refused by validation
    const badCf = await r.send(
      'staff',
      br.ipa,
      'rtd.candidate.select',
      candidatePayload({ codiceFiscale: 'RSSMRA75C12E253A' }),
    );
    expect(badCf.status).toBe(400);
    expect(badCf.body.details.fields[0].field).toBe('payload.codiceFiscale');

    await r.ok('staff', br.ipa, 'rtd.candidate.select', candidatePayload());
    const staffDecree = await r.send('staff', br.ipa, 'rtd.decree.issue', decreePayload({}, entes));
    expect(staffDecree.status).toBe(403); // the presidente issues decrees
    const decree1 = {
      act: { type: 'DECRETO', number: '3', date: '2026-03-20' },
      startDate: '2026-04-01',
    };
    const appointed = await r.ok(
      'presidente',
      br.ipa,
      'rtd.decree.issue',
      decreePayload(decree1, entes),
    );
    expect(appointed.body.state).toBe('APPOINTED');
    expect(appointed.body.data.current).toMatchObject({
      startDate: '2026-04-01',
      endDate: '2028-03-31',
    });
    expect(appointed.body.data.vacancies).toEqual([
      { since: '2026-03-12', filledOn: '2026-04-01', days: 20, reason: 'AVVIO' },
    ]);

    // only the person named may accept (token sub = their codice fiscale)
    h.clock.set(new Date('2026-03-21T09:00:00Z'));
    await r.ok('staff', br.ipa, 'rtd.notification.record', {
      deliveredAt: '2026-03-21T10:00:00+01:00',
    });
    const mario = await appointeeToken(CF_FIRST, br.ipa);
    const laura = await appointeeToken(CF_SECOND, br.ipa);
    const mine = await h
      .http()
      .get(`/v1/processes/${r.id}`)
      .set('Authorization', `Bearer ${mario}`);
    expect(mine.body.allowedEvents.map((e: { type: string }) => e.type).sort()).toEqual([
      'rtd.accept',
      'rtd.decline',
    ]);
    const notMine = await sendAs(r, laura, 'rtd.accept', ALL_DECLARATIONS);
    expect(notMine.status).toBe(403);
    expect(notMine.body.code).toBe('FORBIDDEN');
    const accepted = await sendAs(r, mario, 'rtd.accept', ALL_DECLARATIONS);
    expect(accepted.status).toBe(200);
    expect(accepted.body.state).toBe('ACCEPTED');

    // staff record publication; the presidente may not
    h.clock.set(new Date('2026-03-23T09:00:00Z'));
    const pres = await r.send('presidente', br.ipa, 'rtd.publication.record', {
      channel: 'ALBO',
      date: '2026-03-23',
      reference: 'Albo 140/2026',
    });
    expect(pres.status).toBe(403);
    await r.ok('staff', br.ipa, 'rtd.publication.record', {
      channel: 'ALBO',
      date: '2026-03-23',
      reference: 'Albo 140/2026',
    });
    const published = await r.ok('staff', br.ipa, 'rtd.publication.record', {
      channel: 'AMMINISTRAZIONE_TRASPARENTE',
      date: '2026-03-23',
      reference: 'AT › Organizzazione › Articolazione degli uffici',
    });
    expect(published.body.state).toBe('PUBLISHED');
    expect(published.body.pendingEntes).toEqual(entes);
    expect(
      published.body.timers.filter((t: { key: string }) => t.key.startsWith('ipa:')),
    ).toHaveLength(9);

    // each segretario confirms its own ente's IPA registration, and only its own
    const [boretto, brescello] = br.comuni as [string, string];
    const other = await r.send('segretario', boretto, 'rtd.ipa.confirm', {
      ente: brescello,
      registeredOn: '2026-03-23',
    });
    expect(other.status).toBe(403);
    h.clock.set(new Date('2026-03-25T09:00:00Z'));
    await confirmIpa(r, entes.slice(0, 8), '2026-03-24');
    expect((await r.get()).body.state).toBe('PUBLISHED'); // ACTIVE only when all 9 are done
    await confirmIpa(r, entes.slice(8), '2026-03-24');
    const active = await r.get();
    expect(active.body.state).toBe('ACTIVE');
    expect(
      active.body.data.entes.every((e: { branch: string }) => e.branch === 'IPA_REGISTERED'),
    ).toBe(true);
    expect(active.body.data.nextIpaCheck).toBe('2026-09-25');

    // the 6-month IPA re-check fires by the clock (2026-09-25 09:00 Rome), then all 9 confirm again
    h.clock.set(new Date('2026-09-25T08:00:00Z'));
    expect(await fire(r.id, 'ipa-recheck')).toBe('fired');
    const recheck = await r.get();
    expect(recheck.body.state).toBe('ACTIVE');
    expect(recheck.body.pendingEntes).toEqual(entes);
    expect(
      recheck.body.data.entes.every((e: { branch: string }) => e.branch === 'RECHECK_DUE'),
    ).toBe(true);
    h.clock.set(new Date('2026-09-28T09:00:00Z'));
    await confirmIpa(r, entes, '2026-09-28');
    const rechecked = await r.get();
    expect(rechecked.body.pendingEntes).toEqual([]);
    expect(rechecked.body.data.lastIpaCheck).toBe('2026-09-28');
    const hist = await r.history();
    expect(hist.body.find((e: { type: string }) => e.type === 'rtd.ipa.recheck')).toMatchObject({
      actor: { subject: 'system', role: 'system' },
    });

    // replacement with no gap: the successor's decree with start D ends Mario Rossi on D-1
    h.clock.set(new Date('2027-09-01T09:00:00Z'));
    await r.ok(
      'staff',
      br.ipa,
      'rtd.candidate.select',
      candidatePayload({
        name: 'Laura Bianchi',
        codiceFiscale: CF_SECOND,
        pec: 'laura.bianchi@pec.bassareggiana.invalid',
        incaricoEnd: '2030-12-31',
      }),
    );
    const reused = await r.send(
      'presidente',
      br.ipa,
      'rtd.decree.issue',
      decreePayload(
        { act: { type: 'DECRETO', number: '3', date: '2026-12-01' }, startDate: '2027-10-01' },
        entes,
      ),
    );
    expect(reused.status).toBe(422);
    expect(reused.body.details.rule).toBe('DELIBERATION_NUMBER_USED'); // decreto n. 3/2026 exists
    const replaced = await r.ok(
      'presidente',
      br.ipa,
      'rtd.decree.issue',
      decreePayload(
        { act: { type: 'DECRETO', number: '15', date: '2027-09-01' }, startDate: '2027-10-01' },
        entes,
      ),
    );
    expect(replaced.body.state).toBe('APPOINTED');
    expect(replaced.body.data.past).toEqual([
      expect.objectContaining({
        seq: 1,
        startDate: '2026-04-01',
        endedOn: '2027-09-30',
        endReason: 'SOSTITUZIONE',
      }),
    ]);
    expect(replaced.body.data.current).toMatchObject({ seq: 2, startDate: '2027-10-01' });
    expect(replaced.body.data.vacancy).toBeNull();
    expect(replaced.body.data.rtdInOffice).toMatchObject({ seq: 1 }); // still Mario Rossi until 30 Sep
    // Mario Rossi is no longer the person named; Laura Bianchi is
    expect((await sendAs(r, mario, 'rtd.accept', ALL_DECLARATIONS)).status).toBe(403);
    expect((await sendAs(r, laura, 'rtd.accept', ALL_DECLARATIONS)).status).toBe(200);
    h.clock.set(new Date('2027-09-03T09:00:00Z'));
    await r.ok('staff', br.ipa, 'rtd.publication.record', {
      channel: 'ALBO',
      date: '2027-09-03',
      reference: 'Albo 301/2027',
    });
    await r.ok('staff', br.ipa, 'rtd.publication.record', {
      channel: 'AMMINISTRAZIONE_TRASPARENTE',
      date: '2027-09-03',
      reference: 'AT',
    });
    await confirmIpa(r, entes, '2027-09-03');
    h.clock.set(new Date('2027-10-01T09:00:00Z'));
    const second = await r.get();
    expect(second.body.state).toBe('ACTIVE');
    expect(second.body.data.rtdInOffice).toMatchObject({ seq: 2, codiceFiscale: CF_SECOND });
    expect(second.body.data.entes.map((e: { branch: string }) => e.branch)).toEqual(
      entes.map(() => 'IPA_REGISTERED'),
    );
    // no day without an RTD: the first ends the day before the second starts
    const [first] = second.body.data.past as { endedOn: string }[];
    const dayAfter = new Date(`${first!.endedOn}T00:00:00Z`);
    dayAfter.setUTCDate(dayAfter.getUTCDate() + 1);
    expect(dayAfter.toISOString().slice(0, 10)).toBe(second.body.data.current.startDate);
    const verify = await h
      .http()
      .get(`/v1/processes/${r.id}/history/verify`)
      .set('Authorization', `Bearer ${await r.as('presidente')}`);
    expect(verify.body.valid).toBe(true);
  });

  it('Unione dei Miracoli: the RTD serves the 3 comuni and the Unione, Villalfonsina (NON_ADERENTE) gets its own-RTD task; a recesso reaches the RTD on its effective date', async () => {
    const villalfonsina = m.fixture.comuni.find(
      (c) => c.denominazione === 'Villalfonsina',
    )!.codiceIpa;
    const scerni = m.fixture.comuni.find((c) => c.denominazione === 'Scerni')!.codiceIpa;
    const others = m.comuni.filter((c) => c !== villalfonsina);
    const s = new Scenario(h, m.ipa, m.comuni);
    await s.start({ approval: 'QUORUM', quorumMinEntes: 3, minComuni: 2 });
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    h.clock.set(new Date('2026-03-10T09:00:00Z'));
    for (const [i, e] of [...others, m.ipa].entries())
      await s.approve(e, String(50 + i), '2026-03-02', { ie: true });
    for (const at of ['2026-04-08T08:00:00Z', '2026-05-08T08:00:00Z']) {
      h.clock.set(new Date(at));
      await fire(s.id, `deadline:${villalfonsina}`);
    }
    for (const e of [...others, m.ipa]) await s.sign(e, '2026-05-08T07:00:00Z');
    expect((await s.get()).body.state).toBe('IN_FORCE');

    const r = await rtdOf(s);
    const view = await r.get();
    expect(view.body.data.entes.map((e: { ente: string }) => e.ente)).toEqual([m.ipa, ...others]);
    expect(view.body.data.tasks).toEqual([
      expect.objectContaining({
        ente: villalfonsina,
        text: expect.stringContaining('proprio RTD'),
      }),
    ]);
    // Villalfonsina takes no part: its segretario cannot act on the RTD
    const outsider = await r.send('segretario', villalfonsina, 'rtd.ipa.confirm', {
      ente: villalfonsina,
      registeredOn: '2026-05-08',
    });
    expect(outsider.status).toBe(403);

    // Scerni withdraws (recesso effective 1 Jan 2027): the RTD stops serving it on that very date
    h.clock.set(new Date('2026-06-01T09:00:00Z'));
    await s.ok('segretario', scerni, 'convention.recesso.record', {
      ente: scerni,
      number: '77',
      date: '2026-06-01',
      effectiveDate: '2027-01-01',
    });
    h.clock.set(new Date('2027-01-01T08:00:00Z'));
    expect(await fire(s.id, `recesso:${scerni}`)).toBe('fired');
    const withdrawn = await eventually(async () => {
      const res = await r.get();
      const row = res.body.data.entes.find((e: { ente: string }) => e.ente === scerni);
      return row.branch === 'WITHDRAWN' ? res : null;
    });
    expect(
      withdrawn.body.data.entes.find((e: { ente: string }) => e.ente === scerni),
    ).toMatchObject({
      served: false,
      servedUntil: '2026-12-31',
    });
    expect(withdrawn.body.data.tasks.at(-1)).toMatchObject({
      ente: scerni,
      text: expect.stringContaining('dal 2027-01-01'),
    });
    const hist = await r.history();
    const signal = hist.body.find((e: { type: string }) => e.type === 'rtd.ente.withdraw');
    expect(signal).toMatchObject({
      actor: { role: 'system' },
      payload: { ente: scerni, date: '2027-01-01' },
    });
    expect(signal.occurredAt.slice(0, 10)).toBe('2027-01-01');
    const inbox = await h
      .http()
      .get('/v1/notifications')
      .set('Authorization', `Bearer ${await r.as('sindaco', scerni)}`);
    expect(inbox.body.map((n: { template: string }) => n.template)).toContain(
      'rtd.own-rtd-required',
    );
  });

  it('Valdera: a late adhesion adds Chianni to the RTD with its own IPA term; the convention’s expiry ends the appointment', async () => {
    const v = unione('valdera');
    const chianni = v.fixture.comuni.find((c) => c.joinedLater)!.codiceIpa;
    const entes = [v.ipa, ...v.comuni];
    const s = new Scenario(h, v.ipa, v.comuni);
    await toInForce(s, entes, { durationYears: 1 });
    const r = await rtdOf(s);
    // appoint the RTD up to ACTIVE
    h.clock.set(new Date('2026-03-20T09:00:00Z'));
    await r.ok('staff', v.ipa, 'rtd.candidate.select', candidatePayload());
    await r.ok(
      'presidente',
      v.ipa,
      'rtd.decree.issue',
      decreePayload(
        {
          act: { type: 'DECRETO', number: '4', date: '2026-03-20' },
          startDate: '2026-04-01',
          durationMonths: 24,
        },
        entes,
      ),
    );
    expect(
      (await sendAs(r, await appointeeToken(CF_FIRST, v.ipa), 'rtd.accept', ALL_DECLARATIONS))
        .status,
    ).toBe(200);
    for (const channel of ['ALBO', 'AMMINISTRAZIONE_TRASPARENTE'])
      await r.ok('staff', v.ipa, 'rtd.publication.record', {
        channel,
        date: '2026-03-20',
        reference: 'x',
      });
    await confirmIpa(r, entes, '2026-03-20');
    expect((await r.get()).body.state).toBe('ACTIVE');

    // Chianni joins the convention in force: when its addendum is signed, the RTD serves it too
    h.clock.set(new Date('2026-06-01T09:00:00Z'));
    await s.ok('presidente', v.ipa, 'convention.adhesion.open', { ente: chianni });
    await s.approve(chianni, '5', '2026-06-01', { ie: true });
    await s.ok('presidente', v.ipa, 'convention.adhesion.accept', {
      ente: chianni,
      number: '12',
      date: '2026-06-01',
    });
    await s.ok('sindaco', chianni, 'convention.sign', {
      ente: chianni,
      signedAt: '2026-06-01T08:30:00Z',
      signatureType: 'FIRMA_DIGITALE',
      digitalSignature: true,
    });
    const joined = await eventually(async () => {
      const res = await r.get();
      return res.body.data.entes.some((e: { ente: string }) => e.ente === chianni) ? res : null;
    });
    expect(joined.body.state).toBe('ACTIVE');
    expect(joined.body.data.entes.at(-1)).toMatchObject({
      ente: chianni,
      denominazione: 'Chianni',
      branch: 'IPA_PENDING',
      servedFrom: '2026-06-01',
      ipaDeadline: { date: '2026-06-16' },
    });
    expect(joined.body.pendingEntes).toEqual([chianni]);
    expect(joined.body.timers.map((t: { key: string }) => t.key)).toContain(`ipa:${chianni}`);
    await r.ok('segretario', chianni, 'rtd.ipa.confirm', {
      ente: chianni,
      registeredOn: '2026-06-01',
    });

    // the convention expires without renewal: the RTD's appointment ends the day before, every comune gets a task
    h.clock.set(new Date('2027-03-12T08:00:00Z'));
    expect(await fire(s.id, 'expiry:2027-03-11')).toBe('fired');
    expect((await s.get()).body.state).toBe('EXPIRED');
    const ended = await eventually(async () => {
      const res = await r.get();
      return res.body.state === 'ENDED' ? res : null;
    });
    expect(ended.body.status).toBe('terminated');
    expect(ended.body.data.past.at(-1)).toMatchObject({
      endReason: 'FINE_CONVENZIONE',
      endedOn: '2027-03-11',
    });
    expect(ended.body.data.tasks.map((t: { ente: string }) => t.ente)).toEqual(
      expect.arrayContaining([...v.comuni, chianni]),
    );
    expect(ended.body.timers).toEqual([]);
  });

  it('carries each effect out once: a second run, or a run after the row is reset, starts nothing new', async () => {
    const vc = unione('valle-di-comino');
    const s = new Scenario(h, vc.ipa, vc.comuni);
    await toInForce(s, [vc.ipa, ...vc.comuni]);
    const r = await rtdOf(s);
    const [effect]: { id: string }[] = await h.ds.query(
      `SELECT id FROM process_effect WHERE instance_id = $1 AND kind = 'startProcess'`,
      [s.id],
    );
    const runner = h.app.get(ProcessEffectRunner);
    expect(await runner.run(effect!.id)).toBe('already-done');
    // as if the row had been lost in between: the link and the business key still prevent a second start
    await h.ds.query(`UPDATE process_effect SET status = 'pending' WHERE id = $1`, [effect!.id]);
    expect(await runner.run(effect!.id)).toBe('duplicate-start');
    const rtds: { id: string }[] = await h.ds.query(
      `SELECT id FROM process_instance WHERE definition_key = 'rtd' AND business_key = $1`,
      [`rtd:${s.id}`],
    );
    expect(rtds.map((x) => x.id)).toEqual([r.id]);

    // the diagrams: generated from the machines, the instance's current state marked
    const auth = `Bearer ${await s.as('presidente')}`;
    const rtdDef = await h.http().get('/v1/definitions/rtd/diagram').set('Authorization', auth);
    expect(rtdDef.status).toBe(200);
    expect(rtdDef.headers['content-type']).toMatch(/^text\/plain/);
    expect(rtdDef.text).toMatch(/^stateDiagram-v2\n/);
    expect(rtdDef.text).toContain(
      'IN_OFFICE__ACTIVE__SERVING --> IN_OFFICE__ACTIVE__RECHECKING : rtd.ipa.recheck',
    );
    const convDef = await h
      .http()
      .get('/v1/definitions/convenzione/diagram')
      .set('Authorization', auth);
    expect(convDef.text).toContain('SIGNED --> IN_FORCE : convention.decorrenza.reach');
    const rtdInst = await h.http().get(`/v1/processes/${r.id}/diagram`).set('Authorization', auth);
    expect(rtdInst.status).toBe(200);
    expect(rtdInst.text).toContain('class VACANT current');
    expect(rtdInst.text).toContain(`${vc.ipa}, ${vc.comuni.join(', ')}`);
    const convInst = await h.http().get(`/v1/processes/${s.id}/diagram`).set('Authorization', auth);
    expect(convInst.text).toContain('class IN_FORCE current');
    const unknown = await h.http().get('/v1/definitions/nope/diagram').set('Authorization', auth);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('DEFINITION_NOT_FOUND');
    const stranger = await h
      .http()
      .get(`/v1/processes/${r.id}/diagram`)
      .set('Authorization', `Bearer ${await s.as('presidente', 'u_valdera', 'u_valdera')}`);
    expect(stranger.status).toBe(404);
    expect(stranger.body.code).toBe('PROCESS_NOT_FOUND');
  });
});
