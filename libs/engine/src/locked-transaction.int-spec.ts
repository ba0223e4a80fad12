import { toRomeDate } from '@app/calendar';
import { type Actor, ProcessNotFoundError, RuleViolationError, systemClock } from '@app/common';
import { createDataSource } from '@app/persistence';
import { defaultRegistry } from '@app/workflows';
import type { DataSource } from 'typeorm';
import { startHarness, type Harness } from '../../../test/support/harness';
import { sentConvention } from '../../../test/support/engine-scenario';
import { unione } from '../../../test/support/scenario';
import { Engine } from './engine.service';
import { NO_SCHEDULER } from './ports';

/**
 * A step's transaction opens and locks its process in one round trip (START TRANSACTION + EXECUTE of a statement
 * prepared once per connection), and the act it records is written by the step's own statement (issue 15). What
 * must hold: a refused or failed step leaves no transaction open on its connection and writes nothing; the
 * connection (one, here) goes on serving steps; a connection that died is replaced and prepared again.
 */
describe('Engine: begin + lock in one round trip, the act in the step statement', () => {
  let h: Harness;
  let ds: DataSource;
  let engine: Engine;
  const v = unione('valdera');
  const [comune, other] = v.comuni as [string, string];
  const segretario = (ente: string): Actor => ({
    subject: `segretario@${ente}`,
    roles: ['segretario'],
    ente,
    unione: v.ipa,
  });
  // a Rome date: a UTC date would be the day before the sending between midnight and 01:00 in Rome
  const today = toRomeDate(new Date());
  const rinviata = (ente: string, number: string) => ({
    type: 'convention.deliberation.record',
    payload: { ente, number, date: today, outcome: 'RINVIATA' },
  });

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true });
    // ONE connection, a short lock timeout: every step below goes through the same session
    ds = createDataSource({
      url: h.config.databaseUrl,
      poolSize: 1,
      timeouts: { connectMs: 5000, statementMs: 20000, lockMs: 300, idleInTransactionMs: 20000 },
    });
    await ds.initialize();
    engine = new Engine(ds, defaultRegistry(), NO_SCHEDULER, systemClock);
  });
  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await h?.close();
  });

  const sent = async (title: string) => (await sentConvention(engine, v, title)).id;

  /** sessions of this database left inside a transaction (the engine's one connection among them) */
  async function openTransactions(): Promise<number> {
    const r: { n: number }[] = await h.ds.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    );
    return r[0]!.n;
  }

  async function head(id: string): Promise<{ version: number; last_seq: number; events: number }> {
    const r: { version: number; last_seq: number; events: number }[] = await h.ds.query(
      `SELECT version, last_seq, (SELECT count(*)::int FROM process_event WHERE instance_id = $1) AS events
       FROM process_instance WHERE id = $1`,
      [id],
    );
    return r[0]!;
  }

  it('a step locks, writes its act and commits; the same connection serves the next steps', async () => {
    const id = await sent('Uno');
    const before = await head(id);
    await engine.dispatch(id, rinviata(comune, '101'), segretario(comune));
    await engine.dispatch(id, rinviata(other, '101'), segretario(other));
    expect(await head(id)).toEqual({
      version: before.version + 2,
      last_seq: before.last_seq + 2,
      events: before.events + 2,
    });
    const acts: { ente: string; number: string; event_seq: number }[] = await h.ds.query(
      `SELECT ente, number, event_seq FROM act_registry WHERE instance_id = $1 ORDER BY event_seq`,
      [id],
    );
    expect(acts).toEqual([
      { ente: comune, number: '101', event_seq: before.last_seq + 1 },
      { ente: other, number: '101', event_seq: before.last_seq + 2 },
    ]);
    expect(await openTransactions()).toBe(0);
  });

  it('a number already used (here by another process) refuses the step: nothing written, no transaction left', async () => {
    const first = await sent('Due');
    const second = await sent('Tre');
    await engine.dispatch(first, rinviata(comune, '202'), segretario(comune));
    const before = await head(second);
    const err = await engine
      .dispatch(second, rinviata(comune, '202'), segretario(comune))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuleViolationError);
    expect((err as RuleViolationError).rule).toBe('DELIBERATION_NUMBER_USED');
    expect(await head(second)).toEqual(before);
    expect(await openTransactions()).toBe(0);
    // the number is free for another ente, and the connection is fine
    await engine.dispatch(second, rinviata(other, '202'), segretario(other));
    expect((await head(second)).version).toBe(before.version + 1);
  });

  it('another unione’s process, an unknown id and a malformed id: refused, the transaction closed', async () => {
    const id = await sent('Quattro');
    const stranger: Actor = { ...segretario('c_zzzz'), ente: 'c_zzzz', unione: 'u_zzzz' };
    await expect(engine.dispatch(id, rinviata(comune, '301'), stranger)).rejects.toBeInstanceOf(
      ProcessNotFoundError,
    );
    await expect(
      engine.dispatch(
        '00000000-0000-4000-8000-000000000000',
        rinviata(comune, '302'),
        segretario(comune),
      ),
    ).rejects.toBeInstanceOf(ProcessNotFoundError);
    // a quote in the id cannot escape its literal: the database refuses it as a uuid
    await expect(
      engine.dispatch(
        `x'); DROP TABLE act_registry; --`,
        rinviata(comune, '303'),
        segretario(comune),
      ),
    ).rejects.toMatchObject({ code: '22P02' });
    expect(await openTransactions()).toBe(0);
    await engine.dispatch(id, rinviata(comune, '304'), segretario(comune));
    const tables: { n: number }[] = await h.ds.query(
      `SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'act_registry'`,
    );
    expect(tables[0]!.n).toBe(1);
  });

  it('a process locked by someone else: PROCESS_BUSY after lock_timeout, the transaction closed, then served', async () => {
    const id = await sent('Cinque');
    const holder = h.ds.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    await holder.query(`SELECT id FROM process_instance WHERE id = $1 FOR UPDATE`, [id]);
    try {
      const err = await engine
        .dispatch(id, rinviata(comune, '401'), segretario(comune))
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: '55P03' });
    } finally {
      await holder.rollbackTransaction();
      await holder.release();
    }
    expect(await openTransactions()).toBe(0);
    const before = await head(id);
    await engine.dispatch(id, rinviata(comune, '401'), segretario(comune));
    expect((await head(id)).version).toBe(before.version + 1);
  });

  it('a step that waited for the lock sees the timers as the step before it left them, not as they were', async () => {
    const id = await sent('Sette');
    const waiting = new Engine(h.ds, defaultRegistry(), NO_SCHEDULER, systemClock);
    const key = `deadline:${comune}`;
    const [{ due }] = await h.ds.query<[{ due: Date }]>(
      `SELECT due_at AS due FROM timer WHERE instance_id = $1 AND key = $2 AND held`,
      [id, key],
    );
    // another step holds the process: it lets go of the deadline and arms one ten days later (a proroga's
    // timers, without the proroga: the waiting step's state still wants the old date)
    const other = h.ds.createQueryRunner();
    await other.connect();
    await other.startTransaction();
    await other.query(`SELECT id FROM process_instance WHERE id = $1 FOR UPDATE`, [id]);
    await other.query(
      `UPDATE timer SET held = false, status = 'cancelled', cancelled_at = now()
       WHERE instance_id = $1 AND key = $2 AND held`,
      [id, key],
    );
    await other.query(
      `INSERT INTO timer (id, instance_id, key, kind, due_at, event, status, armed_version, held)
       SELECT gen_random_uuid(), instance_id, key, kind, due_at + interval '10 days', event, 'armed', armed_version, true
       FROM timer WHERE instance_id = $1 AND key = $2 LIMIT 1`,
      [id, key],
    );
    const step = waiting.dispatch(id, rinviata(comune, '601'), segretario(comune));
    try {
      // the step is waiting for the lock
      for (let i = 0; i < 200; i++) {
        const w: { n: number }[] = await h.ds.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (w[0]!.n > 0) break;
        await new Promise((r) => setTimeout(r, 25));
      }
    } finally {
      await other.commitTransaction();
      await other.release();
    }
    await step;
    // the waiting step saw the new timer (not the old one) and put back the date its state wants
    const held: { due_at: Date; status: string }[] = await h.ds.query(
      `SELECT due_at, status FROM timer WHERE instance_id = $1 AND key = $2 AND held`,
      [id, key],
    );
    expect(held).toEqual([{ due_at: due, status: 'armed' }]);
  });

  it('a connection that died is replaced: the new one is prepared again and serves the step', async () => {
    const id = await sent('Sei');
    // the engine's one connection (it has iter_lock_tx prepared) is killed by the server
    const [{ pid }] = await ds.query<[{ pid: number }]>(`SELECT pg_backend_pid() AS pid`);
    const prepared: { n: number }[] = await ds.query(
      `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = 'iter_lock_tx'`,
    );
    expect(prepared[0]!.n).toBe(1);
    await h.ds.query(`SELECT pg_terminate_backend($1)`, [pid]);
    // the pool notices the dead idle connection (error event) or the first statement fails on it
    const before = await head(id);
    let done = false;
    for (let i = 0; i < 3 && !done; i++) {
      done = await engine
        .dispatch(id, rinviata(comune, String(501 + i)), segretario(comune))
        .then(() => true)
        .catch(() => false);
    }
    expect(done).toBe(true);
    expect((await head(id)).version).toBe(before.version + 1);
    expect(await openTransactions()).toBe(0);
  });
});
