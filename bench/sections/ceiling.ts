import { createHash } from 'node:crypto';
import { Client, Pool, type PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import type { BenchContext } from '../lib/context';
import { closedLoop, type LoopResult } from '../lib/load';
import { fmtInt, nowMs, Samples } from '../lib/stats';
import { cloneInstances } from './fill';

/**
 * Iter's own transition SQL: the columns Engine.dispatch locks and reads (LOCK_SQL in
 * libs/engine/src/engine.service.ts), its versioned UPDATE and its audit INSERT (persistStep). Built from the
 * columns the tables have in this run (see iterStatements), so a migration that drops one (armed_timers, say)
 * leaves the line measuring what the schema now holds.
 */
const LOCK_COLUMNS = [
  'id',
  'definition_key',
  'definition_version',
  'tenant',
  'business_key',
  'state_value',
  'snapshot',
  'version',
  'participants',
  'armed_timers',
  'last_seq',
  'last_hash',
  'created_at',
  'updated_at',
];
/** what the engine writes to the instance, in this order of parameters after the id */
const UPDATE_COLUMNS = [
  'snapshot',
  'version',
  'state_value',
  'status',
  'title',
  'pending_entes',
  'next_deadline',
  'armed_timers',
  'last_seq',
  'last_hash',
  'updated_at',
] as const;
/** what the engine appends, in this order of parameters */
const EVENT_COLUMNS = [
  'instance_id',
  'seq',
  'type',
  'payload',
  'actor_subject',
  'actor_role',
  'actor_ente',
  'occurred_at',
  'state_before',
  'state_after',
  'version_after',
  'snapshot_after',
  'snapshot_delta',
  'snapshot_full',
  'hash_version',
  'idempotency_key',
  'request_hash',
  'timer_id',
  'prev_hash',
  'hash',
] as const;

interface IterStatements {
  lock: string;
  read: string;
  update: string;
  insert: string;
  oneStatement: string;
  updateColumns: (typeof UPDATE_COLUMNS)[number][];
  eventColumns: (typeof EVENT_COLUMNS)[number][];
}

async function iterStatements(ds: DataSource): Promise<IterStatements> {
  const rows: { t: string; c: string }[] = await ds.query(
    `SELECT table_name AS t, column_name AS c FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name IN ('process_instance', 'process_event')`,
  );
  const has = (t: string) => (c: string) => rows.some((r) => r.t === t && r.c === c);
  const lockCols = LOCK_COLUMNS.filter(has('process_instance'));
  const updateColumns = UPDATE_COLUMNS.filter(has('process_instance'));
  const eventColumns = EVENT_COLUMNS.filter(has('process_event'));
  const lock = `SELECT ${lockCols.join(', ')} FROM process_instance WHERE id = $1 FOR UPDATE`;
  const set = updateColumns.map((c, i) => `${c} = $${i + 2}`).join(', ');
  const n = updateColumns.length;
  const update = `UPDATE process_instance SET ${set} WHERE id = $1 AND version = $${n + 2}`;
  const insert = `INSERT INTO process_event (${eventColumns.join(', ')}) VALUES (${eventColumns.map((_, i) => `$${i + 1}`).join(', ')})`;
  // the same write as ONE statement: versioned update and append together; the event's parameters follow the
  // update's (its instance id is the updated row's), the expected version comes last
  const evParams = eventColumns.filter((c) => c !== 'instance_id');
  const oneStatement = `WITH upd AS (UPDATE process_instance SET ${set} WHERE id = $1 AND version = $${n + 2 + evParams.length} RETURNING id)
  INSERT INTO process_event (instance_id, ${evParams.join(', ')}) SELECT id, ${evParams.map((_, i) => `$${n + 2 + i}`).join(', ')} FROM upd`;
  return {
    lock,
    read: lock.replace(' FOR UPDATE', ''),
    update,
    insert,
    oneStatement,
    updateColumns,
    eventColumns,
  };
}

/**
 * The minimal durable transition (issue 15's reference): its own two tables, shaped like the work a transition
 * must do and no more. The head: what the hot path reads (state, version, chain head) and a 600 B jsonb of
 * data; the event: the payload, the hash chain link and the time, keyed (instance, seq) with its foreign key.
 */
const MINIMAL_TABLES_SQL = `
  DROP TABLE IF EXISTS bench_minimal_event;
  DROP TABLE IF EXISTS bench_minimal_head;
  CREATE TABLE bench_minimal_head (
    id uuid PRIMARY KEY,
    version int NOT NULL,
    state text NOT NULL,
    head jsonb NOT NULL,
    last_seq int NOT NULL,
    last_hash text NOT NULL,
    updated_at timestamptz NOT NULL
  );
  CREATE TABLE bench_minimal_event (
    instance_id uuid NOT NULL REFERENCES bench_minimal_head (id),
    seq int NOT NULL,
    type text NOT NULL,
    payload jsonb NOT NULL,
    occurred_at timestamptz NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    PRIMARY KEY (instance_id, seq)
  );`;
const MINIMAL_FILL_SQL = `INSERT INTO bench_minimal_head (id, version, state, head, last_seq, last_hash, updated_at)
  SELECT gen_random_uuid(), 1, 'IN_DELIBERATION', $1::jsonb, 0, repeat('0', 64), now() FROM generate_series(1, $2::int)
  RETURNING id`;
const MINIMAL_LOCK_SQL = `SELECT version, state, last_seq, last_hash FROM bench_minimal_head WHERE id = $1 FOR UPDATE`;
const MINIMAL_READ_SQL = MINIMAL_LOCK_SQL.replace(' FOR UPDATE', '');
const MINIMAL_UPDATE_SQL = `UPDATE bench_minimal_head SET version = $2, state = $3, head = $4, last_seq = $5, last_hash = $6,
  updated_at = $7 WHERE id = $1 AND version = $8`;
const MINIMAL_INSERT_SQL = `INSERT INTO bench_minimal_event (instance_id, seq, type, payload, occurred_at, prev_hash, hash)
  VALUES ($1, $2, $3, $4, $5, $6, $7)`;
const MINIMAL_ONE_STATEMENT_SQL = `WITH upd AS (
    UPDATE bench_minimal_head SET version = $2, state = $3, head = $4, last_seq = $5, last_hash = $6, updated_at = $7
    WHERE id = $1 AND version = $8 RETURNING id)
  INSERT INTO bench_minimal_event (instance_id, seq, type, payload, occurred_at, prev_hash, hash)
  SELECT id, $5, $9, $10, $7, $11, $6 FROM upd`;

interface MinimalRow {
  version: number;
  state: string;
  last_seq: number;
  last_hash: string;
}

interface Template {
  snapshot: string;
  armedTimers: string;
  state: string;
  status: string;
  title: string;
  pendingEntes: string[];
  nextDeadline: Date | null;
  snapshotBytes: number;
}

interface Row {
  version: number;
  last_seq: number;
  last_hash: string;
  state_value: string;
}

const PAYLOAD = JSON.stringify({
  ente: 'c_g843',
  number: '48',
  date: '2026-03-09',
  outcome: 'RINVIATA',
});
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** A ring of instances: each one is held by at most one client at a time. */
class Ring {
  private i = 0;
  private readonly free: string[];
  constructor(ids: string[]) {
    this.free = [...ids];
  }
  take(): string {
    const id = this.free[this.i++];
    if (id === undefined) throw new Error('ring empty: more clients than instances');
    if (this.i > 10_000) {
      this.free.splice(0, this.i);
      this.i = 0;
    }
    return id;
  }
  give(id: string): void {
    this.free.push(id);
  }
}

/**
 * 1. Ceiling. The reference every engine ratio is computed against (issue 15): the MINIMAL DURABLE TRANSITION
 * from Node — BEGIN; lock the head row (SELECT … FOR UPDATE); versioned UPDATE of a 600 B head; INSERT of the
 * event with its payload and hash (computed in Node); COMMIT: 5 round trips, on two tables of its own shaped like
 * that (bench_minimal_head, bench_minimal_event). Next to it, Iter's own transition SQL (the same 5 round trips
 * on the real schema with a real convention's rows: what the engine sends today), and the one-statement
 * variants (an unlocked read, then the versioned update and the append in ONE statement: 2 round trips).
 */
export async function ceilingSection(ctx: BenchContext, templateId: string): Promise<void> {
  const { world, sizes, report, progress } = ctx;
  const t: Template = await loadTemplate(ctx, templateId);
  const small = smallTemplate(t);
  const iter = await iterStatements(world.ds);
  progress.log(
    `ceiling: Iter's rows: snapshot ${fmtInt(t.snapshotBytes)} B + armed_timers ${fmtInt(t.armedTimers.length)} B per write; ` +
      `minimal: head ${fmtInt(small.snapshotBytes)} B, payload ${PAYLOAD.length} B`,
  );
  const rtt = await roundTrip(world.config.databaseUrl, ctx.quick ? 1000 : 5000);
  progress.log(`ceiling: one round trip (SELECT 1) p50 ${rtt.p50} µs, p99 ${rtt.p99} µs`);
  report.add({
    section: '1 ceiling',
    name: 'one round trip (SELECT 1) p50',
    value: rtt.p50,
    unit: 'µs',
    note: `p99 ${rtt.p99} µs; calibrates the machine (DESIGN.md: 60–80 µs)`,
  });
  const ids = await cloneInstances(world.ds, templateId, sizes.ceilingInstances, 'ceiling', false);
  const ring = new Ring(ids);
  await world.ds.query(MINIMAL_TABLES_SQL);
  const filled: { id: string }[] = await world.ds.query(MINIMAL_FILL_SQL, [
    small.snapshot,
    sizes.ceilingInstances,
  ]);
  const minimalIds = filled.map((r) => r.id);
  await world.ds.query('ANALYZE bench_minimal_head');
  const minimalRing = new Ring(minimalIds);

  type Op = (c: PoolClient, id: string) => Promise<void>;
  const measure = async (label: string, clients: number, r: Ring, op: Op) => {
    const pool = new Pool({
      connectionString: world.config.databaseUrl,
      max: Math.min(clients, 32),
      application_name: 'iter-bench-ceiling',
    });
    // open the connections before measuring
    await Promise.all(
      Array.from({ length: Math.min(clients, 32) }, async () => (await pool.connect()).release()),
    );
    const res = await closedLoop({
      label,
      concurrency: clients,
      durationMs: sizes.loopMs,
      warmupMs: sizes.warmupMs,
      progress,
      op: async () => {
        const id = r.take();
        const c = await pool.connect();
        try {
          await op(c, id);
        } finally {
          c.release();
          r.give(id);
        }
      },
    });
    await pool.end();
    progress.log(
      `${label} @${clients}: ${fmtInt(res.rate)}/s, p50 ${res.latency.p50} ms, p99 ${res.latency.p99} ms${errorsText(res)}`,
    );
    return res;
  };
  const pct = (a: number, b: number | undefined) => Math.round((100 * a) / (b ?? Number.NaN));

  const results: Record<string, LoopResult[]> = {
    minimal: [],
    iterSql: [],
    minimalOneStatement: [],
    iterOneStatement: [],
    prepared: [],
    smallRows: [],
  };
  for (const clients of sizes.levels) {
    const r = await measure('minimal durable transition', clients, minimalRing, (c, id) =>
      minimalTransition(c, id, small.snapshot),
    );
    results['minimal']!.push(r);
    ctx.ceiling.set(clients, r.rate);
    report.add({
      section: '1 ceiling',
      name: `minimal durable transition/s @${clients}`,
      value: r.rate,
      unit: '/s',
      goal: 'reference.minimal',
      note: `THE reference; p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms; 5 round trips, 600 B head, pool ${Math.min(clients, 32)}${errorsText(r)}`,
    });
  }
  for (const clients of sizes.levels) {
    const r = await measure("Iter's transition SQL (5 round trips)", clients, ring, (c, id) =>
      iterTransition(c, id, t, iter, false),
    );
    results['iterSql']!.push(r);
    ctx.iterSql.set(clients, r.rate);
    report.add({
      section: '1 ceiling',
      name: `Iter's own transition SQL/s @${clients}`,
      value: r.rate,
      unit: '/s',
      goal: 'reference.iter-sql',
      note: `${pct(r.rate, ctx.ceiling.get(clients))}% of minimal; p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms; real rows (${
        iter.eventColumns.includes('snapshot_delta')
          ? `${fmtInt(t.snapshotBytes)} B snapshot on the head, a ${fmtInt(DELTA.length)} B patch in the event`
          : `${fmtInt(t.snapshotBytes)} B snapshot written twice`
      }); lock, update, insert, no outbox, timers or act${errorsText(r)}`,
    });
  }
  if (sizes.ceilingVariants) {
    for (const clients of sizes.levels) {
      const r = await measure(
        'minimal, read + one-statement write (2 round trips)',
        clients,
        minimalRing,
        (c, id) => minimalOneStatement(c, id, small.snapshot),
      );
      results['minimalOneStatement']!.push(r);
      report.add({
        section: '1 ceiling',
        name: `minimal, one-statement write/s @${clients}`,
        value: r.rate,
        unit: '/s',
        note: `${pct(r.rate, ctx.ceiling.get(clients))}% of minimal; p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms; unlocked read + one statement (2 round trips)`,
      });
    }
    for (const clients of sizes.levels) {
      const r = await measure(
        "Iter's SQL, read + one-statement write (2 round trips)",
        clients,
        ring,
        (c, id) => iterOneStatement(c, id, t, iter),
      );
      results['iterOneStatement']!.push(r);
      report.add({
        section: '1 ceiling',
        name: `Iter's SQL, one-statement write/s @${clients}`,
        value: r.rate,
        unit: '/s',
        note: `${pct(r.rate, ctx.iterSql.get(clients))}% of Iter's 5 round trips, ${pct(r.rate, ctx.ceiling.get(clients))}% of minimal; p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`,
      });
    }
    // the same 5 round trips with prepared statements (TypeORM's query() sends unnamed ones: parsed and planned each time)
    const rp = await measure("Iter's SQL, prepared statements", 8, ring, (c, id) =>
      iterTransition(c, id, t, iter, true),
    );
    results['prepared']!.push(rp);
    report.add({
      section: '1 ceiling',
      name: "Iter's SQL/s @8, prepared statements",
      value: rp.rate,
      unit: '/s',
      note: `p99 ${rp.latency.p99} ms; ${pct(rp.rate, ctx.iterSql.get(8))}% of Iter's SQL @8`,
    });
    // Iter's 5 round trips with DESIGN.md's row sizes (600 B snapshot, no armed timers): what the row size costs
    const r = await measure("Iter's SQL with 600 B rows", 8, ring, (c, id) =>
      iterTransition(c, id, small, iter, false),
    );
    results['smallRows']!.push(r);
    report.add({
      section: '1 ceiling',
      name: "Iter's SQL/s @8, 600 B snapshot",
      value: r.rate,
      unit: '/s',
      note: `p99 ${r.latency.p99} ms; ${pct(r.rate, ctx.iterSql.get(8))}% of Iter's SQL @8 (real rows), ${pct(r.rate, ctx.ceiling.get(8))}% of minimal`,
    });
  }
  await world.ds.query('DROP TABLE bench_minimal_event; DROP TABLE bench_minimal_head');
  report.detail('ceiling', {
    snapshotBytes: t.snapshotBytes,
    armedTimersBytes: t.armedTimers.length,
    minimalHeadBytes: small.snapshotBytes,
    payloadBytes: PAYLOAD.length,
    instances: ids.length,
    iterStatements: iter,
    ...results,
  });
}

/** DESIGN.md measured the ceiling with a 600 B snapshot and a 300 B audit row */
function smallTemplate(t: Template): Template {
  const base = {
    value: { IN_DELIBERATION: 'OPEN' },
    status: 'active',
    context: {
      unione: 'u_valdera',
      entes: ['c_a864', 'c_b303', 'c_b392', 'c_b647', 'c_m327', 'c_g254', 'c_g843'],
    },
  };
  const pad = 600 - JSON.stringify({ ...base, pad: '' }).length;
  const snapshot = JSON.stringify({ ...base, pad: 'x'.repeat(Math.max(0, pad)) });
  return { ...t, snapshot, armedTimers: '{}', snapshotBytes: Buffer.byteLength(snapshot) };
}

/** the machine's price of one loopback round trip to Postgres, the unit every other figure is made of */
async function roundTrip(url: string, n: number): Promise<{ p50: number; p99: number }> {
  const c = new Client({ connectionString: url, application_name: 'iter-bench-rtt' });
  await c.connect();
  try {
    for (let i = 0; i < 500; i++) await c.query('SELECT 1');
    const s = new Samples();
    for (let i = 0; i < n; i++) {
      const t0 = nowMs();
      await c.query('SELECT 1');
      s.add((nowMs() - t0) * 1000);
    }
    return { p50: Math.round(s.percentile(50)), p99: Math.round(s.percentile(99)) };
  } finally {
    await c.end();
  }
}

function errorsText(r: LoopResult): string {
  const n = Object.values(r.errors).reduce((a, b) => a + b, 0);
  return n ? `, ${n} errors ${JSON.stringify(r.errors)}` : '';
}

async function loadTemplate(ctx: BenchContext, id: string): Promise<Template> {
  const rows: {
    snapshot: unknown;
    armed_timers?: unknown;
    state_value: string;
    status: string;
    title: string;
    pending_entes: string[];
    next_deadline: Date | null;
  }[] = await ctx.world.ds.query(
    // every column: armed_timers only where the schema still has it
    `SELECT * FROM process_instance WHERE id = $1`,
    [id],
  );
  const r = rows[0]!;
  const snapshot = JSON.stringify(r.snapshot);
  return {
    snapshot,
    armedTimers: r.armed_timers === undefined ? '{}' : JSON.stringify(r.armed_timers),
    state: r.state_value,
    status: r.status,
    title: r.title,
    pendingEntes: r.pending_entes,
    nextDeadline: r.next_deadline,
    snapshotBytes: Buffer.byteLength(snapshot),
  };
}

function writeParams(prev: { last_seq: number; last_hash: string; version: number }) {
  const seq = prev.last_seq + 1;
  const at = new Date().toISOString();
  return {
    seq,
    version: prev.version + 1,
    // the event's hash covers the link, the seq, the payload and the time (as an audit hash must)
    hash: sha(`${prev.last_hash}\n${seq}\n${PAYLOAD}\n${at}`),
    at,
  };
}

/** The minimal durable transition: 5 round trips (BEGIN, lock, versioned UPDATE, INSERT, COMMIT). */
async function minimalTransition(c: PoolClient, id: string, head: string): Promise<void> {
  await c.query('BEGIN');
  try {
    const row = (await c.query<MinimalRow>(MINIMAL_LOCK_SQL, [id])).rows[0]!;
    const w = writeParams(row);
    const u = await c.query(MINIMAL_UPDATE_SQL, [
      id,
      w.version,
      row.state,
      head,
      w.seq,
      w.hash,
      w.at,
      row.version,
    ]);
    if (u.rowCount !== 1) throw new Error('VERSION_CONFLICT');
    await c.query(MINIMAL_INSERT_SQL, [
      id,
      w.seq,
      'convention.deliberation.record',
      PAYLOAD,
      w.at,
      row.last_hash,
      w.hash,
    ]);
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The minimal transition's write as one statement after an unlocked read: 2 round trips. */
async function minimalOneStatement(c: PoolClient, id: string, head: string): Promise<void> {
  const row = (await c.query<MinimalRow>(MINIMAL_READ_SQL, [id])).rows[0]!;
  const w = writeParams(row);
  const r = await c.query(MINIMAL_ONE_STATEMENT_SQL, [
    id,
    w.version,
    row.state,
    head,
    w.seq,
    w.hash,
    w.at,
    row.version,
    'convention.deliberation.record',
    PAYLOAD,
    row.last_hash,
  ]);
  if (r.rowCount !== 1) throw new Error('VERSION_CONFLICT');
}

/** A patch the size of a RINVIATA step's (605–696 B measured, docs/performance.md "Write path"). */
const DELTA = JSON.stringify([
  {
    op: 'add',
    path: '/context/entes/c_g843/sessions/-',
    value: { outcome: 'RINVIATA', note: 'x'.repeat(520) },
  },
  { op: 'replace', path: '/context/updatedAt', value: '2026-12-01T10:00:00.000Z' },
]);

/** the values of Iter's UPDATE and INSERT, by column (only the columns the schema has are sent) */
function iterValues(id: string, row: Row, t: Template, s: IterStatements) {
  const w = writeParams(row);
  const instance: Record<(typeof UPDATE_COLUMNS)[number], unknown> = {
    snapshot: t.snapshot,
    version: w.version,
    state_value: t.state,
    status: t.status,
    title: t.title,
    pending_entes: t.pendingEntes,
    next_deadline: t.nextDeadline,
    armed_timers: t.armedTimers,
    last_seq: w.seq,
    last_hash: w.hash,
    updated_at: w.at,
  };
  const event: Record<(typeof EVENT_COLUMNS)[number], unknown> = {
    instance_id: id,
    seq: w.seq,
    type: 'convention.deliberation.record',
    payload: PAYLOAD,
    actor_subject: 'bench.segretario',
    actor_role: 'segretario',
    actor_ente: 'c_g843',
    occurred_at: w.at,
    state_before: row.state_value,
    state_after: t.state,
    version_after: w.version,
    // hash format 3 (since CompactWrites): the event stores a patch (~650 B measured), not the snapshot;
    // before it, the whole snapshot went to snapshot_after
    snapshot_after: s.eventColumns.includes('snapshot_delta') ? null : t.snapshot,
    snapshot_delta: DELTA,
    snapshot_full: false,
    hash_version: s.eventColumns.includes('snapshot_delta') ? 3 : 2,
    idempotency_key: null,
    request_hash: null,
    timer_id: null,
    prev_hash: row.last_hash,
    hash: w.hash,
  };
  return { instance, event };
}

/** Iter's 5 round trips: what Engine.dispatch sends for the lock, the update and the append (without the outbox row). */
async function iterTransition(
  c: PoolClient,
  id: string,
  t: Template,
  s: IterStatements,
  prepared: boolean,
): Promise<void> {
  const q = <R extends object = object>(name: string, text: string, values?: unknown[]) =>
    c.query<R>(prepared ? { name, text, values } : { text, values });
  await c.query('BEGIN');
  try {
    const row = (await q<Row>('iter-bench-lock', s.lock, [id])).rows[0]!;
    const v = iterValues(id, row, t, s);
    const u = await q('iter-bench-update', s.update, [
      id,
      ...s.updateColumns.map((k) => v.instance[k]),
      row.version,
    ]);
    if (u.rowCount !== 1) throw new Error('VERSION_CONFLICT');
    await q(
      'iter-bench-insert',
      s.insert,
      s.eventColumns.map((k) => v.event[k]),
    );
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Iter's write as one statement after an unlocked read: 2 round trips. */
async function iterOneStatement(
  c: PoolClient,
  id: string,
  t: Template,
  s: IterStatements,
): Promise<void> {
  const row = (await c.query<Row>(s.read, [id])).rows[0]!;
  const v = iterValues(id, row, t, s);
  const r = await c.query(s.oneStatement, [
    id,
    ...s.updateColumns.map((k) => v.instance[k]),
    ...s.eventColumns.filter((k) => k !== 'instance_id').map((k) => v.event[k]),
    row.version,
  ]);
  if (r.rowCount !== 1) throw new Error('VERSION_CONFLICT');
}
