import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { clockOffsetMs, type Clock } from '@app/common';
import type { JobSchedulerPort } from './bull-job-scheduler';

export interface ReconcileReport {
  armedTimers: number;
  dueTimersPromoted: number;
  /** jobs re-added for timers that were cancelled or fired meanwhile, removed again */
  leftoversRemoved: number;
  pendingNotifications: number;
  /** failed jobs (kept for the dashboard) of rows still armed or pending, retried */
  failedRetried: number;
  ms: number;
}

/**
 * Postgres is the source of truth; Redis may lose everything. The reconciler re-enqueues every armed timer
 * and every pending notification (adding an existing job id is a no-op in BullMQ), and makes due timers
 * run now (a delayed job whose moment has passed is promoted). "Due" and the delays are computed by the
 * database's clock (shifted by the injectable clock's offset, 0 in production), not by this process's.
 *
 * Batched: per 5,000 armed timers one SQL read, one pipelined look-up of the due ones in the delayed set,
 * addBulk in chunks of 1,000, and one SQL read to compare after adding: a timer cancelled (or fired)
 * between the read and the add loses the job just added again.
 *
 * It runs at worker start, every RECONCILE_INTERVAL_MS, and when Redis comes back after an outage.
 * Several processes may run it at once: the job id dedupes, and the timer row lock makes a timer fire once.
 */
export class Reconciler {
  constructor(
    private readonly ds: DataSource,
    private readonly scheduler: JobSchedulerPort,
    private readonly timersQueue: Queue,
    private readonly clock: Clock,
    private readonly batchSize = 5000,
    /** to retry the failed delivery jobs of pending notifications (see KEEP_FAILED) */
    private readonly notificationsQueue?: Queue,
  ) {}

  async run(): Promise<ReconcileReport> {
    return this.reconcile(null, null);
  }

  /**
   * The same for the given rows only (those whose enqueue a process skipped while Redis was down): what is
   * still armed or pending is enqueued, compared after adding, and the rest left alone. Cheap enough to run
   * on the api's request path's process when Redis returns, unlike a full pass.
   */
  async runFor(
    timerIds: readonly string[],
    outboxIds: readonly string[],
  ): Promise<ReconcileReport> {
    return this.reconcile(timerIds, outboxIds);
  }

  private async reconcile(
    timerIds: readonly string[] | null,
    outboxIds: readonly string[] | null,
  ): Promise<ReconcileReport> {
    const t0 = Date.now();
    const offset = clockOffsetMs(this.clock);
    let armedTimers = 0;
    let dueTimersPromoted = 0;
    let leftoversRemoved = 0;
    let failedRetried = 0;
    const timerBatches = this.batches(timerIds, (after, ids) =>
      this.ds.query<{ id: string; due_at: Date; delay_ms: number }[]>(
        `SELECT id, due_at,
                  GREATEST(0, extract(epoch FROM due_at - now()) * 1000 - $3)::float8 AS delay_ms
           FROM timer WHERE status = 'armed' AND id > $1 ${ids ? 'AND id = ANY($4)' : ''}
           ORDER BY id LIMIT $2`,
        ids ? [after, this.batchSize, offset, ids] : [after, this.batchSize, offset],
      ),
    );
    for await (const rows of timerBatches) {
      armedTimers += rows.length;
      const due = rows.filter((r) => r.delay_ms === 0).map((r) => r.id);
      dueTimersPromoted += await this.promoteDelayed(due);
      failedRetried += await this.retryFailed(
        this.timersQueue,
        rows.map((r) => r.id),
      );
      await this.scheduler.enqueueTimers(
        rows.map((r) => ({ id: r.id, dueAt: r.due_at, delayMs: Math.round(r.delay_ms) })),
      );
      const gone: { id: string }[] = await this.ds.query(
        `SELECT id FROM timer WHERE id = ANY($1) AND status <> 'armed'`,
        [rows.map((r) => r.id)],
      );
      if (gone.length) {
        await this.scheduler.removeTimers(gone.map((g) => g.id));
        leftoversRemoved += gone.length;
      }
    }
    let pendingNotifications = 0;
    // one delivery job per transition (docs/notifications.md): its id is the smallest id of the rows the engine
    // wrote for it; a transition is due while any of its rows is pending (or sending under a lease)
    const outboxBatches = this.batches(outboxIds, (after, ids) =>
      this.ds.query<{ id: string }[]>(
        `SELECT min(o.id::text COLLATE "C") AS id FROM outbox o
         WHERE o.subscription_id IS NULL
           AND EXISTS (SELECT 1 FROM outbox p WHERE p.instance_id = o.instance_id AND p.event_seq = o.event_seq
                         AND p.status IN ('pending', 'sending'))
           ${ids ? 'AND (o.instance_id, o.event_seq) IN (SELECT instance_id, event_seq FROM outbox WHERE id = ANY($3))' : ''}
         GROUP BY o.instance_id, o.event_seq HAVING min(o.id::text COLLATE "C") > $1 ORDER BY 1 LIMIT $2`,
        ids ? [after, this.batchSize, ids] : [after, this.batchSize],
      ),
    );
    for await (const rows of outboxBatches) {
      pendingNotifications += rows.length;
      if (this.notificationsQueue)
        failedRetried += await this.retryFailed(
          this.notificationsQueue,
          rows.map((r) => r.id),
        );
      await this.scheduler.enqueueNotifications(rows.map((r) => r.id));
    }
    return {
      armedTimers,
      dueTimersPromoted,
      leftoversRemoved,
      pendingNotifications,
      failedRetried,
      ms: Date.now() - t0,
    };
  }

