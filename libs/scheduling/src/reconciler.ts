import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { Clock } from '@app/common';
import type { JobSchedulerPort } from './bull-job-scheduler';

export interface ReconcileReport {
  armedTimers: number;
  dueTimersPromoted: number;
  pendingNotifications: number;
  ms: number;
}

/**
 * Postgres is the source of truth; Redis may lose everything. The reconciler re-enqueues every armed timer
 * and every pending notification (adding an existing job id is a no-op in BullMQ), and makes due timers
 * run now (a delayed job whose moment has passed under the injectable clock is promoted).
 * It runs at worker start and every RECONCILE_INTERVAL_MS. Several workers may run it at once: the
 * job id dedupes, and the timer row lock makes a timer fire once.
 */
export class Reconciler {
  constructor(
    private readonly ds: DataSource,
    private readonly scheduler: JobSchedulerPort,
    private readonly timersQueue: Queue,
    private readonly clock: Clock,
    private readonly batchSize = 5000,
  ) {}

  async run(): Promise<ReconcileReport> {
    const t0 = Date.now();
    let armedTimers = 0;
    let dueTimersPromoted = 0;
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const rows: { id: string; due_at: Date }[] = await this.ds.query(
        `SELECT id, due_at FROM timer WHERE status = 'armed' AND id > $1 ORDER BY id LIMIT $2`,
        [after, this.batchSize],
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.id;
      armedTimers += rows.length;
      const now = this.clock.now().getTime();
      const due = rows.filter((r) => r.due_at.getTime() <= now);
      // a due timer whose job still waits in the delayed set (e.g. the clock moved): run it now
      for (const r of due) {
        const job = await this.timersQueue.getJob(r.id);
        if (job && (await job.isDelayed())) {
          await job.promote().catch(() => undefined);
          dueTimersPromoted++;
        }
      }
      await this.scheduler.enqueueTimers(rows.map((r) => ({ id: r.id, dueAt: r.due_at })));
    }
    let pendingNotifications = 0;
    let afterN = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      // one delivery job per transition: its id is the smallest id of the rows the engine wrote for it
      const rows: { id: string }[] = await this.ds.query(
        `SELECT min(o.id::text COLLATE "C") AS id FROM outbox o
         WHERE o.subscription_id IS NULL AND EXISTS (SELECT 1 FROM outbox p WHERE p.instance_id = o.instance_id
           AND p.event_seq = o.event_seq AND p.status IN ('pending', 'sending'))
         GROUP BY o.instance_id, o.event_seq HAVING min(o.id::text COLLATE "C") > $1 ORDER BY 1 LIMIT $2`,
        [afterN, this.batchSize],
      );
      if (rows.length === 0) break;
      afterN = rows[rows.length - 1]!.id;
      pendingNotifications += rows.length;
      await this.scheduler.enqueueNotifications(rows.map((r) => r.id));
    }
    return { armedTimers, dueTimersPromoted, pendingNotifications, ms: Date.now() - t0 };
  }
}
