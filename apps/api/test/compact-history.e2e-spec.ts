import 'reflect-metadata';
import { canonicalJson } from '@app/common';
import {
  eventHash,
  FULL_SNAPSHOT_EVERY,
  GENESIS_HASH,
  replaySnapshot,
  snapshotAtSeq,
  snapshotDelta,
  type HashedEventFields,
} from '@app/engine';
import { startHarness, type Harness } from '../../../test/support/harness';
import { tamperAuditLog } from '../../../test/support/tamper';
import { Scenario, unione } from '../../../test/support/scenario';

/**
 * Issue 15, "write less per step": events of hash format 3 store the snapshot whole only at the first event
 * and every FULL_SNAPSHOT_EVERY events, patches in between. This proves the behaviour did not change:
 * - the snapshot rebuilt for every seq is exactly the one the instance had after that step, and
 *   `GET /state?at=` answers at every seq what `GET /v1/processes/:id` answered then;
 * - the same chain stored as the previous format wrote it (format 2: the whole snapshot in every event)
 *   answers `state?at=` byte for byte the same, and verification gives the same verdicts on the same tampering;
 * - a chain mixing both formats (recorded before the upgrade, continued after it) verifies and replays;
 * - an idempotent replay answers the first answer, rebuilt from the patches.
 */
const v = unione('valdera');
const [X, Y] = v.comuni as [string, string, ...string[]];
let deliberations = 500;

interface EventRow {
  seq: number;
  type: string;
  payload: unknown;
  actor_subject: string;
  actor_role: string;
  actor_ente: string | null;
  occurred_at: Date;
  recorded_at: Date;
  state_before: string | null;
  state_after: string;
  version_after: number;
  snapshot_after: unknown;
  snapshot_delta: string | null;
  snapshot_full: boolean | null;
  idempotency_key: string | null;
  request_hash: string | null;
  timer_id: string | null;
  hash_version: 1 | 2 | 3;
}

