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
    const calls: { op: string; ids: string[] }[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const held = (op: string) => async (x: readonly (TimerJob | string)[]) => {
      calls.push({ op, ids: x.map((t) => (typeof t === 'string' ? t : t.id)) });
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
});
