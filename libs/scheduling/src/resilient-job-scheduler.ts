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
 * - The rows are the truth: the ids skipped are remembered (bounded) and, when Redis returns, the
 *   reconciler enqueues those still armed or pending (DependencyMonitor; a full pass if more was skipped
 *   than remembered; the worker also reconciles fully after an outage and every RECONCILE_INTERVAL_MS),
 *   with the row id as job id, so a job is never enqueued twice. Removals of cancelled timers skipped
 *   meanwhile are replayed too.
 */
export class ResilientJobScheduler implements JobSchedulerPort {
  private readonly removals = new Set<string>();
  private readonly skippedTimers = new Set<string>();
  private readonly skippedNotices = new Set<string>();
  /** more was skipped than remembered: only a full reconciliation catches up */
  private overflow = false;
  /** calls whose jobs were not enqueued since the last recovery */
  skipped = 0;

  constructor(
    private readonly inner: JobSchedulerPort,
    private readonly redis: Availability,
    private readonly timeoutMs: number,
    private readonly logger: SchedulerLogger = { warn: () => undefined },
    private readonly maxRemembered = 100_000,
  ) {}

  async enqueueTimers(timers: readonly TimerToEnqueue[]): Promise<void> {
    if (!timers.length) return;
    const ok = await this.guard('timers', () => this.inner.enqueueTimers(timers));
    if (!ok)
      this.remember(
        this.skippedTimers,
        timers.map((t) => t.id),
      );
  }

  async enqueueNotifications(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    const ok = await this.guard('notifications', () => this.inner.enqueueNotifications(ids));
    if (!ok) this.remember(this.skippedNotices, ids);
  }

  /** process effects skipped while Redis is down: the worker's ProcessEffectReconciler carries them out */
  async enqueueProcessEffects(ids: readonly string[]): Promise<void> {
    if (!ids.length || !this.inner.enqueueProcessEffects) return;
    const inner = this.inner.enqueueProcessEffects.bind(this.inner);
    await this.guard('process effects', () => inner(ids));
  }

  /** what was skipped since the last call (the reconciler enqueues what of it is still armed/pending) */
  takeSkipped(): { timers: string[]; notices: string[]; overflow: boolean } {
    const out = {
      timers: [...this.skippedTimers],
      notices: [...this.skippedNotices],
      overflow: this.overflow,
    };
    this.skippedTimers.clear();
    this.skippedNotices.clear();
    this.overflow = false;
    this.skipped = 0;
    return out;
  }

  /** the ids taken could not be enqueued after all: remembered again for the next attempt */
  giveBack(skipped: { timers: string[]; notices: string[]; overflow: boolean }): void {
    this.remember(this.skippedTimers, skipped.timers);
    this.remember(this.skippedNotices, skipped.notices);
    if (skipped.overflow) this.overflow = true;
    this.skipped++;
  }

  private remember(set: Set<string>, ids: readonly string[]): void {
    for (const id of ids) {
      if (set.size >= this.maxRemembered) {
        this.overflow = true;
        return;
      }
      set.add(id);
    }
  }

  async removeTimers(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    const ok = await this.guard('removal', () => this.inner.removeTimers(ids));
    if (!ok) this.remember(this.removals, ids);
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
