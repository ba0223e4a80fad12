import {
  AdvancedConsoleLogger,
  DataSource,
  type DataSourceOptions,
  type QueryRunner,
} from 'typeorm';
import { Client as PgClient } from 'pg';
import { classifyInfraError } from '@app/common';
import { grantRuntime } from './db-roles';
import { baselineRegistry } from './ente-registry-audit';
import { InitialSchema1764000000000 } from './migrations/1764000000000-InitialSchema';
import { ActRegistry1764100000000 } from './migrations/1764100000000-ActRegistry';
import { StatusInForce1765100000000 } from './migrations/1765100000000-StatusInForce';
import { ProcessEffects1765300000000 } from './migrations/1765300000000-ProcessEffects';
import { AuditHardening1765000000001 } from './migrations/1765000000001-AuditHardening';
import { NotificationDelivery1765400000001 } from './migrations/1765400000001-NotificationDelivery';
import { CompactWrites1765500000000 } from './migrations/1765500000000-CompactWrites';
import { EventRequestId1765500000500 } from './migrations/1765500000500-EventRequestId';

export const MIGRATIONS = [
  InitialSchema1764000000000,
  ActRegistry1764100000000,
  AuditHardening1765000000001,
  StatusInForce1765100000000,
  ProcessEffects1765300000000,
  NotificationDelivery1765400000001,
  CompactWrites1765500000000,
  EventRequestId1765500000500,
];

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

/** the error node-postgres raises when `query_timeout` ran out (the server said nothing) */
export function isQueryReadTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'Query read timeout';
}

/**
 * A node-postgres client that closes its connection when a query hit the client-side read timeout.
 * node-postgres answers the caller with the timeout but leaves the query on the connection, still
 * waiting for the server: pooled again, that connection made every later user wait behind it (a frozen
 * backend: each request that drew it waited the whole timeout; a half-open connection: for ever). Closed,
 * pg-pool drops it (a released client that is not queryable is removed) and the next user gets a new one.
 */
export class ReadTimeoutSafeClient extends PgClient {
  override query(...args: unknown[]): never {
    const discard = (err: unknown) => {
      if (!isQueryReadTimeout(err)) return;
      const self = this as unknown as {
        _queryable: boolean;
        connection?: { stream?: { destroy(): void } };
      };
      // not queryable from now on, synchronously: the pool checks this flag when the caller releases the
      // client (before the socket's close event), so it is removed instead of being handed out again
      self._queryable = false;
      self.connection?.stream?.destroy();
    };
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      const callback = last as (err: unknown, ...rest: unknown[]) => void;
      args[args.length - 1] = (err: unknown, ...rest: unknown[]) => {
        discard(err);
        callback(err, ...rest);
      };
    }
    const out = (super.query as (...a: unknown[]) => unknown)(...args);
    if (out && typeof (out as Promise<unknown>).then === 'function') {
      return (out as Promise<unknown>).catch((err: unknown) => {
        discard(err);
        throw err;
      }) as never;
    }
    return out as never;
  }
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
    logger: new QuietOutageLogger(['error']),
    extra: {
      max: db.poolSize,
      Client: ReadTimeoutSafeClient,
      application_name: 'iter',
      ...(db.timeouts ? poolTimeoutOptions(db.timeouts) : {}),
    },
  };
}

/** Arbitrary constant: serialises concurrent `migrate` runs (api and worker start together). */
const MIGRATION_LOCK = 7_317_001;

/**
 * Apply pending migrations under an advisory lock; returns the names applied. Then, still under the lock:
 * the ente registry's audit chain gets its baseline (first adoption only), and with `runtimeRole` the
 * runtime role gets its grants (libs/persistence/src/db-roles.ts). Run as the owner role.
 */
export async function runMigrations(
  ds: DataSource,
  opts: { runtimeRole?: string | null } = {},
): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await ds.runMigrations({ transaction: 'all' });
    await baselineRegistry(ds);
    if (opts.runtimeRole) await grantRuntime(ds, opts.runtimeRole);
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

export function createDataSource(db: DatabaseConfig): DataSource {
  return new DataSource(dataSourceOptions(db));
}
