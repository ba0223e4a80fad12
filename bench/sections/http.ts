import autocannon from 'autocannon';
import { mintDevToken } from '@app/auth';
import type { RunningChild } from '../lib/child';
import { cpuMsOfPid } from '../lib/env';
import { takeFresh, type BenchContext } from '../lib/context';
import { round, Samples, fmtInt } from '../lib/stats';
import { nextActNumber, romeToday, segretario, VALDERA } from '../lib/world';
import { ensureFresh } from './engine';

/**
 * RINVIATA events spread round robin over many instances: each request gets the next instance, the next of its
 * 8 entes and a number never used by that ente, so every request is valid however many run at once.
 */
export class Spread {
  private i = 0;
  private readonly used: Int32Array;
  exhausted = false;
  constructor(
    private readonly ids: string[],
    private readonly budget: number,
    private readonly date: string,
  ) {
    this.used = new Int32Array(ids.length);
  }
  next(): { id: string; ente: string; body: string } {
    for (let tries = 0; tries < this.ids.length; tries++) {
      const k = this.i++ % this.ids.length;
      const u = this.used[k]!;
      if (u >= this.budget) continue;
      this.used[k] = u + 1;
      const ente = VALDERA.entes[u % VALDERA.entes.length]!;
      const body = JSON.stringify({
        type: 'convention.deliberation.record',
        payload: { ente, number: String(nextActNumber()), date: this.date, outcome: 'RINVIATA' },
      });
      return { id: this.ids[k]!, ente, body };
    }
    this.exhausted = true;
    throw new Error('every instance used its budget');
  }
}

function sumCodes(runs: CannonRun[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of runs)
    for (const [k, v] of Object.entries(r.statusCodes)) out[k] = (out[k] ?? 0) + v;
  return out;
}

export interface CannonRun {
  connections: number;
  seconds: number;
  ok: number;
  rate: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  latency: ReturnType<Samples['summary']>;
  autocannonLatency: { p50: number; p90: number; p99: number };
  /** CPU per answered request (ms): the api child's, and the client's (this process: autocannon, the bodies) */
  cpuPerRequest: { api: number | null; client: number };
}

export async function cannon(
  ctx: BenchContext,
  port: number,
  spread: Spread,
  tokens: Map<string, string>,
  opts: {
    connections: number;
    seconds?: number;
    amount?: number;
    overallRate?: number;
    label: string;
  },
  apiPid?: number,
): Promise<CannonRun> {
  const samples = new Samples();
  const statusCodes: Record<string, number> = {};
  let ok = 0;
  const t0 = Date.now();
  const api0 = apiPid === undefined ? null : cpuMsOfPid(apiPid);
  const client0 = process.cpuUsage();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const inst = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: opts.connections,
        ...(opts.amount ? { amount: opts.amount } : { duration: opts.seconds ?? 5 }),
        ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
        timeout: 30,
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => {
              const n = spread.next();
              return {
                ...req,
                method: 'POST',
                path: `/v1/processes/${n.id}/events`,
                headers: {
                  'content-type': 'application/json',
                  authorization: `Bearer ${tokens.get(n.ente)}`,
                },
                body: n.body,
              };
            },
          },
        ],
      },
      (err: unknown, res: autocannon.Result) =>
        err ? reject(err instanceof Error ? err : new Error('autocannon failed')) : resolve(res),
    );
    inst.on(
      'response',
      (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
        samples.add(responseTime);
        statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
        if (statusCode >= 200 && statusCode < 300) ok++;
      },
    );
    const ticker = setInterval(() => {
      const el = (Date.now() - t0) / 1000;
      ctx.progress.set(
        `${opts.label}: ${opts.connections} connections, ${el.toFixed(1)} s, ${ok} ok, ${Math.round(ok / el)}/s`,
      );
    }, 250);
    inst.on('done', () => clearInterval(ticker));
  });
  const seconds = result.duration;
  const client = process.cpuUsage(client0);
  const api1 = apiPid === undefined ? null : cpuMsOfPid(apiPid);
  const answered = Math.max(1, result.requests.total);
  return {
    connections: opts.connections,
    seconds,
    ok,
    rate: round(ok / seconds, 1),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    latency: samples.summary(),
    autocannonLatency: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
    },
    cpuPerRequest: {
      api: api0 === null || api1 === null ? null : round((api1 - api0) / answered, 2),
      client: round((client.user + client.system) / 1000 / answered, 2),
    },
  };
}

/**
 * Engine.dispatch of RINVIATA events in this process at the http section's fixed rate, one at a time (like
 * autocannon's single connection at that rate): latencies in ms. A few closed-loop dispatches first (JIT).
 */
