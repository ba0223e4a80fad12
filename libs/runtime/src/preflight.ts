import { Client } from 'pg';
import IORedis from 'ioredis';
import type { IterConfig } from '@app/common';
import { createDataSource, runMigrations } from '@app/persistence';

/**
 * Before Nest starts: check that Postgres and Redis answer, and say clearly what to do when they do not;
 * then apply pending migrations (MIGRATIONS_RUN=true, the default, at start-up of api and worker).
 */
export async function preflight(config: IterConfig, log: (msg: string) => void): Promise<void> {
  await ensureDatabase(config.databaseUrl, log);
  const pg = new Client({ connectionString: config.databaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await pg.connect();
    await pg.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL non raggiungibile a ${redact(config.databaseUrl)} (${(err as Error).message}).\n` +
        `  Avviarlo (es. "docker compose up -d postgres" oppure "pg_ctlcluster <versione> main start"), ` +
        `creare il database (createdb -U postgres iter) o impostare DATABASE_URL.`,
    );
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
  if (config.migrationsRun) {
    const ds = createDataSource({ url: config.databaseUrl, poolSize: 2 });
    await ds.initialize();
    try {
      const applied = await runMigrations(ds);
      log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'schema up to date');
    } finally {
      await ds.destroy();
    }
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
