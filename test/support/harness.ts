import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { Client } from 'pg';
import type { Logger as PinoLogger } from 'pino';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { mintDevToken } from '@app/auth';
import { loadConfig, OffsetClock, type IterConfig, type Role } from '@app/common';
import { Engine } from '@app/engine';
import { QueueName, Reconciler } from '@app/scheduling';
import { createApiApp } from '../../apps/api/src/bootstrap';
import { WorkerModule } from '../../apps/worker/src/worker.module';

export interface Harness {
  config: IterConfig;
  clock: OffsetClock;
  app: INestApplication;
  worker: INestApplicationContext | null;
  ds: DataSource;
  engine: Engine;
  timersQueue: Queue;
  http: () => ReturnType<typeof request>;
  token: (p: {
    roles: Role[];
    ente?: string | null;
    unione?: string | null;
    sub?: string;
  }) => Promise<string>;
  reconcile: () => Promise<void>;
  close: () => Promise<void>;
}

/**
 * The test machine is shared and often loaded far beyond its 2 cores: tests that are not about timeouts run with
 * timeouts no healthy run reaches (so a slow moment is not a failure), the fault tests set the short ones they
 * exercise. Production runs with the defaults of libs/common/src/config.ts.
 */
export const GENEROUS_DATABASE_TIMEOUTS = {
  DATABASE_CONNECT_TIMEOUT_MS: '30000',
  DATABASE_STATEMENT_TIMEOUT_MS: '120000',
  DATABASE_LOCK_TIMEOUT_MS: '60000',
  DATABASE_IDLE_TX_TIMEOUT_MS: '120000',
} as const;

/** Test configuration: this run's database, a Redis prefix of this test file's own. */
export function testConfig(extra: Record<string, string> = {}): IterConfig {
  const db = process.env['ITER_TEST_DATABASE_URL'];
  if (!db)
    throw new Error('ITER_TEST_DATABASE_URL unset: run the tests through jest (globalSetup)');
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db,
    DATABASE_POOL_SIZE: '10',
    REDIS_URL: process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `${process.env['ITER_TEST_REDIS_PREFIX']}-${randomBytes(3).toString('hex')}`,
    MIGRATIONS_RUN: 'false',
    RATE_LIMIT_PER_MINUTE: '1000000',
    RATE_LIMIT_WRITES_PER_MINUTE: '1000000',
    // the built-in development secret, asked for explicitly (it is never used unless enabled)
    JWT_DEV_SECRET: 'true',
    // checkpoints of this harness's own, never a developer's var/checkpoints
    CHECKPOINT_DIR: join(tmpdir(), `iter-test-checkpoints-${randomBytes(4).toString('hex')}`),
    CHECKPOINT_DEV_KEY: 'true',
    WORKER_HEALTH_PORT: '0',
    // quiet unless asked for (ITER_TEST_LOG=1); the logs test passes its own logger
    LOG_LEVEL: process.env['ITER_TEST_LOG'] ? 'debug' : 'silent',
    ...GENEROUS_DATABASE_TIMEOUTS,
    ...extra,
  });
}

/** Boots the real API (and optionally the real worker) against real Postgres and Redis. */
export async function startHarness(
  opts: { worker?: boolean; isolatedDb?: boolean; config?: IterConfig; logger?: PinoLogger } = {},
): Promise<Harness> {
  // a database per test file by default: reconcilers scan every armed timer, and deliberation numbers are unique
  // per ente across processes, so files sharing a database would see each other
  const isolated = opts.isolatedDb ?? true;
  const config =
    opts.config ?? testConfig(isolated ? { DATABASE_URL: await isolatedDatabase() } : {});
  const clock = new OffsetClock(0);
  const app = await createApiApp(config, {
    clock,
    logger: opts.logger ?? (process.env['ITER_TEST_LOG'] ? undefined : false),
  });
  await app.init();
  const worker = opts.worker
    ? await NestFactory.createApplicationContext(
        WorkerModule.forRoot(config, clock, { reconcile: false }),
        { logger: false },
      )
    : null;
  const ds = app.get(DataSource);
  const reconciler = app.get(Reconciler);
  return {
    config,
    clock,
    app,
    worker,
    ds,
    engine: app.get(Engine),
    timersQueue: app.get<Queue>(getQueueToken(QueueName.Timers)),
    http: () => request(app.getHttpServer()),
    token: (p) =>
      mintDevToken(config.jwtSecret!, {
        sub: p.sub ?? `${p.roles.join('+')}@${p.ente ?? 'none'}`,
        roles: p.roles,
        ente: p.ente ?? null,
        unione: p.unione ?? null,
      }),
    reconcile: async () => {
      await reconciler.run();
    },
    close: async () => {
      if (worker) await worker.close();
      await app.close();
    },
  };
}

/** A database of this test file's own, cloned from the run's migrated and seeded template. */
export async function isolatedDatabase(): Promise<string> {
  const base = new URL(process.env['ITER_TEST_DATABASE_URL']!);
  const template = `${process.env['ITER_TEST_DATABASE_NAME']}_tpl`;
  const name = `${process.env['ITER_TEST_DATABASE_NAME']}_${randomBytes(3).toString('hex')}`;
  const adminUrl = new URL(base.toString());
  adminUrl.pathname = '/postgres';
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  await admin.end();
  base.pathname = `/${name}`;
  return base.toString();
}

/** Poll until fn returns a truthy value (real workers take real time); fails after timeoutMs. */
export async function eventually<T>(
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 15000,
  stepMs = 50,
): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < timeoutMs) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(
    `condition not met within ${timeoutMs} ms${last instanceof Error ? `: ${last.message}` : ''}`,
  );
}
