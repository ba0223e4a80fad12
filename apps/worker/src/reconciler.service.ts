import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { IterConfig } from '@app/common';
import { DependencyMonitor, ITER_CONFIG, IterMetrics } from '@app/runtime';
import { ClockGuard } from './health/clock-guard.service';
import { Reconciler } from '@app/scheduling';

/** Runs the reconciler at start and every RECONCILE_INTERVAL_MS (never two runs at once in one process). */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('reconciler');
  private handle: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly reconciler: Reconciler,
    @Inject(ITER_CONFIG) private readonly config: IterConfig,
    private readonly monitor: DependencyMonitor,
    private readonly clockGuard: ClockGuard,
    private readonly metrics: IterMetrics,
  ) {
    // Redis may come back empty (restarted without persistence): reconcile after every outage
    monitor.reconcileOnRecovery = 'always';
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.runOnce();
    this.handle = setInterval(() => void this.runOnce(), this.config.reconcileIntervalMs);
  }

  async runOnce(): Promise<void> {
    if (this.running) return;
    this.running = this.clockGuard
      .allowed()
      // a skewed clock would date the jobs it enqueues wrongly (BullMQ delays count from this clock): skip
      .then((ok) => (ok ? this.reconciler.run() : null))
      .then((r) => {
        if (!r) return;
        this.metrics.reconciled('interval', r);
        if (r.armedTimers || r.pendingNotifications) {
          this.log.log(
            `armed timers ${r.armedTimers} (promoted ${r.dueTimersPromoted}, leftovers removed ${r.leftoversRemoved}), pending notifications ${r.pendingNotifications}, ${r.ms} ms`,
          );
        }
      })
      .catch((err: unknown) => {
        this.metrics.reconciled('interval', null);
        // Postgres or Redis down: the monitor logs the outage once; the next run catches up
        if (!this.monitor.report(err)) this.log.error({ err }, 'reconciliation failed');
      })
      .finally(() => {
        this.running = null;
      });
    await this.running;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.handle) clearInterval(this.handle);
    await this.running;
  }
}
