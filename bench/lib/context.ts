import type { IterConfig } from '@app/common';
import type { Progress } from './progress';
import type { Report } from './report';
import type { World } from './world';

/** Sizes of one run: `--quick` (CI, under a minute) or the full run documented in docs/performance.md. */
export interface Sizes {
  /** closed-loop measurement window per level, and its warm-up */
  loopMs: number;
  warmupMs: number;
  levels: number[];
  /** ceiling: instances the raw SQL is spread over */
  ceilingInstances: number;
  /** also measure the read + one-statement write (the proposed engine change) and DESIGN.md's small rows */
  ceilingVariants: boolean;
  /** also measure 32 callers over the api's default pool of 8 connections */
  enginePool8: boolean;
  /** http: requests sent before measuring (JIT, connection pools) */
  httpWarmup: number;
  /** engine: RINVIATA events per instance before it is retired (keeps snapshots realistic) */
  budget: number;
  hotBudget: number;
  httpFixedRate: number;
  httpFixedMs: number;
  httpSaturationConnections: number[];
  httpSaturationMs: number;
  timers: number;
  timerWindowMs: number;
  timerGraceMs: number;
  /** deadlines due at the same instant (the burst case), and how long to wait for them past that instant */
  burstTimers: number;
  burstGraceMs: number;
  reconcileTimers: number;
  auditInstances: number;
  auditEventsPerInstance: number;
  historyReads: number;
  scaleSmall: number;
  scaleLarge: number;
}

export const FULL: Sizes = {
  loopMs: 10_000,
  warmupMs: 1_000,
  levels: [1, 8, 32],
  ceilingInstances: 2_000,
  ceilingVariants: true,
  enginePool8: true,
  httpWarmup: 2_000,
  budget: 16,
  hotBudget: 32,
  httpFixedRate: 20,
  httpFixedMs: 10_000,
  httpSaturationConnections: [8, 32, 64],
  httpSaturationMs: 8_000,
  timers: 10_000,
  timerWindowMs: 60_000,
  timerGraceMs: 5_000,
  burstTimers: 10_000,
  burstGraceMs: 60_000,
  reconcileTimers: 100_000,
  auditInstances: 2_000,
  auditEventsPerInstance: 500,
  historyReads: 1_000,
  scaleSmall: 1_000,
  scaleLarge: 100_000,
};

export const QUICK: Sizes = {
  loopMs: 800,
  warmupMs: 200,
  levels: [1, 8, 32],
  ceilingInstances: 300,
  ceilingVariants: false,
  enginePool8: false,
  httpWarmup: 1_000,
  budget: 16,
  hotBudget: 32,
  httpFixedRate: 20,
  httpFixedMs: 1_500,
  httpSaturationConnections: [32],
  httpSaturationMs: 2_000,
  timers: 512,
  timerWindowMs: 4_000,
  timerGraceMs: 1_500,
  burstTimers: 1_000,
  burstGraceMs: 20_000,
  reconcileTimers: 10_000,
  auditInstances: 100,
  auditEventsPerInstance: 500,
  historyReads: 200,
  scaleSmall: 1_000,
  scaleLarge: 5_000,
};

export interface BenchContext {
  quick: boolean;
  sizes: Sizes;
  config: IterConfig;
  /** environment of the api and worker child processes */
  childEnv: NodeJS.ProcessEnv;
  /** node flags for the children (e.g. --cpu-prof) */
  childExecArgv: string[];
  world: World;
  report: Report;
  progress: Progress;
  /** the reference by concurrency, for the engine ratios: the minimal durable transition's rate (section 1) */
  ceiling: Map<number, number>;
  /** Iter's own transition SQL (the same 5 round trips on the real schema and rows) by concurrency */
  iterSql: Map<number, number>;
  /** engine dispatch rate by concurrency (sizes the later working sets); the pool has as many connections */
  engineRate: Map<number, number>;
  /** engine dispatch rate at 32 callers over 8 connections, the api's pool (full runs only) */
  engineRateApiPool: number | null;
  /** a first estimate of the engine's rate at 8 callers, from the setup's own dispatches */
  probeRate: number;
  /** working-set conventions created through the engine, not used yet */
  fresh: string[];
  /** memory of the api and worker processes when they stopped */
  memory: Record<string, { rss: number; heapUsed: number | null }>;
}

/** take n conventions of the working set (created in advance by run.ts) */
export function takeFresh(ctx: BenchContext, n: number): string[] {
  if (ctx.fresh.length < n)
    throw new Error(`working set too small: wanted ${n}, ${ctx.fresh.length} left`);
  return ctx.fresh.splice(0, n);
}
