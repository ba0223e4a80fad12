import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@app/common';
import { WorkerModule } from '../apps/worker/src/worker.module';
import { serveParent, type ChildMessage } from './lib/child';

/** One real worker (timers + notifications processors), without the periodic reconciler, driven by bench/run.ts. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await NestFactory.createApplicationContext(
    WorkerModule.forRoot(config, undefined, { reconcile: false }),
    {
      logger: ['error'],
    },
  );
  await app.init();
  serveParent(() => app.close());
  process.send?.({ type: 'ready' } satisfies ChildMessage);
}

main().catch((err: unknown) => {
  process.send?.({
    type: 'failed',
    message: err instanceof Error ? err.message : String(err),
  } satisfies ChildMessage);
  process.exit(1);
});
