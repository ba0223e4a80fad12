import { InjectQueue, OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { IterConfig } from '@app/common';
import { EffectNotReadyError, ProcessEffectRunner } from '@app/engine';
import { DependencyMonitor, ITER_CONFIG } from '@app/runtime';
import { JobName, QueueName, workerOptions, type RunProcessEffectJob } from '@app/scheduling';

/**
 * Thin: carries out one process effect (start another process, signal a linked one). The runner does it in
 * one transaction with the row marked done, so a job run twice, or a worker killed half-way, never does it
 * twice. An effect waiting for an earlier one of its process throws: BullMQ retries it with backoff.
 */
@Processor(QueueName.ProcessEffects, workerOptions({ concurrency: 4 }))
export class ProcessEffectProcessor extends WorkerHost {
  private readonly log = new Logger('process-effects');

  constructor(private readonly runner: ProcessEffectRunner) {
    super();
  }

  async process(job: Job<RunProcessEffectJob>): Promise<string> {
    if (job.name !== JobName.RunProcessEffect)
      throw new UnrecoverableError(`unknown job ${job.name}`);
    const outcome = await this.runner.run(job.data.effectId);
    if (outcome !== 'done') this.log.debug(`effect ${job.data.effectId}: ${outcome}`);
    return outcome;
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<RunProcessEffectJob> | undefined, err: Error): void {
    if (err instanceof EffectNotReadyError) return; // waits for an earlier effect: retried
    this.log.warn(`effect ${job?.data.effectId ?? '?'} failed: ${err.message}`);
  }

  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.log.warn(`worker: ${err.message}`);
  }
}

/** Re-enqueues pending process effects at start and every RECONCILE_INTERVAL_MS (Redis may have lost them). */
@Injectable()
export class ProcessEffectReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('process-effects');
  private handle: NodeJS.Timeout | null = null;

  constructor(
    private readonly runner: ProcessEffectRunner,
    @InjectQueue(QueueName.ProcessEffects) private readonly queue: Queue,
    @Inject(ITER_CONFIG) private readonly config: IterConfig,
    private readonly monitor: DependencyMonitor,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runOnce();
    this.handle = setInterval(() => void this.runOnce(), this.config.reconcileIntervalMs);
  }

  async runOnce(): Promise<number> {
    try {
      const ids = await this.runner.pending();
      if (ids.length) {
        await this.queue.addBulk(
          ids.map((id) => ({
            name: JobName.RunProcessEffect,
            data: { effectId: id } satisfies RunProcessEffectJob,
            opts: {
              jobId: id,
              removeOnComplete: true,
              removeOnFail: true,
              attempts: 10,
              backoff: { type: 'exponential', delay: 500 },
            },
          })),
        );
        this.log.log(`pending process effects re-enqueued: ${ids.length}`);
      }
      return ids.length;
    } catch (err) {
      // Postgres or Redis down: the monitor logs the outage once; the next run catches up
      if (!this.monitor.report(err))
        this.log.error({ err }, 'process effects reconciliation failed');
      return 0;
    }
  }

  onApplicationShutdown(): void {
    if (this.handle) clearInterval(this.handle);
  }
}
