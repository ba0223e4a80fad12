import 'reflect-metadata';
import { generateKeyPairSync } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import {
  checkpointConfigFrom,
  eventHash,
  GENESIS_HASH,
  loadCheckpoint,
  replaySnapshot,
  signCheckpoint,
  snapshotAtSeq,
  verifyChain,
  writeCheckpointNow,
  type HashedEventFields,
} from '@app/engine';
import { verifyRegistryChain } from '@app/persistence';
import { defaultRegistry } from '@app/workflows';
import { runCli } from '../../../test/support/cli';
import { startHarness, type Harness } from '../../../test/support/harness';
import { tamperAuditLog } from '../../../test/support/tamper';
import { Scenario, unione } from '../../../test/support/scenario';

/**
 * Issue 9 item 3: what the database operator (a superuser here: it disables the append-only trigger) does to
 * history is detected, by GET /v1/processes/:id/history/verify AND by `iter verify-audit` run as a child
 * process against the same database:
 * - a chain edited and re-hashed end to end (consistent on its own) is caught by the signed checkpoint;
 * - `tenant` moved by SQL (another Unione's presidente could act) is caught against the audited start event;
 * - a `__proto__` key slipped into a payload is covered by the hash (RFC 8785 keeps it);
 * - an edited `recorded_at` is covered by the hash (format 2);
 * - checkpoint mismatches are named: hash at the checkpointed seq, chain shorter, chain missing;
 * - the ente registry's own chain: an update keeps the fields it omits, and a registry row edited by SQL is named.
 */
const v = unione('valdera');
const [X, Y] = v.comuni as [string, string, ...string[]];
/** deliberation numbers are unique per ente, organ and year: a new one per process */
let deliberations = 0;
const registry = defaultRegistry();

