import type { DataSource } from 'typeorm';
import {
  BeforeProcessStartError,
  canonicalJson,
  ProcessNotFoundError,
  type Actor,
  type Clock,
} from '@app/common';
import {
  REGISTRY_CHAIN_ID,
  verifyRegistryChain,
  type RegistryVerifyResult,
} from '@app/persistence';
import type { DefinitionRegistry, ProcessDefinition } from '@app/workflows';
import { eventHash, GENESIS_HASH, HASH_VERSIONS, type HashVersion } from './audit-hash';
import { applyDelta, replaySnapshot, WHOLE_SNAPSHOT_SQL } from './snapshot-delta';
import { canRead } from './authorization';
import {
  chainMoved,
  checkOf,
  loadCheckpoint,
  type CheckpointCheck,
  type CheckpointConfig,
  type LoadedCheckpoint,
} from './checkpoint';
import { isoColumn } from './iso-column';
import { verifyChainsInBatches, type ParallelVerifyOptions } from './verify/batch-verify';

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

/**
 * One page of the history by keyset: the events with seq > `after` (0 = from the start), at most `limit` of
 * them. A page shorter than `limit` is the last; otherwise the next one starts after the last seq returned.
 */
export interface HistoryPage {
  after?: number;
  limit?: number;
}

/** a history page holds at most this many events by default (and the api's default page) */
export const HISTORY_PAGE_DEFAULT = 500;
/** the largest page a caller may ask for */
export const HISTORY_PAGE_MAX = 1000;

export interface VerifyResult {
  valid: boolean;
  events: number;
  /** the first seq whose stored hash (or link to the previous one) does not match, or the first missing seq */
  firstBadSeq: number | null;
  reason: string | null;
  /** the hash of the last event that verified (the genesis hash when none did) */
  lastHash: string;
  /** the chain compared with the latest signed checkpoint (when checkpoints are configured) */
  checkpoint?: CheckpointCheck;
}

/** Every chain in the database (apps/cli `verify-audit`). */
export interface VerifyAllResult {
  chains: number;
  events: number;
  valid: number;
  invalid: number;
  failures: { instanceId: string; firstBadSeq: number | null; reason: string | null }[];
}

/** The state of a process at a past instant, as GET /v1/processes/:id would have answered then. */
export interface StateAt {
  id: string;
  definition: { key: string; version: number };
  /** the instant asked for, normalised to UTC */
  at: string;
  /** the last event that had happened by `at` */
  seq: number;
  eventType: string;
  occurredAt: string;
  version: number;
  state: string;
  status: string;
  data: Record<string, unknown>;
}

export interface HistoryExport {
  instance: { id: string; businessKey: string; definition: { key: string; version: number } };
  /** events in seq order, read lazily in pages: the export streams, never holds the history in memory */
  events: AsyncIterable<HistoryEvent>;
}

const EVENT_COLUMNS = `seq, type, payload, actor_subject, actor_role, actor_ente, ${isoColumn('occurred_at')},
  ${isoColumn('recorded_at')}, state_before, state_after, version_after, prev_hash, hash`;
const EXPORT_PAGE = 500;

/** Read side: lists, history, verification. Tenancy is enforced here as in the engine (404 across tenants). */
export class ProcessQueryService {
  constructor(
    private readonly ds: DataSource,
    private readonly registry: DefinitionRegistry,
    private readonly clock: Clock,
    private readonly opts: { exportPageSize?: number; checkpoints?: CheckpointConfig | null } = {},
  ) {}