  /** keyset pages of batchSize rows (by id), over every row or over the given ids only */
  private async *batches<R extends { id: string }>(
    ids: readonly string[] | null,
    read: (after: string, ids: string[] | null) => Promise<R[]>,
  ): AsyncGenerator<R[]> {
    if (ids && ids.length === 0) return;
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const rows = await read(after, ids ? [...ids] : null);
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.id;
      yield rows;
    }
  }

  /** jobs of these ids kept in the failed set (KEEP_FAILED): retried, since adding them again is a no-op */
  private async retryFailed(queue: Queue, ids: readonly string[]): Promise<number> {
    if (!ids.length) return 0;
    const client = await queue.client;
    const pipe = client.pipeline();
    for (const id of ids) pipe.runCommand('zscore', [queue.keys.failed!, id]);
    const scores = (await pipe.exec()) ?? [];
    const failed = ids.filter((_, i) => scores[i]?.[1] !== null && scores[i]?.[1] !== undefined);
    const results = await Promise.all(
      failed
        .map(async (id) => {
          const job = await queue.getJob(id);
          if (!job) return 0;
          await job.retry('failed');
          return 1;
        })
        .map((p) => p.catch(() => 0)), // retried meanwhile (an admin, another reconciler)
    );
    return results.reduce<number>((a, b) => a + b, 0);
  }

  /** due timers whose job still waits in the delayed set (e.g. the clock moved): one pipeline finds them */
  private async promoteDelayed(ids: readonly string[]): Promise<number> {
    if (!ids.length) return 0;
    const client = await this.timersQueue.client;
    const pipe = client.pipeline();
    for (const id of ids) pipe.runCommand('zscore', [this.timersQueue.keys.delayed!, id]);
    const scores = (await pipe.exec()) ?? [];
    const delayed = ids.filter((_, i) => scores[i]?.[1] !== null && scores[i]?.[1] !== undefined);
    let promoted = 0;
    for (let i = 0; i < delayed.length; i += 500) {
      const results = await Promise.all(
        delayed
          .slice(i, i + 500)
          .map(async (id) => {
            const job = await this.timersQueue.getJob(id);
            if (!job) return 0;
            await job.promote();
            return 1;
          })
          .map((p) => p.catch(() => 0)), // moved meanwhile (a worker took it): nothing to do
      );
      promoted += results.reduce<number>((a, b) => a + b, 0);
    }
    return promoted;
  }
}
