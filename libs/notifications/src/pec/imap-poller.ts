import type { DeliveryLogger } from '../delivery.service';
import type { ImapAccount } from '../notification-config';
import type { PecReceipts, ReceiptOutcome } from './pec-receipts.service';

/** the IMAP keyword set on a message once Iter has stored it (the box stays the PEC provider's record) */
export const PROCESSED_KEYWORD = '$IterProcessed';

/**
 * Reads the sending PEC box over IMAP (imapflow): every message without the $IterProcessed keyword is ingested
 * (stored as evidence, matched, applied), then flagged. A crash between the two re-reads the message: the
 * receipt's unique key makes that a no-op.
 */
export class ImapReceiptPoller {
  constructor(
    private readonly account: ImapAccount,
    private readonly receipts: PecReceipts,
    private readonly log: DeliveryLogger = { log: () => undefined, warn: () => undefined },
  ) {}

  async pollOnce(): Promise<ReceiptOutcome[]> {
    // loaded on first use: only a worker with IMAP_URL needs the IMAP client
    const { ImapFlow } = await import('imapflow');
    const client = new ImapFlow({
      host: this.account.host,
      port: this.account.port,
      secure: this.account.secure,
      auth: { user: this.account.user, pass: this.account.pass },
      logger: false,
    });
    client.on('error', (err: Error) => this.log.warn(`IMAP: ${err.message}`));
    const out: ReceiptOutcome[] = [];
    await client.connect();
    try {
      const lock = await client.getMailboxLock(this.account.mailbox);
      try {
        const uids = (await client.search({ unKeyword: PROCESSED_KEYWORD }, { uid: true })) || [];
        for (const uid of uids) {
          const msg = await client.fetchOne(String(uid), { source: true }, { uid: true });
          if (!msg || !msg.source) continue;
          out.push(await this.receipts.ingest(msg.source));
          await client.messageFlagsAdd(String(uid), [PROCESSED_KEYWORD, '\\Seen'], { uid: true });
        }
      } finally {
        lock.release();
      }
    } finally {
      await client.logout().catch(() => undefined);
    }
    return out;
  }
}
