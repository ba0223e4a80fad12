import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery of notifications (docs/notifications.md): outbox rows on the PEC / e-mail / webhook channels with
 * retries, a lease for the row being sent and dead letters; per-role contacts and a calendar feed token on the
 * ente; webhook subscriptions per Unione (two valid secrets during a rotation); PEC receipts (daticert.xml) kept
 * as evidence, matched to the notification by Message-ID.
 */
export class NotificationDelivery1765400000001 implements MigrationInterface {
  name = 'NotificationDelivery1765400000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_channel_check`);
    await q.query(`ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_status_check`);
    await q.query(
      `ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('inbox', 'pec', 'email', 'webhook'))`,
    );
    await q.query(
      `ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
         CHECK (status IN ('pending', 'sending', 'delivered', 'failed', 'dead', 'skipped'))`,
    );
    await q.query(`
      ALTER TABLE outbox
        ADD COLUMN next_attempt_at timestamptz,
        ADD COLUMN lease_until     timestamptz,
        ADD COLUMN message_id      text,
        ADD COLUMN subscription_id uuid,
        ADD COLUMN pec_status      text CHECK (pec_status IN ('accettazione', 'avvenuta-consegna', 'mancata-consegna')),
        ADD COLUMN pec_delivered_at timestamptz,
        ADD COLUMN resent_by       text,
        ADD COLUMN updated_at      timestamptz NOT NULL DEFAULT now()`);
    await q.query(`CREATE INDEX outbox_batch_idx ON outbox (instance_id, event_seq)`);
    await q.query(
      `CREATE UNIQUE INDEX outbox_message_id_uq ON outbox (message_id) WHERE message_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX outbox_dead_idx ON outbox (tenant, updated_at) WHERE status = 'dead'`,
    );
    await q.query(`DROP INDEX IF EXISTS outbox_pending_idx`);
    await q.query(
      `CREATE INDEX outbox_pending_idx ON outbox (created_at) WHERE status IN ('pending', 'sending')`,
    );

    // informal notices go to a personal e-mail per role when the ente gives one (else to its PEC)
    await q.query(`ALTER TABLE ente ADD COLUMN contacts jsonb NOT NULL DEFAULT '{}'`);
    // GET /v1/entes/:code/calendar.ics?token=… : an unguessable token per ente, rotatable
    await q.query(`ALTER TABLE ente ADD COLUMN calendar_token text`);
    await q.query(
      `CREATE UNIQUE INDEX ente_calendar_token_uq ON ente (calendar_token) WHERE calendar_token IS NOT NULL`,
    );

    await q.query(`
      CREATE TABLE webhook_subscription (
        id                    uuid PRIMARY KEY,
        unione                text NOT NULL,
        url                   text NOT NULL,
        description           text,
        secret                text NOT NULL,
        previous_secret       text,
        previous_valid_until  timestamptz,
        created_by            text NOT NULL,
        created_at            timestamptz NOT NULL DEFAULT now(),
        rotated_at            timestamptz,
        deleted_at            timestamptz
      )`);
    await q.query(
      `CREATE INDEX webhook_subscription_unione_idx ON webhook_subscription (unione) WHERE deleted_at IS NULL`,
    );

    await q.query(`
      CREATE TABLE pec_receipt (
        id                 uuid PRIMARY KEY,
        receipt_key        text NOT NULL UNIQUE,
        kind               text,
        msgid              text,
        outbox_id          uuid REFERENCES outbox(id),
        instance_id        uuid,
        ente               text,
        event_time         timestamptz,
        status             text NOT NULL CHECK (status IN ('received', 'matched', 'applied', 'rejected')),
        reason             text,
        event_seq          integer,
        daticert           text,
        raw                bytea NOT NULL,
        received_at        timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX pec_receipt_outbox_idx ON pec_receipt (outbox_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE pec_receipt`);
    await q.query(`DROP TABLE webhook_subscription`);
    await q.query(`ALTER TABLE ente DROP COLUMN calendar_token, DROP COLUMN contacts`);
    await q.query(`DROP INDEX outbox_dead_idx`);
    await q.query(`DROP INDEX outbox_message_id_uq`);
    await q.query(`DROP INDEX outbox_batch_idx`);
    await q.query(`ALTER TABLE outbox DROP CONSTRAINT outbox_status_check`);
    await q.query(`ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check`);
    await q.query(`
      ALTER TABLE outbox DROP COLUMN next_attempt_at, DROP COLUMN lease_until, DROP COLUMN message_id,
        DROP COLUMN subscription_id, DROP COLUMN pec_status, DROP COLUMN pec_delivered_at, DROP COLUMN resent_by,
        DROP COLUMN updated_at`);
    await q.query(
      `ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('inbox', 'email', 'webhook'))`,
    );
    await q.query(
      `ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'delivered', 'failed'))`,
    );
  }
}
