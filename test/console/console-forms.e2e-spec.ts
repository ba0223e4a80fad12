import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { startHarness, type Harness } from '../support/harness';
import { ensureConsoleBuilt, launch, signIn } from './browser';

/**
 * The console's forms in a real Chromium against the real API, as a segretario at night uses them: a refusal
 * moves the focus to the field it names. One convention in deliberation, prepared through the API.
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

  beforeAll(async () => {
    ensureConsoleBuilt();
    h = await startHarness();
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
});
