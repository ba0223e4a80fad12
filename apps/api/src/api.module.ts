import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { JwtVerifier } from '@app/auth';
import type { Clock, IterConfig } from '@app/common';
import {
  DeliveryService,
  loadNotificationConfig,
  NOTIFICATION_CONFIG,
  type NotificationConfig,
} from '@app/notifications';
import { iterConfigModule, RuntimeModule } from '@app/runtime';
import type { Logger as PinoLogger } from 'pino';
import { QueueName } from '@app/scheduling';
import { DataSource } from 'typeorm';
import { adminOnly } from './admin/admin-only';
import { AuthController } from './auth/auth.controller';
import { JwtAuthGuard } from './auth/auth.guard';
import { loadSessionSettings, SessionService } from './auth/session';
import { DefinitionsController } from './definitions/definitions.controller';
import { EntesController } from './entes/entes.controller';
import { HealthController } from './health/health.controller';
import { DomainErrorFilter } from './http/domain-error.filter';
import { UndeclaredInputInterceptor } from './http/undeclared-input';
import { CalendarController } from './notifications/calendar.controller';
import { NotificationsController } from './notifications/notifications.controller';
import { WebhooksController } from './notifications/webhooks.controller';
import { ProcessesController } from './processes/processes.controller';
import { TodoController } from './todo/todo.controller';

@Module({})
export class ApiModule {
  static forRoot(
    config: IterConfig,
    clock?: Clock,
    notifications: NotificationConfig = loadNotificationConfig(),
    logger?: PinoLogger,
  ): DynamicModule {
    const verifier = new JwtVerifier({
      secret: config.jwtSecret,
      jwksUrl: config.jwtJwksUrl,
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
      maxLifetimeSec: config.jwtMaxLifetimeSec,
      clockSkewSec: config.jwtClockSkewSec,
    });
    const sessions = new SessionService(loadSessionSettings(config));
    return {
      module: ApiModule,
      imports: [
        // the environment validated as a whole at start-up (the session settings are the api's own)
        iterConfigModule([(env) => loadSessionSettings(config, env)]),
        RuntimeModule.forRoot({ config, clock, logger }),
        TerminusModule,
        // the rate limit is an Express middleware (http/edge.ts): it counts every route, /docs included
        // the queue dashboard (bull-board), admins only; outside the OpenAPI document (docs/metrics.md)
        BullBoardModule.forRoot({
          route: '/admin/queues',
          adapter: ExpressAdapter,
          middleware: adminOnly(verifier, sessions),
          boardOptions: { uiConfig: { boardTitle: 'Iter: code' } },
        }),
        BullBoardModule.forFeature(
          { name: QueueName.Timers, adapter: BullMQAdapter },
          { name: QueueName.Notifications, adapter: BullMQAdapter },
          { name: QueueName.ProcessEffects, adapter: BullMQAdapter },
        ),
      ],
      controllers: [
        ProcessesController,
        DefinitionsController,
        EntesController,
        NotificationsController,
        WebhooksController,
        CalendarController,
        HealthController,
        AuthController,
        TodoController,
      ],
      providers: [
        { provide: JwtVerifier, useValue: verifier },
        { provide: NOTIFICATION_CONFIG, useValue: notifications },
        {
          // the api sends nothing: it only re-queues (resend); the worker delivers
          provide: DeliveryService,
          inject: [DataSource],
          useFactory: (ds: DataSource) =>
            new DeliveryService(ds, notifications, { pec: null, email: null }),
        },
        { provide: SessionService, useValue: sessions },
        { provide: APP_FILTER, useClass: DomainErrorFilter },
        { provide: APP_GUARD, useClass: JwtAuthGuard },
        { provide: APP_INTERCEPTOR, useClass: UndeclaredInputInterceptor },
      ],
    };
  }
}
