import type { DataSource } from 'typeorm';

/**
 * Edit the append-only audit log as an attacker with database access would: the table's trigger that refuses
 * UPDATE and DELETE is disabled for this one statement and enabled again, whatever the statement does.
 */
export async function tamperAuditLog(
  ds: DataSource,
  sql: string,
  params: unknown[] = [],
  table: 'process_event' | 'ente_event' = 'process_event',
): Promise<void> {
  const trigger = `${table}_no_update_delete`;
  await ds.query(`ALTER TABLE ${table} DISABLE TRIGGER ${trigger}`);
  try {
    await ds.query(sql, params);
  } finally {
    await ds.query(`ALTER TABLE ${table} ENABLE TRIGGER ${trigger}`);
  }
}