  async list(
    filter: ListFilter,
    actor: Actor,
  ): Promise<{ items: ProcessSummary[]; total: number }> {
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
      add(
        filter.overdue ? 'next_deadline < ?' : '(next_deadline IS NULL OR next_deadline >= ?)',
        this.clock.now().toISOString(),
      );
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const countRows: { n: string }[] = await this.ds.query(
      `SELECT count(*) AS n FROM process_instance ${w}`,
      params,
    );
    const rows: {
      id: string;
      definition_key: string;
      definition_version: number;
      business_key: string;
      title: string;
      status: string;
      state_value: string;
      version: number;
      pending_entes: string[];
      next_deadline: Date | null;
      updated_at: Date;
    }[] = await this.ds.query(
      `SELECT id, definition_key, definition_version, business_key, title, status, state_value, version, pending_entes,
              next_deadline, updated_at
       FROM process_instance ${w} ORDER BY next_deadline ASC NULLS LAST, updated_at DESC, id
       LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, filter.limit, filter.offset],
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

  /** Another tenant's process answers exactly like a missing one (404): its existence is not leaked. */
  private async assertReadable(instanceId: string, actor: Actor): Promise<InstanceHead> {
    const rows: InstanceHead[] = await this.ds.query(
      `SELECT tenant, definition_key, definition_version, business_key FROM process_instance WHERE id = $1`,
      [instanceId],
    );
    const row = rows[0];
    if (!row || !canRead(actor, row.tenant)) throw new ProcessNotFoundError(instanceId);
    return row;
  }

  /**
   * One page of the history in seq order (keyset on the primary key (instance_id, seq): the cost of a page
   * does not depend on how far into the history it starts). Only the columns the view shows are read, never
   * the snapshots.
   */
  async history(
    instanceId: string,
    actor: Actor,
    filter: HistoryFilter = {},
    page: HistoryPage = {},
  ): Promise<HistoryEvent[]> {
    const after = page.after ?? 0;
    const limit = Math.min(page.limit ?? HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX);
    if (!Number.isSafeInteger(after) || after < 0 || !Number.isSafeInteger(limit) || limit < 1) {
      await this.assertReadable(instanceId, actor); // another tenant's process is a 404 all the same
      throw new RangeError(`history page: after ${after}, limit ${limit}`);
    }
    // one round trip: the page carries its process's tenant (an uncorrelated subquery, read once), checked
    // before any event is handed out; an empty page cannot tell a missing process from a short history, so
    // only then is the process looked up on its own
    const rows = await this.pageRows(instanceId, filter, after, limit, true);
    const first = rows[0];
    if (!first) {
      await this.assertReadable(instanceId, actor);
      return [];
    }
    if (!first.tenant || !canRead(actor, first.tenant)) {
      throw new ProcessNotFoundError(instanceId);
    }
    return rows.map(toHistoryEvent);
  }

  private async historyPage(
    instanceId: string,
    filter: HistoryFilter,
    after: number,
    limit: number,
  ): Promise<HistoryEvent[]> {
    return (await this.pageRows(instanceId, filter, after, limit, false)).map(toHistoryEvent);
  }

  /** the rows of one keyset page; `withTenant`: each carries its process's tenant (null: no such process) */
  private pageRows(
    instanceId: string,
    filter: HistoryFilter,
    after: number,
    limit: number,
    withTenant: boolean,
  ): Promise<(EventRow & { tenant?: string | null })[]> {
    const { where, params } = historyWhere(instanceId, filter);
    params.push(after, limit);
    const tenant = withTenant
      ? '(SELECT tenant FROM process_instance WHERE id = $1) AS tenant, '
      : '';
    return this.ds.query(
      `SELECT ${tenant}${EVENT_COLUMNS} FROM process_event WHERE ${where}
         AND seq > $${params.length - 1} ORDER BY seq LIMIT $${params.length}`,
      params,
    );
  }

  /**
   * The history for export (CSV, JSON Lines). Readability is checked now, so a refusal is a normal 404;
   * the events are then read in pages (500 by default) by seq (the log is append-only, so paging is stable).
   */
  async exportHistory(
    instanceId: string,
    actor: Actor,
    filter: HistoryFilter = {},
  ): Promise<HistoryExport> {
    const head = await this.assertReadable(instanceId, actor);
    const page = this.opts.exportPageSize ?? EXPORT_PAGE;
    // the same keyset pages as GET /history: the export streams, never holds the history in memory
    const next = (after: number) => this.historyPage(instanceId, filter, after, page);
    async function* events(): AsyncGenerator<HistoryEvent> {
      let after = 0;
      for (;;) {
        const rows = await next(after);
        // the whole page is read and converted before its first event is handed out
        yield* rows;
        if (rows.length < page) return;
        after = rows[rows.length - 1]!.seq;
      }
    }
    return {
      instance: {
        id: instanceId,
        businessKey: head.business_key,
        definition: { key: head.definition_key, version: head.definition_version },
      },
      events: events(),
    };
  }

  /**
   * The state at a past instant: the snapshot after the last event that had happened by then, rendered with
   * the instance's pinned definition version, so it reads exactly as GET /v1/processes/:id answered then.
   * "Had happened" means: the longest prefix of the chain whose events all occurred at or before `at`. With
   * a monotonic clock that is simply the last event with occurred_at <= at; if a clock ever went back
   * between two events, a later event never shows through an earlier one that occurred after `at`.
   */
  async stateAt(instanceId: string, actor: Actor, at: string): Promise<StateAt> {
    const head = await this.assertReadable(instanceId, actor);
    const atIso = new Date(at).toISOString();
    // the event (`target`), and the rows from the nearest whole snapshot at or before it up to it (format 3
    // stores patches in between; formats 1 and 2 store every snapshot whole, so that is the event alone)
    const rows: {
      seq: number;
      type: string;
      version_after: number;
      snapshot_after: unknown;
      snapshot_delta: string | null;
      snapshot_full: boolean | null;
      occurred_at: Date;
    }[] = await this.ds.query(
      // MATERIALIZED: each computed once; inlined, a planner with stale statistics (a chain just written)
      // re-ran base's aggregate for every event it joined: quadratic in the chain's length (10 s for 50,000)
      `WITH target AS MATERIALIZED (
         SELECT seq FROM process_event
          WHERE instance_id = $1 AND occurred_at <= $2
            AND seq < COALESCE((SELECT min(seq) FROM process_event WHERE instance_id = $1 AND occurred_at > $2), 2147483647)
          ORDER BY seq DESC LIMIT 1),
       base AS MATERIALIZED (
         SELECT max(e.seq) AS seq FROM process_event e, target
          WHERE e.instance_id = $1 AND e.seq <= target.seq AND ${WHOLE_SNAPSHOT_SQL})
       SELECT e.seq, e.type, e.version_after, e.snapshot_after, e.snapshot_delta, e.snapshot_full, e.occurred_at
         FROM process_event e, target, base
        WHERE e.instance_id = $1 AND e.seq BETWEEN base.seq AND target.seq
        ORDER BY e.seq`,
      [instanceId, atIso],
    );
    const ev = rows[rows.length - 1];
    if (!ev) {
      const first: { occurred_at: Date }[] = await this.ds.query(
        `SELECT occurred_at FROM process_event WHERE instance_id = $1 ORDER BY seq LIMIT 1`,
        [instanceId],
      );
      throw new BeforeProcessStartError(atIso, first[0]?.occurred_at.toISOString() ?? 'unknown');
    }
    const def = this.registry.get(head.definition_key, head.definition_version);
    const snapshot = def.machine.resolveState(
      replaySnapshot(rows) as Parameters<typeof def.machine.resolveState>[0],
    );
    return {
      id: instanceId,
      definition: { key: head.definition_key, version: head.definition_version },
      at: atIso,
      seq: ev.seq,
      eventType: ev.type,
      occurredAt: ev.occurred_at.toISOString(),
      version: ev.version_after,
      state: def.stateLabel(snapshot),
      status: def.status(snapshot),
      data: def.view(snapshot),
    };
  }

  /** Recompute the chain from the genesis hash; names the first seq that does not match. */
  async verify(instanceId: string, actor: Actor): Promise<VerifyResult> {
    await this.assertReadable(instanceId, actor);
    const cfg = this.opts.checkpoints;
    return verifyChain(this.ds, instanceId, {
      registry: this.registry,
      checkpoint: cfg ? await loadCheckpoint(cfg) : undefined,
    });
  }
}

interface InstanceHead {
  tenant: string;
  definition_key: string;
  definition_version: number;
  business_key: string;
}

function historyWhere(
  instanceId: string,
  filter: HistoryFilter,
): { where: string; params: unknown[] } {
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
  return { where: where.join(' AND '), params };
}

/** One row of a chain as verifyRows reads it (exported for the parallel verifier, ./verify). */
export interface EventRow {
  seq: number;
  type: string;
  payload: unknown;
  actor_subject: string;
  actor_role: string;
  actor_ente: string | null;
  /** a Date, or already its ISO text (the batch verifier reads it so) */
  occurred_at: Date | string;
  recorded_at: Date | string;
  state_before: string | null;
  state_after: string;
  version_after: number;
  snapshot_after?: unknown;
  /** format 3: the snapshot as stored (whole, or a patch from the previous one) */
  snapshot_delta?: string | null;
  snapshot_full?: boolean | null;
  idempotency_key?: string | null;
  request_hash?: string | null;
  timer_id?: string | null;
  hash_version?: number;
  prev_hash: string;
  hash: string;
}

const isoOf = (t: Date | string): string => (typeof t === 'string' ? t : t.toISOString());

function toHistoryEvent(r: EventRow): HistoryEvent {
  return {
    seq: r.seq,
    type: r.type,
    payload: r.payload,
    actor: { subject: r.actor_subject, role: r.actor_role, ente: r.actor_ente },
    occurredAt: isoOf(r.occurred_at),
    recordedAt: isoOf(r.recorded_at),
    stateBefore: r.state_before,
    stateAfter: r.state_after,
    versionAfter: r.version_after,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** The instance columns the engine trusts, and what the last audited event says they must be. */
const TRUSTED_COLUMNS = [
  'tenant',
  'participants',
  'state_value',
  'status',
  'pending_entes',
  'title',
] as const;

/** The instance row verifyRows compares with the chain (exported for the parallel verifier, ./verify). */
export interface InstanceRow {
  tenant: string;
  definition_key: string;
  definition_version: number;
  last_seq: number;
  last_hash: string;
  version: number;
  snapshot: unknown;
  participants: string[];
  state_value: string;
  status: string;
  pending_entes: string[];
  title: string;
}

export interface VerifyOptions {
  /** to check the instance columns against the audited snapshot (tenant, participants, state, ...) */
  registry?: DefinitionRegistry;
  /** the latest checkpoint (loadCheckpoint): the chain must still hold the checkpointed head */
  checkpoint?: LoadedCheckpoint | null;
  /** verifyChain: events per query (default VERIFY_PAGE) */
  pageSize?: number;
}

/**
 * Verify one instance's chain (exported for the CLI). Reads the events and the instance row in one
 * REPEATABLE READ transaction, so a concurrent append cannot look like tampering, then checks:
 * - seqs run 1..n without gaps (a deleted event is named by its seq);
 * - every prev_hash links to the previous event and every hash matches the event's content, in the event's
 *   hash format (1: the original; 2: RFC 8785, covering recorded_at, idempotency_key, request_hash, timer_id;
 *   3: the snapshot stored as text, whole or as a patch, hashed as stored);
 * - the snapshot after each event can be rebuilt (format 3: every patch applies to the snapshot before it);
 * - the instance row agrees with the chain's last event: head seq and hash (events deleted from the end are
 *   caught here), version and snapshot, and the columns the engine trusts (tenant from the start event;
 *   participants, state_value, status, pending_entes and title as the definition computes them from the
 *   audited snapshot);
 * - with a checkpoint: the chain still has the checkpointed seq with the checkpointed hash, so a chain
 *   edited and re-hashed by the database operator is named even though it is consistent on its own.
 */
export async function verifyChain(
  ds: DataSource,
  instanceId: string,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const page = opts.pageSize ?? VERIFY_PAGE;
  const checkpointHead = opts.checkpoint?.problem
    ? undefined
    : opts.checkpoint?.heads.get(instanceId);
  let checkpointedHash: string | undefined;
  let events = 0;
  let verdict: VerifyResult | null = null;
  const qr = ds.createQueryRunner();
  await qr.connect();
  let head: InstanceRow | undefined;
  let verifier: ChainVerifier;
  try {
    await qr.startTransaction('REPEATABLE READ');
    head = (
      (await qr.query(
        `SELECT tenant, definition_key, definition_version, last_seq, last_hash, version, snapshot, participants,
                state_value, status, pending_entes, title
         FROM process_instance WHERE id = $1`,
        [instanceId],
      )) as InstanceRow[]
    )[0];
    verifier = new ChainVerifier(instanceId);
    // keyset pages by seq in one snapshot: memory is one page whatever the chain's length, and the event loop
    // is free between pages (a chain of 50,000 events read whole held ~600 MB per request and blocked it)
    let after = 0;
    for (;;) {
      const rows = (await qr.query(
        `SELECT ${EVENT_COLUMNS}, snapshot_after, snapshot_delta, snapshot_full, idempotency_key, request_hash,
                timer_id, hash_version
         FROM process_event WHERE instance_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
        [instanceId, after, page],
      )) as EventRow[];
      for (const r of rows) {
        if (checkpointHead && r.seq === checkpointHead.seq) checkpointedHash = r.hash;
        verdict ??= verifier.push(r);
      }
      events += rows.length;
      if (rows.length < page) break;
      after = rows[rows.length - 1]!.seq;
      if (verdict && !checkpointHead) {
        // the verdict is known: only the number of events is still needed
        const n = (await qr.query(
          `SELECT count(*)::int AS n FROM process_event WHERE instance_id = $1 AND seq > $2`,
          [instanceId, after],
        )) as { n: number }[];
        events += n[0]?.n ?? 0;
        break;
      }
    }
    await qr.commitTransaction();
  } catch (err) {
    await qr.rollbackTransaction().catch(() => undefined);
    throw err;
  } finally {
    await qr.release();
  }
  const moved = chainMoved(checkpointHead, events, () => checkpointedHash);
  const cp: ChainCheckpoint = {
    checkpointHead,
    moved,
    checkpoint: opts.checkpoint
      ? checkOf(opts.checkpoint, moved ? [{ chain: instanceId, reason: moved }] : [])
      : undefined,
    events,
  };
  const result = verdict ? { ...verdict, events } : verifier.finish(head, opts.registry);
  return withCheckpoint(result, cp);
}

