import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { DeliveryService } from '@app/notifications';
import { JobName, QueueName, workerOptions, type DeliverNotificationJob } from '@app/scheduling';

/**
 * Thin: one job per transition (its id is the smallest outbox row id of the batch); DeliveryService sends every
 * due row of that transition on its channel (inbox, PEC, e-mail, webhook). Rows left to retry move the same
 * job back to the delayed set until the earliest retry time, so a row's backoff is its own and the queue holds
 * one job per transition whatever the number of recipients.
 */
// WORKER_CONCURRENCY, WORKER_LOCK_MS, WORKER_STALLED_CHECK_MS: a dead worker's notices run elsewhere within seconds
@Processor(QueueName.Notifications, workerOptions())
export class NotificationProcessor extends WorkerHost {
  private readonly log = new Logger('notifications');

  constructor(private readonly delivery: DeliveryService) {
    super();
  }

  async process(job: Job<DeliverNotificationJob>, token?: string): Promise<string> {
    if (job.name !== JobName.DeliverNotification)
      throw new UnrecoverableError(`unknown job ${job.name}`);
    const r = await this.delivery.deliverBatch(job.data.outboxId);
    if (r.retryAt) {
      await job.moveToDelayed(Math.max(r.retryAt.getTime(), Date.now() + 50), token);
      throw new DelayedError();
    }
    return `delivered ${r.delivered}, dead ${r.dead}, skipped ${r.skipped}`;
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<DeliverNotificationJob> | undefined, err: Error): void {
    this.log.warn(`delivery job ${job?.id ?? '?'} failed: ${err.message}`);
  }

  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.log.warn(`worker: ${err.message}`);
  }
}
