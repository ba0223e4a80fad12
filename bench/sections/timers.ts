import { canonicalJson } from '@app/common';
import { Reconciler } from '@app/scheduling';
import type { RunningChild } from '../lib/child';
import type { BenchContext } from '../lib/context';
import { deleteRedisPrefix, redisCommand, redisInfo } from '../lib/env';
import { fmtInt, nowMs, round, Samples, shuffle, sleep } from '../lib/stats';
import { createConventions } from '../lib/world';

interface SnapshotEnte {
  codiceIpa: string;
  deadline: { dueAt: string } | null;
}
interface Snapshot {
  context: { entes: SnapshotEnte[] };
}
type Armed = Record<string, { id: string; dueAt: string }>;

/**
 * Timers of real conventions, moved into the next minute.
 *
 * A convention's deadlines are computed from the PEC delivery date (end of a Rome day), so the timers of real
 * conventions all fall on a few instants, days away. To make N of them fall due spread over one minute (or all at one
 * instant: `windowMs` 0, as every Rome deadline ends at 23:59:59) and still
 * FIRE (not be cancelled as no longer wanted), each deadline is moved consistently in the three places that define
 * it: the timer row's due_at (and its event's dueAt), and the ente's deadline.dueAt in the snapshot,
 * from which Engine.fireTimer recomputes the timers the state wants (a due date that differs is cancelled, not
 * fired). Conventions are created with `reminderDaysBefore: []`, so each arms exactly its 8 deadlines. The edit is
 * checked by asking the definition which timers the edited state wants.
 */
async function moveDeadlines(
  ctx: BenchContext,
  instanceIds: string[],
  t0: number,
  windowMs: number,
): Promise<{ id: string; dueAt: Date }[]> {
  const { world } = ctx;
  const timers: {
    id: string;
    instance_id: string;
    key: string;
    event: { type: string; payload: Record<string, unknown> };
  }[] = await world.ds.query(
    `SELECT id, instance_id, key, event FROM timer WHERE instance_id = ANY($1) AND status = 'armed'`,
    [instanceIds],
  );
  const slots = shuffle(Array.from({ length: timers.length }, (_, k) => k));
  const due = new Map<string, Date>();
  timers.forEach((t, i) =>
    due.set(t.id, new Date(Math.round(t0 + ((slots[i]! + 0.5) * windowMs) / timers.length))),
  );
  const byInstance = new Map<string, (typeof timers)[number][]>();
  for (const t of timers) {
    const list = byInstance.get(t.instance_id) ?? [];
    list.push(t);
    byInstance.set(t.instance_id, list);
  }
  const def = world.registry.get('convenzione', 1);
  for (let i = 0; i < instanceIds.length; i += 250) {
    const chunk = instanceIds.slice(i, i + 250);
    const rows: { id: string; snapshot: Snapshot; armed_timers: Armed }[] = (
      await world.ds.query<{ id: string; snapshot: Snapshot }[]>(
        `SELECT id, snapshot FROM process_instance WHERE id = ANY($1)`,
        [chunk],
      )
    ).map((r) => ({
      ...r,
      // the timers the instance holds (timer.held): the armed rows read above
      armed_timers: Object.fromEntries(
        (byInstance.get(r.id) ?? []).map((t) => [t.key, { id: t.id, dueAt: '' }]),
      ),
    }));
    const updates = rows.map((r) => {
      let next = Number.POSITIVE_INFINITY;
      for (const t of byInstance.get(r.id) ?? []) {
        const at = due.get(t.id)!.toISOString();
        const ente = t.key.startsWith('deadline:') ? t.key.slice('deadline:'.length) : null;
        const e = r.snapshot.context.entes.find((x) => x.codiceIpa === ente);
        if (!e?.deadline)
          throw new Error(
            `timer ${t.key} of ${r.id} is not an ente deadline: the timer method needs updating`,
          );
        e.deadline.dueAt = at;
        r.armed_timers[t.key]!.dueAt = at;
        // the deadline event carries the due date it expires (the machine's guard compares them)
        if ('dueAt' in t.event.payload) t.event.payload['dueAt'] = at;
        next = Math.min(next, Date.parse(at));
      }
      // what the edited state wants must be exactly the moved timers, or fireTimer would cancel or ignore them
      const wanted = def.timers(def.machine.resolveState(r.snapshot as never));
      const rowsOf = new Map((byInstance.get(r.id) ?? []).map((t) => [t.key, t]));
      for (const w of wanted) {
        const row = rowsOf.get(w.key);
        if (
          r.armed_timers[w.key]?.dueAt !== w.dueAt ||
          !row ||
          canonicalJson(row.event) !== canonicalJson(w.event)
        ) {
          throw new Error(
            `the edited state wants ${w.key} at ${w.dueAt} with ${JSON.stringify(w.event)}: the timer method needs updating`,
          );
        }
      }
      if (wanted.length !== Object.keys(r.armed_timers).length)
        throw new Error('edited state wants other timers than the armed ones');
      return {
        id: r.id,
        snapshot: r.snapshot,
        next: new Date(next).toISOString(),
      };
    });
    await world.ds.query(
      `UPDATE process_instance p SET snapshot = x.snapshot, next_deadline = x.next
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, snapshot jsonb, next timestamptz) WHERE p.id = x.id`,
      [JSON.stringify(updates)],
    );
  }
  const list = timers.map((t) => ({ id: t.id, dueAt: due.get(t.id)!, event: t.event }));
  for (let i = 0; i < list.length; i += 5000) {
    await world.ds.query(
      `UPDATE timer t SET due_at = x.due, event = x.event
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, due timestamptz, event jsonb) WHERE t.id = x.id`,
      [
        JSON.stringify(
          list
            .slice(i, i + 5000)
            .map((t) => ({ id: t.id, due: t.dueAt.toISOString(), event: t.event })),
        ),
      ],
    );
  }
  return list.map((t) => ({ id: t.id, dueAt: t.dueAt }));
}

