import { NestFactory } from '@nestjs/core';
import { ConfigError, loadConfig } from '@app/common';
import { createRootLogger, preflight, usePinoLogger } from '@app/runtime';
import type { Logger as PinoLogger } from 'pino';
import { WorkerModule } from './worker.module';

let root: PinoLogger | undefined;

async function main(): Promise<void> {
  const config = loadConfig();
  root = createRootLogger(config);
  const log = root.child({ context: 'worker' });
  await preflight(config, (m) => log.info(m));
  const app = await NestFactory.createApplicationContext(
    WorkerModule.forRoot(config, undefined, { logger: root }),
    { bufferLogs: true },
  );
  usePinoLogger(app);
  app.enableShutdownHooks();
  log.info(
    `Iter worker started (queues prefix "${config.redisPrefix}", reconcile every ${config.reconcileIntervalMs} ms)`,
  );
}

main().catch((err: unknown) => {
  // a clear message and a non-zero exit, never a stack trace for a configuration problem
  console.error(err instanceof Error ? err.message : err);
  // anything else also with its stack, in the structured log
  if (root && !(err instanceof ConfigError)) root.fatal({ err }, 'Iter worker did not start');
  process.exit(1);
});