async function pacedEngine(
  ctx: BenchContext,
  events: number,
  instances: number,
): Promise<ReturnType<Samples['summary']>> {
  const { sizes, world, progress } = ctx;
  await ensureFresh(ctx, instances, 'engine at a fixed rate');
  const spread = new Spread(takeFresh(ctx, instances), sizes.budget, romeToday());
  const engine = world.engine(await world.dataSource(8));
  const one = async () => {
    const n = spread.next();
    const { type, payload } = JSON.parse(n.body) as { type: string; payload: unknown };
    await engine.dispatch(n.id, { type, payload }, segretario(n.ente));
  };
  for (let i = 0; i < 50; i++) await one();
  const samples = new Samples();
  const interval = 1000 / sizes.httpFixedRate;
  const count = Math.min(events - 50, Math.round((sizes.httpFixedMs / 1000) * sizes.httpFixedRate));
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const wait = t0 + i * interval - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const s = performance.now();
    await one();
    samples.add(performance.now() - s);
    progress.set(`engine alone at ${sizes.httpFixedRate}/s: ${i + 1}/${count}`);
  }
  return samples.summary();
}

/**
 * 3. HTTP: the real api (createApiApp in a child process, DATABASE_POOL_SIZE 8, rate limit out of the way),
 * tokens minted with mintDevToken, autocannon POSTing RINVIATA deliberation records: at a fixed 20 req/s, then
 * closed-loop at saturation with a few connection counts. Latencies are each response's own (autocannon's
 * 'response' event, sub-millisecond), not autocannon's integer-millisecond histogram.
 */
