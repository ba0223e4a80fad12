/**
 * The state of one dependency (Postgres, Redis) as this process sees it: up or down, and since when.
 * Fed by probes and by failures met on the way; a change is reported once (the logger), not once per
 * request, so an outage writes two lines: when it starts and when it ends.
 */
export type DependencyName = 'postgres' | 'redis';

export interface DependencyState {
  status: 'up' | 'down';
  /** ISO instant of the last change (process start for a dependency that never failed) */
  since: string;
  /** while down: the last reason seen */
  error?: string;
}

export interface AvailabilityLogger {
  error(message: string): void;
  log(message: string): void;
}

const LABEL: Record<DependencyName, string> = { postgres: 'PostgreSQL', redis: 'Redis' };

export class Availability {
  private state: DependencyState;
  private readonly listeners: ((s: DependencyState) => void)[] = [];

  constructor(
    readonly name: DependencyName,
    private readonly logger: AvailabilityLogger = { error: () => undefined, log: () => undefined },
    private readonly now: () => Date = () => new Date(),
  ) {
    this.state = { status: 'up', since: this.now().toISOString() };
  }

  get current(): DependencyState {
    return { ...this.state };
  }

  get isUp(): boolean {
    return this.state.status === 'up';
  }

  /** called on every change (after the log line) */
  onChange(fn: (s: DependencyState) => void): void {
    this.listeners.push(fn);
  }

  markDown(reason: string): void {
    if (this.state.status === 'down') {
      this.state.error = reason;
      return;
    }
    this.state = { status: 'down', since: this.now().toISOString(), error: reason };
    this.logger.error(`${LABEL[this.name]} non raggiungibile (${reason}): guasto in corso`);
    for (const fn of this.listeners) fn(this.current);
  }

  markUp(): void {
    if (this.state.status === 'up') return;
    const downMs = this.now().getTime() - Date.parse(this.state.since);
    this.state = { status: 'up', since: this.now().toISOString() };
    this.logger.log(
      `${LABEL[this.name]} di nuovo raggiungibile dopo ${(downMs / 1000).toFixed(1)} s`,
    );
    for (const fn of this.listeners) fn(this.current);
  }
}
