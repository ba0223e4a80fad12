import type { WorkerOptions } from 'bullmq';
import type { IterConfig } from '@app/common';

type WorkerSettings = Pick<
  IterConfig,
  'workerConcurrency' | 'workerLockMs' | 'workerStalledCheckMs'
>;

let settings: WorkerSettings | null = null;

/** The worker process's settings (WorkerModule.forRoot, from the validated configuration). */
export function configureWorkers(config: WorkerSettings): void {
  settings = config;
}

function current(): WorkerSettings {
  if (!settings)
    throw new Error('worker settings read before configureWorkers(config) (WorkerModule.forRoot)');
  return settings;
}

/**
 * BullMQ worker settings of every processor, from one place (WORKER_CONCURRENCY, WORKER_LOCK_MS,
 * WORKER_STALLED_CHECK_MS). A short lock and stalled check let BullMQ hand a killed worker's jobs to
 * another one within seconds; a job run twice is a no-op (its Postgres row decides).
 *
 * Processor decorators are evaluated at import time, before the configuration is loaded: the settings are
 * getters, read when @nestjs/bullmq creates the processor's worker (it spreads these options at module init),
 * from the configuration WorkerModule.forRoot gave configureWorkers. Nothing reads the environment at import.
 */
export function workerOptions(overrides: Partial<WorkerOptions> = {}): Partial<WorkerOptions> {
  return {
    get concurrency() {
      return current().workerConcurrency;
    },
    get lockDuration() {
      return current().workerLockMs;
    },
    get stalledInterval() {
      return current().workerStalledCheckMs;
    },
    ...overrides,
  };
}
