import { clockOffsetMs, OffsetClock, systemClock } from './clock';

describe('clockOffsetMs', () => {
  it('is exactly 0 for the system clock, however often it is read (no tick between two reads)', () => {
    // reading the clock twice to compute the offset gave -1 ms whenever a millisecond ticked between the reads,
    // and dated a step before the instant a caller had read just earlier (DELIVERY_IN_FUTURE in the bench)
    const offsets = new Set<number>();
    for (let i = 0; i < 200_000; i++) offsets.add(clockOffsetMs(systemClock));
    expect([...offsets]).toEqual([0]);
  });

  it('is the deliberate shift of an OffsetClock', () => {
    const clock = new OffsetClock(1_500);
    expect(clockOffsetMs(clock)).toBe(1_500);
    clock.advance(-2_000);
    expect(clockOffsetMs(clock)).toBe(-500);
  });

  it('is measured for any other clock (a clock fixed one day ahead)', () => {
    const fixed = { now: () => new Date(Date.now() + 86_400_000) };
    expect(Math.abs(clockOffsetMs(fixed) - 86_400_000)).toBeLessThanOrEqual(5);
  });
});
