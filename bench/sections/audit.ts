import { applyDelta, eventHash, GENESIS_HASH, ProcessQueryService, verifyChain } from '@app/engine';
import type { BenchContext } from '../lib/context';
import { fmtInt, nowMs, round, Samples } from '../lib/stats';
import { PRESIDENTE } from '../lib/world';
import { cloneInstances } from './fill';

interface TemplateEvent {
  type: string;
  payload: Record<string, unknown>;
  payloadJson: string;
  actor: { subject: string; role: string; ente: string | null };
  stateBefore: string | null;
  stateAfter: string;
  snapshot: unknown;
  snapshotJson: string;
}

const COLUMNS = `instance_id, seq, type, payload, actor_subject, actor_role, actor_ente, occurred_at, state_before, state_after,
  version_after, snapshot_after, prev_hash, hash, recorded_at, hash_version`;
const PER_ROW = 16;
const BATCH = 250;
/** multi-row INSERT … VALUES with parameters: each jsonb value is parsed once by Postgres */
const insertSql = (rows: number) =>
  `INSERT INTO process_event (${COLUMNS}) VALUES ${Array.from(
    { length: rows },
    (_, r) => `(${Array.from({ length: PER_ROW }, (_, c) => `$${r * PER_ROW + c + 1}`).join(',')})`,
  ).join(',')}`;

/**
 * 5. Audit. The long histories are generated, not replayed through the engine: the events of a real convention
 * (started, frozen, sent, then 16 council sessions recorded through Engine.dispatch) are the templates, repeated
 * to 500 events per instance with their real payloads and snapshots (4–9 KB each), the chain computed in Node with
 * eventHash from @app/engine and inserted in batches (multi-row INSERT; the append-only trigger allows INSERT).
 * Then ProcessQueryService.history on random 500-event instances, and verifyChain over every generated
 * event, one instance after the other as `iter verify-audit` does.
 */