/** The figures of one case: what fired, how late, how fast, and whether anything was lost or doubled. */
interface CaseResult {
  fired: number;
  withEvent: number;
  armed: number;
  cancelled: number;
  duplicates: number;
  auditEvents: number;
  lateness: ReturnType<Samples['summary']>;
  firedPerSecond: number;
  /** from the due instant (the burst's) or the first due (the spread's) to the last fired_at */
  spanMs: number;
  notifications: number;
  undelivered: number;
  enqueueMs: number;
  enqueuedBeforeFirst: boolean;
}

/**
 * Move the deadlines of `ids` to [t0, t0 + windowMs), enqueue their jobs as the engine does after commit, and
 * wait until none is armed or `t0 + windowMs + graceMs`; lateness = fired_at − due_at from the timer rows.
 */
async function runCase(
  ctx: BenchContext,
  label: string,
  ids: string[],
  windowMs: number,
  graceMs: number,
): Promise<CaseResult & { timers: number; leadMs: number }> {
  const { world, progress } = ctx;
  const expected: { n: number }[] = await world.ds.query(
    `SELECT count(*)::int AS n FROM timer WHERE instance_id = ANY($1) AND status = 'armed'`,
    [ids],
  );
  // the lead leaves time to move the rows and enqueue before the first timer falls due
  const leadMs = 1000 + ids.length * 2 + expected[0]!.n * 0.2;
  const t0 = Date.now() + leadMs;
  const list = await moveDeadlines(ctx, ids, t0, windowMs);
  const e0 = nowMs();
  await world.scheduler.enqueueTimers(list);
  const enqueueMs = nowMs() - e0;
  const enqueuedBeforeFirst = Date.now() < t0;
  progress.log(
    `${label}: ${fmtInt(list.length)} deadlines of ${ids.length} conventions due ${windowMs ? `over ${windowMs / 1000} s` : 'at the same instant'}; ` +
      `enqueued in ${enqueueMs.toFixed(0)} ms (${fmtInt(list.length / (enqueueMs / 1000))} jobs/s)${enqueuedBeforeFirst ? '' : ' — AFTER the first was due!'}`,
  );
  const end = t0 + windowMs + graceMs;
  const count = async () => {
    const r: { fired: string; armed: string; cancelled: string }[] = await world.ds.query(
      `SELECT count(*) FILTER (WHERE status = 'fired') fired, count(*) FILTER (WHERE status = 'armed') armed,
              count(*) FILTER (WHERE status = 'cancelled') cancelled FROM timer WHERE instance_id = ANY($1)`,
      [ids],
    );
    return {
      fired: Number(r[0]!.fired),
      armed: Number(r[0]!.armed),
      cancelled: Number(r[0]!.cancelled),
    };
  };
  for (;;) {
    const c = await count();
    const now = Date.now();
    const phase =
      now < t0
        ? `first due in ${((t0 - now) / 1000).toFixed(1)} s`
        : `${((now - t0) / 1000).toFixed(0)}/${((windowMs + graceMs) / 1000).toFixed(0)} s`;
    progress.set(
      `${label}: ${phase}, fired ${fmtInt(c.fired)}/${fmtInt(list.length)}, armed ${fmtInt(c.armed)}`,
    );
    if (now >= end || (c.armed === 0 && now >= t0 + windowMs)) break;
    await sleep(windowMs ? 500 : 100);
  }
  const c = await count();
  const late: { ms: number }[] = await world.ds.query(
    `SELECT extract(epoch FROM fired_at - due_at) * 1000 AS ms FROM timer WHERE instance_id = ANY($1) AND status = 'fired'`,
    [ids],
  );
  const lateness = new Samples();
  lateness.addAll(late.map((r) => Number(r.ms)));
  // how fast the one worker got through them, and what it still had to deliver when the window closed
  const span: {
    first: Date | null;
    last: Date | null;
    notifications: string;
    undelivered: string;
  }[] = await world.ds.query(
    `SELECT (SELECT min(fired_at) FROM timer WHERE instance_id = ANY($1)) first, (SELECT max(fired_at) FROM timer WHERE instance_id = ANY($1)) last,
            count(*) notifications, count(*) FILTER (WHERE o.status = 'pending') undelivered
     FROM outbox o JOIN process_event e ON e.instance_id = o.instance_id AND e.seq = o.event_seq
     WHERE o.instance_id = ANY($1) AND e.timer_id IS NOT NULL`,
    [ids],
  );
  const first = span[0]?.first ?? null;
  const last = span[0]?.last ?? null;
  const firedPerSecond =
    first && last
      ? c.fired / Math.max(0.001, (last.getTime() - first.getTime()) / 1000)
      : Number.NaN;
  const dup: { timers: string; events: string; dups: string }[] = await world.ds.query(
    `SELECT count(DISTINCT timer_id) timers, count(*) events,
            (SELECT count(*) FROM (SELECT timer_id FROM process_event WHERE instance_id = ANY($1) AND timer_id IS NOT NULL
                                   GROUP BY timer_id HAVING count(*) > 1) d) dups
     FROM process_event WHERE instance_id = ANY($1) AND timer_id IS NOT NULL`,
    [ids],
  );
  const result: CaseResult = {
    ...c,
    withEvent: Number(dup[0]!.timers),
    duplicates: Number(dup[0]!.dups),
    auditEvents: Number(dup[0]!.events),
    lateness: lateness.summary(),
    firedPerSecond,
    spanMs: last ? last.getTime() - t0 : Number.NaN,
    notifications: Number(span[0]?.notifications ?? 0),
    undelivered: Number(span[0]?.undelivered ?? 0),
    enqueueMs: round(enqueueMs),
    enqueuedBeforeFirst,
  };
  const s = result.lateness;
  progress.log(
    `${label}: fired ${fmtInt(c.fired)} (${fmtInt(result.withEvent)} with their audit event), missing ${c.armed}, cancelled ${c.cancelled}, ` +
      `duplicates ${result.duplicates}, audit events ${fmtInt(result.auditEvents)}; lateness p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms; ` +
      `${fmtInt(firedPerSecond)} fired/s`,
  );
  return { ...result, timers: list.length, leadMs };
}

