import { DataSource, type DataSourceOptions } from 'typeorm';
import { InitialSchema1764000000000 } from './migrations/1764000000000-InitialSchema';
import { ActRegistry1764100000000 } from './migrations/1764100000000-ActRegistry';
import { StatusInForce1765100000000 } from './migrations/1765100000000-StatusInForce';
import { ProcessEffects1765300000000 } from './migrations/1765300000000-ProcessEffects';

export const MIGRATIONS = [
  InitialSchema1764000000000,
  ActRegistry1764100000000,
  StatusInForce1765100000000,
  ProcessEffects1765300000000,
];

export interface DatabaseConfig {
  url: string;
  poolSize: number;
}

/**
 * TypeORM options: migrations only, never `synchronize`, and no entities. The schema has one source, the migrations
 * (CHECKs, partial unique indexes, the fire-once index on timers...); the code reads and writes it with SQL through
 * TypeORM's DataSource/QueryRunner. Entity classes were never used and had drifted from the migrations (a schema
 * diff proposed dropping indexes and CHECKs), so there are none; data-source.int-spec.ts keeps it that way.
 */
export function dataSourceOptions(db: DatabaseConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: db.url,
    entities: [],
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'all',
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
    extra: { max: db.poolSize, application_name: 'iter' },
  };
}

/** Arbitrary constant: serialises concurrent `migrate` runs (api and worker start together). */
const MIGRATION_LOCK = 7_317_001;

/** Apply pending migrations under an advisory lock; returns the names applied. */
export async function runMigrations(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await ds.runMigrations({ transaction: 'all' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

export function createDataSource(db: DatabaseConfig): DataSource {
  return new DataSource(dataSourceOptions(db));
}