/** events read per query by verifyChain (GET /v1/processes/:id/history/verify) */
export const VERIFY_PAGE = 500;

/** What the latest checkpoint says of one chain, from its rows (computed before verifyRows runs on them). */
export interface ChainCheckpoint {
  checkpointHead: { seq: number; hash: string } | undefined;
  moved: string | null;
  checkpoint: CheckpointCheck | undefined;
  events: number;
}

export function chainAgainstCheckpoint(
  instanceId: string,
  rows: readonly { hash: string }[],
  loaded: LoadedCheckpoint | null | undefined,
): ChainCheckpoint {
  const checkpointHead = loaded?.problem ? undefined : loaded?.heads.get(instanceId);
  const moved = chainMoved(checkpointHead, rows.length, (seq) => rows[seq - 1]?.hash);
  const checkpoint = loaded
    ? checkOf(loaded, moved ? [{ chain: instanceId, reason: moved }] : [])
    : undefined;
  return { checkpointHead, moved, checkpoint, events: rows.length };
}

/** verifyRows' verdict with the checkpoint's: a chain valid on its own but not against the checkpoint is invalid. */
export function withCheckpoint(result: VerifyResult, cp: ChainCheckpoint): VerifyResult {
  const { checkpoint, checkpointHead, moved } = cp;
  if (!checkpoint) return result;
  if (result.valid && checkpoint.status === 'mismatch') {
    return {
      ...result,
      valid: false,
      firstBadSeq: checkpointHead ? Math.min(checkpointHead.seq, cp.events + 1) : null,
      reason: `checkpoint ${checkpoint.createdAt}: ${moved}`,
      checkpoint,
    };
  }
  return { ...result, checkpoint };
}

