import type { DataSource } from 'typeorm';
import type { Progress } from '../lib/progress';

/** columns a copy sets itself rather than taking from the template */
const OWN_INSTANCE_COLUMNS: Record<string, string> = {
  id: 'gen_random_uuid()',
  business_key: "$2 || '-' || g",
  created_at: 'now()',
  updated_at: 'now()',
};

/**
 * The copy statement, from the columns the tables have now (read from the catalog): the bench keeps working
 * while the schema changes (a column added or dropped by a migration is copied or not, like the others).
 */
async function cloneSql(ds: DataSource, withEvents: boolean): Promise<string> {
  const cols = async (table: string) => {
    const rows: { c: string }[] = await ds.query(
      `SELECT column_name AS c FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position`,
      [table],
    );
    return rows.map((r) => r.c);
  };
  const inst = await cols('process_instance');
  const ev = (await cols('process_event')).filter((c) => c !== 'instance_id');
  const values = inst.map((c) => OWN_INSTANCE_COLUMNS[c] ?? `t.${c}`);
  return `
  WITH ins AS (
    INSERT INTO process_instance (${inst.join(', ')})
    SELECT ${values.join(', ')}
    FROM process_instance t, generate_series($3::int, $4::int) g WHERE t.id = $1
    RETURNING id)
  ${
    withEvents
      ? `INSERT INTO process_event (instance_id, ${ev.join(', ')})
         SELECT ins.id, ${ev.map((c) => `e.${c}`).join(', ')}
         FROM ins CROSS JOIN process_event e WHERE e.instance_id = $1
         RETURNING instance_id AS id`
      : 'SELECT id FROM ins'
  }`;
}

/**
 * n copies of a real instance's row by SQL (`generate_series`): every column the same (snapshot, chain head…), new id.
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
  const sql = await cloneSql(ds, withEvents);
  const chunk = 5_000;
  const stamp = Date.now();
  for (let from = 1; from <= n; from += chunk) {
    const to = Math.min(n, from + chunk - 1);
    const rows: { id: string }[] = await ds.query(sql, [
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
