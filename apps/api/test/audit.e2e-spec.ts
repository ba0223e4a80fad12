import 'reflect-metadata';
import type { Role } from '@app/common';
import { eventHash, ProcessQueryService, verifyAllChains, type HistoryEvent } from '@app/engine';
import { defaultRegistry } from '@app/workflows';
import { runCli } from '../../../test/support/cli';
import { startHarness, type Harness } from '../../../test/support/harness';
import { tamperAuditLog } from '../../../test/support/tamper';
import { Scenario, unione } from '../../../test/support/scenario';
import { csvField, csvRow } from '../src/processes/history-export';

/**
 * Issue #5, audit: every event says who, when, what and from which state to which; the history filters;
 * the state at any past instant equals what the API answered then; CSV and JSON Lines export; the hash
 * chain names the exact seq a superuser tampered with (the append-only trigger disabled for the test), in
 * the API and in the CLI's `verify-audit`; and who may read what (404 across tenants).
 *
 * This file runs on a database of its own (isolatedDb): it disables the append-only trigger for a moment,
 * and verifies *every* chain in the database.
 */
const v = unione('valdera');
const mir = unione('miracoli');
const [X, Y] = v.comuni as [string, string, ...string[]];

interface Step {
  /** engine time at which the step runs */
  time: string;
  role: Role;
  ente: string;
  type: string;
  payload: Record<string, unknown>;
}

/** One story, with several actors, roles and states; the abandon reason needs CSV quoting. */
const REASON = 'Ritirata: "nuovo testo", da riproporre\nseconda riga; terza, con virgola';
let deliberationNo = 100;
/** Deliberation numbers are unique per ente and year across processes: each story gets its own. */
const makeStory = (): Step[] => [
  {
    time: '2026-02-02T09:00:00.000Z',
    role: 'staff',
    ente: v.ipa,
    type: 'convention.freeze',
    payload: { text: 'Testo della convenzione, v1' },
  },
  {
    time: '2026-02-10T09:00:00.000Z',
    role: 'presidente',
    ente: v.ipa,
    type: 'convention.send',
    payload: { deliveredAt: '2026-02-05T09:00:00Z' },
  },
  {
    time: '2026-02-20T09:00:00.000Z',
    role: 'segretario',
    ente: X,
    type: 'convention.deliberation.record',
    payload: { ente: X, number: String(deliberationNo++), date: '2026-02-19', outcome: 'RINVIATA' },
  },
  {
    time: '2026-02-25T09:00:00.000Z',
    role: 'segretario',
    ente: Y,
    type: 'convention.deliberation.record',
    payload: {
      ente: Y,
      number: String(deliberationNo++),
      date: '2026-02-24',
      outcome: 'SEDUTA_DESERTA',
    },
  },
  {
    time: '2026-03-01T09:00:00.000Z',
    role: 'staff',
    ente: v.ipa,
    type: 'convention.deadline.extend',
    payload: { days: 10, reason: 'Proroga per le sedute rinviate' },
  },
  {
    time: '2026-03-05T09:00:00.000Z',
    role: 'presidente',
    ente: v.ipa,
    type: 'convention.abandon',
    payload: { reason: REASON },
  },
];
const START_TIME = '2026-02-01T09:00:00.000Z';

