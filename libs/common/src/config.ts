/**
 * Configuration from environment variables, validated at start-up: a bad value stops the process with a
 * message naming the variable. Documented in README.md ("Configuration").
 */
export interface IterConfig {
  nodeEnv: string;
  databaseUrl: string;
  databasePoolSize: number;
  redisUrl: string;
  redisPrefix: string;
  host: string;
  port: number;
  jwtSecret: string | null;
  jwtJwksUrl: string | null;
  jwtIssuer: string | null;
  jwtAudience: string | null;
  migrationsRun: boolean;
  reconcileIntervalMs: number;
  workerConcurrency: number;
  workerLockMs: number;
  workerStalledCheckMs: number;
  corsOrigins: string[];
  bodyLimit: string;
  rateLimitPerMinute: number;
  /** Express "trust proxy": false, or the number of proxy hops in front of the API */
  trustProxy: number | false;
  clockOffsetMs: number;
  /** Postgres: how long a request waits for a pool connection (and for the connection itself) */
  databaseConnectTimeoutMs: number;
  /** Postgres statement_timeout; the client gives up on a silent server a second after it */
  databaseStatementTimeoutMs: number;
  /** Postgres lock_timeout: a busy process answers 409 PROCESS_BUSY after this long */
  databaseLockTimeoutMs: number;
  /** Postgres idle_in_transaction_session_timeout: a frozen client's row locks are freed after this long */
  databaseIdleInTransactionTimeoutMs: number;
  /** bound on the post-commit enqueue: Redis down or frozen delays an answer by at most this much */
  enqueueTimeoutMs: number;
  /** how often Postgres and Redis are probed (every second while one is down) */
  healthProbeIntervalMs: number;
  /** the worker refuses to fire timers while its clock differs from Postgres's by more than this */
  maxClockSkewMs: number;
  /** how often the worker measures its clock against Postgres's */
  clockCheckIntervalMs: number;
  /** the worker's health endpoint (GET /health, /health/live, /health/ready); 0 = a free port */
  workerHealthPort: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Configurazione non valida:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Development-only HS256 secret; refused when NODE_ENV=production. Not a secret: it is public here. */
export const DEV_JWT_SECRET = 'iter-development-only-secret-do-not-use-in-production';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): IterConfig {
  const problems: string[] = [];
  const str = (name: string, def: string): string => {
    const v = env[name];
    return v === undefined || v === '' ? def : v;
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}="${raw}": must be an integer between ${min} and ${max}`);
      return def;
    }
    return n;
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    problems.push(`${name}="${raw}": must be true or false`);
    return def;
  };
  const url = (name: string, def: string, protocols: string[]): string => {
    const v = str(name, def);
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol))
        problems.push(`${name}: protocol must be one of ${protocols.join(', ')}`);
    } catch {
      problems.push(`${name}: not a valid URL`);
    }
    return v;
  };
  const nodeEnv = str('NODE_ENV', 'development');
  const jwtJwksUrl = env['JWT_JWKS_URL'] ? url('JWT_JWKS_URL', '', ['https:', 'http:']) : null;
  let jwtSecret: string | null = env['JWT_SECRET'] || null;
  if (jwtSecret !== null && jwtSecret.length < 32)
    problems.push('JWT_SECRET: must be at least 32 characters');
  if (!jwtSecret && !jwtJwksUrl) {
    if (nodeEnv === 'production')
      problems.push('JWT_SECRET or JWT_JWKS_URL is required in production');
    else jwtSecret = DEV_JWT_SECRET;
  }
  if (nodeEnv === 'production' && jwtSecret === DEV_JWT_SECRET)
    problems.push('JWT_SECRET: the development secret is refused in production');
  const clockOffsetMs = int(
    'ITER_CLOCK_OFFSET_MS',
    0,
    -10 * 365 * 86_400_000,
    10 * 365 * 86_400_000,
  );
  if (clockOffsetMs !== 0 && nodeEnv === 'production')
    problems.push('ITER_CLOCK_OFFSET_MS: must be 0 in production');
  const bodyLimit = str('BODY_LIMIT', '2mb');
  if (!/^\d+(b|kb|mb)$/i.test(bodyLimit))
    problems.push(`BODY_LIMIT="${bodyLimit}": use e.g. 512kb or 2mb`);
  const redisPrefix = str('REDIS_PREFIX', 'iter');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(redisPrefix))
    problems.push('REDIS_PREFIX: letters, digits, _ and - only');
  const cfg: IterConfig = {
    nodeEnv,
    databaseUrl: url('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/iter', [
      'postgres:',
      'postgresql:',
    ]),
    databasePoolSize: int('DATABASE_POOL_SIZE', 8, 1, 200),
    redisUrl: url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    redisPrefix,
    host: str('HOST', '0.0.0.0'),
    port: int('PORT', 3000, 0, 65535),
    jwtSecret,
    jwtJwksUrl,
    jwtIssuer: env['JWT_ISSUER'] || null,
    jwtAudience: env['JWT_AUDIENCE'] || null,
    migrationsRun: bool('MIGRATIONS_RUN', true),
    reconcileIntervalMs: int('RECONCILE_INTERVAL_MS', 60_000, 1_000, 86_400_000),
    workerConcurrency: int('WORKER_CONCURRENCY', 8, 1, 256),
    workerLockMs: int('WORKER_LOCK_MS', 10_000, 1_000, 600_000),
    workerStalledCheckMs: int('WORKER_STALLED_CHECK_MS', 5_000, 1_000, 600_000),
    corsOrigins: str('CORS_ORIGINS', '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    bodyLimit,
    rateLimitPerMinute: int('RATE_LIMIT_PER_MINUTE', 1200, 1, 1_000_000),
    trustProxy: int('TRUST_PROXY_HOPS', 0, 0, 10) || false,
    clockOffsetMs,
    databaseConnectTimeoutMs: int('DATABASE_CONNECT_TIMEOUT_MS', 3_000, 100, 600_000),
    databaseStatementTimeoutMs: int('DATABASE_STATEMENT_TIMEOUT_MS', 10_000, 100, 3_600_000),
    databaseLockTimeoutMs: int('DATABASE_LOCK_TIMEOUT_MS', 2_000, 10, 600_000),
    databaseIdleInTransactionTimeoutMs: int('DATABASE_IDLE_TX_TIMEOUT_MS', 10_000, 100, 3_600_000),
    enqueueTimeoutMs: int('ENQUEUE_TIMEOUT_MS', 1_000, 50, 60_000),
    healthProbeIntervalMs: int('HEALTH_PROBE_INTERVAL_MS', 5_000, 100, 600_000),
    maxClockSkewMs: int('MAX_CLOCK_SKEW_MS', 5_000, 10, 86_400_000),
    clockCheckIntervalMs: int('CLOCK_CHECK_INTERVAL_MS', 30_000, 100, 86_400_000),
    workerHealthPort: int('WORKER_HEALTH_PORT', 3001, 0, 65535),
  };
  if (cfg.databaseLockTimeoutMs >= cfg.databaseStatementTimeoutMs)
    problems.push('DATABASE_LOCK_TIMEOUT_MS: must be shorter than DATABASE_STATEMENT_TIMEOUT_MS');
  if (problems.length) throw new ConfigError(problems);
  return cfg;
}
