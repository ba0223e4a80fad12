/** Time comes from a Clock, never from Date.now() in domain code, so tests can move it. */
export interface Clock {
  now(): Date;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = { now: () => new Date() };

/**
 * A clock shifted by an offset from the real one. Production uses offset 0; tests (and the demo) call
 * `advance(ms)` so that a 60-day deadline falls due at once, without special paths in production code.
 * Several processes share the offset by passing the same ITER_CLOCK_OFFSET_MS.
 */
export class OffsetClock implements Clock {
  constructor(private offsetMs = 0) {}
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
  set(to: Date): void {
    this.offsetMs = to.getTime() - Date.now();
  }
  get offset(): number {
    return this.offsetMs;
  }
}

/**
 * How far a clock is deliberately shifted from the system clock (0 in production; tests and demos move it).
 * Times that must agree across processes come from the database's clock plus this offset: the offset is
 * the one deliberate shift, the database the one source of "now".
 */
export function clockOffsetMs(clock: Clock): number {
  // the system clock is not shifted: reading it twice to find out would give -1 ms (or, with the process
  // preempted between the two reads, -N ms) and date a step before a time the client read just earlier
  if (clock === systemClock) return 0;
  return clock instanceof OffsetClock ? clock.offset : clock.now().getTime() - Date.now();
}
