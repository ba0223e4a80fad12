/** Latency samples in milliseconds; percentiles by nearest rank on the sorted samples (no histogram rounding). */
export class Samples {
  private values: number[] = [];
  private sorted: Float64Array | null = null;

  add(ms: number): void {
    this.values.push(ms);
    this.sorted = null;
  }

  addAll(ms: readonly number[]): void {
    for (const v of ms) this.values.push(v);
    this.sorted = null;
  }

  get count(): number {
    return this.values.length;
  }

  /** p in [0, 100]; NaN when there is no sample */
  percentile(p: number): number {
    if (this.values.length === 0) return Number.NaN;
    if (!this.sorted) this.sorted = Float64Array.from(this.values).sort();
    const rank = Math.min(
      this.sorted.length - 1,
      Math.max(0, Math.ceil((p / 100) * this.sorted.length) - 1),
    );
    return this.sorted[rank]!;
  }

  get max(): number {
    return this.percentile(100);
  }

  get mean(): number {
    if (this.values.length === 0) return Number.NaN;
    let s = 0;
    for (const v of this.values) s += v;
    return s / this.values.length;
  }

  summary(): LatencySummary {
    return {
      n: this.count,
      mean: round(this.mean),
      p50: round(this.percentile(50)),
      p90: round(this.percentile(90)),
      p99: round(this.percentile(99)),
      max: round(this.max),
    };
  }
}

export interface LatencySummary {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export const round = (x: number, digits = 2): number =>
  Number.isFinite(x) ? Number(x.toFixed(digits)) : x;

/** High-resolution milliseconds since an arbitrary origin. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Fisher-Yates, in place */
export function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export const fmtInt = (n: number): string =>
  Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);
