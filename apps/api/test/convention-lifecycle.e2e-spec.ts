import { CONVENTION_TEXT, pareri, Scenario, sha256, unione } from '../../../test/support/scenario';
import { startHarness, type Harness } from '../../../test/support/harness';

/** DOMAIN.md §6 scenarios over HTTP: amendment loop, QUORUM with a council that never deliberates, late adhesion,
 *  recesso, renewal and expiry. Timers are fired through Engine.fireTimer, the code the worker runs. */
describe('convention lifecycle (e2e)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true });
  });
  afterAll(async () => h.close());

  /** fire every armed timer of the instance that is due by the engine clock, in due order */
  async function fireDue(s: Scenario): Promise<string[]> {
    const rows: { id: string; key: string }[] = await h.ds.query(
      `SELECT id, key FROM timer WHERE instance_id = $1 AND status = 'armed' AND due_at <= $2 ORDER BY due_at, key`,
      [s.id, h.clock.now().toISOString()],
    );
    const fired: string[] = [];
    for (const r of rows) if ((await h.engine.fireTimer(r.id)) === 'fired') fired.push(r.key);
    return fired;
  }

  async function toInForce(s: Scenario, entes: string[], ieAll = true) {
    h.clock.set(new Date('2026-03-10T09:00:00Z'));
    for (const [i, e] of entes.entries())
      await s.approve(e, String(40 + i), '2026-03-02', { ie: ieAll });
    h.clock.set(new Date('2026-03-12T09:00:00Z'));
    for (const e of entes) await s.sign(e, '2026-03-12T08:00:00Z');
  }

  it('Valle di Comino: Settefrati amends v1, v2 is frozen, earlier approvals go back to pending', async () => {
    const vc = unione('valle-di-comino');
    const [alvito, gallinaro, sanDonato, settefrati, vicalvi] = vc.comuni as [
      string,
      string,
      string,
      string,
      string,
    ];
    const s = new Scenario(h, vc.ipa, vc.comuni);
    await s.start();
    await s.freeze();
    const sent = await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    // 60 days from Thu 5 Feb 2026 end on Easter Monday 6 Apr: the term moves to Tue 7 Apr
    expect(sent.body.data.entes[1].deadline.date).toBe('2026-04-07');
    h.clock.set(new Date('2026-03-01T09:00:00Z'));
    await s.approve(alvito, '10', '2026-02-20');
    await s.approve(gallinaro, '11', '2026-02-21');
    await s.approve(sanDonato, '12', '2026-02-22');
    const textV2 = `${CONVENTION_TEXT}\nArt. 7 Referente comunale per la transizione digitale.`;
    const amended = await s.ok('segretario', settefrati, 'convention.deliberation.record', {
      ente: settefrati,
      number: '13',
      date: '2026-02-26',
      outcome: 'APPROVED_WITH_AMENDMENTS',
      amendments: 'Aggiunto art. 7 sul referente comunale',
      textHash: sha256(textV2),
      pareri: pareri('2026-02-20'),
    });
    expect(amended.body.state).toBe('AMENDMENT_PENDING');
    expect(amended.body.timers).toEqual([]); // terms are suspended while the amendment is examined

    const accepted = await s.ok('gruppo_lavoro', vc.ipa, 'convention.amendment.accept', {
      text: textV2,
    });
    expect(accepted.body.state).toBe('FROZEN');
    expect(accepted.body.data.text).toMatchObject({ version: 2, sha256: sha256(textV2) });
    const rows = Object.fromEntries(
      accepted.body.data.entes.map((e: { ente: string; status: string }) => [e.ente, e.status]),
    );
    expect(rows).toMatchObject({
      [alvito]: 'INVITED',
      [gallinaro]: 'INVITED',
      [sanDonato]: 'INVITED',
      [settefrati]: 'APPROVED',
      [vicalvi]: 'INVITED',
    });
    // the v1 approvals stay in the history of each ente
    const alvitoRow = accepted.body.data.entes.find((e: { ente: string }) => e.ente === alvito);
    expect(alvitoRow.sessions.map((d: { number: string }) => d.number)).toEqual(['10']);

    // approving v1 again is refused: the text approved must be the current version
    h.clock.set(new Date('2026-03-05T09:00:00Z'));
    await s.ok('presidente', vc.ipa, 'convention.send', {
      deliveredAt: '2026-03-04T10:00:00+01:00',
    });
    const stale = await s.send('segretario', alvito, 'convention.deliberation.record', {
      ente: alvito,
      number: '20',
      date: '2026-03-05',
      outcome: 'APPROVED',
      textHash: sha256(CONVENTION_TEXT),
      pareri: pareri('2026-03-01'),
    });
    expect(stale.status).toBe(422);
    expect(stale.body.details.rule).toBe('TEXT_HASH_MISMATCH');
    for (const [i, e] of [alvito, gallinaro, sanDonato, vicalvi, vc.ipa].entries()) {
      await s.approve(e, String(30 + i), '2026-03-05', { text: textV2, ie: true });
    }
    const afterAll = await s.get();
    expect(afterAll.body.state).toBe('APPROVED_ALL'); // Settefrati still needs executivity
    h.clock.set(new Date('2026-03-20T09:00:00Z'));
    await s.certify(settefrati, '2026-03-02', '2026-03-13');
    expect((await s.get()).body.state).toBe('READY_TO_SIGN');
  });

  it('Unione dei Miracoli under QUORUM(3): Villalfonsina never deliberates, is extended once, then NON_ADERENTE', async () => {
    const m = unione('miracoli');
    const villalfonsina = m.fixture.comuni.find(
      (c) => c.denominazione === 'Villalfonsina',
    )!.codiceIpa;
    const others = m.comuni.filter((c) => c !== villalfonsina);
    const s = new Scenario(h, m.ipa, m.comuni);
    await s.start({ approval: 'QUORUM', quorumMinEntes: 3 });
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    h.clock.set(new Date('2026-03-10T09:00:00Z'));
    for (const [i, e] of [...others, m.ipa].entries())
      await s.approve(e, String(50 + i), '2026-03-02', { ie: true });
    expect((await s.get()).body.state).toBe('IN_DELIBERATION');

    h.clock.set(new Date('2026-04-08T08:00:00Z')); // past Tue 7 Apr 23:59:59 Rome
    expect(await fireDue(s)).toContain(`deadline:${villalfonsina}`);
    const extended = await s.get();
    const row = extended.body.data.entes.find((e: { ente: string }) => e.ente === villalfonsina);
    expect(row.status).toBe('INVITED');
    expect(row.deadline).toMatchObject({ date: '2026-05-07', extensions: 1 }); // 7 Apr + 30 days

    h.clock.set(new Date('2026-05-08T08:00:00Z'));
    expect(await fireDue(s)).toContain(`deadline:${villalfonsina}`);
    const partial = await s.get();
    expect(partial.body.state).toBe('READY_TO_SIGN');
    const out = partial.body.data.entes.find((e: { ente: string }) => e.ente === villalfonsina);
    expect(out.status).toBe('NON_ADERENTE');
    expect(partial.body.data.tasks).toEqual([
      expect.objectContaining({
        ente: villalfonsina,
        text: expect.stringContaining('deve nominare un proprio RTD'),
      }),
    ]);
    // Villalfonsina has nothing to sign; the 3 comuni and the Unione do
    const late = await s.send('sindaco', villalfonsina, 'convention.sign', {
      ente: villalfonsina,
      signedAt: '2026-05-08T07:00:00Z',
      signatureType: 'FIRMA_DIGITALE',
      digitalSignature: true,
    });
    expect(late.status).toBe(422);
    for (const e of [...others, m.ipa]) await s.sign(e, '2026-05-08T07:00:00Z');
    const inForce = await s.get();
    expect(inForce.body.state).toBe('IN_FORCE');
    expect(
      inForce.body.data.entes.filter((e: { status: string }) => e.status === 'SIGNED'),
    ).toHaveLength(4);
    const inbox = await h
      .http()
      .get('/v1/notifications')
      .set('Authorization', `Bearer ${await s.as('segretario', villalfonsina)}`);
    expect(inbox.body.map((n: { template: string }) => n.template)).toContain(
      'convention.non-aderente',
    );
  });

  it('fails under QUORUM when too many councils reject', async () => {
    const m = unione('miracoli');
    const s = new Scenario(h, m.ipa, m.comuni);
    await s.start({ approval: 'QUORUM', quorumMinEntes: 3 }, 'quorum-fail');
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    for (const [i, e] of m.comuni.slice(0, 2).entries()) {
      await s.ok('segretario', e, 'convention.deliberation.record', {
        ente: e,
        number: String(i + 1),
        date: '2026-02-09',
        outcome: 'REJECTED',
        pareri: pareri('2026-02-06'),
      });
    }
    const failed = await s.get();
    expect(failed.body).toMatchObject({ state: 'FAILED', status: 'failed' });
    expect(failed.body.data.closedReason).toContain('quorum non raggiunto');
  });

  it('Valdera: Chianni joins the convention in force, then Buti withdraws (recesso) with its own RTD task', async () => {
    const v = unione('valdera');
    const chianni = v.fixture.comuni.find((c) => c.joinedLater)!.codiceIpa;
    const buti = v.comuni[1]!;
    const s = new Scenario(h, v.ipa, v.comuni);
    await s.start(undefined, 'valdera-adhesion');
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    await toInForce(s, [...v.comuni, v.ipa]);
    const inForce = await s.get();
    expect(inForce.body).toMatchObject({ state: 'IN_FORCE' });
    expect(inForce.body.data.expiresOn).toBe('2031-03-11'); // 5 years from 12 Mar 2026

    // Chianni's segretario cannot act before the adhesion is opened
    const early = await s.send('segretario', chianni, 'convention.deliberation.record', {
      ente: chianni,
      number: '1',
      date: '2026-03-12',
      outcome: 'APPROVED',
      textHash: sha256(CONVENTION_TEXT),
      pareri: pareri('2026-03-10'),
    });
    expect(early.status).toBe(403);
    h.clock.set(new Date('2027-03-01T09:00:00Z'));
    const opened = await s.ok('presidente', v.ipa, 'convention.adhesion.open', { ente: chianni });
    expect(opened.body.data.entes.at(-1)).toMatchObject({
      ente: chianni,
      denominazione: 'Chianni',
      joining: true,
      status: 'INVITED',
    });
    expect(opened.body.timers.some((t: { key: string }) => t.key === `deadline:${chianni}`)).toBe(
      true,
    );
    const foreign = await s.send('presidente', v.ipa, 'convention.adhesion.open', {
      ente: 'c_b865',
    });
    expect(foreign.status).toBe(422);
    expect(foreign.body.details.rule).toBe('NOT_A_MEMBER');
    // a founding comune cannot record another approval while the convention is in force
    const founder = await s.send('segretario', buti, 'convention.deliberation.record', {
      ente: buti,
      number: '99',
      date: '2027-03-01',
      outcome: 'APPROVED',
      textHash: sha256(CONVENTION_TEXT),
      pareri: pareri('2027-02-20'),
    });
    expect(founder.status).toBe(422);
    expect(founder.body.details.rule).toBe('NOT_JOINING');

    await s.approve(chianni, '5', '2027-03-01', { ie: true });
    const notYet = await s.send('sindaco', chianni, 'convention.sign', {
      ente: chianni,
      signedAt: '2027-03-01T08:00:00Z',
      signatureType: 'FIRMA_DIGITALE',
      digitalSignature: true,
    });
    expect(notYet.status).toBe(422);
    expect(notYet.body.details.rule).toBe('ADHESION_NOT_ACCEPTED');
    await s.ok('presidente', v.ipa, 'convention.adhesion.accept', {
      ente: chianni,
      number: '12',
      date: '2027-03-01',
    });
    const joined = await s.ok('sindaco', chianni, 'convention.sign', {
      ente: chianni,
      signedAt: '2027-03-01T08:30:00Z',
      signatureType: 'FIRMA_DIGITALE',
      digitalSignature: true,
    });
    expect(joined.body.data.entes.find((e: { ente: string }) => e.ente === chianni)).toMatchObject({
      status: 'SIGNED',
      joining: false,
    });

    // recesso: notice of at least 180 days
    const short = await s.send('segretario', buti, 'convention.recesso.record', {
      ente: buti,
      number: '30',
      date: '2027-03-01',
      effectiveDate: '2027-06-01',
    });
    expect(short.status).toBe(422);
    expect(short.body.details.rule).toBe('RECESSO_NOTICE_TOO_SHORT');
    await s.ok('segretario', buti, 'convention.recesso.record', {
      ente: buti,
      number: '30',
      date: '2027-03-01',
      effectiveDate: '2028-01-01',
    });
    h.clock.set(new Date('2028-01-01T08:00:00Z'));
    expect(await fireDue(s)).toEqual([`recesso:${buti}`]);
    const after = await s.get();
    expect(after.body.state).toBe('IN_FORCE');
    expect(after.body.data.entes.find((e: { ente: string }) => e.ente === buti)).toMatchObject({
      status: 'RECEDUTO',
      leftOn: '2028-01-01',
    });
    expect(after.body.data.tasks.at(-1).text).toContain('nominare un proprio RTD');
  });

  it('renews expressly when every ente deliberates, and expires without renewal', async () => {
    const vc = unione('valle-di-comino');
    const s = new Scenario(h, vc.ipa, vc.comuni);
    await s.start({ durationYears: 1 }, 'renewal');
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    await toInForce(s, [...vc.comuni, vc.ipa]);
    expect((await s.get()).body.data.expiresOn).toBe('2027-03-11');
    h.clock.set(new Date('2027-02-01T09:00:00Z'));
    for (const [i, e] of [...vc.comuni, vc.ipa].entries()) {
      await s.ok('segretario', e, 'convention.renewal.record', {
        ente: e,
        number: String(70 + i),
        date: '2027-01-30',
      });
    }
    const renewed = await s.get();
    expect(renewed.body.data.expiresOn).toBe('2028-03-11');
    h.clock.set(new Date('2027-03-12T09:00:00Z'));
    expect(await fireDue(s)).toEqual([]); // the old expiry timer was cancelled by the renewal
    h.clock.set(new Date('2028-03-12T09:00:00Z'));
    expect(await fireDue(s)).toEqual(['expiry:2028-03-11']);
    const expired = await s.get();
    expect(expired.body).toMatchObject({ state: 'EXPIRED', status: 'terminated' });
  });
});
