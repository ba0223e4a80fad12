import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import IORedis from 'ioredis';
import { Client } from 'pg';

/** The commit measured: `git rev-parse --short HEAD`, and whether the working tree differs from it. */
export function gitCommit(): { commit: string; dirty: boolean } {
  const run = (args: string[]): string | null => {
    try {
      return execFileSync('git', args, {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return null;
    }
  };
  const commit = run(['rev-parse', '--short', 'HEAD']) ?? 'unknown';
  const status = run(['status', '--porcelain', '--untracked-files=no']);
  return { commit, dirty: status !== null && status.length > 0 };
}

/**
 * The api's production settings for a bench run on its own database and Redis prefix: random secrets, migrations
 * left to the bench, rate limits out of the way, the clock unshifted.
 */
export function benchApiEnv(
  databaseUrl: string,
  redisUrl: string,
  redisPrefix: string,
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: '8',
    REDIS_URL: redisUrl,
    REDIS_PREFIX: redisPrefix,
    JWT_SECRET: randomBytes(32).toString('hex'),
    JWT_ISSUER: 'iter-bench',
    JWT_AUDIENCE: 'iter-api',
    // production mode: the console's session key is required like every other secret
    SESSION_SECRET: randomBytes(32).toString('hex'),
    MIGRATIONS_RUN: 'false',
    RATE_LIMIT_PER_MINUTE: '1000000',
    RATE_LIMIT_WRITES_PER_MINUTE: '1000000',
    ITER_CLOCK_OFFSET_MS: '0',
  };
}

/** postgres://…/<name> with the same server and credentials */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function adminQuery<T = unknown>(adminUrl: string, sql: string): Promise<T[]> {
  const c = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

export async function createDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad database name ${name}`);
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad database name ${name}`);
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

export interface PgInfo {
  version: string;
  synchronousCommit: string;
  sharedBuffers: string;
  maxConnections: string;
}

export async function postgresInfo(adminUrl: string): Promise<PgInfo> {
  const rows = await adminQuery<{ v: string; sc: string; sb: string; mc: string }>(
    adminUrl,
    `SELECT current_setting('server_version') v, current_setting('synchronous_commit') sc,
            current_setting('shared_buffers') sb, current_setting('max_connections') mc`,
  );
  const r = rows[0]!;
  return { version: r.v, synchronousCommit: r.sc, sharedBuffers: r.sb, maxConnections: r.mc };
}

/** Delete every key of this run's prefix (SCAN + UNLINK, never FLUSHALL: other runs may share the server). */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<number> {
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 3 });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
      cursor = next;
      if (keys.length) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export async function redisCommand<T>(
  redisUrl: string,
  fn: (r: IORedis) => Promise<T>,
): Promise<T> {
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 3 });
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

export interface RedisInfo {
  version: string;
  hz: number;
  usedMemory: number;
}

export async function redisInfo(redisUrl: string): Promise<RedisInfo> {
  return redisCommand(redisUrl, async (r) => {
    const hz = (await r.config('GET', 'hz')) as string[];
    const info = await r.info('server');
    const mem = await r.info('memory');
    return {
      version: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
      hz: Number(hz[1] ?? 'NaN'),
      usedMemory: Number(/used_memory:(\d+)/.exec(mem)?.[1] ?? 'NaN'),
    };
  });
}

export async function setRedisHz(redisUrl: string, hz: number): Promise<void> {
  await redisCommand(redisUrl, (r) => r.config('SET', 'hz', String(hz)));
}

export function machineInfo(): {
  cpus: number;
  cpuModel: string;
  memoryMb: number;
  node: string;
  platform: string;
  loadavg: number[];
} {
  const c = cpus();
  return {
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memoryMb: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Resident set size of another process from /proc (Linux); null elsewhere */
/**
 * CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat (Linux; clock ticks of 10 ms, the
 * usual USER_HZ of 100); null elsewhere.
 */
export function cpuMsOfPid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the fields after the command name (which may hold spaces): state is the 3rd, utime the 14th, stime the 15th
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}

export function rssOfPid(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}
