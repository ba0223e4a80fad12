import { createHash } from 'node:crypto';
import { Client, Pool, type PoolClient } from 'pg';
import type { BenchContext } from '../lib/context';
import { closedLoop, type LoopResult } from '../lib/load';
import { fmtInt, nowMs, Samples } from '../lib/stats';
import { cloneInstances } from './fill';

/** The columns Engine.dispatch locks and reads (LOCK_SQL in libs/engine/src/engine.service.ts). */
const LOCK_SQL = `SELECT id, definition_key, definition_version, tenant, business_key, state_value, snapshot, version,
  participants, last_seq, last_hash, created_at, updated_at
  FROM process_instance WHERE id = $1 FOR UPDATE`;
const READ_SQL = LOCK_SQL.replace(' FOR UPDATE', '');

/** The engine's UPDATE (persistStep), versioned. */
const UPDATE_SQL = `UPDATE process_instance SET snapshot = $2, version = $3, state_value = $4, status = $5, title = $6,
  pending_entes = $7, next_deadline = $8, last_seq = $9, last_hash = $10, updated_at = $11
  WHERE id = $1 AND version = $12`;

/** The engine's audit INSERT (persistStep). */
const INSERT_SQL = `INSERT INTO process_event (instance_id, seq, type, payload, actor_subject, actor_role, actor_ente, occurred_at,
  state_before, state_after, version_after, snapshot_after, idempotency_key, request_hash, timer_id, prev_hash, hash)
  VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)`;

/** The same write as ONE statement: versioned update and append together (the proposed engine change). */
const ONE_STATEMENT_SQL = `WITH upd AS (
    UPDATE process_instance SET snapshot = $2, version = $3, state_value = $4, status = $5, title = $6,
      pending_entes = $7, next_deadline = $8, last_seq = $9, last_hash = $10, updated_at = $11
    WHERE id = $1 AND version = $12 RETURNING id)
  INSERT INTO process_event (instance_id, seq, type, payload, actor_subject, actor_role, actor_ente, occurred_at,
    state_before, state_after, version_after, snapshot_after, prev_hash, hash)
  SELECT id, $9, $13, $14, $15, $16, $17, $11, $18, $4, $3, $2, $19, $10 FROM upd`;

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
 * 1. Ceiling: the SQL of one transition (BEGIN; SELECT … FOR UPDATE; versioned UPDATE of the snapshot;
 * INSERT of the audit row with prev_hash/hash; COMMIT) straight through `pg`, no engine, on the real schema with
 * a real convention's snapshot (8 entes, mid-deliberation). Also the same write as one statement after an
 * unlocked read (2 round trips instead of 5), which is what a leaner engine could reach.
 */
