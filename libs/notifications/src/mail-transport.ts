import { createTransport, type Transporter } from 'nodemailer';
import type { SmtpAccount } from './notification-config';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** `<uuid@domain>`: the same for every attempt of one notification */
  messageId: string;
  headers?: Record<string, string>;
  attachments?: { filename: string; content: string; contentType: string }[];
}

export interface MailTransport {
  send(m: MailMessage): Promise<void>;
  close(): void;
}

/** An SMTP failure, with whether retrying can help (5xx replies are permanent). */
export class SendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** e-mail addresses never reach logs or error columns */
export const redact = (s: string): string =>
  s.replace(/[^\s<>"'@,;:()]+@[^\s<>"'@,;:()]+/g, '<indirizzo>').slice(0, 500);

/** nodemailer over one SMTP account (PEC is SMTP too): pooled connections, TLS and auth as configured. */
export class SmtpTransport implements MailTransport {
  private readonly t: Transporter;

  constructor(private readonly account: SmtpAccount) {
    this.t = createTransport({
      host: account.host,
      port: account.port,
      secure: account.secure,
      ...(account.user ? { auth: { user: account.user, pass: account.pass ?? '' } } : {}),
      tls: { rejectUnauthorized: account.rejectUnauthorized },
      pool: true,
      maxConnections: 4,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
  }

  async send(m: MailMessage): Promise<void> {
    try {
      await this.t.sendMail({
        from: this.account.from,
        to: m.to,
        subject: m.subject,
        text: m.text,
        messageId: m.messageId,
        headers: m.headers,
        attachments: m.attachments,
      });
    } catch (err) {
      const e = err as Error & { responseCode?: number };
      const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
      throw new SendError(redact(e.message), permanent);
    }
  }

  close(): void {
    this.t.close();
  }
}
