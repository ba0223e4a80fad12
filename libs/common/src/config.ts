import { readFileSync } from 'node:fs';
import { plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MinLength,
  ValidateBy,
  validateSync,
} from 'class-validator';

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
  /** LOG_LEVEL: pino's level (default info) */
  logLevel: LogLevel;
  /** LOG_FORMAT: one JSON object per line (default in production) or readable lines (default elsewhere) */
  logFormat: 'json' | 'pretty';
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

/** Log levels (pino's); `silent` writes nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// ------------------------------------------------------------------------------------------------ the schema
// Every variable Iter reads, its default and its rule, in ONE class (class-validator). loadConfig() validates the
// environment against it (every problem at once), then derives IterConfig; ConfigModule.forRoot({ validate }) in
// the api and the worker runs the same function. Values stay strings here (as the environment gives them) so a
// refusal can quote what was given; only the numbers, booleans and sizes are quoted, never a URL or a secret.

const PG = ['postgres:', 'postgresql:'];

function EnvInt(min: number, max: number): PropertyDecorator {
  return ValidateBy({
    name: 'envInt',
    constraints: [min, max],
    validator: {
      validate: (v: unknown) => {
        const n = Number(v);
        return (
          typeof v === 'string' && v.trim() !== '' && Number.isInteger(n) && n >= min && n <= max
        );
      },
      defaultMessage: (a) =>
        `${a?.property}="${String(a?.value)}": must be an integer between ${min} and ${max}`,
    },
  });
}

const TRUE = ['true', '1', 'yes'];
const FALSE = ['false', '0', 'no'];

function EnvBool(): PropertyDecorator {
  return ValidateBy({
    name: 'envBool',
    validator: {
      validate: (v: unknown) => typeof v === 'string' && [...TRUE, ...FALSE].includes(v),
      defaultMessage: (a) => `${a?.property}="${String(a?.value)}": must be true or false`,
    },
  });
}

function EnvUrl(protocols: string[]): PropertyDecorator {
  return ValidateBy({
    name: 'envUrl',
    constraints: protocols,
    validator: {
      validate: (v: unknown) => {
        try {
          return typeof v === 'string' && protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      defaultMessage: (a) => {
        try {
          new URL(String(a?.value));
        } catch {
          return `${a?.property}: not a valid URL`;
        }
        return `${a?.property}: protocol must be one of ${protocols.join(', ')}`;
      },
    },
  });
}

function EnvSize(): PropertyDecorator {
  return Matches(/^\d+(b|kb|mb)$/i, {
    message: (a) => `${a.property}="${String(a.value)}": use e.g. 64kb or 2mb`,
  });
}

/**
 * The environment Iter reads (README "Configuration"). A property with a value is its default; an unset or empty
 * variable takes the default. Cross-variable rules (production, the JWT key, timeouts) are in loadConfig.
 */
