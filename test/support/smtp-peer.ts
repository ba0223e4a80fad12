import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** envelope recipients (RCPT TO) */
  rcpt: string[];
  from: string;
  mail: ParsedMail;
  messageId: string;
  header(name: string): string | undefined;
}

export interface SmtpPeer {
  readonly port: number;
  readonly received: ReceivedMail[];
  /** stop listening (connections refused from now on); `start()` listens again on the same port */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** hold every RCPT TO until `release()` (a transaction in flight) */
  hold(): void;
  release(): void;
  /** how many RCPT TO are being held right now */
  holding(): number;
}

/**
 * A real SMTP server (smtp-server) in the test process: what arrives is parsed back with mailparser.
 * No TLS, any recipient accepted. Messages whose data arrived completely are recorded once accepted (250).
 */
export async function startSmtpPeer(port = 0): Promise<SmtpPeer> {
  const received: ReceivedMail[] = [];
  let held: (() => void)[] = [];
  let holding = false;
  const make = () =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      closeTimeout: 200,
      onRcptTo(_addr, _session, cb) {
        if (!holding) return cb();
        held.push(() => cb());
      },
      onData(stream, session, cb) {
        simpleParser(stream)
          .then((mail) => {
            const headers = mail.headers;
            received.push({
              rcpt: session.envelope.rcptTo.map((r) => r.address),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              mail,
              messageId: mail.messageId ?? '',
              header: (n) => {
                const v = headers.get(n.toLowerCase());
                return typeof v === 'string' ? v : undefined;
              },
            });
            cb();
          })
          .catch((err: Error) => cb(err));
      },
    });
  let server = make();
  const listen = (p: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port));
    });
  const actualPort = await listen(port);
  return {
    port: actualPort,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
    start: async () => {
      server = make();
      await listen(actualPort);
    },
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      const h = held;
      held = [];
      h.forEach((f) => f());
    },
    holding: () => held.length,
  };
}
