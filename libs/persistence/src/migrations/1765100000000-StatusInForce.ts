import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `in_force`: a process whose outcome is in effect and still alive (a convention in force), instead of
 * `completed`, which said "over" for a convention that still has a later life (issue 10).
 */
export class StatusInForce1765100000000 implements MigrationInterface {
  name = 'StatusInForce1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE process_instance DROP CONSTRAINT process_instance_status_check`);
    await q.query(
      `ALTER TABLE process_instance ADD CONSTRAINT process_instance_status_check
         CHECK (status IN ('active', 'in_force', 'completed', 'failed', 'terminated'))`,
    );
    await q.query(
      `UPDATE process_instance SET status = 'in_force'
        WHERE definition_key = 'convenzione' AND state_value = 'IN_FORCE' AND status = 'completed'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE process_instance SET status = 'completed' WHERE status = 'in_force'`);
    await q.query(`ALTER TABLE process_instance DROP CONSTRAINT process_instance_status_check`);
    await q.query(
      `ALTER TABLE process_instance ADD CONSTRAINT process_instance_status_check
         CHECK (status IN ('active', 'completed', 'failed', 'terminated'))`,
    );
  }
}
