import { startHarness, type Harness } from '../../../test/support/harness';

/** The ente registry: codes validated, refusals name the field and change nothing. */
describe('entes (e2e)', () => {
  let h: Harness;
  let admin: string;
  const chianniLike = {
    kind: 'COMUNE',
    denominazione: 'Comune di prova',
    codiceIpa: 'c_z998',
    codiceIstat: '050998',
    codiceCatastale: 'Z998',
    codiceFiscale: '00000000000',
    pec: 'protocollo@pec.comune-prova.invalid',
    popolazione: 1000,
    unione: 'u_valdera',
  };

  beforeAll(async () => {
    h = await startHarness();
    admin = await h.token({ roles: ['admin'], ente: null, unione: null, sub: 'admin' });
  });
  afterAll(async () => h.close());

  const count = async () =>
    (await h.ds.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM ente`))[0]!.n;

  it('registers a comune of an unione with valid codes, and lists the unione’s entes', async () => {
    const res = await h
      .http()
      .post('/v1/entes')
      .set('Authorization', `Bearer ${admin}`)
      .send(chianniLike);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      codiceIpa: 'c_z998',
      codiceIstat: '050998',
      unione: 'u_valdera',
    });
    const token = await h.token({ roles: ['staff'], ente: 'u_valdera', unione: 'u_valdera' });
    const list = await h.http().get('/v1/entes').set('Authorization', `Bearer ${token}`);
    expect(list.body.map((e: { codiceIpa: string }) => e.codiceIpa)).toEqual(
      expect.arrayContaining(['u_valdera', 'c_g843', 'c_z998']),
    );
    expect(list.body.map((e: { codiceIpa: string }) => e.codiceIpa)).not.toContain('c_b865'); // Miracoli's
    // asking for another Unione is refused, not answered with one's own Unione's entes
    const other = await h
      .http()
      .get('/v1/entes?unione=u_miracoli')
      .set('Authorization', `Bearer ${token}`);
    expect([other.status, other.body.code]).toEqual([403, 'FORBIDDEN']);
    const own = await h
      .http()
      .get('/v1/entes?unione=u_valdera')
      .set('Authorization', `Bearer ${token}`);
    expect(own.body).toEqual(list.body);
    const admin2 = await h
      .http()
      .get('/v1/entes?unione=u_miracoli')
      .set('Authorization', `Bearer ${admin}`);
    expect(admin2.body.map((e: { codiceIpa: string }) => e.codiceIpa)).toContain('c_b865');
  });

  it.each([
    ['codiceIstat', { codiceIstat: '50998' }],
    ['codiceFiscale', { codiceFiscale: '00000000001' }],
    ['codiceCatastale', { codiceCatastale: 'z998' }],
    ['codiceIpa', { codiceIpa: 'C_Z997' }],
    ['pec', { pec: 'not-an-address' }],
    ['sneaky', { sneaky: 1 }],
  ])('refuses a bad %s with 400 naming it, writing nothing', async (field, patch) => {
    const before = await count();
    const res = await h
      .http()
      .post('/v1/entes')
      .set('Authorization', `Bearer ${admin}`)
      .send({ ...chianniLike, codiceIpa: 'c_z997', codiceIstat: '050997', ...patch });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.details.fields.map((f: { field: string }) => f.field)).toContain(field);
    expect(await count()).toBe(before);
  });

  it('refuses an unknown unione (422), a comune without ISTAT (422), a non-admin (403) and a taken ISTAT (409)', async () => {
    const before = await count();
    const post = (body: object, token = admin) =>
      h.http().post('/v1/entes').set('Authorization', `Bearer ${token}`).send(body);
    expect(
      (
        await post({
          ...chianniLike,
          codiceIpa: 'c_z996',
          codiceIstat: '050996',
          unione: 'u_nowhere',
        })
      ).body.code,
    ).toBe('ENTE_NOT_FOUND');
    const { codiceIstat: _omit, ...noIstat } = chianniLike;
    const r = await post({ ...noIstat, codiceIpa: 'c_z996' });
    expect(r.status).toBe(422);
    expect(r.body.details.rule).toBe('ISTAT_REQUIRED');
    const staff = await h.token({ roles: ['staff'], ente: 'u_valdera', unione: 'u_valdera' });
    expect(
      (await post({ ...chianniLike, codiceIpa: 'c_z996', codiceIstat: '050996' }, staff)).status,
    ).toBe(403);
    const taken = await post({ ...chianniLike, codiceIpa: 'c_z995', codiceIstat: '050029' }); // Pontedera's ISTAT
    expect(taken.status).toBe(409);
    expect(await count()).toBe(before);
  });

  it('refuses to turn a comune into an unione or the reverse (422 KIND_IMMUTABLE), changing nothing', async () => {
    const registry = async () =>
      JSON.stringify(await h.ds.query(`SELECT * FROM ente ORDER BY codice_ipa`)) +
      String((await h.ds.query(`SELECT count(*)::int AS n FROM ente_event`))[0].n);
    const before = await registry();
    const post = (body: object) =>
      h.http().post('/v1/entes').set('Authorization', `Bearer ${admin}`).send(body);
    // Pontedera, a comune of the Valdera, made an unione: it would leave the Valdera
    const toUnione = await post({
      kind: 'UNIONE',
      denominazione: 'Pontedera',
      codiceIpa: 'c_g843',
    });
    expect([toUnione.status, toUnione.body.details?.rule]).toEqual([422, 'KIND_IMMUTABLE']);
    expect(toUnione.body.details.fields[0].field).toBe('kind');
    // the Valdera made a comune: its comuni would belong to a comune
    const toComune = await post({
      kind: 'COMUNE',
      denominazione: 'Unione Valdera',
      codiceIpa: 'u_valdera',
      codiceIstat: '999999',
    });
    expect([toComune.status, toComune.body.details?.rule]).toEqual([422, 'KIND_IMMUTABLE']);
    expect(await registry()).toBe(before);
    // an update that keeps the kind still works
    const same = await post({ kind: 'COMUNE', denominazione: 'Pontedera', codiceIpa: 'c_g843' });
    expect([same.status, same.body.unione]).toEqual([201, 'u_valdera']);
  });

  it('lets an Unione’s own admin register only its Unione’s entes (403 otherwise), changing nothing', async () => {
    const registry = async () =>
      JSON.stringify(await h.ds.query(`SELECT * FROM ente ORDER BY codice_ipa`)) +
      String((await h.ds.query(`SELECT count(*)::int AS n FROM ente_event`))[0].n);
    const valderaAdmin = await h.token({
      roles: ['admin'],
      ente: 'u_valdera',
      unione: 'u_valdera',
    });
    const post = (body: object) =>
      h.http().post('/v1/entes').set('Authorization', `Bearer ${valderaAdmin}`).send(body);
    const before = await registry();
    for (const body of [
      // a Miracoli comune renamed, or moved into the Valdera
      { kind: 'COMUNE', denominazione: 'Casalbordino (Valdera)', codiceIpa: 'c_b865' },
      { kind: 'COMUNE', denominazione: 'Casalbordino', codiceIpa: 'c_b865', unione: 'u_valdera' },
      // a new comune for another Unione, or of none, and another Unione itself
      { ...chianniLike, codiceIpa: 'c_z990', codiceIstat: '050990', unione: 'u_miracoli' },
      { kind: 'UNIONE', denominazione: 'Unione dei Miracoli', codiceIpa: 'u_miracoli' },
      { kind: 'UNIONE', denominazione: 'Nuova Unione', codiceIpa: 'u_nuova' },
    ]) {
      const res = await post(body);
      expect([body, res.status, res.body.code]).toEqual([body, 403, 'FORBIDDEN']);
    }
    expect(await registry()).toBe(before);
    // its own comuni and its own record it still registers
    const own = await post({ kind: 'COMUNE', denominazione: 'Pontedera', codiceIpa: 'c_g843' });
    expect([own.status, own.body.unione]).toEqual([201, 'u_valdera']);
    const self = await post({
      kind: 'UNIONE',
      denominazione: 'Unione Valdera',
      codiceIpa: 'u_valdera',
    });
    expect(self.status).toBe(201);
  });
});
