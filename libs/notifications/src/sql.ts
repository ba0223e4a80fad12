import type { DataSource } from 'typeorm';

/**
 * `UPDATE … RETURNING` through TypeORM's DataSource.query: the postgres driver answers `[rows, affected]` for
 * UPDATE and DELETE (and plain rows for SELECT/INSERT); this always gives the rows.
 */
export async function updateReturning<T>(
  ds: Pick<DataSource, 'query'>,
  sql: string,
  params: unknown[],
): Promise<T[]> {
  const res: unknown = await ds.query(sql, params);
  if (Array.isArray(res) && res.length === 2 && Array.isArray(res[0]) && typeof res[1] === 'number')
    return res[0] as T[];
  return res as T[];
}
