import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { Engine, type FireDueReport } from '@app/engine';
import { DependencyMonitor } from '@app/runtime';
import { JobName, QueueName, workerOptions, type TimerFiredJob } from '@app/scheduling';
import { ClockGuard } from '../health/clock-guard.service';

/** how long a job refused by a worker with a skewed clock waits before any worker may take it again */
const SKEWED_RETRY_MS = 2_000;

/**
 * How many other processes with due timers one job may fire after its own (Engine.fireDue), each in its own
 * transaction: a burst of deadlines at one instant costs one job and one transaction per process, not per
 * timer. Bounded so that a job ends within seconds and its lock is never at stake.
 */
export const SWEEP_INSTANCES = 32;

/**
 * Thin: the engine re-reads the timer row and does nothing unless it is still armed, due by the
 * database's clock, and wanted. Each job fires its own timer with the other due timers of its process,
 * then sweeps other processes with due timers (Engine.fireDue; docs/architecture.md, "Timers"). Worker settings (WORKER_CONCURRENCY, WORKER_LOCK_MS,
 * WORKER_STALLED_CHECK_MS) come from workerOptions(), shared with the notification processor.
 */
@Processor(QueueName.Timers, workerOptions())
export class TimerProcessor extends WorkerHost {
  private readonly log = new Logger('timers');

  constructor(
    private readonly engine: Engine,
    private readonly clockGuard: ClockGuard,
    private readonly monitor: DependencyMonitor,
  ) {
    super();
    // a worker whose clock is off takes no timer job; it resumes when the clock is back within the bound
    clockGuard.onChange((ok) => {
      if (ok && this.worker.isPaused()) this.worker.resume();
    });
  }

  async process(job: Job<TimerFiredJob>, token?: string): Promise<FireDueReport | string> {
    if (job.name !== JobName.TimerFired) throw new UnrecoverableError(`unknown job ${job.name}`);
    if (!(await this.clockGuard.allowed())) {
      if (!this.worker.isPaused()) {
        this.log.warn(
          `scadenza non eseguita: orologio sfasato di ${this.clockGuard.current.skewMs} ms; ` +
            `il worker si sospende e lascia i lavori agli altri`,
        );
        void this.worker.pause(true);
      }
      await job.moveToDelayed(this.clockGuard.dbNow() + SKEWED_RETRY_MS, token);
      throw new DelayedError();
    }
    const report = await this.engine.fireDue(job.data.timerId, { maxInstances: SWEEP_INSTANCES });
    const own = report.own;
    if (typeof own === 'object') {
      // not due yet by the database's clock: wait the difference it gave, then try again
      await job.moveToDelayed(this.clockGuard.dbNow() + Math.max(own.inMs, 10), token);
      throw new DelayedError();
    }
    if (own !== 'fired') this.log.debug(`timer ${job.data.timerId}: ${own}`);
    return report;
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<TimerFiredJob> | undefined, err: Error): void {
    // Postgres down: one line per outage (the monitor's), not one per job; BullMQ retries, the reconciler re-adds
    if (this.monitor.report(err)) return;
    this.log.warn(
      `timer ${job?.data.timerId ?? '?'} failed (attempt ${job?.attemptsMade ?? '?'}): ${err.message}`,
    );
  }

  /** e.g. a job whose key vanished while it ran (Redis flushed, timer cancelled): Postgres already has the truth */
  @OnWorkerEvent('error')
  onError(err: Error): void {
    if (this.monitor.report(err, 'redis')) return;
    this.log.warn(`worker: ${err.message}`);
  }
}
