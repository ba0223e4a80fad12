import type { NotificationConfig } from './notification-config';
import { SmtpTransport, type MailTransport } from './mail-transport';

/** The mail transports a configuration asks for (null = channel off). */
export function mailTransports(cfg: NotificationConfig): {
  pec: MailTransport | null;
  email: MailTransport | null;
} {
  return {
    pec: cfg.pec ? new SmtpTransport(cfg.pec) : null,
    email: cfg.smtp ? new SmtpTransport(cfg.smtp) : null,
  };
}
