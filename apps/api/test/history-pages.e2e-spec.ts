import 'reflect-metadata';
import type { HistoryEvent } from '@app/engine';
import { startHarness, type Harness } from '../../../test/support/harness';
import { Scenario, unione } from '../../../test/support/scenario';

/**
 * Issue 15, history: GET /v1/processes/:id/history is paged by keyset (`after` = the last seq seen, `limit`),
 * a full page names the next one in a `Link: rel="next"` header, the pages put together are the whole history,
 * filters and pages combine, and a bad cursor or limit (or an unknown parameter) is a 400 VALIDATION_FAILED
 * naming the field.
 */
const v = unione('valdera');
const [X, Y] = v.comuni as [string, string, ...string[]];

describe('history pages (e2e)', () => {
  let h: Harness;
  let s: Scenario;
  /** the whole history, read in one page */
  let all: HistoryEvent[];
  const get = async (query: string) =>
    h
      .http()
      .get(`/v1/processes/${s.id}/history${query}`)
      .set('Authorization', `Bearer ${await s.as('auditor')}`);
  const nextOf = (res: { headers: Record<string, string | undefined> }): string | null => {
    const link = res.headers['link'];
    if (link === undefined) return null;
    const m = /^<\/v1\/processes\/[0-9a-f-]{36}\/history(\?[^>]*)>; rel="next"$/.exec(link);
    if (!m) throw new Error(`unexpected Link header ${link}`);
    return m[1]!;
  };

  beforeAll(async () => {
    h = await startHarness();
    s = new Scenario(h, v.ipa, [X, Y]);
    await s.start();
    h.clock.set(new Date('2026-02-02T09:00:00Z'));
    await s.ok('staff', v.ipa, 'convention.freeze', { text: 'Testo della convenzione, v1' });
    h.clock.set(new Date('2026-02-10T09:00:00Z'));
    await s.ok('presidente', v.ipa, 'convention.send', { deliveredAt: '2026-02-05T09:00:00Z' });
    for (let i = 0; i < 6; i++) {
      const ente = i % 2 ? Y : X;
      h.clock.set(new Date(`2026-02-${20 + i}T09:00:00Z`));
      await s.ok('segretario', ente, 'convention.deliberation.record', {
        ente,
        number: String(700 + i),
        date: `2026-02-${19 + i}`,
        outcome: 'RINVIATA',
      });
    }
    const res = await get('');
    expect(res.status).toBe(200);
    all = res.body as HistoryEvent[];
  });
  afterAll(async () => h.close());

  it('without a page, answers the whole (short) history in seq order and no Link', async () => {
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const res = await get('');
    expect(res.headers['link']).toBeUndefined();
  });

  it('follows Link rel="next" page by page to exactly the whole history', async () => {
    const pages: number[][] = [];
    const seen: HistoryEvent[] = [];
    let query: string | null = '?limit=4';
    while (query !== null) {
      const res = await get(query);
      expect(res.status).toBe(200);
      const events = res.body as HistoryEvent[];
      pages.push(events.map((e) => e.seq));
      seen.push(...events);
      query = nextOf(res);
    }
    expect(pages).toEqual([[1, 2, 3, 4], [5, 6, 7, 8], [9]]);
    expect(seen).toEqual(all);
  });

  it('a full last page still links to the next one, which is empty and links nowhere', async () => {
    const res = await get('?limit=9');
    expect(res.body).toHaveLength(9);
    expect(nextOf(res)).toBe('?after=9&limit=9');
    const next = await get('?after=9&limit=9');
    expect(next.status).toBe(200);
    expect(next.body).toEqual([]);
    expect(next.headers['link']).toBeUndefined();
  });

  it('starts strictly after the cursor; a cursor past the end is an empty page', async () => {
    const seqs = async (q: string) => ((await get(q)).body as HistoryEvent[]).map((e) => e.seq);
    expect(await seqs('?after=0&limit=2')).toEqual([1, 2]);
    expect(await seqs('?after=3&limit=2')).toEqual([4, 5]);
    expect(await seqs('?after=8')).toEqual([9]);
    expect(await seqs('?after=999999999')).toEqual([]);
    expect(await seqs('?limit=1000')).toEqual(all.map((e) => e.seq));
  });

  it('pages a filtered history, the Link keeping the filters', async () => {
    const res = await get(`?type=convention.deliberation.record&actor=segretario.${Y}&limit=2`);
    expect((res.body as HistoryEvent[]).map((e) => e.seq)).toEqual([5, 7]);
    const next = nextOf(res)!;
    expect(new URLSearchParams(next.slice(1))).toEqual(
      new URLSearchParams({
        actor: `segretario.${Y}`,
        type: 'convention.deliberation.record',
        after: '7',
        limit: '2',
      }),
    );
    const res2 = await get(next);
    expect((res2.body as HistoryEvent[]).map((e) => e.seq)).toEqual([9]);
    expect(res2.headers['link']).toBeUndefined();
  });

  it.each([
    ['after=-1', 'after'],
    ['after=abc', 'after'],
    ['after=1.5', 'after'],
    ['after=1e3', 'after'],
    ['after=0x10', 'after'],
    ['after=', 'after'],
    ['after=1&after=2', 'after'],
    ['after=12345678901', 'after'],
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=ten', 'limit'],
    ['offset=2', 'offset'],
    ['cursor=3', 'cursor'],
    ['page=2', 'page'],
  ])('refuses %s with 400 VALIDATION_FAILED naming the field', async (query, field) => {
    const res = await get(`?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.details.fields.map((f: { field: string }) => f.field)).toContain(field);
  });

  it('the export streams every page: it takes no after or limit', async () => {
    for (const q of ['after=2', 'limit=2']) {
      const res = await h
        .http()
        .get(`/v1/processes/${s.id}/history/export?format=jsonl&${q}`)
        .set('Authorization', `Bearer ${await s.as('auditor')}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
  });
});
