import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * process_event.request_id: the id of the HTTP request that caused the step (X-Request-Id or the id the API gave
 * it; for a step run by the worker, the id carried by the job). Operational correlation with the logs, NOT
 * evidence: it is outside the audit hash (docs/security.md "Logs and request ids"), so a client-chosen value
 * can never weaken the chain, and the column is nullable (steps before it, the reconciler's re-enqueued jobs).
 */
export class EventRequestId1765500000500 implements MigrationInterface {
  name = 'EventRequestId1765500000500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE process_event ADD COLUMN request_id varchar(128)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE process_event DROP COLUMN request_id`);
  }
}
