import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15, "write less per step" (docs/architecture.md, docs/performance.md "write path"):
 * - process_event.snapshot_delta (text) + snapshot_full: from hash format 3 on, an event stores the snapshot
 *   after it as the canonical JSON text of either the whole snapshot (the first event, then every
 *   FULL_SNAPSHOT_EVERY events) or an RFC 6902 patch from the previous event's snapshot. snapshot_after stays
 *   for the events of formats 1 and 2 (untouched: adding nullable columns and dropping NOT NULL rewrite no row,
 *   so the append-only triggers do not fire) and is NULL on format 3 events;
 * - timer.held: the timers the instance holds (armed, or fired/late for the due date the state still wants),
 *   formerly mirrored as process_instance.armed_timers (4.4 KB of JSON rewritten at every step). The mirror is
 *   copied into the flag, then dropped: timers live in their table only.
 */
export class CompactWrites1765500000000 implements MigrationInterface {
  name = 'CompactWrites1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE process_event ALTER COLUMN snapshot_after DROP NOT NULL`);
    await q.query(`
      ALTER TABLE process_event
        ADD COLUMN snapshot_delta text,
        ADD COLUMN snapshot_full  boolean`);
    await q.query(
      `ALTER TABLE process_event DROP CONSTRAINT IF EXISTS process_event_hash_version_check`,
    );
    // the checks are NOT VALID: the old rows need no scan (they satisfy them anyway: formats 1 and 2 have
    // snapshot_after), every new row is checked
    await q.query(
      `ALTER TABLE process_event ADD CONSTRAINT process_event_hash_version_check
         CHECK (hash_version IN (1, 2, 3)) NOT VALID`,
    );
    await q.query(
      `ALTER TABLE process_event ADD CONSTRAINT process_event_snapshot_check
         CHECK (CASE WHEN hash_version = 3 THEN snapshot_after IS NULL AND snapshot_delta IS NOT NULL
                                                AND snapshot_full IS NOT NULL
                     ELSE snapshot_after IS NOT NULL AND snapshot_delta IS NULL END) NOT VALID`,
    );

    await q.query(`ALTER TABLE timer ADD COLUMN held boolean NOT NULL DEFAULT false`);
    await q.query(`
      UPDATE timer t SET held = true
        FROM process_instance p, jsonb_each(p.armed_timers) a
       WHERE t.instance_id = p.id AND t.id = (a.value->>'id')::uuid`);
    // one held timer per key (as the mirror had one entry per key); also the lock's lookup of an instance's timers
    await q.query(`CREATE UNIQUE INDEX timer_held_key_uq ON timer (instance_id, key) WHERE held`);
    await q.query(`ALTER TABLE process_instance DROP COLUMN armed_timers`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE process_instance ADD COLUMN armed_timers jsonb NOT NULL DEFAULT '{}'`,
    );
    await q.query(`
      UPDATE process_instance p SET armed_timers = h.armed
        FROM (SELECT instance_id, jsonb_object_agg(key, jsonb_build_object('id', id, 'kind', kind,
                'dueAt', to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                'status', CASE WHEN status = 'armed' THEN 'armed' ELSE 'fired' END)) AS armed
                FROM timer WHERE held GROUP BY instance_id) h
       WHERE h.instance_id = p.id`);
    await q.query(`DROP INDEX timer_held_key_uq`);
    await q.query(`ALTER TABLE timer DROP COLUMN held`);
    // format-3 events cannot go back to a schema without their columns
    await q.query(`ALTER TABLE process_event DROP CONSTRAINT process_event_snapshot_check`);
    await q.query(`ALTER TABLE process_event DROP CONSTRAINT process_event_hash_version_check`);
    await q.query(
      `ALTER TABLE process_event ADD CONSTRAINT process_event_hash_version_check CHECK (hash_version IN (1, 2)) NOT VALID`,
    );
    await q.query(
      `ALTER TABLE process_event DROP COLUMN snapshot_delta, DROP COLUMN snapshot_full`,
    );
    await q.query(`ALTER TABLE process_event ALTER COLUMN snapshot_after SET NOT NULL`);
  }
}
