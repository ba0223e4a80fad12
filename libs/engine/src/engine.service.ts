import { randomUUID } from 'node:crypto';
import { initialTransition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import type { DataSource, QueryRunner } from 'typeorm';
import {
  ActorEnteUnknownError,
  AlreadyExistsError,
  canonicalJson,
  EnteNotFoundError,
  ForbiddenError,
  ForbiddenOrganError,
  IdempotencyKeyReusedError,
  ProcessNotFoundError,
  RuleViolationError,
  sha256Hex,
  SYSTEM_ACTOR,
  ValidationFailedError,
  VersionConflictError,
  type Actor,
  type EnteKind,
  type ActorRecord,
  clockOffsetMs,
  currentRequestId,
  runWithJobRequestIds,
  type Clock,
  type EnteStanding,
} from '@app/common';
import { EnteRepository } from '@app/persistence';
import {
  acceptedEventTypes,
  notificationRows,
  pureTransition,
  toEffects,
  toProcessEffects,
  type LinkedProcess,
  type ProcessEffect,
  type ActRef,
  type DefinitionRegistry,
  type Effect,
  type EnteFacts,
  type MachineEvent,
  type ProcessDefinition,
  type TimerSpec,
} from '@app/workflows';
import { eventHash, GENESIS_HASH } from './audit-hash';
import { authorizeEvent, canRead, organFits, roleFor } from './authorization';
import { decideEvent, refusalError } from './decide';
import type { JobScheduler, TimerJob } from './ports';
import { NO_ENGINE_OBSERVER, type EngineObserver } from './observer';
import { buildView, type ProcessView } from './process-view';
import { snapshotDelta, snapshotAtSeq } from './snapshot-delta';
import { validatePayload } from './validation';

export interface DispatchOptions {
  /** If-Match: refuse with VERSION_CONFLICT unless the instance is at this version */
  expectedVersion?: number;
  /** Idempotency-Key: the same key replays the first answer and changes nothing */
  idempotencyKey?: string;
  /** the process_effect row this step carries out (a signal): marked done in the step's transaction */
  effectId?: string;
}

export interface StartOptions {
  /** the process_effect row this start carries out: marked done in the start's transaction */
  effectId?: string;
}

export interface StartRequest {
  definition: string;
  businessKey?: string;
  input: unknown;
}

export interface EventRequest {
  type: string;
  payload?: unknown;
}

/** `late`: the timer came due too late to be of use (TimerSpec.notAfter) and was cancelled;
 * `early`: not due yet by the database's clock, `inMs` says how long until it is */
export type FireResult =
  'fired' | 'ignored' | 'stale' | 'late' | 'missing' | { early: Date; inMs: number };

interface ArmedTimer {
  id: string;
  kind: 'reminder' | 'deadline';
  dueAt: string;
  status: 'armed' | 'fired';
}

interface LockedRow {
  id: string;
  definition_key: string;
  definition_version: number;
  tenant: string;
  business_key: string;
  state_value: string;
  snapshot: unknown;
  version: number;
  participants: string[];
  armed_timers: Record<string, ArmedTimer>;
  last_seq: number;
  last_hash: string;
  created_at: Date;
  updated_at: Date;
  /** the database's clock once the row is locked: the new event's recorded_at (millisecond precision) */
  db_now?: Date;
  /** the acting token's ente in the registry (authorization by organ); null when it is not there */
  actor_standing?: EnteStanding | null;
}

/** a timer row as the firing reads it under its process's lock */
interface DueTimer {
  id: string;
  key: string;
  due_at: Date;
  status: string;
  /** how far in the future it falls due from the time the step is dated (the lock's clock reading), ms */
  in_ms: number;
  event: { type: string; payload: Record<string, unknown> };
}

/** What a step wrote: its post-commit work, the timers it let go of, and the process row as it left it. */
interface Persisted extends AfterCommit {
  /** held timers it released (armed ones among them cancelled) */
  released: string[];
  /** the locked row after the step (the next step of the same transaction starts from it) */
  row: LockedRow;
}

interface AfterCommit {
  /** the timers the new state wants (computed once, reused by the view) */
  wanted: TimerSpec[];
  timers: TimerJob[];
  cancelled: string[];
  outbox: string[];
  /** process_effect rows (start another process, signal a linked one) for the worker */
  processEffects?: string[];
  /** the request that committed the step, carried by its jobs (set when the enqueue is left for later) */
  requestId?: string | null;
}

/** The actor's ente ($2) as the registry knows it: its kind and the unione it belongs to (an unione: itself). */
const STANDING_SQL = `(SELECT json_build_object('kind', e.kind, 'unione',
    CASE WHEN e.kind = 'UNIONE' THEN e.codice_ipa ELSE u.codice_ipa END)
  FROM ente e LEFT JOIN ente u ON u.id = e.unione_id WHERE e.codice_ipa = $2) AS actor_standing`;

/**
 * The timers the instance holds (timer.held): armed, or fired (or cancelled as late) for the due date the
 * state still wants, by key; and the database's clock. Timers live in their table only. Read by a statement
 * of its own AFTER the row lock is granted: a lock that waited for another step re-reads the process row
 * (READ COMMITTED re-checks the locked row) but a subquery of the locking statement would still see the
 * timers as they were when that statement began, before the other step armed or released any.
 */
const HELD_SQL = `SELECT (SELECT COALESCE(jsonb_object_agg(t.key, jsonb_build_object('id', t.id, 'kind', t.kind,
    'dueAt', t.due_at, 'status', CASE WHEN t.status = 'armed' THEN 'armed' ELSE 'fired' END)), '{}'::jsonb)
  FROM timer t WHERE t.instance_id = $1 AND t.held) AS armed_timers, statement_timestamp() AS db_now`;

/** the columns of the process row a step reads under its lock (with $2, the acting ente's standing) */
const LOCKED_COLUMNS = `id, definition_key, definition_version, tenant, business_key, state_value, snapshot, version,
  participants, last_seq, last_hash, created_at, updated_at`;

// lock_timeout (DATABASE_LOCK_TIMEOUT_MS, set per connection) bounds the wait: a busy process answers
// 409 PROCESS_BUSY instead of queueing requests behind a stalled lock holder
const LOCK_SQL = `SELECT ${LOCKED_COLUMNS}, ${STANDING_SQL}
  FROM process_instance WHERE id = $1 FOR UPDATE`;

/**
 * One process with due timers that no one else holds (SKIP LOCKED), among the earliest due timers, for the
 * timer sweep, locked and read as LOCK_SQL reads it (the system has no standing); $1 is the clock offset
 * (ms, 0 in production), $2 the processes this sweep already gave up on.
 */
const CLAIM_SQL = `SELECT ${LOCKED_COLUMNS}, NULL::json AS actor_standing FROM process_instance
  WHERE id IN (SELECT t.instance_id FROM timer t
    WHERE t.status = 'armed' AND t.due_at <= statement_timestamp() + make_interval(secs => $1::float8 / 1000)
      AND t.instance_id <> ALL($2::uuid[])
    ORDER BY t.due_at LIMIT 512)
  FOR UPDATE SKIP LOCKED LIMIT 1`;

/** What Engine.fireDue did: its own timer's outcome, and the sweep's counts. */
export interface FireDueReport {
  /** the outcome of the job's own timer (fired in the same transaction as its process's other due timers) */
  own: FireResult;
  /** timers fired (with their event), own included */
  fired: number;
  /** timers decided: fired, ignored, cancelled as late or stale */
  handled: number;
  /** processes locked and worked on, one transaction each */
  instances: number;
  /** processes the sweep gave up on (their step failed; their own jobs retry) */
  failed: number;
}

interface InstanceFiring {
  outcomes: Map<string, FireResult>;
  after: AfterCommit[];
  /** other processes had due armed timers when this one's were read */
  more: boolean;
}

/** The enqueues of several steps, sent together; `removed`: more jobs to take out of the timer queue. */
function mergeAfterCommits(list: readonly AfterCommit[], removed: readonly string[]): AfterCommit {
  return {
    wanted: [],
    timers: list.flatMap((a) => a.timers),
    cancelled: [...list.flatMap((a) => a.cancelled), ...removed],
    outbox: list.flatMap((a) => a.outbox),
    processEffects: list.flatMap((a) => a.processEffects ?? []),
  };
}

/**
 * One statement per step (one round trip): the versioned UPDATE of the instance head, the event INSERT, the
 * new timers, the notification rows and the act the step records in act_registry (a number already used
 * inserts nothing: the step is refused and rolled back). Sub-statements that have nothing to write get an empty JSON array.
 * The event, timers and outbox rows are written only if the head moved (`FROM head`): a version that moved
 * under the lock is an error, never a half-written step.
 */
const STEP_SQL = `WITH head AS (
    UPDATE process_instance SET snapshot = $2::jsonb, version = $3, state_value = $4, status = $5, title = $6,
      pending_entes = $7, next_deadline = $8, last_seq = $9, last_hash = $10, updated_at = $11, participants = $12
    WHERE id = $1 AND version = $3 - 1
    RETURNING id, tenant),
  ev AS (
    INSERT INTO process_event (instance_id, seq, type, payload, actor_subject, actor_role, actor_ente, occurred_at,
      state_before, state_after, version_after, snapshot_delta, snapshot_full, idempotency_key, request_hash, timer_id,
      prev_hash, hash, recorded_at, hash_version, request_id)
    SELECT head.id, $9, $13, $14::jsonb, $15, $16, $17, $11, $18, $4, $3, $19, $20, $21, $22, $23, $24, $10, $25, 3, $28
    FROM head
    RETURNING seq),
  tm AS (
    INSERT INTO timer (id, instance_id, key, kind, due_at, event, status, armed_version, held)
    SELECT t.id, head.id, t.key, t.kind, t.due_at, t.event, 'armed', $3, true
    FROM head, jsonb_to_recordset($26::jsonb) AS t(id uuid, key text, kind text, due_at timestamptz, event jsonb)
    RETURNING id),
  ob AS (
    INSERT INTO outbox (id, instance_id, event_seq, tenant, recipient_ente, recipient_role, channel, template, payload,
      status, attempts, dedupe_key)
    SELECT o.id, head.id, $9, head.tenant, o.recipient_ente, o.recipient_role, o.channel, o.template, o.payload,
      'pending', 0, o.dedupe_key
    FROM head, jsonb_to_recordset($27::jsonb) AS o(id uuid, recipient_ente text, recipient_role text, channel text,
      template text, payload jsonb, dedupe_key text)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id),
  act AS (
    INSERT INTO act_registry (ente, organ, year, number, instance_id, event_seq, act_date)
    SELECT a.ente, a.organ, a.year, a.number, head.id, $9, a.act_date
    FROM head, jsonb_to_recordset($29::jsonb) AS a(ente text, organ text, year int, number text, act_date date)
    ON CONFLICT DO NOTHING
    RETURNING ente)
  SELECT (SELECT count(*) FROM ev)::int AS appended, (SELECT count(*) FROM act)::int AS acts`;

/**
 * The timers a step lets go of ($1): armed ones are cancelled; fired ones (or late) are no longer held. And
 * the timer the step fires ($3, null for a step that is not a timer's): marked fired in the same statement,
 * held or let go of as the new state wants it. $2 is the step's time.
 */
const RELEASE_TIMERS_SQL = `UPDATE timer SET held = CASE WHEN id = ANY($1::uuid[]) THEN false ELSE held END,
    status = CASE WHEN id = $3::uuid THEN 'fired' WHEN status = 'armed' THEN 'cancelled' ELSE status END,
    cancelled_at = CASE WHEN id IS DISTINCT FROM $3::uuid AND status = 'armed' THEN $2::timestamptz
      ELSE cancelled_at END,
    fired_at = CASE WHEN id = $3::uuid THEN $2::timestamptz ELSE fired_at END
  WHERE (id = ANY($1::uuid[]) AND held) OR id = $3::uuid`;

export interface EngineLogger {
  warn(message: string, meta?: unknown): void;
}

/**
 * The transition pipeline (DESIGN.md): load → authorize → validate → transition → persist, in ONE database
 * transaction, then enqueue the jobs after commit. Postgres is the source of truth: a crash after commit and
 * before enqueue loses nothing, the reconciler enqueues what is missing.
 */
export class Engine {
  private readonly entes: EnteRepository;
  /** post-commit enqueues not awaited by their caller, waiting for the next batch (see enqueueAfterAnswer) */
  private enqueuePending: AfterCommit[] = [];
  /** the batches being sent, one after the other; null when there is nothing to send */
  private enqueueFlush: Promise<void> | null = null;
  /** metrics (libs/runtime's ObservedEngine sets it); the default does nothing */
  observer: EngineObserver = NO_ENGINE_OBSERVER;

  constructor(
    private readonly ds: DataSource,
    private readonly registry: DefinitionRegistry,
    private readonly scheduler: JobScheduler,
    private readonly clock: Clock,
    private readonly logger: EngineLogger = { warn: () => undefined },
  ) {
    this.entes = new EnteRepository(ds);
  }

  // ---------------------------------------------------------------- start

  async start(req: StartRequest, actor: Actor, opts: StartOptions = {}): Promise<ProcessView> {
    const def = this.registry.latest(req.definition);
    await validatePayload(def.input, req.input, 'input');
    const input = req.input as object;
    const linked = def.prerequisite ? await this.loadPrerequisite(def, input, actor) : undefined;
    const named = def.inputEntes(input, linked);
    // the system starts a process only as the effect of another one's step (e.g. the RTD of a convention)
    const bySystem = actor.roles.includes('system') && opts.effectId !== undefined;
    if (
      !bySystem &&
      (!def.startRoles.some((r) => actor.roles.includes(r)) ||
        actor.ente !== named.unione ||
        actor.unione !== named.unione)
    ) {
      throw new ForbiddenError(
        `Solo ${def.startRoles.join(' o ')} dell'Unione ${named.unione} può avviare questo procedimento`,
      );
    }
    const codes = [named.unione, ...named.members];
    const found = await this.entes.findByCodes(codes);
    // authorization by organ: the token's ente (the unione named by the input) must be in the registry
    // (the system, starting a process as another one's effect, has no token: the unione is checked below)
    if (!bySystem) actor = this.startStanding(def, actor, named.unione, found);
    const missing = codes.filter((c) => !found.has(c));
    if (missing.length) throw new EnteNotFoundError(missing);
    const unione = found.get(named.unione)!;
    if (unione.kind !== 'UNIONE') {
      throw new RuleViolationError('NOT_AN_UNIONE', `${unione.denominazione} non è un'unione`, [
        { field: 'input.unione', errors: ['must be an unione'] },
      ]);
    }
    const strangers = named.members.filter((m) => found.get(m)!.unione !== named.unione);
    if (strangers.length) {
      throw new RuleViolationError(
        'NOT_A_MEMBER',
        `Non sono comuni dell'Unione ${named.unione}: ${strangers.join(', ')}`,
        [
          {
            field: 'input.members',
            errors: strangers.map((s) => `${s} is not a member of ${named.unione}`),
          },
        ],
      );
    }
    const facts = new Map<string, EnteFacts>(
      [...found.values()].map((e) => [
        e.codiceIpa,
        {
          codiceIpa: e.codiceIpa,
          denominazione: e.denominazione,
          kind: e.kind,
          popolazione: e.popolazione,
        },
      ]),
    );
    const machineInput = def.machineInput(input, facts, linked);
    const [snapshot, actions] = initialTransition(def.machine, machineInput);
    const id = randomUUID();
    const actorIn = actor;
    const businessKey = this.businessKeyFor(def, req, input) ?? id;
    const participants = codes;
    const actorRecord: ActorRecord = {
      subject: actor.subject,
      role: roleFor({ roles: def.startRoles, scope: 'unione' }, actor),
      ente: actor.ente,
    };

    const after = await this.inTransaction(async (qr) => {
      const persisted = def.machine.getPersistedSnapshot(snapshot);
      const stateAfter = def.stateLabel(snapshot);
      const [probe] = (await qr.query(
        `SELECT statement_timestamp() AS db_now, (SELECT id FROM process_instance
           WHERE tenant = $1 AND definition_key = $2 AND business_key = $3) AS taken`,
        [named.unione, def.key, businessKey],
      )) as { db_now: Date; taken: string | null }[];
      const at = this.dbTime(probe!.db_now).toISOString();
      // the existing process is of the caller's own unione (the key is unique per unione): a client that lost
      // the answer to its first start finds the process it created
      if (probe!.taken)
        throw new AlreadyExistsError(
          `Esiste già un procedimento ${def.key} con chiave ${businessKey}`,
          { businessKey, processId: probe!.taken },
        );
      await qr.query(
        `INSERT INTO process_instance (id, definition_key, definition_version, tenant, business_key, title, status,
           state_value, snapshot, version, participants, pending_entes, next_deadline, last_seq, last_hash,
           created_by, created_at, updated_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,0,$10,'{}',NULL,0,$11,$12,$13,$13)`,
        [
          id,
          def.key,
          def.version,
          named.unione,
          businessKey,
          def.titleOf(snapshot),
          def.status(snapshot),
          stateAfter,
          persisted,
          participants,
          GENESIS_HASH,
          actor.subject,
          at,
        ],
      );
      const row: LockedRow = {
        id,
        definition_key: def.key,
        definition_version: def.version,
        tenant: named.unione,
        business_key: businessKey,
        state_value: stateAfter,
        snapshot: persisted,
        version: 0,
        participants,
        armed_timers: {},
        last_seq: 0,
        last_hash: GENESIS_HASH,
        created_at: new Date(at),
        updated_at: new Date(at),
        db_now: probe!.db_now,
      };
      const done = await this.persistStep(qr, def, row, {
        next: snapshot,
        type: 'process.started',
        payload: input as Record<string, unknown>,
        actor: actorRecord,
        at,
        stateBefore: null,
        effects: toEffects(actions),
        processEffects: toProcessEffects(actions),
      });
      await this.linkStarted(qr, def, linked, id, opts.effectId);
      return {
        done,
        view: buildView(
          def,
          row,
          snapshot,
          1,
          actorIn,
          participants,
          this.clock.now(),
          at,
          done.wanted,
        ),
      };
    });
    this.enqueueAfterAnswer(after.done);
    return after.view;
  }

  // ---------------------------------------------------------------- dispatch

  async dispatch(
    instanceId: string,
    req: EventRequest,
    actor: Actor,
    opts: DispatchOptions = {},
  ): Promise<ProcessView> {
    const requestHash = sha256Hex(
      canonicalJson({ type: req.type, payload: req.payload ?? {}, subject: actor.subject }),
    );
    const result = await this.inLockedTransaction(instanceId, actor, async (qr, row) => {
      const def = this.registry.get(row.definition_key, row.definition_version);
      actor = { ...actor, standing: row.actor_standing ?? null };

      if (opts.idempotencyKey !== undefined) {
        const prior = (await qr.query(
          `SELECT seq, request_hash, version_after, occurred_at FROM process_event
           WHERE instance_id = $1 AND idempotency_key = $2`,
          [instanceId, opts.idempotencyKey],
        )) as {
          seq: number;
          request_hash: string;
          version_after: number;
          occurred_at: Date;
        }[];
        const first = prior[0];
        if (first) {
          if (first.request_hash !== requestHash)
            throw new IdempotencyKeyReusedError(opts.idempotencyKey);
          const snap = this.restore(
            def.machine,
            await snapshotAtSeq((sql, p) => qr.query(sql, p), instanceId, first.seq),
          );
          return {
            after: undefined,
            replay: buildView(
              def,
              row,
              snap,
              first.version_after,
              actor,
              row.participants,
              this.clock.now(),
              new Date(first.occurred_at).toISOString(),
            ),
          };
        }
      }
      if (opts.expectedVersion !== undefined && opts.expectedVersion !== row.version) {
        throw new VersionConflictError(opts.expectedVersion, row.version);
      }
      // own keys only: `constructor`, `toString`... are not event types (Object.prototype is not looked at)
      const spec = Object.hasOwn(def.events, req.type) ? def.events[req.type] : undefined;
      if (!spec) {
        throw new ValidationFailedError([
          {
            field: 'type',
            errors: [
              `unknown event type; one of: ${Object.keys(def.events)
                .filter((t) => def.events[t]!.scope !== 'system')
                .join(', ')}`,
            ],
          },
        ]);
      }
      if (spec.scope === 'system' && !actor.roles.includes('system')) {
        throw new ForbiddenError('Evento riservato al sistema (scadenze e promemoria)');
      }
      const appointee =
        spec.scope === 'appointee'
          ? (def.appointee?.(this.restore(def.machine, row.snapshot)) ?? null)
          : undefined;
      const roleRefusal = authorizeEvent(
        spec,
        actor,
        row.tenant,
        row.participants,
        undefined,
        appointee,
      );
      if (roleRefusal) throw refusalError(roleRefusal, { event: req.type });
      await validatePayload(spec.payload, req.payload, 'payload');
      let payload = (req.payload ?? {}) as Record<string, unknown>;
      if (spec.resolveEnte) {
        // a comune joining later: resolved from the ente registry, and only if it belongs to this unione
        const code = String(payload['ente']);
        const found = (await this.entes.findByCodes([code])).get(code);
        if (found && found.unione === row.tenant) {
          payload = {
            ...payload,
            enteFacts: {
              codiceIpa: found.codiceIpa,
              denominazione: found.denominazione,
              kind: found.kind,
              popolazione: found.popolazione,
            },
          };
        }
      }
      const current = this.restore(def.machine, row.snapshot);
      const event: MachineEvent = {
        type: req.type,
        payload,
        actor: { subject: actor.subject, role: roleFor(spec, actor), ente: actor.ente },
        at: this.stepTime(row).toISOString(),
      };
      // who, state, rule, transition: the same pure decision allowedEvents is tested against
      const { next, actions } = decideEvent(
        def,
        current,
        event,
        actor,
        row.tenant,
        row.participants,
      );
      const act = spec.registersAct?.(current, event);
      const after = await this.persistStep(qr, def, row, {
        act: act ?? undefined,
        next,
        type: req.type,
        payload,
        actor: event.actor,
        at: event.at,
        stateBefore: row.state_value,
        effects: toEffects(actions),
        processEffects: toProcessEffects(actions),
        idempotencyKey: opts.idempotencyKey,
        requestHash,
      });
      if (opts.effectId)
        await this.markEffectDone(qr, opts.effectId, { instanceId: row.id, seq: row.last_seq + 1 });
      // the answer is this transition's result, not whatever a later read would see
      const view = buildView(
        def,
        row,
        next,
        row.version + 1,
        actor,
        def.participants(next),
        this.clock.now(),
        event.at,
        after.wanted,
      );
      return { after, replay: view };
    });
    if (result.after) this.enqueueAfterAnswer(result.after);
    return result.replay;
  }

  // ---------------------------------------------------------------- timers

  /**
   * Fire one timer: a no-op unless the row is still armed AND the current state still wants it with the
   * same due date (states may have moved on). Otherwise its event goes through the pipeline as the
   * system actor, audited like any other step, and the row becomes `fired` in the same transaction.
   */
  async fireTimer(timerId: string): Promise<FireResult> {
    // due or not is the database's answer (its clock, shifted by the injectable clock's offset: 0 in
    // production), checked before the process is locked: an early or stale job never takes the lock
    const offset = clockOffsetMs(this.clock);
    const found: { instance_id: string; status: string; due_at: Date; in_ms: number }[] =
      await this.ds.query(
        `SELECT instance_id, status, due_at,
                (extract(epoch FROM due_at - now()) * 1000 - $2)::float8 AS in_ms
         FROM timer WHERE id = $1`,
        [timerId, offset],
      );
    const pre = found[0];
    if (!pre) return 'missing';
    if (pre.status !== 'armed') return 'stale';
    if (pre.in_ms > 0) return { early: pre.due_at, inMs: Math.ceil(pre.in_ms) };
    const result = await this.inLockedTransaction(pre.instance_id, SYSTEM_ACTOR, (qr, row) =>
      this.fireLocked(qr, row, timerId),
    );
    if (result.after) await this.afterCommit(result.after);
    return result.outcome;
  }

  /**
   * Fire due timers in batches (issue 15): the job's own timer and every other due timer of its process in
   * ONE transaction (one lock, one commit), then up to `maxInstances` other processes with due timers, each
   * in its own transaction, claimed with FOR UPDATE SKIP LOCKED so that concurrent jobs and workers take
   * different processes and never wait on each other. Each timer is still one audited step (its own event,
   * hash and `timer_id`), decided by fireLocked exactly as fireTimer decides it: a timer fires once because
   * its row is re-read under the process's row lock, whoever (job, sweep, another worker) gets there first.
   *
   * The jobs of the timers a sweep handled are removed from the queue after commit (best effort: a job
   * already taken by a worker finds its row no longer armed and does nothing). The enqueues of every step
   * (notifications, new timers, removals of cancelled ones) go to Redis together, once per call.
   */
  async fireDue(
    timerId: string,
    opts: { maxInstances: number; maxTimersPerInstance?: number },
  ): Promise<FireDueReport> {
    const offset = clockOffsetMs(this.clock);
    const perInstance = opts.maxTimersPerInstance ?? 64;
    const found: { instance_id: string; status: string; due_at: Date; in_ms: number }[] =
      await this.ds.query(
        `SELECT instance_id, status, due_at,
                (extract(epoch FROM due_at - now()) * 1000 - $2)::float8 AS in_ms
         FROM timer WHERE id = $1`,
        [timerId, offset],
      );
    const pre = found[0];
    const report: FireDueReport = { own: 'missing', fired: 0, handled: 0, instances: 0, failed: 0 };
    const afters: AfterCommit[] = [];
    const swept: string[] = [];
    if (pre?.status === 'armed' && pre.in_ms > 0) {
      // early by the database's clock: the job waits, nothing else is looked at
      report.own = { early: pre.due_at, inMs: Math.ceil(pre.in_ms) };
      return report;
    }
    let more = true;
    if (!pre) report.own = 'missing';
    else if (pre.status !== 'armed') report.own = 'stale';
    else {
      const own = await this.inLockedTransaction(pre.instance_id, SYSTEM_ACTOR, (qr, row) =>
        this.fireInstance(qr, row, perInstance, timerId),
      );
      report.own = own.outcomes.get(timerId) ?? 'stale';
      this.tally(report, own, afters, swept, timerId);
      more = own.more;
    }
    // the sweep: other processes with due timers, one transaction each, skipping those locked by others;
    // none when no other process had due timers (a timer on time costs its job one transaction, no more)
    const skip: string[] = [];
    while (more && report.instances < opts.maxInstances) {
      let done: InstanceFiring | null;
      let claimed: string | null = null;
      try {
        done = await this.inTransaction(async (qr) => {
          // the offset is read again for each process (tests move the clock while a sweep runs)
          const now = clockOffsetMs(this.clock);
          const rows = (await query(qr, 'iter_claim_v2', CLAIM_SQL, [now, skip])) as Omit<
            LockedRow,
            'armed_timers' | 'db_now'
          >[];
          if (!rows[0]) return null;
          claimed = rows[0].id;
          const row = { ...rows[0], ...(await this.held(qr, claimed)) };
          return this.fireInstance(qr, row, perInstance);
        });
      } catch (err) {
        // a process whose step fails (its own job retries and reports it) must not stop the sweep
        if (claimed === null) throw err;
        report.failed++;
        skip.push(claimed);
        this.logger.warn(`timer sweep: process ${claimed as string} skipped`, err);
        continue;
      }
      if (!done) break;
      this.tally(report, done, afters, swept);
      more = done.more;
    }
    // the swept timers' jobs are no longer needed: removed like the jobs of cancelled timers
    await this.afterCommit(mergeAfterCommits(afters, swept));
    return report;
  }

  private tally(
    report: FireDueReport,
    done: InstanceFiring,
    afters: AfterCommit[],
    swept: string[],
    own?: string,
  ): void {
    report.instances++;
    for (const [id, outcome] of done.outcomes) {
      if (typeof outcome === 'object') continue;
      report.handled++;
      if (outcome === 'fired') report.fired++;
      if (id !== own) swept.push(id);
    }
    afters.push(...done.after);
  }

  /**
   * The due timers of one locked process (the given one first, then by due date), each decided and
   * applied by fireLocked as one step, in the caller's transaction. The row is read again under the lock
   * between steps (the lock is held: no wait), so each step starts from the one before it.
   */
  private async fireInstance(
    qr: QueryRunner,
    row: LockedRow,
    limit: number,
    first?: string,
  ): Promise<InstanceFiring> {
    // this process's due timers (their rows: read once, under the lock), and whether other processes have
    // some too (is a sweep worth it?). Due by the time the steps of this transaction are dated (the lock's
    // clock reading): a timer falling due a moment later is never fired by a step dated before it
    const [found] = (await qr.query(
      `SELECT COALESCE((SELECT json_agg(x ORDER BY x.due_at, x.id) FROM (
                SELECT id, key, due_at, status, event,
                       (extract(epoch FROM due_at - $2::timestamptz) * 1000)::float8 AS in_ms
                FROM timer WHERE instance_id = $1 AND status = 'armed' AND due_at <= $2::timestamptz
                ORDER BY due_at, id LIMIT $3) x), '[]'::json) AS due,
              EXISTS (SELECT 1 FROM timer WHERE status = 'armed' AND due_at <= $2::timestamptz
                        AND instance_id <> $1) AS more`,
      [row.id, this.stepTime(row).toISOString(), limit],
    )) as { due: (Omit<DueTimer, 'due_at'> & { due_at: string })[]; more: boolean }[];
    const due = new Map<string, DueTimer>(
      (found?.due ?? []).map((t) => [t.id, { ...t, due_at: new Date(t.due_at) }]),
    );
    const ids = first ? [first, ...[...due.keys()].filter((id) => id !== first)] : [...due.keys()];
    const outcomes = new Map<string, FireResult>();
    const after: AfterCommit[] = [];
    // timers an earlier step of this transaction cancelled or let go of: their rows read above are stale
    const changed = new Set<string>();
    for (const id of ids) {
      const known = changed.has(id) ? undefined : due.get(id);
      const r = await this.fireLocked(qr, row, id, known);
      outcomes.set(id, r.outcome);
      if (r.after) {
        after.push(r.after);
        for (const c of r.after.released) changed.add(c);
        // the lock is held: the row this step wrote is the one the next step starts from, no re-read
        row = r.after.row;
      } else if (r.outcome === 'late' || r.outcome === 'stale') {
        changed.add(id);
      }
    }
    return { outcomes, after, more: found?.more ?? false };
  }

  /** One timer of a locked process: re-read under the lock, then fired, cancelled or ignored (one step). */
  private async fireLocked(
    qr: QueryRunner,
    row: LockedRow,
    timerId: string,
    known?: DueTimer,
  ): Promise<{ outcome: FireResult; after?: Persisted }> {
    // early or not by the time the step is dated (the lock's clock reading), never by a later one
    const now = this.stepTime(row);
    const timers: DueTimer[] = known
      ? [known]
      : ((await qr.query(
          `SELECT id, key, due_at, status, event,
                  (extract(epoch FROM due_at - $2::timestamptz) * 1000)::float8 AS in_ms
           FROM timer WHERE id = $1`,
          [timerId, now.toISOString()],
        )) as DueTimer[]);
    const timer = timers[0];
    if (!timer || timer.status !== 'armed') return { outcome: 'stale' as const };
    if (timer.in_ms > 0) return { outcome: { early: timer.due_at, inMs: Math.ceil(timer.in_ms) } };
    const def = this.registry.get(row.definition_key, row.definition_version);
    const current = this.restore(def.machine, row.snapshot);
    const wanted = def.timers(current).find((t) => t.key === timer.key);
    if (
      wanted &&
      Date.parse(wanted.dueAt) === timer.due_at.getTime() &&
      wanted.notAfter !== undefined &&
      now.getTime() >= Date.parse(wanted.notAfter)
    ) {
      // too late to be of use (a reminder at or after its deadline): cancelled, never delivered; kept as
      // held (timer.held) so that the state does not arm it again for the same due date
      this.observer.timerCancelled('late');
      await qr.query(`UPDATE timer SET status = 'cancelled', cancelled_at = $2 WHERE id = $1`, [
        timerId,
        now.toISOString(),
      ]);
      return { outcome: 'late' as const };
    }
    if (!wanted || Date.parse(wanted.dueAt) !== timer.due_at.getTime()) {
      // the state no longer wants it: cancel instead of firing
      this.observer.timerCancelled('unwanted');
      await qr.query(
        `UPDATE timer SET status = 'cancelled', cancelled_at = $2, held = false WHERE id = $1`,
        [timerId, now.toISOString()],
      );
      return { outcome: 'stale' as const };
    }
    row.armed_timers = {
      ...row.armed_timers,
      [timer.key]: { ...row.armed_timers[timer.key]!, status: 'fired' },
    };
    const event: MachineEvent = {
      type: timer.event.type,
      payload: timer.event.payload,
      actor: { subject: 'system', role: 'system', ente: null },
      at: now.toISOString(),
    };
    const accepted = acceptedEventTypes(current).has(event.type);
    const [next, actions] = accepted ? pureTransition(def.machine, current, event) : [current, []];
    if (next === current) {
      // consumed without a step: marked fired, still held (the state wants it for this due date)
      await qr.query(`UPDATE timer SET status = 'fired', fired_at = $2 WHERE id = $1`, [
        timerId,
        now.toISOString(),
      ]);
      return { outcome: 'ignored' as const };
    }
    // marked fired by the step's own timer statement (persistStep), with the timers the step lets go of
    this.observer.timerFired(def.key, event.type, now.getTime() - timer.due_at.getTime());
    const after = await this.persistStep(qr, def, row, {
      next,
      type: event.type,
      payload: event.payload,
      actor: event.actor,
      at: event.at,
      stateBefore: row.state_value,
      effects: toEffects(actions),
      processEffects: toProcessEffects(actions),
      timerId,
    });
    return { outcome: 'fired' as const, after };
  }

  // ---------------------------------------------------------------- internals

  async viewOf(instanceId: string, actor: Actor): Promise<ProcessView> {
    const rows: Omit<LockedRow, 'armed_timers'>[] = await this.ds.query(
      `SELECT id, definition_key, definition_version, tenant, business_key, state_value, snapshot, version, participants,
              last_seq, last_hash, created_at, updated_at, ${STANDING_SQL}
       FROM process_instance WHERE id = $1`,
      [instanceId, actor.ente],
    );
    const row = rows[0];
    if (!row || !canRead(actor, row.tenant)) throw new ProcessNotFoundError(instanceId);
    const def = this.registry.get(row.definition_key, row.definition_version);
    const view = buildView(
      def,
      row,
      this.restore(def.machine, row.snapshot),
      row.version,
      { ...actor, standing: row.actor_standing ?? null },
      row.participants,
      this.clock.now(),
    );
    return { ...view, links: await linksOf(this.ds, instanceId) };
  }

  /**
   * The database's clock shifted by the injectable clock's offset (0 in production, moved by tests): every
   * process takes "now" from Postgres, so a worker whose own clock is wrong cannot date steps or fire
   * deadlines by it.
   */
  private dbTime(dbNow: Date | undefined): Date {
    if (!dbNow) return this.clock.now();
    return new Date(new Date(dbNow).getTime() + clockOffsetMs(this.clock));
  }

  /** the time of a new step: the database's clock, never before the instance's previous step */
  private stepTime(row: LockedRow): Date {
    const now = this.dbTime(row.db_now);
    const last = new Date(row.updated_at);
    return now.getTime() >= last.getTime() ? now : last;
  }

  restore(machine: AnyStateMachine, persisted: unknown): AnyMachineSnapshot {
    return machine.resolveState(persisted as Parameters<AnyStateMachine['resolveState']>[0]);
  }

  private async lock(qr: QueryRunner, instanceId: string, actor: Actor): Promise<LockedRow> {
    const rows = (await query(qr, 'iter_lock_v4', LOCK_SQL, [instanceId, actor.ente])) as Omit<
      LockedRow,
      'armed_timers' | 'db_now'
    >[];
    const row = rows[0];
    // another tenant's process answers 404: its existence is not leaked
    if (!row || !canRead(actor, row.tenant)) throw new ProcessNotFoundError(instanceId);
    return { ...row, ...(await this.held(qr, instanceId)) };
  }

  /** the held timers and the clock, read once the lock is held (HELD_SQL) */
  private async held(
    qr: QueryRunner,
    instanceId: string,
  ): Promise<Pick<LockedRow, 'armed_timers' | 'db_now'>> {
    const rows = (await query(qr, 'iter_held_v1', HELD_SQL, [instanceId])) as Pick<
      LockedRow,
      'armed_timers' | 'db_now'
    >[];
    return rows[0]!;
  }

  /** The starter's standing (its ente in the registry, of its unione) and organ: refused with a stable code. */
  private startStanding(
    def: ProcessDefinition,
    actor: Actor,
    unioneCode: string,
    found: ReadonlyMap<
      string,
      { kind: EnteKind; codiceIpa: string; unione: string | null; denominazione: string }
    >,
  ): Actor {
    const own = found.get(unioneCode);
    if (!own) {
      throw new ActorEnteUnknownError(
        `L'ente ${unioneCode} del token non è nell'anagrafe degli enti: non può agire`,
      );
    }
    const standing: EnteStanding = {
      kind: own.kind,
      unione: own.kind === 'UNIONE' ? own.codiceIpa : own.unione,
    };
    if (standing.unione !== actor.unione) {
      throw new ActorEnteUnknownError(
        `L'ente ${unioneCode} del token non appartiene all'Unione ${actor.unione ?? 'nessuna'}: non può agire`,
      );
    }
    actor = { ...actor, standing };
    if (!def.startRoles.some((r) => actor.roles.includes(r) && organFits(r, own.kind))) {
      throw new ForbiddenOrganError(
        `${def.startRoles.join(' o ')} non può avviare questo procedimento per ${own.denominazione}`,
      );
    }
    return actor;
  }

  /** Write snapshot + version+1, the audit event with its hash, timer and outbox rows. Same transaction. */
  private async persistStep(
    qr: QueryRunner,
    def: ProcessDefinition,
    row: LockedRow,
    step: {
      next: AnyMachineSnapshot;
      type: string;
      payload: Record<string, unknown>;
      actor: ActorRecord;
      at: string;
      stateBefore: string | null;
      effects: Effect[];
      processEffects?: ProcessEffect[];
      idempotencyKey?: string;
      requestHash?: string;
      timerId?: string;
      /** the act (delibera, decreto…) the step records: unique per ente, organ and year */
      act?: ActRef;
    },
  ): Promise<Persisted> {
    const version = row.version + 1;
    const seq = row.last_seq + 1;
    // plain JSON (what jsonb keeps): the text sent to the instance row, and the object the patch is taken to
    const snapshotText = JSON.stringify(def.machine.getPersistedSnapshot(step.next));
    const snapshotAfter = JSON.parse(snapshotText) as Record<string, unknown>;
    const delta = snapshotDelta(seq, row.last_seq === 0 ? undefined : row.snapshot, snapshotAfter);
    const stateAfter = def.stateLabel(step.next);
    // recorded_at: the database clock read under the row lock, to the millisecond, so the hash can cover it
    const recordedAt = (row.db_now ?? new Date()).toISOString();
    const hash = eventHash(row.last_hash, {
      instanceId: row.id,
      seq,
      type: step.type,
      payload: step.payload,
      actor: step.actor,
      occurredAt: step.at,
      stateBefore: step.stateBefore,
      stateAfter,
      versionAfter: version,
      snapshotDelta: delta.text,
      snapshotFull: delta.full,
      recordedAt,
      idempotencyKey: step.idempotencyKey ?? null,
      requestHash: step.requestHash ?? null,
      timerId: step.timerId ?? null,
    });

    // timers: diff what the new state wants with what the instance holds
    const wantedList = def.timers(step.next);
    const wanted = new Map<string, TimerSpec>(wantedList.map((t) => [t.key, t]));
    const held = new Set<string>();
    const released: string[] = [];
    const cancelled: string[] = [];
    const newTimers: (TimerSpec & { id: string })[] = [];
    for (const [key, t] of Object.entries(row.armed_timers)) {
      const w = wanted.get(key);
      const same = w !== undefined && Date.parse(w.dueAt) === Date.parse(t.dueAt);
      if (same) {
        held.add(key); // still wanted (armed, or already fired for this very due date)
        continue;
      }
      released.push(t.id);
      if (t.status === 'armed') cancelled.push(t.id);
    }
    for (const [key, w] of wanted) {
      if (!held.has(key)) newTimers.push({ ...w, id: randomUUID() });
    }
    // before the new ones: one held (and one armed) timer per key
    this.observer.timersChanged(0, cancelled.length);
    if (released.length || step.timerId) {
      await query(qr, 'iter_release_timers_v4', RELEASE_TIMERS_SQL, [
        released,
        step.at,
        step.timerId ?? null,
      ]);
    }
    // notifications: an inbox row per recipient + the definition's channel (PEC per ente / e-mail per role)
    const outbox = step.effects.flatMap((e) =>
      e.kind === 'notify'
        ? notificationRows(def, e, row.tenant).map((n) => ({
            id: randomUUID(),
            recipient_ente: n.recipientEnte,
            recipient_role: n.recipientRole,
            channel: n.channel,
            template: n.template,
            payload: { ...n.payload, instanceId: row.id, businessKey: row.business_key },
            dedupe_key: `${row.id}/${seq}/${n.key}`,
          }))
        : [],
    );
    const actRows = step.act ? [actRow(step.act)] : [];
    const written = (await query(qr, 'iter_step_v5', STEP_SQL, [
      row.id,
      snapshotText,
      version,
      stateAfter,
      def.status(step.next),
      def.titleOf(step.next),
      def.pendingEntes(step.next),
      def.nextDeadline(step.next),
      seq,
      hash,
      step.at,
      def.participants(step.next),
      step.type,
      JSON.stringify(step.payload),
      step.actor.subject,
      step.actor.role,
      step.actor.ente,
      step.stateBefore,
      delta.text,
      delta.full,
      step.idempotencyKey ?? null,
      step.requestHash ?? null,
      step.timerId ?? null,
      row.last_hash,
      recordedAt,
      JSON.stringify(
        newTimers.map((t) => ({
          id: t.id,
          key: t.key,
          kind: t.kind,
          due_at: t.dueAt,
          event: t.event,
        })),
      ),
      JSON.stringify(outbox),
      // operational correlation with the logs, outside the hash (docs/security.md)
      currentRequestId(),
      JSON.stringify(actRows),
    ])) as { appended: number; acts: number }[];
    // under the row lock the version cannot move: if it did, nothing of the step is kept
    if (written[0]?.appended !== 1) throw new VersionConflictError(row.version, row.version + 1);
    // the act's number was taken (by another process, or another ente's step here): the whole step rolls back
    if (written[0].acts !== actRows.length) throw actNumberUsed(actRows[0]!);
    const processEffects = await writeProcessEffects(qr, row.id, seq, step.processEffects ?? []);
    const heldAfter: Record<string, ArmedTimer> = {};
    for (const [key, t] of Object.entries(row.armed_timers)) if (held.has(key)) heldAfter[key] = t;
    for (const t of newTimers)
      heldAfter[t.key] = { id: t.id, kind: t.kind, dueAt: t.dueAt, status: 'armed' };
    return {
      released,
      row: {
        ...row,
        state_value: stateAfter,
        snapshot: snapshotAfter,
        version,
        participants: def.participants(step.next),
        armed_timers: heldAfter,
        last_seq: seq,
        last_hash: hash,
        updated_at: new Date(step.at),
      },
      wanted: wantedList,
      timers: newTimers.map((t) => ({ id: t.id, dueAt: new Date(t.dueAt) })),
      cancelled,
      // one delivery job per transition (not per recipient): its id is the smallest row id of the batch
      outbox: outbox.length ? [outbox.map((o) => o.id).sort()[0]!] : [],
      processEffects,
    };
  }

  /**
   * The post-commit enqueue of a start or a send, off the caller's path: it runs on the next turn of the event
   * loop (setImmediate), after the promise chain that awaits this call has written the HTTP answer, and nobody
   * waits for it. Safe because the rows are durable: a job not enqueued (a crash, Redis down or slow) is
   * enqueued by the reconciler from the timer/outbox/process_effect rows. The steps committed meanwhile are
   * sent together, in ONE batch (one addBulk per queue: under load, one Redis round trip for many steps), and
   * batches go one after the other, in commit order: within a batch every addition goes before every removal,
   * so a timer armed by one step is always added before a later step's removal of it is sent (timer ids are
   * never reused). `settled()` waits for what is pending or in flight (shutdown, tests). Timer firing (worker)
   * still awaits its enqueue.
   */
  private enqueueAfterAnswer(a: AfterCommit): void {
    if (!a.timers.length && !a.outbox.length && !a.cancelled.length && !a.processEffects?.length)
      return;
    // the request id each job carries (the flush runs in no request's context, or in another one's)
    this.enqueuePending.push({ ...a, requestId: currentRequestId() });
    this.enqueueFlush ??= this.flushEnqueues();
  }

  private async flushEnqueues(): Promise<void> {
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.enqueuePending.length) {
        const batch = this.enqueuePending;
        this.enqueuePending = [];
        const requestIds = new Map<string, string | null>();
        for (const a of batch) {
          const rid = a.requestId ?? null;
          for (const t of a.timers) requestIds.set(t.id, rid);
          for (const id of [...a.outbox, ...(a.processEffects ?? [])]) requestIds.set(id, rid);
        }
        await runWithJobRequestIds(requestIds, () =>
          this.afterCommit(batch.length === 1 ? batch[0]! : mergeAfterCommits(batch, [])),
        );
      }
    } finally {
      // in the same turn as the last check above: a step pushed after it starts a new flush
      this.enqueueFlush = null;
    }
  }

  /** Resolves once every post-commit enqueue started so far has finished (or failed, logged). */
  async settled(): Promise<void> {
    while (this.enqueueFlush) await this.enqueueFlush;
  }

  /** Nest calls this before onApplicationShutdown, where the producer queues are closed. */
  beforeApplicationShutdown(): Promise<void> {
    return this.settled();
  }

  /** Enqueue after commit. A failure here is logged, never surfaced: the reconciler heals it. */
  private async afterCommit(a: AfterCommit): Promise<void> {
    this.observer.timersChanged(a.timers.length, 0);
    try {
      if (a.timers.length) await this.scheduler.enqueueTimers(a.timers);
      if (a.outbox.length) await this.scheduler.enqueueNotifications(a.outbox);
      if (a.cancelled.length) await this.scheduler.removeTimers(a.cancelled);
      if (a.processEffects?.length) await this.scheduler.enqueueProcessEffects?.(a.processEffects);
    } catch (err) {
      this.logger.warn(
        'enqueue after commit failed; the reconciler will enqueue the missing jobs',
        err,
      );
    }
  }

  // ---------------------------------------------------------------- linked processes (issue 12)

  /** the process a definition starts on (the RTD's convention), loaded and checked; refusals are 422 */
  private async loadPrerequisite(
    def: ProcessDefinition,
    input: object,
    actor: Actor,
  ): Promise<LinkedProcess> {
    const pre = def.prerequisite!;
    const id = String((input as Record<string, unknown>)[pre.inputField]);
    const rows = await this.ds.query<
      {
        id: string;
        definition_key: string;
        definition_version: number;
        tenant: string;
        snapshot: unknown;
      }[]
    >(
      `SELECT id, definition_key, definition_version, tenant, snapshot FROM process_instance WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row || row.definition_key !== pre.definition || !canRead(actor, row.tenant)) {
      throw new RuleViolationError(
        'PREREQUISITE_NOT_FOUND',
        `Procedimento ${pre.definition} ${id} non trovato`,
        [
          {
            field: `input.${pre.inputField}`,
            errors: [`must be the id of a ${pre.definition} process`],
          },
        ],
      );
    }
    const ldef = this.registry.get(row.definition_key, row.definition_version);
    const linked: LinkedProcess = {
      instanceId: row.id,
      definition: row.definition_key,
      tenant: row.tenant,
      snapshot: this.restore(ldef.machine, row.snapshot),
    };
    const refusal = pre.check(linked, this.clock.now().toISOString());
    if (refusal) {
      throw new RuleViolationError(
        refusal.rule,
        refusal.message,
        refusal.field ? [{ field: refusal.field, errors: [refusal.message] }] : undefined,
        refusal.details,
      );
    }
    return linked;
  }

  /** a definition may derive its business key (one RTD per convention): a caller cannot choose another */
  private businessKeyFor(
    def: ProcessDefinition,
    req: StartRequest,
    input: object,
  ): string | undefined {
    if (!def.businessKeyOf) return req.businessKey;
    const key = def.businessKeyOf(input);
    if (req.businessKey !== undefined && req.businessKey !== key) {
      throw new ValidationFailedError([
        { field: 'businessKey', errors: [`set by the definition: ${key}`] },
      ]);
    }
    return key;
  }

  /** store the link to the prerequisite and mark the start effect done, in the start's transaction */
  private async linkStarted(
    qr: QueryRunner,
    def: ProcessDefinition,
    linked: LinkedProcess | undefined,
    id: string,
    effectId: string | undefined,
  ): Promise<void> {
    if (linked && def.prerequisite) {
      const rows = (await qr.query(
        `INSERT INTO process_link (from_instance, relation, to_instance) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING to_instance`,
        [linked.instanceId, def.prerequisite.relation, id],
      )) as unknown[];
      if (rows.length === 0) {
        throw new AlreadyExistsError(
          `Il procedimento ${linked.instanceId} ha già un procedimento collegato (${def.prerequisite.relation})`,
          { relation: def.prerequisite.relation, from: linked.instanceId },
        );
      }
    }
    if (effectId) await this.markEffectDone(qr, effectId, { instanceId: id });
  }

  /** a process effect is done once: a second run finds it done and rolls its own work back */
  private async markEffectDone(
    qr: QueryRunner,
    effectId: string,
    result: Record<string, unknown>,
  ): Promise<void> {
    const rows = (await qr.query(
      `UPDATE process_effect SET status = 'done', result = $2, done_at = now(), attempts = attempts + 1
       WHERE id = $1 AND status = 'pending' RETURNING id`,
      [effectId, result],
    )) as unknown[];
    if (rows.length === 0) throw new EffectAlreadyDoneError(effectId);
  }

  /**
   * A transaction whose first statement locks the process (issue 15): START TRANSACTION and the lock go to the
   * server in one round trip (a simple-protocol query of two statements; the lock is a server-side prepared
   * statement, prepared once per connection with it), then `fn` runs under the lock; COMMIT, or ROLLBACK on any
   * error (also when the lock itself failed: a timeout, a bad id). Same guarantees as inTransaction + lock.
   */
  private async inLockedTransaction<T>(
    instanceId: string,
    actor: Actor,
    fn: (qr: QueryRunner, row: LockedRow) => Promise<T>,
  ): Promise<T> {
    const qr = this.ds.createQueryRunner();
    await qr.connect();
    const conn = (qr as unknown as { databaseConnection?: PgSimpleClient }).databaseConnection;
    if (!conn || typeof conn.escapeLiteral !== 'function') {
      qr.release().catch(() => undefined);
      return this.inTransaction(async (q) => fn(q, await this.lock(q, instanceId, actor)));
    }
    let open = false;
    try {
      if (!PREPARED_LOCK.has(conn)) {
        // once per connection, on its own: a PREPARE is not undone by a rollback, so it is never mixed in
        for (const prepare of PREPARE_LOCK_SQL) {
          await conn.query(prepare).catch((err: { code?: string }) => {
            if (err.code !== '42P05') throw err; // already prepared on this session
          });
        }
        PREPARED_LOCK.add(conn);
      }
      // the transaction is open from here, whatever the lock answers: ROLLBACK below closes it on error
      open = true;
      // three statements, one round trip; the third reads the timers once the lock is granted (HELD_SQL)
      const id = conn.escapeLiteral(instanceId);
      const results = await conn.query(
        `START TRANSACTION;EXECUTE iter_lock_tx(${id}, ${
          actor.ente === null || actor.ente === undefined ? 'NULL' : conn.escapeLiteral(actor.ente)
        });EXECUTE iter_held_tx(${id})`,
      );
      const [, locked, held] = Array.isArray(results) ? results : [];
      const found = locked?.rows[0] as Omit<LockedRow, 'armed_timers' | 'db_now'> | undefined;
      // another tenant's process answers 404: its existence is not leaked
      if (!found || !canRead(actor, found.tenant)) throw new ProcessNotFoundError(instanceId);
      const row: LockedRow = {
        ...found,
        ...(held!.rows[0] as Pick<LockedRow, 'armed_timers' | 'db_now'>),
      };
      const out = await fn(qr, row);
      await conn.query('COMMIT');
      open = false;
      return out;
    } catch (err) {
      if (open) {
        const rolledBack = await conn.query('ROLLBACK').then(
          () => true,
          () => false,
        );
        // a connection that could not roll back (timed out, cut off) must never go back to the pool
        if (!rolledBack) {
          PREPARED_LOCK.delete(conn);
          await destroyConnection(qr, err);
        }
      }
      throw err;
    } finally {
      if (!qr.isReleased) await qr.release();
    }
  }

  private async inTransaction<T>(fn: (qr: QueryRunner) => Promise<T>): Promise<T> {
    const qr = this.ds.createQueryRunner();
    await qr.connect();
    try {
      // inside the try: a START TRANSACTION that times out (frozen server) must still release its connection
      await qr.startTransaction();
      const out = await fn(qr);
      await qr.commitTransaction();
      return out;
    } catch (err) {
      const rolledBack = await qr.rollbackTransaction().then(
        () => true,
        () => false,
      );
      // a connection that could not roll back (timed out, cut off) must never go back to the pool: a
      // statement still queued on it would otherwise run in the next user's transaction
      if (!rolledBack) await destroyConnection(qr, err);
      throw err;
    } finally {
      if (!qr.isReleased) await qr.release();
    }
  }
}

/** a process effect another run already carried out: its work is rolled back, nothing happens twice */
export class EffectAlreadyDoneError extends Error {
  constructor(readonly effectId: string) {
    super(`process effect ${effectId} already done`);
  }
}

/** Write the step's process effects (start another process, signal a linked one): same transaction. */
async function writeProcessEffects(
  qr: QueryRunner,
  instanceId: string,
  seq: number,
  effects: readonly ProcessEffect[],
): Promise<string[]> {
  if (effects.length === 0) return [];
  const rows = effects.map((e, ordinal) => ({ id: randomUUID(), ordinal, kind: e.kind, spec: e }));
  await qr.query(
    `INSERT INTO process_effect (id, instance_id, event_seq, ordinal, kind, spec, status)
     SELECT e.id, $1, $2, e.ordinal, e.kind, e.spec, 'pending'
     FROM jsonb_to_recordset($3::jsonb) AS e(id uuid, ordinal int, kind text, spec jsonb)`,
    [instanceId, seq, JSON.stringify(rows)],
  );
  return rows.map((r) => r.id);
}

export interface ProcessLinkView {
  relation: string;
  /** `to`: this process started the linked one; `from`: this process was started on the linked one */
  direction: 'to' | 'from';
  instanceId: string;
  definition: string;
  state: string;
  title: string;
}

/** the processes linked to this one, both ways (the RTD of a convention; the convention of an RTD) */
export async function linksOf(ds: DataSource, instanceId: string): Promise<ProcessLinkView[]> {
  const rows = await ds.query<
    {
      relation: string;
      direction: 'to' | 'from';
      id: string;
      definition_key: string;
      state_value: string;
      title: string;
    }[]
  >(
    `SELECT l.relation, 'to' AS direction, p.id, p.definition_key, p.state_value, p.title
       FROM process_link l JOIN process_instance p ON p.id = l.to_instance WHERE l.from_instance = $1
     UNION ALL
     SELECT l.relation, 'from' AS direction, p.id, p.definition_key, p.state_value, p.title
       FROM process_link l JOIN process_instance p ON p.id = l.from_instance WHERE l.to_instance = $1`,
    [instanceId],
  );
  return rows.map((r) => ({
    relation: r.relation,
    direction: r.direction,
    instanceId: r.id,
    definition: r.definition_key,
    state: r.state_value,
    title: r.title,
  }));
}

/** Release a query runner's connection with an error: pg-pool then closes it instead of reusing it. */
async function destroyConnection(qr: QueryRunner, err: unknown): Promise<void> {
  const pg = qr as unknown as { releasePostgresConnection?: (e: Error) => Promise<void> };
  if (typeof pg.releasePostgresConnection === 'function')
    await pg.releasePostgresConnection(err instanceof Error ? err : new Error(String(err)));
}

/**
 * A named (prepared) statement on the query runner's own pg connection: parsed and planned once per
 * connection, then only bound and executed (the hot path's statements). Falls back to TypeORM's query when
 * the runner is not a pg one (or is released: TypeORM then throws its usual error).
 */
async function query(
  qr: QueryRunner,
  name: string,
  sql: string,
  params: unknown[],
): Promise<unknown[]> {
  const conn = (qr as unknown as { databaseConnection?: PgClient }).databaseConnection;
  if (qr.isReleased || !conn || typeof conn.query !== 'function')
    return (await qr.query(sql, params)) as unknown[];
  const res = await conn.query({ name, text: sql, values: params });
  return res.rows;
}

/** An ente's deliberation number is unique per organ and year across every process (act_registry). */
function actRow(act: ActRef): {
  ente: string;
  organ: string;
  year: number;
  number: string;
  act_date: string;
} {
  return {
    ente: act.ente,
    organ: act.organ,
    year: Number(act.date.slice(0, 4)),
    number: act.number.split('/')[0]!.replace(/^0+(?=\d)/, ''),
    act_date: act.date,
  };
}

function actNumberUsed(a: ReturnType<typeof actRow>): RuleViolationError {
  return new RuleViolationError(
    'DELIBERATION_NUMBER_USED',
    `Il numero ${a.number}/${a.year} (${a.organ}) è già registrato per ${a.ente}`,
    [{ field: 'payload.number', errors: ['already used by this ente for this organ and year'] }],
  );
}

/** the pg client under a TypeORM query runner, as inLockedTransaction uses it (simple protocol) */
interface PgSimpleClient {
  query(text: string): Promise<{ rows: unknown[] }[] | { rows: unknown[] }>;
  escapeLiteral(value: string): string;
}

/** connections on which iter_lock_tx is prepared (a destroyed connection's entry goes with it) */
const PREPARED_LOCK = new WeakSet<object>();

/** LOCK_SQL ($1 uuid, $2 the actor's ente) and HELD_SQL as server-side prepared statements, EXECUTEd after
 * START TRANSACTION */
const PREPARE_LOCK_SQL = [
  `PREPARE iter_lock_tx(uuid, text) AS ${LOCK_SQL}`,
  `PREPARE iter_held_tx(uuid) AS ${HELD_SQL}`,
];

interface PgClient {
  query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}