describe('tampering by the database operator is detected (e2e)', () => {
  let h: Harness;
  let admin: string;

  beforeAll(async () => {
    h = await startHarness();
    admin = await h.token({ roles: ['admin'], ente: null, unione: null, sub: 'platform.admin' });
  });
  afterAll(async () => h.close());

  const cli = (args: string[]) =>
    runCli(args, {
      DATABASE_URL: h.config.databaseUrl,
      CHECKPOINT_DIR: h.config.checkpointDir,
    });
  const verifyHttp = async (id: string) => {
    const res = await h
      .http()
      .get(`/v1/processes/${id}/history/verify`)
      .set('Authorization', `Bearer ${admin}`);
    expect(res.status).toBe(200);
    // the API reads the chain in pages of 500; the verdict is the same one event (or three) per page, so a
    // failure or a checkpointed seq in a later page, and a gap across a page boundary, are found the same
    const checkpoint = await loadCheckpoint(checkpointConfigFrom(h.config));
    for (const pageSize of [1, 3]) {
      const paged = await verifyChain(h.ds, id, { registry, checkpoint, pageSize });
      expect(JSON.parse(JSON.stringify(paged))).toEqual(res.body);
    }
    return res.body as {
      valid: boolean;
      firstBadSeq: number | null;
      reason: string | null;
      checkpoint?: { status: string; moved: { chain: string; reason: string }[] };
    };
  };
  const tamper = (sql: string, params: unknown[]) => tamperAuditLog(h.ds, sql, params);
  /** a process of 4 events: started, frozen, sent, one deliberation */
  async function fresh(): Promise<string> {
    const s = new Scenario(h, v.ipa, [X, Y]);
    await s.start();
    await s.freeze();
    await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    await s.approve(X, String(++deliberations), '2026-02-09');
    return s.id;
  }
  const checkpoint = () =>
    writeCheckpointNow(h.ds, checkpointConfigFrom(h.config), new Date(), { force: true });

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
  const fieldsOf = (id: string, r: EventRow): HashedEventFields => ({
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
  });
  /**
   * What a careful forger does: recompute every hash from the first event on, and move the instance head.
   * Also how a chain recorded before an upgrade is made: `version` (per seq) 1 or 2 stores the whole snapshot
   * in snapshot_after, as those formats did; 3 keeps the event's snapshot text as the engine wrote it.
   */
  async function rehashChain(
    id: string,
    version: 1 | 2 | 3 | ((seq: number) => 1 | 2 | 3) = 3,
  ): Promise<void> {
    const rows: EventRow[] = await h.ds.query(
      `SELECT * FROM process_event WHERE instance_id = $1 ORDER BY seq`,
      [id],
    );
    let prev = GENESIS_HASH;
    for (const [i, r] of rows.entries()) {
      const v = typeof version === 'function' ? version(r.seq) : version;
      if (v !== 3 && r.snapshot_delta !== null) {
        r.snapshot_after = replaySnapshot(rows.slice(0, i + 1).map((x) => structuredClone(x)));
        r.snapshot_delta = null;
        r.snapshot_full = null;
      }
      if (v === 3 && r.snapshot_delta === null) throw new Error('a format 3 event needs its text');
      const hash = eventHash(prev, fieldsOf(id, r), v);
      await tamper(
        `UPDATE process_event SET prev_hash = $3, hash = $4, hash_version = $5, snapshot_after = $6,
           snapshot_delta = $7, snapshot_full = $8
         WHERE instance_id = $1 AND seq = $2`,
        [id, r.seq, prev, hash, v, r.snapshot_after, r.snapshot_delta, r.snapshot_full],
      );
      prev = hash;
    }
    await h.ds.query(`UPDATE process_instance SET last_hash = $2 WHERE id = $1`, [id, prev]);
  }
  /** what `iter verify-audit` must print about each chain: checked by one run at the end (a CLI run is slow) */
  const cliExpected: { id: string; pattern: RegExp }[] = [];
  const expectCliNames = (id: string, pattern: RegExp) => cliExpected.push({ id, pattern });
  const cliLines: string[] = [];

  it('new events use hash format 3; a chain of format 1 or 2 (recorded before the upgrade) still verifies', async () => {
    const id = await fresh();
    const versions: { hash_version: number }[] = await h.ds.query(
      `SELECT DISTINCT hash_version FROM process_event WHERE instance_id = $1`,
      [id],
    );
    expect(versions).toEqual([{ hash_version: 3 }]);
    await rehashChain(id, 1);
    expect(await verifyHttp(id)).toMatchObject({ valid: true, firstBadSeq: null });
    await rehashChain(id, 2);
    expect(await verifyHttp(id)).toMatchObject({ valid: true, firstBadSeq: null });
  });

  it('the writer skips a checkpoint when nothing moved, and writes JSON an operator can archive (also `iter checkpoint`)', async () => {
    const cfg = checkpointConfigFrom(h.config);
    const first = await writeCheckpointNow(h.ds, cfg, new Date(), { force: true });
    const again = await writeCheckpointNow(h.ds, cfg, new Date());
    expect(again).toMatchObject({ written: false, file: first.file });
    const out = await cli(['checkpoint', '--force']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(
      /checkpoint written .*checkpoint-\d{8}T\d{9}Z\.json: \d+ chains, merkle root [0-9a-f]{64}/,
    );
    const files = (await readdir(cfg.dir)).filter((f) => f.endsWith('.json'));
    expect(files.length).toBe(2);
  });

  it('a checkpoint file edited by hand is reported untrusted, not believed', async () => {
    const id = await fresh();
    const cp = await checkpoint();
    const original = await readFile(cp.file, 'utf8');
    const edited = {
      ...cp.checkpoint,
      chains: cp.checkpoint.chains.map((c) => (c.chain === id ? { ...c, seq: 99 } : c)),
    };
    await writeFile(cp.file, JSON.stringify(edited));
    const r = await verifyHttp(id);
    expect(r.checkpoint).toMatchObject({
      status: 'untrusted',
      problem: 'the Merkle root does not match the chain heads listed',
    });
    // re-signed with another key: refused too
    const other = generateKeyPairSync('ed25519').privateKey;
    const forged = signCheckpoint(edited.chains, other, new Date(cp.checkpoint.createdAt));
    await writeFile(cp.file, JSON.stringify(forged));
    expect((await verifyHttp(id)).checkpoint).toMatchObject({
      status: 'untrusted',
      problem: expect.stringMatching(/signature does not verify/),
    });
    await writeFile(cp.file, original);
    expect((await verifyHttp(id)).checkpoint).toMatchObject({ status: 'ok' });
  });

  describe('against the checkpoint taken before the edits', () => {
    const ids = { rehashed: '', shorter: '', gone: '' };
    beforeAll(async () => {
      ids.rehashed = await fresh();
      ids.shorter = await fresh();
      ids.gone = await fresh();
      const cp = await checkpoint();
      expect(cp.checkpoint.chains.find((c) => c.chain === ids.rehashed)).toMatchObject({ seq: 4 });
    });

    it('a chain edited and re-hashed end to end verifies on its own, but not against the checkpoint', async () => {
      const id = ids.rehashed;
      await tamper(
        `UPDATE process_event SET payload = jsonb_set(payload, '{number}', '"1"') WHERE instance_id = $1 AND seq = 4`,
        [id],
      );
      await rehashChain(id);
      const r = await verifyHttp(id);
      expect(r).toMatchObject({
        valid: false,
        firstBadSeq: 4,
        reason: expect.stringMatching(/hash at checkpointed seq 4 differs/),
        checkpoint: { status: 'mismatch', moved: [{ chain: id }] },
      });
      expectCliNames(id, /^MOVED .*: hash at checkpointed seq 4 differs from the checkpoint/);
    });

    it('names a chain cut back below the checkpoint (shorter) and one removed altogether (missing)', async () => {
      const { shorter, gone } = ids;
      // shorter: the last event removed and the head moved back
      const [third] = await h.ds.query<{ hash: string; version_after: number }[]>(
        `SELECT hash, version_after FROM process_event WHERE instance_id = $1 AND seq = 3`,
        [shorter],
      );
      const thirdSnapshot = await snapshotAtSeq((sql, p) => h.ds.query(sql, p), shorter, 3);
      await tamper(`DELETE FROM process_event WHERE instance_id = $1 AND seq = 4`, [shorter]);
      await h.ds.query(`DELETE FROM act_registry WHERE instance_id = $1`, [shorter]);
      await h.ds.query(
        `UPDATE process_instance SET last_seq = 3, last_hash = $2, version = $3, snapshot = $4 WHERE id = $1`,
        [shorter, third!.hash, third!.version_after, thirdSnapshot],
      );
      const r = await verifyHttp(shorter);
      // the forger did not fix the state columns: that shows too; the checkpoint names what moved
      expect(r).toMatchObject({ valid: false, checkpoint: { status: 'mismatch' } });
      expect(r.checkpoint!.moved).toEqual([
        {
          chain: shorter,
          reason: 'chain shorter than the checkpoint: 3 events, checkpointed at seq 4',
        },
      ]);
      expectCliNames(shorter, /^MOVED .*: chain shorter than the checkpoint/);
      // missing: the whole process removed
      await tamper(`DELETE FROM process_event WHERE instance_id = $1`, [gone]);
      for (const t of ['act_registry', 'timer', 'outbox'])
        await h.ds.query(`DELETE FROM ${t} WHERE instance_id = $1`, [gone]);
      await h.ds.query(`DELETE FROM process_instance WHERE id = $1`, [gone]);
      expectCliNames(gone, /^MOVED .*: chain missing \(the checkpoint has it at seq 4\)/);
    });
  });

  it('names a tenant moved by SQL (another Unione would act on it), over HTTP and in the CLI', async () => {
    const id = await fresh();
    expect(await verifyHttp(id)).toMatchObject({ valid: true });
    await h.ds.query(`UPDATE process_instance SET tenant = 'u_miracoli' WHERE id = $1`, [id]);
    expect(await verifyHttp(id)).toMatchObject({
      valid: false,
      firstBadSeq: 4,
      reason: expect.stringMatching(/instance columns differ from the audited snapshot: tenant/),
    });
    expectCliNames(id, /^INVALID .*: first bad seq 4 \(instance columns differ .*tenant/);
  });

  it.each([
    ['participants', `participants = array_append(participants, 'c_b865')`],
    ['state_value', `state_value = 'IN_FORCE'`],
    ['status', `status = 'completed'`],
    ['pending_entes', `pending_entes = '{}'`],
    ['title', `title = 'Altro'`],
  ])('names %s moved by SQL', async (column, set) => {
    const id = await fresh();
    await h.ds.query(`UPDATE process_instance SET ${set} WHERE id = $1`, [id]);
    expect(await verifyHttp(id)).toMatchObject({
      valid: false,
      reason: expect.stringContaining(column),
    });
  });

  it('a __proto__ key slipped into a payload is covered by the hash', async () => {
    const id = await fresh();
    await tamper(
      `UPDATE process_event SET payload = payload || '{"__proto__": {"admin": true}}'::jsonb WHERE instance_id = $1 AND seq = 2`,
      [id],
    );
    const [row] = await h.ds.query<{ payload: Record<string, unknown> }[]>(
      `SELECT payload FROM process_event WHERE instance_id = $1 AND seq = 2`,
      [id],
    );
    expect(Object.keys(row!.payload)).toContain('__proto__'); // it is there, as an own key
    expect(await verifyHttp(id)).toMatchObject({
      valid: false,
      firstBadSeq: 2,
      reason: expect.stringMatching(/hash does not match/),
    });
    expectCliNames(id, /^INVALID .*: first bad seq 2 \(hash does not match/);
  });

  it('an edited recorded_at is covered by the hash', async () => {
    const id = await fresh();
    await tamper(
      `UPDATE process_event SET recorded_at = recorded_at - interval '3 days' WHERE instance_id = $1 AND seq = 3`,
      [id],
    );
    expect(await verifyHttp(id)).toMatchObject({ valid: false, firstBadSeq: 3 });
    expectCliNames(id, /^INVALID .*: first bad seq 3 \(hash does not match/);
  });

  describe('the ente registry chain', () => {
    const post = (body: object) =>
      h.http().post('/v1/entes').set('Authorization', `Bearer ${admin}`).send(body);
    const registry = async () => ({ registry: await verifyRegistryChain(h.ds) });

    it('an update keeps the fields it omits (pec, popolazione feed notices and the quorum) and is audited', async () => {
      const full = {
        kind: 'COMUNE',
        denominazione: 'Comune di registro',
        codiceIpa: 'c_z990',
        codiceIstat: '050990',
        pec: 'protocollo@pec.comune-registro.invalid',
        popolazione: 4321,
        unione: v.ipa,
      };
      expect((await post(full)).status).toBe(201);
      const res = await post({
        kind: 'COMUNE',
        denominazione: 'Comune di registro (nuovo nome)',
        codiceIpa: 'c_z990',
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        denominazione: 'Comune di registro (nuovo nome)',
        pec: full.pec,
        popolazione: 4321,
        codiceIstat: '050990',
        unione: v.ipa,
      });
      const events: { op: string; changed: string[]; actor_subject: string }[] = await h.ds.query(
        `SELECT op, changed, actor_subject FROM ente_event WHERE codice_ipa = 'c_z990' ORDER BY seq`,
      );
      expect(events).toEqual([
        expect.objectContaining({ op: 'create', actor_subject: 'platform.admin' }),
        { op: 'update', changed: ['denominazione'], actor_subject: 'platform.admin' },
      ]);
      // the same request again changes nothing and records nothing
      await post({
        kind: 'COMUNE',
        denominazione: 'Comune di registro (nuovo nome)',
        codiceIpa: 'c_z990',
      });
      expect(
        (
          await h.ds.query(`SELECT count(*)::int AS n FROM ente_event WHERE codice_ipa = 'c_z990'`)
        )[0].n,
      ).toBe(2);
      expect((await registry()).registry).toMatchObject({ valid: true });
    });

    it('names an ente edited by SQL outside the registry (popolazione moves the quorum)', async () => {
      await h.ds.query(`UPDATE ente SET popolazione = 1 WHERE codice_ipa = $1`, [Y]);
      const r = await registry();
      expect(r.registry.valid).toBe(false);
      expect(r.registry.problems).toEqual(
        expect.arrayContaining([
          { seq: null, ente: Y, reason: 'ente differs from its last audited record (popolazione)' },
        ]),
      );
      cliLines.push(
        `INVALID ente-registry ${Y}: ente differs from its last audited record (popolazione)`,
      );
    });

    it('names an edited registry event', async () => {
      await tamperAuditLog(
        h.ds,
        `UPDATE ente_event SET data = jsonb_set(data, '{pec}', '"x@pec.invalid"') WHERE seq = 2`,
        [],
        'ente_event',
      );
      const r = await registry();
      expect(r.registry.problems).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ seq: 2, reason: 'hash does not match the event content' }),
        ]),
      );
    });
  });
  it('`iter verify-audit` (a child process on the same database) names every one of them, and exits 1', async () => {
    expect(cliExpected.length).toBeGreaterThanOrEqual(6);
    const [text, json] = await Promise.all([
      cli(['verify-audit']),
      cli(['verify-audit', '--json']),
    ]);
    expect(text.code).toBe(1);
    expect(json.code).toBe(1);
    for (const { id, pattern } of cliExpected) {
      const lines = text.stdout.split('\n').filter((l) => l.includes(id));
      expect({ id, lines }).toEqual({
        id,
        lines: expect.arrayContaining([expect.stringMatching(pattern)]),
      });
    }
    for (const line of cliLines) expect(text.stdout).toContain(line);
    const summary = JSON.parse(json.stdout.trim().split('\n').pop()!) as {
      invalid: number;
      registry: { valid: boolean };
      checkpoint: { status: string; moved: { chain: string; reason: string }[] };
    };
    expect(summary.registry.valid).toBe(false);
    expect(summary.checkpoint.status).toBe('mismatch');
    expect(summary.checkpoint.moved.map((m) => m.chain)).toEqual(
      expect.arrayContaining(
        cliExpected.filter((e) => e.pattern.source.includes('MOVED')).map((e) => e.id),
      ),
    );
  });
});
