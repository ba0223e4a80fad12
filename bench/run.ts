import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '@app/common';
import { createDataSource, runMigrations, seedUnioni } from '@app/persistence';
import { startChild, type RunningChild } from './lib/child';
import { FULL, QUICK, type BenchContext } from './lib/context';
import {
  benchApiEnv,
  createDatabase,
  deleteRedisPrefix,
  dropDatabase,
  gitCommit,
  machineInfo,
  postgresInfo,
  redisInfo,
  setRedisHz,
  withDatabase,
} from './lib/env';
import { Progress } from './lib/progress';
import { Report } from './lib/report';
import { round } from './lib/stats';
import {
  createConventions,
  createWorld,
  nextActNumber,
  rinviata,
  romeToday,
  segretario,
  VALDERA,
  type World,
} from './lib/world';
import { auditSection } from './sections/audit';
import { breakdownSection } from './sections/breakdown';
import { ceilingSection } from './sections/ceiling';
import { engineSection } from './sections/engine';
import { httpSection } from './sections/http';
import { notificationsSection } from './sections/notifications';
import { outageSection } from './sections/outage';
import { scalePoint } from './sections/scale';
import { timersSection } from './sections/timers';

const SECTIONS = [
  'scale',
  'ceiling',
  'engine',
  'http',
  'outage',
  'timers',
  'notifications',
  'audit',
] as const;
type Section = (typeof SECTIONS)[number];

interface Args {
  quick: boolean;
  only: Set<Section>;
  profile: boolean;
  redisHz: number | null;
  keepDb: boolean;
}

const USAGE = `npm run bench [-- options]
  --quick          short run (CI): small sizes, under a minute
  --only a,b       sections to run: ${SECTIONS.join(', ')} (default: all)
  --profile        run the api and worker children with --cpu-prof (profiles in bench/results/profiles-<ts>/)
  --redis-hz N     CONFIG SET hz N on the Redis server for the run, restored at the end (default: leave it)
  --keep-db        do not drop the bench database at the end
Environment: BENCH_DATABASE_URL (an admin connection, default postgres://postgres@127.0.0.1:5432/postgres),
             BENCH_REDIS_URL (default redis://127.0.0.1:6379)`;

