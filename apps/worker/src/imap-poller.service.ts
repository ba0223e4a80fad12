import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SYSTEM_ACTOR } from '@app/common';
import { Engine } from '@app/engine';
import {
  ImapReceiptPoller,
  NOTIFICATION_CONFIG,
  PecReceipts,
  type NotificationConfig,
} from '@app/notifications';
import { BullJobScheduler } from '@app/scheduling';
import { DefinitionRegistry } from '@app/workflows';

/**
 * Reads PEC receipts from the sending box every IMAP_POLL_MS (off when IMAP_URL is not set). Never two polls at
 * once in one process; several workers may poll the same box: a receipt is applied once (unique key).
 */
@Injectable()
export class ImapPollerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('pec-receipts');
  private handle: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  readonly receipts: PecReceipts;
  private readonly poller: ImapReceiptPoller | null;

  constructor(
    ds: DataSource,
    engine: Engine,
    registry: DefinitionRegistry,
    @Inject(BullJobScheduler) scheduler: BullJobScheduler,
    @Inject(NOTIFICATION_CONFIG) private readonly cfg: NotificationConfig,
  ) {
    const log = { log: (m: string) => this.log.log(m), warn: (m: string) => this.log.warn(m) };
    this.receipts = new PecReceipts(
      ds,
      registry,
      (id, event, key) => engine.dispatch(id, event, SYSTEM_ACTOR, { idempotencyKey: key }),
      (ids) => scheduler.enqueueNotifications(ids),
      log,
    );
    this.poller = cfg.imap ? new ImapReceiptPoller(cfg.imap, this.receipts, log) : null;
  }

  onApplicationBootstrap(): void {
    if (!this.poller) return;
    this.handle = setInterval(() => void this.pollOnce(), this.cfg.imapPollMs);
    void this.pollOnce();
  }

  async pollOnce(): Promise<void> {
    if (!this.poller || this.running) return;
    this.running = this.poller
      .pollOnce()
      .then((r) => {
        if (r.length) this.log.log(`PEC box: ${r.length} messages read`);
      })
      .catch((err: unknown) => this.log.warn(`PEC box not read: ${(err as Error).message}`))
      .finally(() => {
        this.running = null;
      });
    await this.running;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.handle) clearInterval(this.handle);
    await this.running;
  }
}
