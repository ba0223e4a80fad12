import type { Actor } from '@app/common';
import { eventually, startHarness, type Harness } from '../../../test/support/harness';
import { CONVENTION_TEXT, pareri, sha256, unione } from '../../../test/support/scenario';
import {
  errorLines,
  killAllWorkerProcesses,
  startWorkerProcess,
} from '../../../test/support/worker-process';

/**
 * No reminder after its deadline (issue 10). The worker is down across a council's whole term: when it comes
 * back every reminder "15, 7 and 1 days before" and the deadline are due at once, and BullMQ runs them in any
 * order. A reminder that comes due at or after its deadline (or once a closer reminder is due) is cancelled,
 * never written as an event nor delivered; the outcome is the same whatever the order.
 *
 * Three conventions live the same story (QUORUM of 1 comune, EXTEND_ONCE_THEN_NON_ADERENTE: the Unione and
 * the first comune approve, the second comune stays silent): the worker is down from the sending to 9 April
 * 2026 (past the first term, 7 April), then down again until 1 June (past the extension, 7 May). One
 * convention's due timers are fired by the engine oldest first, one newest first, and one by real worker
 * processes restarted at each of the two moments.
 */
describe('reminders are never delivered after their deadline, whatever the order of overdue jobs', () => {
  let h: Harness;
  const v = unione('valdera');
  const [first, silent] = v.comuni as [string, string];
  const person = (role: 'presidente' | 'segretario', ente: string): Actor => ({
    subject: `${role}@${ente}`,
    roles: [role],
    ente,
    unione: v.ipa,
  });
  const PRESIDENTE = person('presidente', v.ipa);
  let numbers = 0;

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true }); // no in-process worker: the worker is down
  });
  afterAll(async () => {
    await killAllWorkerProcesses();
    await h?.close();
  });

  async function open(title: string): Promise<string> {
    h.clock.set(new Date('2026-02-02T09:00:00Z'));
    const { id } = await h.engine.start(
      {
        definition: 'convenzione',
        input: {
          title,
          unione: v.ipa,
          members: [first, silent],
          policy: {
            approval: 'QUORUM',
            quorumMinEntes: 1,
            nonDeliberating: 'EXTEND_ONCE_THEN_NON_ADERENTE',
          },
        },
      },
      PRESIDENTE,
    );
    await h.engine.dispatch(
      id,
      { type: 'convention.freeze', payload: { text: CONVENTION_TEXT } },
      PRESIDENTE,
    );
    h.clock.set(new Date('2026-02-05T12:00:00Z'));
    await h.engine.dispatch(
      id,
      { type: 'convention.send', payload: { deliveredAt: '2026-02-05T10:00:00+01:00' } },
      PRESIDENTE,
    );
    h.clock.set(new Date('2026-02-20T17:00:00Z'));
    for (const ente of [v.ipa, first]) {
      const number = String(++numbers); // unique per ente, organ and year across processes
      await h.engine.dispatch(
        id,
        {
          type: 'convention.deliberation.record',
          payload: {
            ente,
            number,
            date: '2026-02-20',
            outcome: 'APPROVED',
            textHash: sha256(CONVENTION_TEXT),
            pareri: pareri('2026-02-20'),
            immediatamenteEseguibile: true,
            ieVotes: { favorevoli: 10, contrari: 0, astenuti: 0, presenti: 10, assegnati: 13 },
          },
        },
        person('segretario', ente),
      );
    }
    return id;
  }

  const dueArmed = (id: string) =>
    h.ds.query<{ id: string }[]>(
      `SELECT id FROM timer WHERE instance_id = $1 AND status = 'armed' AND due_at <= $2 ORDER BY due_at, key`,
      [id, h.clock.now().toISOString()],
    );

  /** fire the due timers one by one, oldest or newest first, until none is due (firing may arm new ones) */
  async function drain(id: string, order: 'oldest' | 'newest'): Promise<void> {
    for (;;) {
      const due = await dueArmed(id);
      const next = order === 'oldest' ? due[0] : due.at(-1);
      if (!next) return;
      await h.engine.fireTimer(next.id);
    }
  }

  /** everything that tells the outcome: timer rows, events, deliveries, the silent comune's row */
  async function outcome(id: string) {
    const timers = await h.ds.query<{ key: string; status: string; due_at: Date }[]>(
      `SELECT key, status, due_at FROM timer WHERE instance_id = $1`,
      [id],
    );
    const events = await h.ds.query<{ type: string; payload: Record<string, unknown> }[]>(
      `SELECT type, payload FROM process_event WHERE instance_id = $1 AND timer_id IS NOT NULL ORDER BY seq`,
      [id],
    );
    const outbox = await h.ds.query<{ template: string; recipient_ente: string }[]>(
      `SELECT template, recipient_ente FROM outbox WHERE instance_id = $1`,
      [id],
    );
    const view = await h.engine.viewOf(id, PRESIDENTE);
    const row = (view.data['entes'] as Record<string, unknown>[]).find(
      (e) => e['ente'] === silent,
    )!;
    return {
      state: view.state,
      timers: timers.map((t) => `${t.key} ${t.due_at.toISOString()} ${t.status}`).sort(),
      timerEvents: events.map((e) => `${e.type} ${String(e.payload['ente'])}`),
      deliveries: outbox.map((o) => `${o.template} ${o.recipient_ente}`).sort(),
      silent: {
        status: row['status'],
        leftOn: row['leftOn'],
        remindersSent: row['remindersSent'],
        deadline: (row['deadline'] as { date: string }).date,
      },
    };
  }

  it('cancels every late reminder, marks the comune NON_ADERENTE from the day its term ended, in any order', async () => {
    const oldest = await open('Oldest first');
    const newest = await open('Newest first');
    const byWorker = await open('Real worker');

    for (const moment of ['2026-04-09T08:00:00Z', '2026-06-01T08:00:00Z']) {
      h.clock.set(new Date(moment));
      await drain(oldest, 'oldest');
      await drain(newest, 'newest');
      // the real worker comes back: its start-up reconciliation promotes every due job at once
      const w = await startWorkerProcess({
        name: 'iter-late-reminders',
        databaseUrl: h.config.databaseUrl,
        redisPrefix: h.config.redisPrefix,
        clockOffsetMs: h.clock.offset,
      });
      await eventually(async () => (await dueArmed(byWorker)).length === 0, 30_000, 100);
      await w.stop();
      expect(errorLines(w.output())).toEqual([]);
    }

    const a = await outcome(oldest);
    const b = await outcome(newest);
    const c = await outcome(byWorker);
    // no reminder was written or delivered: both terms had ended when the worker came back
    for (const o of [a, b, c]) {
      expect(o.timerEvents).toEqual([
        `convention.deadline.expire ${silent}`, // 9 April: the term of 7 April is extended once by 30 days
        `convention.deadline.expire ${silent}`, // 1 June: the extended term of 7 May passed → NON_ADERENTE
      ]);
      expect(o.deliveries.filter((d) => d.startsWith('convention.reminder'))).toEqual([]);
      expect(o.timers.filter((t) => t.startsWith('reminder:') && !t.endsWith('cancelled'))).toEqual(
        [],
      );
      // the comune left on the day its (extended) term ended, not when the late timer was processed
      expect(o.silent).toEqual({
        status: 'NON_ADERENTE',
        leftOn: '2026-05-07',
        remindersSent: 0,
        deadline: '2026-05-07',
      });
      expect(o.state).toBe('READY_TO_SIGN'); // the Unione and the first comune are executive (IE)
    }
    // the same outcome whatever the order: oldest first, newest first, or the worker's own
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    // three reminders for each of the two terms were armed, and all six cancelled
    expect(a.timers.filter((t) => t.startsWith(`reminder:${silent}`))).toHaveLength(6);
  }, 120_000);

  it('a reminder still before its deadline is delivered; the earlier ones it supersedes are cancelled', async () => {
    const id = await open('Worker back on the last day');
    // back on 6 April at 10:00 Rome: the reminders of T-15 and T-7 are overdue, the one of T-1 (09:00) is due
    h.clock.set(new Date('2026-04-06T08:00:00Z'));
    await drain(id, 'newest');
    const o = await outcome(id);
    expect(o.timerEvents).toEqual([`convention.reminder ${silent}`]);
    expect(o.silent.remindersSent).toBe(1);
    const reminders = o.timers.filter((t) => t.startsWith(`reminder:${silent}`));
    expect(reminders.map((t) => t.split(' ').at(-1))).toEqual(['fired', 'cancelled', 'cancelled']);
    expect(reminders[0]).toMatch(/^reminder:\S+:1 /);
  }, 60_000);
});
