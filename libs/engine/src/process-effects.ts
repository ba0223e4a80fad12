import type { DataSource } from 'typeorm';
import { AlreadyExistsError, DomainError, SYSTEM_ACTOR } from '@app/common';
import type { ProcessEffect } from '@app/workflows';
import { EffectAlreadyDoneError, type Engine } from './engine.service';

export type EffectOutcome =
  'done' | 'already-done' | 'missing' | 'refused' | 'no-linked-process' | 'duplicate-start';

/** an earlier effect of the same process is still pending: retry later (the worker's job backs off) */
export class EffectNotReadyError extends Error {
  constructor(readonly effectId: string) {
    super(`process effect ${effectId} waits for an earlier effect of its process`);
  }
}

interface EffectRow {
  id: string;
  instance_id: string;
  event_seq: number;
  ordinal: number;
  status: string;
  spec: ProcessEffect;
}

/**
 * Carries out one process_effect row exactly once (issue 12): a `startProcess` starts the process in ONE
 * transaction with its link and the row marked done; a `signal` dispatches the system event to the linked
 * process in ONE transaction with the row marked done. A worker killed half-way leaves the row pending and
 * nothing else (Postgres rolls the transaction back); a second run that finds the row done changes nothing.
 * The effects of one process run in the order they were written (a signal waits for the start before it).
 */
export class ProcessEffectRunner {
  constructor(
    private readonly ds: DataSource,
    private readonly engine: Engine,
  ) {}

  async run(effectId: string): Promise<EffectOutcome> {
    const rows = await this.ds.query<EffectRow[]>(
      `SELECT id, instance_id, event_seq, ordinal, status, spec FROM process_effect WHERE id = $1`,
      [effectId],
    );
    const row = rows[0];
    if (!row) return 'missing';
    if (row.status !== 'pending') return 'already-done';
    const earlier = await this.ds.query<unknown[]>(
      `SELECT 1 FROM process_effect WHERE instance_id = $1 AND status = 'pending'
         AND (event_seq, ordinal) < ($2, $3) LIMIT 1`,
      [row.instance_id, row.event_seq, row.ordinal],
    );
    if (earlier.length) throw new EffectNotReadyError(effectId);
    try {
      return row.spec.kind === 'startProcess' ? await this.start(row) : await this.signal(row);
    } catch (err) {
      if (err instanceof EffectAlreadyDoneError) return 'already-done';
      throw err;
    }
  }

  private async start(row: EffectRow): Promise<EffectOutcome> {
    const spec = row.spec as Extract<ProcessEffect, { kind: 'startProcess' }>;
    try {
      await this.engine.start(
        {
          definition: spec.definition,
          input: { ...spec.input, [spec.sourceField]: row.instance_id },
        },
        SYSTEM_ACTOR,
        { effectId: row.id },
      );
      return 'done';
    } catch (err) {
      // the process already exists (business key / link): done before, by someone else or by hand
      if (err instanceof AlreadyExistsError) {
        await this.finish(row.id, 'done', { duplicate: true });
        return 'duplicate-start';
      }
      if (err instanceof DomainError) {
        await this.finish(row.id, 'failed', { code: err.code, message: err.message });
        return 'refused';
      }
      throw err;
    }
  }

  private async signal(row: EffectRow): Promise<EffectOutcome> {
    const spec = row.spec as Extract<ProcessEffect, { kind: 'signal' }>;
    const links = await this.ds.query<{ to_instance: string }[]>(
      `SELECT to_instance FROM process_link WHERE from_instance = $1 AND relation = $2`,
      [row.instance_id, spec.relation],
    );
    const target = links[0]?.to_instance;
    if (!target) {
      await this.finish(row.id, 'done', { skipped: 'no linked process' });
      return 'no-linked-process';
    }
    try {
      await this.engine.dispatch(target, spec.event, SYSTEM_ACTOR, { effectId: row.id });
      return 'done';
    } catch (err) {
      // the linked process cannot take it (e.g. it has ended): recorded, not retried
      if (err instanceof DomainError) {
        await this.finish(row.id, 'done', { target, refused: err.code, message: err.message });
        return 'refused';
      }
      throw err;
    }
  }

  private async finish(id: string, status: 'done' | 'failed', result: Record<string, unknown>) {
    await this.ds.query(
      `UPDATE process_effect SET status = $2, result = $3, done_at = now(), attempts = attempts + 1
       WHERE id = $1 AND status = 'pending'`,
      [id, status, result],
    );
  }

  /** pending effects, oldest first (the reconciler re-enqueues them: Redis may have lost the jobs) */
  async pending(limit = 5000): Promise<string[]> {
    const rows = await this.ds.query<{ id: string }[]>(
      `SELECT id FROM process_effect WHERE status = 'pending' ORDER BY created_at, event_seq, ordinal LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.id);
  }
}
