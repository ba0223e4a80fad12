import type { DataSource } from 'typeorm';
import { ProcessNotFoundError, type Actor, type Clock } from '@app/common';
import type { DefinitionRegistry } from '@app/workflows';
import { eventHash, GENESIS_HASH } from './audit-hash';
import { canRead } from './authorization';

export interface ListFilter {
  definition?: string;
  state?: string;
  /** processes in which this ente has something to do now */
  ente?: string;
  overdue?: boolean;
  status?: string;
  limit: number;
  offset: number;
}

export interface ProcessSummary {
  id: string;
  definition: { key: string; version: number };
  businessKey: string;
  title: string;
  status: string;
  state: string;
  version: number;
  pendingEntes: string[];
  nextDeadline: string | null;
  overdue: boolean;
  updatedAt: string;
}

export interface HistoryEvent {
  seq: number;
  type: string;
  payload: unknown;
  actor: { subject: string; role: string; ente: string | null };
  occurredAt: string;
  recordedAt: string;
  stateBefore: string | null;
  stateAfter: string;
  versionAfter: number;
  prevHash: string;
  hash: string;
}

export interface HistoryFilter {
  actor?: string;
  type?: string;
  from?: string;
  to?: string;
}

export interface VerifyResult {
  valid: boolean;
  events: number;
  /** the first seq whose stored hash (or link to the previous one) does not match */
  firstBadSeq: number | null;
  reason: string | null;
  lastHash: string;
}

/** Read side: lists, history, verification. Tenancy is enforced here as in the engine (404 across tenants). */
export class ProcessQueryService {
  constructor(
    private readonly ds: DataSource,
    private readonly registry: DefinitionRegistry,
    private readonly clock: Clock,
  ) {}

  async list(filter: ListFilter, actor: Actor): Promise<{ items: ProcessSummary[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (actor.unione !== null) add('tenant = ?', actor.unione);
    else if (!canRead(actor, '')) return { items: [], total: 0 };
    if (filter.definition) add('definition_key = ?', filter.definition);
    if (filter.state) add('state_value = ?', filter.state);
    if (filter.status) add('status = ?', filter.status);
    if (filter.ente) add('? = ANY(pending_entes)', filter.ente);
    if (filter.overdue !== undefined) {
      add(filter.overdue ? 'next_deadline < ?' : '(next_deadline IS NULL OR next_deadline >= ?)', this.clock.now().toISOString());
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const countRows: { n: string }[] = await this.ds.query(`SELECT count(*) AS n FROM process_instance ${w}`, params);
    const rows: {
      id: string; definition_key: string; definition_version: number; business_key: string; title: string; status: string;
      state_value: string; version: number; pending_entes: string[]; next_deadline: Date | null; updated_at: Date;
    }[] = await this.ds.query(
      `SELECT id, definition_key, definition_version, business_key, title, status, state_value, version, pending_entes,
              next_deadline, updated_at
       FROM process_instance ${w} ORDER BY next_deadline ASC NULLS LAST, updated_at DESC, id
       LIMIT ${filter.limit} OFFSET ${filter.offset}`,
      params,
    );
    const now = this.clock.now().getTime();
    return {
      total: Number(countRows[0]?.n ?? 0),
      items: rows.map((r) => ({
        id: r.id,
        definition: { key: r.definition_key, version: r.definition_version },
        businessKey: r.business_key,
        title: r.title,
        status: r.status,
        state: r.state_value,
        version: r.version,
        pendingEntes: r.pending_entes,
        nextDeadline: r.next_deadline ? r.next_deadline.toISOString() : null,
        overdue: r.next_deadline !== null && r.next_deadline.getTime() < now,
        updatedAt: r.updated_at.toISOString(),
      })),
    };
  }

  private async assertReadable(instanceId: string, actor: Actor): Promise<{ definition_key: string; definition_version: number }> {
    const rows: { tenant: string; definition_key: string; definition_version: number }[] = await this.ds.query(
      `SELECT tenant, definition_key, definition_version FROM process_instance WHERE id = $1`,
      [instanceId],
    );
    const row = rows[0];
    if (!row || !canRead(actor, row.tenant)) throw new ProcessNotFoundError(instanceId);
    return row;
  }

  async history(instanceId: string, actor: Actor, filter: HistoryFilter = {}): Promise<HistoryEvent[]> {
    await this.assertReadable(instanceId, actor);
    const params: unknown[] = [instanceId];
    const where = ['instance_id = $1'];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.actor) add('actor_subject = ?', filter.actor);
    if (filter.type) add('type = ?', filter.type);
    if (filter.from) add('occurred_at >= ?', filter.from);
    if (filter.to) add('occurred_at <= ?', filter.to);
    const rows: EventRow[] = await this.ds.query(
      `SELECT seq, type, payload, actor_subject, actor_role, actor_ente, occurred_at, recorded_at, state_before, state_after,
              version_after, prev_hash, hash
       FROM process_event WHERE ${where.join(' AND ')} ORDER BY seq`,
      params,
    );
    return rows.map(toHistoryEvent);
  }

  /** Recompute the chain from the genesis hash; names the first seq that does not match. */
  async verify(instanceId: string, actor: Actor): Promise<VerifyResult> {
    await this.assertReadable(instanceId, actor);
    return verifyChain(this.ds, instanceId);
  }
}

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
  snapshot_after?: unknown;
  prev_hash: string;
  hash: string;
}

function toHistoryEvent(r: EventRow): HistoryEvent {
  return {
    seq: r.seq,
    type: r.type,
    payload: r.payload,
    actor: { subject: r.actor_subject, role: r.actor_role, ente: r.actor_ente },
    occurredAt: r.occurred_at.toISOString(),
    recordedAt: r.recorded_at.toISOString(),
    stateBefore: r.state_before,
    stateAfter: r.state_after,
    versionAfter: r.version_after,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** Verify one instance's chain. Exported for the CLI (every chain in the database). */
export async function verifyChain(ds: DataSource, instanceId: string): Promise<VerifyResult> {
  const rows: EventRow[] = await ds.query(
    `SELECT seq, type, payload, actor_subject, actor_role, actor_ente, occurred_at, recorded_at, state_before, state_after,
            version_after, snapshot_after, prev_hash, hash
     FROM process_event WHERE instance_id = $1 ORDER BY seq`,
    [instanceId],
  );
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const r of rows) {
    const bad = (reason: string): VerifyResult => ({ valid: false, events: rows.length, firstBadSeq: r.seq, reason, lastHash: prev });
    if (r.seq !== expectedSeq) return bad(`seq ${expectedSeq} missing`);
    if (r.prev_hash !== prev) return bad('prev_hash does not link to the previous event');
    const h = eventHash(prev, {
      instanceId,
      seq: r.seq,
      type: r.type,
      payload: r.payload,
      actor: { subject: r.actor_subject, role: r.actor_role, ente: r.actor_ente },
      occurredAt: r.occurred_at.toISOString(),
      stateBefore: r.state_before,
      stateAfter: r.state_after,
      versionAfter: r.version_after,
      snapshotAfter: r.snapshot_after,
    });
    if (h !== r.hash) return bad('hash does not match the event content');
    prev = r.hash;
    expectedSeq++;
  }
  return { valid: true, events: rows.length, firstBadSeq: null, reason: null, lastHash: prev };
}
