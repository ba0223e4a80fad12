import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import {
  conventionDefinitionV1,
  conventionMachine,
  conventionTimers,
  type ConventionContext,
  type ConventionEvent,
} from '@app/workflows';
import {
  approvedEvent,
  BUTI,
  conventionInput,
  deliveryEvent,
  extendEvent,
  freezeEvent,
  PALAIA,
  PONTEDERA,
  sendEvent,
} from '../../../../test/factories/convention.factory';

type Snap = AnyMachineSnapshot & { context: ConventionContext };
type Row = ConventionContext['entes'][number];

const FREEZE_AT = '2026-01-28T11:00:00.000Z';
// the presidente records the sending on Thu 5 Feb: every term provisionally to Tue 7 Apr (Easter Monday shift)
const SENT = (() => {
  let s = initialTransition(conventionMachine, conventionInput())[0] as Snap;
  for (const ev of [
    freezeEvent(FREEZE_AT),
    sendEvent('2026-02-05T10:00:00+01:00', '2026-02-05T09:30:00.000Z'),
  ])
    s = transition(conventionMachine, s, ev)[0] as Snap;
  return s;
})();

const play = (from: Snap, ev: ConventionEvent): Snap => {
  const next = transition(conventionMachine, from, ev)[0] as Snap;
  if (next === from) throw new Error(`refused: ${ev.type}`);
  return next;
};
const row = (s: Snap, code: string): Row => s.context.entes.find((e: Row) => e.codiceIpa === code)!;
const rule = (s: Snap, ev: ConventionEvent) =>
  conventionDefinitionV1.events[ev.type]!.rule?.(s, ev) ?? null;

describe('each council’s term runs from its own PEC receipt', () => {
  it('a receipt on Mon 9 Feb moves Palaia’s term to Fri 10 Apr; the others keep theirs', () => {
    const ev = deliveryEvent(PALAIA, '2026-02-09T08:12:00Z', '2026-02-09T09:00:00.000Z');
    expect(rule(SENT, ev)).toBeNull();
    const s = play(SENT, ev);
    expect(row(s, PALAIA).deadline?.date).toBe('2026-04-10');
    expect(row(s, PALAIA).delivery).toEqual({
      deliveredAt: '2026-02-09T08:12:00Z',
      source: 'pec-receipt',
      receiptId: `opec-${PALAIA}`,
      recordedAt: '2026-02-09T09:00:00.000Z',
    });
    expect(row(s, BUTI).deadline?.date).toBe('2026-04-07');
    // the timers follow the data: Palaia's deadline is armed at the end of its own day
    const t = conventionTimers(s).find((x) => x.key === `deadline:${PALAIA}`);
    expect(t?.dueAt).toBe('2026-04-10T21:59:59.999Z');
  });

  it('is recorded once: a second receipt or a manual record for the same ente is refused', () => {
    const s = play(SENT, deliveryEvent(PALAIA, '2026-02-09T08:12:00Z', '2026-02-09T09:00:00.000Z'));
    const again = deliveryEvent(
      PALAIA,
      '2026-02-10T08:00:00Z',
      '2026-02-10T09:00:00.000Z',
      'record',
    );
    expect(rule(s, again)?.rule).toBe('DELIVERY_ALREADY_RECORDED');
    expect(transition(conventionMachine, s, again)[0]).toBe(s);
  });

  it('refuses a future date, a date before the freeze, an ente outside the convention', () => {
    expect(
      rule(SENT, deliveryEvent(PALAIA, '2026-02-12T08:00:00Z', '2026-02-10T09:00:00.000Z'))?.rule,
    ).toBe('DELIVERY_IN_FUTURE');
    expect(
      rule(SENT, deliveryEvent(PALAIA, '2026-01-20T08:00:00Z', '2026-02-10T09:00:00.000Z'))?.rule,
    ).toBe('DELIVERY_BEFORE_FREEZE');
    expect(
      rule(SENT, deliveryEvent('c_zzzz', '2026-02-09T08:00:00Z', '2026-02-10T09:00:00.000Z'))?.rule,
    ).toBe('ENTE_NOT_PARTICIPANT');
  });

  it('a council that already voted, or whose term was extended, keeps its term; the delivery is still recorded', () => {
    const voted = play(
      SENT,
      approvedEvent(PONTEDERA, '7', '2026-02-06', '2026-02-07T08:00:00.000Z'),
    );
    const s = play(
      voted,
      deliveryEvent(PONTEDERA, '2026-02-09T08:00:00Z', '2026-02-09T09:00:00.000Z'),
    );
    expect(row(s, PONTEDERA).deadline).toEqual(row(voted, PONTEDERA).deadline);
    expect(row(s, PONTEDERA).delivery?.source).toBe('pec-receipt');
    const extended = play(SENT, {
      ...extendEvent(30, '2026-02-08T08:00:00.000Z'),
      payload: { ente: PALAIA, days: 30, reason: 'Proroga' },
    });
    const s2 = play(
      extended,
      deliveryEvent(PALAIA, '2026-02-09T08:00:00Z', '2026-02-09T09:00:00.000Z', 'record'),
    );
    expect(row(s2, PALAIA).deadline?.date).toBe(row(extended, PALAIA).deadline?.date);
    expect(row(s2, PALAIA).delivery?.source).toBe('manual');
  });

  it('the system event is for the engine only; the manual record for the Unione’s presidente and staff', () => {
    expect(conventionDefinitionV1.events['convention.delivery.receipt']).toMatchObject({
      scope: 'system',
    });
    expect(conventionDefinitionV1.events['convention.delivery.record']).toMatchObject({
      scope: 'unione',
      roles: ['presidente', 'staff'],
    });
  });
});

