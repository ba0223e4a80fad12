import { ConfigError, DEV_JWT_SECRET, loadConfig } from './config';

describe('loadConfig', () => {
  it('has working defaults for a development machine', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      // two roles on the local server: the runtime role for api/worker, the owner for migrations
      databaseUrl: 'postgres://iter_app@127.0.0.1:5432/iter',
      databaseOwnerUrl: 'postgres://iter_owner@127.0.0.1:5432/iter',
      databaseAdminUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
      redisUrl: 'redis://127.0.0.1:6379',
      port: 3000,
      migrationsRun: true,
      jwtSecret: DEV_JWT_SECRET,
      reconcileIntervalMs: 60_000,
      trustProxy: false,
    });
  });

  it('keeps the single-role mode of a given DATABASE_URL unless DATABASE_OWNER_URL is set', () => {
    const url = 'postgres://someone@db.example:5432/iter';
    expect(loadConfig({ DATABASE_URL: url })).toMatchObject({
      databaseUrl: url,
      databaseOwnerUrl: url,
      databaseAdminUrl: null,
    });
    const owner = 'postgres://owner@db.example:5432/iter';
    expect(loadConfig({ DATABASE_URL: url, DATABASE_OWNER_URL: owner })).toMatchObject({
      databaseUrl: url,
      databaseOwnerUrl: owner,
    });
  });

  it.each([
    [{ DATABASE_OWNER_URL: 'mysql://x' }, 'DATABASE_OWNER_URL'],
    [{ CHECKPOINT_INTERVAL_MS: '-1' }, 'CHECKPOINT_INTERVAL_MS'],
    [{ CHECKPOINT_PRIVATE_KEY_FILE: '/nonexistent/key.pem' }, 'CHECKPOINT_PRIVATE_KEY_FILE'],
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ MIGRATIONS_RUN: 'maybe' }, 'MIGRATIONS_RUN'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ BODY_LIMIT: 'lots' }, 'BODY_LIMIT'],
    [{ REDIS_PREFIX: 'a:b' }, 'REDIS_PREFIX'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET or JWT_JWKS_URL'],
    [{ NODE_ENV: 'production', JWT_SECRET: DEV_JWT_SECRET }, 'development secret'],
    [
      { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), ITER_CLOCK_OFFSET_MS: '1000' },
      'ITER_CLOCK_OFFSET_MS',
    ],
  ])('refuses %j naming the variable', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  it('lists every problem at once', () => {
    try {
      loadConfig({ PORT: 'x', WORKER_CONCURRENCY: '0' });
      throw new Error('not refused');
    } catch (err) {
      expect((err as ConfigError).problems).toHaveLength(2);
    }
  });
});
