import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { GENEROUS_DATABASE_TIMEOUTS } from './harness';

/**
 * The real worker (apps/worker/src/main.ts) as a child process, run from source with ts-node: a process
 * that can really die (SIGKILL) in the middle of a job, unlike the in-process worker of startHarness().
 *
 * transpile-only is enough: ts.transpileModule honours emitDecoratorMetadata (it emits design:paramtypes
 * for the Nest constructors, e.g. TimerProcessor [Engine, Object], NotificationProcessor [DataSource]),
 * the same way ts-jest does with isolatedModules. Start-up takes about 2 s on a 2-CPU machine.
 */
export interface WorkerProcessOptions {
  /** a database of the test's own (isolatedDatabase()): the reconciler scans every armed timer in it */
  databaseUrl: string;
  /** the test's REDIS_PREFIX (h.config.redisPrefix): same queues as the harness */
  redisPrefix: string;
  /** ITER_CLOCK_OFFSET_MS: pass h.clock.offset so the child's clock equals the test's OffsetClock */
  clockOffsetMs: number;
  /** a label for logs; also the Postgres application_name of the child's connections */
  name?: string;
  redisUrl?: string;
  reconcileIntervalMs?: number;
  concurrency?: number;
  poolSize?: number;
  /** how long to wait for "Iter worker started" */
  startTimeoutMs?: number;
  /** more environment variables (WORKER_LOCK_MS, DATABASE_LOCK_TIMEOUT_MS, ...) */
  env?: Record<string, string>;
  /**
   * Make the child's SYSTEM clock wrong by this much (test/support/system-clock-skew.ts patches Date in the
   * child before anything loads): a machine whose clock is off, not the deliberate ITER_CLOCK_OFFSET_MS.
   */
  systemClockSkewMs?: number;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WorkerProcess {
  readonly name: string;
  readonly pid: number;
  /** resolves with the ms from spawn to the "Iter worker started" line (logged after the start-up reconciliation) */
  readonly started: Promise<number>;
  /** everything the child wrote so far (stdout and stderr, interleaved in arrival order) */
  output(): string;
  /** resolves when the child has exited */
  readonly exited: Promise<WorkerExit>;
  /** SIGKILL: dies at once, jobs in flight stay active in Redis, open transactions are rolled back */
  kill(): Promise<WorkerExit>;
  /** SIGTERM: Nest shutdown hooks close the BullMQ workers and the pool; SIGKILL after graceMs */
  stop(graceMs?: number): Promise<WorkerExit>;
  /** SIGSTOP / SIGCONT: a frozen process keeps its sockets, locks and open transactions */
  freeze(): void;
  thaw(): void;
  /** the port of the worker's health endpoint (WORKER_HEALTH_PORT=0: a free port, read from its log) */
  healthPort(): number | null;
}

const ROOT = join(__dirname, '..', '..');
const STARTED = 'Iter worker started';
const running = new Set<WorkerProcess>();

/** Spawn the worker and wait for its start-up line (after preflight and the start-up reconciliation). */
export async function startWorkerProcess(opts: WorkerProcessOptions): Promise<WorkerProcess> {
  const proc = spawnWorkerProcess(opts);
  await proc.started;
  return proc;
}

/** Spawn the worker without waiting: its start-up reconciliation may already fire timers before `started`. */
export function spawnWorkerProcess(opts: WorkerProcessOptions): WorkerProcess {
  if (!Number.isInteger(opts.clockOffsetMs))
    throw new Error(`clockOffsetMs must be an integer, got ${opts.clockOffsetMs}`);
  const name = opts.name ?? 'iter-worker';
  const db = new URL(opts.databaseUrl);
  db.searchParams.set('application_name', name); // pg: the URL wins over TypeORM's extra.application_name
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    TZ: process.env['TZ'],
    NO_COLOR: '1',
    TS_NODE_PROJECT: 'tsconfig.json',
    TS_NODE_TRANSPILE_ONLY: 'true',
    NODE_ENV: 'test',
    DATABASE_URL: db.toString(),
    DATABASE_POOL_SIZE: String(opts.poolSize ?? 10),
    REDIS_URL: opts.redisUrl ?? process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: opts.redisPrefix,
    MIGRATIONS_RUN: 'false',
    ITER_CLOCK_OFFSET_MS: String(opts.clockOffsetMs),
    RECONCILE_INTERVAL_MS: String(opts.reconcileIntervalMs ?? 1000),
    WORKER_CONCURRENCY: String(opts.concurrency ?? 8),
    WORKER_HEALTH_PORT: '0',
    ...GENEROUS_DATABASE_TIMEOUTS,
    ...(opts.systemClockSkewMs
      ? { TEST_SYSTEM_CLOCK_SKEW_MS: String(opts.systemClockSkewMs) }
      : {}),
    ...opts.env,
  };
  const t0 = Date.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      ...(opts.systemClockSkewMs ? ['-r', './test/support/system-clock-skew.ts'] : []),
      'apps/worker/src/main.ts',
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let onData: (() => void) | null = null;
  const append = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    onData?.();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<WorkerExit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let exitInfo: WorkerExit | null = null;
  void exited.then((e) => {
    exitInfo = e;
    onData?.();
  });

