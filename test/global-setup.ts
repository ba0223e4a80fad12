import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import Module from 'node:module';
import { join } from 'node:path';

// globalSetup runs outside jest's module registry, so moduleNameMapper does not apply: map @app/* here
const resolver = Module as unknown as {
  _resolveFilename: (req: string, ...rest: unknown[]) => string;
};
const original = resolver._resolveFilename;
resolver._resolveFilename = (req: string, ...rest: unknown[]) =>
  original(
    /^@app\/[a-z]+$/.test(req) ? join(__dirname, '..', 'libs', req.slice(5), 'src') : req,
    ...rest,
  );

const { createDataSource, runMigrations, seedUnioni } =
  // eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/consistent-type-imports
  require('../libs/persistence/src') as typeof import('../libs/persistence/src');

/**
 * One fresh PostgreSQL database per test run (created here, dropped in global-teardown) with the
 * migrations applied once, the §6 unions seeded, and a Redis key prefix of its own, so concurrent runs
 * (a developer and CI on one machine) never collide. Postgres/Redis are the real local servers.
 */
export default async function globalSetup(): Promise<void> {
  const admin =
    process.env['TEST_DATABASE_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbName = `iter_test_${suffix}`;
  const client = new Client({ connectionString: admin });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `Tests need PostgreSQL at ${admin} (${(err as Error).message}). Start it or set TEST_DATABASE_ADMIN_URL.`,
    );
  }
  await client.query(`CREATE DATABASE ${dbName}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${dbName}`;
  const ds = createDataSource({ url: url.toString(), poolSize: 2 });
  await ds.initialize();
  await runMigrations(ds);
  await seedUnioni(ds);
  await ds.destroy();
  // a migrated, seeded template nobody connects to: test files that run a reconciler (which scans every
  // armed timer in its database) clone it into a database of their own, see startHarness({ isolatedDb })
  const admin2 = new Client({ connectionString: admin });
  await admin2.connect();
  await admin2.query(`CREATE DATABASE ${dbName}_tpl TEMPLATE ${dbName}`);
  await admin2.end();
  process.env['ITER_TEST_DATABASE_URL'] = url.toString();
  process.env['ITER_TEST_DATABASE_NAME'] = dbName;
  process.env['ITER_TEST_REDIS_PREFIX'] = `iter-test-${suffix}`;
}
