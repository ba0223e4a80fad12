import { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { toRomeDate } from '@app/calendar';
import { systemClock, type Actor, type Clock, type IterConfig } from '@app/common';
import { Engine, NO_SCHEDULER, type EventRequest, type JobScheduler } from '@app/engine';
import { createDataSource, UNIONI_FIXTURES } from '@app/persistence';
import { BullJobScheduler, QueueName, redisConnection } from '@app/scheduling';
import { defaultRegistry, type DefinitionRegistry } from '@app/workflows';
import { forEachConcurrent } from './load';
import type { Progress } from './progress';

/** The convention every figure uses: the Unione Valdera (DOMAIN.md §6.1) and its 7 founding comuni = 8 entes. */
export const VALDERA = (() => {
  const u = UNIONI_FIXTURES.find((x) => x.key === 'valdera');
  if (!u) throw new Error('the Valdera fixture is missing from @app/persistence');
  const members = u.comuni.filter((c) => !c.joinedLater).map((c) => c.codiceIpa);
  return { unione: u.codiceIpa, members, entes: [u.codiceIpa, ...members] };
})();

export const CONVENTION_TEXT =
  'CONVENZIONE PER LA GESTIONE IN FORMA ASSOCIATA DELLA FUNZIONE ICT E DELL’UFFICIO PER LA TRANSIZIONE AL DIGITALE\n' +
  'Art. 1 Oggetto. Art. 2 Trasferimento della funzione. Art. 3 Responsabile per la transizione al digitale. ' +
  'Art. 4 Riparto spese. Art. 5 Durata. Art. 6 Recesso.';

export const PRESIDENTE: Actor = {
  subject: 'bench.presidente',
  roles: ['presidente'],
  ente: VALDERA.unione,
  unione: VALDERA.unione,
};

const segretari = new Map<string, Actor>(
  VALDERA.entes.map((ente) => [
    ente,
    { subject: `bench.segretario.${ente}`, roles: ['segretario'], ente, unione: VALDERA.unione },
  ]),
);
export const segretario = (ente: string): Actor => segretari.get(ente)!;

/**
 * The repeatable "approve-style" step: a council session recorded as RINVIATA (postponed). It goes through the
 * whole pipeline (authorization by ente, DTO validation, domain rule, XState transition, audit, outbox with two
 * notifications) and can be sent again with another number, so a benchmark never runs out of valid events.
 * Each one adds a session (~290 B) to the snapshot, so an instance is used for at most `budget` of them.
 */
export function rinviata(ente: string, number: number, date: string): EventRequest {
  return {
    type: 'convention.deliberation.record',
    payload: { ente, number: String(number), date, outcome: 'RINVIATA' },
  };
}

/**
 * Today in Rome: a valid deliberation date for every convention sent before now (not in the future, not before
 * the sending). Take it after the conventions are created.
 */
export const romeToday = (): string => toRomeDate(systemClock.now());

let actNumber = 1000;
/**
 * A council's deliberation number is unique per ente, organ and year across every process (act_registry), so every
 * event of the bench takes a number never used before, from one counter (at most 999,999 per ente and year).
 */
export const nextActNumber = (): number => {
  if (actNumber >= 999_999) throw new Error('deliberation numbers exhausted for this year');
  return ++actNumber;
};

export interface Lease {
  id: string;
  used: number;
}

/** Instances in IN_DELIBERATION, each used for at most `budget` RINVIATA events (round robin over its 8 entes). */
export class InstancePool {
  private readonly free: Lease[];
  private head = 0;
  constructor(
    ids: readonly string[],
    readonly budget: number,
    readonly date: string,
  ) {
    this.free = ids.map((id) => ({ id, used: 0 }));
  }

  get remaining(): number {
    return this.free.length - this.head;
  }

  /** an instance nobody else holds, or null when every instance has used its budget */
  take(): Lease | null {
    if (this.head >= this.free.length) return null;
    return this.free[this.head++]!;
  }

  /** the next event of this instance (consumes one unit of its budget) */
  next(l: Lease): { req: EventRequest; actor: Actor } {
    const ente = VALDERA.entes[l.used % VALDERA.entes.length]!;
    const req = rinviata(ente, nextActNumber(), this.date);
    l.used++;
    return { req, actor: segretario(ente) };
  }

  give(l: Lease): void {
    if (l.used < this.budget) this.free.push(l);
    // compact now and then so the array does not grow without bound
    if (this.head > 4096 && this.head * 2 > this.free.length) {
      this.free.splice(0, this.head);
      this.head = 0;
    }
  }
}

export interface World {
  config: IterConfig;
  clock: Clock;
  registry: DefinitionRegistry;
  /** the bench's own pool (setup, queries) */
  ds: DataSource;
  queues: { timers: Queue; notifications: Queue };
  scheduler: BullJobScheduler;
  /** creates conventions without touching Redis (timers of the working set are not enqueued) */
  setupEngine: Engine;
  dataSource(poolSize: number): Promise<DataSource>;
  engine(ds: DataSource, scheduler?: JobScheduler): Engine;
  close(): Promise<void>;
}

export async function createWorld(config: IterConfig): Promise<World> {
  const clock = systemClock;
  const registry = defaultRegistry();
  const sources: DataSource[] = [];
  const dataSource = async (poolSize: number): Promise<DataSource> => {
    const ds = createDataSource({ url: config.databaseUrl, poolSize });
    await ds.initialize();
    sources.push(ds);
    return ds;
  };
  const ds = await dataSource(8);
  const connection = redisConnection(config.redisUrl);
  const queues = {
    timers: new Queue(QueueName.Timers, { connection, prefix: config.redisPrefix }),
    notifications: new Queue(QueueName.Notifications, { connection, prefix: config.redisPrefix }),
  };
  const scheduler = new BullJobScheduler(queues.timers, queues.notifications, clock);
  return {
    config,
    clock,
    registry,
    ds,
    queues,
    scheduler,
    setupEngine: new Engine(ds, registry, NO_SCHEDULER, clock),
    dataSource,
    engine: (d, s = scheduler) => new Engine(d, registry, s, clock),
    close: async () => {
      await queues.timers.close();
      await queues.notifications.close();
      for (const s of sources) if (s.isInitialized) await s.destroy();
    },
  };
}

/**
 * n conventions of the Unione Valdera, each started, its text frozen and sent to the 8 councils (PEC delivery now):
 * state IN_DELIBERATION, 8 deadlines + 24 reminders armed as timer rows (not enqueued: the setup engine has no
 * scheduler). Done through the real engine, 8 at a time. Returns the ids and the throughput of the setup.
 */
export async function createConventions(
  w: World,
  n: number,
  opts: {
    label: string;
    progress?: Progress;
    policy?: Record<string, unknown>;
    businessKeyPrefix?: string;
  } = { label: 'conventions' },
): Promise<{ ids: string[]; seconds: number }> {
  const ids: string[] = new Array<string>(n);
  const t0 = Date.now();
  const prefix = opts.businessKeyPrefix ?? `bench-${opts.label}-${t0}`;
  await forEachConcurrent(
    Array.from({ length: n }, (_, i) => i),
    8,
    async (i) => {
      const input = {
        title: 'Convenzione ICT (bench)',
        unione: VALDERA.unione,
        members: VALDERA.members,
        ...(opts.policy ? { policy: opts.policy } : {}),
      };
      const v = await w.setupEngine.start(
        { definition: 'convenzione', businessKey: `${prefix}-${i}`, input },
        PRESIDENTE,
      );
      await w.setupEngine.dispatch(
        v.id,
        { type: 'convention.freeze', payload: { text: CONVENTION_TEXT } },
        PRESIDENTE,
      );
      await w.setupEngine.dispatch(
        v.id,
        { type: 'convention.send', payload: { deliveredAt: w.clock.now().toISOString() } },
        PRESIDENTE,
      );
      ids[i] = v.id;
    },
    (done) =>
      opts.progress?.set(`setup: ${opts.label}: ${done}/${n} conventions started, frozen and sent`),
  );
  return { ids, seconds: (Date.now() - t0) / 1000 };
}

export async function countRows(
  ds: DataSource,
): Promise<{ instances: number; events: number; timers: number; outbox: number }> {
  // reltuples would be cheaper, but exact counts are what a reader expects next to a figure
  const r: { i: string; e: string; t: string; o: string }[] = await ds.query(
    `SELECT (SELECT count(*) FROM process_instance) i, (SELECT count(*) FROM process_event) e,
            (SELECT count(*) FROM timer) t, (SELECT count(*) FROM outbox) o`,
  );
  const row = r[0]!;
  return {
    instances: Number(row.i),
    events: Number(row.e),
    timers: Number(row.t),
    outbox: Number(row.o),
  };
}
