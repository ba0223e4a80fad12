import { randomBytes } from 'node:crypto';
import { loadConfig, type IterConfig } from '@app/common';
import { createDataSource, runMigrations, seedUnioni } from '@app/persistence';
import { benchApiEnv, createDatabase, deleteRedisPrefix, dropDatabase, withDatabase } from './env';

/**
 * The set-up of the bench's stand-alone scripts that run the api in their own process (http-cost, http-layer):
 * a database of their own (migrated, Unione Valdera seeded) and a Redis prefix of their own, the api's production
 * settings with rate limits out of the way; `run` gets the configuration and closes what it opens; the Redis
 * prefix and the database are removed after it, also when it fails.
 */
export async function withStandaloneApi(
  label: string,
  run: (config: IterConfig) => Promise<void>,
): Promise<void> {
  const adminUrl =
    process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const stamp = `${Date.now()}_${randomBytes(2).toString('hex')}`;
  const dbName = `iter_${label}_${stamp}`;
  const env = benchApiEnv(
    withDatabase(adminUrl, dbName),
    process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    `iter-${label}-${stamp}`,
  );
  // some settings (the console's session key) are read from process.env by the app itself
  Object.assign(process.env, env);
  const config = loadConfig(env);
  await createDatabase(adminUrl, dbName);
  try {
    const setup = createDataSource({ url: config.databaseUrl, poolSize: 2 });
    await setup.initialize();
    await runMigrations(setup);
    await seedUnioni(setup, ['valdera']);
    await setup.destroy();
    await run(config);
    await deleteRedisPrefix(config.redisUrl, config.redisPrefix);
  } finally {
    await dropDatabase(adminUrl, dbName);
  }
}
