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
  /** where signed checkpoints of the audit chains' heads are written and read */
  checkpointDir: string;
  /** how often the worker writes a checkpoint (0: never; `iter checkpoint` still does) */
  checkpointIntervalMs: number;
  /** Ed25519 private key (PKCS#8 PEM or base64 32-byte seed); the development key when null in dev mode */
  checkpointPrivateKey: string | null;
  /** Ed25519 public key (SPKI PEM) to verify checkpoints where the private key is not configured */
  checkpointPublicKey: string | null;
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
  const cfg: IterConfig = {
    nodeEnv,
    databaseUrl,
    databaseOwnerUrl,
    databaseAdminUrl,
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
    checkpointDir: str('CHECKPOINT_DIR', 'var/checkpoints'),
    checkpointIntervalMs: int('CHECKPOINT_INTERVAL_MS', 300_000, 0, 86_400_000),
    checkpointPrivateKey,
    checkpointPublicKey,
  };
  if (problems.length) throw new ConfigError(problems);
  return cfg;
}
