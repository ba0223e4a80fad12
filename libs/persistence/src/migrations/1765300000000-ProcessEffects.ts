import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Effects other than notifications (issue 12): a step may start another process or signal a linked one.
 * process_effect rows are written in the step's transaction (an outbox of process effects) and carried out
 * once by the worker; process_link stores which process started on which (the RTD on its convention).
 * One link per (from, relation): a second RTD for the same convention is impossible even if a worker dies
 * between starting it and marking its effect done.
 */
export class ProcessEffects1765300000000 implements MigrationInterface {
  name = 'ProcessEffects1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE process_effect (
        id           uuid PRIMARY KEY,
        instance_id  uuid NOT NULL REFERENCES process_instance(id),
        event_seq    integer NOT NULL,
        ordinal      integer NOT NULL,
        kind         text NOT NULL CHECK (kind IN ('startProcess', 'signal')),
        spec         jsonb NOT NULL,
        status       text NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
        attempts     integer NOT NULL DEFAULT 0,
        result       jsonb,
        last_error   text,
        created_at   timestamptz NOT NULL DEFAULT now(),
        done_at      timestamptz,
        UNIQUE (instance_id, event_seq, ordinal)
      )`);
    await q.query(
      `CREATE INDEX process_effect_pending_idx ON process_effect (instance_id, event_seq, ordinal) WHERE status = 'pending'`,
    );
    await q.query(`
      CREATE TABLE process_link (
        from_instance uuid NOT NULL REFERENCES process_instance(id),
        relation      text NOT NULL,
        to_instance   uuid NOT NULL REFERENCES process_instance(id),
        created_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (from_instance, relation)
      )`);
    await q.query(`CREATE INDEX process_link_to_idx ON process_link (to_instance)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE process_link`);
    await q.query(`DROP TABLE process_effect`);
  }
}
