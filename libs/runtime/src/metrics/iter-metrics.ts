import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EngineObserver } from '@app/engine';
import type { DeliveryObserver } from '@app/notifications';
import type { ReconcileReport } from '@app/scheduling';
import type { DefinitionRegistry } from '@app/workflows';

/** the BullMQ job states reported as queue depths */
export const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'failed',
  'prioritized',
  'paused',
] as const;
const CHANNELS = new Set(['inbox', 'pec', 'email', 'webhook']);
const UNKNOWN = 'unknown';

/** how long a scrape waits for Redis's queue counts before answering without them */
export const QUEUE_COLLECT_TIMEOUT_MS = 2_000;

/**
 * Iter's Prometheus series (docs/metrics.md), one registry per process (the api and the worker each expose
 * their own). Implements the engine's and the delivery's observer ports. Labels are bounded: definitions and
 * event types come from the registry (anything else is `unknown`), refusals are error codes, HTTP routes
 * are templates.
 */
export class IterMetrics implements EngineObserver {
  readonly registry = new Registry();
  private readonly events = new Map<string, Set<string>>();
  /** event type → its definition, when exactly one definition has it (to label a refusal) */
  private readonly definitionOfEvent = new Map<string, string>();
  private queues: { name: string; queue: Queue }[] = [];

