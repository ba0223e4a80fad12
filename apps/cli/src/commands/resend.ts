import { Queue } from 'bullmq';
import { loadConfig, systemClock } from '@app/common';
import { DeliveryService, loadNotificationConfig } from '@app/notifications';
import { BullJobScheduler, producerConnection, QueueName } from '@app/scheduling';
import { defineCommand, UsageError } from '../cli';
import { say, UUID, warn, withDataSource } from './support';

/**
 * Re-send one dead notification: the row goes back to `pending` with its attempts reset (the same Message-ID,
 * the same as POST /v1/notifications/:id/resend), then its transition's delivery job is enqueued. If Redis
 * cannot be reached the row stays pending and the worker's reconciler enqueues it on its next run.
 */
export const resend = defineCommand({
  name: 'resend',
  summary: 'send a dead notification again (by outbox id); refuses one that is not dead',
  args: '<notification-id>',
  maxPositionals: 1,
  options: { by: { type: 'string' } },
  optionHelp: {
    by: { value: '<subject>', help: 'who asked for it, recorded on the row (default cli:$USER)' },
  },
  async run(v, [id]) {
    if (!id) throw new UsageError('the notification id is required');
    if (!UUID.test(id)) throw new UsageError(`not a notification id (uuid): ${id}`);
    const config = loadConfig();
    return withDataSource(async (ds) => {
      const found = await ds.query<
        {
          status: string;
          channel: string;
          recipient_ente: string;
          template: string;
          attempts: number;
          last_error: string | null;
        }[]
      >(
        `SELECT status, channel, recipient_ente, template, attempts, last_error FROM outbox WHERE id = $1`,
        [id],
      );
      const row = found[0];
      if (!row) {
        warn(`notification not found: ${id}`);
        return 1;
      }
      if (row.status !== 'dead') {
        warn(
          `notification ${id} is ${row.status}, not dead: only a dead notification (every attempt failed) is re-sent here`,
        );
        return 1;
      }
      const by = v.by ?? `cli:${process.env['USER'] ?? 'operator'}`;
      const delivery = new DeliveryService(ds, loadNotificationConfig(process.env), {
        pec: null,
        email: null,
      });
      const done = await delivery.resend(id, by);
      if (!done) {
        warn(`notification ${id} changed meanwhile and is no longer dead: nothing done`);
        return 1;
      }
      say(
        `notification ${id} (${row.channel} ${row.template} to ${row.recipient_ente}, ${row.attempts} attempts, last error: ${row.last_error ?? '-'}) is pending again`,
      );
      const queue = new Queue(QueueName.Notifications, {
        connection: producerConnection(config.redisUrl, config.enqueueTimeoutMs),
        prefix: config.redisPrefix,
      });
      queue.on('error', () => undefined);
      try {
        await new BullJobScheduler(queue, queue, systemClock).enqueueNotifications([done.batchId]);
        say(`queued: job ${done.batchId}`);
      } catch (err) {
        say(
          `Redis unreachable (${(err as Error).message}): the worker's reconciler will queue it on its next run`,
        );
      } finally {
        await queue.close().catch(() => undefined);
      }
      return 0;
    });
  },
});
