import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The core schema. Timestamps are timestamptz (UTC); deadlines are computed in Europe/Rome by libs/calendar.
 * process_event is the audit log: append-only in the database (triggers refuse UPDATE, DELETE, TRUNCATE)
 * and hash-chained per instance (hash = sha256(prev_hash || canonical JSON of the event)).
 */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);
    await q.query(`
      CREATE TABLE ente (
        id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind             text NOT NULL CHECK (kind IN ('COMUNE', 'UNIONE')),
        denominazione    text NOT NULL,
        codice_ipa       text NOT NULL UNIQUE CHECK (codice_ipa ~ '^[a-z0-9_]{2,20}$'),
        codice_istat     char(6) CHECK (codice_istat ~ '^[0-9]{6}$'),
        codice_catastale char(4) CHECK (codice_catastale ~ '^[A-Z][0-9]{3}$'),
        codice_fiscale   char(11) CHECK (codice_fiscale ~ '^[0-9]{11}$'),
        pec              text,
        regione          text,
        provincia        text,
        popolazione      integer CHECK (popolazione >= 0),
        popolazione_ref  text,
        unione_id        uuid REFERENCES ente(id),
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        CHECK (kind = 'COMUNE' OR (codice_istat IS NULL AND unione_id IS NULL))
      )`);
    await q.query(
      `CREATE UNIQUE INDEX ente_codice_istat_uq ON ente (codice_istat) WHERE codice_istat IS NOT NULL`,
    );
    await q.query(`CREATE INDEX ente_unione_idx ON ente (unione_id)`);

    await q.query(`
      CREATE TABLE process_instance (
        id                 uuid PRIMARY KEY,
        definition_key     text NOT NULL,
        definition_version integer NOT NULL,
        tenant             text NOT NULL,
        business_key       text NOT NULL,
        title              text NOT NULL,
        status             text NOT NULL CHECK (status IN ('active', 'completed', 'failed', 'terminated')),
        state_value        text NOT NULL,
        snapshot           jsonb NOT NULL,
        version            integer NOT NULL CHECK (version >= 0),
        participants       text[] NOT NULL DEFAULT '{}',
        pending_entes      text[] NOT NULL DEFAULT '{}',
        next_deadline      timestamptz,
        armed_timers       jsonb NOT NULL DEFAULT '{}',
        last_seq           integer NOT NULL,
        last_hash          text NOT NULL,
        created_by         text NOT NULL,
        created_at         timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant, definition_key, business_key)
      )`);
    await q.query(
      `CREATE INDEX process_instance_tenant_idx ON process_instance (tenant, definition_key, state_value)`,
    );
    await q.query(
      `CREATE INDEX process_instance_pending_idx ON process_instance USING gin (pending_entes)`,
    );
    await q.query(
      `CREATE INDEX process_instance_participants_idx ON process_instance USING gin (participants)`,
    );
    await q.query(
      `CREATE INDEX process_instance_deadline_idx ON process_instance (next_deadline) WHERE next_deadline IS NOT NULL`,
    );

    await q.query(`
      CREATE TABLE process_event (
        instance_id     uuid NOT NULL REFERENCES process_instance(id),
        seq             integer NOT NULL CHECK (seq >= 1),
        type            text NOT NULL,
        payload         jsonb NOT NULL,
        actor_subject   text NOT NULL,
        actor_role      text NOT NULL,
        actor_ente      text,
        occurred_at     timestamptz NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
        state_before    text,
        state_after     text NOT NULL,
        version_after   integer NOT NULL,
        snapshot_after  jsonb NOT NULL,
        idempotency_key text,
        request_hash    text,
        timer_id        uuid,
        prev_hash       text NOT NULL,
        hash            text NOT NULL,
        PRIMARY KEY (instance_id, seq)
      )`);
    await q.query(
      `CREATE UNIQUE INDEX process_event_idem_uq ON process_event (instance_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(
      `CREATE UNIQUE INDEX process_event_timer_uq ON process_event (timer_id) WHERE timer_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX process_event_occurred_idx ON process_event (instance_id, occurred_at)`,
    );
    await q.query(`
      CREATE FUNCTION process_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'process_event is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`CREATE TRIGGER process_event_no_update_delete BEFORE UPDATE OR DELETE ON process_event
                   FOR EACH ROW EXECUTE FUNCTION process_event_append_only()`);
    await q.query(`CREATE TRIGGER process_event_no_truncate BEFORE TRUNCATE ON process_event
                   FOR EACH STATEMENT EXECUTE FUNCTION process_event_append_only()`);

    await q.query(`
      CREATE TABLE timer (
        id            uuid PRIMARY KEY,
        instance_id   uuid NOT NULL REFERENCES process_instance(id),
        key           text NOT NULL,
        kind          text NOT NULL CHECK (kind IN ('reminder', 'deadline')),
        due_at        timestamptz NOT NULL,
        event         jsonb NOT NULL,
        status        text NOT NULL CHECK (status IN ('armed', 'fired', 'cancelled')),
        armed_version integer NOT NULL,
        fired_at      timestamptz,
        cancelled_at  timestamptz,
        created_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE UNIQUE INDEX timer_armed_key_uq ON timer (instance_id, key) WHERE status = 'armed'`,
    );
    await q.query(`CREATE INDEX timer_armed_due_idx ON timer (due_at) WHERE status = 'armed'`);

    await q.query(`
      CREATE TABLE outbox (
        id              uuid PRIMARY KEY,
        instance_id     uuid NOT NULL REFERENCES process_instance(id),
        event_seq       integer NOT NULL,
        tenant          text NOT NULL,
        recipient_ente  text NOT NULL,
        recipient_role  text NOT NULL,
        channel         text NOT NULL CHECK (channel IN ('inbox', 'email', 'webhook')),
        template        text NOT NULL,
        payload         jsonb NOT NULL,
        status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts        integer NOT NULL DEFAULT 0,
        last_error      text,
        dedupe_key      text NOT NULL UNIQUE,
        created_at      timestamptz NOT NULL DEFAULT now(),
        delivered_at    timestamptz,
        read_at         timestamptz
      )`);
    await q.query(
      `CREATE INDEX outbox_pending_idx ON outbox (created_at) WHERE status = 'pending'`,
    );
    await q.query(
      `CREATE INDEX outbox_recipient_idx ON outbox (recipient_ente, recipient_role, created_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbox`);
    await q.query(`DROP TABLE timer`);
    await q.query(`DROP TABLE process_event`);
    await q.query(`DROP FUNCTION process_event_append_only`);
    await q.query(`DROP TABLE process_instance`);
    await q.query(`DROP TABLE ente`);
  }
}