  readonly transitions = new Counter({
    name: 'iter_transitions_total',
    help: 'Starts and events decided by the engine, by definition, event type and outcome (accepted or the refusal code)',
    labelNames: ['definition', 'event', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly transitionSeconds = new Histogram({
    name: 'iter_transition_duration_seconds',
    help: 'Time the engine took for a start, an event or a timer job (database transaction included)',
    labelNames: ['source', 'result'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly timersArmed = new Counter({
    name: 'iter_timers_armed_total',
    help: 'Timers armed by committed transitions',
    registers: [this.registry],
  });
  readonly timersFired = new Counter({
    name: 'iter_timers_fired_total',
    help: 'Timers whose event was sent to their process, by definition',
    labelNames: ['definition'] as const,
    registers: [this.registry],
  });
  readonly timersCancelled = new Counter({
    name: 'iter_timers_cancelled_total',
    help: 'Timers cancelled: by a transition, as unwanted when due (the state moved on), or late (past notAfter)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly timerLateness = new Histogram({
    name: 'iter_timer_lateness_seconds',
    help: "How late a timer fired after its due time, by the database's clock",
    labelNames: ['definition'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [this.registry],
  });
  readonly timerJobs = new Counter({
    name: 'iter_timer_jobs_total',
    help: 'Timer jobs run by the worker, by outcome (fired, ignored, stale, late, missing, early, error)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly notifications = new Counter({
    name: 'iter_notifications_total',
    help: 'Notification rows handled, by channel and outcome (sent, retried, dead, skipped)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly reconcilerRuns = new Counter({
    name: 'iter_reconciler_runs_total',
    help: 'Reconciler passes, by trigger (interval, recovery) and result (ok, error)',
    labelNames: ['trigger', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcilerJobs = new Counter({
    name: 'iter_reconciler_enqueued_total',
    help: 'Jobs the reconciler (re-)enqueued, by kind (timer, notification: adding a job that exists is a no-op; failed_retried: kept failed jobs of rows still armed or pending, retried)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly queueJobs = new Gauge({
    name: 'iter_queue_jobs',
    help: 'BullMQ jobs by queue and state, read from Redis at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
    collect: () => this.collectOnce(),
  });
  readonly queueUp = new Gauge({
    name: 'iter_queue_up',
    help: `1 if the queue counts were read from Redis at this scrape (within ${QUEUE_COLLECT_TIMEOUT_MS} ms), 0 if not`,
    registers: [this.registry],
    collect: () => this.collectOnce(),
  });
  readonly httpSeconds = new Histogram({
    name: 'iter_http_request_duration_seconds',
    help: 'HTTP requests answered by the api, by route template, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly delivery: DeliveryObserver = (channel, outcome, rows) => {
    this.notifications.inc(
      {
        channel: CHANNELS.has(channel) ? channel : UNKNOWN,
        outcome: outcome === 'delivered' ? 'sent' : outcome,
      },
      rows,
    );
  };

  constructor(definitions: DefinitionRegistry, opts: { defaultMetrics?: boolean } = {}) {
    const owners = new Map<string, Set<string>>();
    for (const d of definitions.all()) {
      const known = this.events.get(d.key) ?? new Set<string>(['start']);
      for (const type of Object.keys(d.events)) {
        known.add(type);
        owners.set(type, (owners.get(type) ?? new Set()).add(d.key));
      }
      this.events.set(d.key, known);
    }
    for (const [type, keys] of owners)
      if (keys.size === 1) this.definitionOfEvent.set(type, [...keys][0]!);
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  private collecting: Promise<void> | null = null;

  /** queue depths: read when scraped, once for both gauges, bounded (Redis down never hangs a scrape) */
  private collectOnce(): Promise<void> {
    this.collecting ??= this.collectQueues().finally(() => (this.collecting = null));
    return this.collecting;
  }

  /** the queues whose depths a scrape reports (the producer queues: no offline queue, bounded commands) */
  watchQueues(queues: { name: string; queue: Queue }[]): void {
    this.queues = queues;
  }

  private async collectQueues(): Promise<void> {
    this.queueJobs.reset();
    if (!this.queues.length) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), QUEUE_COLLECT_TIMEOUT_MS);
    });
    try {
      const counts = await Promise.race([
        Promise.all(
          this.queues.map(
            async (q) => [q.name, await q.queue.getJobCounts(...QUEUE_STATES)] as const,
          ),
        ),
        timeout,
      ]);
      for (const [queue, byState] of counts)
        for (const state of QUEUE_STATES) this.queueJobs.set({ queue, state }, byState[state] ?? 0);
      this.queueUp.set(1);
    } catch {
      this.queueUp.set(0);
    } finally {
      clearTimeout(timer);
    }
  }

  // ---------------------------------------------------------------- EngineObserver

  transition(t: Parameters<EngineObserver['transition']>[0]): void {
    const definition =
      t.definition !== null && this.events.has(t.definition)
        ? t.definition
        : (this.definitionOfEvent.get(t.event) ?? UNKNOWN);
    const event = this.events.get(definition)?.has(t.event) ? t.event : UNKNOWN;
    this.transitions.inc({ definition, event, outcome: t.outcome });
    this.transitionSeconds.observe(
      { source: t.source, result: t.outcome === 'accepted' ? 'accepted' : 'refused' },
      t.seconds,
    );
  }

  timerJob(outcome: string, seconds: number): void {
    this.timerJobs.inc({ outcome });
    this.transitionSeconds.observe({ source: 'timer', result: outcome }, seconds);
  }

  timersChanged(armed: number, cancelled: number): void {
    if (armed) this.timersArmed.inc(armed);
    if (cancelled) this.timersCancelled.inc({ reason: 'transition' }, cancelled);
  }

  timerFired(definition: string, event: string, latenessMs: number): void {
    const d = this.events.has(definition) ? definition : UNKNOWN;
    this.timersFired.inc({ definition: d });
    this.timerLateness.observe({ definition: d }, Math.max(0, latenessMs) / 1000);
    this.transitions.inc({
      definition: d,
      event: this.events.get(d)?.has(event) ? event : UNKNOWN,
      outcome: 'accepted',
    });
  }

  timerCancelled(reason: 'unwanted' | 'late'): void {
    this.timersCancelled.inc({ reason });
  }

  // ---------------------------------------------------------------- reconciler

  reconciled(trigger: 'interval' | 'recovery', r: ReconcileReport | null): void {
    this.reconcilerRuns.inc({ trigger, result: r ? 'ok' : 'error' });
    if (!r) return;
    if (r.armedTimers) this.reconcilerJobs.inc({ kind: 'timer' }, r.armedTimers);
    if (r.pendingNotifications)
      this.reconcilerJobs.inc({ kind: 'notification' }, r.pendingNotifications);
    if (r.failedRetried) this.reconcilerJobs.inc({ kind: 'failed_retried' }, r.failedRetried);
  }

  // ---------------------------------------------------------------- HTTP

  /** one request answered: one labelled observe (≈ 2.5× the cost of two performance.now() calls) */
  observeHttp(route: string, method: string, status: number, seconds: number): void {
    this.httpSeconds.observe({ route, method, status: String(status) }, seconds);
  }
}