export async function auditSection(ctx: BenchContext, templateId: string): Promise<void> {
  const { world, sizes, report, progress } = ctx;
  const E = sizes.auditEventsPerInstance;
  const N = sizes.auditInstances;
  const tmpl = await templates(ctx, templateId);
  const ids = await cloneInstances(world.ds, templateId, N, 'audit', false, progress);

  const g0 = nowMs();
  const base = Date.parse('2026-01-05T08:00:00.000Z');
  const heads: { id: string; hash: string }[] = [];
  let batch: unknown[] = [];
  let batchRows = 0;
  let inserted = 0;
  const inflight = new Set<Promise<void>>();
  const failures: Error[] = [];
  const sqlFull = insertSql(BATCH);
  // up to 3 batches in flight: Postgres parses and stores one while Node hashes the next
  const flush = async () => {
    if (!batchRows) return;
    const params = batch;
    const n = batchRows;
    batch = [];
    batchRows = 0;
    const p: Promise<void> = world.ds
      .query(n === BATCH ? sqlFull : insertSql(n), params)
      .then(
        () => {
          inserted += n;
        },
        (err: unknown) => {
          failures.push(err instanceof Error ? err : new Error('insert failed'));
        },
      )
      .finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= 3) await Promise.race(inflight);
    if (failures[0]) throw failures[0];
  };
  const templateOf = (seq: number) =>
    tmpl[seq <= 3 ? seq - 1 : 3 + ((seq - 4) % (tmpl.length - 3))]!;
  for (const id of ids) {
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= E; seq++) {
      const t = templateOf(seq);
      const occurredAt = new Date(base + seq * 60_000).toISOString();
      const hash = eventHash(
        prev,
        {
          instanceId: id,
          seq,
          type: t.type,
          payload: t.payload,
          actor: t.actor,
          occurredAt,
          stateBefore: seq === 1 ? null : t.stateBefore,
          stateAfter: t.stateAfter,
          versionAfter: seq,
          snapshotAfter: t.snapshot,
          recordedAt: occurredAt,
          idempotencyKey: null,
          requestHash: null,
          timerId: null,
          // format 2 (the whole snapshot in every event): this synthetic chain predates format 3
        },
        2,
      );
      batch.push(
        id,
        seq,
        t.type,
        t.payloadJson,
        t.actor.subject,
        t.actor.role,
        t.actor.ente,
        occurredAt,
        seq === 1 ? null : t.stateBefore,
        t.stateAfter,
        seq,
        t.snapshotJson,
        prev,
        hash,
        occurredAt,
        2,
      );
      batchRows++;
      prev = hash;
      if (batchRows >= BATCH) {
        await flush();
        progress.set(
          `audit: generating the chains, ${fmtInt(inserted)}/${fmtInt(N * E)} events inserted`,
        );
      }
    }
    heads.push({ id, hash: prev });
  }
  await flush();
  await Promise.all(inflight);
  if (failures[0]) throw failures[0];
  // the instance head is the last event: seq, hash, version and the snapshot after it (verifyChain checks all four)
  const last = templateOf(E);
  for (let i = 0; i < heads.length; i += 5000) {
    await world.ds.query(
      `UPDATE process_instance p SET last_seq = $2, version = $2, last_hash = x.hash, snapshot = $3::jsonb, state_value = $4
       FROM json_to_recordset($1::json) AS x(id uuid, hash text) WHERE p.id = x.id`,
      [JSON.stringify(heads.slice(i, i + 5000)), E, last.snapshotJson, last.stateAfter],
    );
  }
  await world.ds.query('ANALYZE process_event');
  const genS = (nowMs() - g0) / 1000;
  progress.log(
    `audit: ${fmtInt(N * E)} events (${N} instances × ${E}) generated and inserted in ${genS.toFixed(1)} s`,
  );

  // history reads
  const query = new ProcessQueryService(world.ds, world.registry, world.clock);
  for (let i = 0; i < 10; i++) await query.history(ids[i % ids.length]!, PRESIDENTE); // warm-up
  const hist = new Samples();
  let lengths = 0;
  for (let i = 0; i < sizes.historyReads; i++) {
    const id = ids[Math.floor(Math.random() * ids.length)]!;
    const s = nowMs();
    const h = await query.history(id, PRESIDENTE);
    hist.add(nowMs() - s);
    lengths += h.length;
    if (i % 20 === 0) progress.set(`audit: history reads ${i}/${sizes.historyReads}`);
  }
  const hs = hist.summary();
  progress.log(
    `audit: history of ${E} events: p50 ${hs.p50} ms, p99 ${hs.p99} ms (${sizes.historyReads} reads, ${lengths / sizes.historyReads} events each)`,
  );
  report.add({
    section: '5 audit',
    name: `history read of ${E} events p50`,
    value: hs.p50,
    unit: 'ms',
    note: 'ProcessQueryService.history',
  });
  report.add({
    section: '5 audit',
    name: `history read of ${E} events p99`,
    value: hs.p99,
    unit: 'ms',
    target: { op: '<=', value: 20 },
    note: `${sizes.historyReads} reads, random instances`,
  });

  // chain verification
  const v0 = nowMs();
  let events = 0;
  let invalid = 0;
  for (let i = 0; i < ids.length; i++) {
    const r = await verifyChain(world.ds, ids[i]!);
    events += r.events;
    if (!r.valid) invalid++;
    if (i % 10 === 0) {
      const el = (nowMs() - v0) / 1000;
      progress.set(
        `audit: verifying, ${fmtInt(events)}/${fmtInt(N * E)} events, ${fmtInt(events / el)}/s`,
      );
    }
  }
  const vS = (nowMs() - v0) / 1000;
  progress.log(
    `audit: verified ${fmtInt(events)} events of ${ids.length} chains in ${vS.toFixed(1)} s (${fmtInt(events / vS)} events/s), ${invalid} invalid`,
  );
  report.add({
    section: '5 audit',
    name: `verify hash chain of ${fmtInt(events)} events`,
    value: vS,
    unit: 's',
    note: `${fmtInt(events / vS)} events/s, ${ids.length} chains, ${invalid} invalid${invalid ? '!' : ''}`,
  });
  const sizeRows: { bytes: string }[] = await world.ds.query(
    `SELECT pg_total_relation_size('process_event') bytes`,
  );
  report.detail('audit', {
    instances: N,
    eventsPerInstance: E,
    generateSeconds: round(genS),
    history: hs,
    verifySeconds: round(vS),
    verified: events,
    invalid,
    processEventBytes: Number(sizeRows[0]!.bytes),
    templateSnapshotBytes: tmpl.map((t) => t.snapshotJson.length),
  });
}

async function templates(ctx: BenchContext, id: string): Promise<TemplateEvent[]> {
  const rows: {
    type: string;
    payload: Record<string, unknown>;
    actor_subject: string;
    actor_role: string;
    actor_ente: string | null;
    state_before: string | null;
    state_after: string;
    snapshot_after: unknown;
    snapshot_delta: string | null;
    snapshot_full: boolean | null;
  }[] = await ctx.world.ds.query(
    `SELECT type, payload, actor_subject, actor_role, actor_ente, state_before, state_after, snapshot_after,
            snapshot_delta, snapshot_full
     FROM process_event WHERE instance_id = $1 ORDER BY seq`,
    [id],
  );
  // format 3 stores patches: the whole snapshot after each event, rebuilt
  let current: unknown = undefined;
  for (const r of rows) r.snapshot_after = current = applyDelta(structuredClone(current), r);
  if (rows.length < 5)
    throw new Error('the audit template needs a convention with council sessions recorded');
  return rows.map((r) => ({
    type: r.type,
    payload: r.payload,
    payloadJson: JSON.stringify(r.payload),
    actor: { subject: r.actor_subject, role: r.actor_role, ente: r.actor_ente },
    stateBefore: r.state_before,
    stateAfter: r.state_after,
    snapshot: r.snapshot_after,
    snapshotJson: JSON.stringify(r.snapshot_after),
  }));
}
