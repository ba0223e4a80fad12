import { Module, type DynamicModule } from '@nestjs/common';
import type { Clock, IterConfig } from '@app/common';
import { loadNotificationConfig, type NotificationConfig } from '@app/notifications';
import { RuntimeModule } from '@app/runtime';
import { ImapPollerService } from './imap-poller.service';
import { notificationProviders } from './notifications.providers';
import { NotificationProcessor } from './processors/notification.processor';
import { TimerProcessor } from './processors/timer.processor';
import { ReconcilerService } from './reconciler.service';

@Module({})
export class WorkerModule {
  static forRoot(
    config: IterConfig,
    clock?: Clock,
    opts: { reconcile?: boolean; notifications?: NotificationConfig } = {},
  ): DynamicModule {
    return {
      module: WorkerModule,
      imports: [RuntimeModule.forRoot({ config, clock })],
      providers: [
        TimerProcessor,
        NotificationProcessor,
        ...notificationProviders(opts.notifications ?? loadNotificationConfig()),
        ImapPollerService,
        ...(opts.reconcile === false ? [] : [ReconcilerService]),
      ],
    };
  }
}