/** the figures every case has: all fired with their event, none left armed, none twice */
function reportIntegrity(
  ctx: BenchContext,
  section: string,
  label: string,
  r: CaseResult & { timers: number },
  graceMs: number,
  note: string,
): void {
  const { report } = ctx;
  report.add({
    section,
    name: `${label}: timers fired (each with its audit event)`,
    value: r.withEvent,
    unit: 'timers',
    target: { op: '==', value: r.timers },
    note: `${note}${r.fired > r.withEvent ? `; ${r.fired - r.withEvent} marked fired WITHOUT a transition?` : ''}`,
  });
  report.add({
    section,
    name: `${label}: missing (still armed after window + grace)`,
    value: r.armed,
    unit: 'timers',
    target: { op: '==', value: 0 },
    note: `grace ${graceMs / 1000} s; ${r.cancelled} cancelled`,
  });
  report.add({
    section,
    name: `${label}: duplicates (audit events per timer > 1)`,
    value: r.duplicates,
    unit: 'timers',
    target: { op: '==', value: 0 },
    note: `${fmtInt(r.auditEvents)} timer audit events`,
  });
}

/**
 * 4. Timers, with ONE worker process (WorkerModule, WORKER_CONCURRENCY as configured, no periodic reconciler),
 * jobs enqueued by BullJobScheduler as the engine does after commit:
 * - spread: N deadlines falling due spread over one window (lateness p99 ≤ 250 ms);
 * - burst: N deadlines due at the same instant, as every Rome deadline ends at 23:59:59: conventions whose 8
 *   entes were sent the text the same day (all fired within 15 s);
 * then the reconciler after Redis lost everything.
 */