/**
 * The per-chain check: links, hashes, seqs, and the instance row against the chain's end. A pure function of
 * its arguments, so the parallel verifier (./verify) runs it unchanged in worker threads.
 */
export function verifyRows(
  instanceId: string,
  rows: EventRow[],
  head: InstanceRow | undefined,
  registry: DefinitionRegistry | undefined,
): VerifyResult {
  const verifier = new ChainVerifier(instanceId);
  for (const r of rows) {
    const failed = verifier.push(r);
    if (failed) return { ...failed, events: rows.length };
  }
  return verifier.finish(head, registry);
}

/**
 * verifyRows one event at a time, so a chain can be checked page by page (verifyChain): `push` each event in
 * seq order (a failure is returned once, with `events` counting the events pushed so far), then `finish`.
 */
export class ChainVerifier {
  private prev = GENESIS_HASH;
  private expectedSeq = 1;
  // the snapshot after the last verified event, rebuilt as the chain goes (format 3 stores patches); `owned`:
  // it is this verifier's copy, which a patch may change in place (not a row's snapshot_after)
  private snapshot: unknown = undefined;
  private owned = false;
  private firstSnapshot: unknown = undefined;
  private first: EventRow | undefined;
  private last: EventRow | undefined;
  private count = 0;

  constructor(private readonly instanceId: string) {}

