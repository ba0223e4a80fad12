import { loadConfig } from '@app/common';
import { createDataSource } from '@app/persistence';
import { ensureDatabase } from '@app/runtime';
import type { DataSource } from 'typeorm';

/** Operator messages (English) go to stdout; errors and progress to stderr, so stdout stays pipeable. */
export const say = (s: string): void => void process.stdout.write(`${s}\n`);
export const warn = (s: string): void => void process.stderr.write(`${s}\n`);

/** A small pool on the runtime database (or the one given), closed when `fn` settles. */
export async function withDataSource<T>(
  fn: (ds: DataSource) => Promise<T>,
  url: string = loadConfig().databaseUrl,
  log: (m: string) => void = warn,
): Promise<T> {
  await ensureDatabase(url, log);
  const ds = createDataSource({ url, poolSize: 4 });
  await ds.initialize();
  try {
    return await fn(ds);
  } finally {
    await ds.destroy();
  }
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
