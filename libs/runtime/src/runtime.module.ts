import { BullModule, ProcessorDecoratorService } from '@nestjs/bullmq';
import { Global, Logger, Module, type DynamicModule } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger as PinoLogger } from 'pino';
import { DataSource } from 'typeorm';
import {
  Availability,
  classifyInfraError,
  CLOCK,
  OffsetClock,
  type Clock,
  type IterConfig,
} from '@app/common';
import {
  checkpointConfigFrom,
  Engine,
  ObservedEngine,
  ProcessEffectRunner,
  ProcessQueryService,
} from '@app/engine';
import { dataSourceOptions } from '@app/persistence';
import {
  BullJobScheduler,
  QueueName,
  Reconciler,
  redisConnection,
  ResilientJobScheduler,
} from '@app/scheduling';
import { defaultRegistry, DefinitionRegistry } from '@app/workflows';
import {
  DEPENDENCIES,
  DependencyMonitor,
  ProducerQueues,
  type Dependencies,
} from './dependency-monitor';
import { createRootLogger, installJobContext, loggerModule, ROOT_LOGGER } from './logging';
import { IterMetrics } from './metrics';
import { MigrationsCheck } from './migrations-check';
import { ITER_CONFIG, PRODUCER_QUEUES } from './tokens';

const JOB_CONTEXT = Symbol('JOB_CONTEXT');

export interface RuntimeOptions {
  config: IterConfig;
  /** tests inject a movable clock; production uses the system clock (offset 0) */
  clock?: Clock;
  /** the process's pino logger (tests pass one writing where they read); default: createRootLogger(config) */
  logger?: PinoLogger;
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
    const healthLog = new Logger('health');
    const root = opts.logger ?? createRootLogger(config);
    return {
      module: RuntimeModule,
      imports: [
        loggerModule(root),
        TypeOrmModule.forRoot({
          ...dataSourceOptions({
            url: config.databaseUrl,
            poolSize: config.databasePoolSize,
            timeouts: {
              connectMs: config.databaseConnectTimeoutMs,
              statementMs: config.databaseStatementTimeoutMs,
              lockMs: config.databaseLockTimeoutMs,
              idleInTransactionMs: config.databaseIdleInTransactionTimeoutMs,
            },
          }),
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
        { provide: ROOT_LOGGER, useValue: root },
        {
          // built before any module's init, so before @nestjs/bullmq creates the processors' workers
          provide: JOB_CONTEXT,
          inject: [ModuleRef],
          useFactory: (ref: ModuleRef) =>
            installJobContext(ref.get(ProcessorDecoratorService, { strict: false }), root),
        },
        { provide: CLOCK, useValue: clock },
        { provide: DefinitionRegistry, useFactory: defaultRegistry },
        {
          // this process's Prometheus series (GET /metrics on the api and on the worker's health port)
          provide: IterMetrics,
          inject: [DefinitionRegistry, PRODUCER_QUEUES],
          useFactory: (reg: DefinitionRegistry, q: ProducerQueues) => {
            const m = new IterMetrics(reg);
            m.watchQueues([
              { name: QueueName.Timers, queue: q.timers },
              { name: QueueName.Notifications, queue: q.notifications },
              { name: QueueName.ProcessEffects, queue: q.processEffects },
            ]);
            return m;
          },
        },
        {
          provide: DEPENDENCIES,
          useFactory: (): Dependencies => ({
            postgres: new Availability('postgres', healthLog),
            redis: new Availability('redis', healthLog),
          }),
        },
        {
          provide: PRODUCER_QUEUES,
          inject: [DEPENDENCIES],
          useFactory: (deps: Dependencies) =>
            new ProducerQueues(config, (err) => {
              const infra = classifyInfraError(err);
              deps.redis.markDown(infra?.reason ?? err.message);
            }),
        },
        {
          provide: BullJobScheduler,
          inject: [PRODUCER_QUEUES, CLOCK],
          useFactory: (q: ProducerQueues, c: Clock) =>
            new BullJobScheduler(q.timers, q.notifications, c, q.processEffects),
        },
        {
          provide: ResilientJobScheduler,
          inject: [BullJobScheduler, DEPENDENCIES],
          useFactory: (s: BullJobScheduler, deps: Dependencies) =>
            new ResilientJobScheduler(s, deps.redis, config.enqueueTimeoutMs, {
              warn: (m) => logger.warn(m),
            }),
        },
        DependencyMonitor,
        MigrationsCheck,
        {
          provide: Engine,
          inject: [DataSource, DefinitionRegistry, ResilientJobScheduler, CLOCK, IterMetrics],
          useFactory: (
            ds: DataSource,
            reg: DefinitionRegistry,
            sched: ResilientJobScheduler,
            c: Clock,
            metrics: IterMetrics,
          ) =>
            new ObservedEngine(metrics, ds, reg, sched, c, {
              // the error itself (its stack), not String(err)
              warn: (m, meta) =>
                meta === undefined
                  ? logger.warn(m)
                  : logger.warn(meta instanceof Error ? { err: meta } : { meta }, m),
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
            new ProcessQueryService(ds, reg, c, {
              exportPageSize: config.historyExportPageSize,
              checkpoints: checkpointConfigFrom(config),
            }),
        },
        {
          provide: Reconciler,
          inject: [DataSource, PRODUCER_QUEUES, CLOCK],
          // its own connections (longer command timeout): a large pass never delays a request's enqueue
          useFactory: (ds: DataSource, q: ProducerQueues, c: Clock) =>
            new Reconciler(
              ds,
              new BullJobScheduler(q.bulkTimers, q.bulkNotifications, c),
              q.bulkTimers,
              c,
              undefined,
              q.bulkNotifications,
            ),
        },
      ],
      exports: [
        ITER_CONFIG,
        ROOT_LOGGER,
        CLOCK,
        IterMetrics,
        DefinitionRegistry,
        BullJobScheduler,
        ResilientJobScheduler,
        DependencyMonitor,
        DEPENDENCIES,
        PRODUCER_QUEUES,
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