  private fail(firstBadSeq: number, reason: string): VerifyResult {
    return {
      valid: false,
      events: this.count,
      firstBadSeq,
      reason,
      lastHash: this.prev,
    };
  }

  push(r: EventRow): VerifyResult | null {
    this.count++;
    const { instanceId } = this;
    if (r.seq !== this.expectedSeq) {
      const missing =
        r.seq - 1 === this.expectedSeq
          ? `seq ${this.expectedSeq}`
          : `seq ${this.expectedSeq}..${r.seq - 1}`;
      return this.fail(
        this.expectedSeq,
        `${missing} missing (the next stored event is seq ${r.seq})`,
      );
    }
    const prev = this.prev;
    if (r.prev_hash !== prev)
      return this.fail(r.seq, 'prev_hash does not link to the previous event');
    const version = r.hash_version ?? 1;
    if (!(HASH_VERSIONS as readonly number[]).includes(version))
      return this.fail(r.seq, `unknown hash format ${version}`);
    const h = eventHash(
      prev,
      {
        instanceId,
        seq: r.seq,
        type: r.type,
        payload: r.payload,
        actor: { subject: r.actor_subject, role: r.actor_role, ente: r.actor_ente },
        occurredAt: isoOf(r.occurred_at),
        stateBefore: r.state_before,
        stateAfter: r.state_after,
        versionAfter: r.version_after,
        snapshotAfter: r.snapshot_after,
        snapshotDelta: r.snapshot_delta ?? null,
        snapshotFull: r.snapshot_full ?? null,
        recordedAt: isoOf(r.recorded_at),
        idempotencyKey: r.idempotency_key ?? null,
        requestHash: r.request_hash ?? null,
        timerId: r.timer_id ?? null,
      },
      version as HashVersion,
    );
    if (h !== r.hash) return this.fail(r.seq, 'hash does not match the event content');
    const stored = version === 3 ? r.snapshot_delta : null;
    if (
      typeof stored === 'string' &&
      !r.snapshot_full &&
      !this.owned &&
      this.snapshot !== undefined
    )
      this.snapshot = structuredClone(this.snapshot);
    try {
      this.snapshot = applyDelta(this.snapshot, {
        snapshot_after: version === 3 ? null : r.snapshot_after,
        snapshot_delta: stored,
        snapshot_full: r.snapshot_full ?? null,
      });
    } catch (err) {
      return this.fail(
        r.seq,
        `the snapshot after the event cannot be rebuilt: ${(err as Error).message}`,
      );
    }
    this.owned = typeof stored === 'string';
    if (r.seq === 1) this.firstSnapshot = this.owned ? JSON.parse(stored!) : this.snapshot;
    if (r.seq === 1) this.first = r;
    this.last = r;
    this.prev = r.hash;
    this.expectedSeq++;
    return null;
  }

