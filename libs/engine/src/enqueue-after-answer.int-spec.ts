import { requestIdOfJob, runWithRequestId } from '@app/common';
import { defaultRegistry } from '@app/workflows';
import { startHarness, type Harness } from '../../../test/support/harness';
import { sentConvention } from '../../../test/support/engine-scenario';
import { unione } from '../../../test/support/scenario';
import { Engine } from './engine.service';
import type { JobScheduler, TimerJob } from './ports';

/**
 * The post-commit enqueue runs after the answer (issue 15, "off the request path"): a start or a send returns once
 * its transaction commits, whatever Redis does; the enqueues of one instance still reach the queue in commit order;
 * `settled()` waits for the ones in flight.
 */
describe('Engine: the post-commit enqueue does not hold the answer', () => {
  let h: Harness;
  const v = unione('valdera');

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true });
  });
  afterAll(async () => h?.close());

  /** a scheduler that logs each call and holds it until the test opens the gate */
  function gatedScheduler() {
    const calls: { op: string; ids: string[]; requestIds: (string | null)[] }[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const held = (op: string) => async (x: readonly (TimerJob | string)[]) => {
      const ids = x.map((t) => (typeof t === 'string' ? t : t.id));
      // what BullJobScheduler puts in each job's data
      calls.push({ op, ids, requestIds: ids.map(requestIdOfJob) });
      await gate;
    };
    const scheduler: JobScheduler = {
      enqueueTimers: held('enqueueTimers'),
      removeTimers: held('removeTimers'),
      enqueueNotifications: held('enqueueNotifications'),
    };
    return { scheduler, calls, open };
  }

  it('answers a send while Redis holds its enqueue; settled() resolves once the enqueue is done', async () => {
    const { scheduler, calls, open } = gatedScheduler();
    const engine = new Engine(h.ds, defaultRegistry(), scheduler, h.clock);
    h.clock.set(new Date('2026-02-02T09:00:00Z'));
    // the send arms the councils' deadlines and reminders: answered although no enqueue can finish
    const view = await sentConvention(engine, v, 'Gated', h.clock);
    expect(view.timers.length).toBeGreaterThan(0);

    let settled = false;
    const done = engine.settled().then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    open();
    await done;

    const armed: { id: string }[] = await h.ds.query(
      `SELECT id FROM timer WHERE instance_id = $1 AND status = 'armed' ORDER BY id`,
      [view.id],
    );
    const enqueued = calls.filter((c) => c.op === 'enqueueTimers').flatMap((c) => c.ids);
    expect(enqueued.sort()).toEqual(armed.map((a) => a.id));
  });

  it('the enqueues of one instance run in commit order, each after its own answer', async () => {
    const { scheduler, calls, open } = gatedScheduler();
    const engine = new Engine(h.ds, defaultRegistry(), scheduler, h.clock);
    // sent the day of the council's session recorded below
    h.clock.set(new Date('2026-02-05T09:00:00Z'));
    const p = await sentConvention(engine, v, 'Ordered', h.clock);
    // the send's enqueue has started and is held by Redis
    await new Promise((r) => setImmediate(r));
    const first = calls.length;
    expect(first).toBeGreaterThan(0);
    // a later step of the same process: its enqueue waits for the earlier one, not for its own answer
    const ente = v.comuni[0]!;
    await engine.dispatch(
      p.id,
      {
        type: 'convention.deliberation.record',
        payload: { ente, number: '7', date: '2026-02-05', outcome: 'RINVIATA' },
      },
      { subject: `segretario.${ente}`, roles: ['segretario'], ente, unione: v.ipa },
    );
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(first);
    open();
    await engine.settled();
    expect(calls.length).toBeGreaterThan(first);
  });

  it('the steps committed while a batch is out go in the next one together, each job with its own request id', async () => {
    h.clock.set(new Date('2026-02-05T09:00:00Z'));
    const setup = new Engine(h.ds, defaultRegistry(), gatedScheduler().scheduler, h.clock);
    const ps: { id: string }[] = [];
    for (let i = 0; i < 4; i++) ps.push(await sentConvention(setup, v, `Batch ${i}`, h.clock));
    const { scheduler, calls, open } = gatedScheduler();
    const engine = new Engine(h.ds, defaultRegistry(), scheduler, h.clock);
    const ente = v.comuni[0]!;
    const record = (id: string, n: number) =>
      runWithRequestId(`req-${n}`, () =>
        engine.dispatch(
          id,
          {
            type: 'convention.deliberation.record',
            payload: { ente, number: String(100 + n), date: '2026-02-05', outcome: 'RINVIATA' },
          },
          { subject: `segretario.${ente}`, roles: ['segretario'], ente, unione: v.ipa },
        ),
      );
    // the first step's batch goes out alone and is held by Redis
    await record(ps[0]!.id, 0);
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(1);
    // three more steps, three requests, all committed and answered meanwhile
    await Promise.all([1, 2, 3].map((n) => record(ps[n]!.id, n)));
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(1);
    open();
    await engine.settled();
    // one call for the three (in the order they committed, which the three concurrent requests do not fix)
    expect(calls.map((c) => c.op)).toEqual(['enqueueNotifications', 'enqueueNotifications']);
    expect(calls[0]!.requestIds).toEqual(['req-0']);
    expect(calls[1]!.ids).toHaveLength(3);
    // the job of a step's notices: the smallest id of the rows it wrote (the steps above are the last ones)
    const rows: { id: string; instance_id: string }[] = await h.ds.query(
      `SELECT instance_id, min(id::text COLLATE "C") AS id FROM outbox o
        WHERE instance_id = ANY($1)
          AND event_seq = (SELECT max(event_seq) FROM outbox WHERE instance_id = o.instance_id)
        GROUP BY instance_id`,
      [ps.map((p) => p.id)],
    );
    const jobOf = new Map(rows.map((r) => [r.instance_id, r.id]));
    // each step's job, carrying the request that committed that step
    const sent = new Map(calls[1]!.ids.map((id, i) => [id, calls[1]!.requestIds[i]]));
    expect([1, 2, 3].map((n) => sent.get(jobOf.get(ps[n]!.id)!))).toEqual([
      'req-1',
      'req-2',
      'req-3',
    ]);
  });
});
