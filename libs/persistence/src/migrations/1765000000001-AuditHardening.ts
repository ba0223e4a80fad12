import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 9 item 3, the audit log an operator cannot rewrite unseen:
 * - process_event.hash_version: 1 for the events hashed before (kept and still verified), 2 for new ones
 *   (RFC 8785 canonical JSON covering recorded_at, idempotency_key, request_hash and timer_id too);
 * - ente_event: the ente registry's own audit chain (every create/update of an ente, hash-chained like
 *   process_event, append-only in the database).
 * The runtime role's privileges (INSERT and SELECT only on both) are granted after the migrations by
 * libs/persistence/src/db-roles.ts, since the role's name is configuration.
 */
export class AuditHardening1765000000001 implements MigrationInterface {
  name = 'AuditHardening1765000000001';

  async up(q: QueryRunner): Promise<void> {
    // adding a column with a constant default rewrites no row: the append-only triggers do not fire
    await q.query(
      `ALTER TABLE process_event ADD COLUMN hash_version smallint NOT NULL DEFAULT 1 CHECK (hash_version IN (1, 2))`,
    );
    await q.query(`
      CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TABLE ente_event (
        seq           bigint PRIMARY KEY CHECK (seq >= 1),
        codice_ipa    text NOT NULL,
        op            text NOT NULL CHECK (op IN ('baseline', 'create', 'update')),
        data          jsonb NOT NULL,
        changed       text[] NOT NULL,
        actor_subject text NOT NULL,
        actor_role    text NOT NULL,
        recorded_at   timestamptz NOT NULL,
        prev_hash     text NOT NULL,
        hash          text NOT NULL,
        hash_version  smallint NOT NULL DEFAULT 2 CHECK (hash_version = 2)
      )`);
    await q.query(`CREATE INDEX ente_event_codice_idx ON ente_event (codice_ipa, seq)`);
    await q.query(`CREATE TRIGGER ente_event_no_update_delete BEFORE UPDATE OR DELETE ON ente_event
                   FOR EACH ROW EXECUTE FUNCTION audit_append_only()`);
    await q.query(`CREATE TRIGGER ente_event_no_truncate BEFORE TRUNCATE ON ente_event
                   FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ente_event`);
    await q.query(`DROP FUNCTION audit_append_only`);
    await q.query(`ALTER TABLE process_event DROP COLUMN hash_version`);
  }
}