  /** the verdict once every event was pushed without failure: the instance row against the chain's end */
  finish(head: InstanceRow | undefined, registry: DefinitionRegistry | undefined): VerifyResult {
    const { last, first, snapshot, expectedSeq, prev } = this;
    const length = this.count;
    if (head) {
      if (head.last_seq > length) {
        const missing =
          head.last_seq === expectedSeq
            ? `seq ${expectedSeq}`
            : `seq ${expectedSeq}..${head.last_seq}`;
        return this.fail(
          expectedSeq,
          `${missing} missing at the end of the chain (the instance head is seq ${head.last_seq})`,
        );
      }
      if (head.last_seq < length || head.last_hash !== prev) {
        return this.fail(
          head.last_seq + 1,
          'the instance head (last_seq, last_hash) does not match the last event',
        );
      }
      if (
        last &&
        (head.version !== last.version_after ||
          canonicalJson(head.snapshot) !== canonicalJson(snapshot))
      ) {
        return this.fail(
          last.seq,
          'the current state of the instance differs from the snapshot after its last event',
        );
      }
      if (last && first && registry) {
        const moved = movedColumns(registry, head, first, this.firstSnapshot, last, snapshot);
        if (moved.length) {
          return this.fail(
            last.seq,
            `instance columns differ from the audited snapshot: ${moved.join(', ')}`,
          );
        }
      }
    }
    return { valid: true, events: length, firstBadSeq: null, reason: null, lastHash: prev };
  }
}