export async function timersSection(ctx: BenchContext, worker: RunningChild): Promise<void> {
  const { world, sizes, report, progress } = ctx;
  const hz = (await redisInfo(world.config.redisUrl)).hz;
  const section = '4 timers';

  // spread
  const spreadConventions = Math.ceil(sizes.timers / 8);
  const spread = await createConventions(world, spreadConventions, {
    label: 'timers',
    progress,
    policy: { reminderDaysBefore: [] },
  });
  const r = await runCase(
    ctx,
    'timers (spread)',
    spread.ids,
    sizes.timerWindowMs,
    sizes.timerGraceMs,
  );
  const s = r.lateness;
  const note = `Redis hz ${hz}; ${fmtInt(r.timers)} timers over ${sizes.timerWindowMs / 1000} s, 1 worker`;
  reportIntegrity(ctx, section, 'spread', r, sizes.timerGraceMs, note);
  report.add({
    section,
    name: 'spread: lateness p50',
    value: s.p50,
    unit: 'ms',
    note: `${fmtInt(r.timers / (sizes.timerWindowMs / 1000))} due/s, fired at ${fmtInt(r.firedPerSecond)}/s; ${fmtInt(r.undelivered)} of their ${fmtInt(r.notifications)} notifications not delivered yet`,
  });
  report.add({
    section,
    name: 'spread: lateness p99',
    value: s.p99,
    unit: 'ms',
    target: { op: '<=', value: 250 },
  });
  report.add({
    section,
    name: 'spread: lateness max',
    value: s.max,
    unit: 'ms',
    target: { op: '<=', value: 1000 },
  });

  // burst: every deadline of these conventions ends at the same instant
  const burstConventions = Math.ceil(sizes.burstTimers / 8);
  const burst = await createConventions(world, burstConventions, {
    label: 'timers-burst',
    progress,
    policy: { reminderDaysBefore: [] },
  });
  const b = await runCase(ctx, 'timers (burst)', burst.ids, 0, sizes.burstGraceMs);
  const bnote = `Redis hz ${hz}; ${fmtInt(b.timers)} timers of ${burstConventions} conventions due at one instant, 1 worker`;
  reportIntegrity(ctx, section, 'burst', b, sizes.burstGraceMs, bnote);
  report.add({
    section,
    name: `burst: ${fmtInt(b.timers)} due at one instant, all fired within`,
    value: b.armed === 0 ? b.spanMs / 1000 : Number.POSITIVE_INFINITY,
    unit: 's',
    target: { op: '<=', value: 15 },
    note: `${fmtInt(b.firedPerSecond)} fired/s; lateness p50 ${fmtInt(b.lateness.p50)} ms; ${fmtInt(b.undelivered)} of their ${fmtInt(b.notifications)} notifications not delivered yet${b.timers === 10_000 ? '' : '; the goal is for 10,000'}`,
  });

  ctx.memory['worker'] = await worker.memory();
  await worker.stop();
  const detail = (x: CaseResult & { timers: number; leadMs: number }, conventions: number) => ({
    ...x,
    conventions,
    firedPerSecond: round(x.firedPerSecond, 1),
    spanMs: round(x.spanMs),
  });
  report.detail('timers', {
    hz,
    windowMs: sizes.timerWindowMs,
    ...detail(r, spreadConventions),
  });
  report.detail('timersBurst', detail(b, burstConventions));

  await reconcile(ctx);
}

