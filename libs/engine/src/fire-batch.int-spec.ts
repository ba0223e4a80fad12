import { defaultRegistry } from '@app/workflows';
import { startHarness, type Harness } from '../../../test/support/harness';
import { sentConvention } from '../../../test/support/engine-scenario';
import { unione } from '../../../test/support/scenario';
import { Engine } from './engine.service';
import { NO_SCHEDULER } from './ports';
import { verifyChain } from './process-query.service';

/**
 * Engine.fireDue fires every due timer of a process in ONE transaction, reading the due timers once and
 * starting each step from the row the step before it wrote (no re-read under the lock it holds: issue 15).
 * What it must give is exactly what firing the same timers one by one (fireTimer, one transaction each, the
 * row re-read every time) gives: the same states, the same timers fired and cancelled, a chain that verifies,
 * and no timer fired that an earlier step of the batch let go of.
 */
describe('Engine.fireDue: a batch in one transaction equals the timers fired one by one', () => {
  let h: Harness;
  let engine: Engine;
  const v = unione('valdera');

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true });
    engine = new Engine(h.ds, defaultRegistry(), NO_SCHEDULER, h.clock);
  });
  afterAll(async () => h?.close());

  const sent = async (title: string) => (await sentConvention(engine, v, title, h.clock)).id;

  interface TimerRow {
    id: string;
    key: string;
    status: string;
    held: boolean;
    fired: boolean;
    cancelled: boolean;
  }
  const timersOf = (id: string): Promise<TimerRow[]> =>
    h.ds.query(
      `SELECT id, key, status, held, fired_at IS NOT NULL AS fired, cancelled_at IS NOT NULL AS cancelled
       FROM timer WHERE instance_id = $1 ORDER BY key`,
      [id],
    );

  /**
   * what must be equal between the two ways: the state, each ente's status, the events (type and timer key, as
   * a set: timers due at the same instant may go in another order) and every timer's outcome. Times differ (a
   * batch dates its steps with one clock reading) and are left out.
   */
  async function outcome(id: string) {
    const [head] = await h.ds.query<Record<string, unknown>[]>(
      `SELECT state_value, status, pending_entes,
              (SELECT jsonb_object_agg(e->>'codiceIpa', e->>'status')
               FROM jsonb_array_elements(snapshot->'context'->'entes') e) AS entes, last_seq
       FROM process_instance WHERE id = $1`,
      [id],
    );
    const events: { type: string; key: string | null }[] = await h.ds.query(
      `SELECT e.type, t.key FROM process_event e LEFT JOIN timer t ON t.id = e.timer_id
       WHERE e.instance_id = $1 ORDER BY e.type, t.key`,
      [id],
    );
    const timers = (await timersOf(id)).map(({ id: _id, ...rest }) => rest);
    return { head, events, timers };
  }

  it('every deadline and reminder of 8 entes due at once: same outcome, each timer decided once', async () => {
    h.clock.set(new Date('2026-03-02T09:00:00+01:00'));
    const batch = await sent('Batch');
    const single = await sent('Uno per uno');
    // past every ente's term: 8 deadlines and their 24 reminders are all due
    h.clock.set(new Date('2026-06-30T12:00:00+02:00'));

    const batchTimers = await timersOf(batch);
    expect(batchTimers.filter((t) => t.status === 'armed')).toHaveLength(32);
    // the job's own timer is a deadline: it goes first, and lets go of its ente's due reminders
    const own = batchTimers.find((t) => t.key.startsWith('deadline:'))!;
    const report = await engine.fireDue(own.id, { maxInstances: 0, maxTimersPerInstance: 64 });
    expect(report.own).toBe('fired');
    expect(report.instances).toBe(1);

    // the same timers, one transaction each: the same deadline first, then by due date (ties by key)
    const order: { id: string; key: string }[] = await h.ds.query(
      `SELECT id, key FROM timer WHERE instance_id = $1 AND status = 'armed' ORDER BY due_at, key`,
      [single],
    );
    const first = order.find((t) => t.key === own.key)!;
    for (const t of [first, ...order.filter((x) => x !== first)]) await engine.fireTimer(t.id);

    const a = await outcome(batch);
    const b = await outcome(single);
    expect(a).toEqual(b);
    // each deadline fired once, no reminder delivered after its deadline, nothing left armed
    expect(a.events.filter((e) => e.type === 'convention.deadline.expire')).toHaveLength(8);
    expect(a.events.filter((e) => e.type === 'convention.reminder')).toHaveLength(0);
    expect(a.timers.filter((t) => t.status === 'armed')).toEqual([]);
    // a deadline: fired (with its time, never a cancellation time) and let go of, its ente being overdue;
    // a reminder: cancelled (late, or let go of by its ente's deadline), never fired
    for (const t of a.timers) {
      if (t.key.startsWith('deadline:'))
        expect(t).toEqual({
          key: t.key,
          status: 'fired',
          held: false,
          fired: true,
          cancelled: false,
        });
      else
        expect(t).toMatchObject({
          status: 'cancelled',
          held: false,
          fired: false,
          cancelled: true,
        });
    }
    expect(new Set(a.events.map((e) => e.key).filter(Boolean)).size).toBe(
      a.events.filter((e) => e.key).length,
    );
    for (const id of [batch, single]) {
      const verdict = await verifyChain(h.ds, id);
      expect(verdict).toMatchObject({ valid: true, firstBadSeq: null });
    }
  });
});
