import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Session } from 'node:inspector/promises';
import { mintDevToken } from '@app/auth';
import { Engine } from '@app/engine';
import { createApiApp } from '../apps/api/src/bootstrap';
import { withStandaloneApi } from './lib/standalone';
import {
  createConventions,
  createWorld,
  nextActNumber,
  rinviata,
  romeToday,
  segretario,
  VALDERA,
} from './lib/world';

/**
 * The API layer alone: the real app (createApiApp, as the bench's api child) with Engine.dispatch answering a
 * view computed once by a real dispatch, so each request costs only what Express, the edge middlewares, the
 * guard, the pipes, the interceptors and the serialisation cost. autocannon runs in a child process (the same
 * POST the http section sends); the figure that matters on a shared machine is this process's CPU per request
 * (process.cpuUsage over the run), the rate and latencies are shown too.
 * Usage: node dist/bench/http-layer.js [connections=8] [seconds=8] [--rate N] [--profile out.cpuprofile]
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const nums = args.filter((a) => /^\d+$/.test(a)).map(Number);
  const connections = nums[0] ?? 8;
  const seconds = nums[1] ?? 8;
  const rateAt = args.indexOf('--rate');
  const rate = rateAt >= 0 ? Number(args[rateAt + 1]) : undefined;
  const profileAt = args.indexOf('--profile');
  const profileFile = profileAt >= 0 ? args[profileAt + 1] : undefined;
  await withStandaloneApi('httplayer', async (config) => {
    const world = await createWorld(config);
    const { ids } = await createConventions(world, 1, { label: 'httplayer' });
    const ente = VALDERA.entes[1]!;
    const app = await createApiApp(config, { logger: false });
    await app.listen(0, '127.0.0.1');
    const port = (app.getHttpServer().address() as AddressInfo).port;
    const engine = app.get(Engine);
    const view = await engine.dispatch(
      ids[0]!,
      rinviata(ente, nextActNumber(), romeToday()),
      segretario(ente),
    );
    // the layer alone: every request answers the same view, after a turn of the event loop like a real dispatch
    engine.dispatch = () => new Promise((resolve) => setImmediate(() => resolve(view)));
    const token = await mintDevToken(
      config.jwtSecret!,
      { sub: `bench.segretario.${ente}`, roles: ['segretario'], ente, unione: VALDERA.unione },
      '8h',
      { issuer: config.jwtIssuer, audience: config.jwtAudience },
    );
    const body = JSON.stringify(rinviata(ente, 4242, romeToday()));
    const cannon = (c: number, s: number, r?: number) =>
      new Promise<{ requests: { total: number }; latency: Record<string, number> }>(
        (resolve, reject) => {
          const child = spawn(
            process.execPath,
            [
              require.resolve('autocannon/autocannon.js'),
              '-j',
              '-c',
              String(c),
              '-d',
              String(s),
              ...(r ? ['-R', String(r)] : []),
              '-m',
              'POST',
              '-H',
              'content-type=application/json',
              '-H',
              `authorization=Bearer ${token}`,
              '-b',
              body,
              `http://127.0.0.1:${port}/v1/processes/${ids[0]!}/events`,
            ],
            { stdio: ['ignore', 'pipe', 'inherit'] },
          );
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.on('error', reject);
          child.on('exit', (code) => {
            try {
              const j = JSON.parse(out) as {
                requests: { total: number };
                latency: Record<string, number>;
                non2xx: number;
              };
              if (j.non2xx) reject(new Error(`${j.non2xx} non-2xx answers`));
              else resolve(j);
            } catch {
              reject(new Error(`autocannon exited ${code}: ${out.slice(0, 200)}`));
            }
          });
        },
      );
    if (args.includes('--idle')) {
      // what the app spends doing nothing (timers, pollers): 10 s without a request
      const i0 = process.cpuUsage();
      await new Promise((r) => setTimeout(r, 10_000));
      const i = process.cpuUsage(i0);
      console.log(`idle: ${((i.user + i.system) / 10_000).toFixed(2)} ms CPU per second`);
    }
    await cannon(4, 3); // warm-up
    let session: Session | undefined;
    if (profileFile) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await cannon(connections, seconds, rate);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    if (session && profileFile) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(profileFile, JSON.stringify(profile));
      session.disconnect();
    }
    const n = r.requests.total;
    console.log(
      `${connections} connections${rate ? ` at ${rate} req/s` : ''}: ${n} requests, ${(n / seconds).toFixed(0)}/s, ` +
        `server CPU ${((cpu.user + cpu.system) / n).toFixed(0)} µs/request ` +
        `(${((100 * (cpu.user + cpu.system)) / 1e6 / elapsed).toFixed(0)} % of a core), ` +
        `latency p50 ${r.latency['p50']} ms p99 ${r.latency['p99']} ms (autocannon, ms resolution)`,
    );
    await app.close();
    await world.close();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
