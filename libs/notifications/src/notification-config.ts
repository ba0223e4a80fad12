/**
 * Notification channels configuration, from environment variables (README "Configuration", docs/notifications.md).
 * Validated at start-up of api and worker: a bad value stops the process and names the variable.
 * A channel that is not configured is off: its rows become `skipped` (re-sendable by an admin once configured).
 */
export interface SmtpAccount {
  host: string;
  port: number;
  /** implicit TLS (smtps, port 465); otherwise STARTTLS when the server offers it */
  secure: boolean;
  user: string | null;
  pass: string | null;
  /** the From address of messages sent through this account */
  from: string;
  /** refuse a server certificate that does not verify (default true) */
  rejectUnauthorized: boolean;
}

export interface ImapAccount {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  pass: string;
  mailbox: string;
}

export interface NotificationConfig {
  /** ordinary e-mail (PEO) for informal notices; null = off */
  smtp: SmtpAccount | null;
  /** the PEC sending account for formal notices; null = off */
  pec: SmtpAccount | null;
  /** the PEC box read for receipts (accettazione, avvenuta/mancata consegna); null = poller off */
  imap: ImapAccount | null;
  imapPollMs: number;
  /** Message-ID = <outbox-row-uuid@domain>: stable, so a resend after a crash is the same message */
  messageIdDomain: string;
  /** attempts before a notification is `dead` */
  maxAttempts: number;
  /** first retry delay; doubled at each attempt, with ±50 % jitter, capped at backoffMaxMs */
  backoffMs: number;
  backoffMaxMs: number;
  /** how long a row being sent is reserved by one worker (a killed worker's row is taken over after it) */
  leaseMs: number;
  webhookTimeoutMs: number;
  /** during a secret rotation the previous secret stays valid this long */
  webhookSecretOverlapMs: number;
  /** base URL shown in notices ("dove": the process page) and used for the calendar feed */
  publicBaseUrl: string;
}

export class NotificationConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Configurazione delle notifiche non valida:\n  - ${problems.join('\n  - ')}`);
  }
}

const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

export function loadNotificationConfig(env: NodeJS.ProcessEnv = process.env): NotificationConfig {
  const problems: string[] = [];
  const str = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v === '' ? null : v;
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === null) return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}="${raw}": must be an integer between ${min} and ${max}`);
      return def;
    }
    return n;
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = str(name);
    if (raw === null) return def;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    problems.push(`${name}="${raw}": must be true or false`);
    return def;
  };

  /** PREFIX_URL (smtp://user:pass@host:port, smtps:// for implicit TLS) or PREFIX_HOST/PORT/SECURE/USER/PASS */
  const smtp = (
    prefix: string,
    fromVar: string,
    fallbackFrom: string | null,
  ): SmtpAccount | null => {
    const url = str(`${prefix}_URL`);
    const host = str(`${prefix}_HOST`);
    if (!url && !host) return null;
    let account: Omit<SmtpAccount, 'from' | 'rejectUnauthorized'>;
    if (url) {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        problems.push(`${prefix}_URL: not a valid URL`);
        return null;
      }
      if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') {
        problems.push(`${prefix}_URL: protocol must be smtp: or smtps:`);
        return null;
      }
      const secure = u.protocol === 'smtps:';
      account = {
        host: u.hostname,
        port: Number(u.port || (secure ? 465 : 587)),
        secure,
        user: u.username ? decodeURIComponent(u.username) : null,
        pass: u.password ? decodeURIComponent(u.password) : null,
      };
    } else {
      const secure = bool(`${prefix}_SECURE`, false);
      account = {
        host: host!,
        port: int(`${prefix}_PORT`, secure ? 465 : 587, 1, 65535),
        secure,
        user: str(`${prefix}_USER`),
        pass: str(`${prefix}_PASS`),
      };
    }
    const from = str(fromVar) ?? fallbackFrom;
    if (!from) {
      problems.push(`${fromVar}: required when ${prefix}_URL or ${prefix}_HOST is set`);
      return null;
    }
    if (!EMAIL.test(from)) problems.push(`${fromVar}: not an e-mail address`);
    return {
      ...account,
      from,
      rejectUnauthorized: bool(`${prefix}_TLS_REJECT_UNAUTHORIZED`, true),
    };
  };

  const smtpAccount = smtp('SMTP', 'SMTP_FROM', null);
  const pecAccount = smtp('PEC_SMTP', 'PEC_FROM', null);

  let imap: ImapAccount | null = null;
  const imapUrl = str('IMAP_URL');
  if (imapUrl) {
    try {
      const u = new URL(imapUrl);
      if (u.protocol !== 'imap:' && u.protocol !== 'imaps:')
        problems.push('IMAP_URL: protocol must be imap: or imaps:');
      else if (!u.username) problems.push('IMAP_URL: the user is required (imap://user:pass@host)');
      else {
        const secure = u.protocol === 'imaps:';
        imap = {
          host: u.hostname,
          port: Number(u.port || (secure ? 993 : 143)),
          secure,
          user: decodeURIComponent(u.username),
          pass: decodeURIComponent(u.password),
          mailbox: str('IMAP_MAILBOX') ?? 'INBOX',
        };
      }
    } catch {
      problems.push('IMAP_URL: not a valid URL');
    }
  }

  const publicBaseUrl = (str('PUBLIC_BASE_URL') ?? 'http://localhost:3000').replace(/\/+$/, '');
  try {
    new URL(publicBaseUrl);
  } catch {
    problems.push('PUBLIC_BASE_URL: not a valid URL');
  }
  const messageIdDomain = str('MESSAGE_ID_DOMAIN') ?? 'iter.local';
  if (!/^[A-Za-z0-9.-]{1,200}$/.test(messageIdDomain))
    problems.push('MESSAGE_ID_DOMAIN: a domain name (letters, digits, dots, hyphens)');

  const cfg: NotificationConfig = {
    smtp: smtpAccount,
    pec: pecAccount,
    imap,
    imapPollMs: int('IMAP_POLL_MS', 60_000, 200, 86_400_000),
    messageIdDomain,
    maxAttempts: int('NOTIFY_MAX_ATTEMPTS', 8, 1, 100),
    backoffMs: int('NOTIFY_BACKOFF_MS', 30_000, 10, 86_400_000),
    backoffMaxMs: int('NOTIFY_BACKOFF_MAX_MS', 6 * 3_600_000, 10, 7 * 86_400_000),
    leaseMs: int('NOTIFY_LEASE_MS', 120_000, 500, 86_400_000),
    webhookTimeoutMs: int('WEBHOOK_TIMEOUT_MS', 10_000, 100, 300_000),
    webhookSecretOverlapMs: int('WEBHOOK_SECRET_OVERLAP_HOURS', 24, 0, 24 * 90) * 3_600_000,
    publicBaseUrl,
  };
  if (problems.length) throw new NotificationConfigError(problems);
  return cfg;
}

/** Delay before attempt n+1 after n failed attempts: exponential with ±50 % jitter, capped. */
export function backoffDelay(
  cfg: Pick<NotificationConfig, 'backoffMs' | 'backoffMaxMs'>,
  attempts: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(cfg.backoffMaxMs, cfg.backoffMs * 2 ** Math.max(0, attempts - 1));
  return Math.max(1, Math.round(base * (0.5 + random())));
}

/** Nest injection token for the NotificationConfig (api and worker). */
export const NOTIFICATION_CONFIG = Symbol('NOTIFICATION_CONFIG');
