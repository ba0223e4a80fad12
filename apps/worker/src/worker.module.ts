import { Module, type DynamicModule } from '@nestjs/common';
import type { Clock, IterConfig } from '@app/common';
import { RuntimeModule } from '@app/runtime';
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
    opts: { reconcile?: boolean } = {},
  ): DynamicModule {
    return {
      module: WorkerModule,
      imports: [RuntimeModule.forRoot({ config, clock })],
      providers: [
        TimerProcessor,
        NotificationProcessor,
        ProcessEffectProcessor,
        ...(opts.reconcile === false ? [] : [ReconcilerService, ProcessEffectReconciler]),
      ],
    };
  }
}