describe('compact history: the same history, state?at= and verdicts as whole snapshots (e2e)', () => {
  let h: Harness;
  let admin: string;

  beforeAll(async () => {
    h = await startHarness();
    admin = await h.token({ roles: ['admin'], ente: null, unione: null, sub: 'platform.admin' });
  });
  afterAll(async () => h.close());

  const get = (path: string) => h.http().get(path).set('Authorization', `Bearer ${admin}`);
  const verify = async (id: string) => {
    const res = await get(`/v1/processes/${id}/history/verify`);
    expect(res.status).toBe(200);
    const b = res.body as { valid: boolean; firstBadSeq: number | null; reason: string | null };
    return { valid: b.valid, firstBadSeq: b.firstBadSeq, reason: b.reason };
  };
  const tamper = (sql: string, params: unknown[]) => tamperAuditLog(h.ds, sql, params);
  const rowsOf = (id: string): Promise<EventRow[]> =>
    h.ds.query(`SELECT * FROM process_event WHERE instance_id = $1 ORDER BY seq`, [id]);

  /**
   * A convention with `extensions` deadline extensions (each moves the timers), a deliberation and an
   * idempotent step; after each step the instance's snapshot and GET /v1/processes/:id are recorded.
   */
  async function story(extensions: number) {
    const s = new Scenario(h, v.ipa, [X, Y]);
    await s.start();
    const seen: { snapshot: unknown; view: Record<string, unknown> }[] = [];
    const record = async () => {
      const [row] = await h.ds.query<{ snapshot: unknown; last_seq: number }[]>(
        `SELECT snapshot, last_seq FROM process_instance WHERE id = $1`,
        [s.id],
      );
      seen[row!.last_seq] = { snapshot: row!.snapshot, view: (await s.get()).body };
    };
    await record();
    await s.freeze();
    await record();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    await record();
    let t = h.clock.now().getTime();
    for (let i = 0; i < extensions; i++) {
      h.clock.set(new Date((t += 3_600_000)));
      const ente = [X, Y, undefined][i % 3];
      await s.ok('staff', v.ipa, 'convention.deadline.extend', {
        ...(ente ? { ente } : {}),
        days: 1 + (i % 4),
        reason: `Proroga ${i + 1}`,
      });
      await record();
    }
    h.clock.set(new Date((t += 3_600_000)));
    const key = { 'Idempotency-Key': `compact-${s.id}` };
    const payload = {
      ente: X,
      number: String(++deliberations),
      date: '2026-02-09',
      outcome: 'RINVIATA',
    };
    const first = await s.send('segretario', X, 'convention.deliberation.record', payload, key);
    expect(first.status).toBe(200);
    await record();
    return { s, seen, first: first.body as Record<string, unknown>, payload, key };
  }

  /** GET state?at= at the occurred_at of every event (the events are apart in time: one answer per seq) */
  async function statesAt(id: string): Promise<unknown[]> {
    const rows = await rowsOf(id);
    const out: unknown[] = [];
    for (const r of rows) {
      const res = await get(
        `/v1/processes/${id}/state?at=${encodeURIComponent(r.occurred_at.toISOString())}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.seq).toBe(r.seq);
      out[r.seq] = res.body;
    }
    return out;
  }

  /**
   * Re-store a chain as an older format would have (format 1 or 2: the whole snapshot in snapshot_after),
   * or as format 3 stores it (whole or a patch, as the engine writes it), per seq, re-hashing everything
   * from the genesis hash.
   */
  async function restore(id: string, format: (seq: number) => 1 | 2 | 3): Promise<void> {
    const rows = await rowsOf(id);
    // the whole snapshot after row i, rebuilt from the rows as read (only when a row's format needs it)
    const read = structuredClone(rows);
    const whole = (i: number) =>
      replaySnapshot(read.slice(0, i + 1).map((r) => structuredClone(r)));
    let prev = GENESIS_HASH;
    for (const [i, r] of rows.entries()) {
      const f = format(r.seq);
      if (f !== 3) {
        r.snapshot_after = whole(i);
        r.snapshot_delta = null;
        r.snapshot_full = null;
      } else if (r.snapshot_delta === null) {
        const d = snapshotDelta(r.seq, i === 0 ? undefined : whole(i - 1), whole(i));
        r.snapshot_after = null;
        r.snapshot_delta = d.text;
        r.snapshot_full = d.full;
      }
      const fields: HashedEventFields = {
        instanceId: id,
        seq: r.seq,
        type: r.type,
        payload: r.payload,
        actor: { subject: r.actor_subject, role: r.actor_role, ente: r.actor_ente },
        occurredAt: r.occurred_at.toISOString(),
        stateBefore: r.state_before,
        stateAfter: r.state_after,
        versionAfter: r.version_after,
        snapshotAfter: r.snapshot_after,
        snapshotDelta: r.snapshot_delta,
        snapshotFull: r.snapshot_full,
        recordedAt: r.recorded_at.toISOString(),
        idempotencyKey: r.idempotency_key,
        requestHash: r.request_hash,
        timerId: r.timer_id,
      };
      const hash = eventHash(prev, fields, f);
      await tamper(
        `UPDATE process_event SET prev_hash = $3, hash = $4, hash_version = $5, snapshot_after = $6,
           snapshot_delta = $7, snapshot_full = $8 WHERE instance_id = $1 AND seq = $2`,
        [id, r.seq, prev, hash, f, r.snapshot_after, r.snapshot_delta, r.snapshot_full],
      );
      prev = hash;
    }
    await h.ds.query(`UPDATE process_instance SET last_hash = $2 WHERE id = $1`, [id, prev]);
  }

  describe('a long chain (whole snapshots at seq 1 and 1 + FULL_SNAPSHOT_EVERY, patches between)', () => {
    let st: Awaited<ReturnType<typeof story>>;
    let threes: unknown[];
    beforeAll(async () => {
      st = await story(FULL_SNAPSHOT_EVERY + 4);
    });

    it('stores format 3: whole snapshots where the rule says, small patches elsewhere', async () => {
      const rows = await rowsOf(st.s.id);
      expect(rows.length).toBe(FULL_SNAPSHOT_EVERY + 8);
      expect(rows.every((r) => r.hash_version === 3 && r.snapshot_after === null)).toBe(true);
      expect(rows.filter((r) => r.snapshot_full).map((r) => r.seq)).toEqual([
        1,
        1 + FULL_SNAPSHOT_EVERY,
      ]);
      const whole = rows.find((r) => r.seq === 1 + FULL_SNAPSHOT_EVERY)!.snapshot_delta!.length;
      const patches = rows.filter((r) => !r.snapshot_full).map((r) => r.snapshot_delta!.length);
      // what "write less" means: a patch is a fraction of the snapshot
      expect(Math.max(...patches)).toBeLessThan(whole / 2);
      expect(await verify(st.s.id)).toEqual({ valid: true, firstBadSeq: null, reason: null });
    });

    it('rebuilds, for every seq, exactly the snapshot the instance had after that step', async () => {
      for (let seq = 1; seq < st.seen.length; seq++) {
        const rebuilt = await snapshotAtSeq((sql, p) => h.ds.query(sql, p), st.s.id, seq);
        expect(canonicalJson(rebuilt)).toBe(canonicalJson(st.seen[seq]!.snapshot));
      }
    });

    it('answers state?at= at every seq what GET /v1/processes/:id answered then', async () => {
      threes = await statesAt(st.s.id);
      for (let seq = 1; seq < st.seen.length; seq++) {
        const then = st.seen[seq]!.view;
        expect(threes[seq]).toMatchObject({
          version: then['version'],
          state: then['state'],
          status: then['status'],
          data: then['data'],
        });
      }
    });

    it('replays an idempotent step with its first answer, rebuilt from the patches', async () => {
      const again = await st.s.send(
        'segretario',
        X,
        'convention.deliberation.record',
        st.payload,
        st.key,
      );
      expect(again.status).toBe(200);
      const { allowedEvents: _a, ...firstBody } = st.first;
      const { allowedEvents: _b, ...againBody } = again.body as Record<string, unknown>;
      expect(againBody).toEqual(firstBody);
    });

    it('the same chain stored whole (format 2, as before) answers state?at= the same at every seq', async () => {
      await restore(st.s.id, () => 2);
      expect(await verify(st.s.id)).toEqual({ valid: true, firstBadSeq: null, reason: null });
      expect(await statesAt(st.s.id)).toEqual(threes);
    });

    it('a chain recorded in format 2 and continued in format 3 verifies and replays', async () => {
      // stored as before the upgrade up to seq 20, as after it from then on
      await restore(st.s.id, (seq) => (seq <= 20 ? 2 : 3));
      const rows = await rowsOf(st.s.id);
      expect(rows.filter((r) => r.hash_version === 2).length).toBe(20);
      expect(await verify(st.s.id)).toEqual({ valid: true, firstBadSeq: null, reason: null });
      expect(await statesAt(st.s.id)).toEqual(threes);
      // and the engine goes on appending format 3 to a chain it did not write that way
      h.clock.set(new Date(Date.parse('2026-02-20T09:00:00Z')));
      await st.s.ok('staff', v.ipa, 'convention.deadline.extend', { days: 2, reason: 'Ancora' });
      const [last] = await h.ds.query<EventRow[]>(
        `SELECT * FROM process_event WHERE instance_id = $1 ORDER BY seq DESC LIMIT 1`,
        [st.s.id],
      );
      expect(last).toMatchObject({ hash_version: 3, snapshot_full: false });
      expect(await verify(st.s.id)).toEqual({ valid: true, firstBadSeq: null, reason: null });
    });

    it('a patch edited (and the chain re-hashed) is named: the snapshot no longer is the instance one', async () => {
      const rows = await rowsOf(st.s.id);
      const target = rows.find((r) => !r.snapshot_full && r.seq > 1 + FULL_SNAPSHOT_EVERY)!;
      const patch = JSON.parse(target.snapshot_delta!) as unknown[];
      const forged = canonicalJson([...patch, { op: 'add', path: '/context/forged', value: true }]);
      await tamper(
        `UPDATE process_event SET snapshot_delta = $3 WHERE instance_id = $1 AND seq = $2`,
        [st.s.id, target.seq, forged],
      );
      expect(await verify(st.s.id)).toMatchObject({
        valid: false,
        firstBadSeq: target.seq,
        reason: 'hash does not match the event content',
      });
      await restore(st.s.id, () => 3);
      expect(await verify(st.s.id)).toMatchObject({
        valid: false,
        firstBadSeq: rows.length,
        reason: expect.stringMatching(/differs from the snapshot after its last event/),
      });
      // a patch that does not apply is named at its seq
      await tamper(
        `UPDATE process_event SET snapshot_delta = $3 WHERE instance_id = $1 AND seq = $2`,
        [st.s.id, target.seq, canonicalJson([{ op: 'remove', path: '/nowhere/at/all' }])],
      );
      await restore(st.s.id, () => 3);
      expect(await verify(st.s.id)).toMatchObject({
        valid: false,
        firstBadSeq: target.seq,
        reason: expect.stringMatching(/cannot be rebuilt/),
      });
    });
  });

  describe('the same verdicts on the same tampering, stored in format 3 or as before (format 2)', () => {
    const cases: [string, (id: string) => Promise<void>][] = [
      [
        'a payload edited',
        (id) =>
          tamper(
            `UPDATE process_event SET payload = payload || '{"x": 1}' WHERE instance_id = $1 AND seq = 4`,
            [id],
          ),
      ],
      [
        'a __proto__ key slipped into a payload',
        (id) =>
          tamper(
            `UPDATE process_event SET payload = payload || '{"__proto__": {"admin": true}}'::jsonb WHERE instance_id = $1 AND seq = 2`,
            [id],
          ),
      ],
      [
        'recorded_at edited',
        (id) =>
          tamper(
            `UPDATE process_event SET recorded_at = recorded_at - interval '3 days' WHERE instance_id = $1 AND seq = 3`,
            [id],
          ),
      ],
      [
        'the last event removed',
        (id) =>
          tamper(
            `DELETE FROM process_event WHERE instance_id = $1 AND seq = (SELECT max(seq) FROM process_event WHERE instance_id = $1)`,
            [id],
          ),
      ],
      [
        'the instance snapshot edited',
        (id) =>
          h.ds.query(
            `UPDATE process_instance SET snapshot = jsonb_set(snapshot, '{context,title}', '"Altro"') WHERE id = $1`,
            [id],
          ),
      ],
      [
        'the tenant moved',
        (id) => h.ds.query(`UPDATE process_instance SET tenant = 'u_miracoli' WHERE id = $1`, [id]),
      ],
      [
        'the status moved',
        (id) => h.ds.query(`UPDATE process_instance SET status = 'completed' WHERE id = $1`, [id]),
      ],
    ];
    it.each(cases)('%s', async (_name, edit) => {
      const three = (await story(3)).s.id;
      const two = (await story(3)).s.id;
      await restore(two, () => 2);
      await edit(three);
      await edit(two);
      const verdict = await verify(three);
      expect(verdict.valid).toBe(false);
      expect(verdict).toEqual(await verify(two));
    });
  });
});
