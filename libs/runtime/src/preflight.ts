import { Client } from 'pg';
import IORedis from 'ioredis';
import type { IterConfig } from '@app/common';
import {
  checkRuntimeRole,
  createDataSource,
  roleOf,
  runMigrations,
  setupDatabaseRoles,
} from '@app/persistence';

/** Whether the configuration separates the owner (migrations) from the runtime role (api, worker). */
export function twoRoles(config: IterConfig): boolean {
  return roleOf(config.databaseOwnerUrl).name !== roleOf(config.databaseUrl).name;
}

/**
 * Prepare the database for this configuration, idempotently: with DATABASE_ADMIN_URL (a superuser; the
 * local default) create the owner and runtime roles and the database, and hand every object to the owner;
 * then apply the migrations as the owner and grant the runtime role what it needs (db-roles.ts).
 */
export async function prepareDatabase(
  config: IterConfig,
  log: (msg: string) => void,
): Promise<string[]> {
  const separate = twoRoles(config);
  if (config.databaseAdminUrl && separate) {
    try {
      await setupDatabaseRoles(
        {
          adminUrl: config.databaseAdminUrl,
          ownerUrl: config.databaseOwnerUrl,
          runtimeUrl: config.databaseUrl,
        },
        log,
      );
    } catch (err) {
      throw new Error(
        `Impossibile preparare ruoli e database con DATABASE_ADMIN_URL ${redact(config.databaseAdminUrl)} ` +
          `(${(err as Error).message}).\n  Avviare PostgreSQL o impostare DATABASE_ADMIN_URL (un superuser), ` +
          `oppure creare i ruoli a mano (docs/security.md).`,
      );
    }
  } else {
    await ensureDatabase(config.databaseOwnerUrl, log);
  }
  const ds = createDataSource({ url: config.databaseOwnerUrl, poolSize: 2 });
  await ds.initialize();
  try {
    return await runMigrations(ds, {
      runtimeRole: separate ? roleOf(config.databaseUrl).name : null,
    });
  } finally {
    await ds.destroy();
  }
}

/**
 * Before Nest starts: (MIGRATIONS_RUN=true, the default, at start-up of api and worker) prepare roles and
 * schema; check that Postgres and Redis answer, and say clearly what to do when they do not. Last, the
 * runtime role is checked: one that could rewrite the audit log (superuser, owner of process_event, or
 * UPDATE/DELETE/TRUNCATE on it) is refused in production and reported elsewhere.
 */
export async function preflight(config: IterConfig, log: (msg: string) => void): Promise<void> {
  const unreachable = (err: unknown) =>
    new Error(
      `PostgreSQL non raggiungibile a ${redact(config.databaseUrl)} (${(err as Error).message}).\n` +
        `  Avviarlo (es. "docker compose up -d postgres" oppure "pg_ctlcluster <versione> main start"), ` +
        `creare il database (createdb -U postgres iter) o impostare DATABASE_URL.`,
    );
  if (config.migrationsRun) {
    let applied: string[];
    try {
      applied = await prepareDatabase(config, log);
    } catch (err) {
      throw /ECONNREFUSED|ENOTFOUND|timeout/i.test((err as Error).message) ? unreachable(err) : err;
    }
    log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'schema up to date');
  } else {
    await ensureDatabase(config.databaseUrl, log);
  }
  const pg = new Client({ connectionString: config.databaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await pg.connect();
    await pg.query('SELECT 1');
  } catch (err) {
    throw unreachable(err);
  } finally {
    await pg.end().catch(() => undefined);
  }
  const redis = new IORedis(config.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `Redis non raggiungibile a ${redact(config.redisUrl)} (${(err as Error).message}).\n` +
        `  Avviarlo (es. "docker compose up -d redis" oppure "redis-server --daemonize yes") o impostare REDIS_URL.`,
    );
  } finally {
    redis.disconnect();
  }
  const ds = createDataSource({ url: config.databaseUrl, poolSize: 1 });
  await ds.initialize();
  try {
    const role = await checkRuntimeRole(ds);
    if (role?.mayRewriteAuditLog) {
      const why = role.superuser
        ? 'superuser'
        : role.ownsAuditLog
          ? 'proprietario'
          : 'UPDATE/DELETE';
      const msg =
        `DATABASE_URL si collega come "${role.role}" (${why}), che può riscrivere il registro di audit: ` +
        `usare un ruolo runtime distinto dal proprietario (DATABASE_OWNER_URL), vedi docs/security.md`;
      if (config.nodeEnv === 'production') throw new Error(msg);
      log(`ATTENZIONE: ${msg}`);
    }
  } finally {
    await ds.destroy();
  }
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}

/** Create the database named in DATABASE_URL when the server answers but the database does not exist yet. */
export async function ensureDatabase(
  databaseUrl: string,
  log: (msg: string) => void,
): Promise<void> {
  const probe = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await probe.connect();
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') return; // not "database does not exist": reported below
  } finally {
    await probe.end().catch(() => undefined);
  }
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) return;
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    log(`database "${name}" created`);
  } catch {
    // no rights or a race with another process: the check below says what to do
  } finally {
    await admin.end().catch(() => undefined);
  }
}
