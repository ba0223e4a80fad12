import { loadConfig } from '@app/common';
import { configureWorkers, workerOptions } from './worker-options';

describe('workerOptions', () => {
  it('reads the settings when the worker is created, not when the decorator runs', () => {
    const opts = workerOptions({ concurrency: 4 });
    configureWorkers(loadConfig({ WORKER_LOCK_MS: '20000', WORKER_STALLED_CHECK_MS: '7000' }));
    // @nestjs/bullmq spreads the options into the Worker's at module init
    expect({ ...opts }).toEqual({ concurrency: 4, lockDuration: 20_000, stalledInterval: 7000 });
    configureWorkers(loadConfig({ WORKER_CONCURRENCY: '3' }));
    expect({ ...workerOptions() }).toMatchObject({ concurrency: 3, lockDuration: 10_000 });
  });
});
