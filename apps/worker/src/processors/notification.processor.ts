import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { DataSource } from 'typeorm';
import { JobName, QueueName, type DeliverNotificationJob } from '@app/scheduling';

/**
 * Delivers outbox rows. The in-app inbox is the only channel so far: delivery marks the row delivered
 * (it is then listed by GET /v1/notifications). E-mail/PEC and signed webhooks come with the
 * notifications issue; the row, its dedupe key and this job id (= row id) are already in place.
 */
@Processor(QueueName.Notifications, { concurrency: 8 })
export class NotificationProcessor extends WorkerHost {
  constructor(private readonly ds: DataSource) {
    super();
  }

  async process(job: Job<DeliverNotificationJob>): Promise<string> {
    if (job.name !== JobName.DeliverNotification)
      throw new UnrecoverableError(`unknown job ${job.name}`);
    // for an UPDATE, TypeORM's DataSource.query answers [rows, affected count], not the rows
    const [, affected] = await this.ds.query<[unknown[], number]>(
      `UPDATE outbox SET status = 'delivered', delivered_at = now(), attempts = attempts + 1
       WHERE id = $1 AND status = 'pending'`,
      [job.data.outboxId],
    );
    return affected > 0 ? 'delivered' : 'already-done';
  }

  @OnWorkerEvent('error')
  onError(err: Error): void {
    new Logger('notifications').warn(`worker: ${err.message}`);
  }
}