  const startTimeoutMs = opts.startTimeoutMs ?? 60_000; // under a full parallel test run on 2 cores start-up can pass 30 s
  const started = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      onData = null;
      child.kill('SIGKILL');
      reject(new Error(`worker ${name} did not start within ${startTimeoutMs} ms:\n${out}`));
    }, startTimeoutMs);
    onData = () => {
      if (out.includes(STARTED)) {
        clearTimeout(timer);
        onData = null;
        resolve(Date.now() - t0);
      } else if (exitInfo) {
        clearTimeout(timer);
        onData = null;
        reject(
          new Error(`worker ${name} exited before starting (${JSON.stringify(exitInfo)}):\n${out}`),
        );
      }
    };
    onData();
  });
  started.catch(() => undefined); // observed by whoever awaits it

  const signal = async (sig: NodeJS.Signals, graceMs: number): Promise<WorkerExit> => {
    if (!exitInfo) {
      child.kill(sig);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    running.delete(proc);
    return exited;
  };
  const proc: WorkerProcess = {
    name,
    pid: child.pid!,
    started,
    output: () => out,
    exited,
    kill: () => {
      if (!exitInfo) child.kill('SIGCONT'); // a frozen child dies too
      return signal('SIGKILL', 0);
    },
    freeze: () => void child.kill('SIGSTOP'),
    thaw: () => void child.kill('SIGCONT'),
    healthPort: () => {
      const m = /worker health on port (\d+)/.exec(out);
      return m ? Number(m[1]) : null;
    },
    stop: (graceMs = 10_000) => signal('SIGTERM', graceMs),
  };
  running.add(proc);
  return proc;
}

/** afterAll: no child outlives its test file, whatever failed. */
export async function killAllWorkerProcesses(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill()));
}

/**
 * The lines of a worker's output that betray a failed statement (TypeORM logs every query error: "query
 * failed: ..." then "error: duplicate key value violates unique constraint ...") or a Nest ERROR.
 */
export function errorLines(output: string): string[] {
  return output
    .split('\n')
    .filter(
      (l) =>
        /duplicate key|process_event_timer_uq|query failed|QueryFailedError|unhandled/i.test(l) ||
        /\bERROR\b/.test(l),
    );
}

type Db = Pick<DataSource, 'query'>;

/**
 * Transactions rolled back in the current database since the stats were reset. A statement that fails
 * (a duplicate key, a deadlock, a serialization failure) rolls its transaction back, so a delta of 0
 * over a run means no statement of anyone failed. A backend's counts are flushed when it exits (and at
 * most every second or so while it idles): read after the backends of interest are gone.
 */
export async function rolledBackTransactions(ds: Db): Promise<number> {
  const rows: { n: string }[] = await ds.query(
    `SELECT xact_rollback::text AS n FROM pg_stat_database WHERE datname = current_database()`,
  );
  return Number(rows[0]!.n);
}

/** Wait until no connection of this worker (by application_name) is left, then for its stats to land. */
export async function backendsGone(ds: Db, name: string, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const rows: { n: number }[] = await ds.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
      [name],
    );
    if (rows[0]!.n === 0) break;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`${rows[0]!.n} connections of ${name} still open after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 300)); // an exiting backend leaves pg_stat_activity just before it flushes its stats
}
