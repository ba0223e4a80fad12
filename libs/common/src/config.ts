import { readFileSync } from 'node:fs';

/**
 * Configuration from environment variables, validated at start-up: a bad value stops the process with a
 * message naming the variable. Documented in README.md ("Configuration").
 */
export interface IterConfig {
  nodeEnv: string;
  /** the RUNTIME role's connection (api, worker): no UPDATE/DELETE on the audit tables */
  databaseUrl: string;
  /** the OWNER role's connection: migrations, grants, seed */
  databaseOwnerUrl: string;
  /** a superuser connection used only to create the roles and the database (`npm start`, `iter migrate`) */
  databaseAdminUrl: string | null;
  databasePoolSize: number;
  redisUrl: string;
  redisPrefix: string;
  host: string;
  port: number;
  jwtSecret: string | null;
  jwtJwksUrl: string | null;
  jwtIssuer: string | null;
  jwtAudience: string | null;
  /** longest accepted token lifetime (exp - iat), seconds */
  jwtMaxLifetimeSec: number;
  /** tolerated clock difference with the token issuer (exp, nbf, iat in the future), seconds */
  jwtClockSkewSec: number;
  migrationsRun: boolean;
  reconcileIntervalMs: number;
  workerConcurrency: number;
  workerLockMs: number;
  workerStalledCheckMs: number;
  corsOrigins: string[];
  /** request body limit of every route but those that carry a text */
  bodyLimit: string;
  /** request body limit of the routes that carry a text (POST /v1/processes/:id/events: freeze, amendment) */
  bodyLimitText: string;
  /** JSON bodies: deepest nesting of objects/arrays, and most keys + array items, refused before parsing */
  jsonMaxDepth: number;
  jsonMaxKeys: number;
  /** requests per client per minute, counted across every route */
  rateLimitPerMinute: number;
  /** writes (POST, PUT, PATCH, DELETE) per client per minute, counted across every route */
  rateLimitWritesPerMinute: number;
  /** serve the OpenAPI document and Swagger UI at /docs and /docs-json */
  docsEnabled: boolean;
  /** history export: events read per query while the download streams */
  historyExportPageSize: number;
  /** Express "trust proxy": false, or the number of proxy hops in front of the API */
  trustProxy: number | false;
  clockOffsetMs: number;
  /** where signed checkpoints of the audit chains' heads are written and read */
  checkpointDir: string;
  /** how often the worker writes a checkpoint (0: never; `iter checkpoint` still does) */
  checkpointIntervalMs: number;
  /** Ed25519 private key (PKCS#8 PEM or base64 32-byte seed) */
  checkpointPrivateKey: string | null;
  /** CHECKPOINT_DEV_KEY=true: without a key, sign with the development key (public seed; refused in production) */
  checkpointDevKey: boolean;
  /** Ed25519 public key (SPKI PEM) to verify checkpoints where the private key is not configured */
  checkpointPublicKey: string | null;
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
  /**
   * bearer token for GET /metrics (api and worker); without it /metrics is open outside production (the api
   * binds 127.0.0.1 by default) and refused in production (docs/metrics.md)
   */
  metricsToken: string | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Configurazione non valida:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * Development-only HS256 secret, used only when JWT_DEV_SECRET=true (and neither JWT_SECRET nor JWT_JWKS_URL is
 * set); refused when NODE_ENV=production. Not a secret: it is public here.
 */
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
  const jwtDevSecret = bool('JWT_DEV_SECRET', false);
  if (jwtDevSecret && nodeEnv === 'production')
    problems.push('JWT_DEV_SECRET: the development secret is refused in production');
  if (!jwtSecret && !jwtJwksUrl) {
    if (nodeEnv === 'production')
      problems.push('JWT_SECRET or JWT_JWKS_URL is required in production');
    // only when asked for: an API started without a key refuses to start (see keysProblem)
    else if (jwtDevSecret) jwtSecret = DEV_JWT_SECRET;
  }
  if (nodeEnv === 'production' && jwtSecret === DEV_JWT_SECRET)
    problems.push('JWT_SECRET: the development secret is refused in production');
  const jwtIssuer = env['JWT_ISSUER'] || null;
  const jwtAudience = env['JWT_AUDIENCE'] || null;
  const clockOffsetMs = int(
    'ITER_CLOCK_OFFSET_MS',
    0,
    -10 * 365 * 86_400_000,
    10 * 365 * 86_400_000,
  );
  if (clockOffsetMs !== 0 && nodeEnv === 'production')
    problems.push('ITER_CLOCK_OFFSET_MS: must be 0 in production');
  const size = (name: string, def: string): string => {
    const v = str(name, def);
    if (!/^\d+(b|kb|mb)$/i.test(v)) problems.push(`${name}="${v}": use e.g. 64kb or 2mb`);
    return v;
  };
  const redisPrefix = str('REDIS_PREFIX', 'iter');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(redisPrefix))
    problems.push('REDIS_PREFIX: letters, digits, _ and - only');
  // Two roles (docs/security.md): with no DATABASE_URL at all, the local defaults (trust auth) are the runtime
  // role iter_app, the owner iter_owner, and the superuser postgres to create them. A DATABASE_URL without
  // DATABASE_OWNER_URL is the single-role mode of earlier versions (migrations with the same connection).
  const pgProtocols = ['postgres:', 'postgresql:'];
  const localRoles = !env['DATABASE_URL'];
  const databaseUrl = url('DATABASE_URL', 'postgres://iter_app@127.0.0.1:5432/iter', pgProtocols);
  const databaseOwnerUrl = url(
    'DATABASE_OWNER_URL',
    localRoles ? 'postgres://iter_owner@127.0.0.1:5432/iter' : databaseUrl,
    pgProtocols,
  );
  const databaseAdminUrl =
    env['DATABASE_ADMIN_URL'] || localRoles
      ? url('DATABASE_ADMIN_URL', 'postgres://postgres@127.0.0.1:5432/postgres', pgProtocols)
      : null;
  const fileOrValue = (name: string): string | null => {
    const v = env[name];
    if (v) return v;
    const file = env[`${name}_FILE`];
    if (!file) return null;
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      problems.push(`${name}_FILE="${file}": ${(err as Error).message}`);
      return null;
    }
  };
  const checkpointPrivateKey = fileOrValue('CHECKPOINT_PRIVATE_KEY');
  const checkpointPublicKey = fileOrValue('CHECKPOINT_PUBLIC_KEY');
  const checkpointDevKey = bool('CHECKPOINT_DEV_KEY', false);
  const metricsToken = fileOrValue('METRICS_TOKEN')?.trim() || null;
  if (metricsToken !== null && metricsToken.length < 16)
    problems.push('METRICS_TOKEN: must be at least 16 characters');
  if (checkpointDevKey && nodeEnv === 'production')
    problems.push('CHECKPOINT_DEV_KEY: the development checkpoint key is refused in production');
  const cfg: IterConfig = {
    nodeEnv,
    databaseUrl,
    databaseOwnerUrl,
    databaseAdminUrl,
    databasePoolSize: int('DATABASE_POOL_SIZE', 8, 1, 200),
    redisUrl: url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    redisPrefix,
    host: str('HOST', '127.0.0.1'),
    port: int('PORT', 3000, 0, 65535),
    jwtSecret,
    jwtJwksUrl,
    jwtIssuer,
    jwtAudience,
    jwtMaxLifetimeSec: int('JWT_MAX_LIFETIME_S', 43_200, 60, 30 * 86_400),
    jwtClockSkewSec: int('JWT_CLOCK_SKEW_S', 30, 0, 300),
    migrationsRun: bool('MIGRATIONS_RUN', true),
    reconcileIntervalMs: int('RECONCILE_INTERVAL_MS', 60_000, 1_000, 86_400_000),
    workerConcurrency: int('WORKER_CONCURRENCY', 8, 1, 256),
    workerLockMs: int('WORKER_LOCK_MS', 10_000, 1_000, 600_000),
    workerStalledCheckMs: int('WORKER_STALLED_CHECK_MS', 5_000, 1_000, 600_000),
    corsOrigins: str('CORS_ORIGINS', '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    bodyLimit: size('BODY_LIMIT', '64kb'),
    bodyLimitText: size('BODY_LIMIT_TEXT', '4mb'),
    jsonMaxDepth: int('JSON_MAX_DEPTH', 32, 2, 1000),
    jsonMaxKeys: int('JSON_MAX_KEYS', 2000, 10, 1_000_000),
    rateLimitPerMinute: int('RATE_LIMIT_PER_MINUTE', 1200, 1, 1_000_000),
    rateLimitWritesPerMinute: int('RATE_LIMIT_WRITES_PER_MINUTE', 300, 1, 1_000_000),
    docsEnabled: bool('DOCS_ENABLED', true),
    historyExportPageSize: int('HISTORY_EXPORT_PAGE_SIZE', 500, 1, 10_000),
    trustProxy: int('TRUST_PROXY_HOPS', 0, 0, 10) || false,
    clockOffsetMs,
    checkpointDir: str('CHECKPOINT_DIR', 'var/checkpoints'),
    checkpointIntervalMs: int('CHECKPOINT_INTERVAL_MS', 300_000, 0, 86_400_000),
    checkpointPrivateKey,
    checkpointPublicKey,
    checkpointDevKey,
    databaseConnectTimeoutMs: int('DATABASE_CONNECT_TIMEOUT_MS', 3_000, 100, 600_000),
    databaseStatementTimeoutMs: int('DATABASE_STATEMENT_TIMEOUT_MS', 10_000, 100, 3_600_000),
    databaseLockTimeoutMs: int('DATABASE_LOCK_TIMEOUT_MS', 2_000, 10, 600_000),
    databaseIdleInTransactionTimeoutMs: int('DATABASE_IDLE_TX_TIMEOUT_MS', 10_000, 100, 3_600_000),
    enqueueTimeoutMs: int('ENQUEUE_TIMEOUT_MS', 1_000, 50, 60_000),
    healthProbeIntervalMs: int('HEALTH_PROBE_INTERVAL_MS', 5_000, 100, 600_000),
    maxClockSkewMs: int('MAX_CLOCK_SKEW_MS', 5_000, 10, 86_400_000),
    clockCheckIntervalMs: int('CLOCK_CHECK_INTERVAL_MS', 30_000, 100, 86_400_000),
    workerHealthPort: int('WORKER_HEALTH_PORT', 3001, 0, 65535),
    metricsToken,
  };
  if (cfg.databaseLockTimeoutMs >= cfg.databaseStatementTimeoutMs)
    problems.push('DATABASE_LOCK_TIMEOUT_MS: must be shorter than DATABASE_STATEMENT_TIMEOUT_MS');
  if (problems.length) throw new ConfigError(problems);
  return cfg;
}

/**
 * What the API needs to verify tokens (the worker and the CLI do not): a shared secret, a JWKS, or the
 * development secret asked for; in production also the issuer and audience every token is checked against,
 * so that a token minted for another service of the same identity provider does not open Iter.
 */
export function keysProblem(config: IterConfig): string | null {
  if (!config.jwtSecret && !config.jwtJwksUrl)
    return 'JWT_SECRET or JWT_JWKS_URL is required (in development JWT_DEV_SECRET=true uses the built-in development secret)';
  if (config.nodeEnv === 'production' && (!config.jwtIssuer || !config.jwtAudience))
    return 'JWT_ISSUER and JWT_AUDIENCE are required in production: every token is checked against them';
  return null;
}
