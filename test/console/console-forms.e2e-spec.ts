import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { eventually, startHarness, type Harness } from '../support/harness';
import { Scenario, unione } from '../support/scenario';
import { candidatePayload } from '../factories/rtd.factory';
import { TEMPLATE_LABELS } from '../../apps/console/src/lib/labels';
import { ensureConsoleBuilt, launch, seriousViolations, signIn } from './browser';

/**
 * The console's forms in a real Chromium against the real API, as a segretario at night uses them: a refusal
 * moves the focus to the field it names. One convention in deliberation, prepared through the API; a
 * convention in force whose RTD appointment the presidente carries on through the console.
 */
const VALDERA = 'u_valdera';
const REC = 'convention.deliberation.record';
const FORM = `#ev-${REC.replace(/\W/g, '-')}`;
const field = (path: string) => `${FORM}-${path.replace(/\./g, '-')}`;

describe('console forms (Chromium)', () => {
  let h: Harness;
  let browser: Browser;
  let base: string;
  let presidente: string;
  let processId = '';
  /** the Unione dei Miracoli's convention in force and its RTD process (the decree test) */
  const miracoli = { convention: '', rtd: '' };

  beforeAll(async () => {
    ensureConsoleBuilt();
    h = await startHarness({ worker: true });
    await h.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(h.app.getHttpServer().address() as AddressInfo).port}`;
    presidente = await h.token({
      roles: ['presidente'],
      ente: VALDERA,
      unione: VALDERA,
      sub: 'presidente.u_valdera',
    });
    // the convention was sent to the councils a week ago
    h.clock.set(new Date(Date.now() - 7 * 86_400_000));
    const started = await h
      .http()
      .post('/v1/processes')
      .set('Authorization', `Bearer ${presidente}`)
      .send({
        definition: 'convenzione',
        input: {
          title: 'Convenzione ICT (moduli)',
          unione: VALDERA,
          members: ['c_a864', 'c_b303'],
        },
      })
      .expect(201);
    processId = started.body.id as string;
    const ev = async (type: string, payload: object) =>
      h
        .http()
        .post(`/v1/processes/${processId}/events`)
        .set('Authorization', `Bearer ${presidente}`)
        .send({ type, payload })
        .expect(200);
    const t0 = h.clock.now().getTime();
    await ev('convention.freeze', { text: 'Convenzione ICT' });
    h.clock.advance(3_600_000);
    await ev('convention.send', { deliveredAt: new Date(t0 + 1_800_000).toISOString() });
    h.clock.set(new Date());
    browser = await launch();
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  async function openForm(page: Page): Promise<void> {
    await page.goto(`/procedimenti/${processId}`);
    await page.getByTestId('state').waitFor();
    await page.locator(`button[data-event="${REC}"]`).click();
    await page.locator(FORM).waitFor();
  }
  /** the id of the focused element, once it is `id` (or whatever it is after 5 s) */
  async function focusedBecomes(page: Page, id: string): Promise<string> {
    let now = '';
    for (let i = 0; i < 50; i++) {
      now = await page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { id?: string } | null } })
            .document.activeElement?.id ?? '',
      );
      if (now === id) break;
      await page.waitForTimeout(100);
    }
    return now;
  }

  it('a refused action moves the focus to the first field it names, with an Italian message', async () => {
    const { ctx, page } = await signIn(browser, base, 'segretario.c_a864');
    await openForm(page);
    // nothing filled in: the API names the number and the outcome
    await page.locator(FORM).getByRole('button', { name: 'Conferma' }).click();
    await page.getByTestId('error-number').waitFor();
    expect(await page.getByTestId('error-number').textContent()).toBe('Campo obbligatorio');
    expect(await focusedBecomes(page, field('number').slice(1))).toBe(field('number').slice(1));
    // a rule refusal (a session date in the future): the focus goes to the date
    await page.locator(field('number')).fill('12');
    await page.locator(field('outcome')).selectOption('APPROVED');
    await page.locator(field('date')).fill('2099-01-01');
    await page.locator(FORM).getByRole('button', { name: 'Conferma' }).click();
    await page.getByTestId('error-date').waitFor();
    expect(await focusedBecomes(page, field('date').slice(1))).toBe(field('date').slice(1));
    await ctx.close();
  }, 120_000);

  it('the presidente adopts the RTD decree from the console: the entes served are checkboxes, sent as a list', async () => {
    // the Unione dei Miracoli's convention in force (all four comuni and the Unione), through the API
    const m = unione('miracoli');
    const s = new Scenario(h, m.ipa, m.comuni);
    await s.start();
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    h.clock.set(new Date('2026-03-10T09:00:00Z'));
    for (const [i, e] of [...m.comuni, m.ipa].entries())
      await s.approve(e, String(60 + i), '2026-03-02', { ie: true });
    h.clock.set(new Date('2026-03-12T09:00:00Z'));
    for (const e of [...m.comuni, m.ipa]) await s.sign(e, '2026-03-12T08:00:00Z');
    h.clock.set(new Date());
    // the worker opens the RTD process by itself
    const rtd = await eventually(async () => {
      const links = (await s.get()).body.links as { relation: string; instanceId: string }[];
      return links?.find((l) => l.relation === 'rtd')?.instanceId;
    });
    miracoli.convention = s.id;
    miracoli.rtd = rtd;
    const tok = await s.as('presidente');
    await h
      .http()
      .post(`/v1/processes/${rtd}/events`)
      .set('Authorization', `Bearer ${tok}`)
      .send({
        type: 'rtd.candidate.select',
        payload: candidatePayload(),
      })
      .expect(200);

    const { ctx, page } = await signIn(browser, base, 'presidente.u_miracoli');
    await page.goto(`/procedimenti/${rtd}`);
    await page.getByTestId('state').waitFor();
    const D = '#ev-rtd-decree-issue';
    await page.locator('button[data-event="rtd.decree.issue"]').click();
    await page.locator(D).waitFor();
    expect(await page.locator(`button[data-event="rtd.decree.issue"]`).textContent()).toBe(
      'Adotta l’atto di nomina',
    );
    // one checkbox per ente of the process, all served at first; leaving Scerni out is refused by the API
    const boxes = page.locator(`${D}-entes input[type=checkbox]`);
    expect(await boxes.count()).toBe(5);
    expect(await page.locator(`${D}-entes input:checked`).count()).toBe(5);
    const scerni = m.fixture.comuni.find((c) => c.denominazione === 'Scerni')!.codiceIpa;
    await page.locator(`label[for="${D.slice(1)}-entes-${scerni}"]`).click();
    await page.locator(`${D}-act-type`).selectOption('DECRETO');
    await page.locator(`${D}-act-number`).fill('7');
    await page.locator(`${D}-act-date`).fill(await page.locator(`${D}-startDate`).inputValue());
    await page.locator(`${D}-durationMonths`).fill('12');
    // a referente for each comune (a repeatable group, its ente a select)
    for (const [i, c] of m.comuni.entries()) {
      await page.getByRole('button', { name: 'Aggiungi referente' }).click();
      await page.locator(`${D}-referenti-${i}-ente`).selectOption(c);
      await page.locator(`${D}-referenti-${i}-name`).fill(`Referente ${i + 1}`);
    }
    await page.locator(D).getByRole('button', { name: 'Conferma' }).click();
    await page.locator(`${D}-summary`).waitFor();
    expect(await page.locator(`${D}-summary`).textContent()).toContain('ogni ente servito');
    // the generated RTD form (checkboxes, nested act, repeatable referenti) passes axe-core
    expect(await seriousViolations(page)).toEqual([]);
    await page.locator(`label[for="${D.slice(1)}-entes-${scerni}"]`).click();
    await page.locator(D).getByRole('button', { name: 'Conferma' }).click();
    await page
      .getByTestId('notice')
      .waitFor()
      .catch(async () => {
        throw new Error((await page.getByRole('alert').allTextContents()).join(' | '));
      });
    const history = (
      await h.http().get(`/v1/processes/${rtd}/history`).set('Authorization', `Bearer ${tok}`)
    ).body as { type: string; payload: { entes?: string[] } }[];
    const decree = history.find((e) => e.type === 'rtd.decree.issue')!;
    expect([...decree.payload.entes!].sort()).toEqual([m.ipa, ...m.comuni].sort());
    // the RTD's entes table: IPA registration to confirm for each, the referenti named (not the convention's columns)
    await page.getByRole('heading', { name: 'Enti serviti' }).waitFor();
    const statuses = await page.getByTestId('ente-status').allTextContents();
    expect(statuses).toHaveLength(5);
    expect(new Set(statuses)).toEqual(new Set(['Registrazione su IPA da confermare']));
    expect(await page.locator(`[data-ente="${m.comuni[0]}"]`).textContent()).toContain(
      'Referente 1',
    );
    await ctx.close();
  }, 180_000);

  it('on a phone, the confirmation of a recorded action is brought into view', async () => {
    const { ctx, page } = await signIn(browser, base, 'presidente.u_valdera', {
      width: 360,
      height: 740,
    });
    await page.goto(`/procedimenti/${processId}`);
    await page.getByTestId('state').waitFor();
    const ev = 'convention.deadline.extend';
    const F = `#ev-${ev.replace(/\W/g, '-')}`;
    await page.locator(`button[data-event="${ev}"]`).click();
    await page.locator(F).waitFor();
    await page.locator(`${F}-ente`).selectOption('c_b303');
    await page.locator(`${F}-days`).fill('10');
    await page.locator(`${F}-reason`).fill('Seduta del consiglio rinviata');
    await page.locator(F).getByRole('button', { name: 'Conferma' }).click();
    await page.getByTestId('notice').waitFor();
    // the page scrolls smoothly (bootstrap-italia): wait until the notice is within the 740 px of the screen
    let box = await page.getByTestId('notice').boundingBox();
    for (let i = 0; i < 40 && box && (box.y < 0 || box.y + box.height > 740); i++) {
      await page.waitForTimeout(100);
      box = await page.getByTestId('notice').boundingBox();
    }
    expect(box!.y).toBeGreaterThanOrEqual(0);
    expect(box!.y + box!.height).toBeLessThanOrEqual(740);
    await ctx.close();
  }, 60_000);

  it('a reload or an expired session mid-form loses nothing: the form comes back filled in, on the same page', async () => {
    const { ctx, page } = await signIn(browser, base, 'segretario.c_b303');
    await openForm(page);
    await page.locator(field('number')).fill('33');
    await page.locator(field('outcome')).selectOption('APPROVED');
    for (const [k, v] of Object.entries({
      favorevoli: '9',
      contrari: '2',
      astenuti: '0',
      presenti: '11',
      assegnati: '13',
    }))
      await page.locator(field(`votes.${k}`)).fill(v);
    await page.getByRole('button', { name: 'Aggiungi parere' }).click();
    await page.locator(field('pareri.0.type')).selectOption('TECNICO');
    await page.locator(field('pareri.0.outcome')).selectOption('FAVOREVOLE');
    await page.locator(field('pareri.0.signer')).fill('Responsabile ICT');
    // 00:30, the page is reloaded by mistake: the form reopens with what was typed
    await page.reload();
    await page.locator(FORM).waitFor();
    await page.getByTestId('draft-restored').waitFor();
    expect(await page.locator(field('number')).inputValue()).toBe('33');
    expect(await page.locator(field('outcome')).inputValue()).toBe('APPROVED');
    expect(await page.locator(field('votes.favorevoli')).inputValue()).toBe('9');
    expect(await page.locator(field('pareri.0.signer')).inputValue()).toBe('Responsabile ICT');
    // the session expires (the cookie is gone); the submit is refused with 401
    await ctx.clearCookies();
    await page.locator(FORM).getByRole('button', { name: 'Conferma' }).click();
    await page.getByTestId('session-expired').waitFor();
    expect(page.url()).toMatch(/\/accedi$/);
    // signing in again leads back to the process, the form open and filled in
    await page.locator('#dev-user').selectOption('segretario.c_b303');
    await page.getByRole('button', { name: 'Accedi' }).click();
    await page.waitForURL(new RegExp(`/procedimenti/${processId}$`));
    await page.locator(FORM).waitFor();
    expect(await page.locator(field('number')).inputValue()).toBe('33');
    await page.locator(FORM).getByRole('button', { name: 'Conferma' }).click();
    await page
      .getByTestId('notice')
      .waitFor()
      .catch(async () => {
        throw new Error((await page.getByRole('alert').allTextContents()).join(' | '));
      });
    // recorded once; the draft is gone: the next form starts empty
    const history = (
      await h
        .http()
        .get(`/v1/processes/${processId}/history`)
        .set('Authorization', `Bearer ${presidente}`)
    ).body as { type: string; payload: { ente?: string; number?: string } }[];
    expect(history.filter((e) => e.type === REC && e.payload.ente === 'c_b303')).toHaveLength(1);
    expect(
      await page.evaluate(
        () =>
          (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length,
      ),
    ).toBe(0);
    await ctx.close();
  }, 120_000);

  it('another user signing in on the same tab does not get the previous user’s draft', async () => {
    const { ctx, page } = await signIn(browser, base, 'segretario.c_a864');
    await openForm(page);
    await page.locator(field('number')).fill('44');
    await page.getByRole('button', { name: 'Esci' }).click();
    await page.locator('#dev-user').selectOption('presidente.u_valdera');
    await page.getByRole('button', { name: 'Accedi' }).click();
    await page.getByTestId('who').waitFor();
    expect(page.url()).toMatch(/\/$/);
    expect(
      await page.evaluate(
        () =>
          (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length,
      ),
    ).toBe(0);
    await ctx.close();
  }, 60_000);

  it('an auditor finds every process in Procedimenti, the convention in force included, and its linked RTD', async () => {
    const { ctx, page } = await signIn(browser, base, 'auditor.piattaforma');
    await page.getByRole('link', { name: 'Procedimenti' }).click();
    const row = page.locator(`[data-process="${miracoli.convention}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('In vigore');
    // the convention in force is in no one's Da fare any more; from the list: the process, its RTD, the register
    await row.getByRole('link', { name: 'Registro e verifica' }).click();
    await page.getByTestId('verify').waitFor();
    expect(await page.getByTestId('verify').textContent()).toContain('Integra');
    await page.goBack();
    await page.locator(`[data-process="${miracoli.convention}"] a`).first().click();
    await page.getByTestId('links').waitFor();
    await page.getByTestId('links').getByRole('link').click();
    await page.waitForURL(new RegExp(`/procedimenti/${miracoli.rtd}$`));
    await page.getByTestId('state').waitFor();
    // filtered: only the processes in force
    await page.goto('/procedimenti');
    await page.locator('#p-status').selectOption('in_force');
    await page.getByRole('button', { name: 'Filtra' }).click();
    await page.locator('caption', { hasText: 'Procedimenti (' }).waitFor();
    await page.locator(`[data-process="${miracoli.convention}"]`).waitFor();
    expect(await page.locator(`[data-process="${processId}"]`).count()).toBe(0);
    await ctx.close();
  }, 60_000);

  it('the register: a moment before the start is told in Rome time, a reversed date range in Italian', async () => {
    const { ctx, page } = await signIn(browser, base, 'auditor.piattaforma');
    await page.goto(`/procedimenti/${processId}/registro`);
    await page.getByTestId('history').waitFor();
    await page.locator('#at').fill('2020-01-01T10:00');
    await page.getByRole('button', { name: 'Mostra' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    expect(text).toContain('non esisteva ancora il 1 gennaio 2020, 10:00');
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
    // Dal after Al: said next to the dates, nothing asked of the API
    let asked = 0;
    page.on('request', (r) => {
      if (r.url().includes('/history?')) asked++;
    });
    await page.locator('#f-from').fill('2026-03-10');
    await page.locator('#f-to').fill('2026-03-01');
    await page.getByRole('button', { name: 'Filtra' }).click();
    await page.locator('#f-range-err').waitFor();
    expect(await page.locator('#f-range-err').textContent()).toContain('successiva');
    expect(await page.locator('#f-from').getAttribute('aria-invalid')).toBe('true');
    expect(asked).toBe(0);
    await ctx.close();
  }, 60_000);

  it('starting a process whose answer was lost: trying again opens the process the first try created', async () => {
    const { ctx, page } = await signIn(browser, base, 'presidente.u_vcomino');
    await page.locator('fieldset input[type=checkbox]').nth(2).waitFor();
    let created: string | null = null;
    // the first POST reaches the api (the process is created) but its answer never reaches the page
    await page.route('**/v1/processes', async (route) => {
      if (route.request().method() !== 'POST' || created) return route.continue();
      const answer = await route.fetch();
      created = ((await answer.json()) as { id: string }).id;
      await route.abort('failed');
    });
    await page.locator('#start-title').fill('Convenzione ICT, risposta persa');
    await page.getByRole('button', { name: 'Avvia' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /server|rete|connessione/i })
      .first()
      .waitFor();
    expect(created).toMatch(/^[0-9a-f-]{36}$/);
    await page.getByRole('button', { name: 'Avvia' }).click();
    await page.waitForURL(new RegExp(`/procedimenti/${created!}$`));
    await page.getByTestId('state').waitFor();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(
      'Convenzione ICT, risposta persa',
    );
    await ctx.close();
  }, 60_000);

  it('starting a process: a title of blanks is refused next to the field, a double click starts one process', async () => {
    const { ctx, page } = await signIn(browser, base, 'presidente.u_vcomino');
    await page.locator('fieldset input[type=checkbox]').nth(2).waitFor();
    let posts = 0;
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/v1/processes')) posts++;
    });
    await page.locator('#start-title').fill('   ');
    await page.getByRole('button', { name: 'Avvia' }).click();
    await page.getByTestId('start-title-error').waitFor();
    expect(await page.locator('#start-title').getAttribute('aria-invalid')).toBe('true');
    expect(posts).toBe(0);
    await page.locator('#start-title').fill('  Convenzione ICT Valle di Comino ');
    await page.getByRole('button', { name: 'Avvia' }).evaluate((b: { click(): void }) => {
      b.click();
      b.click();
    });
    await page.waitForURL(/\/procedimenti\/[0-9a-f-]{36}$/);
    await page.getByTestId('state').waitFor();
    expect(posts).toBe(1);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(
      'Convenzione ICT Valle di Comino',
    );
    await ctx.close();
  }, 60_000);

  it('the new pages pass axe-core: Procedimenti, the register with an error, Notifiche', async () => {
    const { ctx, page } = await signIn(browser, base, 'presidente.u_valdera');
    await page.goto('/procedimenti');
    await page.getByTestId('processes').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.goto(`/procedimenti/${processId}/registro`);
    await page.getByTestId('history').waitFor();
    await page.locator('#f-from').fill('2026-03-10');
    await page.locator('#f-to').fill('2026-03-01');
    await page.getByRole('button', { name: 'Filtra' }).click();
    await page.locator('#f-range-err').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.goto('/notifiche');
    await page.locator('h1').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await ctx.close();
  }, 60_000);

  it('a registry the API cannot give is said, not shown as no comuni or an empty registry', async () => {
    const { ctx, page } = await signIn(browser, base, 'presidente.u_valdera');
    await page.route('**/v1/entes', (r) =>
      r.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({
          code: 'DATABASE_UNAVAILABLE',
          message: 'Database non disponibile',
        }),
      }),
    );
    await page.goto('/');
    await page.getByRole('heading', { name: 'Avvia un procedimento' }).waitFor();
    await page.getByText('Impossibile caricare i comuni dell’Unione').waitFor();
    await page.goto('/enti');
    await page.locator('h1').waitFor();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('Database non disponibile');
    expect(await page.getByTestId('entes-registry').count()).toBe(0);
    await ctx.close();
  }, 60_000);

  it('the presidente starts a convention approved by majority: the rules of the process in the start form', async () => {
    const { ctx, page } = await signIn(browser, base, 'presidente.u_bassareg');
    await page.locator('fieldset input[type=checkbox]').nth(7).waitFor();
    await page.locator('#start-title').fill('Convenzione ICT a maggioranza');
    await page.getByText('Regole del procedimento').click();
    await page.locator('#start-policy-approval').selectOption('QUORUM');
    await page.locator('#start-policy-quorumMinEntes').fill('0');
    await page.locator('#start-policy-requirePareri').selectOption('false');
    await page.locator('#start-policy-reminderDaysBefore').fill('10, 3');
    // a value out of range: refused next to the rule, nothing started
    await page.getByRole('button', { name: 'Avvia' }).click();
    await page.locator('#start-policy-quorumMinEntes-err').waitFor();
    expect(await page.locator('#start-policy-quorumMinEntes-err').textContent()).toBe(
      'Il valore minimo è 1',
    );
    await page.locator('#start-policy-quorumMinEntes').fill('5');
    await page.getByRole('button', { name: 'Avvia' }).click();
    await page.waitForURL(/\/procedimenti\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    const tok = await h.token({
      roles: ['presidente'],
      ente: 'u_bassareg',
      unione: 'u_bassareg',
      sub: 'presidente.u_bassareg',
    });
    const view = (
      await h.http().get(`/v1/processes/${id}`).set('Authorization', `Bearer ${tok}`).expect(200)
    ).body as { data: { policy: Record<string, unknown> } };
    expect(view.data.policy).toMatchObject({
      approval: 'QUORUM',
      quorumMinEntes: 5,
      requirePareri: false,
      reminderDaysBefore: [10, 3],
      councilDeadlineDays: 60,
    });
    await ctx.close();
  }, 60_000);

  it('Notifiche: every notice has its Italian title (the deliberation recorded, the RTD vacancy, …)', async () => {
    const { ctx, page } = await signIn(browser, base, 'presidente.u_miracoli');
    await page.getByRole('link', { name: 'Notifiche' }).click();
    const inbox = page.getByTestId('inbox');
    // the worker delivers the notices of the Miracoli convention and RTD
    for (let i = 0; i < 50 && (await inbox.count()) === 0; i++) {
      await page.waitForTimeout(200);
      await page.reload();
      await page.locator('h1').waitFor();
    }
    const titles = await inbox.locator('li > span:first-child').allTextContents();
    expect(titles.length).toBeGreaterThan(0);
    const known = new Set(Object.values(TEMPLATE_LABELS));
    expect(titles.map((t) => t.replace(/^Nuova: /, '')).filter((t) => !known.has(t))).toEqual([]);
    await ctx.close();
  }, 60_000);
});
