import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DependencyState } from '@app/common';
import { withTimeout } from '@app/scheduling';
import { DependencyMonitor } from './dependency-monitor';

/** how often a process whose database lacks migrations looks again */
const RECHECK_MS = 2_000;

/**
 * Readiness waits for the schema this code expects: the migrations this build knows (MIGRATIONS, loaded into
 * the DataSource) all recorded in the `migrations` table. One cheap query, cached: while some are pending
 * it is repeated at most every RECHECK_MS (another process, e.g. `iter migrate`, applies them), and once
 * all are there never again (a schema is not un-migrated under a running process). Postgres unreachable
 * keeps the last verdict: the postgres check already says so.
 */
@Injectable()
export class MigrationsCheck {
  private state: DependencyState & { pending?: string[] } = {
    status: 'down',
    since: new Date().toISOString(),
    error: 'migrazioni non ancora verificate',
  };
  private checkedAt = 0;
  private clean = false;

  constructor(
    private readonly ds: DataSource,
    monitor: DependencyMonitor,
  ) {
    monitor.addCheck({
      name: 'migrations',
      state: () => ({ ...this.state }),
      refresh: () => this.refresh(),
    });
  }

  async refresh(): Promise<void> {
    if (this.clean || Date.now() - this.checkedAt < RECHECK_MS) return;
    const expected = this.ds.migrations.map((m) => m.name ?? m.constructor.name);
    let applied: Set<string>;
    try {
      const rows = await withTimeout(
        this.ds.query<{ name: string }[]>(`SELECT name FROM migrations`),
        2_000,
        'migrations check',
      );
      applied = new Set(rows.map((r) => r.name));
    } catch (err) {
      // no migrations table: nothing applied; Postgres unreachable: keep the last verdict
      if ((err as { code?: string }).code !== '42P01') return;
      applied = new Set();
    }
    this.checkedAt = Date.now();
    const pending = expected.filter((n) => !applied.has(n));
    const ok = pending.length === 0;
    const changed = (this.state.status === 'up') !== ok;
    this.clean = ok;
    this.state = ok
      ? { status: 'up', since: changed ? new Date().toISOString() : this.state.since }
      : {
          status: 'down',
          since: changed ? new Date().toISOString() : this.state.since,
          error: `${pending.length} migrazioni da applicare (iter migrate)`,
          pending,
        };
  }
}