function parseArgs(argv: string[]): Args {
  const a: Args = {
    quick: false,
    only: new Set(SECTIONS),
    profile: false,
    redisHz: null,
    keepDb: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? '';
    switch (flag) {
      case '--quick':
        a.quick = true;
        break;
      case '--only': {
        const names = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const bad = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
        if (bad.length) throw new Error(`unknown section(s) ${bad.join(', ')}\n${USAGE}`);
        a.only = new Set(names as Section[]);
        break;
      }
      case '--profile':
        a.profile = true;
        break;
      case '--redis-hz': {
        const hz = Number(value());
        if (!Number.isInteger(hz) || hz < 1 || hz > 500)
          throw new Error('--redis-hz: an integer between 1 and 500');
        a.redisHz = hz;
        break;
      }
      case '--keep-db':
        a.keepDb = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${argv[i]}\n${USAGE}`);
    }
  }
  return a;
}

const two = (n: number) => String(n).padStart(2, '0');

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = new Date();
  const stamp = `${started.getUTCFullYear()}${two(started.getUTCMonth() + 1)}${two(started.getUTCDate())}T${two(started.getUTCHours())}${two(started.getUTCMinutes())}${two(started.getUTCSeconds())}Z`;
  const resultsDir = resolve(__dirname, '..', '..', 'bench', 'results');
  const sizes = args.quick ? QUICK : FULL;
  const { commit, dirty } = gitCommit();
  const commitLabel = `${commit}${dirty ? '+dirty' : ''}`;
  const progress = new Progress();
  const report = new Report(commitLabel, { quick: args.quick });

  const adminUrl =
    process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const dbName = `iter_bench_${stamp.toLowerCase()}_${randomBytes(2).toString('hex')}`;
  const redisPrefix = `iter-bench-${stamp}-${randomBytes(2).toString('hex')}`;
  const childEnv: NodeJS.ProcessEnv = {
    ...benchApiEnv(withDatabase(adminUrl, dbName), redisUrl, redisPrefix),
    WORKER_HEALTH_PORT: '0', // a free port: never collides with anything else on the machine
  };
  const config = loadConfig(childEnv);
  const profileDir = join(resultsDir, `profiles-${stamp}`);
  const childExecArgv = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  if (args.profile) mkdirSync(profileDir, { recursive: true });

  const machineAtStart = machineInfo();
  const pg = await postgresInfo(adminUrl).catch((err: Error) => {
    throw new Error(
      `PostgreSQL not reachable at ${adminUrl} (${err.message}): start it or set BENCH_DATABASE_URL`,
    );
  });
  const redis0 = await redisInfo(redisUrl).catch((err: Error) => {
    throw new Error(
      `Redis not reachable at ${redisUrl} (${err.message}): start it or set BENCH_REDIS_URL`,
    );
  });
  progress.log(
    `iter bench ${args.quick ? '--quick' : '(full)'} at ${commitLabel}: database ${dbName}, Redis prefix ${redisPrefix}; ` +
      `PostgreSQL ${pg.version} (synchronous_commit=${pg.synchronousCommit}), Redis ${redis0.version} hz ${redis0.hz}, ${machineAtStart.cpus} cores`,
  );
  const busy = machineAtStart.loadavg[0]! > 1;
  if (busy) {
    progress.log(
      `warning: the machine is busy (load average ${machineAtStart.loadavg.join(' ')} on ${machineAtStart.cpus} cores): ` +
        'absolute figures will be low and noisy; the ratios to the ceiling measured in this same run remain comparable',
    );
  }

  // everything below is undone at the end, also on Ctrl-C
  const children: RunningChild[] = [];
  let world: World | null = null;
  let cleaning: Promise<void> | null = null;
  // one cleanup, awaited by whoever asks (the end of the run or a signal, whichever comes first)
  const cleanup = (): Promise<void> => (cleaning ??= doCleanup());
  const doCleanup = async () => {
    for (const c of children) await c.stop().catch(() => undefined);
    if (world) await world.close().catch(() => undefined);
    const deleted = await deleteRedisPrefix(redisUrl, redisPrefix).catch(() => -1);
    if (args.redisHz !== null) await setRedisHz(redisUrl, redis0.hz).catch(() => undefined);
    if (!args.keepDb)
      await dropDatabase(adminUrl, dbName).catch((err: Error) =>
        progress.log(`could not drop ${dbName}: ${err.message}`),
      );
    progress.log(
      `cleaned up: ${args.keepDb ? `database ${dbName} KEPT` : `database ${dbName} dropped`}, ${deleted} Redis keys deleted${args.redisHz !== null ? `, hz restored to ${redis0.hz}` : ''}`,
    );
  };
  const onSignal = (sig: string) => {
    progress.log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));

  let failure: Error | null = null;
  let redisHz = redis0.hz;
  try {
    if (args.redisHz !== null) {
      await setRedisHz(redisUrl, args.redisHz);
      redisHz = args.redisHz;
      progress.log(
        `Redis hz set to ${args.redisHz} for this run (was ${redis0.hz}; restored at the end)`,
      );
    }
    await createDatabase(adminUrl, dbName);
    {
      const ds = createDataSource({ url: config.databaseUrl, poolSize: 2 });
      await ds.initialize();
      await runMigrations(ds);
      await seedUnioni(ds, ['valdera']);
      await ds.destroy();
    }
    world = await createWorld(config);
    const w = world;
    const ctx: BenchContext = {
      quick: args.quick,
      sizes,
      config,
      childEnv,
      childExecArgv,
      world: w,
      report,
      progress,
      ceiling: new Map(),
      iterSql: new Map(),
      engineRate: new Map(),
      engineRateApiPool: null,
      probeRate: 1000,
      fresh: [],
      memory: {},
    };

    // templates: a convention just sent (fillers), one 8 sessions in (ceiling), one 16 sessions in (audit)
    const { ids: tpl } = await createConventions(w, 3, { label: 'templates' });
    const [fillerTemplate, ceilingTemplate, auditTemplate] = tpl as [string, string, string];
    const date = romeToday();
    const p0 = Date.now();
    for (let i = 0; i < 16; i++) {
      const ente = VALDERA.entes[i % VALDERA.entes.length]!;
      if (i < 8)
        await w.setupEngine.dispatch(
          ceilingTemplate,
          rinviata(ente, nextActNumber(), date),
          segretario(ente),
        );
      await w.setupEngine.dispatch(
        auditTemplate,
        rinviata(ente, nextActNumber(), date),
        segretario(ente),
      );
    }
    // 24 dispatches one after the other: with 2 cores, 8 callers go about 3 times faster (sizes the working sets)
    ctx.probeRate = Math.min(5000, Math.max(50, (3 * 24 * 1000) / Math.max(1, Date.now() - p0)));

    const dropNotificationBacklog = async () => {
      // housekeeping between sections: no worker ran, so every notification of the engine and http sections is
      // still queued; the timer worker must start without that artificial backlog
      await deleteRedisPrefix(redisUrl, `${redisPrefix}:notifications`);
      await w.ds.query(
        `UPDATE outbox SET status = 'delivered', delivered_at = now() WHERE status = 'pending'`,
      );
    };

    const seconds: Record<string, number> = {};
    const timed = async (name: string, fn: () => Promise<void>) => {
      const t0 = Date.now();
      await fn();
      seconds[name] = round((Date.now() - t0) / 1000, 1);
      report.detail('sectionSeconds', seconds);
    };
    // the CPU breakdown first: it also warms the engine's code up (JIT) before the first measured loop
    if (args.only.has('engine'))
      await timed('breakdown', () => breakdownSection(ctx, ceilingTemplate));
    if (args.only.has('scale'))
      await timed('scale-small', () => scalePoint(ctx, sizes.scaleSmall, fillerTemplate));
    if (args.only.has('ceiling'))
      await timed('ceiling', () => ceilingSection(ctx, ceilingTemplate));
    if (args.only.has('engine')) {
      await timed('engine', async () => {
        await engineSection(ctx);
        await dropNotificationBacklog();
      });
    }
    if (args.only.has('http')) {
      await timed('http', async () => {
        progress.set('http: starting the api');
        const api = await startChild(
          'api',
          join(__dirname, 'api-server.js'),
          childEnv,
          childExecArgv,
        );
        children.push(api);
        await httpSection(ctx, api);
        ctx.memory['api'] = await api.memory();
        await api.stop();
        await dropNotificationBacklog();
      });
    }
    if (args.only.has('outage')) {
      await timed('outage', async () => {
        await outageSection(ctx);
        await dropNotificationBacklog();
      });
    }
    if (args.only.has('timers')) {
      await timed('timers', async () => {
        progress.set('timers: starting the worker');
        const worker = await startChild(
          'worker',
          join(__dirname, 'worker-server.js'),
          childEnv,
          childExecArgv,
        );
        children.push(worker);
        await timersSection(ctx, worker);
      });
    }
    if (args.only.has('notifications'))
      await timed('notifications', () => notificationsSection(ctx));
    if (args.only.has('scale'))
      await timed('scale-large', () => scalePoint(ctx, sizes.scaleLarge, fillerTemplate));
    if (args.only.has('audit')) await timed('audit', () => auditSection(ctx, auditTemplate));

    for (const [name, m] of Object.entries(ctx.memory)) {
      report.add({
        section: '6 scale',
        name: `RSS of the ${name} process at the end`,
        value: m.rss / 2 ** 20,
        unit: 'MB',
        note: m.heapUsed !== null ? `heap used ${Math.round(m.heapUsed / 2 ** 20)} MB` : '',
      });
    }
    report.detail('memory', ctx.memory);
    report.detail('benchProcessRss', process.memoryUsage().rss);
  } catch (err) {
    failure = err instanceof Error ? err : new Error(String(err));
  } finally {
    progress.clear();
    await cleanup();
  }

  const finished = new Date();
  const file = join(resultsDir, `${stamp}.json`);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        commit,
        dirty,
        mode: args.quick ? 'quick' : 'full',
        sections: [...args.only],
        startedAt: started.toISOString(),
        finishedAt: finished.toISOString(),
        seconds: round((finished.getTime() - started.getTime()) / 1000, 1),
        machine: {
          ...machineAtStart,
          loadavgAtStart: machineAtStart.loadavg,
          loadavgAtEnd: machineInfo().loadavg,
        },
        postgres: pg,
        redis: {
          version: redis0.version,
          hz: redisHz,
          hzChangedForRun: args.redisHz !== null,
          hzBefore: redis0.hz,
        },
        sizes,
        error: failure ? (failure.stack ?? failure.message) : null,
        figures: report.figures,
        goals: report.goals(args.only),
        details: report.details,
      },
      null,
      2,
    )}\n`,
  );
  console.log(
    `\nIter benchmark ${args.quick ? '(quick)' : '(full)'}, commit ${commitLabel}, ${finished.toISOString()}, ` +
      `${machineAtStart.cpus} cores (load average ${machineAtStart.loadavg.join(' ')} at start, ${machineInfo().loadavg.join(' ')} at end), ` +
      `PostgreSQL ${pg.version}, Redis ${redis0.version} hz ${redisHz}\n`,
  );
  console.log(report.table());
  console.log(`\nIssue 15 goals (${args.quick ? 'quick sizes' : 'full sizes'}):\n`);
  console.log(report.goalsTable(args.only));
  const misses = report.misses;
  console.log(
    `\n${report.figures.filter((f) => f.pass === true).length} PASS, ${misses.length} MISS${misses.length ? `: ${misses.map((m) => m.name).join('; ')}` : ''}`,
  );
  console.log(`results: ${file} (${round((finished.getTime() - started.getTime()) / 1000, 1)} s)`);
  if (failure) {
    console.error(`\nbench failed: ${failure.stack ?? failure.message}`);
    process.exit(1);
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