export async function ceilingSection(ctx: BenchContext, templateId: string): Promise<void> {
  const { world, sizes, report, progress } = ctx;
  const t: Template = await loadTemplate(ctx, templateId);
  progress.log(
    `ceiling: snapshot ${fmtInt(t.snapshotBytes)} B + armed_timers ${fmtInt(t.armedTimers.length)} B per write`,
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

  const measure = async (
    label: string,
    clients: number,
    op: typeof lockedTransition,
    tpl: Template,
  ) => {
    const pool = new Pool({
      connectionString: world.config.databaseUrl,
      max: Math.min(clients, 32),
      application_name: 'iter-bench-ceiling',
    });
    // open the connections before measuring
    await Promise.all(
      Array.from({ length: Math.min(clients, 32) }, async () => (await pool.connect()).release()),
    );
    const r = await closedLoop({
      label,
      concurrency: clients,
      durationMs: sizes.loopMs,
      warmupMs: sizes.warmupMs,
      progress,
      op: async () => {
        const id = ring.take();
        const c = await pool.connect();
        try {
          await op(c, id, tpl);
        } finally {
          c.release();
          ring.give(id);
        }
      },
    });
    await pool.end();
    progress.log(
      `${label} @${clients}: ${fmtInt(r.rate)}/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms${errorsText(r)}`,
    );
    return r;
  };

  const results: Record<string, LoopResult[]> = {
    fiveRoundTrips: [],
    twoRoundTrips: [],
    smallRows: [],
    prepared: [],
  };
  for (const clients of sizes.levels) {
    const r = await measure('ceiling (5 round trips)', clients, lockedTransition, t);
    results['fiveRoundTrips']!.push(r);
    ctx.ceiling.set(clients, r.rate);
    report.add({
      section: '1 ceiling',
      name: `raw SQL transitions/s @${clients}`,
      value: r.rate,
      unit: '/s',
      note: `pool ${Math.min(clients, 32)}`,
    });
    report.add({
      section: '1 ceiling',
      name: `raw SQL p50 @${clients}`,
      value: r.latency.p50,
      unit: 'ms',
    });
    report.add({
      section: '1 ceiling',
      name: `raw SQL p99 @${clients}`,
      value: r.latency.p99,
      unit: 'ms',
    });
  }
  if (sizes.ceilingVariants) {
    for (const clients of sizes.levels) {
      const r = await measure(
        'read + one-statement write (2 round trips)',
        clients,
        optimisticTransition,
        t,
      );
      results['twoRoundTrips']!.push(r);
      report.add({
        section: '1 ceiling',
        name: `read + one-statement write/s @${clients}`,
        value: r.rate,
        unit: '/s',
        note: `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms; ${Math.round((100 * r.rate) / (ctx.ceiling.get(clients) ?? Number.NaN))}% of ceiling`,
      });
    }
    // the same 5 round trips with prepared statements (TypeORM's query() sends unnamed ones: parsed and planned each time)
    const rp = await measure('ceiling, prepared statements', 8, preparedTransition, t);
    results['prepared']!.push(rp);
    report.add({
      section: '1 ceiling',
      name: 'raw SQL transitions/s @8, prepared statements',
      value: rp.rate,
      unit: '/s',
      note: `p99 ${rp.latency.p99} ms; ${Math.round((100 * rp.rate) / (ctx.ceiling.get(8) ?? Number.NaN))}% of ceiling @8`,
    });
    // the same 5 round trips with DESIGN.md's row sizes (600 B snapshot, no armed timers): what the row size costs
    const small = smallTemplate(t);
    const r = await measure('ceiling with 600 B rows', 8, lockedTransition, small);
    results['smallRows']!.push(r);
    report.add({
      section: '1 ceiling',
      name: 'raw SQL transitions/s @8, 600 B snapshot',
      value: r.rate,
      unit: '/s',
      note: `p99 ${r.latency.p99} ms; ${Math.round((100 * r.rate) / (ctx.ceiling.get(8) ?? Number.NaN))}% of ceiling @8 (real rows)`,
    });
  }
  report.detail('ceiling', {
    snapshotBytes: t.snapshotBytes,
    armedTimersBytes: t.armedTimers.length,
    instances: ids.length,
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
    state_value: string;
    status: string;
    title: string;
    pending_entes: string[];
    next_deadline: Date | null;
  }[] = await ctx.world.ds.query(
    `SELECT snapshot, state_value, status, title, pending_entes, next_deadline FROM process_instance WHERE id = $1`,
    [id],
  );
  const r = rows[0]!;
  const snapshot = JSON.stringify(r.snapshot);
  return {
    snapshot,
    // timers live in their table only (no armed_timers mirror on the instance since CompactWrites)
    armedTimers: '',
    state: r.state_value,
    status: r.status,
    title: r.title,
    pendingEntes: r.pending_entes,
    nextDeadline: r.next_deadline,
    snapshotBytes: Buffer.byteLength(snapshot),
  };
}

function writeParams(row: Row): { seq: number; version: number; hash: string; at: string } {
  const seq = row.last_seq + 1;
  return {
    seq,
    version: row.version + 1,
    hash: sha(`${row.last_hash}\n${seq}`),
    at: new Date().toISOString(),
  };
}

/** 5 round trips: what Engine.dispatch sends for the lock, the update and the append (without the outbox row). */
async function lockedTransition(c: PoolClient, id: string, t: Template): Promise<void> {
  return locked(c, id, t, false);
}

/** the same, with named (prepared once per connection) statements: no parse and plan per statement */
async function preparedTransition(c: PoolClient, id: string, t: Template): Promise<void> {
  return locked(c, id, t, true);
}

async function locked(c: PoolClient, id: string, t: Template, prepared: boolean): Promise<void> {
  const q = <R extends object = object>(name: string, text: string, values?: unknown[]) =>
    c.query<R>(prepared ? { name, text, values } : { text, values });
  await c.query('BEGIN');
  try {
    const row = (await q<Row>('iter-bench-lock', LOCK_SQL, [id])).rows[0]!;
    const w = writeParams(row);
    const u = await q('iter-bench-update', UPDATE_SQL, [
      id,
      t.snapshot,
      w.version,
      t.state,
      t.status,
      t.title,
      t.pendingEntes,
      t.nextDeadline,
      w.seq,
      w.hash,
      w.at,
      row.version,
    ]);
    if (u.rowCount !== 1) throw new Error('VERSION_CONFLICT');
    await q('iter-bench-insert', INSERT_SQL, [
      id,
      w.seq,
      'convention.deliberation.record',
      PAYLOAD,
      'bench.segretario',
      'segretario',
      'c_g843',
      w.at,
      row.state_value,
      t.state,
      w.version,
      t.snapshot,
      null,
      null,
      null,
      row.last_hash,
      w.hash,
    ]);
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** 2 round trips: an unlocked read, then the versioned update and the append in one autocommit statement. */
async function optimisticTransition(c: PoolClient, id: string, t: Template): Promise<void> {
  const row = (await c.query<Row>(READ_SQL, [id])).rows[0]!;
  const w = writeParams(row);
  const r = await c.query(ONE_STATEMENT_SQL, [
    id,
    t.snapshot,
    w.version,
    t.state,
    t.status,
    t.title,
    t.pendingEntes,
    t.nextDeadline,
    w.seq,
    w.hash,
    w.at,
    row.version,
    'convention.deliberation.record',
    PAYLOAD,
    'bench.segretario',
    'segretario',
    'c_g843',
    row.state_value,
    row.last_hash,
  ]);
  if (r.rowCount !== 1) throw new Error('VERSION_CONFLICT');
}
