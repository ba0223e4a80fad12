import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { Global, Logger, Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { CLOCK, OffsetClock, type Clock, type IterConfig } from '@app/common';
import { Engine, ProcessEffectRunner, ProcessQueryService } from '@app/engine';
import { dataSourceOptions } from '@app/persistence';
import { BullJobScheduler, QueueName, Reconciler, redisConnection } from '@app/scheduling';
import { defaultRegistry, DefinitionRegistry } from '@app/workflows';
import { ITER_CONFIG } from './tokens';

export interface RuntimeOptions {
  config: IterConfig;
  /** tests inject a movable clock; production uses the system clock (offset 0) */
  clock?: Clock;
}

/**
 * Nest wiring shared by apps/api and apps/worker: Postgres (TypeORM DataSource), BullMQ queues on Redis,
 * the definitions registry, the engine and the read side. The libs below it stay framework-free.
 */
@Global()
@Module({})
export class RuntimeModule {
  static forRoot(opts: RuntimeOptions): DynamicModule {
    const { config } = opts;
    const clock = opts.clock ?? new OffsetClock(config.clockOffsetMs);
    const logger = new Logger('Engine');
    return {
      module: RuntimeModule,
      imports: [
        TypeOrmModule.forRoot({
          ...dataSourceOptions({ url: config.databaseUrl, poolSize: config.databasePoolSize }),
        }),
        BullModule.forRoot({
          connection: redisConnection(config.redisUrl),
          prefix: config.redisPrefix,
        }),
        BullModule.registerQueue(
          { name: QueueName.Timers },
          { name: QueueName.Notifications },
          { name: QueueName.ProcessEffects },
        ),
      ],
      providers: [
        { provide: ITER_CONFIG, useValue: config },
        { provide: CLOCK, useValue: clock },
        { provide: DefinitionRegistry, useFactory: defaultRegistry },
        {
          provide: BullJobScheduler,
          inject: [
            getQueueToken(QueueName.Timers),
            getQueueToken(QueueName.Notifications),
            CLOCK,
            getQueueToken(QueueName.ProcessEffects),
          ],
          useFactory: (t: Queue, n: Queue, c: Clock, e: Queue) => new BullJobScheduler(t, n, c, e),
        },
        {
          provide: Engine,
          inject: [DataSource, DefinitionRegistry, BullJobScheduler, CLOCK],
          useFactory: (
            ds: DataSource,
            reg: DefinitionRegistry,
            sched: BullJobScheduler,
            c: Clock,
          ) =>
            new Engine(ds, reg, sched, c, {
              warn: (m, meta) => logger.warn(`${m}: ${String(meta)}`),
            }),
        },
        {
          provide: ProcessEffectRunner,
          inject: [DataSource, Engine],
          useFactory: (ds: DataSource, engine: Engine) => new ProcessEffectRunner(ds, engine),
        },
        {
          provide: ProcessQueryService,
          inject: [DataSource, DefinitionRegistry, CLOCK],
          useFactory: (ds: DataSource, reg: DefinitionRegistry, c: Clock) =>
            new ProcessQueryService(ds, reg, c, { exportPageSize: config.historyExportPageSize }),
        },
        {
          provide: Reconciler,
          inject: [DataSource, BullJobScheduler, getQueueToken(QueueName.Timers), CLOCK],
          useFactory: (ds: DataSource, s: BullJobScheduler, q: Queue, c: Clock) =>
            new Reconciler(ds, s, q, c),
        },
      ],
      exports: [
        ITER_CONFIG,
        CLOCK,
        DefinitionRegistry,
        BullJobScheduler,
        Engine,
        ProcessEffectRunner,
        ProcessQueryService,
        Reconciler,
        BullModule,
        TypeOrmModule,
      ],
    };
  }
}
