import { writeFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Session } from 'node:inspector/promises';
import { ValidationPipe } from '@nestjs/common';
import { JwtVerifier, mintDevToken } from '@app/auth';
import type { AnyMachineSnapshot } from 'xstate';
import { allowedEventsFor, buildView, Engine } from '@app/engine';
import { ResilientJobScheduler } from '@app/scheduling';
import { JwtAuthGuard } from '../apps/api/src/auth/auth.guard';
import { createApiApp } from '../apps/api/src/bootstrap';
import { withStandaloneApi } from './lib/standalone';
import {
  createConventions,
  createWorld,
  InstancePool,
  nextActNumber,
  rinviata,
  romeToday,
  segretario,
  VALDERA,
  type World,
} from './lib/world';

/** CPU spent inside a few methods (requests are sequential: what runs meanwhile is theirs), µs in total */
function attribute(): Map<string, number> {
  const totals = new Map<string, number>();
  const wrap = (proto: object, name: string, label: string) => {
    const target = proto as Record<string, (...a: unknown[]) => unknown>;
    const orig = target[name]!;
    target[name] = function (this: unknown, ...a: unknown[]) {
      const c0 = process.cpuUsage();
      const add = () => {
        const c = process.cpuUsage(c0);
        totals.set(label, (totals.get(label) ?? 0) + c.user + c.system);
      };
      const r = orig.apply(this, a);
      if (r instanceof Promise) return r.finally(add);
      add();
      return r;
    };
  };
  wrap(ValidationPipe.prototype, 'transform', 'ValidationPipe.transform (all params)');
  wrap(JwtAuthGuard.prototype, 'canActivate', 'JwtAuthGuard.canActivate');
  wrap(JwtVerifier.prototype, 'verify', '  of which JwtVerifier.verify');
  wrap(Engine.prototype, 'dispatch', 'Engine.dispatch');
  wrap(ResilientJobScheduler.prototype, 'enqueueNotifications', '  of which enqueueNotifications');
  wrap(ResilientJobScheduler.prototype, 'enqueueTimers', '  of which enqueueTimers');
  wrap(ResilientJobScheduler.prototype, 'removeTimers', '  of which removeTimers');
  return totals;
}

/** CPU of the answer's parts (buildView) on an instance a few sessions in, µs per call */
async function viewCost(world: World, id: string): Promise<void> {
  const date = romeToday();
  for (let i = 0; i < 8; i++) {
    const ente = VALDERA.entes[i]!;
    await world.setupEngine.dispatch(id, rinviata(ente, nextActNumber(), date), segretario(ente));
  }
  const def = world.registry.get('convenzione', 1);
  const [row] = await world.ds.query<
    {
      snapshot: unknown;
      id: string;
      definition_key: string;
      definition_version: number;
      tenant: string;
      business_key: string;
      created_at: Date;
      updated_at: Date;
      participants: string[];
    }[]
  >(`SELECT * FROM process_instance WHERE id = $1`, [id]);
  const snap = def.machine.resolveState(row!.snapshot as never) as AnyMachineSnapshot;
  const actor = segretario(VALDERA.entes[3]!);
  const now = new Date();
  const parts: [string, () => unknown][] = [
    ['buildView (all)', () => buildView(def, row!, snap, 10, actor, row!.participants, now)],
    [
      '  allowedEventsFor',
      () => allowedEventsFor(def, snap, actor, row!.tenant, row!.participants),
    ],
    ['  def.view', () => def.view(snap, now)],
    ['  def.timers', () => def.timers(snap)],
    ['  def.nextDeadline', () => def.nextDeadline(snap)],
    [
      '  title/status/label/pending',
      () => [def.titleOf(snap), def.status(snap), def.stateLabel(snap), def.pendingEntes(snap)],
    ],
    [
      'JSON.stringify(view)',
      () => JSON.stringify(buildView(def, row!, snap, 10, actor, row!.participants, now)),
    ],
  ];
  for (const [label, fn] of parts) {
    for (let i = 0; i < 50; i++) fn();
    const c0 = process.cpuUsage();
    for (let i = 0; i < 500; i++) fn();
    const c = process.cpuUsage(c0);
    console.log(`${label.padEnd(30)} ${((c.user + c.system) / 500).toFixed(1).padStart(8)} µs CPU`);
  }
  console.log(
    `view: ${JSON.stringify(buildView(def, row!, snap, 10, actor, row!.participants, now)).length} bytes of JSON`,
  );
}