/** Reconciliation of ~100k armed timers after Redis lost every key of this run. */
async function reconcile(ctx: BenchContext): Promise<void> {
  const { world, sizes, report, progress } = ctx;
  const armed = async () => {
    const rows: { n: string }[] = await world.ds.query(
      `SELECT count(*) n FROM timer WHERE status = 'armed'`,
    );
    return Number(rows[0]!.n);
  };
  const have = await armed();
  if (have > sizes.reconcileTimers) {
    // the working sets' conventions (32 timers each) may already hold more: cancel the excess so that every run
    // reconciles the same number (no measured convention needs them any more)
    await world.ds.query(
      `UPDATE timer SET status = 'cancelled', cancelled_at = now()
       WHERE id IN (SELECT id FROM timer WHERE status = 'armed' ORDER BY created_at LIMIT $1)`,
      [have - sizes.reconcileTimers],
    );
  }
  const add = Math.max(0, sizes.reconcileTimers - have);
  progress.set(`reconcile: inserting ${fmtInt(add)} armed timer rows`);
  // attached to existing instances, due in 30+ days (nothing fires); keys unique per instance
  await world.ds.query(
    `INSERT INTO timer (id, instance_id, key, kind, due_at, event, status, armed_version)
     SELECT gen_random_uuid(), p.ids[1 + (g % p.n)], 'bench:' || g, 'deadline', now() + interval '30 days' + g * interval '1 second',
            '{"type":"convention.deadline.expire","payload":{}}'::jsonb, 'armed', 0
     FROM generate_series(1, $1::int) g, (SELECT array_agg(id) ids, count(*)::int n FROM process_instance) p`,
    [add],
  );
  // the figure is about timers: pending outbox rows (the conventions of the working sets were created without a
  // scheduler, and the worker may not have delivered everything) are marked delivered, so every run reconciles the
  // same input
  const pending: { n: string }[] = await world.ds.query(
    `SELECT count(*) n FROM outbox WHERE status = 'pending'`,
  );
  await world.ds.query(
    `UPDATE outbox SET status = 'delivered', delivered_at = now() WHERE status = 'pending'`,
  );
  await world.ds.query(`ANALYZE timer`);
  const total = await armed();
  // Redis loses everything of this run
  await deleteRedisPrefix(world.config.redisUrl, world.config.redisPrefix);
  const mem0 = (await redisInfo(world.config.redisUrl)).usedMemory;
  progress.set(`reconcile: ${fmtInt(total)} armed timers, Redis emptied, reconciling…`);
  const reconciler = new Reconciler(world.ds, world.scheduler, world.queues.timers, world.clock);
  const t0 = nowMs();
  const r = await reconciler.run();
  const ms = nowMs() - t0;
  const delayed = await redisCommand(world.config.redisUrl, (c) =>
    c.zcard(`${world.config.redisPrefix}:timers:delayed`),
  );
  const mem1 = (await redisInfo(world.config.redisUrl)).usedMemory;
  const bytesPerJob = (mem1 - mem0) / Math.max(1, delayed);
  progress.log(
    `reconcile: ${fmtInt(r.armedTimers)} armed timers re-enqueued in ${(ms / 1000).toFixed(2)} s (${fmtInt(Number(pending[0]!.n))} pending outbox rows set aside); ` +
      `${fmtInt(delayed)} delayed jobs in Redis, ${fmtInt(bytesPerJob)} B each`,
  );
  report.add({
    section: '4 timers',
    name: `reconcile ${fmtInt(r.armedTimers)} armed timers after Redis loss`,
    value: ms / 1000,
    unit: 's',
    target: {
      op: '<=',
      value: sizes.reconcileTimers === 100_000 ? 30 : 30 * (sizes.reconcileTimers / 100_000),
    },
    note: `${fmtInt(delayed)} delayed jobs in Redis after, ${fmtInt(bytesPerJob)} B each${sizes.reconcileTimers === 100_000 ? '' : '; target scaled from 30 s per 100k'}`,
  });
  report.detail('reconcile', {
    ...r,
    wallMs: round(ms),
    delayedJobs: delayed,
    redisBytesPerJob: round(bytesPerJob),
    pendingNotificationsBefore: Number(pending[0]!.n),
  });
}