export async function httpSection(ctx: BenchContext, api: RunningChild): Promise<void> {
  const { sizes, report, progress, config } = ctx;
  const port = api.port!;
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
  const expected = Math.max(ctx.probeRate, ...[...ctx.engineRate.values()]) * 1.3;
  const perInstance = sizes.budget;
  const instancesFor = (events: number) => Math.ceil(events / perInstance) + 64;

  // warm-up (JIT, connections of the api's pool), not measured
  await ensureFresh(ctx, instancesFor(sizes.httpWarmup), 'http warm-up');
  const warm = new Spread(takeFresh(ctx, instancesFor(sizes.httpWarmup)), perInstance, romeToday());
  await cannon(ctx, port, warm, tokens, {
    connections: 8,
    amount: sizes.httpWarmup,
    label: 'http warm-up',
  });

  // fixed rate
  const fixedEvents = Math.ceil((sizes.httpFixedRate * sizes.httpFixedMs) / 1000) + 50;
  await ensureFresh(ctx, instancesFor(fixedEvents), 'http fixed rate');
  const fixedSpread = new Spread(
    takeFresh(ctx, instancesFor(fixedEvents)),
    perInstance,
    romeToday(),
  );
  // one connection: requests evenly spaced (two connections at 10 req/s each send in pairs and queue behind each other)
  const fixed = await cannon(
    ctx,
    port,
    fixedSpread,
    tokens,
    {
      connections: 1,
      overallRate: sizes.httpFixedRate,
      seconds: sizes.httpFixedMs / 1000,
      label: `http at ${sizes.httpFixedRate} req/s`,
    },
    api.proc.pid,
  );
  progress.log(
    `http @${sizes.httpFixedRate} req/s: p50 ${fixed.latency.p50} ms, p90 ${fixed.latency.p90} ms, p99 ${fixed.latency.p99} ms, ` +
      `${fixed.ok} ok, ${fixed.non2xx} non-2xx, ${fixed.errors} errors; CPU per request: api ${fixed.cpuPerRequest.api ?? '?'} ms, client ${fixed.cpuPerRequest.client} ms`,
  );
  // the same events at the same pace sent to Engine.dispatch in this process (no HTTP): the floor of the figures
  // above. At 20/s every process sleeps between events, so each round trip (PostgreSQL, Redis) wakes one up: a
  // dispatch takes longer than in the closed loops of section 2, whatever the HTTP layer does.
  const paced = await pacedEngine(ctx, fixedEvents, instancesFor(fixedEvents));
  progress.log(
    `engine alone @${sizes.httpFixedRate}/s: p50 ${paced.p50} ms, p90 ${paced.p90} ms, p99 ${paced.p99} ms ` +
      `(the HTTP layer adds ${round(fixed.latency.p50 - paced.p50, 2)} ms at p50)`,
  );
  const fixedNote =
    fixed.non2xx || fixed.errors
      ? `${fixed.non2xx} non-2xx, ${fixed.errors} errors!`
      : `${fixed.ok} requests, all 2xx`;
  report.add({
    section: '3 http',
    name: `POST event p50 at ${sizes.httpFixedRate} req/s`,
    value: fixed.latency.p50,
    unit: 'ms',
    target: { op: '<=', value: 5 },
    note: fixedNote,
  });
  report.add({
    section: '3 http',
    name: `POST event p90 at ${sizes.httpFixedRate} req/s`,
    value: fixed.latency.p90,
    unit: 'ms',
  });
  report.add({
    section: '3 http',
    name: `POST event p99 at ${sizes.httpFixedRate} req/s`,
    value: fixed.latency.p99,
    unit: 'ms',
    target: { op: '<=', value: 20 },
  });

  report.add({
    section: '3 http',
    name: `engine alone p50 at ${sizes.httpFixedRate}/s (reference)`,
    value: paced.p50,
    unit: 'ms',
    note: `Engine.dispatch in the bench process, same pace; p99 ${paced.p99} ms`,
  });
  // saturation
  const runs: CannonRun[] = [];
  for (const connections of sizes.httpSaturationConnections) {
    const events = (expected * sizes.httpSaturationMs) / 1000;
    await ensureFresh(ctx, instancesFor(events), 'http saturation');
    const spread = new Spread(takeFresh(ctx, instancesFor(events)), perInstance, romeToday());
    const r = await cannon(
      ctx,
      port,
      spread,
      tokens,
      {
        connections,
        seconds: sizes.httpSaturationMs / 1000,
        label: 'http saturation',
      },
      api.proc.pid,
    );
    if (spread.exhausted)
      progress.log('warning: the instances ran out during the http saturation run');
    runs.push(r);
    progress.log(
      `http saturation, ${connections} connections: ${fmtInt(r.rate)} 2xx/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}; ` +
        `CPU per request: api ${r.cpuPerRequest.api ?? '?'} ms, client ${r.cpuPerRequest.client} ms`,
    );
  }
  const best = runs.reduce((a, b) => (b.rate > a.rate ? b : a));
  report.add({
    section: '3 http',
    name: 'saturated POST event transitions/s',
    value: best.rate,
    unit: '/s',
    target: { op: '>=', value: 2000 },
    note: `${best.connections} connections; ${runs.map((r) => `${r.connections}c: ${fmtInt(r.rate)}/s`).join(', ')}`,
  });
  // the goal: HTTP keeps at least 80 % of what the engine does alone in this same run, with the same number of
  // database connections as the api (DATABASE_POOL_SIZE=8): the engine's levels of at most 8 callers (a pool
  // each) and 32 callers over 8 connections. Its level at 32 callers has 32 connections: shown apart, as what a
  // larger pool would give rather than what the HTTP layer costs.
  const apiPool = Number(ctx.childEnv['DATABASE_POOL_SIZE'] ?? 8);
  const samePool: [string, number][] = [...ctx.engineRate.entries()]
    .filter(([c]) => c <= apiPool)
    .map(([c, rate]) => [`@${c}`, rate]);
  if (ctx.engineRateApiPool !== null)
    samePool.push([`@32 over ${apiPool} connections`, ctx.engineRateApiPool]);
  const bestOf = (xs: [string, number][]) =>
    xs.reduce<[string, number] | null>((a, e) => (a === null || e[1] > a[1] ? e : a), null);
  const engineBest = bestOf(samePool);
  const engineBestAnyPool = bestOf([...ctx.engineRate.entries()].map(([c, r]) => [`@${c}`, r]));
  if (engineBest) {
    report.add({
      section: '3 http',
      name: 'saturated POST event, share of the engine figure',
      value: (100 * best.rate) / engineBest[1],
      unit: '%',
      goal: 'http.saturated.ratio',
      note: `${fmtInt(best.rate)}/s over HTTP vs the engine's best with the api's ${apiPool} connections ${fmtInt(engineBest[1])}/s (${engineBest[0]})`,
    });
  }
  if (engineBestAnyPool) {
    report.add({
      section: '3 http',
      name: "saturated POST event, share of the engine's best at any pool",
      value: (100 * best.rate) / engineBestAnyPool[1],
      unit: '%',
      note: `vs ${fmtInt(engineBestAnyPool[1])}/s (${engineBestAnyPool[0]}, as many connections as callers)`,
    });
  }
  report.add({
    section: '3 http',
    name: 'saturated p99',
    value: best.latency.p99,
    unit: 'ms',
    note: `p50 ${best.latency.p50} ms`,
  });
  report.add({
    section: '3 http',
    name: 'saturated non-2xx + errors',
    value: runs.reduce((s, r) => s + r.non2xx + r.errors, 0),
    unit: 'requests',
    note: JSON.stringify(sumCodes(runs)),
  });
  report.detail('http', { fixed, engineAlonePaced: paced, saturation: runs });
}
