import { ConfigError, DEV_JWT_SECRET, keysProblem, loadConfig } from './config';

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
      host: '127.0.0.1',
      jwtSecret: null,
      bodyLimit: '64kb',
      docsEnabled: true,
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

  it('uses the built-in development secret only when asked for, and never in production', () => {
    expect(loadConfig({}).jwtSecret).toBeNull();
    expect(keysProblem(loadConfig({}))).toMatch(/JWT_DEV_SECRET=true/);
    const dev = loadConfig({ JWT_DEV_SECRET: 'true' });
    expect(dev.jwtSecret).toBe(DEV_JWT_SECRET);
    expect(keysProblem(dev)).toBeNull();
    // a configured secret wins over the development one
    expect(loadConfig({ JWT_DEV_SECRET: 'true', JWT_SECRET: 'y'.repeat(40) }).jwtSecret).toBe(
      'y'.repeat(40),
    );
  });

  it('asks the api for an issuer and an audience in production', () => {
    const prod = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) };
    expect(keysProblem(loadConfig(prod))).toMatch(/JWT_ISSUER and JWT_AUDIENCE/);
    expect(keysProblem(loadConfig({ ...prod, JWT_ISSUER: 'https://idp' }))).toMatch(/JWT_AUDIENCE/);
    expect(
      keysProblem(loadConfig({ ...prod, JWT_ISSUER: 'https://idp', JWT_AUDIENCE: 'iter-api' })),
    ).toBeNull();
  });

  it.each([
    [{ DATABASE_OWNER_URL: 'mysql://x' }, 'DATABASE_OWNER_URL'],
    [{ CHECKPOINT_INTERVAL_MS: '-1' }, 'CHECKPOINT_INTERVAL_MS'],
    [{ NODE_ENV: 'production', CHECKPOINT_DEV_KEY: 'true' }, 'CHECKPOINT_DEV_KEY'],
    [{ CHECKPOINT_PRIVATE_KEY_FILE: '/nonexistent/key.pem' }, 'CHECKPOINT_PRIVATE_KEY_FILE'],
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ MIGRATIONS_RUN: 'maybe' }, 'MIGRATIONS_RUN'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ BODY_LIMIT: 'lots' }, 'BODY_LIMIT'],
    [{ BODY_LIMIT_TEXT: '3 mb' }, 'BODY_LIMIT_TEXT'],
    [{ JSON_MAX_DEPTH: '1' }, 'JSON_MAX_DEPTH'],
    [{ JSON_MAX_KEYS: 'many' }, 'JSON_MAX_KEYS'],
    [{ RATE_LIMIT_WRITES_PER_MINUTE: '0' }, 'RATE_LIMIT_WRITES_PER_MINUTE'],
    [{ DOCS_ENABLED: 'perhaps' }, 'DOCS_ENABLED'],
    [{ JWT_MAX_LIFETIME_S: '10' }, 'JWT_MAX_LIFETIME_S'],
    [
      { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), JWT_DEV_SECRET: 'true' },
      'JWT_DEV_SECRET',
    ],
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
    [{ NODE_ENV: 'production', JWT_DEV_SECRET: 'true' }, 'JWT_DEV_SECRET'],
    [
      { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), ITER_CLOCK_OFFSET_MS: '1000' },
      'ITER_CLOCK_OFFSET_MS',
    ],
  ])('refuses %j naming the variable', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  it('logs as JSON in production and readable lines elsewhere, at LOG_LEVEL', () => {
    expect(loadConfig({})).toMatchObject({ logLevel: 'info', logFormat: 'pretty' });
    const prod = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) };
    expect(loadConfig(prod)).toMatchObject({ logFormat: 'json' });
    expect(loadConfig({ LOG_FORMAT: 'json', LOG_LEVEL: 'debug' })).toMatchObject({
      logFormat: 'json',
      logLevel: 'debug',
    });
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow('LOG_LEVEL');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow('LOG_FORMAT');
  });

  it('never quotes a secret or a URL in its refusal', () => {
    try {
      loadConfig({ JWT_SECRET: 'short-secret', DATABASE_URL: 'mysql://user:pw@h/db', PORT: 'x' });
      throw new Error('not refused');
    } catch (err) {
      const m = (err as ConfigError).message;
      expect(m).toContain('PORT="x"');
      expect(m).not.toContain('short-secret');
      expect(m).not.toContain('pw@h');
    }
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