export class IterEnvironment {
  @IsString() NODE_ENV = 'development';
  @IsOptional() @EnvUrl(PG) DATABASE_URL?: string;
  @IsOptional() @EnvUrl(PG) DATABASE_OWNER_URL?: string;
  @IsOptional() @EnvUrl(PG) DATABASE_ADMIN_URL?: string;
  @EnvInt(1, 200) DATABASE_POOL_SIZE = '8';
  @EnvUrl(['redis:', 'rediss:']) REDIS_URL = 'redis://127.0.0.1:6379';
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'REDIS_PREFIX: letters, digits, _ and - only' })
  REDIS_PREFIX = 'iter';
  @IsString() HOST = '127.0.0.1';
  @EnvInt(0, 65535) PORT = '3000';
  @IsOptional()
  @MinLength(32, { message: 'JWT_SECRET: must be at least 32 characters' })
  JWT_SECRET?: string;
  @IsOptional() @EnvUrl(['https:', 'http:']) JWT_JWKS_URL?: string;
  @IsOptional() @IsString() JWT_ISSUER?: string;
  @IsOptional() @IsString() JWT_AUDIENCE?: string;
  @EnvBool() JWT_DEV_SECRET = 'false';
  @EnvInt(60, 30 * 86_400) JWT_MAX_LIFETIME_S = '43200';
  @EnvInt(0, 300) JWT_CLOCK_SKEW_S = '30';
  @EnvBool() MIGRATIONS_RUN = 'true';
  @EnvInt(1_000, 86_400_000) RECONCILE_INTERVAL_MS = '60000';
  @EnvInt(1, 256) WORKER_CONCURRENCY = '8';
  @EnvInt(1_000, 600_000) WORKER_LOCK_MS = '10000';
  @EnvInt(1_000, 600_000) WORKER_STALLED_CHECK_MS = '5000';
  @IsString() CORS_ORIGINS = '';
  @EnvSize() BODY_LIMIT = '64kb';
  @EnvSize() BODY_LIMIT_TEXT = '4mb';
  @EnvInt(2, 1000) JSON_MAX_DEPTH = '32';
  @EnvInt(10, 1_000_000) JSON_MAX_KEYS = '2000';
  @EnvInt(1, 1_000_000) RATE_LIMIT_PER_MINUTE = '1200';
  @EnvInt(1, 1_000_000) RATE_LIMIT_WRITES_PER_MINUTE = '300';
  @EnvBool() DOCS_ENABLED = 'true';
  @EnvInt(1, 10_000) HISTORY_EXPORT_PAGE_SIZE = '500';
  @EnvInt(0, 10) TRUST_PROXY_HOPS = '0';
  @EnvInt(-10 * 365 * 86_400_000, 10 * 365 * 86_400_000) ITER_CLOCK_OFFSET_MS = '0';
  @IsString() CHECKPOINT_DIR = 'var/checkpoints';
  @EnvInt(0, 86_400_000) CHECKPOINT_INTERVAL_MS = '300000';
  @IsOptional() @IsString() CHECKPOINT_PRIVATE_KEY?: string;
  @IsOptional() @IsString() CHECKPOINT_PRIVATE_KEY_FILE?: string;
  @IsOptional() @IsString() CHECKPOINT_PUBLIC_KEY?: string;
  @IsOptional() @IsString() CHECKPOINT_PUBLIC_KEY_FILE?: string;
  @EnvBool() CHECKPOINT_DEV_KEY = 'false';
  @EnvInt(100, 600_000) DATABASE_CONNECT_TIMEOUT_MS = '3000';
  @EnvInt(100, 3_600_000) DATABASE_STATEMENT_TIMEOUT_MS = '10000';
  @EnvInt(10, 600_000) DATABASE_LOCK_TIMEOUT_MS = '2000';
  @EnvInt(100, 3_600_000) DATABASE_IDLE_TX_TIMEOUT_MS = '10000';
  @EnvInt(50, 60_000) ENQUEUE_TIMEOUT_MS = '1000';
  @EnvInt(100, 600_000) HEALTH_PROBE_INTERVAL_MS = '5000';
  @EnvInt(10, 86_400_000) MAX_CLOCK_SKEW_MS = '5000';
  @EnvInt(100, 86_400_000) CLOCK_CHECK_INTERVAL_MS = '30000';
  @EnvInt(0, 65535) WORKER_HEALTH_PORT = '3001';
  @IsOptional() @IsString() METRICS_TOKEN?: string;
  @IsOptional() @IsString() METRICS_TOKEN_FILE?: string;
  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL: one of ${LOG_LEVELS.join(', ')}` }) LOG_LEVEL = 'info';
  @IsOptional()
  @IsIn(['json', 'pretty'], { message: 'LOG_FORMAT: json or pretty' })
  LOG_FORMAT?: 'json' | 'pretty';
  /** read by apps/api console-static.ts when the console is served (default: dist/console) */
  @IsOptional() @IsString() ITER_CONSOLE_DIR?: string;
}

/** The schema's variables, each with what the environment gave (unset and empty: the class's default). */
export function validateEnvironment(env: NodeJS.ProcessEnv): {
  values: IterEnvironment;
  problems: string[];
} {
  const given: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') given[k] = v;
  const values = plainToInstance(IterEnvironment, given, { exposeDefaultValues: true });
  const problems = validateSync(values, { forbidUnknownValues: false }).flatMap((e) =>
    Object.values(e.constraints ?? {}),
  );
  return { values, problems };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): IterConfig {
  const { values: e, problems } = validateEnvironment(env);
  const int = (v: string): number => Number(v);
  const bool = (v: string): boolean => TRUE.includes(v);
  const nodeEnv = e.NODE_ENV;
  const production = nodeEnv === 'production';
  const jwtJwksUrl = e.JWT_JWKS_URL ?? null;
  let jwtSecret: string | null = e.JWT_SECRET ?? null;
  const jwtDevSecret = bool(e.JWT_DEV_SECRET);
  if (jwtDevSecret && production)
    problems.push('JWT_DEV_SECRET: the development secret is refused in production');
  if (!jwtSecret && !jwtJwksUrl) {
    if (production) problems.push('JWT_SECRET or JWT_JWKS_URL is required in production');
    // only when asked for: an API started without a key refuses to start (see keysProblem)
    else if (jwtDevSecret) jwtSecret = DEV_JWT_SECRET;
  }
  if (production && jwtSecret === DEV_JWT_SECRET)
    problems.push('JWT_SECRET: the development secret is refused in production');
  const clockOffsetMs = int(e.ITER_CLOCK_OFFSET_MS);
  if (clockOffsetMs !== 0 && production)
    problems.push('ITER_CLOCK_OFFSET_MS: must be 0 in production');
  // Two roles (docs/security.md): with no DATABASE_URL at all, the local defaults (trust auth) are the runtime
  // role iter_app, the owner iter_owner, and the superuser postgres to create them. A DATABASE_URL without
  // DATABASE_OWNER_URL is the single-role mode of earlier versions (migrations with the same connection).
  const localRoles = !e.DATABASE_URL;
  const databaseUrl = e.DATABASE_URL ?? 'postgres://iter_app@127.0.0.1:5432/iter';
  const databaseOwnerUrl =
    e.DATABASE_OWNER_URL ??
    (localRoles ? 'postgres://iter_owner@127.0.0.1:5432/iter' : databaseUrl);
  const databaseAdminUrl =
    e.DATABASE_ADMIN_URL ?? (localRoles ? 'postgres://postgres@127.0.0.1:5432/postgres' : null);
  const fileOrValue = (name: string, value?: string, file?: string): string | null => {
    if (value) return value;
    if (!file) return null;
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      problems.push(`${name}_FILE="${file}": ${(err as Error).message}`);
      return null;
    }
  };
  const checkpointDevKey = bool(e.CHECKPOINT_DEV_KEY);
  const metricsToken =
    fileOrValue('METRICS_TOKEN', e.METRICS_TOKEN, e.METRICS_TOKEN_FILE)?.trim() || null;
  if (metricsToken !== null && metricsToken.length < 16)
    problems.push('METRICS_TOKEN: must be at least 16 characters');
  if (checkpointDevKey && production)
    problems.push('CHECKPOINT_DEV_KEY: the development checkpoint key is refused in production');
  const cfg: IterConfig = {
    nodeEnv,
    databaseUrl,
    databaseOwnerUrl,
    databaseAdminUrl,
    databasePoolSize: int(e.DATABASE_POOL_SIZE),
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    host: e.HOST,
    port: int(e.PORT),
    jwtSecret,
    jwtJwksUrl,
    jwtIssuer: e.JWT_ISSUER ?? null,
    jwtAudience: e.JWT_AUDIENCE ?? null,
    jwtMaxLifetimeSec: int(e.JWT_MAX_LIFETIME_S),
    jwtClockSkewSec: int(e.JWT_CLOCK_SKEW_S),
    migrationsRun: bool(e.MIGRATIONS_RUN),
    reconcileIntervalMs: int(e.RECONCILE_INTERVAL_MS),
    workerConcurrency: int(e.WORKER_CONCURRENCY),
    workerLockMs: int(e.WORKER_LOCK_MS),
    workerStalledCheckMs: int(e.WORKER_STALLED_CHECK_MS),
    corsOrigins: e.CORS_ORIGINS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    bodyLimit: e.BODY_LIMIT,
    bodyLimitText: e.BODY_LIMIT_TEXT,
    jsonMaxDepth: int(e.JSON_MAX_DEPTH),
    jsonMaxKeys: int(e.JSON_MAX_KEYS),
    rateLimitPerMinute: int(e.RATE_LIMIT_PER_MINUTE),
    rateLimitWritesPerMinute: int(e.RATE_LIMIT_WRITES_PER_MINUTE),
    docsEnabled: bool(e.DOCS_ENABLED),
    historyExportPageSize: int(e.HISTORY_EXPORT_PAGE_SIZE),
    trustProxy: int(e.TRUST_PROXY_HOPS) || false,
    clockOffsetMs,
    checkpointDir: e.CHECKPOINT_DIR,
    checkpointIntervalMs: int(e.CHECKPOINT_INTERVAL_MS),
    checkpointPrivateKey: fileOrValue(
      'CHECKPOINT_PRIVATE_KEY',
      e.CHECKPOINT_PRIVATE_KEY,
      e.CHECKPOINT_PRIVATE_KEY_FILE,
    ),
    checkpointPublicKey: fileOrValue(
      'CHECKPOINT_PUBLIC_KEY',
      e.CHECKPOINT_PUBLIC_KEY,
      e.CHECKPOINT_PUBLIC_KEY_FILE,
    ),
    checkpointDevKey,
    databaseConnectTimeoutMs: int(e.DATABASE_CONNECT_TIMEOUT_MS),
    databaseStatementTimeoutMs: int(e.DATABASE_STATEMENT_TIMEOUT_MS),
    databaseLockTimeoutMs: int(e.DATABASE_LOCK_TIMEOUT_MS),
    databaseIdleInTransactionTimeoutMs: int(e.DATABASE_IDLE_TX_TIMEOUT_MS),
    enqueueTimeoutMs: int(e.ENQUEUE_TIMEOUT_MS),
    healthProbeIntervalMs: int(e.HEALTH_PROBE_INTERVAL_MS),
    maxClockSkewMs: int(e.MAX_CLOCK_SKEW_MS),
    clockCheckIntervalMs: int(e.CLOCK_CHECK_INTERVAL_MS),
    workerHealthPort: int(e.WORKER_HEALTH_PORT),
    logLevel: e.LOG_LEVEL as LogLevel,
    logFormat: e.LOG_FORMAT ?? (production ? 'json' : 'pretty'),
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
