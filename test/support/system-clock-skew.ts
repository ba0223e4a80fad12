/**
 * Preloaded (node -r) into a child worker by startWorkerProcess({ systemClockSkewMs }): shifts this
 * process's system clock, Date.now() and new Date(), by TEST_SYSTEM_CLOCK_SKEW_MS, like a machine whose
 * clock is wrong. The application is not told: it must find out by comparing with Postgres.
 */
const skew = Number(process.env['TEST_SYSTEM_CLOCK_SKEW_MS'] ?? 0);
if (skew) {
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  class SkewedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(realNow() + skew);
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return realNow() + skew;
    }
  }
  globalThis.Date = SkewedDate as DateConstructor;
}
export {};
