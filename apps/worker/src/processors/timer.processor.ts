import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger } from '@nestjs/common';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { CLOCK, type Clock } from '@app/common';
import { Engine } from '@app/engine';
import { JobName, QueueName, type TimerFiredJob } from '@app/scheduling';

/** Thin: the engine re-reads the timer row and does nothing unless it is still armed and wanted. */
// read at import time (decorator); loadConfig validates the same variables at start-up. A short lock lets
// BullMQ hand a killed worker's jobs to another one within seconds (a job run twice is a no-op: the row decides)
@Processor(QueueName.Timers, {
  concurrency: Number(process.env['WORKER_CONCURRENCY'] ?? 8),
  lockDuration: Number(process.env['WORKER_LOCK_MS'] ?? 10_000),
  stalledInterval: Number(process.env['WORKER_STALLED_CHECK_MS'] ?? 5_000),
})
export class TimerProcessor extends WorkerHost {
  private readonly log = new Logger('timers');

  constructor(
    private readonly engine: Engine,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    super();
  }

  async process(job: Job<TimerFiredJob>, token?: string): Promise<string> {
    if (job.name !== JobName.TimerFired) throw new UnrecoverableError(`unknown job ${job.name}`);
    const result = await this.engine.fireTimer(job.data.timerId);
    if (typeof result === 'object') {
      // fired before its due time by this process's clock: wait the difference, then try again
      const wait = result.early.getTime() - this.clock.now().getTime();
      await job.moveToDelayed(Date.now() + Math.max(wait, 10), token);
      throw new DelayedError();
    }
    if (result !== 'fired') this.log.debug(`timer ${job.data.timerId}: ${result}`);
    return result;
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<TimerFiredJob> | undefined, err: Error): void {
    this.log.warn(
      `timer ${job?.data.timerId ?? '?'} failed (attempt ${job?.attemptsMade ?? '?'}): ${err.message}`,
    );
  }

  /** e.g. a job whose key vanished while it ran (Redis flushed, timer cancelled): Postgres already has the truth */
  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.log.warn(`worker: ${err.message}`);
  }
}
