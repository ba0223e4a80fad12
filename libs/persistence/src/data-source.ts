import {
  AdvancedConsoleLogger,
  DataSource,
  type DataSourceOptions,
  type QueryRunner,
} from 'typeorm';
import { classifyInfraError } from '@app/common';
import { EnteEntity } from './entities/ente.entity';
import { OutboxEntity } from './entities/outbox.entity';
import { ProcessEventEntity } from './entities/process-event.entity';
import { ProcessInstanceEntity } from './entities/process-instance.entity';
import { TimerEntity } from './entities/timer.entity';
import { InitialSchema1764000000000 } from './migrations/1764000000000-InitialSchema';
import { ActRegistry1764100000000 } from './migrations/1764100000000-ActRegistry';

export const ENTITIES = [
  EnteEntity,
  ProcessInstanceEntity,
  ProcessEventEntity,
  TimerEntity,
  OutboxEntity,
];
export const MIGRATIONS = [InitialSchema1764000000000, ActRegistry1764100000000];

export interface DatabaseConfig {
  url: string;
  poolSize: number;
  /** bounds for the api and the worker (migrations and tools run without them) */
  timeouts?: DatabaseTimeouts;
}

export interface DatabaseTimeouts {
  /** waiting for a pool connection, and for a new connection to be established */
  connectMs: number;
  /** server-side statement_timeout; the client stops waiting for a silent server a second later */
  statementMs: number;
  /** server-side lock_timeout: SELECT … FOR UPDATE on a busy process fails with 55P03 after this */
  lockMs: number;
  /** server-side idle_in_transaction_session_timeout: a frozen client's locks are freed after this */
  idleInTransactionMs: number;
}

/** node-postgres pool options for the timeouts (set per connection at start-up: no extra round trip) */
export function poolTimeoutOptions(t: DatabaseTimeouts): Record<string, number | boolean> {
  return {
    connectionTimeoutMillis: t.connectMs,
    statement_timeout: t.statementMs,
    lock_timeout: t.lockMs,
    idle_in_transaction_session_timeout: t.idleInTransactionMs,
    // a frozen server answers nothing, not even the statement_timeout error: the client bounds the wait
    query_timeout: t.statementMs + 1000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 5000,
  };
}

/**
 * TypeORM's console logger, minus the failures of an unavailable database and of a busy row lock: those
 * are expected during an outage and are reported once per outage by the api/worker health monitor (and
 * answered 503/409), not once per statement.
 */
export class QuietOutageLogger extends AdvancedConsoleLogger {
  override logQueryError(
    error: string,
    query: string,
    parameters?: unknown[],
    queryRunner?: QueryRunner,
  ): void {
    // typed string, but TypeORM passes the driver's Error object
    if (classifyInfraError(error)) return;
    super.logQueryError(error, query, parameters, queryRunner);
  }
}

/** TypeORM options: migrations only, never `synchronize`. */
export function dataSourceOptions(db: DatabaseConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: db.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'all',
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
    logger: new QuietOutageLogger(['error']),
    extra: {
      max: db.poolSize,
      application_name: 'iter',
      ...(db.timeouts ? poolTimeoutOptions(db.timeouts) : {}),
    },
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
