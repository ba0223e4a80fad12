import type { WorkerOptions } from 'bullmq';
import { loadConfig, type IterConfig } from '@app/common';

/**
 * BullMQ worker settings of every processor, from one place (WORKER_CONCURRENCY, WORKER_LOCK_MS,
 * WORKER_STALLED_CHECK_MS). A short lock and stalled check let BullMQ hand a killed worker's jobs to
 * another one within seconds; a job run twice is a no-op (its Postgres row decides).
 *
 * Processor decorators are evaluated at import time, before Nest starts: the settings are read from the
 * environment with the same validation as loadConfig (which stops the process at start-up on a bad
 * value; here a bad value falls back to the defaults so that the import itself never throws).
 */
export function workerOptions(
  overrides: Partial<WorkerOptions> = {},
  config: Pick<
    IterConfig,
    'workerConcurrency' | 'workerLockMs' | 'workerStalledCheckMs'
  > = envConfig(),
): Partial<WorkerOptions> {
  return {
    concurrency: config.workerConcurrency,
    lockDuration: config.workerLockMs,
    stalledInterval: config.workerStalledCheckMs,
    ...overrides,
  };
}

function envConfig(): Pick<
  IterConfig,
  'workerConcurrency' | 'workerLockMs' | 'workerStalledCheckMs'
> {
  try {
    return loadConfig(process.env);
  } catch {
    return loadConfig({});
  }
}
