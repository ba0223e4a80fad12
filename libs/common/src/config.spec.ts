import { ConfigError, DEV_JWT_SECRET, loadConfig } from './config';

describe('loadConfig', () => {
  it('has working defaults for a development machine', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/iter',
      redisUrl: 'redis://127.0.0.1:6379',
      port: 3000,
      migrationsRun: true,
      jwtSecret: DEV_JWT_SECRET,
      reconcileIntervalMs: 60_000,
      trustProxy: false,
      databaseConnectTimeoutMs: 3000,
      databaseStatementTimeoutMs: 10_000,
      databaseLockTimeoutMs: 2000,
      databaseIdleInTransactionTimeoutMs: 10_000,
      enqueueTimeoutMs: 1000,
      maxClockSkewMs: 5000,
      workerHealthPort: 3001,
    });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ MIGRATIONS_RUN: 'maybe' }, 'MIGRATIONS_RUN'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ BODY_LIMIT: 'lots' }, 'BODY_LIMIT'],
    [{ REDIS_PREFIX: 'a:b' }, 'REDIS_PREFIX'],
    [{ DATABASE_LOCK_TIMEOUT_MS: '5' }, 'DATABASE_LOCK_TIMEOUT_MS'],
    [
      { DATABASE_LOCK_TIMEOUT_MS: '20000', DATABASE_STATEMENT_TIMEOUT_MS: '10000' },
      'DATABASE_LOCK_TIMEOUT_MS',
    ],
    [{ ENQUEUE_TIMEOUT_MS: 'soon' }, 'ENQUEUE_TIMEOUT_MS'],
    [{ MAX_CLOCK_SKEW_MS: '-1' }, 'MAX_CLOCK_SKEW_MS'],
    [{ WORKER_HEALTH_PORT: '70000' }, 'WORKER_HEALTH_PORT'],
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
