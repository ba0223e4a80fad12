import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import {
  Availability,
  classifyInfraError,
  type DependencyName,
  type DependencyState,
  type IterConfig,
} from '@app/common';
import {
  producerConnection,
  QueueName,
  Reconciler,
  ResilientJobScheduler,
  withTimeout,
} from '@app/scheduling';
import { IterMetrics } from './metrics/iter-metrics';
import { ITER_CONFIG, PRODUCER_QUEUES } from './tokens';

/** how long one bulk command of the reconciler may take (thousands of jobs on a loaded machine) */
const BULK_COMMAND_TIMEOUT_MS = 30_000;

/**
 * The producer side of the two queues: no offline queue, bounded commands (see producerConnection). The
 * post-commit enqueue uses a short bound (ENQUEUE_TIMEOUT_MS); the reconciler's bulk adds have connections of
 * their own with a longer one, so a large pass neither times out nor delays a request's enqueue.
 */
export class ProducerQueues implements OnApplicationShutdown {
  readonly timers: Queue;
  readonly notifications: Queue;
  readonly processEffects: Queue;
  readonly bulkTimers: Queue;
  readonly bulkNotifications: Queue;

  constructor(config: IterConfig, onError: (err: Error) => void) {
    const opts = (timeoutMs: number) => ({
      connection: producerConnection(config.redisUrl, timeoutMs),
      prefix: config.redisPrefix,
    });
    this.timers = new Queue(QueueName.Timers, opts(config.enqueueTimeoutMs));
    this.notifications = new Queue(QueueName.Notifications, opts(config.enqueueTimeoutMs));
    this.processEffects = new Queue(QueueName.ProcessEffects, opts(config.enqueueTimeoutMs));
    this.bulkTimers = new Queue(QueueName.Timers, opts(BULK_COMMAND_TIMEOUT_MS));
    this.bulkNotifications = new Queue(QueueName.Notifications, opts(BULK_COMMAND_TIMEOUT_MS));
    // without a listener an 'error' event would crash the process; the monitor turns it into "Redis down"
    for (const q of this.all()) q.on('error', onError);
  }

  private all(): Queue[] {
    return [
      this.timers,
      this.notifications,
      this.processEffects,
      this.bulkTimers,
      this.bulkNotifications,
    ];
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.all().map((q) => q.close())).catch(() => undefined);
  }
}

export interface Dependencies {
  postgres: Availability;
  redis: Availability;
}
export const DEPENDENCIES = Symbol('DEPENDENCIES');

/** A check besides Postgres and Redis (the worker's clock), shown by /health */
export interface ExtraCheck {
  name: string;
  state(): DependencyState;
  /** brings the state up to date before a health answer (bounded, cached by the check itself) */
  refresh?(): Promise<void>;
}

export interface HealthReport {
  ok: boolean;
  /**
   * ready to serve: everything up (migrations applied), except Redis for the api (Redis down only delays
   * jobs, the API keeps answering); the worker needs Redis
   */
  ready: boolean;
  details: Record<string, DependencyState>;
}

/**
 * Knows whether Postgres and Redis answer, and since when. Probes them every HEALTH_PROBE_INTERVAL_MS
 * (every second while one is down); failures met by requests mark them down at once (the HTTP filter, the
 * scheduler). Each change is logged once. When Redis comes back, the removals skipped meanwhile are
 * replayed and the reconciler enqueues the jobs of every row committed during the outage.
 */
@Injectable()
export class DependencyMonitor implements OnApplicationShutdown {
  private readonly log = new Logger('health');
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private recovering: Promise<void> | null = null;
  private readonly extras: ExtraCheck[] = [];
  /** the worker reconciles after every Redis outage (Redis may have lost its data); the api only if it skipped jobs */
  reconcileOnRecovery: 'always' | 'if-skipped' = 'if-skipped';
  /** the api stays ready with Redis down (it keeps answering); the worker cannot work without it */
  readyWithoutRedis = true;

  constructor(
    @Inject(DEPENDENCIES) readonly deps: Dependencies,
    private readonly ds: DataSource,
    @Inject(PRODUCER_QUEUES) private readonly queues: ProducerQueues,
    private readonly scheduler: ResilientJobScheduler,
    private readonly reconciler: Reconciler,
    @Inject(ITER_CONFIG) private readonly config: IterConfig,
    private readonly metrics: IterMetrics,
  ) {
    deps.redis.onChange((s) => {
      if (s.status === 'up') void this.recover();
    });
    this.schedule();
  }

