import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DependencyState, IterConfig } from '@app/common';
import { DependencyMonitor, ITER_CONFIG } from '@app/runtime';

export interface ClockState extends DependencyState {
  /** this process's system clock minus Postgres's, in ms (null before the first measurement) */
  skewMs: number | null;
  maxSkewMs: number;
}

/**
 * The worker's clock against the database's, at start and every CLOCK_CHECK_INTERVAL_MS. Beyond
 * MAX_CLOCK_SKEW_MS the worker refuses to fire timers (they wait in the queue for a worker whose clock is
 * right) and /health says so. The engine already takes "now" from Postgres; this is the second line: a
 * machine whose clock is wrong should not run deadlines at all.
 *
 * The system clock is measured, not the injectable clock: ITER_CLOCK_OFFSET_MS is a deliberate shift
 * (tests, demos; refused in production) applied to the database's clock too, not a skew.
 */
@Injectable()
export class ClockGuard implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('clock');
  private state: ClockState;
  private first: Promise<void> | null = null;
  private handle: NodeJS.Timeout | null = null;
  private readonly listeners: ((ok: boolean) => void)[] = [];

  constructor(
    private readonly ds: DataSource,
    private readonly monitor: DependencyMonitor,
    @Inject(ITER_CONFIG) private readonly config: IterConfig,
  ) {
    this.state = {
      status: 'up',
      since: new Date().toISOString(),
      skewMs: null,
      maxSkewMs: config.maxClockSkewMs,
    };
    monitor.addCheck({ name: 'clock', state: () => ({ ...this.state }) });
  }

  onApplicationBootstrap(): void {
    this.handle = setInterval(() => void this.measure(), this.config.clockCheckIntervalMs);
    this.handle.unref();
  }

  onChange(fn: (ok: boolean) => void): void {
    this.listeners.push(fn);
  }

  /** may this worker fire timers now? (waits for the first measurement) */
  async allowed(): Promise<boolean> {
    this.first ??= this.measure();
    await this.first;
    return this.state.status === 'up';
  }

  /**
   * Now by the database's clock, as far as this process can tell (its clock minus the measured skew): the
   * timestamps this worker hands to BullMQ (a job put back to wait) must not carry its own clock's error.
   */
  dbNow(): number {
    return Date.now() - (this.state.skewMs ?? 0);
  }

  get current(): ClockState {
    return { ...this.state };
  }

  async measure(): Promise<void> {
    let skew: number;
    try {
      const t0 = Date.now();
      const rows: { ms: number }[] = await this.ds.query(
        `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms`,
      );
      const t1 = Date.now();
      skew = Math.round((t0 + t1) / 2 - rows[0]!.ms);
    } catch {
      return; // Postgres down: nothing fires anyway; the last verdict stands
    }
    const ok = Math.abs(skew) <= this.config.maxClockSkewMs;
    const changed = (this.state.status === 'up') !== ok || this.state.skewMs === null;
    this.state = {
      status: ok ? 'up' : 'down',
      since: changed ? new Date().toISOString() : this.state.since,
      skewMs: skew,
      maxSkewMs: this.config.maxClockSkewMs,
      ...(ok ? {} : { error: `orologio sfasato di ${skew} ms rispetto a PostgreSQL` }),
    };
    if (changed) {
      if (!ok)
        this.log.error(
          `orologio di sistema sfasato di ${skew} ms rispetto a PostgreSQL (massimo ${this.config.maxClockSkewMs} ms, ` +
            `MAX_CLOCK_SKEW_MS): questo worker non fa scattare le scadenze finché lo scarto non rientra`,
        );
      else this.log.log(`orologio allineato a PostgreSQL (scarto ${skew} ms)`);
      for (const fn of this.listeners) fn(ok);
    }
  }

  onApplicationShutdown(): void {
    if (this.handle) clearInterval(this.handle);
  }
}
