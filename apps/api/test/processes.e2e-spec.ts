import { pareri, Scenario, unione } from '../../../test/support/scenario';
import { startHarness, type Harness } from '../../../test/support/harness';

/** Issue #2: the engine over HTTP against real Postgres and Redis. */
describe('processes API (e2e)', () => {
  let h: Harness;
  const v = unione('valdera');

  beforeAll(async () => {
    h = await startHarness();
    // engine-time "now" for these tests: spring 2026
    h.clock.set(new Date('2026-02-10T09:00:00Z'));
  });
  afterAll(async () => h.close());

  const newScenario = () => new Scenario(h, v.ipa, v.comuni);

  it('creates, advances and reads back a convention', async () => {
    const s = newScenario();
    const created = await s.start();
    expect(created.body).toMatchObject({
      state: 'DRAFT',
      version: 1,
      status: 'active',
      tenant: v.ipa,
    });
    expect(created.headers['etag']).toBe('"1"');
    expect(created.body.allowedEvents.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['convention.freeze', 'convention.abandon']),
    );
    await s.freeze();
    const sent = await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    expect(sent.body.state).toBe('IN_DELIBERATION');
    const read = await s.get();
    expect(read.status).toBe(200);
    expect(read.body.version).toBe(3);
    expect(read.body.data.entes).toHaveLength(8); // the Unione + 7 comuni
    // 60 days from 5 Feb 2026 fall on Easter Monday 6 Apr: the term moves to Tue 7 Apr
    expect(read.body.data.entes[1].deadline.date).toBe('2026-04-07');
    expect(read.body.timers.some((t: { key: string }) => t.key === `deadline:${v.comuni[0]}`)).toBe(
      true,
    );
  });

  it('a start repeated after a lost answer: 409 ALREADY_EXISTS names the process the first one created', async () => {
    const pres = await newScenario().as('presidente');
    const body = {
      definition: 'convenzione',
      businessKey: 'ripetuto-dopo-timeout',
      input: { title: 'Convenzione ICT', unione: v.ipa, members: v.comuni.slice(0, 2) },
    };
    const first = await h
      .http()
      .post('/v1/processes')
      .set('Authorization', `Bearer ${pres}`)
      .send(body)
      .expect(201);
    const again = await h
      .http()
      .post('/v1/processes')
      .set('Authorization', `Bearer ${pres}`)
      .send(body)
      .expect(409);
    expect(again.body.code).toBe('ALREADY_EXISTS');
    expect(again.body.details).toEqual({
      businessKey: 'ripetuto-dopo-timeout',
      processId: first.body.id,
    });
  });

  it('refuses an event the state cannot take with 409 listing the allowed ones, writing nothing', async () => {
    const s = newScenario();
    await s.start();
    const before = await s.eventCount();
    const res = await s.send('presidente', v.ipa, 'convention.send', {
      deliveredAt: '2026-02-05T10:00:00Z',
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('TRANSITION_NOT_ALLOWED');
    expect(res.body.details.allowedEvents).toEqual(
      expect.arrayContaining(['convention.freeze', 'convention.abandon']),
    );
    expect(await s.eventCount()).toBe(before);
    expect((await s.get()).body.version).toBe(1);
  });

  it('refuses a stale If-Match with 409 VERSION_CONFLICT, writing nothing', async () => {
    const s = newScenario();
    await s.start();
    await s.freeze();
    h.clock.set(new Date('2026-02-10T09:00:00Z'));
    const res = await s.send(
      'presidente',
      v.ipa,
      'convention.send',
      { deliveredAt: '2026-02-05T10:00:00Z' },
      { 'If-Match': '"1"' },
    );
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      code: 'VERSION_CONFLICT',
      details: { expectedVersion: 1, currentVersion: 2 },
    });
    expect(await s.eventCount()).toBe(2);
    const ok = await s.send(
      'presidente',
      v.ipa,
      'convention.send',
      { deliveredAt: '2026-02-05T10:00:00Z' },
      { 'If-Match': '"2"' },
    );
    expect(ok.status).toBe(200);
    const malformed = await s.send(
      'presidente',
      v.ipa,
      'convention.abandon',
      { reason: 'x' },
      { 'If-Match': 'abc' },
    );
    expect(malformed.status).toBe(400);
    expect(malformed.body.details.fields[0].field).toBe('If-Match');
    // the current version (3) in any form but the ETag's own is refused, never taken as a match
    for (const ifMatch of ['W/"3"', '*', '"3", "4"', '"3', '3"', '3', '""']) {
      const res = await s.send(
        'presidente',
        v.ipa,
        'convention.abandon',
        { reason: 'x' },
        { 'If-Match': ifMatch },
      );
      expect([ifMatch, res.status, res.body.details?.fields?.[0]?.field]).toEqual([
        ifMatch,
        400,
        'If-Match',
      ]);
    }
    expect(await s.eventCount()).toBe(3);
    expect((await s.get()).body.version).toBe(3);
  });

  it('replays the same Idempotency-Key: same answer, one audit event; another payload with it is refused', async () => {
    const s = newScenario();
    await s.start();
    const first = await s.send(
      'presidente',
      v.ipa,
      'convention.freeze',
      { text: 'testo' },
      { 'Idempotency-Key': 'freeze-1' },
    );
    const again = await s.send(
      'presidente',
      v.ipa,
      'convention.freeze',
      { text: 'testo' },
      { 'Idempotency-Key': 'freeze-1' },
    );
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect({ ...again.body, allowedEvents: null }).toEqual({ ...first.body, allowedEvents: null });
    expect(await s.eventCount()).toBe(2);
    const other = await s.send(
      'presidente',
      v.ipa,
      'convention.freeze',
      { text: 'altro' },
      { 'Idempotency-Key': 'freeze-1' },
    );
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await s.eventCount()).toBe(2);
  });

  describe('bad input gets 400 naming the field and changes nothing', () => {
    let s: Scenario;
    beforeAll(async () => {
      s = newScenario();
      await s.start();
      await s.freeze();
    });

    it.each([
      [
        'unknown field in the payload',
        { deliveredAt: '2026-02-05T10:00:00Z', extra: 1 },
        'payload.extra',
      ],
      ['wrong type', { deliveredAt: 42 }, 'payload.deliveredAt'],
      ['missing field', {}, 'payload.deliveredAt'],
    ])('%s', async (_, payload, field) => {
      const res = await s.send('presidente', v.ipa, 'convention.send', payload);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.details.fields.map((f: { field: string }) => f.field)).toContain(field);
      expect(await s.eventCount()).toBe(2);
    });

    it('unknown top-level field', async () => {
      const res = await h
        .http()
        .post(`/v1/processes/${s.id}/events`)
        .set('Authorization', `Bearer ${await s.as('presidente')}`)
        .send({
          type: 'convention.send',
          payload: { deliveredAt: '2026-02-05T10:00:00Z' },
          sneaky: true,
        });
      expect(res.status).toBe(400);
      expect(res.body.details.fields.map((f: { field: string }) => f.field)).toContain('sneaky');
      expect(await s.eventCount()).toBe(2);
    });

    it('unknown event type', async () => {
      const res = await s.send('presidente', v.ipa, 'convention.nonsense', {});
      expect(res.status).toBe(400);
      expect(res.body.details.fields[0].field).toBe('type');
    });

    it('malformed JSON', async () => {
      const res = await h
        .http()
        .post(`/v1/processes/${s.id}/events`)
        .set('Authorization', `Bearer ${await s.as('presidente')}`)
        .set('Content-Type', 'application/json')
        .send('{"type": ');
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('MALFORMED_JSON');
      // the stable Italian message of every error, not the parser's English that quotes the body back
      expect(res.body.message).toBe('JSON non valido');
      const echo = await h
        .http()
        .post(`/v1/processes/${s.id}/events`)
        .set('Authorization', `Bearer ${await s.as('presidente')}`)
        .set('Content-Type', 'application/json')
        .send('RSSMRA80A01H501U');
      expect([echo.status, echo.body]).toEqual([
        400,
        { code: 'MALFORMED_JSON', message: 'JSON non valido' },
      ]);
    });

    it('bad start input names the field', async () => {
      const res = await h
        .http()
        .post('/v1/processes')
        .set('Authorization', `Bearer ${await s.as('presidente')}`)
        .send({
          definition: 'convenzione',
          input: {
            title: 'x',
            unione: v.ipa,
            members: ['NOT VALID'],
            policy: { councilDeadlineDays: 0 },
          },
        });
      expect(res.status).toBe(400);
      const fields = res.body.details.fields.map((f: { field: string }) => f.field);
      expect(fields).toEqual(
        expect.arrayContaining(['input.members', 'input.policy.councilDeadlineDays']),
      );
    });
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const token = await newScenario().as('presidente');
    const missing = await h
      .http()
      .get('/v1/processes/7c0f3a52-4a0e-4f7e-9d51-000000000000')
      .set('Authorization', `Bearer ${token}`);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('PROCESS_NOT_FOUND');
    const malformed = await h
      .http()
      .get('/v1/processes/not-a-uuid')
      .set('Authorization', `Bearer ${token}`);
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('INVALID_ID');
    const ev = await h
      .http()
      .post('/v1/processes/nope/events')
      .set('Authorization', `Bearer ${token}`)
      .send({ type: 'convention.freeze' });
    expect(ev.status).toBe(400);
  });

  it('hides another unione’s process (404) and refuses a segretario acting for another comune (403)', async () => {
    const s = newScenario();
    await s.start();
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    const other = unione('miracoli');
    const foreign = await h
      .http()
      .get(`/v1/processes/${s.id}`)
      .set('Authorization', `Bearer ${await s.as('presidente', other.ipa, other.ipa)}`);
    expect(foreign.status).toBe(404);
    const [bientina, pontedera] = v.comuni as [string, string];
    const res = await s.send('segretario', bientina, 'convention.deliberation.record', {
      ente: pontedera,
      number: '1',
      date: '2026-02-09',
      outcome: 'REJECTED',
    });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
    const byRole = await s.send('sindaco', bientina, 'convention.deliberation.record', {
      ente: bientina,
      number: '1',
      date: '2026-02-09',
      outcome: 'REJECTED',
    });
    expect(byRole.status).toBe(403);
    expect(await s.eventCount()).toBe(3);
  });

  it('needs a token everywhere but /health', async () => {
    expect((await h.http().get('/v1/processes')).status).toBe(401);
    expect(
      (await h.http().get('/v1/processes').set('Authorization', 'Bearer not.a.token')).status,
    ).toBe(401);
    const health = await h.http().get('/health');
    expect(health.status).toBe(200);
    expect(health.body.details).toMatchObject({
      postgres: { status: 'up' },
      redis: { status: 'up' },
    });
  });

  it('keeps the history in order with a valid hash chain', async () => {
    const s = newScenario();
    await s.start();
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    await s.approve(v.comuni[0]!, '12', '2026-02-09', { ie: true });
    const hist = await s.history();
    expect(hist.status).toBe(200);
    expect(hist.body.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(hist.body.map((e: { type: string }) => e.type)).toEqual([
      'process.started',
      'convention.freeze',
      'convention.send',
      'convention.deliberation.record',
    ]);
    for (let i = 1; i < hist.body.length; i++)
      expect(hist.body[i].prevHash).toBe(hist.body[i - 1].hash);
    expect(hist.body[3].actor).toEqual({
      subject: `segretario.${v.comuni[0]}`,
      role: 'segretario',
      ente: v.comuni[0],
    });
    const verify = await h
      .http()
      .get(`/v1/processes/${s.id}/history/verify`)
      .set('Authorization', `Bearer ${await s.as('presidente')}`);
    expect(verify.body).toMatchObject({ valid: true, events: 4, firstBadSeq: null });
  });

  it('refuses UPDATE and DELETE on process_event in the database itself', async () => {
    const s = newScenario();
    await s.start();
    await expect(
      h.ds.query(`UPDATE process_event SET type = 'x' WHERE instance_id = $1`, [s.id]),
    ).rejects.toThrow(/append-only/);
    await expect(
      h.ds.query(`DELETE FROM process_event WHERE instance_id = $1`, [s.id]),
    ).rejects.toThrow(/append-only/);
    await expect(h.ds.query(`TRUNCATE process_event CASCADE`)).rejects.toThrow(/append-only/);
    expect(await s.eventCount()).toBe(1);
  });

  it('serialises 20 concurrent conflicting sends: one winner per version, the rest a clear 409, chain valid', async () => {
    const s = newScenario();
    await s.start();
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    const ente = v.comuni[2]!;
    const version = s.version;
    // 20 different outcomes for the same comune, all claiming the same version
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.send(
          'segretario',
          ente,
          'convention.deliberation.record',
          {
            ente,
            number: String(100 + i),
            date: '2026-02-09',
            outcome: i % 2 ? 'SEDUTA_DESERTA' : 'RINVIATA',
          },
          { 'If-Match': `"${version}"` },
        ),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((x) => x === 200)).toHaveLength(1);
    expect(statuses.filter((x) => x === 409)).toHaveLength(19);
    for (const r of results.filter((x) => x.status === 409))
      expect(r.body.code).toBe('VERSION_CONFLICT');
    // without If-Match they serialise on the row lock: each applies or is refused on the state it finds
    const free = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.send(
          'segretario',
          ente,
          'convention.deliberation.record',
          i === 7
            ? {
                ente,
                number: String(200 + i),
                date: '2026-02-09',
                outcome: 'REJECTED',
                pareri: pareri('2026-02-02'),
              }
            : { ente, number: String(200 + i), date: '2026-02-09', outcome: 'RINVIATA' },
        ),
      ),
    );
    expect(free.every((r) => [200, 409, 422].includes(r.status))).toBe(true);
    const versions = free.filter((r) => r.status === 200).map((r) => r.body.version as number);
    expect(new Set(versions).size).toBe(versions.length); // one winner per version
    const verify = await h
      .http()
      .get(`/v1/processes/${s.id}/history/verify`)
      .set('Authorization', `Bearer ${await s.as('presidente')}`);
    expect(verify.body.valid).toBe(true);
    expect(verify.body.events).toBe(await s.eventCount());
  });

  it('lists processes with filters: pending for my comune, state, overdue', async () => {
    const s = newScenario();
    await s.start(undefined, `list-${Date.now()}`);
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    const token = await s.as('segretario', v.comuni[1]);
    const mine = await h
      .http()
      .get(`/v1/processes?ente=${v.comuni[1]}&state=IN_DELIBERATION`)
      .set('Authorization', `Bearer ${token}`);
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((i: { id: string }) => i.id)).toContain(s.id);
    const overdue = await h
      .http()
      .get('/v1/processes?overdue=true')
      .set('Authorization', `Bearer ${token}`);
    expect(overdue.body.items.map((i: { id: string }) => i.id)).not.toContain(s.id);
    const bad = await h
      .http()
      .get('/v1/processes?overdue=maybe&bogus=1')
      .set('Authorization', `Bearer ${token}`);
    expect(bad.status).toBe(400);
  });
});

describe('OpenAPI document (e2e)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it('documents every route, the error body and every event payload schema the definitions name', async () => {
    const doc = await h.http().get('/docs-json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/processes',
        '/v1/processes/{id}/events',
        '/v1/definitions',
        '/health',
      ]),
    );
    const token = await h.token({ roles: ['staff'], ente: 'u_valdera', unione: 'u_valdera' });
    const defs = await h.http().get('/v1/definitions').set('Authorization', `Bearer ${token}`);
    const refs: string[] = defs.body.flatMap(
      (d: { input: { schema: string }; events: { payload: { schema: string } | null }[] }) => [
        d.input.schema,
        ...d.events.flatMap((e) => (e.payload ? [e.payload.schema] : [])),
      ],
    );
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs)
      expect(doc.body.components.schemas[ref.split('/').at(-1)!]).toBeDefined();
    expect(doc.body.components.schemas.RecordDeliberationDto.properties.outcome.enum).toContain(
      'APPROVED_WITH_AMENDMENTS',
    );
    expect(doc.body.components.schemas.ErrorResponseDto.properties.code).toBeDefined();
  });
});