/**
 * The API layer's own cost, in one process: CPU time (process.cpuUsage, less sensitive to a loaded machine than
 * wall time) and wall time per request of POST /v1/processes/:id/events sent one after the other over a kept-alive
 * connection, against Engine.dispatch of the same events called directly on the same app's engine. The difference
 * is what Express, the edge middlewares, the guard, the pipes and the serialisation cost.
 * Usage: node dist/bench/http-cost.js [requests=300] [--profile out.cpuprofile]
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 300);
  const profileAt = args.indexOf('--profile');
  const profileFile = profileAt >= 0 ? args[profileAt + 1] : undefined;
  await withStandaloneApi('httpcost', async (config) => {
    const world = await createWorld(config);
    const budget = 16;
    const rounds = 3; // warm-up, engine, http (twice: warm, measured)
    const { ids } = await createConventions(world, Math.ceil((n * (rounds + 1)) / budget) + 8, {
      label: 'httpcost',
    });
    const pool = new InstancePool(ids, budget, romeToday());
    const app = await createApiApp(config, { logger: false });
    await app.listen(0, '127.0.0.1');
    const port = (app.getHttpServer().address() as AddressInfo).port;
    const engine = app.get(Engine);
    const tokens = new Map<string, string>();
    for (const ente of VALDERA.entes)
      tokens.set(
        ente,
        await mintDevToken(
          config.jwtSecret!,
          { sub: `bench.segretario.${ente}`, roles: ['segretario'], ente, unione: VALDERA.unione },
          '8h',
          { issuer: config.jwtIssuer, audience: config.jwtAudience },
        ),
      );
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = (id: string, ente: string, body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            agent,
            method: 'POST',
            path: `/v1/processes/${id}/events`,
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
              authorization: `Bearer ${tokens.get(ente)}`,
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });

    const oneHttp = async () => {
      const lease = pool.take()!;
      const ente = VALDERA.entes[lease.used % VALDERA.entes.length]!;
      lease.used++;
      const body = JSON.stringify({
        type: 'convention.deliberation.record',
        payload: { ente, number: String(nextActNumber()), date: pool.date, outcome: 'RINVIATA' },
      });
      const status = await post(lease.id, ente, body);
      pool.give(lease);
      if (status !== 200) throw new Error(`HTTP ${status}`);
    };
    const oneEngine = async () => {
      const lease = pool.take()!;
      const { req, actor } = pool.next(lease);
      await engine.dispatch(lease.id, req, actor);
      pool.give(lease);
    };
    const measure = async (label: string, op: () => Promise<void>) => {
      const wall: number[] = [];
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        await op();
        wall.push(performance.now() - s);
      }
      const elapsed = performance.now() - t0;
      const cpu = process.cpuUsage(c0);
      wall.sort((a, b) => a - b);
      const q = (p: number) => wall[Math.min(wall.length - 1, Math.floor(p * wall.length))]!;
      const r = {
        label,
        cpuMsPerOp: (cpu.user + cpu.system) / 1000 / n,
        wallP50: q(0.5),
        wallP99: q(0.99),
        perSecond: (1000 * n) / elapsed,
      };
      console.log(
        `${label.padEnd(8)} CPU ${r.cpuMsPerOp.toFixed(2)} ms/op, wall p50 ${r.wallP50.toFixed(2)} ms p99 ${r.wallP99.toFixed(2)} ms, ${r.perSecond.toFixed(0)}/s`,
      );
      return r;
    };

    if (args.includes('--view')) await viewCost(world, ids[ids.length - 1]!);
    await measure('warm-up', oneHttp);
    await measure('warm-up', oneEngine);
    const e = await measure('engine', oneEngine);
    let session: Session | undefined;
    if (profileFile) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
    }
    const attribution = args.includes('--attribute') ? attribute() : undefined;
    const h = await measure('http', oneHttp);
    if (attribution) {
      for (const [k, us] of attribution)
        console.log(`  ${k.padEnd(44)} ${(us / n).toFixed(0).padStart(6)} µs CPU/request`);
    }
    if (session && profileFile) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(profileFile, JSON.stringify(profile));
      session.disconnect();
      console.log(`profile of the http loop: ${profileFile}`);
    }
    console.log(
      `api layer: +${(h.cpuMsPerOp - e.cpuMsPerOp).toFixed(2)} ms CPU/request, +${(h.wallP50 - e.wallP50).toFixed(2)} ms wall p50`,
    );
    agent.destroy();
    await app.close();
    await world.close();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
