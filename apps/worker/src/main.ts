import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@app/common';
import { preflight } from '@app/runtime';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  const log = new Logger('worker');
  const config = loadConfig();
  await preflight(config, (m) => log.log(m));
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    logger: ['log', 'warn', 'error'],
  });
  app.enableShutdownHooks();
  log.log(
    `Iter worker started (queues prefix "${config.redisPrefix}", reconcile every ${config.reconcileIntervalMs} ms)`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
