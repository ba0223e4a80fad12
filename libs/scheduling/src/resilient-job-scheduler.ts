import { classifyInfraError, type Availability } from '@app/common';
import type { JobSchedulerPort, TimerToEnqueue } from './bull-job-scheduler';

export interface SchedulerLogger {
  warn(message: string): void;
}

/** Rejects after ms: a Redis that accepts the bytes and answers nothing (SIGSTOP) must not hold a request. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what}: enqueue timed out after ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The post-commit enqueue, bounded: a committed transition answers at once whether Redis is up or not.
 *
 * - Redis known down (the availability says so): nothing is attempted, the call returns at once.
 * - Otherwise the call gets `timeoutMs`; a timeout or a connection error marks Redis down (logged once).
 * - The rows are the truth: what is skipped is enqueued by the reconciler when Redis returns
 *   (DependencyMonitor runs it on recovery, the worker also every RECONCILE_INTERVAL_MS), with the row id
 *   as job id, so a job is never enqueued twice. Removals of cancelled timers skipped meanwhile are kept
 *   (bounded) and replayed on recovery; the reconciler removes the rest.
 */
export class ResilientJobScheduler implements JobSchedulerPort {
  private readonly removals = new Set<string>();
  /** transitions whose jobs were not enqueued since the last recovery: the reconciler must run */
  skipped = 0;

  constructor(
    private readonly inner: JobSchedulerPort,
    private readonly redis: Availability,
    private readonly timeoutMs: number,
    private readonly logger: SchedulerLogger = { warn: () => undefined },
    private readonly maxRemembered = 100_000,
  ) {}

  async enqueueTimers(timers: readonly TimerToEnqueue[]): Promise<void> {
    if (timers.length) await this.guard('timers', () => this.inner.enqueueTimers(timers));
  }

  async enqueueNotifications(ids: readonly string[]): Promise<void> {
    if (ids.length) await this.guard('notifications', () => this.inner.enqueueNotifications(ids));
  }

  async removeTimers(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    const ok = await this.guard('removal', () => this.inner.removeTimers(ids));
    if (!ok) {
      for (const id of ids) if (this.removals.size < this.maxRemembered) this.removals.add(id);
    }
  }

  /** after Redis returns: the removals skipped during the outage (the reconciler does the rest) */
  async flushRemovals(): Promise<number> {
    const ids = [...this.removals];
    this.removals.clear();
    if (ids.length) await this.inner.removeTimers(ids);
    return ids.length;
  }

  private async guard(what: string, op: () => Promise<void>): Promise<boolean> {
    if (!this.redis.isUp) {
      this.skipped++;
      return false;
    }
    try {
      await withTimeout(op(), this.timeoutMs, what);
      return true;
    } catch (err) {
      this.skipped++;
      const infra = classifyInfraError(err);
      if (infra?.dependency === 'redis') this.redis.markDown(infra.reason);
      else
        this.logger.warn(`enqueue ${what} failed, the reconciler will enqueue it: ${String(err)}`);
      return false;
    }
  }
}