  addCheck(check: ExtraCheck): void {
    this.extras.push(check);
  }

  /**
   * A failure met on the way (a request, a job): marks its dependency down; true if it was one. `from`
   * names the dependency when the caller knows it (a BullMQ worker's connection error is Redis's).
   */
  report(err: unknown, from?: DependencyName): boolean {
    const infra = classifyInfraError(err);
    if (!infra || infra.code === 'PROCESS_BUSY') return false;
    this.deps[from ?? infra.dependency].markDown(infra.reason);
    return true;
  }

  async probe(name: DependencyName): Promise<DependencyState> {
    const a = this.deps[name];
    try {
      if (name === 'postgres') {
        await withTimeout(
          this.ds.query('SELECT 1'),
          this.config.databaseConnectTimeoutMs + 1000,
          'postgres probe',
        );
      } else {
        const client = await withTimeout(
          this.queues.timers.client,
          this.config.enqueueTimeoutMs,
          'redis probe',
        );
        await withTimeout(
          (client as unknown as { ping(): Promise<string> }).ping(),
          this.config.enqueueTimeoutMs,
          'redis probe',
        );
      }
      a.markUp();
    } catch (err) {
      const infra = classifyInfraError(err);
      a.markDown(infra?.reason ?? (err as Error).message);
    }
    return a.current;
  }

  /** probe both now (bounded) and report */
  async check(): Promise<HealthReport> {
    await Promise.all([
      this.probe('postgres'),
      this.probe('redis'),
      ...this.extras.map((e) => e.refresh?.()),
    ]);
    return this.report_();
  }

  private report_(): HealthReport {
    const details: HealthReport['details'] = {
      postgres: this.deps.postgres.current,
      redis: this.deps.redis.current,
    };
    for (const e of this.extras) details[e.name] = e.state();
    const ok = Object.values(details).every((d) => d.status === 'up');
    // Redis down does not make a process unready: the API keeps answering, jobs wait for its return
    const ready = Object.entries(details).every(
      ([n, d]) => (n === 'redis' && this.readyWithoutRedis) || d.status === 'up',
    );
    return { ok, ready, details };
  }

  private schedule(): void {
    if (this.stopped) return;
    const anyDown = !this.deps.postgres.isUp || !this.deps.redis.isUp;
    const every = anyDown
      ? Math.min(1000, this.config.healthProbeIntervalMs)
      : this.config.healthProbeIntervalMs;
    this.timer = setTimeout(() => {
      void Promise.all([this.probe('postgres'), this.probe('redis')]).finally(() =>
        this.schedule(),
      );
    }, every);
    this.timer.unref();
  }

  /**
   * Redis is back: the reconciler enqueues what this process skipped (still armed or pending, compared after
   * adding), then the removals skipped meanwhile are replayed. The worker reconciles everything instead
   * (Redis may have come back empty); so does a process that skipped more than it could remember.
   */
  private async recover(): Promise<void> {
    if (this.recovering) return;
    this.recovering = (async () => {
      const skipped = this.scheduler.takeSkipped();
      let retry = false;
      try {
        const full = this.reconcileOnRecovery === 'always' || skipped.overflow;
        if (full || skipped.timers.length || skipped.notices.length) {
          const r = full
            ? await this.reconciler.run()
            : await this.reconciler.runFor(skipped.timers, skipped.notices);
          this.metrics.reconciled('recovery', r);
          this.log.log(
            `Redis di nuovo disponibile: ${full ? 'riconciliazione completa' : `${skipped.timers.length} timer e ${skipped.notices.length} notifiche saltati`}, ` +
              `accodati ${r.armedTimers} timer e ${r.pendingNotifications} notifiche in ${r.ms} ms`,
          );
        }
        await this.scheduler.flushRemovals();
      } catch (err) {
        // not this time (Redis went away again, a timeout): give the ids back and try again shortly
        this.scheduler.giveBack(skipped);
        this.metrics.reconciled('recovery', null);
        this.log.warn(
          `riaccodamento dopo il ritorno di Redis non riuscito, nuovo tentativo: ${String(err)}`,
        );
        retry = true;
      } finally {
        this.recovering = null;
      }
      if (retry && !this.stopped) {
        const t = setTimeout(() => {
          if (this.deps.redis.isUp) void this.recover();
        }, 2000);
        t.unref();
      }
    })();
    await this.recovering;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.recovering;
  }
}
