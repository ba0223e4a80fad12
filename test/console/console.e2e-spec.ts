import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { romeLocalDateTime, romeToday } from '../../apps/console/src/lib/dates';
import { startHarness, type Harness } from '../support/harness';
import {
  ensureConsoleBuilt,
  launch,
  screenshot,
  seriousViolations,
  signIn,
  switchUser,
  type AxeFinding,
} from './browser';

/**
 * The console in a real headless Chromium (Debian's, driven by playwright-core) against the real API, Postgres
 * and Redis. The Valdera scenario of DOMAIN.md §6.1 is carried out through the console alone: the presidente
 * starts the convention, freezes the text and records the PEC delivery; each segretario records its council's
 * deliberation (three with immediata eseguibilità, the others then certify executivity); each sindaco and the
 * presidente sign; the convention is IN_FORCE. Along the way: a segretario sees only its own ente's actions, a
 * refused action shows the Italian message next to the field and writes nothing, a double click records once, a
 * stale form is caught. axe-core checks every page; screenshots go to var/screenshots
 * (docs/screenshots with UPDATE_SCREENSHOTS=true).
 */
const DAY = 86_400_000;
const VALDERA = 'u_valdera';
const TEXT =
  'CONVENZIONE PER LA GESTIONE IN FORMA ASSOCIATA DELLA FUNZIONE ICT E DELL’UFFICIO PER LA TRANSIZIONE AL DIGITALE\n' +
  'Art. 1 Oggetto. Art. 2 Trasferimento della funzione. Art. 3 Responsabile per la transizione al digitale. ' +
  'Art. 4 Riparto spese. Art. 5 Durata. Art. 6 Recesso.';

/** the councils: three declare immediata eseguibilità, the others publish and certify executivity */
const COUNCILS = [
  { ente: 'c_a864', nome: 'Bientina', ie: true },
  { ente: 'c_b303', nome: 'Buti', ie: true },
  { ente: 'c_b392', nome: 'Calcinaia', ie: true },
  { ente: 'c_b647', nome: 'Capannoli', ie: false },
  { ente: 'c_m327', nome: 'Casciana Terme Lari', ie: false },
  { ente: 'c_g254', nome: 'Palaia', ie: false },
  { ente: 'c_g843', nome: 'Pontedera', ie: false },
  { ente: VALDERA, nome: 'Unione Valdera', ie: false },
];

const daysAgo = (n: number) => romeToday(new Date(Date.now() - n * DAY));
const fieldSel = (event: string, path: string) =>
  `#ev-${event.replace(/\W/g, '-')}-${path.replace(/\./g, '-')}`;
const REC = 'convention.deliberation.record';

