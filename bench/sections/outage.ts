import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { mintDevToken } from '@app/auth';
import { startChild } from '../lib/child';
import { takeFresh, type BenchContext } from '../lib/context';
import { romeToday, VALDERA } from '../lib/world';
import { ensureFresh } from './engine';
import { cannon, Spread, type CannonRun } from './http';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** a redis-server of the bench's own: the machine's Redis is shared and is never stopped */
async function privateRedis(): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new IORedis({ port, lazyConnect: true, retryStrategy: () => null });
  probe.on('error', () => undefined);
  const t0 = Date.now();
  for (;;) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch {
      if (Date.now() - t0 > 10_000) throw new Error('redis-server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  probe.disconnect();
  return { url: `redis://127.0.0.1:${port}`, proc };
}

/**
 * 7. Redis down: the write latency of the api (the same RINVIATA POSTs as section 3, at the same fixed rate) with
 * its Redis up, then stopped. A committed transition answers at once whether Redis is up or not: the
 * post-commit enqueue is bounded (ENQUEUE_TIMEOUT_MS) and skipped while Redis is known down; the reconciler
 * enqueues the skipped jobs when it returns. The api runs against a private redis-server that is stopped
 * for the second run; the first requests of the outage pay at most the enqueue timeout once.
 */
export async function outageSection(ctx: BenchContext): Promise<void> {
  const { sizes, report, progress, config } = ctx;
  const redis = await privateRedis();
  try {
    const api = await startChild(
      'api (private Redis)',
      join(__dirname, '..', 'api-server.js'),
      { ...ctx.childEnv, REDIS_URL: redis.url },
      ctx.childExecArgv,
    );
    try {
      const tokens = new Map<string, string>();
      for (const ente of VALDERA.entes) {
        tokens.set(
          ente,
          await mintDevToken(
            config.jwtSecret!,
            {
              sub: `bench.segretario.${ente}`,
              roles: ['segretario'],
              ente,
              unione: VALDERA.unione,
            },
            '8h',
            { issuer: config.jwtIssuer, audience: config.jwtAudience },
          ),
        );
      }
      const events = Math.ceil((sizes.httpFixedRate * sizes.httpFixedMs) / 1000) + 50;
      const instances = Math.ceil(events / sizes.budget) + 16;
      const run = async (label: string): Promise<CannonRun> => {
        await ensureFresh(ctx, instances, label);
        const spread = new Spread(takeFresh(ctx, instances), sizes.budget, romeToday());
        return cannon(ctx, api.port!, spread, tokens, {
          connections: 1,
          overallRate: sizes.httpFixedRate,
          seconds: sizes.httpFixedMs / 1000,
          label,
        });
      };
      await run('outage: warm-up, Redis up');
      const up = await run(`outage: Redis up, ${sizes.httpFixedRate} req/s`);
      const exited = new Promise((r) => redis.proc.once('exit', r));
      redis.proc.kill('SIGTERM');
      await exited;
      const down = await run(`outage: Redis stopped, ${sizes.httpFixedRate} req/s`);
      progress.log(
        `writes with Redis up: p50 ${up.latency.p50} ms, p99 ${up.latency.p99} ms; ` +
          `Redis stopped: p50 ${down.latency.p50} ms, p99 ${down.latency.p99} ms, max ${down.latency.max} ms ` +
          `(${down.ok} ok, ${down.non2xx} non-2xx, ${down.errors} errors)`,
      );
      const note = (r: CannonRun) =>
        r.non2xx || r.errors
          ? `${r.non2xx} non-2xx, ${r.errors} errors!`
          : `${r.ok} requests, all 2xx`;
      report.add({
        section: '7 outage',
        name: `POST event p50, Redis up, ${sizes.httpFixedRate} req/s`,
        value: up.latency.p50,
        unit: 'ms',
        note: note(up),
      });
      report.add({
        section: '7 outage',
        name: `POST event p99, Redis up`,
        value: up.latency.p99,
        unit: 'ms',
      });
      report.add({
        section: '7 outage',
        name: `POST event p50, Redis stopped, ${sizes.httpFixedRate} req/s`,
        value: down.latency.p50,
        unit: 'ms',
        target: { op: '<=', value: Math.max(20, up.latency.p50 * 3) },
        note: note(down),
      });
      report.add({
        section: '7 outage',
        name: `POST event p99, Redis stopped`,
        value: down.latency.p99,
        unit: 'ms',
        target: { op: '<=', value: config.enqueueTimeoutMs + 250 },
        note: `max ${down.latency.max} ms; the enqueue bound ENQUEUE_TIMEOUT_MS is ${config.enqueueTimeoutMs} ms`,
      });
      report.add({
        section: '7 outage',
        name: 'writes refused while Redis was stopped',
        value: down.non2xx + down.errors,
        unit: 'requests',
        target: { op: '==', value: 0 },
      });
      report.detail('outage', { up, down });
    } finally {
      await api.stop();
    }
  } finally {
    if (redis.proc.exitCode === null && redis.proc.signalCode === null) {
      const exited = new Promise((r) => redis.proc.once('exit', r));
      redis.proc.kill('SIGKILL');
      await exited;
    }
  }
}
