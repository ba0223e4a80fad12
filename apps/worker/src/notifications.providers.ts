import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  DeliveryService,
  mailTransports,
  NOTIFICATION_CONFIG,
  type MailTransport,
  type NotificationConfig,
} from '@app/notifications';
import { IterMetrics } from '@app/runtime';

const TRANSPORTS = Symbol('MAIL_TRANSPORTS');
type Transports = { pec: MailTransport | null; email: MailTransport | null };

/** closes the pooled SMTP connections at shutdown */
@Injectable()
class TransportsCloser implements OnApplicationShutdown {
  constructor(@Inject(TRANSPORTS) private readonly t: Transports) {}
  onApplicationShutdown(): void {
    this.t.pec?.close();
    this.t.email?.close();
  }
}

export function notificationProviders(config: NotificationConfig): Provider[] {
  const log = new Logger('notifications');
  return [
    { provide: NOTIFICATION_CONFIG, useValue: config },
    { provide: TRANSPORTS, useFactory: () => mailTransports(config) },
    TransportsCloser,
    {
      provide: DeliveryService,
      inject: [DataSource, TRANSPORTS, IterMetrics],
      useFactory: (ds: DataSource, t: Transports, metrics: IterMetrics) => {
        const d = new DeliveryService(ds, config, t, {
          log: (m) => log.log(m),
          warn: (m) => log.warn(m),
        });
        d.observer = metrics.delivery;
        return d;
      },
    },
  ];
}