describe('audit (e2e)', () => {
  let h: Harness;
  const tokens = new Map<string, string>();
  const tokenOf = async (roles: Role[], ente: string | null, unioneIpa: string | null) => {
    const k = `${roles.join('+')}/${ente}/${unioneIpa}`;
    if (!tokens.has(k))
      tokens.set(
        k,
        await h.token({
          roles,
          ente,
          unione: unioneIpa,
          sub: `${roles.join('+')}.${ente ?? 'platform'}`,
        }),
      );
    return tokens.get(k)!;
  };
  const auditor = () => tokenOf(['auditor'], v.ipa, v.ipa);
  const get = async (path: string, token?: string) =>
    h
      .http()
      .get(path)
      .set('Authorization', `Bearer ${token ?? (await auditor())}`);

  /** Run the story over HTTP; after each step record what GET /v1/processes/:id answered, and when. */
  async function runStory(steps: Step[] = makeStory()) {
    const s = new Scenario(h, v.ipa, [X, Y]);
    h.clock.set(new Date(START_TIME));
    await s.start();
    const seen: { at: string; view: Record<string, any> }[] = [];
    const record = async () => {
      const res = await s.get('auditor', v.ipa);
      expect(res.status).toBe(200);
      seen.push({ at: h.clock.now().toISOString(), view: res.body });
    };
    await record();
    for (const step of steps) {
      h.clock.set(new Date(step.time));
      await s.ok(step.role, step.ente, step.type, step.payload);
      await record();
    }
    return { s, seen, steps };
  }

  const tamper = (sql: string, params: unknown[]) => tamperAuditLog(h.ds, sql, params);
  const verify = async (id: string) => (await get(`/v1/processes/${id}/history/verify`)).body;

  let story: Awaited<ReturnType<typeof runStory>>;
  /** occurred_at of each seq of the story (the engine clock runs on after each clock.set, by a few ms) */
  const occurred: string[] = [];
  const realStart = Date.now();
  const near = (iso: string, at: string) =>
    Date.parse(iso) >= Date.parse(at) && Date.parse(iso) < Date.parse(at) + 5_000;

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true });
    story = await runStory();
    const rows: { seq: number; occurred_at: Date }[] = await h.ds.query(
      `SELECT seq, occurred_at FROM process_event WHERE instance_id = $1 ORDER BY seq`,
      [story.s.id],
    );
    for (const r of rows) occurred[r.seq] = r.occurred_at.toISOString();
  });
  afterAll(async () => h.close());

  it('records for every event who (subject, role, ente), when (occurred, recorded), what (type, payload) and from → to', async () => {
    const res = await get(`/v1/processes/${story.s.id}/history`);
    expect(res.status).toBe(200);
    const events = res.body as HistoryEvent[];
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(events[0]).toMatchObject({
      type: 'process.started',
      actor: { subject: `presidente.${v.ipa}`, role: 'presidente', ente: v.ipa },
      stateBefore: null,
      stateAfter: 'DRAFT',
      versionAfter: 1,
    });
    story.steps.forEach((step, i) => {
      const e = events[i + 1]!;
      expect(e).toMatchObject({
        seq: i + 2,
        type: step.type,
        payload: step.payload,
        actor: { subject: `${step.role}.${step.ente}`, role: step.role, ente: step.ente },
        stateBefore: story.seen[i]!.view.state,
        stateAfter: story.seen[i + 1]!.view.state,
        versionAfter: i + 2,
        prevHash: events[i]!.hash,
      });
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      expect({
        seq: e.seq,
        occurredAt: e.occurredAt,
        near: near(e.occurredAt, step.time),
      }).toMatchObject({ near: true });
    });
    expect(near(events[0]!.occurredAt, START_TIME)).toBe(true);
    // recorded_at is the database's own clock (real time), independent of the engine clock
    for (const e of events) {
      expect(Date.parse(e.recordedAt)).toBeGreaterThanOrEqual(realStart - 5_000);
      expect(Date.parse(e.recordedAt)).toBeLessThanOrEqual(Date.now() + 5_000);
    }
    expect(events.map((e) => e.stateAfter)).toEqual([
      'DRAFT',
      'FROZEN',
      'IN_DELIBERATION',
      'IN_DELIBERATION',
      'IN_DELIBERATION',
      'IN_DELIBERATION',
      'ABANDONED',
    ]);
  });

  describe('history filters', () => {
    const seqs = async (query: string) => {
      const res = await get(`/v1/processes/${story.s.id}/history?${query}`);
      expect(res.status).toBe(200);
      return (res.body as HistoryEvent[]).map((e) => e.seq);
    };

    it('by actor subject', async () => {
      expect(await seqs(`actor=staff.${v.ipa}`)).toEqual([2, 6]);
      expect(await seqs(`actor=segretario.${X}`)).toEqual([4]);
      expect(await seqs('actor=nobody')).toEqual([]);
    });

    it('by event type', async () => {
      expect(await seqs('type=convention.deliberation.record')).toEqual([4, 5]);
      expect(await seqs('type=process.started')).toEqual([1]);
    });

    it('by time range, bounds included, offsets honoured', async () => {
      expect(await seqs('from=2026-02-20T00:00:00Z')).toEqual([4, 5, 6, 7]);
      expect(await seqs('to=2026-02-10T23:00:00Z')).toEqual([1, 2, 3]);
      expect(await seqs('from=2026-02-10T00:00:00Z&to=2026-02-25T23:00:00Z')).toEqual([3, 4, 5]);
      // both bounds are inclusive: an event exactly at `from` and one exactly at `to`
      expect(await seqs(`from=${occurred[3]}&to=${occurred[5]}`)).toEqual([3, 4, 5]);
      expect(await seqs(`from=${occurred[4]}&to=${occurred[4]}`)).toEqual([4]);
      // the same instant written in Rome time (+01:00 in February)
      const rome = new Date(Date.parse(occurred[4]!) + 3_600_000)
        .toISOString()
        .replace('Z', '+01:00');
      expect(await seqs(`from=${encodeURIComponent(rome)}&to=${encodeURIComponent(rome)}`)).toEqual(
        [4],
      );
    });

    it('combined', async () => {
      expect(await seqs(`actor=presidente.${v.ipa}&from=2026-02-05T00:00:00Z`)).toEqual([3, 7]);
      expect(
        await seqs(`actor=presidente.${v.ipa}&type=convention.abandon&to=2026-03-01T00:00:00Z`),
      ).toEqual([]);
    });

    it.each([
      ['from=yesterday', 'from'],
      ['to=2026-13-01T00:00:00Z', 'to'],
      ['from=2026-02-10', 'from'], // a bare date is not an instant
      ['to=2026-02-10T10:00:00', 'to'], // nor is a local time without an offset
      ['from=2026-03-01T00:00:00Z&to=2026-02-01T00:00:00Z', 'from'],
      ['actor=', 'actor'],
      ['sort=seq', 'sort'],
    ])('refuses %s with 400 naming the field', async (query, field) => {
      const res = await get(`/v1/processes/${story.s.id}/history?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.details.fields.map((f: { field: string }) => f.field)).toContain(field);
    });
  });

  describe('state at a past instant', () => {
    it('matches, at every recorded instant, what GET /v1/processes/:id answered then', async () => {
      for (const { at, view } of story.seen) {
        const res = await get(`/v1/processes/${story.s.id}/state?at=${encodeURIComponent(at)}`);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({
          id: story.s.id,
          definition: view.definition,
          at,
          version: view.version,
          seq: view.version,
        });
        expect({ state: res.body.state, status: res.body.status, data: res.body.data }).toEqual({
          state: view.state,
          status: view.status,
          data: view.data,
        });
      }
      // the states really differ over time, so the comparison above means something
      expect(new Set(story.seen.map((x) => JSON.stringify(x.view.data))).size).toBe(
        story.seen.length,
      );
    });

    it('holds the state between two events, and includes an event at its exact instant', async () => {
      const between = await get(`/v1/processes/${story.s.id}/state?at=2026-02-24T23:59:59.999Z`);
      expect(between.body).toMatchObject({
        seq: 4,
        version: 4,
        eventType: 'convention.deliberation.record',
        occurredAt: occurred[4],
      });
      expect(between.body.data).toEqual(story.seen[3]!.view.data);
      const exact = await get(`/v1/processes/${story.s.id}/state?at=${occurred[5]}`);
      expect(exact.body).toMatchObject({ seq: 5, version: 5 });
      const justBefore = await get(
        `/v1/processes/${story.s.id}/state?at=${new Date(Date.parse(occurred[5]!) - 1).toISOString()}`,
      );
      expect(justBefore.body).toMatchObject({ seq: 4, version: 4 });
      const rome = await get(
        `/v1/processes/${story.s.id}/state?at=${encodeURIComponent('2026-02-25T23:00:00+01:00')}`,
      );
      expect(rome.body).toMatchObject({ at: '2026-02-25T22:00:00.000Z', seq: 5 });
      const later = await get(`/v1/processes/${story.s.id}/state?at=2030-01-01T00:00:00Z`);
      expect(later.body).toMatchObject({ seq: 7, state: 'ABANDONED', status: 'terminated' });
    });

    it('answers 404 BEFORE_PROCESS_START for an instant before the first event', async () => {
      const at = new Date(Date.parse(occurred[1]!) - 1).toISOString();
      const res = await get(`/v1/processes/${story.s.id}/state?at=${at}`);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({
        code: 'BEFORE_PROCESS_START',
        details: { startedAt: occurred[1], at },
      });
    });

    it.each([
      ['', 'at'],
      ['at=2026-02-10', 'at'],
      ['at=2026-02-10T10:00:00', 'at'],
      ['at=ieri', 'at'],
      ['at=2026-02-10T10:00:00Z&x=1', 'x'],
    ])('refuses ?%s with 400', async (query, field) => {
      const res = await get(`/v1/processes/${story.s.id}/state?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.details.fields.map((f: { field: string }) => f.field)).toContain(field);
    });

    it.each([
      ['state?at=2026-02-10T24:00:00Z'],
      ['state?at=2026-02-30T10:00:00Z'],
      ['history?from=2026-02-10T24:00:00Z'],
      ['history?to=2026-13-01T00:00:00Z'],
      ['history/export?from=2026-02-30T10:00:00%2B01:00'],
    ])(
      'says an instant with an offset is needed for the impossible %s, never that a bare date would do',
      async (query) => {
        const res = await get(`/v1/processes/${story.s.id}/${query}`);
        expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
        expect(res.body.details.fields[0].errors).toEqual([
          'must be an ISO 8601 instant with an offset, e.g. 2026-03-01T09:00:00Z or 2026-03-01T10:00:00+01:00',
        ]);
      },
    );

    it('never shows an event through an earlier one that happened after `at`, should the clock go back', async () => {
      const s = new Scenario(h, v.ipa, [X]);
      h.clock.set(new Date('2026-05-01T09:00:00Z'));
      await s.start();
      h.clock.set(new Date('2026-05-10T09:00:00Z'));
      await s.ok('presidente', v.ipa, 'convention.freeze', { text: 'testo' }); // seq 2 at 05-10
      h.clock.set(new Date('2026-05-05T09:00:00Z')); // the clock went back (e.g. another replica)
      await s.ok('presidente', v.ipa, 'convention.abandon', { reason: 'prova' }); // seq 3 at 05-05
      // on 05-07 only seq 1 had happened: seq 3 sits after seq 2, which happened on 05-10
      const res = await get(`/v1/processes/${s.id}/state?at=2026-05-07T00:00:00Z`);
      expect(res.body).toMatchObject({ seq: 1, state: 'DRAFT' });
      const after = await get(`/v1/processes/${s.id}/state?at=2026-05-11T00:00:00Z`);
      expect(after.body).toMatchObject({ seq: 3, state: 'ABANDONED' });
    });
  });

  describe('export', () => {
    let history: HistoryEvent[];
    beforeAll(async () => {
      history = (await get(`/v1/processes/${story.s.id}/history`)).body;
    });
    const download = async (query: string, token?: string) =>
      h
        .http()
        .get(`/v1/processes/${story.s.id}/history/export?${query}`)
        .set('Authorization', `Bearer ${token ?? (await auditor())}`)
        .buffer(true)
        .parse((res, cb) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => cb(null, text));
        });

    it('streams CSV: header row, RFC 4180 quoting, payload as a JSON string, as an attachment', async () => {
      const res = await download('format=csv');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(res.headers['content-disposition']).toBe(
        `attachment; filename="iter-${story.s.id}-history.csv"`,
      );
      const text = res.body as string;
      expect(text.endsWith('\r\n')).toBe(true);
      const rows = parseCsv(text);
      expect(rows[0]).toEqual([
        'seq',
        'occurredAt',
        'recordedAt',
        'type',
        'actorSubject',
        'actorRole',
        'actorEnte',
        'stateBefore',
        'stateAfter',
        'versionAfter',
        'payload',
        'prevHash',
        'hash',
      ]);
      const body = rows.slice(1);
      expect(body).toHaveLength(history.length);
      body.forEach((r, i) => {
        const e = history[i]!;
        expect(r).toEqual([
          String(e.seq),
          e.occurredAt,
          e.recordedAt,
          e.type,
          e.actor.subject,
          e.actor.role,
          e.actor.ente ?? '',
          e.stateBefore ?? '',
          e.stateAfter,
          String(e.versionAfter),
          expect.any(String),
          e.prevHash,
          e.hash,
        ]);
        expect(JSON.parse(r[10]!)).toEqual(e.payload);
      });
      // the reason with quotes, commas and a newline survived the round trip
      expect(JSON.parse(body[6]![10]!)).toEqual({ reason: REASON });
      expect(text).toContain('""reason""');
    });

    it('quotes CSV fields as RFC 4180 says', () => {
      expect(csvField('plain')).toBe('plain');
      expect(csvField(null)).toBe('');
      expect(csvField(7)).toBe('7');
      expect(csvField('a,b')).toBe('"a,b"');
      expect(csvField('say "hi"')).toBe('"say ""hi"""');
      expect(csvField('two\nlines')).toBe('"two\nlines"');
      expect(csvField('cr\rhere')).toBe('"cr\rhere"');
      expect(csvRow(['a', null, 'b,c'])).toBe('a,,"b,c"\r\n');
      expect(parseCsv(csvRow(['x\r\ny', '"', '']))).toEqual([['x\r\ny', '"', '']]);
    });

    it('streams JSON Lines: one history event per line, identical to /history', async () => {
      const res = await download('format=jsonl');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/jsonl/);
      expect(res.headers['content-disposition']).toBe(
        `attachment; filename="iter-${story.s.id}-history.jsonl"`,
      );
      const lines = (res.body as string).split('\n');
      expect(lines.pop()).toBe(''); // every line ends with \n
      expect(lines.map((l) => JSON.parse(l))).toEqual(history);
    });

    it('applies the history filters', async () => {
      const res = await download('format=jsonl&type=convention.deliberation.record');
      expect(
        (res.body as string)
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).seq),
      ).toEqual([4, 5]);
      const csv = await download(`format=csv&actor=staff.${v.ipa}`);
      expect(
        parseCsv(csv.body)
          .slice(1)
          .map((r) => r[0]),
      ).toEqual(['2', '6']);
    });

    it('defaults to CSV and refuses an unknown format with 400', async () => {
      expect((await download('')).headers['content-type']).toMatch(/^text\/csv/);
      const res = await get(`/v1/processes/${story.s.id}/history/export?format=xml`);
      expect(res.status).toBe(400);
      expect(res.body.details.fields[0].field).toBe('format');
    });

    it('reads the history in pages, in order, whatever its length', async () => {
      const svc = new ProcessQueryService(h.ds, defaultRegistry(), h.clock, { exportPageSize: 2 });
      const platform = { subject: 'audit', roles: ['auditor' as const], ente: null, unione: null };
      const exp = await svc.exportHistory(story.s.id, platform);
      const out: HistoryEvent[] = [];
      for await (const e of exp.events) out.push(e);
      expect(out).toEqual(history); // 7 events over 4 pages
      expect(exp.instance).toMatchObject({ id: story.s.id, definition: { key: 'convenzione' } });
    });
  });

  describe('tampering (append-only trigger disabled by a superuser)', () => {
    const fresh = async () => (await runStory(makeStory().slice(0, 4))).s; // 5 events
    /** instance id → the seq verify must name */
    const tampered = new Map<string, number>();
    const expectBad = async (id: string, seq: number, more: Record<string, unknown> = {}) => {
      const r = await verify(id);
      expect(r).toMatchObject({ valid: false, firstBadSeq: seq, ...more });
      tampered.set(id, seq);
      return r;
    };

    it('names the seq whose payload was altered', async () => {
      const s = await fresh();
      expect(await verify(s.id)).toMatchObject({ valid: true, events: 5, firstBadSeq: null });
      await tamper(
        `UPDATE process_event SET payload = jsonb_set(payload, '{number}', '"99"') WHERE instance_id = $1 AND seq = 4`,
        [s.id],
      );
      await expectBad(s.id, 4, { events: 5, reason: expect.stringMatching(/hash does not match/) });
    });

    it('names the seq whose actor or time was altered', async () => {
      const s = await fresh();
      await tamper(
        `UPDATE process_event SET actor_subject = 'someone.else' WHERE instance_id = $1 AND seq = 2`,
        [s.id],
      );
      await expectBad(s.id, 2);
      const t = await fresh();
      await tamper(
        `UPDATE process_event SET occurred_at = occurred_at - interval '1 day' WHERE instance_id = $1 AND seq = 3`,
        [t.id],
      );
      await expectBad(t.id, 3);
    });

    it('names a deleted event in the middle (a gap)', async () => {
      const s = await fresh();
      await tamper(`DELETE FROM process_event WHERE instance_id = $1 AND seq = 3`, [s.id]);
      await expectBad(s.id, 3, { events: 4, reason: expect.stringMatching(/seq 3 missing/) });
    });

    it('names events deleted from the end of the chain, which the links alone cannot show', async () => {
      const s = await fresh();
      await tamper(`DELETE FROM process_event WHERE instance_id = $1 AND seq >= 4`, [s.id]);
      await expectBad(s.id, 4, {
        events: 3,
        reason: expect.stringMatching(/seq 4\.\.5 missing at the end/),
      });
    });

    it('names the next seq when the altered event was also re-hashed (its successor no longer links)', async () => {
      const s = await fresh();
      // a careful forger alters seq 2 AND recomputes its hash: seq 2 then verifies, seq 3's link gives it away
      const [r] = await h.ds.query<Record<string, any>[]>(
        `SELECT * FROM process_event WHERE instance_id = $1 AND seq = 2`,
        [s.id],
      );
      const payload = { text: 'un altro testo' };
      const forged = eventHash(r!.prev_hash, {
        instanceId: s.id,
        seq: 2,
        type: r!.type,
        payload,
        actor: { subject: r!.actor_subject, role: r!.actor_role, ente: r!.actor_ente },
        occurredAt: (r!.occurred_at as Date).toISOString(),
        stateBefore: r!.state_before,
        stateAfter: r!.state_after,
        versionAfter: r!.version_after,
        snapshotAfter: r!.snapshot_after,
        snapshotDelta: r!.snapshot_delta,
        snapshotFull: r!.snapshot_full,
        recordedAt: (r!.recorded_at as Date).toISOString(),
        idempotencyKey: r!.idempotency_key,
        requestHash: r!.request_hash,
        timerId: r!.timer_id,
      });
      await tamper(
        `UPDATE process_event SET payload = $2, hash = $3 WHERE instance_id = $1 AND seq = 2`,
        [s.id, payload, forged],
      );
      await expectBad(s.id, 3, { reason: expect.stringMatching(/prev_hash/) });
    });

    it('reports an instance head (last_hash) that does not match the last event', async () => {
      const s = await fresh();
      await h.ds.query(`UPDATE process_instance SET last_hash = repeat('0', 64) WHERE id = $1`, [
        s.id,
      ]);
      await expectBad(s.id, 6, { events: 5, reason: expect.stringMatching(/instance head/) });
    });

    it('reports a current state that differs from the last audited snapshot', async () => {
      const s = await fresh();
      // process_instance is mutable by design (no trigger): an edit of the live row must still show
      await h.ds.query(
        `UPDATE process_instance SET snapshot = jsonb_set(snapshot, '{context,title}', '"Altro titolo"') WHERE id = $1`,
        [s.id],
      );
      await expectBad(s.id, 5, { reason: expect.stringMatching(/snapshot/) });
    });

    it('re-enables the trigger afterwards', async () => {
      await expect(
        h.ds.query(`UPDATE process_event SET type = 'x' WHERE instance_id = $1`, [story.s.id]),
      ).rejects.toThrow(/append-only/);
      await expect(
        h.ds.query(`DELETE FROM process_event WHERE instance_id = $1`, [story.s.id]),
      ).rejects.toThrow(/append-only/);
    });

    it('verifyAllChains (the CLI’s verify-audit) checks every chain in the database and lists the broken ones exactly', async () => {
      const r = await verifyAllChains(h.ds);
      const counts: { chains: number; events: number }[] = await h.ds.query(
        `SELECT (SELECT count(*)::int FROM process_instance) AS chains, (SELECT count(*)::int FROM process_event) AS events`,
      );
      expect(r.chains).toBe(counts[0]!.chains);
      expect(r.events).toBe(counts[0]!.events);
      // exactly the instances tampered with above, each with its seq
      expect(tampered.size).toBe(8);
      expect(new Map(r.failures.map((f) => [f.instanceId, f.firstBadSeq]))).toEqual(tampered);
      expect(r.invalid).toBe(8);
      expect(r.valid).toBe(r.chains - 8);
      expect(r.valid).toBeGreaterThan(0);
    });

    it('the CLI verify-audit --json prints the same summary and exits 1 when a chain is broken', async () => {
      const expected = await verifyAllChains(h.ds);
      const [{ code, stdout }, text] = await Promise.all([
        runCli(['verify-audit', '--json'], { DATABASE_URL: h.config.databaseUrl }),
        runCli(['verify-audit'], { DATABASE_URL: h.config.databaseUrl }),
      ]);
      expect(code).toBe(1);
      expect(text.code).toBe(1);
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual(expected);
      expect(text.stdout).toContain(
        `${expected.chains} chains, ${expected.events} events verified: ${expected.valid} valid, 8 invalid`,
      );
      for (const [id, seq] of tampered)
        expect(text.stdout).toContain(`INVALID ${id}: first bad seq ${seq} (`);
    });
  });

  describe('who may read (404 across tenants, never a leak)', () => {
    const READS = (id: string) => [
      `/v1/processes/${id}`,
      `/v1/processes/${id}/history`,
      `/v1/processes/${id}/history/verify`,
      `/v1/processes/${id}/history/export?format=jsonl`,
      `/v1/processes/${id}/state?at=2030-01-01T00:00:00Z`,
    ];

    it.each([
      ['an auditor of the Unione', ['auditor'], v.ipa, v.ipa],
      ['an admin of the Unione', ['admin'], v.ipa, v.ipa],
      ['a segretario of a member comune', ['segretario'], X, v.ipa],
      ['a platform auditor (no unione)', ['auditor'], null, null],
      ['a platform admin (no unione)', ['admin'], null, null],
    ] as [string, Role[], string | null, string | null][])(
      '%s reads every audit route',
      async (_, roles, ente, u) => {
        const token = await tokenOf(roles, ente, u);
        for (const path of READS(story.s.id))
          expect({ path, status: (await get(path, token)).status }).toEqual({ path, status: 200 });
      },
    );

    it.each([
      ['an auditor of another Unione', ['auditor'], mir.ipa, mir.ipa],
      ['an admin of another Unione', ['admin'], mir.ipa, mir.ipa],
      ['a presidente of another Unione', ['presidente'], mir.ipa, mir.ipa],
      ['a platform user who is not auditor or admin', ['segretario', 'presidente'], v.ipa, null],
    ] as [string, Role[], string | null, string | null][])(
      '%s gets 404, exactly as for a process that does not exist',
      async (_, roles, ente, u) => {
        const token = await tokenOf(roles, ente, u);
        const missing = '7c0f3a52-4a0e-4f7e-9d51-000000000000';
        for (const [path, ghost] of READS(story.s.id).map(
          (p, i) => [p, READS(missing)[i]!] as const,
        )) {
          const res = await get(path, token);
          const none = await get(ghost, token);
          expect({ path, status: res.status, code: res.body.code }).toEqual({
            path,
            status: 404,
            code: 'PROCESS_NOT_FOUND',
          });
          expect(res.body.message.replace(story.s.id, '<id>')).toBe(
            none.body.message.replace(missing, '<id>'),
          );
        }
      },
    );

    it('lists only the caller’s Unione; a platform auditor lists every Unione', async () => {
      const other = new Scenario(h, mir.ipa, mir.comuni.slice(0, 1));
      await other.start();
      const ids = async (token: string) => {
        const res = await get('/v1/processes?limit=200', token);
        expect(res.status).toBe(200);
        return (res.body.items as { id: string }[]).map((i) => i.id);
      };
      const mine = await ids(await tokenOf(['auditor'], v.ipa, v.ipa));
      expect(mine).toContain(story.s.id);
      expect(mine).not.toContain(other.id);
      const theirs = await ids(await tokenOf(['auditor'], mir.ipa, mir.ipa));
      expect(theirs).toEqual([other.id]);
      const platform = await ids(await tokenOf(['auditor'], null, null));
      expect(platform).toEqual(expect.arrayContaining([story.s.id, other.id]));
      expect(await ids(await tokenOf(['segretario'], X, null))).toEqual([]);
    });

    it('a platform auditor or admin reads but cannot act (403)', async () => {
      const s = (await runStory(makeStory().slice(0, 1))).s;
      for (const roles of [['auditor'], ['admin']] as Role[][]) {
        const res = await h
          .http()
          .post(`/v1/processes/${s.id}/events`)
          .set('Authorization', `Bearer ${await tokenOf(roles, null, null)}`)
          .send({ type: 'convention.abandon', payload: { reason: 'x' } });
        expect(res.status).toBe(403);
      }
      expect(await s.eventCount()).toBe(2);
    });
  });
});

/** A strict RFC 4180 parser (quoted fields, doubled quotes, CRLF record ends), to read the export back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
        if (i < text.length && text[i] !== ',' && text[i] !== '\r')
          throw new Error(`garbage after a closing quote at ${i}`);
      } else {
        field += c;
        i++;
      }
    } else if (c === '"') {
      if (field !== '') throw new Error(`quote inside an unquoted field at ${i}`);
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else if (c === '\n' || c === '\r') {
      throw new Error(`bare line break outside quotes at ${i}`);
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length) throw new Error('last record not terminated by CRLF');
  const width = rows[0]?.length;
  rows.forEach((r, n) => {
    if (r.length !== width)
      throw new Error(`record ${n} has ${r.length} fields, the header ${width}`);
  });
  return rows;
}
