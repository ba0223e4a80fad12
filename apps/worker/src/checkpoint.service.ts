import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { IterConfig } from '@app/common';
import { checkpointConfigFrom, writeCheckpointNow, type CheckpointConfig } from '@app/engine';
import { ITER_CONFIG } from '@app/runtime';

/**
 * Writes a signed checkpoint of every audit chain's head to CHECKPOINT_DIR every CHECKPOINT_INTERVAL_MS
 * (libs/engine/src/checkpoint.ts), unless nothing moved since the latest one. The operator publishes or
 * archives those files outside the database: they are what makes a re-hashed chain detectable.
 */
@Injectable()
export class CheckpointService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('checkpoint');
  private handle: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private readonly cfg: CheckpointConfig & { devKey: boolean };

  constructor(
    private readonly ds: DataSource,
    @Inject(ITER_CONFIG) private readonly config: IterConfig,
  ) {
    this.cfg = checkpointConfigFrom(config);
  }

  onApplicationBootstrap(): void {
    if (this.config.checkpointIntervalMs === 0) return;
    if (!this.cfg.signingKey) {
      this.log.warn(
        'checkpoint firmati disattivati: impostare CHECKPOINT_PRIVATE_KEY (Ed25519) per ancorare le catene di audit',
      );
      return;
    }
    if (this.cfg.devKey)
      this.log.warn('checkpoint firmati con la chiave di sviluppo (pubblica): non in produzione');
    this.handle = setInterval(() => void this.runOnce(), this.config.checkpointIntervalMs);
    this.handle.unref();
  }

  async runOnce(): Promise<void> {
    if (this.running || !this.cfg.signingKey) return;
    this.running = writeCheckpointNow(this.ds, this.cfg, new Date())
      .then((r) => {
        if (r.written)
          this.log.log(
            `${r.file}: ${r.checkpoint.chains.length} chains, root ${r.checkpoint.merkleRoot}`,
          );
      })
      .catch((err: unknown) => this.log.error({ err }, 'checkpoint failed'))
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
