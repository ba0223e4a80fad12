import { fork, type ChildProcess } from 'node:child_process';
import { rssOfPid } from './env';

/** Messages between the bench and its api / worker child processes (bench/api-server.ts, bench/worker-server.ts). */
export type ChildMessage =
  | { type: 'ready'; port?: number }
  | { type: 'memory'; rss: number; heapUsed: number }
  | { type: 'failed'; message: string };
export type ParentMessage = { type: 'memory' } | { type: 'stop' };

export interface RunningChild {
  name: string;
  proc: ChildProcess;
  port: number | null;
  memory(): Promise<{ rss: number; heapUsed: number | null }>;
  stop(): Promise<void>;
}

/**
 * Fork a compiled child entry point (dist/bench/<file>.js) with the given environment and wait for 'ready'.
 * The api and the worker run in processes of their own, as in production: the load generator (autocannon) and the
 * bench's own bookkeeping must not share the event loop they measure, and each one's RSS is its own.
 */
export async function startChild(
  name: string,
  file: string,
  env: NodeJS.ProcessEnv,
  execArgv: string[] = [],
): Promise<RunningChild> {
  const proc = fork(file, [], { env, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number | null>((resolve, reject) => {
    const onMsg = (m: ChildMessage) => {
      if (m.type === 'ready') {
        proc.off('message', onMsg);
        proc.off('exit', onExit);
        resolve(m.port ?? null);
      } else if (m.type === 'failed') {
        reject(new Error(`${name} failed to start: ${m.message}`));
      }
    };
    const onExit = (code: number | null) =>
      reject(new Error(`${name} exited with code ${code} before it was ready`));
    proc.on('message', onMsg);
    proc.once('exit', onExit);
  });
  let stopped = false;
  return {
    name,
    proc,
    port,
    memory: () =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          proc.off('message', onMsg);
          resolve({ rss: rssOfPid(proc.pid ?? -1) ?? Number.NaN, heapUsed: null });
        }, 2000);
        const onMsg = (m: ChildMessage) => {
          if (m.type !== 'memory') return;
          clearTimeout(timer);
          proc.off('message', onMsg);
          resolve({ rss: m.rss, heapUsed: m.heapUsed });
        };
        proc.on('message', onMsg);
        proc.send({ type: 'memory' } satisfies ParentMessage);
      }),
    stop: async () => {
      if (stopped || proc.exitCode !== null) return;
      stopped = true;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.send({ type: 'stop' } satisfies ParentMessage);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Child side: answer memory requests, stop gracefully (so --cpu-prof profiles are written). */
export function serveParent(close: () => Promise<void>): void {
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'memory') {
      const mu = process.memoryUsage();
      process.send?.({ type: 'memory', rss: mu.rss, heapUsed: mu.heapUsed } satisfies ChildMessage);
    } else if (m.type === 'stop') {
      close()
        .catch(() => undefined)
        .finally(() => process.exit(0));
    }
  });
  // the bench died: do not linger
  process.on('disconnect', () => {
    close()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  });
}