describe('a term recomputed from a delivery follows the process policy', () => {
  it('saturdayExtends: delivered Tue 7 Jul 2026, 60 days → Sat 5 Sep → Mon 7 Sep, as at the sending', () => {
    let s = initialTransition(
      conventionMachine,
      conventionInput({ policy: { saturdayExtends: true } }),
    )[0] as Snap;
    s = play(s, freezeEvent('2026-07-01T08:00:00.000Z'));
    s = play(s, sendEvent('2026-07-06', '2026-07-06T10:00:00.000Z'));
    const ev = deliveryEvent(PALAIA, '2026-07-07T08:00:00Z', '2026-07-07T09:00:00.000Z');
    expect(rule(s, ev)).toBeNull();
    expect(row(play(s, ev), PALAIA).deadline?.date).toBe('2026-09-07');
  });
});

describe('a delivery recorded by hand reads its date as the sending does (Europe/Rome)', () => {
  // frozen Tue 7 Jul 2026 at 09:00 Rome, sent the same day
  const sent = [
    freezeEvent('2026-07-07T07:00:00.000Z'),
    sendEvent('2026-07-07', '2026-07-07T10:00:00.000Z'),
  ].reduce(
    (s, ev) => play(s, ev),
    initialTransition(conventionMachine, conventionInput())[0] as Snap,
  );

  it('a date alone on the day of the freeze is accepted (it is not midnight UTC, before the freeze)', () => {
    const ev = deliveryEvent(PALAIA, '2026-07-07', '2026-07-08T10:00:00.000Z', 'record');
    expect(rule(sent, ev)).toBeNull();
    expect(row(play(sent, ev), PALAIA).deadline?.date).toBe('2026-09-05');
  });

  it('a time without an offset is Rome wall-clock time: 23:30 of Thu 9 Jul starts the term on 9 Jul', () => {
    const ev = deliveryEvent(PALAIA, '2026-07-09T23:30:00', '2026-07-10T10:00:00.000Z', 'record');
    expect(rule(sent, ev)).toBeNull();
    // 9 Jul + 60 days = Mon 7 Sep (read as UTC it was 10 Jul in Rome → Tue 8 Sep)
    expect(row(play(sent, ev), PALAIA).deadline?.date).toBe('2026-09-07');
  });

  it('a date alone of today in Rome is not in the future at 00:30 Rome (23:30 UTC the day before)', () => {
    const ev = deliveryEvent(PALAIA, '2026-07-10', '2026-07-09T22:30:00.000Z', 'record');
    expect(rule(sent, ev)).toBeNull();
  });
});