describe('console (Chromium)', () => {
  let h: Harness;
  let browser: Browser;
  let base: string;
  let presidente: string;
  let processId = '';
  const axe: Record<string, AxeFinding[]> = {};
  // the session date, 28 days ago (every date the councils enter is in the past, as in real life)
  const D = daysAgo(28);
  const number = (i: number) => String(7100 + i);

  const api = () => h.http();
  const get = async (path: string) =>
    (await api().get(path).set('Authorization', `Bearer ${presidente}`).expect(200)).body;
  const history = async (): Promise<{ type: string; payload: { ente?: string } }[]> =>
    get(`/v1/processes/${processId}/history`);
  const check = async (page: Page, name: string) => {
    axe[name] = await seriousViolations(page);
  };

  beforeAll(async () => {
    ensureConsoleBuilt();
    h = await startHarness();
    await h.app.listen(0, '127.0.0.1');
    const { port } = h.app.getHttpServer().address() as AddressInfo;
    base = `http://127.0.0.1:${port}`;
    presidente = await h.token({
      roles: ['presidente'],
      ente: VALDERA,
      unione: VALDERA,
      sub: 'presidente.u_valdera',
    });
    browser = await launch();
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  /** opens an action's form on the process page */
  async function openAction(page: Page, event: string): Promise<void> {
    await page.locator(`button[data-event="${event}"]`).click();
    await page.locator(`#ev-${event.replace(/\W/g, '-')}`).waitFor();
  }
  async function submit(page: Page, event: string): Promise<void> {
    await page
      .locator(`#ev-${event.replace(/\W/g, '-')}`)
      .getByRole('button', { name: 'Conferma' })
      .click();
  }
  async function submitOk(page: Page, event: string): Promise<void> {
    await submit(page, event);
    await page
      .getByTestId('notice')
      .waitFor()
      .catch(async (err: Error) => {
        const alert = await page.getByRole('alert').allTextContents();
        throw new Error(
          `${event} as ${await page.getByTestId('who').textContent()}: ${alert.join(' | ') || err.message}`,
        );
      });
  }
  async function fillDeliberation(page: Page, n: string, date: string, ie: boolean) {
    const f = (p: string) => page.locator(fieldSel(REC, p));
    await f('number').fill(n);
    await f('date').fill(date);
    await f('outcome').selectOption('APPROVED');
    if ((await f('pareri.0.type').count()) === 0)
      await page.getByRole('button', { name: 'Aggiungi parere' }).click();
    await f('pareri.0.type').selectOption('TECNICO');
    await f('pareri.0.outcome').selectOption('FAVOREVOLE');
    await f('pareri.0.signer').fill('Responsabile del servizio ICT');
    await f('pareri.0.date').fill(date);
    if (ie) {
      await page
        .locator(`label[for="${fieldSel(REC, 'immediatamenteEseguibile').slice(1)}"]`)
        .click();
      await f('ieVotes.favorevoli').fill('10');
      await f('ieVotes.contrari').fill('1');
      await f('ieVotes.astenuti').fill('0');
      await f('ieVotes.presenti').fill('11');
      await f('ieVotes.assegnati').fill('13');
    }
  }
  async function openProcess(page: Page): Promise<void> {
    await page.goto(`/procedimenti/${processId}`);
    await page.getByTestId('state').waitFor();
  }

  it('the presidente signs in, starts the convention, freezes the text and records the PEC delivery', async () => {
    // story time: the process starts 30 days ago, so that the councils' dates lie in the past
    const t0 = Date.now() - 30 * DAY;
    h.clock.set(new Date(t0));
    const anon = await browser.newContext({ baseURL: base, locale: 'it-IT' });
    const login = await anon.newPage();
    if (process.env['ITER_TEST_BROWSER_LOG']) {
      login.on('console', (m) => console.log('[browser]', m.type(), m.text()));
      login.on('pageerror', (e) => console.log('[pageerror]', e.message));
      login.on('response', (r) => console.log('[response]', r.status(), r.url()));
    }
    await login.goto('/');
    await login.locator('#dev-user').waitFor();
    expect(login.url()).toMatch(/\/accedi$/);
    await screenshot(login, 'accedi');
    await check(login, 'Accedi');
    await anon.close();

    const { ctx, page } = await signIn(browser, base, 'presidente.u_valdera');
    await page.getByRole('heading', { name: 'Avvia un procedimento' }).waitFor();
    await page.locator('#start-title').fill('Convenzione per la gestione associata ICT e RTD');
    // all seven comuni are proposed, checked
    await page.locator('fieldset input[type=checkbox]').nth(6).waitFor();
    // Chianni joined the Unione later (DOMAIN.md §6.1): the convention is among the first seven
    await page.locator('label[for="m-c_c609"]').click();
    expect(await page.locator('fieldset input[type=checkbox]:checked').count()).toBe(7);
    await page.getByRole('button', { name: 'Avvia' }).click();
    await page.waitForURL(/\/procedimenti\/[0-9a-f-]{36}$/);
    processId = page.url().split('/').pop()!;
    await page.getByTestId('state').waitFor();
    expect(await page.getByTestId('state').getAttribute('data-state')).toBe('DRAFT');

    await openAction(page, 'convention.freeze');
    await page.locator(fieldSel('convention.freeze', 'text')).fill(TEXT);
    await submitOk(page, 'convention.freeze');
    await page.locator('[data-state="FROZEN"]').waitFor();
    await page.getByTestId('text-hash').waitFor();

    // the PEC receipt arrives half an hour after the freeze; it is recorded an hour after
    h.clock.set(new Date(t0 + 3_600_000));
    await openAction(page, 'convention.send');
    await page
      .locator(fieldSel('convention.send', 'deliveredAt'))
      .fill(romeLocalDateTime(new Date(t0 + 1_800_000)));
    await submitOk(page, 'convention.send');
    await page.locator('[data-state="IN_DELIBERATION"]').waitFor();
    expect((await get(`/v1/processes/${processId}`)).state).toBe('IN_DELIBERATION');
    await ctx.close();
    h.clock.set(new Date()); // from now on the real time
  }, 180_000);

  it('a segretario sees only its own ente’s actions; a refused action shows the message next to the field and writes nothing; a double click records once', async () => {
    // another convention in which Bientina already used deliberation number 901 of this year (through the API)
    const seg = await h.token({
      roles: ['segretario'],
      ente: 'c_a864',
      unione: VALDERA,
      sub: 'segretario.c_a864',
    });
    h.clock.set(new Date(Date.now() - 30 * DAY));
    const other = await api()
      .post('/v1/processes')
      .set('Authorization', `Bearer ${presidente}`)
      .send({
        definition: 'convenzione',
        input: { title: 'Convenzione SUAP', unione: VALDERA, members: ['c_a864'] },
      })
      .expect(201);
    const ev = (tok: string, type: string, payload: object) =>
      api()
        .post(`/v1/processes/${other.body.id}/events`)
        .set('Authorization', `Bearer ${tok}`)
        .send({ type, payload })
        .expect((r) => {
          if (r.status !== 200) throw new Error(`${type}: ${r.status} ${JSON.stringify(r.body)}`);
        });
    const tFreeze = h.clock.now().getTime();
    await ev(presidente, 'convention.freeze', { text: 'Convenzione SUAP' });
    h.clock.advance(3_600_000);
    await ev(presidente, 'convention.send', {
      deliveredAt: new Date(tFreeze + 1_800_000).toISOString(),
    });
    h.clock.set(new Date());
    await ev(seg, REC, {
      ente: 'c_a864',
      number: '901',
      date: D,
      outcome: 'APPROVED',
      textHash: createHash('sha256').update('Convenzione SUAP').digest('hex'),
      pareri: [{ type: 'TECNICO', outcome: 'FAVOREVOLE', signer: 'Resp. SUAP', date: D }],
    });

    const { ctx, page } = await signIn(browser, base, 'segretario.c_a864');
    // Da fare: the convention, what to do, by when
    const row = page.getByTestId('todo').locator('tr', { hasText: 'gestione associata ICT' });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('Registra la deliberazione');
    await expect(row.textContent()).resolves.toMatch(/mancano \d+ giorni/);
    await screenshot(page, 'da-fare');
    await check(page, 'Da fare (segretario)');

    await row.getByRole('link').click();
    await page.getByTestId('state').waitFor();
    // only the segretario's own events, and only for its own ente
    const events = await page
      .locator('button[data-event]')
      .evaluateAll((bs) => bs.map((b) => b.getAttribute('data-event')));
    expect(events).toContain(REC);
    for (const unioneOnly of ['convention.freeze', 'convention.send', 'convention.sign'])
      expect(events).not.toContain(unioneOnly);
    // and the API offers each of them for Bientina only
    const mine = (
      await api().get(`/v1/processes/${processId}`).set('Authorization', `Bearer ${seg}`)
    ).body.allowedEvents as { entes?: string[] }[];
    expect(mine.length).toBeGreaterThan(0);
    for (const a of mine) expect(a.entes).toEqual(['c_a864']);
    await openAction(page, REC);
    const options = await page
      .locator(fieldSel(REC, 'ente'))
      .locator('option')
      .evaluateAll((os) =>
        os.map((o) => (o as unknown as { value: string }).value).filter(Boolean),
      );
    expect(options).toEqual(['c_a864']);
    const before = (await get(`/v1/processes/${processId}`)).version;
    const eventsBefore = (await history()).length;

    // a session date in the future: refused, the message next to the date, nothing written
    await fillDeliberation(page, '7101', romeToday(new Date(Date.now() + DAY)), true);
    await submit(page, REC);
    const dateErr = page.getByTestId('error-date');
    await dateErr.waitFor();
    expect(await dateErr.textContent()).toContain('non può essere futura');
    expect(await page.locator(fieldSel(REC, 'date')).getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'modulo-errore');
    await check(page, 'Procedimento (modulo con errore)');
    expect((await get(`/v1/processes/${processId}`)).version).toBe(before);
    expect((await history()).length).toBe(eventsBefore);

    // a number Bientina already used this year: refused next to the number, nothing written
    await page.locator(fieldSel(REC, 'date')).fill(D);
    await page.locator(fieldSel(REC, 'pareri.0.date')).fill(D);
    await page.locator(fieldSel(REC, 'number')).fill('901');
    await submit(page, REC);
    const numErr = page.getByTestId('error-number');
    await numErr.waitFor();
    expect(await numErr.textContent()).toContain('già registrato');
    expect(await page.getByTestId('error-date').count()).toBe(0);
    expect((await get(`/v1/processes/${processId}`)).version).toBe(before);
    expect((await history()).length).toBe(eventsBefore);

    // the right number, and a double click: one deliberation is recorded
    await page.locator(fieldSel(REC, 'number')).fill(number(1));
    await page
      .locator(`#ev-${REC.replace(/\W/g, '-')}`)
      .getByRole('button', { name: 'Conferma' })
      .evaluate((b: { click(): void }) => {
        b.click();
        b.click();
      });
    await page.getByTestId('notice').waitFor();
    const recs = (await history()).filter((e) => e.type === REC);
    expect(recs).toHaveLength(1);
    expect((await get(`/v1/processes/${processId}`)).version).toBe(before + 1);
    await ctx.close();
  }, 180_000);

  it('the other segretari record their deliberations; a stale form is caught and shows what changed', async () => {
    // Capannoli opens its form; meanwhile Casciana Terme Lari records its deliberation
    const capannoli = await signIn(browser, base, 'segretario.c_b647');
    await openProcess(capannoli.page);
    await openAction(capannoli.page, REC);
    await fillDeliberation(capannoli.page, number(4), D, false);

    // the other segretari, one after the other in the same browser; those without immediata eseguibilità
    // then certify the publication on the albo and the executivity of their deliberation
    const certify = async (page: Page) => {
      const ev = 'convention.executivity.certify';
      await openAction(page, ev);
      await page.locator(fieldSel(ev, 'publicationStart')).fill(daysAgo(27));
      await page.locator(fieldSel(ev, 'executiveOn')).fill(daysAgo(16));
      await submitOk(page, ev);
    };
    const main = await signIn(browser, base, 'segretario.c_b303');
    for (const [i, c] of COUNCILS.entries()) {
      if (c.ente === 'c_a864' || c.ente === 'c_b647') continue;
      const page = main.page;
      if (c.ente !== 'c_b303') await switchUser(page, `segretario.${c.ente}`);
      await openProcess(page);
      await openAction(page, REC);
      await fillDeliberation(page, number(i + 1), D, c.ie);
      await submitOk(page, REC);
      if (!c.ie) await certify(page);
      if (c.ente === 'c_m327') {
        // Capannoli's form still carries the version it was opened with
        await submit(capannoli.page, REC);
        const alert = capannoli.page.getByRole('alert');
        await alert.waitFor();
        expect(await alert.textContent()).toContain(
          'Qualcuno ha appena aggiornato il procedimento',
        );
        await capannoli.page.getByTestId('changes').waitFor();
        expect(await capannoli.page.getByTestId('changes').textContent()).toContain(
          'Registra la deliberazione',
        );
        await screenshot(capannoli.page, 'modulo-conflitto');
        const recorded = (await history()).filter(
          (e) => e.type === REC && e.payload.ente === 'c_b647',
        );
        expect(recorded).toHaveLength(0);
        // reload and send again: now it is recorded
        const shown = Number(await capannoli.page.getByTestId('form-version').textContent());
        await capannoli.page.getByRole('button', { name: /Ricarica il procedimento/ }).click();
        await capannoli.page.getByTestId('changes').waitFor({ state: 'detached' });
        // the form now carries the current version and keeps what the segretario typed
        expect(
          Number(await capannoli.page.getByTestId('form-version').textContent()),
        ).toBeGreaterThan(shown);
        expect(await capannoli.page.locator(fieldSel(REC, 'number')).inputValue()).toBe(number(4));
        await submitOk(capannoli.page, REC);
        await certify(capannoli.page);
      }
    }
    await capannoli.ctx.close();

    await main.ctx.close();
    expect((await get(`/v1/processes/${processId}`)).state).toBe('READY_TO_SIGN');
  }, 240_000);

  it('the sindaci and the presidente sign digitally: the convention is IN_FORCE', async () => {
    const signers = [
      'presidente.u_valdera',
      ...COUNCILS.filter((c) => c.ente !== VALDERA).map((c) => `sindaco.${c.ente}`),
    ];
    const { ctx, page } = await signIn(browser, base, signers[0]!);
    for (const user of signers) {
      if (user !== signers[0]) await switchUser(page, user);
      if (user.startsWith('presidente')) {
        // the presidente's overview: the Unione's process with the entes still to sign
        const row = page.getByTestId('todo').locator('tr', { hasText: 'gestione associata ICT' });
        await row.waitFor();
        await expect(row.textContent()).resolves.toContain('Pontedera');
        await screenshot(page, 'da-fare-presidente');
        await check(page, 'Da fare (presidente)');
      }
      await openProcess(page);
      const ev = 'convention.sign';
      await openAction(page, ev);
      await page.locator(fieldSel(ev, 'signatureType')).selectOption('FIRMA_DIGITALE');
      await page.locator(`label[for="${fieldSel(ev, 'digitalSignature').slice(1)}"]`).click();
      await submitOk(page, ev);
    }
    await page.locator('[data-state="IN_FORCE"]').waitFor();
    await switchUser(page, 'presidente.u_valdera');
    await openProcess(page);
    await page.locator('[data-state="IN_FORCE"]').waitFor();
    await page.getByTestId('entes').waitFor();
    // the diagram of the process (GET /v1/processes/:id/diagram), drawn by mermaid when opened
    await page.getByTestId('diagram-toggle').click();
    await page.getByTestId('diagram').locator('svg').waitFor({ timeout: 60_000 });
    await screenshot(page, 'procedimento');
    await check(page, 'Procedimento');
    await ctx.close();
    const view = await get(`/v1/processes/${processId}`);
    expect(view.state).toBe('IN_FORCE');
    expect(view.data.entes.every((e: { status: string }) => e.status === 'SIGNED')).toBe(true);
  }, 180_000);

  it('Registro e verifica, Notifiche and Enti', async () => {
    const { ctx, page } = await signIn(browser, base, 'presidente.u_valdera');
    await page.goto(`/procedimenti/${processId}/registro`);
    await page.getByTestId('verify').waitFor();
    expect(await page.getByTestId('verify').textContent()).toContain('Integra');
    await page.getByTestId('history').waitFor();
    await page.locator('#f-type').selectOption(REC);
    await page.getByRole('button', { name: 'Filtra' }).click();
    await page.getByText('Eventi registrati, in ordine (8)').waitFor();
    await page.locator('#at').fill(romeLocalDateTime(new Date(Date.now() - 29 * DAY)));
    await page.getByRole('button', { name: 'Mostra' }).click();
    await page.getByTestId('state-at').waitFor();
    expect(await page.getByTestId('state-at').textContent()).toContain(
      'In deliberazione nei consigli',
    );
    const csv = await page.getByRole('link', { name: 'CSV' }).getAttribute('href');
    const res = await page.request.get(csv!);
    expect(res.status()).toBe(200);
    expect(await res.text()).toContain(REC);
    await screenshot(page, 'registro');
    await check(page, 'Registro e verifica');
    await ctx.close();

    const seg = await signIn(browser, base, 'segretario.c_g843');
    await seg.page.goto('/notifiche');
    await seg.page.getByTestId('inbox').waitFor();
    await screenshot(seg.page, 'notifiche');
    await check(seg.page, 'Notifiche');
    await seg.ctx.close();

    const admin = await signIn(browser, base, 'admin.piattaforma');
    await admin.page.goto('/enti');
    await admin.page.getByTestId('entes-registry').waitFor();
    expect(await admin.page.getByTestId('entes-registry').textContent()).toContain('Pontedera');
    await screenshot(admin.page, 'enti');
    await check(admin.page, 'Enti');
    await admin.ctx.close();

    // a tablet (portrait): the first page still reads and works
    const tablet = await signIn(browser, base, 'presidente.u_valdera', {
      width: 820,
      height: 1180,
    });
    await tablet.page.getByRole('heading', { name: 'Da fare' }).waitFor();
    await screenshot(tablet.page, 'da-fare-tablet');
    await check(tablet.page, 'Da fare (tablet)');
    await tablet.ctx.close();
  }, 120_000);

  it('axe-core finds no serious or critical violation on any page', () => {
    expect(Object.keys(axe).length).toBeGreaterThanOrEqual(8);
    const bad = Object.fromEntries(Object.entries(axe).filter(([, v]) => v.length > 0));
    expect(bad).toEqual({});
  });
});
