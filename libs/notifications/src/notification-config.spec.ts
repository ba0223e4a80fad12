import {
  backoffDelay,
  loadNotificationConfig,
  NotificationConfigError,
} from './notification-config';

describe('notification configuration', () => {
  it('channels are off unless configured; defaults are documented', () => {
    const c = loadNotificationConfig({});
    expect([c.smtp, c.pec, c.imap]).toEqual([null, null, null]);
    expect(c).toMatchObject({ maxAttempts: 8, backoffMs: 30_000, messageIdDomain: 'iter.local' });
  });

  it('reads SMTP_URL / PEC_SMTP_HOST… and IMAP_URL', () => {
    const c = loadNotificationConfig({
      PEC_SMTP_URL: 'smtps://pec%40unione.it:s%C3%A8gr@smtps.pec.example.it',
      PEC_FROM: 'protocollo@pec.unione.it',
      SMTP_HOST: 'mail.example.it',
      SMTP_PORT: '2525',
      SMTP_USER: 'iter',
      SMTP_PASS: 'x',
      SMTP_FROM: 'iter@unione.it',
      IMAP_URL: 'imaps://pec%40unione.it:pw@imaps.pec.example.it',
    });
    expect(c.pec).toMatchObject({
      host: 'smtps.pec.example.it',
      port: 465,
      secure: true,
      user: 'pec@unione.it',
      pass: 'sègr',
      from: 'protocollo@pec.unione.it',
      rejectUnauthorized: true,
    });
    expect(c.smtp).toMatchObject({
      host: 'mail.example.it',
      port: 2525,
      secure: false,
      user: 'iter',
    });
    expect(c.imap).toMatchObject({
      port: 993,
      secure: true,
      user: 'pec@unione.it',
      mailbox: 'INBOX',
    });
  });

  it('a bad value stops the start naming every variable', () => {
    let err: unknown;
    try {
      loadNotificationConfig({
        SMTP_URL: 'http://mail.example.it',
        PEC_SMTP_HOST: 'smtps.pec.example.it',
        NOTIFY_MAX_ATTEMPTS: '0',
        IMAP_URL: 'imap://host-without-user',
        MESSAGE_ID_DOMAIN: 'not a domain',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotificationConfigError);
    const problems = (err as NotificationConfigError).problems.join('\n');
    for (const v of [
      'SMTP_URL',
      'PEC_FROM',
      'NOTIFY_MAX_ATTEMPTS',
      'IMAP_URL',
      'MESSAGE_ID_DOMAIN',
    ])
      expect(problems).toContain(v);
  });

  it('backoff doubles per attempt, with ±50 % jitter, capped', () => {
    const cfg = { backoffMs: 1000, backoffMaxMs: 10_000 };
    expect(backoffDelay(cfg, 1, () => 0)).toBe(500);
    expect(backoffDelay(cfg, 1, () => 0.999)).toBe(1499);
    expect(backoffDelay(cfg, 3, () => 0.5)).toBe(4000);
    expect(backoffDelay(cfg, 20, () => 0.5)).toBe(10_000);
  });
});
