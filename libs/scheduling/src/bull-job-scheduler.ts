import type { JobsOptions, Queue } from 'bullmq';
import { requestIdOfJob, type Clock } from '@app/common';
import {
  JobName,
  type DeliverNotificationJob,
  type RunProcessEffectJob,
  type TimerFiredJob,
} from './queue-names';

export interface TimerToEnqueue {
  id: string;
  dueAt: Date;
  /** the delay by the database's clock, when known (the reconciler reads it); else dueAt − the clock */
  delayMs?: number;
}

/** Job ids are the Postgres row ids (uuid; BullMQ refuses ':' in custom ids): adding twice is a no-op. */
export interface JobSchedulerPort {
  enqueueTimers(timers: readonly TimerToEnqueue[]): Promise<void>;
  removeTimers(ids: readonly string[]): Promise<void>;
  enqueueNotifications(ids: readonly string[]): Promise<void>;
  enqueueProcessEffects?(ids: readonly string[]): Promise<void>;
}

/**
 * Failed jobs (every attempt used) are kept, bounded, so that the queue dashboard (/admin/queues) shows
 * them and an admin can retry them; the reconciler also retries those whose row is still armed or pending
 * (a kept job id would otherwise make its re-add a no-op). Retrying is always safe: a timer job fires only
 * while its timer row is armed and due, a delivery job sends only the rows still pending.
 */
export const KEEP_FAILED = { count: 1000, age: 7 * 24 * 3600 } as const;

const TIMER_OPTS: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: KEEP_FAILED,
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
};
const NOTIFY_OPTS: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: KEEP_FAILED,
  attempts: 8,
  backoff: { type: 'exponential', delay: 2000 },
};

/** an effect waiting for an earlier one of its process retries with backoff; the reconciler re-enqueues it */
const EFFECT_OPTS: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: true,
  attempts: 10,
  backoff: { type: 'exponential', delay: 500 },
};

/** the request id of the request or job that caused this enqueue (requestIdOfJob), carried in the job's data */
function withRequestId<T extends object>(jobId: string, data: T): T & { requestId?: string } {
  const requestId = requestIdOfJob(jobId);
  return requestId ? { ...data, requestId } : data;
}

export class BullJobScheduler implements JobSchedulerPort {
  constructor(
    private readonly timers: Queue,
    private readonly notifications: Queue,
    private readonly clock: Clock,
    /** process effects (start another process, signal a linked one); optional for tools without them */
    private readonly processEffects?: Queue,
  ) {}

  async enqueueProcessEffects(ids: readonly string[]): Promise<void> {
    if (!this.processEffects) return;
    await this.processEffects.addBulk(
      ids.map((id) => ({
        name: JobName.RunProcessEffect,
        data: withRequestId(id, { effectId: id }) satisfies RunProcessEffectJob,
        opts: { ...EFFECT_OPTS, jobId: id },
      })),
    );
  }

  /** Delay is computed against the injectable clock, so a shifted test clock makes due timers fire now. */
  async enqueueTimers(timers: readonly TimerToEnqueue[]): Promise<void> {
    const now = this.clock.now().getTime();
    for (let i = 0; i < timers.length; i += 1000) {
      await this.timers.addBulk(
        timers.slice(i, i + 1000).map((t) => ({
          name: JobName.TimerFired,
          data: withRequestId(t.id, { timerId: t.id }) satisfies TimerFiredJob,
          opts: {
            ...TIMER_OPTS,
            jobId: t.id,
            delay: Math.max(0, t.delayMs ?? t.dueAt.getTime() - now),
          },
        })),
      );
    }
  }

  async removeTimers(ids: readonly string[]): Promise<void> {
    // a job being processed right now cannot be removed: it will find its row cancelled and do nothing.
    // Sent together (ioredis writes them back to back): one round trip's wait, not one per id
    for (let i = 0; i < ids.length; i += 500) {
      await Promise.all(ids.slice(i, i + 500).map((id) => this.timers.remove(id).catch(() => 0)));
    }
  }

  async enqueueNotifications(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 1000) {
      await this.notifications.addBulk(
        ids.slice(i, i + 1000).map((id) => ({
          name: JobName.DeliverNotification,
          data: withRequestId(id, { outboxId: id }) satisfies DeliverNotificationJob,
          opts: { ...NOTIFY_OPTS, jobId: id },
        })),
      );
    }
  }
}
