import type { DataSource } from 'typeorm';
import type { Progress } from '../lib/progress';

const CLONE_SQL = (withEvents: boolean) => `
  WITH ins AS (
    INSERT INTO process_instance (id, definition_key, definition_version, tenant, business_key, title, status, state_value,
      snapshot, version, participants, pending_entes, next_deadline, last_seq, last_hash, created_by,
      created_at, updated_at)
    SELECT gen_random_uuid(), t.definition_key, t.definition_version, t.tenant, $2 || '-' || g, t.title, t.status,
      t.state_value, t.snapshot, t.version, t.participants, t.pending_entes, t.next_deadline, t.last_seq,
      t.last_hash, t.created_by, now(), now()
    FROM process_instance t, generate_series($3::int, $4::int) g WHERE t.id = $1
    RETURNING id)
  ${
    withEvents
      ? `INSERT INTO process_event (instance_id, seq, type, payload, actor_subject, actor_role, actor_ente, occurred_at,
           recorded_at, state_before, state_after, version_after, snapshot_after, snapshot_delta, snapshot_full,
           idempotency_key, request_hash, timer_id, prev_hash, hash, hash_version)
         SELECT ins.id, e.seq, e.type, e.payload, e.actor_subject, e.actor_role, e.actor_ente, e.occurred_at, e.recorded_at,
           e.state_before, e.state_after, e.version_after, e.snapshot_after, e.snapshot_delta, e.snapshot_full,
           e.idempotency_key, e.request_hash, e.timer_id, e.prev_hash, e.hash, e.hash_version
         FROM ins CROSS JOIN process_event e WHERE e.instance_id = $1
         RETURNING instance_id AS id`
      : 'SELECT id FROM ins'
  }`;

/**
 * n copies of a real instance's row by SQL (`generate_series`): same snapshot, armed timers and chain head, new id.
 * With events, the template's audit rows are copied too (so the copy looks like a real instance in every table
 * the transition path touches; the copied hash chains do not verify, since the hash covers the instance id).
 * Timer and outbox rows are not copied: a transition reads neither for another instance.
 */
export async function cloneInstances(
  ds: DataSource,
  templateId: string,
  n: number,
  prefix: string,
  withEvents: boolean,
  progress?: Progress,
): Promise<string[]> {
  const ids = new Set<string>();
  const chunk = 5_000;
  const stamp = Date.now();
  for (let from = 1; from <= n; from += chunk) {
    const to = Math.min(n, from + chunk - 1);
    const rows: { id: string }[] = await ds.query(CLONE_SQL(withEvents), [
      templateId,
      `${prefix}-${stamp}`,
      from,
      to,
    ]);
    for (const r of rows) ids.add(r.id);
    progress?.set(`fill: ${prefix}: ${to}/${n} instances copied`);
  }
  return [...ids];
}

export async function instanceCount(ds: DataSource): Promise<number> {
  const r: { n: string }[] = await ds.query(`SELECT count(*) AS n FROM process_instance`);
  return Number(r[0]!.n);
}

/** Add copies of the template until the table holds `target` instances (no-op when it already does). */
export async function fillTo(
  ds: DataSource,
  templateId: string,
  target: number,
  progress?: Progress,
): Promise<number> {
  const have = await instanceCount(ds);
  if (have >= target) return 0;
  await cloneInstances(ds, templateId, target - have, 'filler', true, progress);
  await ds.query(`ANALYZE process_instance`);
  await ds.query(`ANALYZE process_event`);
  return target - have;
}