/** The trusted instance columns that differ from what the audited events say. */
function movedColumns(
  registry: DefinitionRegistry,
  head: InstanceRow,
  first: EventRow,
  firstSnapshot: unknown,
  last: EventRow,
  lastSnapshot: unknown,
): string[] {
  let def: ProcessDefinition;
  try {
    def = registry.get(head.definition_key, head.definition_version);
  } catch {
    return ['definition_key/definition_version (no such definition)'];
  }
  const snapshot = def.machine.resolveState(
    lastSnapshot as Parameters<typeof def.machine.resolveState>[0],
  );
  let tenant: string | null = null;
  try {
    tenant = def.tenantOf
      ? def.tenantOf(
          def.machine.resolveState(firstSnapshot as Parameters<typeof def.machine.resolveState>[0]),
        )
      : def.inputEntes(first.payload as object).unione;
  } catch {
    tenant = null;
  }
  const expected: Record<(typeof TRUSTED_COLUMNS)[number], unknown> = {
    tenant,
    participants: def.participants(snapshot),
    state_value: last.state_after,
    status: def.status(snapshot),
    pending_entes: def.pendingEntes(snapshot),
    title: def.titleOf(snapshot),
  };
  return TRUSTED_COLUMNS.filter(
    (c) => canonicalJson(head[c] ?? null) !== canonicalJson(expected[c] ?? null),
  );
}

/** Every chain in the database (apps/cli `verify-audit`). */
export interface VerifyAuditResult extends VerifyAllResult {
  registry: RegistryVerifyResult;
  checkpoint: CheckpointCheck;
}

/**
 * Verify every chain in the database, oldest instance first, the ente registry's chain, and every chain of
 * the latest checkpoint (a chain the checkpoint has and the database lost is named as missing).
 * The chains are read many at a time and checked in parallel in worker threads (`concurrency`, see
 * ./verify/batch-verify.ts); verdicts and the order of `onChain` calls are those of verifyChain one chain after
 * the other.
 */
export async function verifyAllChains(
  ds: DataSource,
  onChain?: (instanceId: string, result: VerifyResult) => void,
  opts: VerifyOptions & ParallelVerifyOptions = {},
): Promise<VerifyAuditResult> {
  const ids: { id: string; last_seq: number }[] = await ds.query(
    `SELECT id, last_seq FROM process_instance ORDER BY created_at, id`,
  );
  const out: VerifyAllResult = {
    chains: ids.length,
    events: 0,
    valid: 0,
    invalid: 0,
    failures: [],
  };
  const moved: { chain: string; reason: string }[] = [];
  const seen = new Set<string>();
  // read in batches of many chains, checked in worker threads (./verify); results come back in `ids` order
  await verifyChainsInBatches(ds, ids, opts, (id, r) => {
    seen.add(id);
    onChain?.(id, r);
    out.events += r.events;
    if (r.checkpoint?.moved.length) moved.push(...r.checkpoint.moved);
    if (r.valid) out.valid++;
    else {
      out.invalid++;
      out.failures.push({ instanceId: id, firstBadSeq: r.firstBadSeq, reason: r.reason });
    }
  });
  const registry = await verifyRegistryChain(ds);
  const cp = opts.checkpoint ?? null;
  if (cp && !cp.problem) {
    const regHead = cp.heads.get(REGISTRY_CHAIN_ID);
    const regMoved = regHead
      ? chainMoved(regHead, registry.events, (seq) => registry.hashes.get(seq))
      : null;
    if (regMoved) moved.push({ chain: REGISTRY_CHAIN_ID, reason: regMoved });
    for (const chain of cp.heads.keys()) {
      if (chain === REGISTRY_CHAIN_ID || seen.has(chain)) continue;
      const reason = `chain missing (the checkpoint has it at seq ${cp.heads.get(chain)!.seq})`;
      moved.push({ chain, reason });
      out.invalid++;
      out.failures.push({ instanceId: chain, firstBadSeq: 1, reason });
    }
  }
  return { ...out, registry, checkpoint: checkOf(cp, moved) };
}
