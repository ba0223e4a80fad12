import { Module, type DynamicModule } from '@nestjs/common';
import type { Clock, IterConfig } from '@app/common';
import { loadNotificationConfig, type NotificationConfig } from '@app/notifications';
import { iterConfigModule, RuntimeModule } from '@app/runtime';
import { configureWorkers } from '@app/scheduling';
import type { Logger as PinoLogger } from 'pino';
import { CheckpointService } from './checkpoint.service';
import { ClockGuard } from './health/clock-guard.service';
import { WorkerHealthServer } from './health/worker-health.server';
import { ImapPollerService } from './imap-poller.service';
import { notificationProviders } from './notifications.providers';
import { NotificationProcessor } from './processors/notification.processor';
import {
  ProcessEffectProcessor,
  ProcessEffectReconciler,
} from './processors/process-effect.processor';
import { TimerProcessor } from './processors/timer.processor';
import { ReconcilerService } from './reconciler.service';

@Module({})
export class WorkerModule {
  static forRoot(
    config: IterConfig,
    clock?: Clock,
    opts: { reconcile?: boolean; notifications?: NotificationConfig; logger?: PinoLogger } = {},
  ): DynamicModule {
    // the processors' BullMQ settings, read when their workers are created (workerOptions)
    configureWorkers(config);
    return {
      module: WorkerModule,
      imports: [iterConfigModule(), RuntimeModule.forRoot({ config, clock, logger: opts.logger })],
      providers: [
        ClockGuard,
        WorkerHealthServer,
        TimerProcessor,
        NotificationProcessor,
        ...notificationProviders(opts.notifications ?? loadNotificationConfig()),
        ImapPollerService,
        ProcessEffectProcessor,
        ...(opts.reconcile === false
          ? []
          : [ReconcilerService, ProcessEffectReconciler, CheckpointService]),
      ],
    };
  }
}
