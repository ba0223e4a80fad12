import type { Progress } from './progress';
import { nowMs, round, Samples, type LatencySummary } from './stats';

/** Thrown by an operation when it has nothing left to do (e.g. the instance pool is used up): the worker stops. */
export class Exhausted extends Error {
  constructor(what: string) {
    super(`${what} exhausted`);
  }
}

export interface LoopResult {
  concurrency: number;
  /** operations that succeeded inside the measured window */
  ok: number;
  /** failed operations inside the measured window, by error code */
  errors: Record<string, number>;
  seconds: number;
  /** successful operations per second */
  rate: number;
  /** latency of every operation in the window (successful or not), ms */
  latency: LatencySummary;
  exhausted: boolean;
  /** this process's CPU (user + system) over the measured window per operation counted in it, ms */
  cpuMsPerOp: number;
}

export const errorCode = (err: unknown): string => {
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof e.code === 'string' && e.code) return e.code;
  if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
  return typeof e.message === 'string' ? e.message.slice(0, 60) : 'UNKNOWN';
};

/**
 * A closed loop: `concurrency` workers each run `op` back to back for warmupMs + durationMs; only operations that
 * START inside the measured window count. The op returns normally on success and throws on failure (its error
 * code is counted). A worker stops early when the op throws Exhausted.
 */
export async function closedLoop(opts: {
  label: string;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  op: (worker: number) => Promise<void>;
  progress?: Progress;
}): Promise<LoopResult> {
  const samples = new Samples();
  const errors: Record<string, number> = {};
  let ok = 0;
  let exhausted = false;
  const t0 = nowMs();
  const tStart = t0 + opts.warmupMs;
  const tEnd = tStart + opts.durationMs;
  let lastEnd = tStart;
  let cpu0: NodeJS.CpuUsage | null = null;
  const cpuStart = setTimeout(() => (cpu0 = process.cpuUsage()), opts.warmupMs);
  const ticker = setInterval(() => {
    const t = nowMs();
    const el = Math.max(0, t - tStart) / 1000;
    const phase =
      t < tStart ? 'warm-up' : `${el.toFixed(1)}/${(opts.durationMs / 1000).toFixed(0)} s`;
    opts.progress?.set(
      `${opts.label}: ${opts.concurrency} concurrent, ${phase}, ${ok} ok, ${el > 0 ? Math.round(ok / el) : 0}/s, ` +
        `${Object.values(errors).reduce((a, b) => a + b, 0)} errors`,
    );
  }, 250);
  const worker = async (w: number): Promise<void> => {
    for (;;) {
      const s = nowMs();
      if (s >= tEnd) return;
      let failed: string | null = null;
      try {
        await opts.op(w);
      } catch (err) {
        if (err instanceof Exhausted) {
          exhausted = true;
          return;
        }
        failed = errorCode(err);
      }
      const e = nowMs();
      if (s >= tStart) {
        samples.add(e - s);
        if (failed === null) ok++;
        else errors[failed] = (errors[failed] ?? 0) + 1;
        if (e > lastEnd) lastEnd = e;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => worker(i)));
  } finally {
    clearInterval(ticker);
    clearTimeout(cpuStart);
  }
  const cpu = process.cpuUsage(cpu0 ?? undefined);
  const counted = ok + Object.values(errors).reduce((a, b) => a + b, 0);
  // the window closes when the last operation that started inside it has finished
  const seconds = Math.max(lastEnd, exhausted ? lastEnd : tEnd) / 1000 - tStart / 1000;
  return {
    concurrency: opts.concurrency,
    ok,
    errors,
    seconds: round(seconds, 3),
    rate: round(ok / seconds, 1),
    latency: samples.summary(),
    exhausted,
    cpuMsPerOp: round((cpu.user + cpu.system) / 1000 / Math.max(1, counted), 2),
  };
}

/** Run `fn` over `items` with at most `concurrency` in flight; reports progress every 250 ms. */
export async function forEachConcurrent<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
  onProgress?: (done: number) => void,
): Promise<void> {
  let next = 0;
  let done = 0;
  const ticker = onProgress ? setInterval(() => onProgress(done), 250) : null;
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, items.length) }, async () => {
        for (;;) {
          const i = next++;
          if (i >= items.length) return;
          await fn(items[i]!, i);
          done++;
        }
      }),
    );
  } finally {
    if (ticker) clearInterval(ticker);
  }
}
